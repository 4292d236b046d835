"""Binance spot and USD-M streams against the emulator over real loopback WebSockets.

Our ``watch_*`` streams talk to the emulator's Binance WebSockets (``adapters/binance/
emulator_ws.py``); faults (drops, skipped, repeated and reordered depth events, silence, listenKey
expiry, a refused handshake) come from the emulator, so resyncs and reconnects are observed end
to end. No timing is asserted: every wait is bounded and ends when the value arrives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import pytest

import exchanges
from adapters.binance.emulator_ws import sockets_of
from exchanges.emulator import Emulator
from exchanges.errors import AccountRestricted, InvalidSignature, StreamInterrupted
from exchanges.stream import Stream, close_streams, streams_of
from exchanges.stream.feeds import BookFeed
from tests.conftest import TEST_KEY, TEST_SECRET

pytestmark = pytest.mark.timeout(90)

T = TypeVar("T")
WAIT = 15.0
SPOT, PERP = "BTC/USDT", "BTC/USDT:USDT"
FAST = {
    "ws_ping_interval": 0.5,  # spot streams take 5 frames a second (the writer keeps to 4)
    "ws_silence_timeout": 1.5,
    "ws_reconnect_delay": 0.05,
    "ws_reconnect_max_delay": 0.4,
}
CREDENTIALS = exchanges.Credentials(TEST_KEY, TEST_SECRET)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        sockets_of(emulator.state).max_rate["spot"] = 50  # headroom for fast test pings
        yield emulator


async def _client(emu: Emulator, **options: Any) -> exchanges.AsyncExchange:
    return exchanges.connect_async(
        "binance", base_url=emu.base_url, credentials=CREDENTIALS, **FAST, **options
    )


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[exchanges.AsyncExchange]:
    async with await _client(emu) as client:
        try:
            yield client
        finally:
            await close_streams(client)


@pytest.fixture
async def fut(emu: Emulator) -> AsyncIterator[exchanges.AsyncExchange]:
    async with await _client(emu, wallet="usdm") as client:
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


async def same_as_rest(client: exchanges.AsyncExchange, book: Any, symbol: str) -> bool:
    rest = await client.fetch_order_book(symbol, 5)
    return (book.bids[:5], book.asks[:5]) == (rest.bids, rest.asks)


async def synced(client: exchanges.AsyncExchange, books: Stream[Any], symbol: str) -> Any:
    """The first book from the stream that equals REST's (every book shown is checked whole)."""

    async def scan() -> Any:
        async for book in books:
            assert book.bids[0][0] < book.asks[0][0]
            if await same_as_rest(client, book, symbol):
                return book
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(scan(), WAIT)


# -- public streams ----------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", [SPOT, PERP])
async def test_public_streams(ex: exchanges.AsyncExchange, symbol: str) -> None:
    async with (
        ex.watch_order_book(symbol, limit=5) as books,
        ex.watch_ticker(symbol) as ticks,
        ex.watch_trades(symbol) as trades,
        ex.watch_ohlcv(symbol, "1m") as candles,
    ):
        book = await nxt(books)  # a quiet book still shows: seeded over REST at once
        assert len(book.bids) == len(book.asks) == 5 and book.bids[0][0] < book.asks[0][0]
        assert await same_as_rest(ex, book, symbol)
        ticker = await nxt(ticks)
        assert ticker.symbol == symbol and ticker.last > 0
        first = await nxt(candles)
        assert first.high >= first.low

        await ex.create_order(symbol, "market", "buy", Decimal("0.05"))
        trade = await nxt(trades)
        assert (trade.symbol, trade.side, trade.price) == (symbol, "buy", book.asks[0][0])
        assert isinstance(trade.amount, Decimal) and trade.amount <= Decimal("0.05")
        moved = await until(books, lambda b: b.asks != book.asks)
        assert await same_as_rest(ex, moved, symbol)
        candle = await until(candles, lambda c: c.volume > first.volume)
        assert candle.close == trade.price or candle.timestamp > first.timestamp


