"""Unit tests of the emulator's matching engine, one behaviour per test: the seeded book,
accounts, matching, validation, client order ids and insufficient funds."""

from __future__ import annotations

from typing import Any

import pytest

from exchanges.emulator.engine import EngineError, default_instruments
from tests.unit.emulator.engine_helpers import D, bal, funded, make, place, rejects, snapshot

# -- instruments and the seeded book ---------------------------------------------------------


def test_default_instruments_are_unique_and_realistic() -> None:
    specs = default_instruments()
    keys = [spec.key for spec in specs]
    assert len(keys) == len(set(keys))
    by_key = {spec.key: spec for spec in specs}
    btc = by_key[("spot", "BTCUSDT")]
    assert (btc.tick_size, btc.lot_size, btc.min_qty, btc.min_notional) == (
        D("0.01"), D("0.000001"), D("0.000048"), D(1),
    )  # fmt: skip
    assert by_key[("linear", "BTCUSDT")].tick_size == D("0.10")
    inverse = by_key[("inverse", "BTCUSD")]
    assert (inverse.settle, inverse.contract_size, inverse.lot_size) == ("BTC", D(1), D(1))
    assert by_key[("linear", "ETHUSDT")].taker_fee == D("0.00055")


def test_seeded_book_looks_like_a_market() -> None:
    engine, _ = make(levels=50, custom=False)
    for spec in engine.instruments.values():
        book = engine.book(spec.symbol, 100, category=spec.category)
        assert len(book.bids) == len(book.asks) == 50
        bid_prices = [p for p, _ in book.bids]
        ask_prices = [p for p, _ in book.asks]
        assert bid_prices == sorted(bid_prices, reverse=True)
        assert ask_prices == sorted(ask_prices)
        assert bid_prices[0] < spec.reference_price < ask_prices[0]
        assert ask_prices[0] - bid_prices[0] <= 4 * spec.tick_size
        for price, qty in book.bids + book.asks:
            assert price % spec.tick_size == 0 and qty % spec.lot_size == 0
            assert spec.min_qty <= qty <= spec.max_qty


def test_seed_decides_the_book() -> None:
    a, _ = make(levels=20, seed=5)
    b, _ = make(levels=20, seed=5)
    c, _ = make(levels=20, seed=6)
    assert a.book("TSTUSDT", 20) == b.book("TSTUSDT", 20)
    assert a.book("TSTUSDT", 20) != c.book("TSTUSDT", 20)


def test_ambiguous_symbol_needs_a_category() -> None:
    engine, _ = make(levels=5, custom=False)
    rejects("invalid_request", engine.book, "BTCUSDT", 5)
    assert engine.book("BTCUSDT", 5, category="linear").bids[0][0] % D("0.10") == 0
    assert engine.instrument("BTCUSD").category == "inverse"
    rejects("unknown_symbol", engine.book, "DOGEUSDT", 5)
    rejects("unknown_symbol", engine.instrument, "BTCUSD", "spot")


# -- accounts --------------------------------------------------------------------------------


def test_accounts_create_deposit_withdraw() -> None:
    engine, _ = make()
    funded(engine, 1)
    assert engine.has_account(1) and not engine.has_account(2) and not engine.has_account(0)
    rejects("invalid_request", engine.create_account, 1, {})
    rejects("invalid_request", engine.create_account, 0, {})
    rejects("invalid_request", engine.create_account, 5, {"USDT": D(-1)})
    rejects("invalid_request", engine.create_account, 5, {"USDT": 1.5})
    engine.deposit(1, "BTC", D("0.5"))
    engine.deposit(1, "USDT", D(-4000))
    assert bal(engine, 1, "BTC") == (D("0.5"), 0)
    assert bal(engine, 1, "USDT") == (D(6000), 0)
    rejects("insufficient_funds", engine.deposit, 1, "USDT", D(-6001))
    rejects("unknown_account", engine.deposit, 9, "USDT", D(1))
    rejects("unknown_account", engine.place_order, 9, "TSTUSDT", "buy", "market", D(1))


# -- resting, crossing, partial fills, fees ----------------------------------------------------


