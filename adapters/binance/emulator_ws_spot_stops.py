"""The Binance emulator's spot ``executionReport`` events for stop orders.

A spot stop (``STOP_LOSS``, ``STOP_LOSS_LIMIT``, ``TAKE_PROFIT``, ``TAKE_PROFIT_LIMIT``) is an
ordinary spot order, so the spot user data stream reports it with ``executionReport`` ("User
Data Streams", "Order Update",
https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream#order-update): its
type in ``o``, its stop price in ``P``. While it waits the engine holds it as a trigger
(``emulator_spot_stops.py``), so this module reports what the order diff cannot see: NEW when
it is placed (``w`` false and no ``W``, the working time being "only visible if the order has
been placed on the book"), CANCELED when it is cancelled (``c`` the cancel's id, ``C`` the
order's), EXPIRED when it could not be placed as it triggered. These events come from the
same rows REST answers (``BinanceSpotStops._json``).

Once it triggers, the order it places has the same id, so its events are the ordinary ones of
``emulator_ws_user.py`` (NEW with ``w`` true, TRADE, FILLED...), dressed by ``decorate`` with
the stop's type, ``P``, creation time and working time, as REST shows the order. That the
trigger sends a second NEW is what clients observe, not a documented rule (UNVERIFIED).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import _f8
from adapters.binance.emulator_spot_stops import BinanceSpotStops
from adapters.binance.spot_stops import STOP_TYPES

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.engine import OrderView
    from exchanges.emulator.triggers import TriggerView

__all__ = ["SpotStopEvents"]

_ZERO = _f8(None)
#: The engine's final trigger statuses that end a stop before it places an order.
_ENDS = {"cancelled": ("CANCELED", "CANCELED"), "rejected": ("EXPIRED", "EXPIRED")}


class SpotStopEvents:
    """What one account's subscribers were told of its spot stop orders while they waited."""

    def __init__(self, front: BinanceFrontEnd, uid: int) -> None:
        self.front = front
        self.rows = BinanceSpotStops(front)
        self.uid = uid
        self.seen = {v.trigger_id: v.status for v in self._views()}

    def _views(self) -> list[TriggerView]:
        views = self.front.engine.triggers(self.uid, category="spot", open_only=False)
        # Oldest first (the engine lists newest first), then by their last change.
        stops = [v for v in reversed(views) if v.native.get("type") in STOP_TYPES]
        return sorted(stops, key=lambda v: v.updated_ms)

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The events since the last poll: a new stop's NEW, then its end if it ended unfired."""
        events: list[dict[str, Any]] = []
        for view in self._views():
            last = self.seen.get(view.trigger_id)
            if view.status == last:
                continue
            self.seen[view.trigger_id] = view.status
            row = self.rows._json(view, query=True)
            if last is None:
                # Placed since the last poll, even if it has already fired or ended.
                events.append(self._event(row, "NEW", "NEW", view, now))
            if view.status in _ENDS:
                kind, status = _ENDS[view.status]
                events.append(self._event(row, kind, status, view, now))
        return events

    @staticmethod
    def _event(
        row: dict[str, Any], kind: str, status: str, view: TriggerView, now: int
    ) -> dict[str, Any]:
        canceled = kind == "CANCELED"
        client_id = row["clientOrderId"]
        order_id = row["orderId"]
        return {
            "e": "executionReport", "E": now, "s": row["symbol"],
            "c": f"emucancel{order_id}" if canceled else client_id,
            "S": row["side"], "o": row["type"], "f": row["timeInForce"], "q": row["origQty"],
            "p": row["price"], "P": row["stopPrice"], "F": _ZERO, "g": row["orderListId"],
            "C": client_id if canceled else "", "x": kind, "X": status, "r": "NONE",
            "i": order_id, "l": _ZERO, "z": row["executedQty"], "L": _ZERO, "n": "0",
            "N": None, "T": view.updated_ms, "t": -1, "I": order_id, "w": False, "m": False,
            "M": False, "O": view.created_ms, "Z": row["cummulativeQuoteQty"], "Y": _ZERO,
            "Q": row["origQuoteOrderQty"], "V": row["selfTradePreventionMode"],
        }  # fmt: skip

    def decorate(self, order: OrderView, event: dict[str, Any]) -> dict[str, Any]:
        """An ``executionReport`` of an order a stop placed, shown as that stop: its type,
        ``P``, creation time and the time it started working."""
        trigger = self.front.engine.trigger_of_order(order.order_id)
        if (
            trigger is None
            or trigger.trigger_id != order.order_id
            or trigger.native.get("type") not in STOP_TYPES
        ):
            return event
        event.update(
            {
                "o": trigger.native["type"],
                "P": _f8(trigger.trigger_price),
                "O": trigger.created_ms,
                "W": trigger.updated_ms,
            }
        )
        return event
