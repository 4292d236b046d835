"""The public rate-limit knob: ``connect(..., rate_limits=...)``.

``"documented"`` (the default) paces requests to what the exchange documents for its default
tier, corrected at run time from its rate-limit headers. A number scales every limit (2 for an
account whose VIP tier doubles the documented figures, 0.5 to leave half the budget to another
program). ``"off"`` paces nothing, for one's own test servers: the exchange's rate-limit
refusals are still waited out and retried by the retry policy, but nothing is booked ahead.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from exchanges.ratelimit import Limit, RateLimiter

__all__ = ["RateLimits", "check_rate_limits", "limiter_for"]

#: What ``rate_limits=`` takes: ``"documented"``, ``"off"`` or a positive scale factor.
RateLimits = str | float | int | Decimal

_EXAMPLE = 'pass "documented", "off" or a positive number such as 2 (twice the documented limits)'


def check_rate_limits(value: Any) -> str | float:
    """``value`` as the limiter takes it; ``TypeError``/``ValueError`` saying what to pass."""
    if isinstance(value, str):
        if value in ("documented", "off"):
            return value
        raise ValueError(f"rate_limits={value!r} is not a policy: {_EXAMPLE}")
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise TypeError(f"rate_limits must be a str or a number, not {type(value).__name__}")
    factor = float(value)
    if not math.isfinite(factor) or factor <= 0:
        raise ValueError(f"rate_limits={value!r} must be a finite number above 0: {_EXAMPLE}")
    return factor


def _scaled(limit: Limit | None, factor: float) -> Limit | None:
    if limit is None:
        return None
    # Rounded down, never below one request: a scaled limit must not exceed what was asked.
    burst = None if limit.burst is None else max(1, math.floor(limit.burst * factor))
    return Limit(max(1, math.floor(limit.limit * factor)), limit.period, burst)


def limiter_for(
    limits: Mapping[str, Limit],
    default: Callable[[str], Limit | None] | None,
    policy: str | float,
) -> RateLimiter:
    """The limiter for an adapter's documented ``limits`` (and ``default``) under ``policy``."""
    if policy == "documented":
        return RateLimiter(limits, default=default)
    if policy == "off":
        limiter = RateLimiter()
        limiter.enabled = False
        return limiter
    factor = float(policy)
    scaled = {key: _scaled(limit, factor) for key, limit in limits.items()}
    kept = {key: limit for key, limit in scaled.items() if limit is not None}

    def scaled_default(key: str) -> Limit | None:
        return _scaled(default(key), factor) if default is not None else None

    return RateLimiter(kept, default=scaled_default)
