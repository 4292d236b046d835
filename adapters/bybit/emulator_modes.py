"""Bybit v5 margin-mode and position-mode routes of the emulator, over the engine's modes
(``exchanges.emulator.modes``): the margin mode per account, hedge mode per instrument.

``POST /v5/account/set-margin-mode`` ("Set Margin Mode",
https://bybit-exchange.github.io/docs/v5/account/set-margin-mode): ``setMarginMode``
``ISOLATED_MARGIN``, ``REGULAR_MARGIN`` (cross) or ``PORTFOLIO_MARGIN``; account-wide;
``result.reasons`` is empty on success. Portfolio margin is refused with the page's own example,
retCode 3400045 "Set margin mode failed" and reason 3400000 (the emulator never offers it).
Setting the mode in force answers success (the page names no "not modified" code for it).
``GET /v5/account/info`` reports the mode (``marginMode``).

``POST /v5/position/switch-mode`` ("Switch Position Mode",
https://bybit-exchange.github.io/docs/v5/position/position-mode): ``category`` linear,
``symbol`` or ``coin``, ``mode`` 0 (one-way) or 3 (hedge); USDT perpetuals only. A symbol
switch is refused with 110024 (position) or 110028 (open orders) and answered 110025 when the
mode is in force; a coin switch converts the coin's perpetuals that have no position and no open
order ("Error Codes", https://bybit-exchange.github.io/docs/v5/error). 110029 refuses hedge mode
for anything but a USDT perpetual.

In hedge mode, orders name their side with ``positionIdx`` 1 (Buy side) or 2 (Sell side), 0 in
one-way mode ("Place Order", https://bybit-exchange.github.io/docs/v5/order/create-order;
"Enums", https://bybit-exchange.github.io/docs/v5/enum#positionidx); a mismatch is 10001
"position idx not match position mode" (that message is as users report it: UNVERIFIED). The
position list reports each side with its ``positionIdx``. Both are done by wrapping the
front-end's own handlers, so one-way mode is served exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from adapters.bybit.emulator_base import BybitError

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd
    from exchanges.emulator.instruments import InstrumentSpec
    from exchanges.emulator.keys import ApiKey

__all__ = ["BybitModes"]

_MARGIN = {"REGULAR_MARGIN": "cross", "ISOLATED_MARGIN": "isolated"}
_NATIVE = {mode: native for native, mode in _MARGIN.items()}
_LEG_OF_INDEX = {"1": "long", "2": "short"}
_HEDGE_COIN = "USDT"

Handler = Callable[..., Any]


class BybitModes:
    """The margin-mode and position-mode endpoints, over a Bybit front-end's state."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Handler, str | None]]:
        """(method, path) -> (handler, access): the two endpoints, and the front-end's order,
        position and account-info handlers wrapped for hedge and margin modes."""
        table = self.front.routes
        create = table[("POST", "/v5/order/create")][0]
        positions = table[("GET", "/v5/position/list")][0]
        info = table[("GET", "/v5/account/info")][0]
        return {
            ("POST", "/v5/account/set-margin-mode"): (self.set_margin_mode, "trade"),
            ("POST", "/v5/position/switch-mode"): (self.switch_mode, "trade"),
            ("POST", "/v5/order/create"): (self._order_create(create), "trade"),
            ("GET", "/v5/position/list"): (self._position_list(positions), "read"),
            ("GET", "/v5/account/info"): (self._account_info(info), "read"),
        }

    # -- endpoints --------------------------------------------------------------------------------

    def set_margin_mode(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/set-margin-mode``: the whole account's margin mode."""

        native = params.get("setMarginMode")
        if native == "PORTFOLIO_MARGIN":
            raise BybitError(3400045, "Set margin mode failed")
        mode = _MARGIN.get(str(native))
        if mode is None:
            raise BybitError(10001, f"params error: setMarginMode invalid [{native}]")
        self.front.engine.set_margin_mode(key.uid, mode)
        return {"reasons": []}

    def switch_mode(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/position/switch-mode`` of one symbol or of a settle coin's perpetuals."""

        front, engine = self.front, self.front.engine
        if params.get("category") not in ("linear", "inverse"):
            raise BybitError(10001, f"params error: category invalid [{params.get('category')}]")
        mode = str(params.get("mode"))
        if mode not in ("0", "3"):
            raise BybitError(10001, f"params error: mode invalid [{params.get('mode')}]")
        hedged = mode == "3"
        if params.get("symbol"):
            spec = front._spec(params, str(params["category"]))
            if hedged and not _hedgeable(spec):
                raise BybitError(110029, "Hedge mode is not supported for this symbol")
            if engine.hedged(key.uid, spec.symbol, category=spec.category) == hedged:
                raise BybitError(110025, "Position mode is not modified")
            busy = engine.busy(key.uid, spec)
            if busy == "position_exists":
                raise BybitError(
                    110024, "You have existing positions, so position mode cannot be switched"
                )
            if busy == "open_orders_exist":
                raise BybitError(
                    110028, "You have open orders, so position mode cannot be switched"
                )
            engine.set_hedged(key.uid, [spec], hedged)
            return {}
        coin = params.get("coin")
        if not coin:
            raise BybitError(10001, "params error: symbol or coin is required")
        if hedged and coin != _HEDGE_COIN:
            raise BybitError(110029, "Hedge mode is not supported for this coin")
        # The coin-level switch leaves contracts with a position or open orders as they are.
        free = [
            spec
            for spec in engine.instruments.values()
            if _hedgeable(spec) and spec.settle == coin and engine.busy(key.uid, spec) is None
        ]
        engine.set_hedged(key.uid, free, hedged)
        return {}

    # -- wrapped handlers -------------------------------------------------------------------------

    def _order_create(self, original: Handler) -> Handler:
        def order_create(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/order/create``: ``positionIdx`` picks the side of a hedge-mode symbol."""

            category = params.get("category")
            index = str(params.get("positionIdx", "0"))
            leg = None
            if category in ("linear", "inverse") and params.get("symbol"):
                spec = self.front._spec(params, str(category))
                hedged = self.front.engine.hedged(key.uid, spec.symbol, category=spec.category)
                if (index in _LEG_OF_INDEX) != hedged or index not in ("0", "1", "2"):
                    raise BybitError(10001, "position idx not match position mode")
                leg = _LEG_OF_INDEX.get(index)
            with self.front.engine.order_leg(leg):
                return original(params, key)

        return order_create

    def _position_list(self, original: Handler) -> Handler:
        def position_list(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/position/list``: hedge-mode sides carry positionIdx 1 (Buy) and 2 (Sell)."""
            result = original(params, key)
            engine = self.front.engine
            taken: dict[str, set[int]] = {}
            category = result.get("category")
            for item in result.get("list", []):
                if not engine.hedged(key.uid, item["symbol"], category=category):
                    continue
                used = taken.setdefault(item["symbol"], set())
                side = item.get("side")
                # A flat side (no side) takes the index its symbol has not shown yet.
                index = 1 if side == "Buy" else 2 if side == "Sell" else 2 if 1 in used else 1
                item["positionIdx"] = index
                used.add(index)
            return result

        return position_list

    def _account_info(self, original: Handler) -> Handler:
        def account_info(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/account/info`` with the account's margin mode."""
            result = original(params, key)
            result["marginMode"] = _NATIVE[self.front.engine.margin_mode(key.uid)]
            return result

        return account_info


def _hedgeable(spec: InstrumentSpec) -> bool:
    """A USDT perpetual: the only contracts Bybit offers hedge mode for."""
    return spec.category == "linear" and spec.settle == _HEDGE_COIN and "-" not in spec.symbol
