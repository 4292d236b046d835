"""The synthetic price history of one instrument: a deterministic random walk of one-minute
candles behind klines and 24h statistics, reaching ``HISTORY_MINUTES`` back from the reset."""

from __future__ import annotations

import random

import attrs

__all__ = ["DAY_MS", "HISTORY_MINUTES", "MINUTE_MS", "History"]

MINUTE_MS = 60_000
DAY_MS = 86_400_000
HISTORY_MINUTES = 365 * 24 * 60  # synthetic history reaches one year back from the reset


@attrs.define
class History:
    """A deterministic random walk of one-minute candles ending at the reference price.

    Index ``i`` holds the minute ``anchor_minute - 1 - i``: the walk is generated backward from
    the reset, lazily and in a fixed order, so a minute's candle never depends on which
    requests came first.
    """

    anchor_minute: int
    ref_ticks: int
    sigma: int
    lots_low: int
    lots_span: int
    rng: random.Random
    opens: list[int] = attrs.Factory(list)
    highs: list[int] = attrs.Factory(list)
    lows: list[int] = attrs.Factory(list)
    closes: list[int] = attrs.Factory(list)
    lots: list[int] = attrs.Factory(list)

    def extend(self, count: int) -> None:
        """Generate minutes until ``count`` exist (at most a year's worth)."""
        count = min(count, HISTORY_MINUTES)
        floor_ticks = max(1, self.ref_ticks // 20)
        wick = self.sigma // 2 + 1
        width = 2 * self.sigma + 1
        while len(self.opens) < count:
            close = self.opens[-1] if self.opens else self.ref_ticks
            bits = self.rng.getrandbits(96)
            # A pull toward the reference with a ~90-day time constant (rounded toward zero, so
            # it has no bias of its own) keeps a year-long walk in a plausible range.
            gap = self.ref_ticks - close
            pull = gap // 131_072 if gap >= 0 else -(-gap // 131_072)
            step = (bits & 0xFFFFFFFF) % width - self.sigma + pull
            open_ = max(floor_ticks, close + step)
            self.opens.append(open_)
            self.closes.append(close)
            self.highs.append(max(open_, close) + ((bits >> 32) & 0xFFFF) % wick)
            self.lows.append(max(1, min(open_, close) - ((bits >> 48) & 0xFFFF) % wick))
            self.lots.append(self.lots_low + (bits >> 64) % self.lots_span)
