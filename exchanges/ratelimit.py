"""Client-side rate limiting: rolling windows keyed by route and globally, fed by response headers.

Each key (``bybit:POST /v5/order/create``, ``bybit:ip``) is a rolling window of ``limit``
requests per ``period`` seconds. ``reserve`` books a send time for a request on all its keys at
once and returns how long the caller must wait; bookings are made in order, so concurrent callers
queue fairly without polling. Exchanges' replies (remaining quota, reset time, an explicit
"too many requests") adjust a key through ``update`` and ``block_until``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from itertools import repeat

import attrs

__all__ = ["Limit", "RateLimiter", "RouteBlocked"]

#: The longest an exchange's explicit "stop sending" (Retry-After, a ban) is honoured: Binance's
#: IP bans scale "from 2 minutes to 3 days"; a value beyond that is not a real one.
MAX_BLOCK = 3 * 86_400.0


class RouteBlocked(Exception):
    """Raised by ``reserve``: a key is blocked (the exchange said so) for longer than the caller
    may wait, so nothing is booked and the request is not sent.
    """

    def __init__(self, key: str, seconds: float) -> None:
        super().__init__(f"{key} is blocked for {seconds:.1f} s")
        self.key = key
        self.seconds = seconds


def _seconds(value: float | None, ceiling: float) -> float | None:
    """A wait read from an exchange's answer: finite, not negative, at most ``ceiling``."""
    if value is None or not math.isfinite(value):
        return None
    return min(max(value, 0.0), ceiling)


@attrs.frozen
class Limit:
    """``limit`` requests per rolling ``period`` seconds, at most ``burst`` of them back to back.

    Beyond the burst, requests are paced at ``period / limit``: an exchange counts requests on
    arrival, and a burst that queues on its side arrives spread out, so a full-window burst
    followed by on-time requests can exceed the window there even when it did not here.
    """

    limit: int
    period: float
    burst: int | None = None


class _Window:
    __slots__ = (
        "blocked_until",
        "interval",
        "key",
        "limit",
        "period",
        "sends",
        "tat",
        "tolerance",
    )

    def __init__(self, key: str, limit: int, period: float, burst: int | None = None) -> None:
        self.key = key
        self.limit = limit
        self.period = period
        # Booked send times, ascending; at most ``limit`` are needed to decide the next one.
        self.sends: deque[float] = deque(maxlen=limit)
        self.blocked_until = 0.0
        # Pacing (GCRA): theoretical arrival time and how far ahead of it a burst may run.
        self.interval = period / limit
        self.tolerance = self.interval * (min(burst or limit, limit) - 1)
        self.tat = 0.0


def _earliest(windows: list[_Window], now: float, weight: int, longest: float) -> float:
    """The earliest send time all ``windows`` allow; ``RouteBlocked`` past ``longest`` seconds.

    One function over all windows, their checks inline: this runs for every request.
    """
    at = now
    for window in windows:
        blocked = window.blocked_until
        if blocked - now > longest:
            raise RouteBlocked(window.key, blocked - now)
        if blocked > at:
            at = blocked
        paced = window.tat - window.tolerance
        if paced > at:
            at = paced
        sends = window.sends
        if sends:
            if sends[-1] > at:
                at = sends[-1]
            limit = window.limit
            over = len(sends) + (weight if weight < limit else limit) - limit
            if over > 0:
                # The request may go once the send ``weight`` places back has left the window.
                freed = sends[over - 1] + window.period
                if freed > at:
                    at = freed
    return at


