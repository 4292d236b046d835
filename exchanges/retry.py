"""The retry policy, in one place: which failures are retried, how often, and how long to wait.

The decision comes from the error class (``retryable``), never from an adapter. Tenacity's
strategies (stop, wait, retry) make the decision; the pipeline performs the waiting itself, so
the same policy drives the sync and the async client.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.errors import (
    BadResponse,
    ClockSkew,
    ExchangeError,
    ExchangeNotAvailable,
    NetworkError,
    OutcomeUnknown,
    RateLimitExceeded,
)

if TYPE_CHECKING:
    import tenacity

__all__ = ["RetryPolicy", "RetryRun", "outcome_unknown"]


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ExchangeError) and exc.retryable


@attrs.frozen
class RetryPolicy:
    """How a read is retried after a retryable failure, and how rate-limit waits are bounded."""

    attempts: int = 3
    initial_wait: float = 0.2
    max_wait: float = 2.0
    max_delay: float = 15.0
    rate_limit_retries: int = 5
    max_rate_limit_wait: float = 10.0
    min_rate_limit_wait: float = 0.05

    def start(self) -> RetryRun:
        """Begin the retry bookkeeping of one logical request (made on its first failure)."""
        # Imported here: the happy path never needs it, and importing costs start-up time.
        import tenacity

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_after_delay(self.max_delay),
            wait=tenacity.wait_exponential(multiplier=self.initial_wait, max=self.max_wait)
            + tenacity.wait_random(0, self.initial_wait),
            retry=tenacity.retry_if_exception(_is_retryable),
            reraise=True,
        )
        return RetryRun(retrying)

    def rate_limit_wait(self, err: RateLimitExceeded, attempt: int) -> float | None:
        """Seconds to wait before retrying after a rate-limit reply, or None to give up."""
        if attempt > self.rate_limit_retries or not err.retryable:
            return None
        if err.retry_after is not None and math.isfinite(err.retry_after):
            # An exchange's own figure, bounded below like any other wait.
            wait = err.retry_after
        else:
            wait = min(self.max_rate_limit_wait, self.initial_wait * 2**attempt)
        wait = min(max(wait, self.min_rate_limit_wait), self.max_rate_limit_wait)
        # A little jitter keeps concurrent callers from retrying in lockstep.
        return wait + random.uniform(0, self.min_rate_limit_wait)


class RetryRun:
    """Tenacity's decision loop for one request, driven by the pipeline instead of a sleep call."""

    __slots__ = ("_retrying", "_state")

    def __init__(self, retrying: tenacity.Retrying) -> None:
        import tenacity

        retrying.begin()
        self._retrying = retrying
        self._state = tenacity.RetryCallState(retrying, fn=None, args=(), kwargs={})

    @property
    def attempt(self) -> int:
        """The number of the attempt that just failed."""
        return self._state.attempt_number

    def next_wait(self, err: ExchangeError) -> float | None:
        """Record ``err`` as this attempt's outcome; return the wait before the next, or None."""
        import tenacity

        self._state.set_exception((type(err), err, err.__traceback__))
        try:
            action: Any = self._retrying.iter(self._state)
        except ExchangeError:
            return None
        if isinstance(action, tenacity.DoSleep):
            self._state.prepare_for_next_attempt()
            return float(action)
        return None


def outcome_unknown(err: ExchangeError, client_order_id: str | None = None) -> ExchangeError:
    """For a write, turn a failure that may have happened after the exchange acted into
    ``OutcomeUnknown``; failures that prove nothing happened are returned unchanged.
    """
    if isinstance(err, ClockSkew | RateLimitExceeded | OutcomeUnknown):
        return err
    if isinstance(err, NetworkError) and not err.request_sent:
        return err
    if isinstance(err, NetworkError | ExchangeNotAvailable | BadResponse):
        unknown = OutcomeUnknown(
            f"{type(err).__name__}: {err.message}",
            exchange=err.exchange,
            code=err.code,
            http_status=err.http_status,
            endpoint=err.endpoint,
            client_order_id=client_order_id,
        )
        unknown.__cause__ = err
        return unknown
    return err
