"""The OKX emulator's algo order channels: ``orders-algo`` and ``algo-advance`` on /business.

"WS / Algo orders channel" and "WS / Advance algo orders channel"
(https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-ws-algo-orders-channel,
#order-book-trading-algo-trading-ws-advance-algo-orders-channel): ``/ws/v5/business``, login
required, args ``{channel, instType (SPOT MARGIN SWAP FUTURES ANY), instId?}``. ``orders-algo``
carries trigger, conditional and oco orders and pushes nothing on subscribing; ``algo-advance``
carries iceberg, TWAP and trailing (``move_order_stop``) orders and pushes the live ones on
subscribing. Items are the REST algo order's (``GET /api/v5/trade/order-algo``), so this diffs
the rows ``OkxAlgo`` builds (state and ``uTime``) on each publisher tick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.okx.emulator_algo import OkxAlgo

__all__ = ["ALGO_CHANNELS", "AlgoChannels", "channel_of"]

#: The algo order channels, by the ordTypes they carry.
ALGO_CHANNELS = frozenset({"orders-algo", "algo-advance"})
_ADVANCE = frozenset({"move_order_stop", "iceberg", "twap"})


def channel_of(row: dict[str, Any]) -> str:
    """The channel an algo order row is pushed on."""
    return "algo-advance" if row.get("ordType") in _ADVANCE else "orders-algo"


class AlgoChannels:
    """What one account's algo channel subscribers were told."""

    def __init__(self, algo: OkxAlgo, uid: int) -> None:
        self.algo = algo
        self.uid = uid
        self.seen = {row["algoId"]: _print(row) for row in self._rows()}

    def _rows(self) -> list[dict[str, Any]]:
        algo = self.algo
        rows = [
            algo._json(algo._algo_id(group, legs[0].trigger_id), legs)
            for group, legs in algo._by_group(self.uid).items()
        ]
        return sorted(rows, key=lambda r: int(r["uTime"]))

    def snapshot(self, channel: str) -> list[dict[str, Any]]:
        """``algo-advance``: the live orders; ``orders-algo``: nothing."""
        if channel != "algo-advance":
            return []
        return [r for r in self._rows() if channel_of(r) == channel and r["state"] == "live"]

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """The rows that changed since the last poll, per channel."""
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self._rows():
            printed = _print(row)
            if self.seen.get(row["algoId"]) == printed:
                continue
            self.seen[row["algoId"]] = printed
            out.setdefault(channel_of(row), []).append(row)
        return out


def _print(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["state"], row["uTime"], row["ordIdList"], row["moveTriggerPx"])