def test_limit_order_rests_and_locks_quote() -> None:
    engine, _ = make()
    funded(engine, 1)
    order = place(engine, 1, "buy", "2", "99", client_order_id="rest-1")
    assert (order.status, order.filled, order.remaining, order.post_only) == (
        "new",
        D(0),
        D(2),
        False,
    )
    assert bal(engine, 1, "USDT") == (D(10000), D(198))
    assert engine.book("TSTUSDT", 5).bids == ((D(99), D(2)),)
    assert engine.open_orders(1) == [order]
    assert engine.get_order(1, client_order_id="rest-1") == order
    assert engine.get_order(1, order_id=order.order_id) == order
    assert order.client_order_id == "rest-1" and order.uid == 1 and order.category == "spot"


def test_partial_fill_between_accounts_with_fees_in_received_coin() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    maker = place(engine, 1, "sell", "2", "101")
    assert bal(engine, 1, "TST") == (D(100), D(2))
    taker = place(engine, 2, "buy", "1.5", "102")
    # The taker fills at the maker's price, not its own limit.
    assert (taker.status, taker.filled, taker.avg_price) == ("filled", D("1.5"), D(101))
    assert taker.cum_quote == D("151.5") and taker.fee_total == D("0.003")
    assert taker.fee_currency == "TST"
    maker = engine.get_order(1, order_id=maker.order_id)
    assert (maker.status, maker.filled, maker.remaining) == ("partially_filled", D("1.5"), D("0.5"))
    assert maker.fee_total == D("0.1515") and maker.fee_currency == "USDT"
    # Buyer: pays the exact notional, receives base minus the taker fee (in base).
    assert bal(engine, 2, "USDT") == (D("9848.5"), 0)
    assert bal(engine, 2, "TST") == (D("101.497"), 0)
    # Seller: base leaves its lock, quote arrives minus the maker fee (in quote).
    assert bal(engine, 1, "TST") == (D("98.5"), D("0.5"))
    assert bal(engine, 1, "USDT") == (D("10151.3485"), 0)
    (buy_fill,) = engine.fills(2)
    (sell_fill,) = engine.fills(1)
    assert buy_fill.exec_id == sell_fill.exec_id
    assert (buy_fill.is_maker, sell_fill.is_maker) == (False, True)
    assert (buy_fill.fee_rate, sell_fill.fee_rate) == (D("0.002"), D("0.001"))
    assert buy_fill.value == sell_fill.value == D("151.5")
    (trade,) = engine.public_trades("TSTUSDT", 10)
    assert (trade.trade_id, trade.side, trade.price, trade.qty) == (
        buy_fill.exec_id, "buy", D(101), D("1.5"),
    )  # fmt: skip


def test_price_time_priority_across_accounts() -> None:
    engine, _ = make()
    funded(engine, 1, 2, 3)
    first = place(engine, 1, "sell", "1", "101")
    second = place(engine, 3, "sell", "1", "101")
    better = place(engine, 3, "sell", "1", "100")
    taker = place(engine, 2, "buy", "2.5", "101")
    fills = list(reversed(engine.fills(2)))
    assert [(f.price, f.qty) for f in fills] == [(D(100), D(1)), (D(101), D(1)), (D(101), D("0.5"))]
    assert taker.avg_price == D("100.6")
    assert engine.get_order(3, order_id=better.order_id).status == "filled"
    assert engine.get_order(1, order_id=first.order_id).status == "filled"
    assert engine.get_order(3, order_id=second.order_id).filled == D("0.5")


def test_trades_against_the_market_maker() -> None:
    engine, _ = make(levels=50, custom=False)
    engine.create_account(1, {"USDT": D(100000), "BTC": D(1)})
    ask, ask_qty = engine.book("BTCUSDT", 1, category="spot").asks[0]
    qty = min(ask_qty, D("0.01"))
    order = engine.place_order(1, "BTCUSDT", "buy", "market", qty, category="spot")
    assert order.status == "filled" and order.avg_price == ask
    (fill,) = engine.fills(1)
    assert fill.fee_currency == "BTC" and fill.fee == (qty * D("0.001")).quantize(D("1e-8"))
    assert bal(engine, 1, "BTC") == (1 + qty - fill.fee, 0)
    assert bal(engine, 1, "USDT") == (100000 - qty * ask, 0)
    assert engine.public_trades("BTCUSDT", 5, category="spot")[0].trade_id == fill.exec_id
    assert engine.audit() == []


# -- market orders, IOC, FOK, post-only ----------------------------------------------------------