@pytest.mark.parametrize(
    ("symbol", "fault"),
    [(SPOT, "inject_gap"), (PERP, "inject_gap"), (SPOT, "reorder"), (PERP, "duplicate")],
)
async def test_a_broken_depth_sequence_resyncs_never_a_wrong_book(
    ex: exchanges.AsyncExchange, emu: Emulator, symbol: str, fault: str
) -> None:
    async with ex.watch_order_book(symbol, limit=5) as books:
        start = await nxt(books)
        step = (await ex.market(symbol)).price_step or Decimal("0.1")
        feed = book_feed(ex)
        getattr(sockets_of(emu.state), fault)("/", 1)
        await asyncio.sleep(0.2)  # the fault reaches the publisher
        for n in range(1, 4):  # resting bids among the top five levels
            price = start.bids[0][0] - n * step
            await ex.create_order(symbol, "limit", "buy", Decimal("0.01"), price=price)
            await asyncio.sleep(0.15)
        await synced(ex, books, symbol)
        if fault in ("inject_gap", "reorder"):
            await eventually(lambda: feed.resyncs >= 1)  # noticed, and resynced
        else:
            assert feed.resyncs == 0  # a repeated event is harmless: absolute quantities


async def test_a_dropped_connection_reconnects_and_the_book_comes_back(
    ex: exchanges.AsyncExchange, emu: Emulator
) -> None:
    async with ex.watch_order_book(SPOT, limit=5) as books, ex.watch_trades(SPOT) as trades:
        await nxt(books)
        sockets_of(emu.state).drop("/stream")
        await eventually(lambda: any(c.reconnects for c in streams_of(ex).connections))
        with pytest.raises(StreamInterrupted):
            await nxt(trades)  # events may have been missed: told once
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        assert (await nxt(trades)).symbol == SPOT
        book = await nxt(books)
        assert await same_as_rest(ex, book, SPOT)


async def test_silence_reconnects(ex: exchanges.AsyncExchange, emu: Emulator) -> None:
    async with ex.watch_ticker(SPOT) as ticks:
        await nxt(ticks)
        sockets_of(emu.state).silence("/stream", 3.0)
        await eventually(lambda: any(c.silences for c in streams_of(ex).connections))
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        assert (await nxt(ticks)).symbol == SPOT


async def test_a_refused_handshake_is_an_error(emu: Emulator) -> None:
    emu.set_faults("html_403@/stream*1")
    async with await _client(emu) as client:
        with pytest.raises(AccountRestricted):
            await nxt(client.watch_ticker(SPOT))
        await close_streams(client)


# -- private streams ---------------------------------------------------------------------------


async def test_spot_private_streams(ex: exchanges.AsyncExchange) -> None:
    async with (
        ex.watch_orders(SPOT) as orders,
        ex.watch_my_trades(SPOT) as fills,
        ex.watch_balance() as balances,
    ):
        before = await nxt(balances)
        placed = await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        new = await nxt(orders)
        assert (new.id, new.status, new.symbol) == (placed.id, "open", SPOT)
        done = await until(orders, lambda o: o.status == "closed")
        assert done.filled == Decimal("0.01") and isinstance(done.average, Decimal)
        fill = await nxt(fills)
        assert (fill.order_id, fill.amount, fill.side) == (placed.id, Decimal("0.01"), "buy")
        assert fill.client_order_id == placed.client_order_id
        after = await until(balances, lambda b: b["BTC"].total != before["BTC"].total)
        assert after["BTC"].total == before["BTC"].total + Decimal("0.01") - (fill.fee or 0)

        resting = await ex.create_order(SPOT, "limit", "buy", Decimal("0.01"), price=Decimal(50000))
        await until(orders, lambda o: o.id == resting.id and o.status == "open")
        await ex.cancel_order(resting.id, SPOT)
        canceled = await until(orders, lambda o: o.id == resting.id and o.status == "canceled")
        assert (
            canceled.client_order_id == resting.client_order_id
        )  # the order's own, not the cancel's


