"""How Bybit streams start, fail, recover and end, against the emulator over loopback.

Streams that are cancelled or closed while they start leave nothing subscribed; a host that
refuses or never answers is an error rather than an endless wait; a connection that worked
recovers from failed reconnects (a dropped handshake, a failed clock resync) and event
consumers are told what they may have missed; one refused topic fails alone; a cancelled close
still closes. No timing is asserted: every wait is bounded and ends once its condition holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import attrs
import pytest

import exchanges
import tests.integration.test_bybit_streams as streams_suite
from adapters.bybit.emulator_ws import sockets_of
from adapters.bybit.stream import BybitDialect
from exchanges.emulator import Emulator
from exchanges.errors import (
    AccountRestricted,
    BadSymbol,
    ExchangeNotAvailable,
    NetworkError,
    StreamInterrupted,
)
from exchanges.models import Market
from exchanges.stream import FeedSpec, close_streams, streams_of
from exchanges.stream.connection import GIVE_UP_AFTER
from exchanges.stream.dialect import Control
from exchanges.stream.feeds import BookFeed

pytestmark = pytest.mark.timeout(60)

ex = streams_suite.ex
FAST = streams_suite.FAST
PERP = streams_suite.PERP
WAIT = streams_suite.WAIT
nxt = streams_suite.nxt
until = streams_suite.until
eventually = streams_suite.eventually


@contextlib.asynccontextmanager
async def client_of(emulator: Emulator, **options: Any) -> AsyncIterator[exchanges.AsyncExchange]:
    creds = exchanges.Credentials("test-key", "test-secret")
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=creds, **{**FAST, **options}
    ) as client:
        try:
            yield client
        finally:
            await close_streams(client)


def stream_url(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setattr(BybitDialect, "url", lambda self, group: url)


class SilentHost:
    """A loopback TCP server that accepts connections and never answers (a stuck proxy)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.open = 0
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        try:
            while await reader.read(4096):
                pass
        finally:
            self.open -= 1
            writer.close()


@contextlib.asynccontextmanager
async def silent_host() -> AsyncIterator[SilentHost]:
    host = SilentHost()
    server = await asyncio.start_server(host._serve, "127.0.0.1", 0)
    host.port = server.sockets[0].getsockname()[1]
    try:
        yield host
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more: connecting is refused


def warnings_about(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and words in r.getMessage()]


# -- 1. a stream cancelled or closed while it starts leaves nothing behind ---------------------


