"""Feeds without sockets: interruptions in line with events, state snapshots, book resyncs."""

from __future__ import annotations

import asyncio
import logging
import pickle
from collections.abc import Iterable
from typing import Any

import pytest

import exchanges.stream
import exchanges.stream.channels
from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import BookDecoder, BybitDialect
from exchanges import errors
from exchanges.errors import BadResponse, StreamInterrupted, StreamOverflow
from exchanges.stream.book import OrderBookState
from exchanges.stream.channels import Buffer
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import (
    DECODE_ERRORS,
    RESYNC_LIMIT,
    BookFeed,
    EventFeed,
    Feed,
    Sink,
    StateFeed,
)

LOG = logging.getLogger("exchanges.test.feeds")
WAIT = 5.0


async def eventually(check: Any, timeout: float = WAIT) -> None:
    async def poll() -> None:
        while not check():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


def sink_of(feed: Feed) -> Sink:
    sink = Sink(feed.new_channel(), None, None)
    feed.attach(sink)
    return sink


def deliver(feed: Feed, message: Any) -> None:
    # What the connection does with a data message.
    try:
        feed.on_message(message)
    except DECODE_ERRORS as exc:
        feed.on_bad_message(exc)


# -- errors and channels ---------------------------------------------------------------------


def test_stream_errors_are_classes_of_exchanges_errors() -> None:
    assert exchanges.stream.channels.StreamOverflow is errors.StreamOverflow
    assert exchanges.stream.StreamOverflow is errors.StreamOverflow
    assert exchanges.stream.StreamInterrupted is errors.StreamInterrupted
    assert issubclass(StreamInterrupted, errors.NetworkError)
    err = StreamInterrupted("down", exchange="bybit", down_from=1.5, down_until=2.5)
    clone = pickle.loads(pickle.dumps(err))
    assert (clone.down_from, clone.down_until, clone.hint) == (1.5, 2.5, err.hint)
    assert "fetch_open_orders" in err.hint and "fetch_my_trades" in err.hint


async def test_an_interruption_is_raised_once_in_line_with_the_events() -> None:
    channel: Buffer[int] = Buffer(bound=10)
    channel.push(1)
    channel.interrupt(StreamInterrupted("first", down_from=1.0, down_until=2.0))
    channel.interrupt(StreamInterrupted("second", down_from=3.0, down_until=4.0))
    channel.push(2)
    assert await channel.get() == 1
    with pytest.raises(StreamInterrupted) as caught:
        await channel.get()
    # Two drops with no event between them are one window to reconcile.
    assert (caught.value.down_from, caught.value.down_until) == (1.0, 4.0)
    assert await channel.get() == 2  # the channel goes on
    assert channel.error is None and channel.pending() == 0


# -- event feeds -------------------------------------------------------------------------------


class ListDecoder:
    def decode(self, message: Any) -> Iterable[Any]:
        if message == "bad":
            raise KeyError("data")
        return list(message)

    def reset(self) -> None:
        pass

    def seed(self, value: Any) -> None:
        self.value = value


async def test_an_event_feed_tells_its_live_consumers_it_was_down() -> None:
    feed = EventFeed(FeedSpec("private", "order", "events", ListDecoder), LOG, 10)
    live = sink_of(feed)
    feed.on_confirmed()
    deliver(feed, ["a"])
    feed.on_interrupted()
    joiner = sink_of(feed)  # joined while down: it has missed nothing
    assert not joiner.live
    feed.on_subscribed()
    feed.on_confirmed()
    deliver(feed, ["b"])
    assert await live.channel.get() == "a"
    with pytest.raises(StreamInterrupted) as caught:
        await live.channel.get()
    err = caught.value
    assert err.down_from is not None and err.down_until is not None
    assert err.down_from <= err.down_until and "order" in err.message and "UTC" in err.message
    assert await live.channel.get() == "b"
    assert joiner.live and await joiner.channel.get() == "b"


# -- state feeds -----------------------------------------------------------------------------


