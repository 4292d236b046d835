"""The order book state machine: snapshots, deltas, gaps, and what a consumer may see."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bybit.stream import BookDecoder
from exchanges.stream.book import BookMessage, OrderBookState, chained, consecutive, spanning
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import BookFeed, Sink

D = Decimal


def levels(*pairs: tuple[str, str]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in pairs]


def snapshot(seq: int, bids: Any, asks: Any, cross: int | None = None) -> BookMessage:
    return BookMessage(True, levels(*bids), levels(*asks), seq, cross=cross)


def delta(seq: int, bids: Any = (), asks: Any = (), cross: int | None = None) -> BookMessage:
    return BookMessage(False, levels(*bids), levels(*asks), seq, cross=cross)


SNAP = snapshot(100, [("99", "1"), ("98", "2"), ("97", "3")], [("101", "1"), ("102", "2")], 5)


def test_snapshot_then_deltas_in_order() -> None:
    book = OrderBookState("BTC/USDT")
    assert book.apply(delta(1, [("99", "1")])) == "ignored"  # nothing before a snapshot
    assert not book.valid
    assert book.apply(SNAP) == "snapshot"
    # update, insert, delete on both sides
    assert book.apply(delta(101, [("99", "5"), ("100", "1"), ("97", "0")], [("101", "0")])) == (
        "applied"
    )
    view = book.view()
    assert view.bids == ((D(100), D(1)), (D(99), D(5)), (D(98), D(2)))
    assert view.asks == ((D(102), D(2)),)
    assert view.sequence == 101 and view.symbol == "BTC/USDT"
    assert book.view(1).bids == ((D(100), D(1)),) and book.view(1).asks == ((D(102), D(2)),)
    # deleting a level that is not there changes nothing
    assert book.apply(delta(102, [("50", "0")])) == "applied"
    assert book.view().bids[0] == (D(100), D(1))


def test_a_gap_invalidates_the_book_until_a_snapshot() -> None:
    book = OrderBookState("BTC/USDT")
    book.apply(SNAP)
    assert book.apply(delta(102, [("99", "9")])) == "gap"  # 101 is missing
    assert not book.valid and book.gaps == 1
    with pytest.raises(RuntimeError):
        book.view()
    assert book.apply(delta(103, [("99", "9")])) == "ignored"
    assert book.apply(snapshot(200, [("90", "1")], [("91", "1")])) == "snapshot"
    assert book.view().bids == ((D(90), D(1)),) and book.sequence == 200


def test_a_sequence_going_backwards_is_a_gap() -> None:
    book = OrderBookState("BTC/USDT")
    book.apply(SNAP)
    assert book.apply(delta(100, [("99", "9")])) == "gap"  # a repeat
    book.apply(SNAP)
    assert book.apply(delta(101, [("99", "9")], cross=4)) == "gap"  # cross sequence went back
    book.apply(SNAP)
    assert book.apply(delta(101, [("99", "9")], cross=5)) == "applied"  # equal is fine


def test_a_delta_that_crosses_the_book_is_a_gap() -> None:
    book = OrderBookState("BTC/USDT")
    book.apply(SNAP)
    assert book.apply(delta(101, [("101.5", "1")])) == "gap"
    assert not book.valid


def test_a_crossed_snapshot_is_shown_as_sent() -> None:
    # The exchange's own word: not second-guessed.
    book = OrderBookState("BTC/USDT")
    assert book.apply(snapshot(1, [("101", "1")], [("100", "1")])) == "snapshot"
    assert book.view().bids[0][0] > book.view().asks[0][0]


def test_a_new_snapshot_mid_stream_replaces_the_book() -> None:
    book = OrderBookState("BTC/USDT")
    book.apply(SNAP)
    book.apply(delta(101, [("99", "5")]))
    # Bybit restarts number from u=1 after a service restart, with a snapshot.
    assert book.apply(snapshot(1, [("50", "1")], [("60", "1")])) == "snapshot"
    assert book.view().bids == ((D(50), D(1)),) and book.sequence == 1
    assert book.apply(delta(2, [("51", "1")])) == "applied"


def test_chained_and_spanning_continuity() -> None:
    okx = OrderBookState("BTC-USDT", chained)
    okx.apply(SNAP)
    assert okx.apply(BookMessage(False, levels(("99", "2")), [], 150, prev=100)) == "applied"
    assert okx.apply(BookMessage(False, levels(("99", "3")), [], 170, prev=160)) == "gap"

    binance = OrderBookState("BTCUSDT", spanning)
    binance.apply(SNAP)
    assert binance.apply(BookMessage(False, [], [], 90, first=80)) == "skipped"  # older
    assert binance.apply(BookMessage(False, levels(("99", "2")), [], 105, first=95)) == "applied"
    assert binance.apply(BookMessage(False, [], [], 120, first=110)) == "gap"


def test_memory_stays_bounded_whatever_is_sent() -> None:
    book = OrderBookState("BTC/USDT", max_levels=10)
    book.apply(snapshot(1, [(str(100 - i), "1") for i in range(50)], [("200", "1")]))
    assert len(book.view().bids) == 10 and book.view().bids[0][0] == D(100)
    for seq in range(2, 40):
        book.apply(delta(seq, [(str(100 - 50 - seq), "1")]))
    assert len(book.view().bids) == 10 and book.view().bids[-1][0] == D(91)


def test_views_are_cached_per_version() -> None:
    book = OrderBookState("BTC/USDT")
    book.apply(SNAP)
    assert book.view(2) is book.view(2)
    first = book.view(2)
    book.apply(delta(101, [("99", "7")]))
    assert book.view(2) is not first and book.view(2).bids[0] == (D(99), D(7))


# -- a property: any valid stream of deltas keeps the book equal to a plain model ---------------

level_ops = st.lists(
    st.tuples(st.booleans(), st.integers(1, 30), st.integers(0, 3)), min_size=0, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(st.lists(level_ops, max_size=30))
def test_deltas_match_a_reference_model(batches: list[list[tuple[bool, int, int]]]) -> None:
    # Bids at prices 1..30, asks at 101..130: never crossing by construction.
    book = OrderBookState("X")
    model: dict[bool, dict[Decimal, Decimal]] = {True: {}, False: {}}
    book.apply(BookMessage(True, [], [], 0))
    for seq, batch in enumerate(batches, start=1):
        bids, asks = [], []
        for is_bid, tick, size in batch:
            price = D(tick) if is_bid else D(100 + tick)
            (bids if is_bid else asks).append((price, D(size)))
            if size:
                model[is_bid][price] = D(size)
            else:
                model[is_bid].pop(price, None)
        assert book.apply(BookMessage(False, bids, asks, seq)) == "applied"
        view = book.view()
        assert list(view.bids) == sorted(model[True].items(), reverse=True)
        assert list(view.asks) == sorted(model[False].items())
        if view.bids and view.asks:
            assert view.bids[0][0] < view.asks[0][0]


# -- a recorded Bybit sequence with a gap, through the feed: it asks for a fresh snapshot --------


def bybit(kind: str, u: int, seq: int, b: list[list[str]], a: list[list[str]]) -> dict[str, Any]:
    return {
        "topic": "orderbook.50.BTCUSDT",
        "type": kind,
        "ts": 1_700_000_000_000 + u,
        "data": {"s": "BTCUSDT", "b": b, "a": a, "u": u, "seq": seq},
        "cts": 1_700_000_000_000 + u,
    }


# The shape and numbers of Bybit's docs example (v5/websocket/public/orderbook), as a stream:
# a snapshot, two deltas, then u jumps from 18521290 to 18521292 (18521291 was lost).
RECORDED = [
    bybit("snapshot", 18521288, 7961638724,
          [["16493.50", "0.006"], ["16493.00", "0.100"]],
          [["16611.00", "0.029"], ["16612.00", "0.213"]]),
    bybit("delta", 18521289, 7961638725, [["16493.50", "0.010"]], []),
    bybit("delta", 18521290, 7961638730, [["16494.00", "0.500"]], [["16611.00", "0"]]),
    bybit("delta", 18521292, 7961638741, [["16495.00", "1.000"]], []),  # the gap
    bybit("delta", 18521293, 7961638745, [["16496.00", "1.000"]], []),  # ignored: no book
    bybit("snapshot", 18521293, 7961638745,
          [["16496.00", "1.000"], ["16495.00", "1.000"], ["16494.00", "0.500"]],
          [["16612.00", "0.213"]]),
    bybit("delta", 18521294, 7961638750, [], [["16611.50", "0.300"]]),
]  # fmt: skip


class FakeConnection:
    def __init__(self) -> None:
        self.resubscribed: list[str] = []

    def resubscribe(self, topic: str) -> None:
        self.resubscribed.append(topic)


async def test_a_recorded_gap_makes_the_feed_resubscribe(caplog: pytest.LogCaptureFixture) -> None:
    spec = FeedSpec(
        group="public/linear",
        topic="orderbook.50.BTCUSDT",
        mode="book",
        decoder=BookDecoder,
        continuity=consecutive,
        depth=50,
        symbol="BTC/USDT:USDT",
    )
    feed = BookFeed(spec, logging.getLogger("exchanges.test"), 100)
    connection = FakeConnection()
    feed.connection = connection  # type: ignore[assignment]
    sink = Sink(feed.new_channel(), None, 50)
    feed.attach(sink)
    seen: list[Any] = []
    for message in RECORDED:
        feed.on_message(message)
        if sink.channel.pending():
            seen.append(await sink.channel.get())  # what a fast consumer would see
    assert connection.resubscribed == ["orderbook.50.BTCUSDT"]
    assert feed.resyncs == 1 and "resubscribing" in caplog.text
    # Every book seen is consistent, and none was shown between the gap and the new snapshot.
    assert [b.sequence for b in seen] == [18521288, 18521289, 18521290, 18521293, 18521294]
    for book in seen:
        assert book.bids[0][0] < book.asks[0][0]
    final = seen[-1]
    assert final.bids[0] == (D("16496.00"), D("1.000"))
    assert final.asks == ((D("16611.50"), D("0.300")), (D("16612.00"), D("0.213")))