def test_market_order_walks_the_book() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    for price in ("101", "102", "103"):
        place(engine, 1, "sell", "1", price)
    order = place(engine, 2, "buy", "2.5")
    assert (order.status, order.type, order.time_in_force) == ("filled", "market", "IOC")
    assert order.cum_quote == D("254.5") and order.avg_price == D("101.8")
    assert order.price is None
    assert engine.book("TSTUSDT", 5).asks == ((D(103), D("0.5")),)


def test_market_remainder_is_cancelled_when_liquidity_runs_out() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    place(engine, 1, "sell", "1", "101")
    order = place(engine, 2, "buy", "3")
    assert (order.status, order.filled, order.remaining) == (
        "partially_filled_cancelled", D(1), D(0),
    )  # fmt: skip
    assert order.cancel_reason == "ioc_remainder"
    assert engine.closed_orders(2) == [order]
    rejects("no_liquidity", place, engine, 2, "buy", "1")
    assert engine.audit() == []


def test_ioc_limit_cancels_its_remainder_and_releases_the_lock() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    place(engine, 1, "sell", "1", "101")
    order = place(engine, 2, "buy", "2", "102", time_in_force="IOC")
    assert (order.status, order.filled, order.cancel_reason) == (
        "partially_filled_cancelled", D(1), "ioc_remainder",
    )  # fmt: skip
    assert bal(engine, 2, "USDT") == (D(9899), 0)
    nothing = place(engine, 2, "buy", "1", "90", time_in_force="IOC")
    assert (nothing.status, nothing.filled) == ("cancelled", D(0))
    assert len(engine.ledger()) == 3


def test_fok_is_all_or_nothing() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    place(engine, 1, "sell", "1", "101")
    place(engine, 1, "sell", "1", "103")
    before = snapshot(engine)
    rejects("fok_unfillable", place, engine, 2, "buy", "2", "102", time_in_force="FOK")
    rejects("fok_unfillable", place, engine, 2, "buy", "3", time_in_force="FOK")
    assert snapshot(engine) == before
    order = place(engine, 2, "buy", "2", "103", time_in_force="FOK")
    assert (order.status, order.filled, order.time_in_force) == ("filled", D(2), "FOK")


def test_post_only_rests_or_is_rejected() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    place(engine, 1, "sell", "1", "101")
    before = snapshot(engine)
    rejects("post_only_would_take", place, engine, 2, "buy", "1", "101", time_in_force="PostOnly")
    assert snapshot(engine) == before
    order = place(engine, 2, "buy", "1", "100", time_in_force="PostOnly")
    assert (order.status, order.post_only, order.time_in_force) == ("new", True, "PostOnly")
    rejects("invalid_request", place, engine, 2, "buy", "1", time_in_force="PostOnly")


def test_self_trade_cancels_the_taker() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    place(engine, 2, "sell", "1", "100")
    own = place(engine, 1, "sell", "1", "101")
    order = place(engine, 1, "buy", "2", "101")
    assert (order.status, order.filled, order.cancel_reason) == (
        "partially_filled_cancelled", D(1), "self_trade",
    )  # fmt: skip
    assert engine.get_order(1, order_id=own.order_id).status == "new"
    assert bal(engine, 1, "USDT") == (D(9900), 0)
    assert engine.audit() == []


def test_quote_qty_market_buy_spends_a_quote_amount() -> None:
    engine, _ = make(levels=50, custom=False)
    engine.create_account(1, {"USDT": D(5000)})
    order = engine.place_order(
        1, "BTCUSDT", "buy", "market", D(1000), quote_qty=True, category="spot"
    )
    assert order.quote_qty and order.qty == D(1000) and order.status == "filled"
    assert D(1000) - D("0.07") < order.cum_quote <= D(1000)
    assert order.filled % D("0.000001") == 0
    assert bal(engine, 1, "USDT") == (5000 - order.cum_quote, 0)
    rejects("invalid_request", engine.place_order, 1, "BTCUSDT", "buy", "limit", D(10),
            price=D(60000), quote_qty=True, category="spot")  # fmt: skip


# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("qty", [D(0), D(-1), D("0.15"), D("0.05"), D(1001), 0.5])
def test_invalid_qty(qty: Any) -> None:
    engine, _ = make()
    funded(engine, 1)
    rejects("invalid_qty", engine.place_order, 1, "TSTUSDT", "buy", "limit", qty, price=D(99))


