"""OKX v5 WebSocket streams against the emulator over real loopback WebSockets.

Our ``watch_*`` streams talk to the emulator's /ws/v5/public, /business and /private endpoints
(https://www.okx.com/docs-v5/en/#overview-websocket). Faults (drops, skipped, repeated and
swapped book updates, silence, the 64008 notice, a refused handshake) come from the emulator,
so reconnects and resyncs are observed end to end. Every wait is bounded and ends as soon as
the expected value arrives.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import TypeVar

import aiohttp
import pytest

import exchanges
from adapters.okx.emulator_ws import OkxWebSockets, okx_sockets_of
from exchanges.emulator import Emulator
from exchanges.errors import (
    AccountRestricted,
    AuthenticationError,
    BadSymbol,
    InvalidSignature,
    StreamInterrupted,
)
from exchanges.models import OrderBook
from exchanges.stream import Stream, close_streams, streams_of
from exchanges.stream.feeds import BookFeed

pytestmark = pytest.mark.timeout(90)

T = TypeVar("T")
WAIT = 15.0
SPOT = "BTC/USDT"
PERP = "BTC/USDT:USDT"
FAST = {
    "ws_ping_interval": 0.2,
    "ws_silence_timeout": 1.5,
    "ws_reconnect_delay": 0.05,
    "ws_reconnect_max_delay": 0.4,
}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator("okx", seed=7) as emu:
        yield emu


@pytest.fixture
def sockets(emulator: Emulator) -> OkxWebSockets:
    return okx_sockets_of(emulator.state)


def creds(
    secret: str = "test-secret", passphrase: str = "test-passphrase"
) -> exchanges.Credentials:
    return exchanges.Credentials("test-key", secret, passphrase=passphrase)


@pytest.fixture
async def ex(emulator: Emulator) -> AsyncIterator[exchanges.AsyncExchange]:
    async with exchanges.connect_async(
        "okx", base_url=emulator.base_url, credentials=creds(), **FAST
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


async def same_as_rest(ex: exchanges.AsyncExchange, books: Stream[OrderBook], symbol: str) -> None:
    """The streamed book comes to equal the REST book (both read one seqId chain)."""
    feed = book_feed(ex)
    deadline = time.monotonic() + WAIT
    while True:
        rest = await ex.fetch_order_book(symbol, 5)
        if feed.state.valid:
            view = feed.state.view(5)
            if (view.bids, view.asks) == (rest.bids, rest.asks):
                assert view.sequence == rest.sequence
                return
        if time.monotonic() > deadline:
            raise AssertionError("the streamed book never matched the REST book")
        await asyncio.sleep(0.05)


# -- public streams ----------------------------------------------------------------------------


@pytest.mark.parametrize("push_snapshot", [True, False], ids=["snapshot", "rest-bootstrap"])
@pytest.mark.parametrize("symbol", [SPOT, PERP])
async def test_market_streams(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets, push_snapshot: bool, symbol: str
) -> None:
    sockets.push_snapshot = push_snapshot
    async with (
        ex.watch_ticker(symbol) as ticks,
        ex.watch_order_book(symbol, limit=5) as books,
        ex.watch_trades(symbol) as trades,
        ex.watch_ohlcv(symbol, "1m") as candles,
    ):
        ticker = await nxt(ticks)
        assert ticker.symbol == symbol and ticker.bid < ticker.ask
        first = await nxt(candles)
        assert first.high >= first.low and isinstance(first.volume, Decimal)
        book = await nxt(books)  # a quiet book: from REST at once when no snapshot is pushed
        assert len(book.bids) == len(book.asks) == 5 and book.bids[0][0] < book.asks[0][0]
        assert book.sequence is not None
        await same_as_rest(ex, books, symbol)
        amount = Decimal("0.05")
        await ex.create_order(symbol, "market", "buy", amount)
        trade = await nxt(trades)
        # Contracts (0.01 BTC each on the swap) come back in BTC, as over REST.
        assert (trade.symbol, trade.side) == (symbol, "buy") and trade.amount <= amount
        assert isinstance(trade.amount, Decimal)
        candle = await until(candles, lambda c: c.volume > first.volume)
        assert candle.volume > 0
        await same_as_rest(ex, books, symbol)
        assert (book_feed(ex).seeds == 0) is push_snapshot


async def test_rest_book_carries_the_stream_seq_id(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets
) -> None:
    sockets.push_snapshot = False
    async with ex.watch_order_book(SPOT, limit=5) as books:
        await ex.create_order(SPOT, "limit", "buy", Decimal("0.01"), Decimal("60000"))
        streamed = await nxt(books)
        assert book_feed(ex).seeds >= 1 and streamed.sequence is not None
        rest = await ex.fetch_order_book(SPOT, 5)
        assert rest.sequence is not None and rest.sequence >= streamed.sequence


@pytest.mark.parametrize("fault", ["gap", "duplicate", "reorder"])
async def test_broken_update_chains_never_show_a_wrong_book(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets, fault: str
) -> None:
    async with ex.watch_order_book(SPOT, limit=10) as books:
        await nxt(books)
        getattr(sockets, {"gap": "inject_gap"}.get(fault, fault))("/ws/v5/public", 1)
        for price in ("60000", "60001", "60002"):
            await ex.create_order(SPOT, "limit", "buy", Decimal("0.01"), Decimal(price))
            await asyncio.sleep(0.12)  # one update each (the publisher ticks every 50 ms)
        await same_as_rest(ex, books, SPOT)
        feed = book_feed(ex)
        if fault == "duplicate":
            assert sockets.stats["duplicates_sent"] == 1 and feed.resyncs == 0
        else:
            await eventually(lambda: feed.resyncs >= 1)
            assert feed.state.gaps >= 1


async def test_maintenance_reset_and_heartbeat_are_not_gaps(
    ex: exchanges.AsyncExchange, emulator: Emulator, sockets: OkxWebSockets
) -> None:
    async with ex.watch_order_book(SPOT, limit=5) as books:
        before = await nxt(books)
        assert before.sequence is not None
        sockets.reset_sequence("BTC-USDT")
        sequence = emulator.server.front.book_sequence(
            emulator.server.front.instruments["BTC-USDT"]
        )  # type: ignore[attr-defined]
        sequence.heartbeat_ms = 100
        await ex.create_order(SPOT, "limit", "buy", Decimal("0.01"), Decimal("60000"))
        after = await until(books, lambda b: b.sequence != before.sequence)
        assert after.sequence is not None and after.sequence < before.sequence
        await asyncio.sleep(0.5)  # heartbeats (seqId == prevSeqId) arrive meanwhile
        assert book_feed(ex).resyncs == 0


async def test_unknown_symbol_is_refused(ex: exchanges.AsyncExchange, emulator: Emulator) -> None:
    await ex.load_markets()
    market = await ex.market(SPOT)
    dialect = streams_of(ex).dialect
    spec = dialect.ticker(market)
    bad = type(spec)(spec.group, "tickers:NOPE-USDT", spec.mode, spec.decoder)
    sink = streams_of(ex).join(bad, None, None)
    with pytest.raises(BadSymbol, match="60018"):
        await streams_of(ex).confirm(sink)


# -- private streams ---------------------------------------------------------------------------


async def test_private_streams(ex: exchanges.AsyncExchange) -> None:
    async with (
        ex.watch_orders() as orders,
        ex.watch_my_trades() as fills,
        ex.watch_balance() as balances,
        ex.watch_positions() as positions,
    ):
        start = await nxt(balances)
        assert start["USDT"].total == Decimal("100000")
        assert await nxt(positions) == []
        placed = await ex.create_order(PERP, "market", "buy", Decimal("0.05"))
        order = await until(orders, lambda o: o.id == placed.id and o.status == "closed")
        assert order.filled == Decimal("0.05") and order.symbol == PERP
        fill = await nxt(fills)
        assert (fill.order_id, fill.symbol, fill.side) == (placed.id, PERP, "buy")
        assert isinstance(fill.amount, Decimal) and fill.amount <= Decimal("0.05")
        opened = await until(positions, lambda ps: bool(ps))
        assert opened[0].size == Decimal("0.05") and opened[0].side == "long"
        moved = await until(balances, lambda b: b["USDT"].used != start["USDT"].used)
        assert moved["USDT"].total <= start["USDT"].total
        await ex.create_order(PERP, "market", "sell", Decimal("0.05"), reduce_only=True)
        assert await until(positions, lambda ps: not ps) == []
        # Orders and fills ride two logins on /private; the algo orders a third, on /business.
        groups = sorted(c.group for c in streams_of(ex).connections)
        assert groups == ["private", "private/business", "private/fills"]


async def test_login_refused_with_a_wrong_secret(emulator: Emulator) -> None:
    async with exchanges.connect_async(
        "okx", base_url=emulator.base_url, credentials=creds(secret="wrong"), **FAST
    ) as client:
        try:
            with pytest.raises(InvalidSignature, match="60007"):
                await nxt(client.watch_orders())
        finally:
            await close_streams(client)
    assert okx_sockets_of(emulator.state).stats["login_failures"] == 1


async def test_login_refused_with_a_wrong_passphrase(emulator: Emulator) -> None:
    async with exchanges.connect_async(
        "okx", base_url=emulator.base_url, credentials=creds(passphrase="nope"), **FAST
    ) as client:
        try:
            with pytest.raises(AuthenticationError, match="60024"):
                await nxt(client.watch_balance())
        finally:
            await close_streams(client)


# -- connection faults -------------------------------------------------------------------------


async def test_drop_reconnects_and_interrupts_events_once(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets
) -> None:
    async with ex.watch_orders() as orders, ex.watch_order_book(SPOT, 5) as books:
        await nxt(books)
        sockets.drop("/ws/v5")
        with pytest.raises(StreamInterrupted):
            await nxt(orders)
        placed = await ex.create_order(SPOT, "limit", "buy", Decimal("0.01"), Decimal("60000"))
        order = await until(orders, lambda o: o.id == placed.id)
        assert order.status == "open"
        await same_as_rest(ex, books, SPOT)


async def test_algo_orders_ride_business_and_a_drop_there_interrupts_watch_orders_once(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets
) -> None:
    async with ex.watch_orders(PERP) as orders:
        last = (await ex.fetch_ticker(PERP)).last
        assert last is not None
        sockets.drop("/ws/v5/business")
        with pytest.raises(StreamInterrupted):
            await nxt(orders)
        placed = await ex.create_order(
            PERP, "market", "buy", Decimal("0.05"), trigger_price=last + 100
        )
        seen = await until(orders, lambda o: o.id == placed.id)
        assert (seen.conditional, seen.status, seen.amount) == (True, "open", Decimal("0.05"))
        assert placed.id is not None
        await ex.cancel_order(placed.id, PERP)
        gone = await until(orders, lambda o: o.id == placed.id and o.status != "open")
        assert gone.status == "canceled"
    await eventually(lambda: sockets.connections("/ws/v5/business") == 0)  # went with the stream


async def test_silence_reconnects(ex: exchanges.AsyncExchange, sockets: OkxWebSockets) -> None:
    async with ex.watch_orders() as orders:
        connection = streams_of(ex).connections[0]
        sockets.silence("/ws/v5/private", 3.0)
        with pytest.raises(StreamInterrupted):
            await nxt(orders)
        assert connection.silences >= 1


async def test_notice_makes_a_clean_reconnect_before_the_close(
    ex: exchanges.AsyncExchange, sockets: OkxWebSockets
) -> None:
    async with ex.watch_order_book(SPOT, 5) as books, ex.watch_trades(SPOT) as trades:
        await nxt(books)
        connection = streams_of(ex).connections[0]
        sockets.notice("/ws/v5/public", close_after=30.0)
        await eventually(lambda: connection.notices == 1 and connection.reconnects == 1)
        with pytest.raises(StreamInterrupted):
            await nxt(trades)
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        trade = await nxt(trades)
        assert trade.symbol == SPOT
        await same_as_rest(ex, books, SPOT)
        assert sockets.stats["notices"] == 1 and connection.silences == 0


async def test_handshake_refusal_is_final(emulator: Emulator) -> None:
    emulator.set_faults("html_403@/ws/v5/public")
    async with exchanges.connect_async("okx", base_url=emulator.base_url, **FAST) as client:
        try:
            with pytest.raises(AccountRestricted):
                await nxt(client.watch_ticker(SPOT))
        finally:
            await close_streams(client)


async def test_idle_connections_are_closed_4004_and_pings_keep_ours_open(
    ex: exchanges.AsyncExchange, emulator: Emulator, sockets: OkxWebSockets
) -> None:
    sockets.idle_timeout = 1.0
    url = emulator.base_url.replace("http", "ws") + "/ws/v5/public"
    async with ex.watch_ticker(SPOT) as ticks, aiohttp.ClientSession() as http:
        await nxt(ticks)
        connection = streams_of(ex).connections[0]
        async with http.ws_connect(url) as raw:  # sends nothing, so receives nothing
            closed = await raw.receive(timeout=WAIT)
            assert (closed.type, raw.close_code) == (aiohttp.WSMsgType.CLOSE, 4004)
        assert connection.reconnects == 0  # our text pings (every 0.2 s here) kept it open


async def test_login_with_an_expired_timestamp_is_refused(emulator: Emulator) -> None:
    url = emulator.base_url.replace("http", "ws") + "/ws/v5/private"
    stamp = str(int(time.time()) - 60)
    digest = hmac.new(b"test-secret", f"{stamp}GET/users/self/verify".encode(), hashlib.sha256)
    arg = {
        "apiKey": "test-key",
        "passphrase": "test-passphrase",
        "timestamp": stamp,
        "sign": base64.b64encode(digest.digest()).decode(),
    }
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as raw:
        await raw.send_str(json.dumps({"op": "login", "args": [arg]}))
        refusal = json.loads((await raw.receive(timeout=WAIT)).data)
        assert (refusal["event"], refusal["code"]) == ("error", "60006")
        closed = await raw.receive(timeout=WAIT)
        assert (closed.type, raw.close_code) == (aiohttp.WSMsgType.CLOSE, 4001)
