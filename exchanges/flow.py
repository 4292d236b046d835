"""Operations as generators and the request pipeline (``Session``).

An adapter writes each operation once, as a *flow*: a generator that yields ``Request``s,
receives ``Response``s (already checked and decoded) and returns a model. Failures are thrown
into the flow as normalised errors, so multi-step logic (reconcile an order whose outcome is
unknown, follow a cursor) is ordinary ``try``/``except`` around a ``yield``. A flow may also
yield a ``Pause`` to wait until the exchange's clock reaches a given time.

The pipeline (``Session.execute``) takes each request through rate limiter → clock → signer →
transport → error check, with retries, clock resync and rate-limit waits. It never sleeps or
touches a socket itself: it yields ``Send`` and ``Sleep`` effects, which ``run_sync`` performs
with ``time.sleep`` and a sync transport and ``run_async`` with ``asyncio.sleep`` and an async
transport. That is the only code that differs between the sync and the async client. A client
of a fleet (``exchanges.fleet``) also yields ``Shared`` effects: operations on the fleet's
Redis, which the drivers perform with the blocking or the asyncio Redis client.

The flow steps and effects live in ``exchanges.effects`` and the drivers in
``exchanges.drivers``; both are re-exported here.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar

from exchanges.clock import ClockSample, ServerClock
from exchanges.drivers import forget_locals, run_async, run_sync
from exchanges.effects import (
    SHAPE_ERRORS,
    Effect,
    Effects,
    Flow,
    Pause,
    Send,
    Shared,
    SharedOperation,
    Sleep,
)
from exchanges.errors import (
    AuthenticationError,
    BadResponse,
    ClientClosed,
    ClockSkew,
    ExchangeError,
    NotSupported,
    OutcomeUnknown,
    RateLimitExceeded,
    UnsafeApiKey,
)
from exchanges.ratelimit import RateLimiter, RouteBlocked
from exchanges.retry import RetryPolicy, RetryRun, outcome_unknown
from exchanges.wire import Request, Response

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.fleet.fleet import Fleet

__all__ = [
    "SHAPE_ERRORS",
    "Effect",
    "Effects",
    "Flow",
    "Pause",
    "Send",
    "Session",
    "Shared",
    "SharedOperation",
    "Sleep",
    "forget_locals",
    "run_async",
    "run_sync",
]

T = TypeVar("T")


# A pause resumes its flow with this: it carries nothing.
_RESUMED = Response(0, {}, b"")
# Added to a pause: the clock estimate's own uncertainty is added separately, and exchanges
# check the receive window against their clock when the request reaches them.
_PAUSE_MARGIN_MS = 1000
# Receive windows are at most 60 s (Binance's maximum recvWindow); no pause is longer.
_MAX_PAUSE_MS = 65_000
# A trade-key check in progress longer than this is presumed abandoned by a stuck caller.
_TRADE_KEY_CHECK_STALE = 60.0
_DEBUG = logging.DEBUG


class Session:
    """The state one client shares across calls: adapter, keys, clock, limiter, retry policy."""

    def __init__(
        self,
        adapter: Adapter,
        *,
        credentials: Credentials | None = None,
        trade_credentials: Credentials | None = None,
        clock: ServerClock | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        allow_withdrawal_keys: bool = False,
        sync_clock: bool = True,
    ) -> None:
        self.adapter = adapter
        self.credentials = credentials
        self.trade_credentials = trade_credentials
        self.clock = clock or ServerClock()
        if limiter is None:
            limits, default = adapter.rate_limits()
            limiter = RateLimiter(limits, default=default)
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.allow_withdrawal_keys = allow_withdrawal_keys
        self.sync_clock = sync_clock
        self.log = logging.getLogger(f"exchanges.{adapter.name}")
        # None: not checked yet; "checking": a call is checking it now; "safe"; or "unsafe".
        self._trade_key: str | None = None
        self._trade_key_since = 0.0
        #: Set by the client's ``close()``: no call is made after it.
        self.closed = False
        #: Why there are no credentials although some were meant (a half-set environment).
        self.credentials_problem: str | None = None
        #: The fleet this client belongs to (``connect(..., fleet=...)``), or None.
        self.fleet: Fleet | None = None

    # -- the pipeline ---------------------------------------------------------------------

    def execute(self, flow: Flow[T]) -> Effects[T]:
        """Run an operation's flow, taking each request it yields through the pipeline."""
        if self.closed:
            flow.close()
            raise ClientClosed(
                f"{_operation(flow)} was called on a closed client", exchange=self.adapter.name
            )
        try:
            step = next(flow)
            while True:
                if isinstance(step, Pause):
                    yield from self._pause(step)
                    step = flow.send(_RESUMED)
                    continue
                request = step
                try:
                    if request.signed and not self._signs(request):
                        # Here, not in the pipeline: the error names the caller's method, and a
                        # write fails before the trade-key check (another request) is tried.
                        raise self._no_credentials(request, _operation(flow))
                    response = yield from self.exchange(request)
                except ExchangeError as err:
                    step = flow.throw(err)
                    continue
                try:
                    step = flow.send(response)
                except SHAPE_ERRORS as exc:
                    # Raised while the adapter read an answer: the answer had a shape its API
                    # does not document (a missing key, a list where an object belongs).
                    raise BadResponse(
                        f"unexpected response to {request.endpoint}: {type(exc).__name__}: "
                        f"{_brief(exc)}",
                        exchange=self.adapter.name,
                        http_status=response.status,
                        endpoint=request.endpoint,
                    ) from exc
        except StopIteration as done:
            result: T = done.value
            return result
        finally:
            # An abandoned call (cancelled, timed out, interrupted) runs the flow's cleanup now,
            # not whenever the garbage collector gets to it.
            flow.close()

    def _pause(self, pause: Pause) -> Effects[None]:
        clock = self.clock
        wait_ms = (
            pause.until_server_ms
            - (clock.now_ms() + clock.offset_ms)
            + clock.uncertainty_ms
            + _PAUSE_MARGIN_MS
        )
        if wait_ms > 0:
            self.log.debug("waiting %d ms for the exchange's receive window to close", wait_ms)
            yield Sleep(min(wait_ms, _MAX_PAUSE_MS) / 1000)

    def exchange(self, request: Request) -> Effects[Response]:
        """One logical request: retried on retryable failures (reads), resynced on clock skew."""
        write = request.write
        if write and self._trade_key != "safe" and not self.allow_withdrawal_keys:
            yield from self._trade_key_verdict()
        adapter = self.adapter
        clock = self.clock
        signed = request.signed
        run: RetryRun | None = None
        resynced = False
        rate_limited = 0
        # The whole call, first attempt included: what "(N attempts in X s)" reports.
        started = time.monotonic()
        fleet = self.fleet
        while True:
            limiter = self.limiter
            try:
                if fleet is None:
                    wait = limiter.reserve(request.rate_keys, request.weight)
                else:
                    wait = yield from fleet.reserve(self, request)
            except RouteBlocked as blocked:
                raise self._blocked(request, blocked) from None
            if wait > 0:
                yield Sleep(wait)
            # Everything before the send can fail only locally: such errors are not retried
            # and never count as a write that may have reached the exchange.
            stamp = 0
            if signed:
                # The key that signs it: a write may have its own (trade_credentials).
                credentials = self.credentials
                if request.role == "trade" and self.trade_credentials is not None:
                    credentials = self.trade_credentials
                if credentials is None:
                    raise self._no_credentials(request, None)
                fresh = clock.fresh_timestamp_ms() if self.sync_clock else clock.timestamp_ms()
                if fresh is None:
                    yield from self.resync()
                    fresh = clock.timestamp_ms()
                stamp = fresh
                prepared = adapter.sign(request, stamp, credentials)
            else:
                if write:
                    stamp = clock.timestamp_ms()
                prepared = adapter.prepare(request)
            try:
                response: Response = yield Send(prepared)
                try:
                    adapter.observe(response, self.limiter, clock)
                except Exception as exc:
                    # Rate-limit headers are advice: a malformed one must not fail the call.
                    self.log.debug("ignored unreadable rate-limit headers: %s", type(exc).__name__)
                if fleet is not None and fleet.corrections:
                    yield from fleet.correct()
                try:
                    adapter.decode(response)
                except ExchangeError:
                    raise
                except Exception as exc:
                    raise self._unreadable(request, response, exc) from None
            except ClockSkew as err:
                self._failed(request, err)
                # The exchange refused the stamp before acting: safe to resend, writes included.
                if resynced or not signed:
                    raise
                resynced = True
                clock.invalidate()
                yield from self.resync()
            except RateLimitExceeded as err:
                self._failed(request, err)
                # Refused before acting, so writes may be resent too; bounded.
                rate_limited += 1
                backoff = self.retry.rate_limit_wait(err, rate_limited)
                if backoff is None:
                    raise
                self._log_retry(request, err, backoff)
                yield Sleep(backoff)
            except ExchangeError as err:
                self._failed(request, err)
                if write:
                    if isinstance(err, AuthenticationError) or not err.retryable:
                        raise
                    converted = outcome_unknown(err)
                    if converted is not err:
                        if isinstance(converted, OutcomeUnknown):
                            converted.conclusive_after_ms = adapter.acts_until_ms(request, stamp)
                        raise converted from err
                    # Not sent at all (no connection): resending is not a blind resend.
                if run is None:
                    run = self.retry.start()
                backoff = run.next_wait(err)
                if backoff is None:
                    if run.attempt > 1:
                        _note_attempts(err, run.attempt, time.monotonic() - started)
                    raise
                self._log_retry(request, err, backoff)
                yield Sleep(backoff)
            else:
                if self.log.isEnabledFor(_DEBUG):
                    self.log.debug(
                        "%s -> %s code=%s in %.1f ms",
                        request.endpoint,
                        response.status,
                        response.code,
                        response.elapsed * 1000,
                    )
                return response

    def _unreadable(self, request: Request, response: Response, exc: Exception) -> BadResponse:
        # Not JSON the decoder could take (nested past the stack, a number out of range): the
        # answer is unreadable, which for a write means its outcome is unknown.
        return BadResponse(
            f"unreadable answer to {request.endpoint}: {type(exc).__name__}: {_brief(exc)}",
            exchange=self.adapter.name,
            http_status=response.status,
            endpoint=request.endpoint,
        )

    def _blocked(self, request: Request, blocked: RouteBlocked) -> RateLimitExceeded:
        return RateLimitExceeded(
            f"{request.endpoint} was not sent: the exchange asked to pause {blocked.key} for "
            f"another {blocked.seconds:.0f} s",
            exchange=self.adapter.name,
            endpoint=request.endpoint,
            retry_after=blocked.seconds,
            retryable=False,
            hint="The exchange said the quota is spent (Retry-After or a rate-limit status); "
            "calling again before retry_after seconds only extends the wait or a ban.",
        )

    def _failed(self, request: Request, err: ExchangeError) -> None:
        self._scrub(err)
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug(
                "%s -> %s code=%s %s",
                request.endpoint,
                err.http_status if err.http_status is not None else "no response",
                err.code,
                type(err).__name__,
            )

    def resync(self) -> Effects[None]:
        """Take one clock sample from the exchange's time endpoint."""
        request = self.adapter.time_request()
        run: RetryRun | None = None
        rate_limited = 0
        while True:
            wait = self.limiter.reserve(request.rate_keys, request.weight)
            if wait > 0:
                yield Sleep(wait)
            sent = self.clock.now_ms()
            try:
                response: Response = yield Send(self.adapter.prepare(request))
                received = self.clock.now_ms()
                self.adapter.decode(response)
            except RateLimitExceeded as limited:
                # The caller's own request would wait this out: its clock sample must too.
                failure: ExchangeError = limited
                rate_limited += 1
                backoff = self.retry.rate_limit_wait(limited, rate_limited)
            except ExchangeError as err:
                failure = err
                run = run or self.retry.start()
                backoff = run.next_wait(err)
            else:
                break
            self._failed(request, failure)
            if backoff is None:
                raise failure
            self._log_retry(request, failure, backoff)
            yield Sleep(backoff)
        server = self.adapter.parse_time(response)
        self.clock.add_sample(ClockSample(sent, received, server))
        self.log.debug(
            "clock resynced: offset %d ms, rtt %d ms", self.clock.offset_ms, received - sent
        )

    def _scrub(self, err: ExchangeError) -> None:
        # Exchanges echo what they signed (Bybit's 10004 "origin_string[...]"): keys are
        # masked and anything secret removed before the error reaches logs or users.
        for credentials in (self.credentials, self.trade_credentials):
            if credentials is None:
                continue
            for secret in (credentials.secret, credentials.passphrase):
                # Very short secrets would also match ordinary words: test and demo keys only.
                text = secret.reveal() if secret is not None else ""
                if len(text) >= 6 and text in err.message:
                    err.message = err.message.replace(text, "<redacted>")
            if credentials.api_key in err.message:
                err.message = err.message.replace(credentials.api_key, credentials.masked_key)
        err.args = (err.message,)

    def _signs(self, request: Request) -> bool:
        """True when there is a key to sign ``request`` with."""
        if request.role == "trade" and self.trade_credentials is not None:
            return True
        return self.credentials is not None

    def _no_credentials(self, request: Request, operation: str | None) -> AuthenticationError:
        prefix = self.adapter.env_prefix()
        what = operation or request.endpoint
        names = [f"{prefix}_{name}" for name in self.adapter.credential_variables]
        hint = f"Pass credentials= to connect(), or set {', '.join(names)}."
        if self.credentials_problem:
            hint = self.credentials_problem
        return AuthenticationError(
            f"{what} needs API credentials and none were given",
            exchange=self.adapter.name,
            endpoint=request.endpoint,
            hint=hint,
        )

    def _trade_key_verdict(self) -> Effects[None]:
        # Checked once per client, before the first write, with the key that will sign writes;
        # concurrent first writes wait for that one check instead of each making their own.
        while self._trade_key == "checking":
            if time.monotonic() - self._trade_key_since > _TRADE_KEY_CHECK_STALE:
                break  # its caller is stuck or gone: check again rather than wait forever
            yield Sleep(0.005)
        if self._trade_key in (None, "checking"):
            self._trade_key = "checking"
            self._trade_key_since = time.monotonic()
            verdict: str | None = None
            try:
                verdict = yield from self._check_trade_key()
            finally:
                # Also when the check failed or was abandoned (a cancelled task, a timeout, a
                # Ctrl-C): the next write checks again instead of waiting for this one.
                self._trade_key = verdict
        if self._trade_key == "unsafe":
            credentials = self.trade_credentials or self.credentials
            masked = credentials.masked_key if credentials is not None else "?"
            raise UnsafeApiKey(
                f"the trading key {masked} can withdraw funds; refusing to trade with it",
                exchange=self.adapter.name,
            )

    def _check_trade_key(self) -> Effects[str]:
        try:
            info = yield from self.execute(self.adapter.fetch_key_info(role="trade"))
        except NotSupported as err:
            # Some sandboxes have no key endpoint (Binance spot testnet): nothing to check there.
            self.log.warning("cannot check the trading key's permissions: %s", err.message)
            return "safe"
        return "unsafe" if info.can_withdraw else "safe"

    def _log_retry(self, request: Request, err: ExchangeError, wait: float) -> None:
        self.log.debug(
            "%s failed with %s (code %s); retrying in %.3f s",
            request.endpoint,
            type(err).__name__,
            err.code,
            wait,
        )


def _operation(flow: Flow[Any]) -> str:
    """The interface method a flow serves (adapters name their flows after the methods)."""
    name = getattr(flow, "__name__", None)
    return name.lstrip("_") if isinstance(name, str) and name else "the call"


def _brief(exc: BaseException) -> str:
    # A RecursionError's text is fine; a ValueError from a huge number may quote all its digits.
    text = str(exc)
    return text if len(text) <= 200 else f"{text[:200]}…"


def _note_attempts(err: ExchangeError, attempts: int, seconds: float) -> None:
    """Say in the error how many attempts were made and how long they took in all."""
    err.message = f"{err.message} ({attempts} attempts in {seconds:.1f} s)"
    err.args = (err.message,)
