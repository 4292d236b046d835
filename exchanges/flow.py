"""Operations as generators, the request pipeline, and the two drivers (sync and async).

An adapter writes each operation once, as a *flow*: a generator that yields ``Request``s,
receives ``Response``s (already checked and decoded) and returns a model. Failures are thrown
into the flow as normalised errors, so multi-step logic (reconcile an order whose outcome is
unknown, follow a cursor) is ordinary ``try``/``except`` around a ``yield``.

The pipeline (``Session.execute``) takes each request through rate limiter → clock → signer →
transport → error check, with retries, clock resync and rate-limit waits. It never sleeps or
touches a socket itself: it yields ``Send`` and ``Sleep`` effects, which ``run_sync`` performs
with ``time.sleep`` and a sync transport and ``run_async`` with ``asyncio.sleep`` and an async
transport. That is the only code that differs between the sync and the async client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

from exchanges.clock import ClockSample, ServerClock
from exchanges.errors import (
    AuthenticationError,
    BadResponse,
    ClockSkew,
    ExchangeError,
    NotSupported,
    RateLimitExceeded,
    UnsafeApiKey,
)
from exchanges.ratelimit import RateLimiter
from exchanges.retry import RetryPolicy, RetryRun, outcome_unknown
from exchanges.wire import Prepared, Request, Response

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.transport.base import AsyncTransport, Transport

__all__ = ["Effects", "Flow", "Send", "Session", "Sleep", "run_async", "run_sync"]

T = TypeVar("T")

Flow = Generator[Request, Response, T]


class Send:
    """Effect: send this prepared request and resume with its ``Response``."""

    __slots__ = ("prepared",)

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared


class Sleep:
    """Effect: wait this many seconds, then resume with ``None``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


Effect = Send | Sleep

_SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, ValueError, ArithmeticError)
Effects = Generator[Effect, Any, T]


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

    # -- the pipeline ---------------------------------------------------------------------

    def execute(self, flow: Flow[T]) -> Effects[T]:
        """Run an operation's flow, taking each request it yields through the pipeline."""
        try:
            request = next(flow)
            while True:
                try:
                    response = yield from self.exchange(request)
                except ExchangeError as err:
                    request = flow.throw(err)
                    continue
                try:
                    request = flow.send(response)
                except _SHAPE_ERRORS as exc:
                    # Raised while the adapter read an answer: the answer had a shape its API
                    # does not document (a missing key, a list where an object belongs).
                    raise BadResponse(
                        f"unexpected response to {request.endpoint}: {type(exc).__name__}: {exc}",
                        exchange=self.adapter.name,
                        http_status=response.status,
                        endpoint=request.endpoint,
                    ) from exc
        except StopIteration as done:
            result: T = done.value
            return result

    def exchange(self, request: Request) -> Effects[Response]:
        """One logical request: retried on retryable failures (reads), resynced on clock skew."""
        if request.write and self._trade_key != "safe" and not self.allow_withdrawal_keys:
            yield from self._trade_key_verdict()
        adapter = self.adapter
        run: RetryRun | None = None
        resynced = False
        rate_limited = 0
        while True:
            wait = self.limiter.reserve(request.rate_keys, request.weight)
            if wait > 0:
                yield Sleep(wait)
            # Everything before the send can fail only locally: such errors are not retried
            # and never count as a write that may have reached the exchange.
            if request.signed:
                credentials = self._credentials_for(request)
                if self.sync_clock and self.clock.needs_sync():
                    yield from self.resync()
                prepared = adapter.sign(request, self.clock.timestamp_ms(), credentials)
            else:
                prepared = adapter.prepare(request)
            try:
                response: Response = yield Send(prepared)
                adapter.observe(response, self.limiter, self.clock)
                adapter.decode(response)
            except ClockSkew as err:
                self._failed(request, err)
                # The exchange refused the stamp before acting: safe to resend, writes included.
                if resynced or not request.signed:
                    raise
                resynced = True
                self.clock.invalidate()
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
                if request.write:
                    if isinstance(err, AuthenticationError) or not err.retryable:
                        raise
                    converted = outcome_unknown(err)
                    if converted is not err:
                        raise converted from err
                    # Not sent at all (no connection): resending is not a blind resend.
                if run is None:
                    run = self.retry.start()
                backoff = run.next_wait(err)
                if backoff is None:
                    raise
                self._log_retry(request, err, backoff)
                yield Sleep(backoff)
            else:
                if self.log.isEnabledFor(logging.DEBUG):
                    self.log.debug(
                        "%s -> %s code=%s in %.1f ms",
                        request.endpoint,
                        response.status,
                        response.code,
                        response.elapsed * 1000,
                    )
                return response

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
        wait = self.limiter.reserve(request.rate_keys, request.weight)
        if wait > 0:
            yield Sleep(wait)
        sent = self.clock.now_ms()
        response: Response = yield Send(self.adapter.prepare(request))
        received = self.clock.now_ms()
        self.adapter.decode(response)
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

    def _credentials_for(self, request: Request) -> Credentials:
        credentials = self.credentials
        if request.role == "trade" and self.trade_credentials is not None:
            credentials = self.trade_credentials
        if credentials is None:
            raise AuthenticationError(
                f"{request.endpoint} needs API credentials and none were given",
                exchange=self.adapter.name,
                endpoint=request.endpoint,
                hint=f"Pass credentials= to connect(), or set "
                f"{self.adapter.env_prefix()}_API_KEY and {self.adapter.env_prefix()}_API_SECRET.",
            )
        return credentials

    def _trade_key_verdict(self) -> Effects[None]:
        # Checked once per client, before the first write, with the key that will sign writes;
        # concurrent first writes wait for that one check instead of each making their own.
        while self._trade_key == "checking":
            yield Sleep(0.005)
        if self._trade_key is None:
            self._trade_key = "checking"
            try:
                self._trade_key = yield from self._check_trade_key()
            finally:
                if self._trade_key == "checking":
                    self._trade_key = None  # the check failed: the next write tries again
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


def run_sync(
    effects: Effects[T], transport: Transport, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Drive a pipeline with blocking I/O."""
    try:
        effect = next(effects)
        while True:
            if type(effect) is Send:
                try:
                    response = transport.send(effect.prepared)
                except ExchangeError as err:
                    effect = effects.throw(err)
                else:
                    effect = effects.send(response)
            else:
                assert type(effect) is Sleep
                sleep(effect.seconds)
                effect = effects.send(None)
    except StopIteration as done:
        result: T = done.value
        return result


async def run_async(effects: Effects[T], transport: AsyncTransport) -> T:
    """Drive a pipeline from asyncio."""
    import asyncio  # here: sync users should not pay asyncio's import time

    try:
        effect = next(effects)
        while True:
            if type(effect) is Send:
                try:
                    response = await transport.send(effect.prepared)
                except ExchangeError as err:
                    effect = effects.throw(err)
                else:
                    effect = effects.send(response)
            else:
                assert type(effect) is Sleep
                await asyncio.sleep(effect.seconds)
                effect = effects.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
