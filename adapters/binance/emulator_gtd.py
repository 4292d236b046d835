"""GTD orders of the Binance USD-M emulator: ``timeInForce=GTD`` with ``goodTillDate``.

"New Order (TRADE)" (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order):
``goodTillDate`` is mandatory with GTD, in ms with only whole seconds kept, and "must be greater
than the current time plus 600 seconds and smaller than 253402300799000", else -5040 (USD-M
"Error Codes"). Such an order rests like a GTC order and reports ``timeInForce`` GTD and its
``goodTillDate`` (0 for every other order); once that time has passed it is ``EXPIRED``.

The engine knows GTC only: the order rests there as GTC, and this module keeps its expiry and
expires it (an engine cancel) when a USD-M request arrives after that time, which is when a
client could first see it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exchanges.emulator.engine import EngineError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from exchanges.emulator.engine import Engine, OrderView

__all__ = ["GoodTill"]

#: goodTillDate must be more than this far ahead of the server's time.
_MIN_AHEAD_MS = 600_000
#: ... and below this (9999-12-31T23:59:59Z).
_MAX_MS = 253_402_300_799_000
_MSG_5040 = (
    "The goodTillDate timestamp must be greater than the current time plus 600 seconds and "
    "smaller than 253402300799000"
)


class GoodTill:
    """The expiry of each GTD order, by engine order id."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # engine order id -> (goodTillDate ms, the order's creation ms: ids may recur after a
        # reset, the pair does not)
        self._expiry: dict[str, tuple[int, int]] = {}
        # GTD orders that may still be resting: engine order id -> (uid, creation ms)
        self._resting: dict[str, tuple[int, int]] = {}
        self._expired: set[tuple[str, int]] = set()

    def check(self, params: Mapping[str, str], now_ms: int) -> int:
        """The order's ``goodTillDate`` (whole seconds), or the error Binance answers."""
        from adapters.binance.emulator_base import BinanceError, mandatory

        text = params.get("goodTillDate")
        if not text:
            raise mandatory("goodTillDate")
        if not (text.isascii() and text.isdigit() and len(text) <= 20):
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'goodTillDate'; legal range is "
                "'^[0-9]{1,20}$'.",
            )
        stamp = int(text) // 1000 * 1000
        if not now_ms + _MIN_AHEAD_MS < stamp < _MAX_MS:
            raise BinanceError(-5040, _MSG_5040)
        return stamp

    def record(self, order: OrderView, good_till: int) -> None:
        """Remember a GTD order; one still open expires at ``good_till``."""
        self._expiry[order.order_id] = (good_till, order.created_ms)
        if order.status in ("new", "partially_filled"):
            self._resting[order.order_id] = (order.uid, order.created_ms)

    def of(self, order: OrderView) -> int | None:
        """The order's goodTillDate, None unless it is a GTD order."""
        found = self._expiry.get(order.order_id)
        return found[0] if found is not None and found[1] == order.created_ms else None

    def fields(self, order: OrderView, json: dict[str, Any]) -> dict[str, Any]:
        """``json`` (the order as ``_usdm_order`` renders it) with its GTD fields."""
        good_till = self.of(order)
        if good_till is None:
            return json
        json["timeInForce"] = "GTD"
        json["goodTillDate"] = good_till
        if (order.order_id, order.created_ms) in self._expired:
            json["status"] = "EXPIRED"
        return json

    def expire_due(self, now_ms: int) -> None:
        """Expire every resting GTD order whose time has come."""
        for order_id, (uid, created) in list(self._resting.items()):
            good_till = self._expiry[order_id][0]
            if good_till > now_ms:
                continue
            del self._resting[order_id]
            try:
                order = self.engine.get_order(uid, order_id=order_id)
            except EngineError:  # gone with a reset
                continue
            if order.created_ms != created or order.status not in ("new", "partially_filled"):
                continue
            self.engine.cancel_order(uid, order.symbol, order_id=order_id, category=order.category)
            self._expired.add((order_id, created))
