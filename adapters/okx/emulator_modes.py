"""OKX v5 position-mode and margin-mode pieces of the emulator, over the engine's modes
(``exchanges.emulator.modes``): hedge (long/short) mode for every swap, margin mode per order.

``POST /api/v5/account/set-position-mode`` ("Set position mode",
https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-position-mode): ``posMode``
``long_short_mode`` or ``net_mode`` for every FUTURES and SWAP; ``data`` is ``[{posMode}]``.
Refused with 59000 while positions or orders exist ("Error codes",
https://www.okx.com/docs-v5/en/#error-code-rest-api-account; the message here is the code's
meaning, its wording UNVERIFIED). The mode in force answers success (OKX documents no "not
modified" code: UNVERIFIED).

``GET /api/v5/account/leverage-info`` ("Get leverage",
https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-leverage): ``instId`` and
``mgnMode``; ``data`` is ``[{instId, mgnMode, posSide, lever}]`` (``net``; for isolated margin in
long/short mode one item per side). The engine keeps one leverage per instrument whatever the
mode.

Margin mode is each order's ``tdMode`` ("Place order",
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order): the engine keeps
one margin mode per (account, instrument), set by the orders that trade it; an order in the
other mode while a position is open is refused with 51000 (OKX may hold both at once:
UNVERIFIED). In long/short mode ``posSide`` long or short is mandatory (51000 "Parameter posSide
error" without it) and picks the side: buy+long and sell+short open, the others close.
``/api/v5/account/positions`` reports ``mgnMode`` and, in long/short mode, ``posSide`` with a
positive ``pos``. Orders are hooked through the front-end's ``_place`` (single and batch) and
positions by wrapping their handler, so net mode is served exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["OkxModes"]

_POS_MODES = {"long_short_mode": True, "net_mode": False}

Handler = Callable[..., Any]


class OkxModes:
    """The position-mode and leverage-info endpoints and the order/position hooks."""

    def __init__(self, front: OkxFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Handler, str | None]]:
        """(method, path) -> (handler, access); also hooks the front-end's order placement."""
        front = self.front
        place = front._place
        front._place = self._place(place)  # type: ignore[method-assign]
        positions = front.routes[("GET", "/api/v5/account/positions")][0]
        return {
            ("POST", "/api/v5/account/set-position-mode"): (self.set_position_mode, "trade"),
            ("GET", "/api/v5/account/leverage-info"): (self.leverage_info, "read"),
            ("GET", "/api/v5/account/positions"): (self._positions(positions), "read"),
        }

    # -- endpoints --------------------------------------------------------------------------------

    def set_position_mode(self, params: Any, key: ApiKey) -> list[dict[str, str]]:
        """``/api/v5/account/set-position-mode``: every swap of the account."""
        from adapters.okx.emulator import OkxError, _text

        if not isinstance(params, Mapping):
            raise OkxError("50014", "Parameter posMode can not be empty.")
        mode = _text(params.get("posMode"))
        if not mode:
            raise OkxError("50014", "Parameter posMode can not be empty.")
        if mode not in _POS_MODES:
            raise OkxError("51000", "Parameter posMode error")
        engine = self.front.engine
        specs = [i.spec for i in self.front.instruments.values() if i.inst_type != "SPOT"]
        hedged = _POS_MODES[mode]
        changing = [
            s for s in specs if engine.hedged(key.uid, s.symbol, category=s.category) != hedged
        ]
        if any(engine.busy(key.uid, spec) for spec in changing):
            raise OkxError(
                "59000",
                "Settings failed. Close any open positions or orders before modifying settings.",
            )
        engine.set_hedged(key.uid, changing, hedged)
        return [{"posMode": mode}]

    def leverage_info(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, str]]:
        """``/api/v5/account/leverage-info`` of one swap."""
        from adapters.okx.emulator import OkxError, _text

        front, engine = self.front, self.front.engine
        mode = _text(params.get("mgnMode"))
        if not mode:
            raise OkxError("50014", "Parameter mgnMode can not be empty.")
        if mode not in ("cross", "isolated"):
            raise OkxError("51000", "Parameter mgnMode error")
        inst = front._inst(params)
        if inst.inst_type == "SPOT":
            raise OkxError("51000", "Parameter instId error")
        spec = inst.spec
        lever = to_wire(engine.leverage(key.uid, spec.symbol, category=spec.category))
        hedged = engine.hedged(key.uid, spec.symbol, category=spec.category)
        sides = ("long", "short") if hedged and mode == "isolated" else ("net",)
        return [
            {"instId": inst.inst_id, "mgnMode": mode, "posSide": side, "lever": lever}
            for side in sides
        ]

    # -- hooks -------------------------------------------------------------------------------

    def _place(self, original: Handler) -> Handler:
        def place(params: Mapping[str, Any], key: ApiKey) -> Any:
            """One order: ``posSide`` picks the side in long/short mode, ``tdMode`` the margin."""
            from adapters.okx.emulator import ItemError, _text

            front, engine = self.front, self.front.engine
            inst = front._inst(params, item=True)
            spec = inst.spec
            if inst.ct_val is None:
                return original(params, key)
            leg = None
            if engine.hedged(key.uid, spec.symbol, category=spec.category):
                leg = _text(params.get("posSide"))
                if leg not in ("long", "short"):
                    raise ItemError("51000", "Parameter posSide error")
                # The net-mode handler knows posSide net only: the side travels to the engine.
                params = {name: value for name, value in params.items() if name != "posSide"}
            mode = _text(params.get("tdMode"))
            moved = mode in ("cross", "isolated") and mode != engine.margin_mode(
                key.uid, spec.symbol, category=spec.category
            )
            if moved and engine.busy(key.uid, spec) == "position_exists":
                raise ItemError("51000", "Parameter tdMode error")
            with engine.order_leg(leg):
                result = original(params, key)
            if moved:
                engine.set_margin_mode(key.uid, mode, spec.symbol, category=spec.category)
            return result

        return place

    def _positions(self, original: Handler) -> Handler:
        def positions(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/api/v5/account/positions`` with ``mgnMode`` and long/short sides."""
            engine = self.front.engine
            items = original(params, key)
            for item in items:
                spec = self.front.instruments[item["instId"]].spec
                item["mgnMode"] = engine.margin_mode(key.uid, spec.symbol, category=spec.category)
                if engine.hedged(key.uid, spec.symbol, category=spec.category):
                    pos = Decimal(item["pos"])
                    item["posSide"] = "long" if pos > 0 else "short"
                    item["pos"] = to_wire(abs(pos))
            return items

        return positions