async def test_spot_stops_stream_as_execution_reports_under_one_order_id(
    ex: exchanges.AsyncExchange, emu: Emulator
) -> None:
    amount = Decimal("0.001")
    async with ex.watch_orders(SPOT) as orders:
        last = (await ex.fetch_ticker(SPOT)).last
        assert last is not None
        stop = last + 100
        placed = await ex.create_order(
            SPOT, "limit", "buy", amount, price=stop + 50, trigger_price=stop
        )
        new = await until(orders, lambda o: o.id == placed.id)
        raw = new.raw
        # Waiting: NEW, not on the book (no working time), its type and stop price.
        assert (raw["x"], raw["X"], raw["o"], Decimal(raw["P"]), raw["w"]) == (
            "NEW",
            "NEW",
            "STOP_LOSS_LIMIT",
            stop,
            False,
        )
        assert "W" not in raw and raw["c"] == placed.client_order_id
        assert (new.conditional, new.trigger_price, new.status) == (True, stop, "open")

        emu.move_price("BTCUSDT", category="spot", last=stop + 20)
        seen: list[Any] = []

        def filled(order: Any) -> bool:
            seen.append(order)
            return bool(order.status == "closed")

        await until(orders, filled)
        # Fired: the order it placed works and trades under the same orderId, client id, type
        # and stop price; the working NEW first.
        assert {o.id for o in seen} == {placed.id}
        reports = [o.raw for o in seen]
        assert (reports[0]["x"], reports[0]["w"]) == ("NEW", True)
        assert reports[0]["W"] >= reports[0]["O"]
        assert [r["x"] for r in reports[1:]] == ["TRADE"] * (len(reports) - 1)
        for report in reports:
            assert (report["c"], report["o"], Decimal(report["P"])) == (
                placed.client_order_id,
                "STOP_LOSS_LIMIT",
                stop,
            )
        assert all(o.conditional and o.trigger_price == stop for o in seen)
        assert seen[-1].filled == amount

        below = stop - 500
        sell = await ex.create_order(SPOT, "market", "sell", amount, trigger_price=below)
        await until(orders, lambda o: o.id == sell.id and o.status == "open")
        assert sell.id is not None
        await ex.cancel_order(sell.id, SPOT)
        gone = await until(orders, lambda o: o.id == sell.id and o.status != "open")
        assert (gone.raw["x"], gone.raw["o"], Decimal(gone.raw["P"])) == (
            "CANCELED",
            "STOP_LOSS",
            below,
        )
        # The cancel's id in ``c``, the order's own in ``C``: the order keeps its client id.
        assert gone.raw["C"] == sell.client_order_id != gone.raw["c"]
        assert (gone.status, gone.conditional, gone.client_order_id) == (
            "canceled",
            True,
            sell.client_order_id,
        )


async def test_a_bad_secret_is_refused(emu: Emulator) -> None:
    bad = exchanges.Credentials(TEST_KEY, "not-the-secret")
    async with exchanges.connect_async(
        "binance", base_url=emu.base_url, credentials=bad, **FAST
    ) as client:
        with pytest.raises(InvalidSignature):
            await nxt(client.watch_orders())
        await close_streams(client)


async def test_usdm_private_streams(fut: exchanges.AsyncExchange) -> None:
    async with (
        fut.watch_orders() as orders,
        fut.watch_my_trades() as fills,
        fut.watch_positions() as positions,
        fut.watch_balance() as balances,
    ):
        assert await nxt(positions) == []
        await nxt(balances)
        placed = await fut.create_order(PERP, "market", "buy", Decimal("0.01"))
        done = await until(orders, lambda o: o.status == "closed")
        assert (done.id, done.symbol, done.filled) == (placed.id, PERP, Decimal("0.01"))
        fill = await nxt(fills)
        assert (fill.symbol, fill.amount, fill.order_id) == (PERP, Decimal("0.01"), placed.id)
        (position,) = await until(positions, lambda p: len(p) == 1)
        assert (position.symbol, position.side, position.size) == (PERP, "long", Decimal("0.01"))
        assert position.entry_price == fill.price
        balance = await nxt(balances)
        assert balance["USDT"].total > 0


async def test_usdm_position_stops_stream_as_algo_updates_and_expire_with_the_position(
    fut: exchanges.AsyncExchange,
) -> None:
    async with fut.watch_orders(PERP) as orders:
        await fut.create_order(PERP, "market", "buy", Decimal("0.01"))
        last = (await fut.fetch_ticker(PERP)).last
        assert last is not None
        await fut.set_trading_stop(PERP, stop_loss=last - 1000)
        stop = await until(orders, lambda o: o.conditional)
        assert (stop.status, stop.trigger_price, stop.reduce_only) == ("open", last - 1000, True)
        assert stop.raw["e"] == "ALGO_UPDATE" and stop.raw["o"]["cp"] is True
        await fut.create_order(PERP, "market", "sell", Decimal("0.01"), reduce_only=True)
        gone = await until(orders, lambda o: o.id == stop.id and o.status != "open")
        # EXPIRED: Binance cancels a closePosition stop when its position goes.
        assert (gone.status, gone.raw["o"]["X"]) == ("canceled", "EXPIRED")
        assert [o for o in await fut.fetch_open_orders(PERP) if o.conditional] == []


