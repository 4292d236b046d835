"""The limiter's inline booking books what the straightforward per-window algorithm books.

The reference below is the limiter as first written (earliest time per window, the latest of
them, then one booking per window); random requests, weights, blocks and clock steps must give
the same waits and the same ``RouteBlocked`` refusals.
"""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges.ratelimit import Limit, RateLimiter, RouteBlocked


class Window:
    def __init__(self, limit: int, period: float, burst: int | None) -> None:
        self.limit = limit
        self.period = period
        self.sends: deque[float] = deque(maxlen=limit)
        self.blocked_until = 0.0
        self.interval = period / limit
        self.tolerance = self.interval * (min(burst or limit, limit) - 1)
        self.tat = 0.0

    def earliest(self, now: float, weight: int) -> float:
        weight = min(weight, self.limit)
        at = max(now, self.blocked_until, self.tat - self.tolerance)
        if self.sends:
            at = max(at, self.sends[-1])
            over = len(self.sends) + weight - self.limit
            if over > 0:
                at = max(at, self.sends[over - 1] + self.period)
        return at

    def book(self, at: float, weight: int) -> None:
        for _ in range(min(weight, self.limit)):
            self.sends.append(at)
        self.tat = max(self.tat, at) + self.interval * weight


def reference(windows: list[Window], now: float, weight: int, longest: float) -> float | str:
    for w in windows:
        if w.blocked_until - now > longest:
            return "blocked"
    at = max([now] + [w.earliest(now, weight) for w in windows])
    for w in windows:
        w.book(at, weight)
    return at - now


LIMITS = {"a": Limit(3, 1.0), "b": Limit(5, 2.0, burst=2), "c": Limit(2, 0.5, burst=1)}
step = st.tuples(
    st.sampled_from([("a",), ("b",), ("a", "b"), ("b", "c"), ("a", "b", "c")]),
    st.integers(min_value=1, max_value=7),
    st.floats(min_value=0.0, max_value=1.5),
    st.one_of(st.none(), st.tuples(st.sampled_from("abc"), st.floats(0.0, 30.0))),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=40))
def test_reserve_books_what_the_reference_books(steps: list) -> None:  # type: ignore[type-arg]
    now = [100.0]
    limiter = RateLimiter(LIMITS, monotonic=lambda: now[0], margin=0.0, max_blocked_wait=10.0)
    model = {k: Window(v.limit, v.period, v.burst) for k, v in LIMITS.items()}
    for keys, weight, advance, block in steps:
        now[0] += advance
        if block is not None:
            key, seconds = block
            limiter.block_until(key, seconds)
            model[key].blocked_until = max(model[key].blocked_until, now[0] + seconds)
        expected = reference([model[k] for k in keys], now[0], weight, 10.0)
        try:
            got: float | str = limiter.reserve(keys, weight)
        except RouteBlocked:
            got = "blocked"
        assert got == expected
