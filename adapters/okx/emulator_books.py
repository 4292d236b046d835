"""The OKX emulator's order book sequence: one ``seqId`` chain per instrument, for REST and streams.

OKX numbers its book updates per instrument, the same on every connection, and each update names
the one it follows (``prevSeqId``); increments are not +1 ("Order book channel", section
"Sequence ID", https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel).
The REST order book carries the ``seqId`` of the state it shows, so that a client can start a
book from it and join the stream ("How to manage a local order book correctly",
https://www.okx.com/docs-v5/log_en, under "Upcoming changes", 2026). To keep both consistent, REST
and the WebSocket publisher read the engine's book through one ``BookSequence`` per instrument:
whoever looks first after a change records the update (the levels that changed, the new seqId);
the publisher then sends every recorded update, in order, to the ``books`` subscribers.

Also per the docs: a quiet book gets a heartbeat update (empty ``bids``/``asks``, ``seqId ==
prevSeqId``) after ``heartbeat_ms`` without a change (about 60 s on OKX), and maintenance may
reset the sequence (an update whose ``seqId`` is below its ``prevSeqId``, the chain intact):
``reset_sequence`` makes the next update do so.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.decimals import to_wire

if TYPE_CHECKING:
    from adapters.okx.emulator_common import Instrument
    from exchanges.emulator.engine import Engine

__all__ = ["DEPTH", "BookSequence", "BookUpdate"]

#: Levels the ``books`` channel carries per side (and the REST maximum ``sz``).
DEPTH = 400


@attrs.frozen
class BookUpdate:
    """One recorded change: changed levels (size "0" deletes) between two seqIds."""

    prev: int
    seq: int
    bids: list[list[str]]
    asks: list[list[str]]
    ts: int


class BookSequence:
    """The published book of one instrument and its seqId chain."""

    def __init__(self, inst: Instrument, engine: Engine, seed: int, now: int) -> None:
        self.inst = inst
        self.engine = engine
        self._random = random.Random(f"{seed}:{inst.inst_id}")
        view = engine.book(inst.spec.symbol, DEPTH, category=inst.spec.category)
        self.update_id = view.update_id
        self.bids = dict(view.bids)
        self.asks = dict(view.asks)
        self.seq = self._random.randint(1_000, 9_000)
        self.ts = now
        self.changed_ms = now
        self.pending: list[BookUpdate] = []
        self._reset = False
        #: ms without a change after which a heartbeat update is recorded (None: never).
        self.heartbeat_ms: int | None = 60_000
        #: True while the books channel has subscribers: only then are updates kept for it.
        self.listened = False

    def _step(self) -> int:
        return self._random.randint(2, 40)  # observed jumps are irregular, never promised +1

    def reset_sequence(self) -> None:
        """Make the next update restart the chain lower (a maintenance reset)."""
        self._reset = True

    def price(self, price: Decimal) -> str:
        """One spelling per level, whatever spelling the order that made it used."""
        return to_wire(price.quantize(self.inst.spec.tick_size))

    def _row(self, price: Decimal, qty: Decimal) -> list[str]:
        size = "0" if qty == 0 else to_wire(self.inst.from_engine(qty))
        return [self.price(price), size, "0", "0" if qty == 0 else "1"]

    def levels(self, side: Mapping[Decimal, Decimal], descending: bool, limit: int) -> Any:
        """``[px, sz, "0", orders]`` rows, best first (sz in contracts for swaps)."""
        prices = sorted(side, reverse=descending)[:limit]
        return [self._row(p, side[p]) for p in prices]

    def refresh(self, now: int) -> None:
        """Record an update if the engine's book changed (or a heartbeat is due)."""
        spec = self.inst.spec
        view = self.engine.book(spec.symbol, DEPTH, category=spec.category)
        if view.update_id != self.update_id:
            self.update_id = view.update_id
            bids, asks = dict(view.bids), dict(view.asks)
            bid_rows = self._diff(self.bids, bids)
            ask_rows = self._diff(self.asks, asks)
            self.bids, self.asks = bids, asks
            if bid_rows or ask_rows:
                self._record(bid_rows, ask_rows, now)
                return
        if self.heartbeat_ms is not None and now - self.changed_ms >= self.heartbeat_ms:
            self.changed_ms = now
            if self.listened:
                self.pending.append(BookUpdate(self.seq, self.seq, [], [], now))

    def _diff(self, old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[list[str]]:
        rows = [self._row(p, q) for p, q in sorted(new.items()) if old.get(p) != q]
        rows += [self._row(p, Decimal(0)) for p in sorted(old) if p not in new]
        return rows

    def _record(self, bids: list[list[str]], asks: list[list[str]], now: int) -> None:
        prev = self.seq
        if self._reset:
            self._reset = False
            self.seq = self._random.randint(0, max(0, prev - 1))
        else:
            self.seq = prev + self._step()
        self.ts = now
        self.changed_ms = now
        if self.listened:
            self.pending.append(BookUpdate(prev, self.seq, bids, asks, now))

    def drain(self) -> list[BookUpdate]:
        """The updates recorded since the last drain, oldest first."""
        pending, self.pending = self.pending, []
        return pending

    def snapshot(self, limit: int) -> dict[str, Any]:
        """The book as OKX shows it (REST ``data[0]``, or a pushed snapshot's item)."""
        return {
            "asks": self.levels(self.asks, False, limit),
            "bids": self.levels(self.bids, True, limit),
            "ts": str(self.ts),
            "seqId": self.seq,
        }