async def test_a_start_cancelled_while_waiting_leaves_nothing_subscribed(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with silent_host() as host, client_of(emulator, ws_connect_timeout=30) as client:
        stream_url(monkeypatch, f"ws://127.0.0.1:{host.port}/v5/public/linear")
        manager = streams_of(client)
        stream = client.watch_ticker(PERP)
        start = asyncio.create_task(stream.__anext__())
        await eventually(lambda: host.open == 1)  # the start now waits for the handshake
        assert len(manager.feeds) == 1
        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start
        assert manager.feeds == {}
        await manager.settle()
        assert manager.connections == [] and manager._http is None
        await eventually(lambda: host.open == 0)  # the half-open socket was closed
        await stream.aclose()


async def test_a_stream_closed_while_it_starts_ends_its_wait_and_its_subscription(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with silent_host() as host, client_of(emulator, ws_connect_timeout=30) as client:
        stream_url(monkeypatch, f"ws://127.0.0.1:{host.port}/v5/public/linear")
        manager = streams_of(client)
        stream = client.watch_ticker(PERP)
        start = asyncio.create_task(stream.__anext__())
        await eventually(lambda: host.open == 1)
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(start, WAIT)
        assert manager.feeds == {} and manager.connections == []
        assert "closed" in repr(stream)
        await eventually(lambda: host.open == 0)


# -- 2. a host that refuses or never answers is an error ----------------------------------------


async def test_an_unreachable_host_fails_the_stream_after_a_few_attempts(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_of(emulator) as client:
        stream_url(monkeypatch, f"ws://127.0.0.1:{closed_port()}/v5/public/linear")
        stream = client.watch_ticker(PERP)
        with pytest.raises(NetworkError) as caught:
            await nxt(stream)
        err = caught.value
        assert type(err) is NetworkError and f"{GIVE_UP_AFTER} attempts" in err.message
        assert "connectivity" in err.hint and err.exchange == "bybit"
        with pytest.raises(StopAsyncIteration):
            await nxt(stream)  # finished, not retrying behind the consumer's back
        manager = streams_of(client)
        assert manager.feeds == {} and manager.connections == []


async def test_a_subscription_never_confirmed_fails_within_the_connect_and_auth_timeouts(
    emulator: Emulator,
) -> None:
    options = {"ws_silence_timeout": 30, "ws_connect_timeout": 0.5, "ws_auth_timeout": 0.5}
    async with client_of(emulator, **options) as client, client.watch_ticker(PERP) as ticks:
        await nxt(ticks)
        sockets = sockets_of(emulator.state)
        sockets.silence("/v5/public/linear", seconds=30)  # acks included
        await eventually(lambda: all(c.silent for c in sockets._conns))
        books = client.watch_order_book(PERP, limit=5)
        with pytest.raises(NetworkError, match="not confirmed within 1 s") as caught:
            await nxt(books)
        assert "ws_connect_timeout" in caught.value.hint
        manager = streams_of(client)
        assert not [f for f in manager.feeds.values() if isinstance(f, BookFeed)]
        assert len(manager.feeds) == 1  # the ticker's subscription is untouched


async def test_a_handshake_refused_with_403_is_final_and_says_why(emulator: Emulator) -> None:
    emulator.set_faults("html_403@/v5/public/linear*1")
    async with client_of(emulator) as client:
        with pytest.raises(AccountRestricted) as caught:
            await nxt(client.watch_ticker(PERP))
        err = caught.value
        assert (err.http_status, err.endpoint) == (403, "WS /v5/public/linear")
        assert "geo-block" in err.hint and "host" in err.hint
        # One attempt: a refusal is not retried (the next attempt would have been let in).
        assert emulator.state.faults.injected["html_403"] == 1
        assert sockets_of(emulator.state).stats["connections"] == 0
        assert streams_of(client).connections == []


async def test_a_handshake_answered_with_404_is_final(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream_url(monkeypatch, emulator.base_url.replace("http://", "ws://") + "/not-a-stream")
    async with client_of(emulator) as client:
        with pytest.raises(ExchangeNotAvailable) as caught:
            await nxt(client.watch_ticker(PERP))
        err = caught.value
        assert err.http_status == 404 and err.retryable is False and "base_url" in err.hint
        assert streams_of(client).connections == []


async def test_a_connection_that_worked_keeps_reconnecting_and_says_so(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_of(emulator) as client, client.watch_ticker(PERP) as ticks:
        await nxt(ticks)
        (connection,) = streams_of(client).connections
        # The connection drops, then two handshakes are refused: once a connection worked,
        # even a 403 is a passing state worth retrying, not the end of the consumer's stream.
        emulator.set_faults("html_403@/v5/public/linear*2")
        sockets_of(emulator.state).drop("/v5/public/linear")
        feed = connection.feeds["tickers.BTCUSDT"]
        await eventually(lambda: emulator.state.faults.injected["html_403"] == 2)
        await eventually(lambda: connection.connected and feed.confirmed.is_set())
        assert len(warnings_about(caplog, "answered with HTTP 403; retrying")) == 2
        assert len(warnings_about(caplog, "retrying")) == 3  # and the drop itself
        top = (await client.fetch_order_book(PERP, 1)).bids[0][0]
        await client.create_order(PERP, "limit", "buy", Decimal("0.01"), top + Decimal("0.1"))
        tick = await until(ticks, lambda t: t.bid == top + Decimal("0.1"))
        assert tick.symbol == PERP and streams_of(client).connections == [connection]


# -- 3. a failed clock resync during a private reconnect is retried ------------------------------


async def test_a_failed_clock_resync_on_reconnect_is_retried(
    ex: exchanges.AsyncExchange, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with ex.watch_orders() as orders:
        manager = streams_of(ex)
        (private,) = manager.connections
        feed = private.feeds["order"]
        ex.session.clock.invalidate()  # as when the resync interval has passed
        emulator.set_faults("http_5xx@/v5/market/time*2")
        sockets_of(emulator.state).drop("/v5/private")
        await eventually(lambda: emulator.state.faults.injected["http_5xx"] == 2)
        await eventually(lambda: private.reconnects >= 1 and feed.confirmed.is_set())
        assert manager.connections == [private] and orders.error is None
        # The clock sample is retried like any read: the two 5xx answers never reach the
        # stream's auth step, which would otherwise warn and try again itself.
        assert warnings_about(caplog, "preparing the auth failed") == []
        book = await ex.fetch_order_book(PERP, 1)
        placed = await ex.create_order(
            PERP, "limit", "buy", Decimal("0.01"), book.bids[0][0] - Decimal("100")
        )
        with pytest.raises(StreamInterrupted):
            await nxt(orders)
        seen = await until(orders, lambda o: o.id == placed.id)
        assert seen.status == "open"


# -- 4. event consumers are told, in order, that they may have missed events ------------------


async def test_an_event_stream_raises_stream_interrupted_once_and_goes_on(
    ex: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    below = (await ex.fetch_order_book(PERP, 1)).bids[0][0] - Decimal("100")
    async with ex.watch_orders() as orders:
        first = await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), below)
        assert (await nxt(orders)).id == first.id
        (private,) = streams_of(ex).connections
        feed = private.feeds["order"]
        sockets_of(emulator.state).drop("/v5/private")
        await eventually(lambda: private.reconnects >= 1 and feed.confirmed.is_set())
        second = await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), below)
        seen: list[Any] = []
        interruptions: list[StreamInterrupted] = []
        # The documented consumer loop: reconcile on StreamInterrupted, then read on.
        while not seen:
            try:
                async for order in orders:
                    if order.id == second.id:
                        seen.append(order)
                        break
            except StreamInterrupted as interrupted:
                interruptions.append(interrupted)
                assert not seen  # raised before the events that follow the reconnect
        assert len(interruptions) == 1 and seen[0].status == "open"
        err = interruptions[0]
        assert err.exchange == "bybit" and "order" in err.message and "UTC" in err.message
        assert err.down_from is not None and err.down_until is not None
        assert err.down_from <= err.down_until
        assert "fetch_open_orders" in err.hint and "fetch_my_trades" in err.hint
        assert orders.error is None and "open" in repr(orders)


# -- 5. a state's snapshot is taken once its subscription is live -----------------------------


async def test_the_balance_snapshot_is_taken_once_the_subscription_is_live(
    ex: exchanges.AsyncExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_at_snapshot: list[bool] = []
    below = (await ex.fetch_order_book(PERP, 1)).bids[0][0] - Decimal("100")
    original = BybitDialect.balance

    def balance(self: BybitDialect) -> FeedSpec:
        spec = original(self)
        seeder = spec.seed
        assert seeder is not None

        async def seed(client: exchanges.AsyncExchange) -> Any:
            feed = streams_of(client).feeds[("private", "wallet")]
            live_at_snapshot.append(feed.confirmed.is_set())
            snapshot = await seeder(client)
            # A change right after the snapshot: it must come as a push.
            await client.create_order(PERP, "limit", "buy", Decimal("0.01"), below)
            return snapshot

        return attrs.evolve(spec, seed=seed)

    monkeypatch.setattr(BybitDialect, "balance", balance)
    async with ex.watch_balance() as balances:
        locked = await until(balances, lambda b: b["USDT"].used > 0)
        assert locked["USDT"].free < locked["USDT"].total
    assert live_at_snapshot == [True]


# -- 6. one refused topic fails alone ------------------------------------------------------------


@pytest.mark.parametrize("named", [True, False], ids=["refusal-names-topic", "refusal-names-none"])
async def test_a_refused_topic_fails_alone_in_its_subscribe_batch(
    ex: exchanges.AsyncExchange,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    named: bool,
) -> None:
    original_ticker, original_control = BybitDialect.ticker, BybitDialect.control

    def ticker(self: BybitDialect, market: Market) -> FeedSpec:
        spec = original_ticker(self, market)
        # ETH's ticker asks for a topic Bybit does not have.
        return attrs.evolve(spec, topic="tickers.NOPEUSDT") if market.base == "ETH" else spec

    def control(self: BybitDialect, message: Any) -> Control:
        reply = original_control(self, message)
        if not named and reply.op == "subscribe" and not reply.ok:
            return attrs.evolve(reply, text=reply.text.split(",topic:")[0])
        return reply

    monkeypatch.setattr(BybitDialect, "ticker", ticker)
    monkeypatch.setattr(BybitDialect, "control", control)
    await ex.load_markets()
    good, bad = ex.watch_ticker(PERP), ex.watch_ticker("ETH/USDT:USDT")
    # Both start before the connection is up: one subscribe request carries both topics.
    started = await asyncio.gather(good.__aenter__(), bad.__aenter__(), return_exceptions=True)
    try:
        assert any(
            "subscribing to tickers.BTCUSDT, tickers.NOPEUSDT" in r.getMessage()
            for r in caplog.records
        )
        assert started[0] is good
        refused = started[1]
        assert isinstance(refused, BadSymbol) and "tickers.NOPEUSDT" in refused.message
        assert "tickers.BTCUSDT" not in refused.message
        assert (await nxt(good)).symbol == PERP
        assert list(streams_of(ex).feeds) == [("public/linear", "tickers.BTCUSDT")]
    finally:
        await good.aclose()
        await bad.aclose()


# -- 11. a cancelled close still closes ---------------------------------------------------------


async def test_a_cancelled_close_still_closes_the_socket_and_the_session(
    emulator: Emulator,
) -> None:
    async with client_of(emulator) as client:
        ticks = client.watch_ticker(PERP)
        await nxt(ticks)
        manager = streams_of(client)
        sockets = sockets_of(emulator.state)
        assert sockets.connections() == 1
        closing = asyncio.create_task(ticks.aclose())
        await asyncio.sleep(0)  # aclose() runs up to its wait for the closing
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        await eventually(lambda: sockets.connections() == 0)
        await eventually(lambda: manager._http is None)
        assert manager.connections == [] and manager.feeds == {}
