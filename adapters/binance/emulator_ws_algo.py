"""The Binance emulator's ``ALGO_UPDATE`` user-data events: USD-M conditional orders' statuses.

"Event: Algo Order Update"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update):
``{"e":"ALGO_UPDATE","T","E","o":{caid, aid, at, o, s, S, ps, f, q, X, ai, ap, aq, act, tp, p,
V, wt, pm, cp, pP, R, tt, gtd, rm}}`` when an algo order is created or its status changes: NEW,
TRIGGERING (the condition met, forwarded), TRIGGERED (placed in the matching engine, ``ai`` its
order id), FINISHED (that order done), CANCELED, REJECTED, EXPIRED. ``cr`` (a trailing order's
callback rate) follows third-party clients (UNVERIFIED).

Diffed from the engine's triggers each publisher tick, the rows built by the REST side
(``BinanceAlgo._row``), so REST and the stream say the same. An order placed and fired between
two ticks still reports each step. The events before an algo order's child order events
(``ORDER_TRADE_UPDATE``) come first, FINISHED after them, as on Binance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import _w

if TYPE_CHECKING:
    from adapters.binance.emulator_algo import BinanceAlgo
    from exchanges.emulator.triggers import TriggerView

__all__ = ["AlgoEvents"]

#: The statuses an algo order goes through before each status it can be seen in.
_PATH = {
    "NEW": ("NEW",),
    "TRIGGERED": ("NEW", "TRIGGERING", "TRIGGERED"),
    "FINISHED": ("NEW", "TRIGGERING", "TRIGGERED", "FINISHED"),
    "CANCELED": ("NEW", "CANCELED"),
    "EXPIRED": ("NEW", "EXPIRED"),
    "REJECTED": ("NEW", "TRIGGERING", "REJECTED"),
}
# ALGO_UPDATE key -> the REST row's name.
_KEYS = {
    "caid": "clientAlgoId", "aid": "algoId", "at": "algoType", "o": "orderType", "s": "symbol",
    "S": "side", "ps": "positionSide", "f": "timeInForce", "q": "quantity", "ai": "actualOrderId",
    "ap": "actualPrice", "tp": "triggerPrice", "p": "price", "V": "selfTradePreventionMode",
    "wt": "workingType", "pm": "priceMatch", "cp": "closePosition", "pP": "priceProtect",
    "R": "reduceOnly", "tt": "triggerTime", "gtd": "goodTillDate", "cr": "callbackRate",
}  # fmt: skip


class AlgoEvents:
    """What one account's subscribers were told of its USD-M algo orders."""

    def __init__(self, algo: BinanceAlgo, uid: int) -> None:
        self.algo = algo
        self.uid = uid
        self.seen = {v.trigger_id: self._status(v) for v in self._views()}

    def _views(self) -> list[TriggerView]:
        views = self.algo.engine.triggers(self.uid, category="linear", open_only=False)
        return sorted(views, key=lambda v: v.updated_ms)

    def _status(self, view: TriggerView) -> str:
        return self.algo._status(view)[0]

    def poll(self, now: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The events since the last poll: those before the child orders' events, and after."""
        before: list[dict[str, Any]] = []
        after: list[dict[str, Any]] = []
        for view in self._views():
            status = self._status(view)
            last = self.seen.get(view.trigger_id)
            if status == last:
                continue
            self.seen[view.trigger_id] = status
            path = _PATH.get(status, (status,))
            steps = path[path.index(last) + 1 :] if last in path else path
            row = self.algo._row(view)
            row["executedQty"] = self._filled(view)
            row["rejectReason"] = view.reject_reason or ""
            for step in steps:
                target = after if step == "FINISHED" else before
                target.append(self._event(row, step, now))
        return before, after

    def _filled(self, view: TriggerView) -> str:
        if view.order_id is None:
            return "0"
        child = self.algo.engine.get_order(self.uid, order_id=view.order_id)
        return _w(child.filled)

    @staticmethod
    def _event(row: dict[str, Any], status: str, now: int) -> dict[str, Any]:
        item = {short: row[name] for short, name in _KEYS.items() if name in row}
        item["X"] = status
        item["aq"] = row["executedQty"]
        item["act"] = "MARKET" if str(row.get("orderType", "")).endswith("MARKET") else "LIMIT"
        item["rm"] = row["rejectReason"] if status == "REJECTED" else ""
        if status in ("NEW", "TRIGGERING", "CANCELED", "EXPIRED", "REJECTED"):
            item.update({"ai": "", "ap": "0", "aq": "0", "act": "0", "tt": 0})
        return {"e": "ALGO_UPDATE", "T": now, "E": now, "o": item}
