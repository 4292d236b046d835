"""The exchange's clock as seen from here: offset by RTT midpoint, median of recent samples."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import attrs

__all__ = ["ClockSample", "ServerClock"]


def wall_ms() -> int:
    """The local wall clock in integer milliseconds."""
    return time.time_ns() // 1_000_000


@attrs.frozen
class ClockSample:
    """One exchange of time: local send and receive times and the server's stamp, all ms."""

    sent_ms: int
    received_ms: int
    server_ms: int

    @property
    def rtt_ms(self) -> int:
        """Round-trip time of the sample."""
        return self.received_ms - self.sent_ms

    @property
    def offset_ms(self) -> float:
        """Server minus local, taking the server's stamp to be at the round trip's midpoint."""
        return self.server_ms - (self.sent_ms + self.received_ms) / 2


def _median(values: list[float] | list[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


class ServerClock:
    """Estimates server time from samples and stamps requests never ahead of the server.

    The stamp is ``local + offset - margin`` where the margin is half the round trip of the
    samples (the uncertainty of the midpoint) plus ``safety_ms``: exchanges reject stamps ahead of
    their clock (Bybit: ``timestamp < server_time + 1000``) while tolerating a window behind it,
    so erring behind is the safe side. The receive window itself is never widened.
    """

    def __init__(
        self,
        *,
        now_ms: Callable[[], int] = wall_ms,
        samples: int = 5,
        resync_after_ms: int = 15 * 60 * 1000,
        safety_ms: int = 20,
    ) -> None:
        self._now_ms = now_ms
        self._samples: deque[ClockSample] = deque(maxlen=samples)
        self._resync_after_ms = resync_after_ms
        self._safety_ms = safety_ms
        self._lock = threading.Lock()
        self._offset = 0
        self._margin = 0
        self._synced_at: int | None = None
        self.resyncs = 0

    def now_ms(self) -> int:
        """The local clock (injectable for tests and recordings)."""
        return self._now_ms()

    @property
    def offset_ms(self) -> int:
        """The current estimate of server minus local time."""
        return self._offset

    @property
    def uncertainty_ms(self) -> int:
        """How far the estimate of server time may be off: half the round trip plus safety."""
        return self._margin

    @property
    def synced(self) -> bool:
        """True once at least one sample was taken."""
        return self._synced_at is not None

    def needs_sync(self) -> bool:
        """True before the first sample and when the last one is older than the resync interval."""
        synced_at = self._synced_at
        return synced_at is None or self._now_ms() - synced_at > self._resync_after_ms

    def timestamp_ms(self) -> int:
        """A request timestamp: estimated server time minus the uncertainty margin."""
        return self._now_ms() + self._offset - self._margin

    def fresh_timestamp_ms(self) -> int | None:
        """``timestamp_ms()``, or None when ``needs_sync()``: one reading of the local clock."""
        # The pipeline's per-request question, asked once instead of twice.
        now = self._now_ms()
        synced_at = self._synced_at
        if synced_at is None or now - synced_at > self._resync_after_ms:
            return None
        return now + self._offset - self._margin

    def add_sample(self, sample: ClockSample) -> None:
        """Record a sample and recompute the offset as the median of recent samples."""
        with self._lock:
            self._samples.append(sample)
            self._offset = round(_median([s.offset_ms for s in self._samples]))
            rtt = _median([s.rtt_ms for s in self._samples])
            self._margin = int(rtt // 2) + self._safety_ms
            self._synced_at = sample.received_ms
            self.resyncs += 1

    def invalidate(self) -> None:
        """Forget old samples after the exchange said our stamp was wrong: they no longer hold."""
        with self._lock:
            self._samples.clear()
            self._synced_at = None