class RateLimiter:
    """Books send times against every key a request counts towards; thread-safe."""

    def __init__(
        self,
        limits: Mapping[str, Limit] | None = None,
        *,
        default: Callable[[str], Limit | None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        margin: float = 0.02,
        max_blocked_wait: float = 10.0,
    ) -> None:
        self._limits = dict(limits or {})
        self._default = default
        self._windows: dict[str, _Window | None] = {}
        # Requests carry the same few key tuples: resolve each tuple to its windows once.
        self._by_keys: dict[tuple[str, ...], list[_Window]] = {}
        self._monotonic = monotonic
        # Server-side windows are measured on arrival, which jitters: keep a small gap.
        self._margin = margin
        self._lock = threading.Lock()
        self.enabled = True
        #: A key blocked by the exchange for longer than this fails the request at once
        #: (``RouteBlocked``) instead of holding the caller.
        self.max_blocked_wait = max_blocked_wait

    def _window(self, key: str) -> _Window | None:
        try:
            return self._windows[key]
        except KeyError:
            pass
        spec = self._limits.get(key)
        if spec is None and self._default is not None:
            spec = self._default(key)
        window = None
        if spec is not None:
            window = _Window(key, spec.limit, spec.period * (1 + self._margin), spec.burst)
        self._windows[key] = window
        return window

    def _windows_of(self, keys: tuple[str, ...]) -> list[_Window]:
        windows = self._by_keys.get(keys)
        if windows is None:
            windows = [w for w in map(self._window, keys) if w is not None]
            self._by_keys[keys] = windows
        return windows

    def reserve(self, keys: Iterable[str], weight: int = 1) -> float:
        """Book the earliest send time allowed on all ``keys``; return seconds to wait for it.

        Raises ``RouteBlocked`` (booking nothing) when the exchange blocked a key for longer
        than ``max_blocked_wait``.
        """
        if not self.enabled:
            return 0.0
        with self._lock:
            if keys.__class__ is not tuple:
                keys = tuple(keys)
            windows = self._by_keys.get(keys)
            if windows is None:
                windows = self._windows_of(keys)
            if not windows:
                return 0.0
            now = self._monotonic()
            at = _earliest(windows, now, weight, self.max_blocked_wait)
            for window in windows:
                if weight == 1:
                    window.sends.append(at)
                else:
                    window.sends.extend(repeat(at, min(weight, window.limit)))
                tat = window.tat
                window.tat = (tat if tat > at else at) + window.interval * weight
        return at - now

    def block_until(self, key: str, seconds_from_now: float) -> None:
        """Stop sending on ``key`` for a while (the exchange said the quota is spent).

        Waits that are not finite or absurdly long (beyond ``MAX_BLOCK``) are not trusted.
        """
        seconds = _seconds(seconds_from_now, MAX_BLOCK)
        if seconds is None:
            return
        with self._lock:
            window = self._window(key)
            if window is not None:
                window.blocked_until = max(window.blocked_until, self._monotonic() + seconds)

    def blocked_for(self, key: str) -> float:
        """Seconds until ``key`` is no longer blocked (0 when it is not)."""
        with self._lock:
            window = self._window(key)
            if window is None:
                return 0.0
            return max(window.blocked_until - self._monotonic(), 0.0)

    def update(
        self,
        key: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        """Apply what the exchange reported for ``key``: its limit, what remains, when it resets.

        A spent window blocks the key until the reset, but never longer than the window's own
        period: a reset an hour (or a year) ahead is a wrong header, not a reason to stop.
        """
        window = self._windows.get(key)
        if (
            window is not None
            and (limit is None or limit <= 0 or limit == window.limit)
            and (remaining is None or remaining > 0)
        ):
            # The usual report (same limit, quota left) changes nothing: no lock taken for it.
            return
        with self._lock:
            window = self._window(key)
            if window is None:
                if limit is None or limit <= 0:
                    return
                window = _Window(key, limit, 1.0)
                self._windows[key] = window
                self._by_keys.clear()
            if limit is not None and limit > 0 and limit != window.limit:
                burst = round(window.tolerance / window.interval) + 1
                window.limit = limit
                window.sends = deque(window.sends, maxlen=limit)
                window.interval = window.period / limit
                window.tolerance = window.interval * (min(burst, limit) - 1)
            if remaining is not None and remaining <= 0:
                wait = _seconds(reset_in, window.period)
                if wait is not None:
                    window.blocked_until = max(window.blocked_until, self._monotonic() + wait)