def state_feed(seed: Any, max_buffer: int = 100) -> StateFeed:
    return StateFeed(FeedSpec("private", "wallet", "state", ListDecoder), LOG, max_buffer, seed)


async def test_the_snapshot_is_fetched_once_the_subscription_is_confirmed() -> None:
    calls: list[bool] = []
    snapshot: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
    feed: StateFeed

    def seed() -> asyncio.Future[list[str]]:
        calls.append(feed.confirmed.is_set())
        return snapshot

    feed = state_feed(seed)
    sink = sink_of(feed)
    feed.on_subscribed()
    deliver(feed, ["early"])  # pushed between the subscribe request and its confirmation
    await asyncio.sleep(0)
    assert calls == []  # a snapshot taken now could miss what changes before it is live
    feed.on_confirmed()
    deliver(feed, ["late"])
    await eventually(lambda: calls)
    assert calls == [True]
    snapshot.set_result(["snapshot"])
    await eventually(lambda: feed.seeds == 1)
    # The snapshot, then every held push replayed on top: the newest wins.
    assert await sink.channel.get() == "late"
    assert feed.last == "late"


async def test_an_undecodable_held_message_fails_the_consumers() -> None:
    feed = state_feed(lambda: asyncio.sleep(0, "snapshot"))
    sink = sink_of(feed)
    feed.on_subscribed()
    deliver(feed, "bad")
    feed.on_confirmed()
    with pytest.raises(BadResponse) as caught:
        await asyncio.wait_for(sink.channel.get(), WAIT)
    assert "KeyError" in caught.value.message and "snapshot" in caught.value.hint


async def test_an_undecodable_live_message_fails_the_consumers() -> None:
    feed = state_feed(lambda: asyncio.sleep(0, "snapshot"))
    sink = sink_of(feed)
    feed.on_subscribed()
    feed.on_confirmed()
    assert await asyncio.wait_for(sink.channel.get(), WAIT) == "snapshot"
    deliver(feed, "bad")
    with pytest.raises(BadResponse):
        await asyncio.wait_for(sink.channel.get(), WAIT)
    deliver(feed, ["after"])  # an unseeded state is not shown to anyone
    assert feed.last is None


async def test_after_a_failed_snapshot_a_newcomer_gets_a_fresh_one() -> None:
    answers: list[Any] = [errors.ExchangeNotAvailable("down"), "fresh"]

    async def seed() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    feed = state_feed(seed, max_buffer=3)
    first = sink_of(feed)
    feed.on_subscribed()
    feed.on_confirmed()
    with pytest.raises(errors.ExchangeNotAvailable):
        await asyncio.wait_for(first.channel.get(), WAIT)
    for n in range(10):  # more than max_buffer pushes: nothing holds them any more
        deliver(feed, [f"push {n}"])
    second = sink_of(feed)
    assert await asyncio.wait_for(second.channel.get(), WAIT) == "fresh"
    assert second.channel.error is None and feed.seeds == 1


async def test_too_many_pushes_during_the_snapshot_overflow() -> None:
    never: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    feed = state_feed(lambda: never, max_buffer=2)
    sink = sink_of(feed)
    feed.on_subscribed()
    for n in range(3):
        deliver(feed, [n])
    with pytest.raises(StreamOverflow):
        await asyncio.wait_for(sink.channel.get(), WAIT)
    feed.close()


# -- book feeds --------------------------------------------------------------------------------


class FakeConnection:
    def __init__(self) -> None:
        self.resubscribed: list[str] = []

    def resubscribe(self, topic: str) -> None:
        self.resubscribed.append(topic)


def book_message(sequence: int, snapshot: bool) -> dict[str, Any]:
    data = {"s": "BTCUSDT", "b": [["100", "1"]], "a": [["101", "1"]], "u": sequence, "seq": 1}
    return {
        "topic": "orderbook.50.BTCUSDT",
        "type": "snapshot" if snapshot else "delta",
        "data": data,
    }


def never_chains(book: OrderBookState, message: Any) -> Any:
    return "gap"


