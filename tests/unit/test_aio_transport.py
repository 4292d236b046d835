"""The aiohttp transport's own deadline and its fast path through ``run_async``.

Calls are bounded by ``_Deadlines`` (one loop timer per 50 ms slot, not one per call) instead of
aiohttp's per-request total timeout: a call past its deadline is ``RequestTimeout``; a
cancellation or timeout that comes from outside is passed on untouched, and the task is left
with no cancellation of ours pending. ``run_async`` drives ``attempt`` (errors as values) when a
transport offers it, and ``send`` otherwise, with the same results.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from exchanges.errors import ExchangeError, NetworkError, RequestTimeout
from exchanges.flow import Send, run_async
from exchanges.transport.aio import AioTransport
from exchanges.wire import Prepared, Request, Response
from tests.unit.test_transport_hardening import (
    ANSWER,
    SECRETS,
    Hostile,
    refused_port,
    signed,
)


@pytest.fixture(scope="module")
def server() -> Iterator[Hostile]:
    hostile = Hostile()
    yield hostile
    hostile.close()


def plain(port: int, path: str) -> Prepared:
    request = Request("GET", f"http://127.0.0.1:{port}", path)
    return Prepared("GET", f"http://127.0.0.1:{port}{path}", {}, None, request)


def test_past_its_deadline_a_call_is_a_request_timeout_and_leaves_no_cancel(
    server: Hostile,
) -> None:
    async def run() -> tuple[Response | ExchangeError, int, float]:
        transport = AioTransport(timeout=0.3)
        task = asyncio.current_task()
        assert task is not None
        started = asyncio.get_running_loop().time()
        try:
            outcome = await transport.attempt(plain(server.port, "/silent"))
        finally:
            await transport.close()
        return outcome, task.cancelling(), asyncio.get_running_loop().time() - started

    outcome, cancelling, elapsed = asyncio.run(run())
    assert isinstance(outcome, RequestTimeout)
    assert outcome.request_sent is True
    assert cancelling == 0
    assert 0.3 <= elapsed < 0.3 + 0.5


def test_a_shorter_outer_timeout_is_the_callers_not_a_request_timeout(server: Hostile) -> None:
    async def run() -> None:
        transport = AioTransport(timeout=5.0)
        try:
            async with asyncio.timeout(0.2):
                await transport.send(plain(server.port, "/silent"))
        finally:
            await transport.close()

    with pytest.raises(TimeoutError):
        asyncio.run(run())


def test_a_longer_outer_timeout_sees_the_request_timeout_and_stays_armed(
    server: Hostile,
) -> None:
    async def run() -> tuple[type[BaseException], int]:
        transport = AioTransport(timeout=0.2)
        task = asyncio.current_task()
        assert task is not None
        try:
            async with asyncio.timeout(10):
                with pytest.raises(RequestTimeout) as caught:
                    await transport.send(plain(server.port, "/silent"))
                # Still usable afterwards: the next call is answered.
                response = await transport.send(plain(server.port, "/ok"))
                assert response.body == ANSWER
        finally:
            await transport.close()
        return caught.type, task.cancelling()

    kind, cancelling = asyncio.run(run())
    assert kind is RequestTimeout
    assert cancelling == 0


def test_cancelling_the_task_cancels_the_call(server: Hostile) -> None:
    async def run() -> None:
        transport = AioTransport(timeout=5.0)
        call = asyncio.ensure_future(transport.send(plain(server.port, "/silent")))
        await asyncio.sleep(0.1)
        call.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await call
        finally:
            await transport.close()

    asyncio.run(run())


def test_calls_in_flight_share_slot_timers_and_pooled_connections(server: Hostile) -> None:
    async def run() -> tuple[int, int, int]:
        transport = AioTransport(timeout=5.0)
        try:
            await transport.send(plain(server.port, "/ok"))
            before = len(server.threads)
            for _ in range(5):  # one after the other: one kept-alive connection
                response = await transport.send(plain(server.port, "/ok"))
                assert response.body == ANSWER
            sequential = len(server.threads) - before
            answers = await asyncio.gather(
                *(transport.send(plain(server.port, "/ok")) for _ in range(50))
            )
            assert all(a.body == ANSWER for a in answers)
            deadlines = transport._deadlines
            assert deadlines is not None
            slots = len(deadlines._slots)
        finally:
            await transport.close()
        return sequential, slots, len(deadlines._slots)

    sequential, slots, after_close = asyncio.run(run())
    assert sequential == 0
    assert 1 <= slots <= 6  # 50 calls, 6 requests, a few slots (each 50 ms), not 56 timers
    assert after_close == 0


# -- run_async: attempt() and send() drive the pipeline alike -------------------------------


class _SendOnly:
    """A transport with only ``send``: ``run_async`` must use it as before."""

    def __init__(self, inner: AioTransport) -> None:
        self.inner = inner

    async def send(self, prepared: Prepared) -> Response:
        return await self.inner.send(prepared)

    async def close(self) -> None:
        await self.inner.close()


def _twice(first: Prepared, second: Prepared) -> Generator[Any, Any, tuple[bytes, str]]:
    response = yield Send(first)
    try:
        yield Send(second)
    except NetworkError as err:
        return response.body, type(err).__name__
    raise AssertionError("the second request cannot succeed")


@pytest.mark.parametrize("driver", ["attempt", "send"])
def test_run_async_drives_both_kinds_of_transport_alike(server: Hostile, driver: str) -> None:
    async def run() -> tuple[bytes, str]:
        aio = AioTransport(timeout=2.0)
        transport: Any = aio if driver == "attempt" else _SendOnly(aio)
        try:
            effects = _twice(plain(server.port, "/ok"), plain(refused_port(), "/ok"))
            return await run_async(effects, transport)
        finally:
            await transport.close()

    assert asyncio.run(run()) == (ANSWER, "NetworkError")


def test_an_error_thrown_by_run_async_shows_no_secret_with_locals() -> None:
    def once(prepared: Prepared) -> Generator[Any, Any, Response]:
        response: Response = yield Send(prepared)
        return response

    async def run() -> ExchangeError:
        transport = AioTransport(timeout=2.0)
        try:
            await run_async(once(signed(refused_port(), "/ok")), transport)
        except ExchangeError as err:
            return err
        finally:
            await transport.close()
        raise AssertionError("a refused connection cannot succeed")

    err = asyncio.run(run())
    assert isinstance(err, NetworkError)
    assert err.__cause__ is None and err.__context__ is None
    shown = "".join(
        traceback.TracebackException(
            type(err), err, err.__traceback__, capture_locals=True
        ).format()
    )
    assert [secret for secret in SECRETS if secret in shown] == [], shown