async def test_usdm_listen_key_expiry_reconnects_and_says_so(
    fut: exchanges.AsyncExchange, emu: Emulator
) -> None:
    async with fut.watch_orders() as orders:
        await fut.create_order(PERP, "market", "buy", Decimal("0.01"))
        await until(orders, lambda o: o.status == "closed")
        sockets = sockets_of(emu.state)
        old = set(sockets.user.keys)
        sockets.expire_listen_keys()
        with pytest.raises(StreamInterrupted):
            await nxt(orders)  # replaced with a fresh key; what happened meanwhile may be lost
        assert set(sockets.user.keys) - old  # a new listenKey
        placed = await fut.create_order(PERP, "market", "sell", Decimal("0.01"))
        assert (await until(orders, lambda o: o.status == "closed")).id == placed.id


async def test_spot_user_data_resubscribes_after_a_drop(
    ex: exchanges.AsyncExchange, emu: Emulator
) -> None:
    async with ex.watch_orders(SPOT) as orders:
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        await until(orders, lambda o: o.status == "closed")
        sockets_of(emu.state).drop("/ws-api")
        with pytest.raises(StreamInterrupted):
            await nxt(orders)
        placed = await ex.create_order(SPOT, "market", "sell", Decimal("0.01"))
        assert (await until(orders, lambda o: o.status == "closed")).id == placed.id


async def test_server_shutdown_reconnects_at_once(
    ex: exchanges.AsyncExchange, emu: Emulator
) -> None:
    async with ex.watch_trades(SPOT) as trades:
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        await nxt(trades)
        sockets_of(emu.state).shutdown("/stream")
        with pytest.raises(StreamInterrupted):
            await nxt(trades)
        assert sum(c.notices for c in streams_of(ex).connections) == 1
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        assert (await nxt(trades)).symbol == SPOT


async def test_connections_are_rotated_before_the_server_cuts_them(
    ex: exchanges.AsyncExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.binance import stream as binance_stream

    monkeypatch.setattr(binance_stream, "ROTATE_AFTER_S", 0.5)  # 23.5 h, shrunk
    async with ex.watch_order_book(SPOT, limit=5) as books:
        await nxt(books)
        await eventually(lambda: any(c.notices for c in streams_of(ex).connections))
        monkeypatch.setattr(binance_stream, "ROTATE_AFTER_S", 3600.0)
        await ex.create_order(SPOT, "market", "buy", Decimal("0.01"))
        assert await same_as_rest(ex, await synced(ex, books, SPOT), SPOT)


async def test_many_subscriptions_stay_under_the_message_limit(emu: Emulator) -> None:
    sockets = sockets_of(emu.state)
    sockets.max_rate["spot"] = 5  # Binance's: more incoming frames a second close with 1008
    calm = {**FAST, "ws_ping_interval": 2.0, "ws_silence_timeout": 5.0}
    async with exchanges.connect_async(
        "binance", base_url=emu.base_url, credentials=CREDENTIALS, **calm
    ) as client:
        first = client.watch_ticker(SPOT)
        await nxt(first)
        # Each stream started on a live connection is one SUBSCRIBE frame: 12 at once.
        streams: list[Stream[Any]] = [first]
        for symbol in (SPOT, "ETH/USDT"):
            streams.append(client.watch_order_book(symbol, limit=5))
            streams += [client.watch_ohlcv(symbol, tf) for tf in ("1m", "5m", "15m", "1h")]
        streams.append(client.watch_ticker("ETH/USDT"))
        values = await asyncio.gather(*(nxt(s) for s in streams[1:]))
        assert len(values) == 11 and sockets.stats["rate_closes"] == 0
        assert all(c.reconnects == 0 for c in streams_of(client).connections)
        for stream in streams:
            await stream.aclose()
        await close_streams(client)


async def test_the_listen_key_is_kept_alive(
    fut: exchanges.AsyncExchange, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.binance import stream as binance_stream

    user = sockets_of(emu.state).user
    async with fut.watch_orders() as orders:
        await fut.create_order(PERP, "market", "buy", Decimal("0.01"))
        await until(orders, lambda o: o.status == "closed")
        (entry,) = user.keys.values()
        before = entry.expires_ms
        monkeypatch.setattr(binance_stream, "KEEPALIVE_S", 0.0)  # 30 min, shrunk: due now
        await eventually(lambda: entry.expires_ms > before)  # PUT /fapi/v1/listenKey
        assert len(user.keys) == 1 and entry.alive  # the same key, extended