async def test_book_resyncs_back_off_and_a_book_that_never_chains_fails() -> None:
    spec = FeedSpec(
        group="public/linear",
        topic="orderbook.50.BTCUSDT",
        mode="book",
        decoder=BookDecoder,
        continuity=never_chains,
        depth=50,
        symbol="BTC/USDT:USDT",
    )
    feed = BookFeed(spec, LOG, 10, resync_delay=0.01, resync_max_delay=0.05)
    connection = FakeConnection()
    feed.connection = connection  # type: ignore[assignment]
    sink = sink_of(feed)
    for n in range(RESYNC_LIMIT):
        deliver(feed, book_message(10 * n, snapshot=True))
        deliver(feed, book_message(10 * n + 1, snapshot=False))
        if n == 0:
            assert connection.resubscribed == [spec.topic]  # the first resync is at once
        elif n == 1:
            assert len(connection.resubscribed) == 1  # the next ones wait their backoff
        await eventually(lambda n=n: len(connection.resubscribed) == n + 1)
        assert sink.channel.error is None
    deliver(feed, book_message(100, snapshot=True))
    deliver(feed, book_message(101, snapshot=False))
    with pytest.raises(BadResponse) as caught:
        await asyncio.wait_for(sink.channel.get(), WAIT)
    assert "report" in caught.value.hint and "chain" in caught.value.hint
    assert len(connection.resubscribed) == RESYNC_LIMIT and feed.resyncs == RESYNC_LIMIT
    sink_of(feed)  # a newcomer gets a fresh try rather than a book that never comes
    assert len(connection.resubscribed) == RESYNC_LIMIT + 1


async def test_a_gap_while_a_resync_waits_does_not_queue_another() -> None:
    spec = FeedSpec("public/linear", "orderbook.50.BTCUSDT", "book", BookDecoder, depth=50)
    feed = BookFeed(spec, LOG, 10, resync_delay=0.01)
    connection = FakeConnection()
    feed.connection = connection  # type: ignore[assignment]
    deliver(feed, book_message(1, snapshot=True))
    deliver(feed, book_message(5, snapshot=False))  # a gap: resync at once
    deliver(feed, book_message(10, snapshot=True))
    deliver(feed, book_message(20, snapshot=False))  # another: waits its backoff
    deliver(feed, "not a book message")  # undecodable while that wait runs
    await eventually(lambda: len(connection.resubscribed) == 2)
    await asyncio.sleep(0.05)
    assert len(connection.resubscribed) == 2 and feed.resyncs == 2
    feed.close()


# -- the connection's close and subscribe refusals -------------------------------------------


class SlowClose:
    def __init__(self) -> None:
        self.closing = asyncio.Event()
        self.release = asyncio.Event()
        self.closed = False

    async def close(self) -> None:
        self.closing.set()
        await self.release.wait()
        self.closed = True


async def test_closing_a_socket_does_not_swallow_a_cancellation() -> None:
    ws = SlowClose()
    after: list[str] = []

    async def closer() -> None:
        await WsConnection._close_ws(ws)  # type: ignore[arg-type]
        after.append("went on as if not cancelled")

    task = asyncio.create_task(closer())
    await asyncio.wait_for(ws.closing.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, WAIT)
    assert after == []
    ws.release.set()
    await eventually(lambda: ws.closed)  # the close itself was shielded and went on


def test_a_refusal_names_its_topic_by_the_exchanges_words() -> None:
    dialect = BybitDialect(BybitAdapter())
    topics = ["tickers.BTCUSDT", "orderbook.50.XYZ", "tickers.BTCUSDTX"]
    text = "error:handler not found,topic:orderbook.50.XYZ"
    assert dialect.refused_topics(text, topics) == ["orderbook.50.XYZ"]
    assert dialect.refused_topics("error:handler not found,topic:tickers.BTCUSDTX", topics) == [
        "tickers.BTCUSDTX"
    ]
    assert dialect.refused_topics("args size >10", topics) == []
    assert dialect.already_subscribed("error:already subscribed,topic:tickers.BTCUSDT")
    assert not dialect.already_subscribed(text)
