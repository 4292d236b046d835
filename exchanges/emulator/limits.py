"""Server-side rate limiting as an exchange applies it: rolling windows per key, with statistics."""

from __future__ import annotations

import threading
from collections import deque

import attrs

__all__ = ["Verdict", "WindowCounter"]


@attrs.frozen
class Verdict:
    """The outcome of counting one request: allowed or not, the limit, what remains, reset time."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int


class WindowCounter:
    """Counts requests per key in a rolling window; records the most ever seen in one window."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, deque[int]] = {}
        self._arrivals: dict[str, deque[int]] = {}
        self.max_in_window: dict[str, int] = {}
        self.max_arrivals: dict[str, int] = {}
        self.rejected: dict[str, int] = {}

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> Verdict:
        """Count a request on ``key`` if the window has room; say so either way."""
        with self._lock:
            # Every arrival counts for the statistics, refused ones included: that is what
            # a client sent, whatever the exchange made of it.
            arrivals = self._arrivals.setdefault(key, deque())
            arrivals.append(now_ms)
            while arrivals and arrivals[0] <= now_ms - window_ms:
                arrivals.popleft()
            if len(arrivals) > self.max_arrivals.get(key, 0):
                self.max_arrivals[key] = len(arrivals)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now_ms - window_ms:
                hits.popleft()
            if len(hits) >= limit:
                self.rejected[key] = self.rejected.get(key, 0) + 1
                return Verdict(False, limit, 0, hits[0] + window_ms)
            hits.append(now_ms)
            seen = len(hits)
            if seen > self.max_in_window.get(key, 0):
                self.max_in_window[key] = seen
            return Verdict(True, limit, limit - seen, now_ms)

    def reset(self) -> None:
        """Forget every count and statistic."""
        with self._lock:
            self._hits.clear()
            self._arrivals.clear()
            self.max_in_window.clear()
            self.max_arrivals.clear()
            self.rejected.clear()
