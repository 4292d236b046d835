"""A deterministic funding schedule for the emulators' perpetual swaps.

Every swap settles funding every 8 hours on the UTC grid (00:00, 08:00, 16:00). The rate of each
settlement is drawn from a generator seeded with the engine's seed, the instrument and the
settlement time, so it is the same whenever it is asked for and whatever was asked before:
within ±0.0375 % (±0.000375), in steps of 1e-8. The rate shown for the next settlement is the
one that will settle. History goes back ``HISTORY_INTERVALS`` settlements from the clock.
Front-ends render it in their exchange's format; the engine serves it (``Engine.funding``).
"""

from __future__ import annotations

import random
from decimal import Decimal

import attrs

__all__ = [
    "HISTORY_INTERVALS",
    "INTERVAL_MS",
    "MAX_RATE",
    "FundingView",
    "SettlementView",
    "funding_rate_at",
    "next_settlement",
    "settlements",
]

INTERVAL_MS = 8 * 3_600_000
#: Settlements kept back from the clock (about 333 days at 8 hours).
HISTORY_INTERVALS = 1000
MAX_RATE = Decimal("0.000375")
_STEPS = 37_500  # MAX_RATE in steps of 1e-8


@attrs.frozen
class FundingView:
    """The funding of one swap now: the rate of the next settlement and the prices."""

    symbol: str
    rate: Decimal
    funding_time: int
    interval_ms: int
    previous_rate: Decimal
    mark: Decimal
    index: Decimal
    time_ms: int


@attrs.frozen
class SettlementView:
    """One past settlement: its time and the rate charged."""

    time_ms: int
    rate: Decimal


def funding_rate_at(seed: int, category: str, symbol: str, time_ms: int, salt: str = "") -> Decimal:
    """The rate of the settlement at ``time_ms`` (a multiple of ``INTERVAL_MS``)."""
    rng = random.Random(f"funding:{seed}:{category}:{symbol}:{time_ms}{salt}")
    return Decimal(rng.randint(-_STEPS, _STEPS)).scaleb(-8)


def next_settlement(now_ms: int) -> int:
    """The first settlement after ``now_ms``."""
    return (now_ms // INTERVAL_MS + 1) * INTERVAL_MS


def settlements(now_ms: int, start_ms: int | None, end_ms: int | None) -> range:
    """The settlement times in ``[start_ms, end_ms]`` that are past and kept, ascending."""
    last = now_ms - now_ms % INTERVAL_MS
    first = last - (HISTORY_INTERVALS - 1) * INTERVAL_MS
    if start_ms is not None:
        first = max(first, start_ms + (-start_ms) % INTERVAL_MS)
    if end_ms is not None:
        last = min(last, end_ms - end_ms % INTERVAL_MS)
    return range(first, last + 1, INTERVAL_MS)
