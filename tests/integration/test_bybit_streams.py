"""Bybit v5 WebSocket streams against the emulator over real loopback WebSockets.

Our ``watch_*`` streams and pybit's ``WebSocket`` client both talk to the emulator's
WebSocket front-end. Faults (dropped connections, skipped book deltas, silence) come from the
emulator, so reconnects and resyncs are observed end to end. No timing is asserted: every wait
is bounded (and generous) and ends as soon as the expected value arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pybit.unified_trading as pybit_ws
import pytest

import exchanges
from adapters.bybit.emulator_ws import sockets_of
from exchanges.emulator import Emulator
from exchanges.errors import (
    AuthenticationError,
    BadRequest,
    InvalidApiKey,
    InvalidSignature,
    NotSupported,
)
from exchanges.stream import Stream, StreamInterrupted, StreamOverflow, close_streams, streams_of
from exchanges.stream.feeds import BookFeed
from tests.leaks import RECORDER

pytestmark = pytest.mark.timeout(60)

T = TypeVar("T")
WAIT = 15.0  # generous: a loaded 2-core machine must never make these flake
PERP = "BTC/USDT:USDT"
FAST = {
    "ws_ping_interval": 0.2,
    "ws_silence_timeout": 1.5,
    "ws_reconnect_delay": 0.05,
    "ws_reconnect_max_delay": 0.4,
}


@pytest.fixture
async def ex(
    emulator: Emulator, credentials: exchanges.Credentials
) -> AsyncIterator[exchanges.AsyncExchange]:
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=credentials, **FAST
    ) as client:
        try:
            yield client
        finally:
            await close_streams(client)


async def nxt(stream: Stream[T], timeout: float = WAIT) -> T:
    return await asyncio.wait_for(stream.__anext__(), timeout)


async def until(stream: Stream[T], check: Callable[[T], bool], timeout: float = WAIT) -> T:
    async def scan() -> T:
        async for value in stream:
            if check(value):
                return value
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(scan(), timeout)


async def eventually(check: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


def book_feed(client: exchanges.AsyncExchange) -> BookFeed:
    (feed,) = [f for f in streams_of(client).feeds.values() if isinstance(f, BookFeed)]
    return feed


# -- public streams ----------------------------------------------------------------------------


async def test_public_streams_share_one_connection(
    ex: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    async with (
        ex.watch_ticker(PERP) as ticks,
        ex.watch_order_book(PERP, limit=5) as books,
        ex.watch_trades(PERP) as trades,
        ex.watch_ohlcv(PERP, "1m") as candles,
    ):
        ticker = await nxt(ticks)
        assert ticker.symbol == PERP and ticker.bid < ticker.ask and ticker.mark_price
        book = await nxt(books)
        assert len(book.bids) == len(book.asks) == 5 and book.bids[0][0] < book.asks[0][0]
        assert list(book.bids) == sorted(book.bids, reverse=True)
        assert list(book.asks) == sorted(book.asks)
        rest = await ex.fetch_order_book(PERP, 5)
        assert (book.bids, book.asks) == (rest.bids, rest.asks)
        first = await nxt(candles)
        assert first.high >= first.low and first.volume >= 0

        order = await ex.create_order(PERP, "market", "buy", Decimal("0.05"))
        trade = await nxt(trades)
        assert (trade.symbol, trade.side, trade.price) == (PERP, "buy", book.asks[0][0])
        assert trade.amount <= Decimal("0.05")
        candle = await until(candles, lambda c: c.volume > first.volume)
        assert candle.close == trade.price or candle.timestamp > first.timestamp
        moved = await until(books, lambda b: b.asks != book.asks)
        assert moved.bids[0][0] < moved.asks[0][0]
        assert order.client_order_id
        # One connection carries all four topics.
        manager = streams_of(ex)
        assert [c.group for c in manager.connections] == ["public/linear"]
        assert len(manager.connections[0].feeds) == 4
        assert sockets_of(emulator.state).connections("/v5/public/linear") == 1
    # Leaving the block unsubscribed and closed everything.
    assert streams_of(ex).connections == [] and streams_of(ex).feeds == {}
    await eventually(lambda: sockets_of(emulator.state).connections() == 0)


async def test_spot_ticker_and_a_second_consumer_of_a_topic(ex: exchanges.AsyncExchange) -> None:
    async with ex.watch_ticker("BTC/USDT") as one, ex.watch_ticker("BTC/USDT") as two:
        a, b = await nxt(one), await nxt(two)
        # The spot ticker stream has no best bid/ask (as on Bybit); the rest is there.
        assert a == b and a.last and a.bid is None and a.high >= a.low
        assert len(streams_of(ex).feeds) == 1  # one subscription serves both
    with pytest.raises(BadRequest, match="1000"):
        async with ex.watch_order_book(PERP, limit=5000):
            pass


# -- private streams ---------------------------------------------------------------------------


async def test_private_streams_follow_rest_orders(ex: exchanges.AsyncExchange) -> None:
    async with (
        ex.watch_orders() as orders,
        ex.watch_my_trades(PERP) as fills,
        ex.watch_positions() as positions,
        ex.watch_balance() as balances,
    ):
        start = await nxt(balances)
        assert start["USDT"].total == Decimal(100_000)
        assert await nxt(positions) == []

        book = await ex.fetch_order_book(PERP, 1)
        below = book.bids[0][0] - Decimal("100")
        resting = await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), below)
        seen = await nxt(orders)
        assert (seen.id, seen.status, seen.price, seen.symbol) == (
            resting.id,
            "open",
            below,
            PERP,
        )
        locked = await until(balances, lambda b: b["USDT"].used > 0)
        assert locked["USDT"].free < start["USDT"].free
        await ex.cancel_order(resting.id, PERP)
        cancelled = await nxt(orders)
        assert (cancelled.id, cancelled.status) == (resting.id, "canceled")

        market = await ex.create_order(PERP, "market", "buy", Decimal("0.02"))
        filled = await nxt(orders)
        assert (filled.id, filled.status, filled.filled) == (market.id, "closed", Decimal("0.02"))
        fill = await nxt(fills)
        assert (fill.order_id, fill.side, fill.amount, fill.is_maker) == (
            market.id,
            "buy",
            Decimal("0.02"),
            False,
        )
        assert fill.fee and fill.fee_currency == "USDT"
        opened = await until(positions, lambda ps: bool(ps))
        assert [(p.symbol, p.side, p.size) for p in opened] == [(PERP, "long", Decimal("0.02"))]
        rest = await ex.fetch_my_trades(PERP)
        assert rest[0].id == fill.id and rest[0].price == fill.price

        await ex.create_order(PERP, "market", "sell", Decimal("0.02"), reduce_only=True)
        assert (await nxt(orders)).side == "sell"
        assert await until(positions, lambda ps: not ps) == []
    assert streams_of(ex).connections == []


async def test_private_streams_need_credentials(emulator: Emulator) -> None:
    async with exchanges.connect_async("bybit", base_url=emulator.base_url) as anonymous:
        with pytest.raises(AuthenticationError) as caught:
            await nxt(anonymous.watch_orders())
        assert "credentials" in caught.value.message and "BYBIT_API_KEY" in caught.value.hint
        await close_streams(anonymous)


@pytest.mark.parametrize(
    ("key", "secret", "cls"),
    [
        ("test-key", "not-the-secret-1234", InvalidSignature),
        ("no-such-key", "x" * 12, InvalidApiKey),
    ],
)
async def test_auth_failure_is_an_authentication_error_with_a_hint(
    emulator: Emulator, key: str, secret: str, cls: type[AuthenticationError]
) -> None:
    creds = exchanges.Credentials(key, secret)
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=creds, **FAST
    ) as client:
        stream = client.watch_balance()
        with pytest.raises(AuthenticationError) as caught:
            await nxt(stream)
        err = caught.value
        RECORDER.exception("watch_balance", err)
        assert type(err) is cls and err.hint and err.endpoint == "WS /v5/private"
        assert secret not in str(err) and secret not in repr(err)
        assert sockets_of(emulator.state).stats["auth_failures"] >= 1
        with pytest.raises(StopAsyncIteration):
            await nxt(stream)  # the stream is finished, not retrying a refused key
        await close_streams(client)
        assert streams_of(client).connections == []


async def test_auth_expiry_comes_from_the_server_clock(
    emulator: Emulator, credentials: exchanges.Credentials
) -> None:
    # The emulator's clock runs a minute ahead: a local-clock ``expires`` would be refused.
    emulator.set_clock_offset(60_000)
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=credentials, **FAST
    ) as synced:
        async with synced.watch_balance() as balances:
            assert (await nxt(balances))["USDT"].total > 0
        assert synced.session.clock.offset_ms > 50_000
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=credentials, sync_clock=False, **FAST
    ) as unsynced:
        with pytest.raises(AuthenticationError, match="Params Error") as caught:
            await nxt(unsynced.watch_orders())
        RECORDER.exception("watch_orders", caught.value)
        assert "clock" in caught.value.hint
        await close_streams(unsynced)


# -- integrity and connection care -----------------------------------------------------------


async def test_book_resyncs_after_an_injected_gap(
    ex: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    async with ex.watch_order_book(PERP, limit=50) as books:
        first = await nxt(books)
        sockets = sockets_of(emulator.state)
        sockets.inject_gap("/v5/public/linear", count=1)
        best = first.bids[0][0]
        prices = [best - Decimal("0.1") * (i + 1) for i in range(3)]
        for price in prices:  # each resting order changes the book: one delta each
            await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), price)
        feed = book_feed(ex)
        await eventually(lambda: feed.resyncs >= 1)
        assert sockets.stats["gaps_injected"] == 1

        def has_all(book: Any) -> bool:
            return {p for p, _ in book.bids} >= set(prices)

        book = await until(books, has_all)
        rest = await ex.fetch_order_book(PERP, 50)
        # The resynced book agrees with the exchange's, level for level.
        assert (book.bids, book.asks) == (rest.bids, rest.asks)
        assert feed.state.snapshots >= 2 and feed.state.gaps == 1


async def test_reconnect_after_a_drop_restores_every_subscription(
    ex: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    async with (
        ex.watch_order_book(PERP, limit=5) as books,
        ex.watch_ticker(PERP) as ticks,
        ex.watch_orders() as orders,
    ):
        await nxt(books)
        await nxt(ticks)
        manager = streams_of(ex)
        private, public = sorted(manager.connections, key=lambda c: c.group)
        assert (private.group, public.group) == ("private", "public/linear")
        # A FaultInjector rule drops the public connection; the admin control the private one.
        emulator.set_faults("drop_before@/v5/public/linear*1")
        sockets_of(emulator.state).drop("/v5/private")
        await eventually(lambda: public.reconnects >= 1 and private.reconnects >= 1)
        await eventually(lambda: public.connected and private.connected)
        # Subscriptions were restored: a new order shows on the book and on the order stream.
        top = (await ex.fetch_order_book(PERP, 1)).bids[0][0]
        placed = await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), top + Decimal("0.1"))
        book = await until(books, lambda b: b.bids[0][0] == top + Decimal("0.1"))
        assert book.bids[0][0] < book.asks[0][0]
        with pytest.raises(StreamInterrupted):  # the order stream says it was down, once
            await nxt(orders)
        seen = await until(orders, lambda o: o.id == placed.id)
        assert seen.status == "open"
        assert (await nxt(ticks)).bid == top + Decimal("0.1")
        assert book_feed(ex).state.snapshots >= 2  # resynced after the reconnect


async def test_a_silent_stream_is_detected_and_reconnected(
    ex: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    async with ex.watch_order_book(PERP, limit=5) as books:
        await nxt(books)
        connection = streams_of(ex).connections[0]
        sockets_of(emulator.state).silence("/v5/public/linear", seconds=30)
        await eventually(lambda: connection.silences >= 1 and connection.connected)
        top = (await ex.fetch_order_book(PERP, 1)).bids[0][0]
        await ex.create_order(PERP, "limit", "buy", Decimal("0.01"), top + Decimal("0.1"))
        book = await until(books, lambda b: b.bids[0][0] == top + Decimal("0.1"))
        assert book.bids[0][0] < book.asks[0][0]


# -- backpressure ----------------------------------------------------------------------------


async def test_a_stalled_consumer_keeps_memory_bounded(emulator: Emulator) -> None:
    creds = exchanges.Credentials("test-key", "test-secret")
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=creds, ws_max_buffer=5, **FAST
    ) as client:
        async with (
            client.watch_order_book(PERP, limit=50) as books,
            client.watch_orders() as orders,
        ):
            start = await nxt(books)
            best = start.bids[0][0]
            prices = [best - Decimal("0.1") * (i + 1) for i in range(8)]
            for price in prices:  # nobody reads while the book changes and 8 events arrive
                await client.create_order(PERP, "limit", "buy", Decimal("0.01"), price)
            feed = book_feed(client)
            await eventually(lambda: orders.error is not None)
            await eventually(lambda: {p for p, _ in feed.state.view().bids} >= set(prices))
            # Conflation: however many book updates came, one value waits: the newest.
            assert books.pending == 1 and feed.messages > 2
            latest = await nxt(books)
            assert {p for p, _ in latest.bids} >= set(prices)
            # The event buffer stopped at its bound and says so instead of dropping.
            assert orders.pending == 0
            with pytest.raises(StreamOverflow) as caught:
                await nxt(orders)
            assert caught.value.bound == 5 and "ws_max_buffer" in caught.value.hint
        await close_streams(client)


# -- other exchanges and pybit ---------------------------------------------------------------


async def test_exchanges_without_streams_say_so() -> None:
    async with exchanges.connect_async("ccxt:binance") as client:
        with pytest.raises(NotSupported, match="no WebSocket streams"):
            client.watch_ticker("BTC/USDT")


@contextlib.contextmanager
def pybit_endpoints(emulator: Emulator) -> Iterator[None]:
    # pybit builds its URLs from these module templates (pybit/unified_trading.py): point them
    # at the emulator.
    host = emulator.base_url.replace("http://", "ws://")
    saved = pybit_ws.PUBLIC_WSS, pybit_ws.PRIVATE_WSS
    pybit_ws.PUBLIC_WSS = host + "/v5/public/{CHANNEL_TYPE}"
    pybit_ws.PRIVATE_WSS = host + "/v5/private"
    try:
        yield
    finally:
        pybit_ws.PUBLIC_WSS, pybit_ws.PRIVATE_WSS = saved


def test_pybit_receives_public_and_private_topics(
    emulator: Emulator, client: exchanges.Exchange
) -> None:
    received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()

    def collect(name: str) -> Callable[[dict[str, Any]], None]:
        return lambda message: received.put((name, message))

    # pybit sends a subscribe request, then records its req_id: an answer faster than that
    # finds no req_id and kills pybit's thread. Real networks are never that fast.
    sockets_of(emulator.state).latency = 0.05
    with pybit_endpoints(emulator):
        public = pybit_ws.WebSocket(channel_type="linear", testnet=False)
        private = pybit_ws.WebSocket(
            channel_type="private", testnet=False, api_key="test-key", api_secret="test-secret"
        )
    try:
        public.orderbook_stream(50, "BTCUSDT", collect("book"))
        public.ticker_stream("BTCUSDT", collect("ticker"))
        public.trade_stream("BTCUSDT", collect("trade"))
        for name in ("order", "execution", "position", "wallet"):
            getattr(private, f"{name}_stream")(collect(name))

        def wait_for(names: set[str]) -> dict[str, dict[str, Any]]:
            seen: dict[str, dict[str, Any]] = {}
            deadline = time.monotonic() + WAIT
            while not names <= set(seen) and time.monotonic() < deadline:
                with contextlib.suppress(queue.Empty):
                    name, message = received.get(timeout=0.1)
                    seen.setdefault(name, message)
            assert names <= set(seen), f"pybit saw only {sorted(seen)}"
            return seen

        first = wait_for({"book", "ticker"})
        rest = client.fetch_order_book(PERP, 50)
        book = first["book"]["data"]
        assert Decimal(book["b"][0][0]) == rest.bids[0][0] and len(book["a"]) == 50
        assert private.auth is True
        order = client.create_order(PERP, "market", "buy", Decimal("0.01"))
        seen = wait_for({"trade", "order", "execution", "position", "wallet"})
        assert seen["order"]["data"][0]["orderId"] == order.id
        assert seen["execution"]["data"][0]["orderId"] == order.id
        assert seen["position"]["data"][0]["side"] == "Buy"
        assert seen["wallet"]["data"][0]["accountType"] == "UNIFIED"
        assert seen["trade"]["data"][0]["S"] == "Buy"
    finally:
        for ws in (public, private):
            # pybit's exit() spins until its socket is gone: bounded, so a failure cannot hang.
            closer = threading.Thread(target=ws.exit, daemon=True)
            closer.start()
            closer.join(WAIT)
