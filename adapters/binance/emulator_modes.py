"""Binance USD-M margin-type and position-mode routes of the emulator, over the engine's modes
(``exchanges.emulator.modes``): the margin type per symbol, hedge mode for every USD-M symbol.

``POST /fapi/v1/marginType`` ("Change Margin Type (TRADE)",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Margin-Type):
``symbol`` and ``marginType`` ``ISOLATED`` or ``CROSSED``; answer ``{"code": 200, "msg":
"success"}``. ``POST /fapi/v1/positionSide/dual`` ("Change Position Mode (TRADE)",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Position-Mode):
``dualSidePosition`` "true" (hedge) or "false" (one-way) for **every symbol** of the account;
``GET /fapi/v1/positionSide/dual`` reads it. Refusals ("Error Codes",
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code): -4046 "No need
to change margin type." and -4059 "No need to change position side." (already in force), -4047 /
-4048 (margin type with open orders / a position on the symbol), -4067 / -4068 (position mode
with open orders / a position on any symbol).

In hedge mode an order names its side with ``positionSide`` LONG or SHORT (BOTH, the default,
is for one-way mode) and may not send ``reduceOnly`` ("New Order (TRADE)",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order):
a mismatch is -4061 "Order's position side does not match user's setting.", ``reduceOnly`` is
-1106 "Parameter 'reduceOnly' sent when not required.". ``/fapi/v3/positionRisk`` and
``/fapi/v3/account`` report hedge sides as LONG/SHORT (a SHORT amount is negative) and an
isolated position's ``isolatedMargin`` / ``isolatedWallet`` (cross positions show "0"), the
fields ccxt and the adapter read the margin type from (v3 has no ``marginType``). Both are done
by wrapping the front-end's own handlers, so one-way mode is served exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.instruments import InstrumentSpec
    from exchanges.emulator.keys import ApiKey

__all__ = ["BinanceModes"]

_MARGIN = {"CROSSED": "cross", "ISOLATED": "isolated"}
_LEG_OF_SIDE = {"LONG": "long", "SHORT": "short"}
_SUCCESS = {"code": 200, "msg": "success"}

Handler = Callable[..., Any]
Route = tuple[Handler, str | None, str]


class BinanceModes:
    """The margin-type and position-mode endpoints, over a Binance front-end's state."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], Route]:
        """(method, path) -> (handler, security, market): the endpoints, and the front-end's
        order, position and account handlers wrapped for hedge and margin modes."""
        table = self.front.routes
        order = table[("POST", "/fapi/v1/order")][0]
        risk = table[("GET", "/fapi/v3/positionRisk")][0]
        account = table[("GET", "/fapi/v3/account")][0]
        return {
            ("POST", "/fapi/v1/marginType"): (self.change_margin_type, "TRADE", "usdm"),
            ("POST", "/fapi/v1/positionSide/dual"): (self.change_position_mode, "TRADE", "usdm"),
            ("GET", "/fapi/v1/positionSide/dual"): (self.position_mode, "USER_DATA", "usdm"),
            ("POST", "/fapi/v1/order"): (self._new_order(order), "TRADE", "usdm"),
            ("GET", "/fapi/v3/positionRisk"): (self._position_risk(risk), "USER_DATA", "usdm"),
            ("GET", "/fapi/v3/account"): (self._account(account), "USER_DATA", "usdm"),
        }

    # -- endpoints --------------------------------------------------------------------------------

    def change_margin_type(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v1/marginType`` of one symbol."""
        from adapters.binance.emulator import BinanceError, mandatory

        front, engine = self.front, self.front.engine
        spec = front._need_spec(params, "usdm")
        native = params.get("marginType")
        if not native:
            raise mandatory("marginType")
        mode = _MARGIN.get(native.upper())
        if mode is None:
            raise BinanceError(-1116, "Invalid marginType.")
        if engine.margin_mode(key.uid, spec.symbol, category=spec.category) == mode:
            raise BinanceError(-4046, "No need to change margin type.")
        busy = engine.busy(key.uid, spec)
        if busy == "open_orders_exist":
            raise BinanceError(-4047, "Margin type cannot be changed if there exists open orders.")
        if busy == "position_exists":
            raise BinanceError(-4048, "Margin type cannot be changed if there exists position.")
        engine.set_margin_mode(key.uid, mode, spec.symbol, category=spec.category)
        return dict(_SUCCESS)

    def change_position_mode(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v1/positionSide/dual``: hedge mode on or off for every USD-M symbol."""
        from adapters.binance.emulator import BinanceError, mandatory

        engine = self.front.engine
        value = params.get("dualSidePosition")
        if value is None:
            raise mandatory("dualSidePosition")
        if value.lower() not in ("true", "false"):
            raise BinanceError(-1102, "Param 'dualSidePosition' was empty or malformed.")
        hedged = value.lower() == "true"
        specs = self._specs()
        if all(engine.hedged(key.uid, s.symbol, category=s.category) == hedged for s in specs):
            raise BinanceError(-4059, "No need to change position side.")
        busy = {engine.busy(key.uid, spec) for spec in specs}
        if "open_orders_exist" in busy:
            raise BinanceError(
                -4067, "Position side cannot be changed if there exists open orders."
            )
        if "position_exists" in busy:
            raise BinanceError(-4068, "Position side cannot be changed if there exists position.")
        engine.set_hedged(key.uid, specs, hedged)
        return dict(_SUCCESS)

    def position_mode(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /fapi/v1/positionSide/dual``: ``{"dualSidePosition": bool}``."""
        specs = self._specs()
        engine = self.front.engine
        hedged = bool(specs) and engine.hedged(key.uid, specs[0].symbol, category="linear")
        return {"dualSidePosition": hedged}

    # -- wrapped handlers -------------------------------------------------------------------------

    def _new_order(self, original: Handler) -> Handler:
        def new_order(params: Mapping[str, str], key: ApiKey) -> Any:
            """``POST /fapi/v1/order``: ``positionSide`` LONG/SHORT in hedge mode."""
            from adapters.binance.emulator import BinanceError

            front = self.front
            spec = front._need_spec(params, "usdm")
            if not front.engine.hedged(key.uid, spec.symbol, category=spec.category):
                return original(params, key)
            side = params.get("positionSide", "BOTH")
            leg = _LEG_OF_SIDE.get(side)
            if leg is None:
                raise BinanceError(-4061, "Order's position side does not match user's setting.")
            if "reduceOnly" in params:
                raise BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
            # The one-way handler knows positionSide BOTH only: the leg travels to the engine.
            rest = {name: value for name, value in params.items() if name != "positionSide"}
            with front.engine.order_leg(leg):
                return original(rest, key)

        return new_order

    def _position_risk(self, original: Handler) -> Handler:
        def position_risk(params: Mapping[str, str], key: ApiKey) -> Any:
            """``/fapi/v3/positionRisk`` with hedge sides and isolated margins."""
            return self._patch(original(params, key), key.uid, "initialMargin")

        return position_risk

    def _account(self, original: Handler) -> Handler:
        def account(params: Mapping[str, str], key: ApiKey) -> Any:
            """``/fapi/v3/account`` with hedge sides and isolated margins in ``positions``."""
            data = original(params, key)
            self._patch(data.get("positions", []), key.uid, "initialMargin")
            return data

        return account

    # -- internals --------------------------------------------------------------------------------

    def _specs(self) -> list[InstrumentSpec]:
        return [s for s in self.front.engine.instruments.values() if s.category == "linear"]

    def _patch(self, items: list[dict[str, Any]], uid: int, margin_field: str) -> Any:
        """Hedge sides (LONG/SHORT by the amount's sign; a flat side takes the one its symbol has
        not shown yet) and isolated margins, in place."""
        engine = self.front.engine
        taken: dict[str, set[str]] = {}
        for item in items:
            symbol = item["symbol"]
            if engine.margin_mode(uid, symbol, category="linear") == "isolated":
                wallet = Decimal(str(item.get(margin_field, "0")))
                pnl = Decimal(str(item.get("unRealizedProfit", item.get("unrealizedProfit", "0"))))
                item["isolatedWallet"] = to_wire(wallet)
                item["isolatedMargin"] = to_wire(wallet + pnl)
            if not engine.hedged(uid, symbol, category="linear"):
                continue
            used = taken.setdefault(symbol, set())
            amount = Decimal(str(item.get("positionAmt", "0")))
            side = "LONG" if amount > 0 else "SHORT" if amount < 0 else None
            if side is None:
                side = "SHORT" if "LONG" in used else "LONG"
            item["positionSide"] = side
            used.add(side)
        return items
