"""Unit tests of the emulator's matching engine: determinism and reset, synthetic liquidity and
market data."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.unit.emulator.engine_helpers import D, funded, make, place, rejects

# -- determinism and reset -------------------------------------------------------------------


def scripted_session(seed: int) -> Any:
    engine, clock = make(levels=20, seed=seed, custom=False)
    engine.create_account(1, {"USDT": D(1_000_000), "BTC": D(10), "ETH": D(100)})
    engine.create_account(2, {"USDT": D(1_000_000), "BTC": D(10)})
    engine.place_order(1, "BTCUSDT", "buy", "market", D("0.8"), category="spot")
    clock.now += 1000
    bid = engine.book("BTCUSDT", 1, category="spot").bids[0][0]
    engine.place_order(2, "BTCUSDT", "sell", "limit", D("0.3"), price=bid, category="spot")
    engine.place_order(2, "BTCUSDT", "buy", "market", D("0.05"), category="linear")
    engine.place_order(1, "ETHUSDT", "sell", "market", D(3), category="spot")
    engine.place_order(2, "BTCUSD", "sell", "market", D(500))
    clock.now += 60_000
    return (
        engine.ledger(),
        engine.fills(1) + engine.fills(2),
        engine.book("BTCUSDT", 50, category="spot"),
        engine.public_trades("BTCUSDT", 100, category="spot"),
        engine.klines("BTCUSDT", 60_000, limit=5, category="spot"),
        engine.positions(2),
        engine.balances(1),
    )


def test_same_seed_and_calls_give_identical_results() -> None:
    first = scripted_session(42)
    assert first == scripted_session(42)
    other = scripted_session(43)
    assert first[0][0].order_id != other[0][0].order_id
    assert first[2] != other[2]


def test_reset_restores_the_initial_state() -> None:
    engine, _ = make(levels=10, seed=3)
    initial = engine.book("TSTUSDT", 10)
    funded(engine, 1)
    place(engine, 1, "buy", "5")
    assert engine.book("TSTUSDT", 10) != initial
    engine.reset()
    assert not engine.has_account(1) and engine.ledger() == []
    assert engine.book("TSTUSDT", 10) == initial
    assert engine.public_trades("TSTUSDT", 10) == []
    engine.reset(seed=4)
    assert engine.book("TSTUSDT", 10).bids != initial.bids
    funded(engine, 1)
    place(engine, 1, "buy", "1", "90", client_order_id="again")


# -- synthetic liquidity and market data ------------------------------------------------------


def test_book_refills_and_counts_updates() -> None:
    engine, _ = make(levels=10)
    funded(engine, 1, usdt="1000000", tst="100000")
    book = engine.book("TSTUSDT", 100)
    assert (book.update_id, book.seq) == (0, 0)
    total = sum((qty for _, qty in book.asks), D(0))
    place(engine, 1, "buy", str(total.quantize(D("0.1"))))
    after = engine.book("TSTUSDT", 100)
    assert len(after.asks) >= 5 and after.update_id == 1 and after.seq == 1
    place(engine, 1, "sell", "1", symbol="TSTPERP")
    assert engine.book("TSTPERP", 1).seq == 2 and engine.book("TSTUSDT", 1).seq == 1
    for _ in range(30):
        place(engine, 1, "sell", "100")
        assert len(engine.book("TSTUSDT", 100).bids) >= 5
    assert engine.audit() == []


def test_ticker_reflects_book_and_trades() -> None:
    engine, clock = make(levels=10)
    funded(engine, 1)
    before = engine.ticker("TSTUSDT")
    book = engine.book("TSTUSDT", 1)
    assert (before.bid, before.bid_size) == book.bids[0]
    assert (before.ask, before.ask_size) == book.asks[0]
    assert before.mark == before.index == (book.bids[0][0] + book.asks[0][0]) / 2
    assert before.last == D(100) and before.low_24h <= before.open_24h <= before.high_24h
    assert before.volume_24h > 0 and before.turnover_24h > 0
    clock.now += 1000
    order = place(engine, 1, "buy", "2")
    after = engine.ticker("TSTUSDT")
    assert after.last == engine.public_trades("TSTUSDT", 1)[0].price
    assert after.volume_24h == before.volume_24h + order.filled
    assert after.turnover_24h == before.turnover_24h + order.cum_quote
    assert after.high_24h >= after.last


def test_klines_are_a_consistent_random_walk() -> None:
    engine, clock = make(levels=10)
    minutes = engine.klines("TSTUSDT", 60_000, limit=30)
    assert len(minutes) == 30 and minutes == engine.klines("TSTUSDT", 60_000, limit=30)
    assert [c.start_ms % 60_000 for c in minutes] == [0] * 30
    assert all(b.start_ms - a.start_ms == 60_000 for a, b in pairwise(minutes))
    for candle in minutes:
        assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close)
        assert max(candle.open, candle.close) <= candle.high
    for a, b in pairwise(minutes):
        assert a.close == b.open
    # The walk ends at the reference price, where the seeded book is centred.
    assert minutes[-1].close == D(100)
    # Coarser candles aggregate the same minutes.
    (five,) = engine.klines("TSTUSDT", 300_000, end_ms=minutes[-6].start_ms, limit=1)
    parts = [c for c in minutes if five.start_ms <= c.start_ms < five.start_ms + 300_000]
    assert len(parts) == 5
    assert (five.open, five.close) == (parts[0].open, parts[-1].close)
    assert five.high == max(c.high for c in parts) and five.low == min(c.low for c in parts)
    assert five.volume == sum((c.volume for c in parts), D(0))
    assert five.turnover == sum((c.turnover for c in parts), D(0))
    # The current candle includes real trades.
    funded(engine, 1)
    clock.now += 1
    order = place(engine, 1, "buy", "3")
    current = engine.klines("TSTUSDT", 60_000, limit=1)[-1]
    assert current.close == engine.public_trades("TSTUSDT", 1)[0].price
    assert current.volume >= order.filled
    start = minutes[0].start_ms
    assert engine.klines("TSTUSDT", 60_000, start_ms=start, end_ms=start + 120_000) == minutes[:3]
    rejects("invalid_request", engine.klines, "TSTUSDT", 1000)
    rejects("invalid_request", engine.klines, "TSTUSDT", 60_000, limit=0)
    daily = engine.klines("TSTUSD", 86_400_000, limit=3)
    assert len(daily) == 3 and all(c.volume > 0 for c in daily)
