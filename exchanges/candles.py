"""Candles gathered page by page: each timestamp once, then ordered and trimmed to the ask."""

from __future__ import annotations

from exchanges.models import Candle

__all__ = ["add_fresh", "kept"]


def add_fresh(candles: dict[int, Candle], batch: list[Candle]) -> list[Candle]:
    """Add the candles of ``batch`` whose timestamps ``candles`` lacks; return those."""
    # Pages may overlap at their edges; an empty result means paging has stopped moving.
    fresh = [c for c in batch if c.timestamp not in candles]
    for candle in fresh:
        candles[candle.timestamp] = candle
    return fresh


def kept(candles: dict[int, Candle], want: int, since: int | None) -> list[Candle]:
    """Oldest first: the first ``want`` from ``since``, or without it the latest ``want``."""
    ordered = sorted(candles.values(), key=lambda c: c.timestamp)
    return ordered[:want] if since is not None else ordered[-want:]
