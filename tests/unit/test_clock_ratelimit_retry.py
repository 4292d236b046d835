from __future__ import annotations

import pytest

from exchanges.clock import ClockSample, ServerClock
from exchanges.errors import BadRequest, ExchangeNotAvailable, RateLimitExceeded
from exchanges.ratelimit import Limit, RateLimiter
from exchanges.retry import RetryPolicy


class Monotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- clock --------------------------------------------------------------------------------


def test_offset_is_the_rtt_midpoint() -> None:
    sample = ClockSample(sent_ms=1000, received_ms=1100, server_ms=4050)
    assert sample.rtt_ms == 100
    assert sample.offset_ms == 3000


def test_offset_is_the_median_of_recent_samples_and_stamps_stay_behind() -> None:
    now = [10_000]
    clock = ServerClock(now_ms=lambda: now[0], samples=5, safety_ms=20)
    assert clock.needs_sync()
    for offset in (3000, 3010, 9000, 2990, 3005):  # one outlier (a slow sample)
        clock.add_sample(ClockSample(now[0], now[0] + 40, now[0] + 20 + offset))
    assert clock.offset_ms == 3005
    # Estimated server time minus half the RTT and the safety margin: never ahead.
    assert clock.timestamp_ms() == now[0] + 3005 - 20 - 20
    assert not clock.needs_sync()


def test_resync_interval_and_invalidate() -> None:
    now = [0]
    clock = ServerClock(now_ms=lambda: now[0], resync_after_ms=1000)
    clock.add_sample(ClockSample(0, 10, 5))
    now[0] = 999
    assert not clock.needs_sync()
    now[0] = 1011
    assert clock.needs_sync()
    clock.invalidate()
    assert not clock.synced


# -- rate limiter -------------------------------------------------------------------------


def test_rolling_window_never_exceeds_the_limit() -> None:
    mono = Monotonic()
    limiter = RateLimiter({"k": Limit(10, 1.0)}, monotonic=mono, margin=0.0)
    sends = []
    for _ in range(35):
        wait = limiter.reserve(["k"])
        sends.append(mono.now + wait)
    sends.sort()
    for i, start in enumerate(sends):
        in_window = [t for t in sends[i:] if t < start + 1.0]
        assert len(in_window) <= 10
    # The ideal: 35 requests at 10 per second take 3 s after the first burst.
    assert sends[-1] - sends[0] == pytest.approx(3.0)


def test_keys_combine_and_unknown_keys_are_free() -> None:
    mono = Monotonic()
    limiter = RateLimiter({"route": Limit(2, 1.0), "ip": Limit(3, 1.0)}, monotonic=mono, margin=0)
    waits = [limiter.reserve(["route", "ip"]) for _ in range(3)]
    assert waits == [0.0, 0.0, 1.0]
    assert limiter.reserve(["other"]) == 0.0
    assert limiter.reserve(["ip"]) == 1.0  # the ip window is now full too


def test_weight_counts_several_slots() -> None:
    mono = Monotonic()
    limiter = RateLimiter({"k": Limit(10, 1.0)}, monotonic=mono, margin=0)
    assert limiter.reserve(["k"], weight=8) == 0.0
    assert limiter.reserve(["k"], weight=3) == 1.0


def test_server_feedback_blocks_and_resizes() -> None:
    mono = Monotonic()
    limiter = RateLimiter({"k": Limit(10, 1.0)}, monotonic=mono, margin=0)
    limiter.update("k", limit=10, remaining=0, reset_in=0.4)
    assert limiter.reserve(["k"]) == pytest.approx(0.4)
    assert limiter.blocked_for("k") == pytest.approx(0.4)
    limiter.update("k", limit=2, remaining=1)
    mono.now += 10
    assert [limiter.reserve(["k"]) for _ in range(3)] == [0.0, 0.0, 1.0]
    limiter.update("new", limit=5, remaining=4, reset_in=0)
    assert limiter.reserve(["new"]) == 0.0


def test_default_limits_from_a_function() -> None:
    limiter = RateLimiter(
        default=lambda key: Limit(1, 1.0) if key.startswith("a") else None,
        monotonic=Monotonic(),
        margin=0,
    )
    assert limiter.reserve(["a1"]) == 0.0
    assert limiter.reserve(["a1"]) == 1.0
    assert limiter.reserve(["b"]) == 0.0 and limiter.reserve(["b"]) == 0.0


# -- retry policy -------------------------------------------------------------------------


def test_reads_retry_retryable_errors_with_growing_bounded_waits() -> None:
    policy = RetryPolicy(attempts=4, initial_wait=0.1, max_wait=0.3)
    run = policy.start()
    waits = [run.next_wait(ExchangeNotAvailable("down")) for _ in range(4)]
    assert waits[3] is None
    first, second, third = waits[:3]
    assert first is not None and second is not None and third is not None
    assert 0.1 <= first <= 0.2 + 1e-9
    assert 0.2 <= second <= 0.3 + 1e-9
    assert third <= 0.4 + 1e-9


def test_non_retryable_errors_are_not_retried() -> None:
    assert RetryPolicy().start().next_wait(BadRequest("no")) is None


def test_rate_limit_waits_follow_retry_after_within_bounds() -> None:
    policy = RetryPolicy(max_rate_limit_wait=2.0, min_rate_limit_wait=0.05, rate_limit_retries=2)
    wait = policy.rate_limit_wait(RateLimitExceeded("x", retry_after=0.5), 1)
    assert wait is not None and 0.5 <= wait <= 0.55
    huge = policy.rate_limit_wait(RateLimitExceeded("x", retry_after=600), 1)
    assert huge is not None and huge <= 2.05
    assert policy.rate_limit_wait(RateLimitExceeded("x"), 3) is None
    assert policy.rate_limit_wait(RateLimitExceeded("ban", retryable=False), 1) is None