@pytest.mark.parametrize("price", [None, D(0), D(-5), D("99.5"), 99.0])
def test_invalid_price(price: Any) -> None:
    engine, _ = make()
    funded(engine, 1)
    rejects("invalid_price", engine.place_order, 1, "TSTUSDT", "buy", "limit", D(1), price=price)


def test_invalid_requests() -> None:
    engine, _ = make()
    funded(engine, 1)
    rejects("invalid_request", engine.place_order, 1, "TSTUSDT", "long", "limit", D(1), price=D(9))
    rejects("invalid_request", engine.place_order, 1, "TSTUSDT", "buy", "stop", D(1), price=D(9))
    rejects("invalid_request", place, engine, 1, "buy", "1", "9", time_in_force="GTD")
    rejects("invalid_request", place, engine, 1, "buy", "1", "9", reduce_only=True)
    rejects("unknown_symbol", place, engine, 1, "buy", "1", "9", symbol="NOPE")
    rejects("invalid_request", engine.get_order, 1)
    rejects("order_not_found", engine.get_order, 1, order_id="missing")


def test_min_notional() -> None:
    engine, _ = make(levels=5, custom=False)
    engine.create_account(1, {"USDT": D(1000)})
    rejects("min_notional", engine.place_order, 1, "BTCUSDT", "buy", "limit", D("0.000048"),
            price=D(10000), category="spot")  # fmt: skip
    order = engine.place_order(
        1, "BTCUSDT", "buy", "limit", D("0.000048"), price=D(30000), category="spot"
    )
    assert order.status == "new"
    rejects("min_notional", engine.place_order, 1, "BTCUSDT", "buy", "limit", D("0.001"),
            price=D(4000), category="linear")  # fmt: skip


# -- client order ids -------------------------------------------------------------------------


def test_duplicate_client_order_id_even_after_close() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    first = place(engine, 1, "buy", "1", "90", client_order_id="abc")
    before = snapshot(engine)
    rejects("duplicate_client_order_id", place, engine, 1, "buy", "1", "91", client_order_id="abc")
    assert snapshot(engine) == before
    engine.cancel_order(1, "TSTUSDT", client_order_id="abc")
    rejects("duplicate_client_order_id", place, engine, 1, "buy", "1", "91", client_order_id="abc")
    other = place(engine, 2, "buy", "1", "90", client_order_id="abc")
    assert other.uid == 2
    assert engine.get_order(1, client_order_id="abc").order_id == first.order_id
    rejects("order_not_found", engine.get_order, 1, order_id=other.order_id)
    rejects("order_not_found", engine.get_order, 1, order_id=first.order_id, client_order_id="x")


def test_rejected_order_does_not_use_up_its_client_id() -> None:
    engine, _ = make()
    funded(engine, 1, usdt="50")
    rejects("insufficient_funds", place, engine, 1, "buy", "1", "90", client_order_id="k")
    assert place(engine, 1, "buy", "0.5", "90", client_order_id="k").client_order_id == "k"


# -- insufficient funds -------------------------------------------------------------------------


def test_insufficient_funds_books_nothing() -> None:
    engine, _ = make()
    funded(engine, 1, 2, usdt="100", tst="1")
    place(engine, 2, "sell", "1", "101")
    place(engine, 2, "buy", "1", "90")
    before = snapshot(engine)
    rejects("insufficient_funds", place, engine, 1, "buy", "1", "101")
    rejects("insufficient_funds", place, engine, 1, "sell", "2", "150")
    rejects("insufficient_funds", place, engine, 1, "sell", "2")
    assert snapshot(engine) == before
    engine.deposit(1, "USDT", D(10))
    funded(engine, 3, tst="5")
    place(engine, 3, "sell", "1", "102")
    before = snapshot(engine)
    rejects("insufficient_funds", place, engine, 1, "buy", "2")  # the walk costs 203 > 110
    assert snapshot(engine) == before
    assert len(engine.ledger()) == 3 and engine.open_orders(1) == []


def test_failed_calls_do_not_shift_later_ids() -> None:
    def run(with_failures: bool) -> Any:
        engine, _ = make(levels=10)
        funded(engine, 1, usdt="1000")
        if with_failures:
            with pytest.raises(EngineError):
                place(engine, 1, "buy", "100", "101")
            with pytest.raises(EngineError):
                place(engine, 1, "buy", "900", "101", time_in_force="FOK")
        place(engine, 1, "buy", "1", "105")
        return engine.ledger(), engine.fills(1)

    assert run(True) == run(False)
