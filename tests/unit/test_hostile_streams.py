"""Hostile payloads on the WebSocket side: Bybit's decoders, the book state, the feeds and the
connection's frame decoding refuse what no market has, and never show a half-applied book."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest

from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import (
    BookDecoder,
    BybitDialect,
    CandleDecoder,
    TickerDecoder,
    TradeDecoder,
)
from exchanges.errors import BadResponse
from exchanges.stream.book import BookMessage, OrderBookState
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import DECODE_ERRORS, BookFeed, EventFeed, Sink
from exchanges.stream.options import StreamOptions
from tests.unit.hostile_bodies import DEEP, DEEP_OBJECT, D

# -- the WebSocket side (Bybit's dialect, the book state, the feeds, the connection) -----------


LOG = logging.getLogger("exchanges.test.hostile")


def push(topic: str, data: Any, kind: str = "snapshot") -> dict[str, Any]:
    return {"topic": topic, "type": kind, "ts": 1_700_000_000_000, "data": data}


def book_push(bids: list[Any], asks: list[Any], u: int, kind: str = "delta") -> dict[str, Any]:
    return push("orderbook.50.BTCUSDT", {"s": "BTCUSDT", "b": bids, "a": asks, "u": u}, kind)


@pytest.mark.parametrize(
    "level",
    [["NaN", "1"], ["Infinity", "1"], ["65000", "-1"], ["0", "1"], ["1e999", "1"],
     [float("nan"), "1"], ["65000", float("inf")], ["65000", True]],
)  # fmt: skip
def test_the_book_decoder_refuses_levels_no_market_has(level: list[Any]) -> None:
    with pytest.raises(DECODE_ERRORS):
        BookDecoder().decode(book_push([level], [], 2))


def test_the_book_decoder_reads_deletes_and_floats() -> None:
    message = BookDecoder().decode(book_push([["65000", "0"]], [[65000.1, 0.2]], 2))
    assert message.bids == ((D(65000), D(0)),)
    assert [(str(p), str(s)) for p, s in message.asks] == [("65000.1", "0.2")]
    for u in ("7", 1.5, -1, None, True):
        with pytest.raises(DECODE_ERRORS):
            BookDecoder().decode(book_push([], [], u))  # type: ignore[arg-type]


def dialect() -> BybitDialect:
    return BybitDialect(BybitAdapter())


@pytest.mark.parametrize(
    ("field", "value"),
    [("p", "NaN"), ("p", "0"), ("p", "Infinity"), ("v", "-1"), ("v", "1e999"), ("T", 1e999),
     ("T", "NaN"), ("i", [[["deep"]]])],
)  # fmt: skip
def test_the_trade_decoder_refuses_garbage(field: str, value: Any) -> None:
    item = {"i": "t1", "s": "BTCUSDT", "T": 1_700_000_000_000, "S": "Buy", "p": "1", "v": "1"}
    item[field] = value
    with pytest.raises(DECODE_ERRORS):
        TradeDecoder(dialect(), "linear").decode(push("publicTrade.BTCUSDT", [item]))


@pytest.mark.parametrize(("field", "value"), [("open", "NaN"), ("volume", "-1"), ("low", "0"),
                                              ("start", 1e999), ("close", "1e30")])  # fmt: skip
def test_the_candle_decoder_refuses_garbage(field: str, value: Any) -> None:
    item = {"start": 1_700_000_000_000, "open": "1", "high": "2", "low": "1", "close": "1",
            "volume": "1", "turnover": "1"}  # fmt: skip
    item[field] = value
    with pytest.raises(DECODE_ERRORS):
        CandleDecoder("linear").decode(push("kline.1.BTCUSDT", [item]))


def test_the_ticker_decoder_refuses_garbage_in_a_delta() -> None:
    decoder = TickerDecoder("BTC/USDT:USDT", "linear")
    decoder.decode(push("tickers.BTCUSDT", {"symbol": "BTCUSDT", "lastPrice": "1"}))
    with pytest.raises(DECODE_ERRORS):
        decoder.decode(push("tickers.BTCUSDT", {"lastPrice": "NaN"}, "delta"))


@pytest.mark.parametrize(
    "level",
    [(D("NaN"), D(1)), (D("sNaN"), D(1)), (D("Infinity"), D(1)), (D(100), D("-1")),
     (D(0), D(1)), (D("-5"), D(1)), (D("1e30"), D(1)), (D(100), D("NaN"))],
)  # fmt: skip
def test_the_book_state_refuses_levels_no_market_has_and_is_never_half_applied(
    level: tuple[Decimal, Decimal],
) -> None:
    # Whatever a dialect's decoder lets through, the book itself refuses it.
    state = OrderBookState("BTC/USDT:USDT")
    good = [(D(99), D(1))]
    state.apply(BookMessage(True, good, [(D(101), D(1))], 1))
    with pytest.raises((ArithmeticError, ValueError)):
        state.apply(BookMessage(False, [(D(98), D(1)), level], [], 2))
    assert not state.valid and state.best_bid is None  # invalid until the next snapshot
    with pytest.raises((ArithmeticError, ValueError)):
        state.apply(BookMessage(True, [level], [(D(101), D(1))], 3))
    assert not state.valid


class FakeConnection:
    def __init__(self) -> None:
        self.resubscribed: list[str] = []

    def resubscribe(self, topic: str) -> None:
        self.resubscribed.append(topic)


def connection_with(feed: Any) -> WsConnection:
    # The real connection's frame handling, without a socket.
    conn = WsConnection(
        None,  # type: ignore[arg-type]
        dialect(),
        "public/linear",
        "ws://127.0.0.1:9/v5/public/linear",
        StreamOptions(),
        LOG,
    )
    conn.feeds[feed.topic] = feed
    return conn


async def test_a_nan_book_delta_resyncs_and_is_never_shown() -> None:
    spec = FeedSpec("public/linear", "orderbook.50.BTCUSDT", "book", BookDecoder, depth=50)
    feed = BookFeed(spec, LOG, 10)
    fake = FakeConnection()
    feed.connection = fake  # type: ignore[assignment]
    sink = Sink(feed.new_channel(), None, 5)
    feed.attach(sink)
    conn = connection_with(feed)
    conn._dispatch(json.dumps(book_push([["99", "1"]], [["101", "1"]], 1, "snapshot")))
    assert feed.state.valid and feed.state.best_bid == 99
    conn._dispatch(json.dumps(book_push([["NaN", "1"]], [], 2)))
    assert not feed.state.valid and fake.resubscribed == [spec.topic]
    assert sink.channel.error is None  # a book resyncs; its consumers wait for the snapshot


async def test_a_nan_trade_push_fails_the_consumers_with_bad_response() -> None:
    spec = FeedSpec(
        "public/linear", "publicTrade.BTCUSDT", "events", lambda: TradeDecoder(dialect(), "linear")
    )
    feed = EventFeed(spec, LOG, 10)
    sink = Sink(feed.new_channel(), None, None)
    feed.attach(sink)
    conn = connection_with(feed)
    item = {"i": "t1", "s": "BTCUSDT", "T": 1_700_000_000_000, "S": "Buy", "p": "NaN", "v": "1"}
    conn._dispatch(json.dumps(push("publicTrade.BTCUSDT", [item])))
    with pytest.raises(BadResponse) as caught:
        await sink.channel.get()
    assert "undecodable" in caught.value.message and caught.value.hint


@pytest.mark.parametrize("frame", [DEEP.decode(), DEEP_OBJECT.decode(), "[NaN]"])
def test_the_dialect_reads_a_deep_frame_as_undecodable(frame: str) -> None:
    with pytest.raises(ValueError):
        dialect().loads(frame)


async def test_a_deeply_nested_frame_does_not_kill_the_connection() -> None:
    spec = FeedSpec(
        "public/linear", "publicTrade.BTCUSDT", "events", lambda: TradeDecoder(dialect(), "linear")
    )
    conn = connection_with(EventFeed(spec, LOG, 10))
    assert conn._dispatch(DEEP.decode()) is False
