"""Unit tests of the emulator's matching engine, one behaviour per test."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from exchanges.emulator.engine import (
    Engine,
    EngineError,
    InstrumentSpec,
    OrderView,
    default_instruments,
)

D = Decimal
T0 = 1_700_000_000_000

# Small, round instruments so expected balances can be worked out by hand. Engines built with
# levels=0 have empty books: every trade is between the test's own accounts.
TST = InstrumentSpec(
    symbol="TSTUSDT", category="spot", base="TST", quote="USDT", settle="USDT",
    tick_size=D(1), lot_size=D("0.1"), min_qty=D("0.1"), max_qty=D(1000), min_notional=D(0),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.001"), taker_fee=D("0.002"),
)  # fmt: skip
PERP = InstrumentSpec(
    symbol="TSTPERP", category="linear", base="TST", quote="USDT", settle="USDT",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(1000), min_notional=D(0),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
    max_leverage=D(50),
)  # fmt: skip
INV = InstrumentSpec(
    symbol="TSTUSD", category="inverse", base="TST", quote="USD", settle="TST",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(1_000_000), min_notional=D(0),
    contract_size=D(10), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
)  # fmt: skip


class Clock:
    """A hand-driven millisecond clock."""

    def __init__(self, start: int = T0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def make(*, levels: int = 0, seed: int = 1, custom: bool = True) -> tuple[Engine, Clock]:
    clock = Clock()
    instruments = [TST, PERP, INV] if custom else None
    return Engine(instruments=instruments, seed=seed, now_ms=clock, levels=levels), clock


def funded(engine: Engine, *uids: int, usdt: str = "10000", tst: str = "100") -> None:
    for uid in uids:
        engine.create_account(uid, {"USDT": D(usdt), "TST": D(tst)})


def bal(engine: Engine, uid: int, coin: str) -> tuple[Any, Any]:
    """(total, locked) of a coin, after checking that free is the rest."""
    view = engine.balances(uid)[coin]
    assert view.total == view.locked + view.free
    return view.total, view.locked


def snapshot(engine: Engine, uids: tuple[int, ...] = (1, 2, 3)) -> Any:
    specs = engine.instruments.values()
    return (
        engine.ledger(),
        [engine.balances(u) for u in uids if engine.has_account(u)],
        [engine.open_orders(u) for u in uids if engine.has_account(u)],
        [engine.fills(u) for u in uids if engine.has_account(u)],
        [engine.positions(u) for u in uids if engine.has_account(u)],
        [engine.book(s.symbol, 1000, category=s.category) for s in specs],
        [engine.public_trades(s.symbol, 1000, category=s.category) for s in specs],
    )


def rejects(kind: str, call: Any, *args: Any, **kwargs: Any) -> EngineError:
    with pytest.raises(EngineError) as info:
        call(*args, **kwargs)
    assert info.value.kind == kind, info.value
    return info.value


def place(
    engine: Engine, uid: int, side: str, qty: str, price: str | None = None, **kw: Any
) -> OrderView:
    kind = "limit" if price is not None else "market"
    p = D(price) if price is not None else None
    symbol = kw.pop("symbol", "TSTUSDT")
    return engine.place_order(uid, symbol, side, kind, D(qty), price=p, **kw)


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


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_releases_funds() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    buy = place(engine, 1, "buy", "2", "99")
    sell = place(engine, 1, "sell", "3", "120")
    place(engine, 2, "sell", "1", "99")  # partially fills the buy
    assert bal(engine, 1, "USDT") == (D(9901), D(99))
    cancelled = engine.cancel_order(1, "TSTUSDT", order_id=buy.order_id)
    assert (cancelled.status, cancelled.cancel_reason, cancelled.remaining) == (
        "partially_filled_cancelled", "user", D(0),
    )  # fmt: skip
    assert bal(engine, 1, "USDT") == (D(9901), 0)
    rejects("order_closed", engine.cancel_order, 1, "TSTUSDT", order_id=buy.order_id)
    rejects("order_not_found", engine.cancel_order, 1, "TSTUSDT", order_id="nope")
    rejects("order_not_found", engine.cancel_order, 2, "TSTUSDT", order_id=sell.order_id)
    rejects("order_not_found", engine.cancel_order, 1, "TSTPERP", order_id=sell.order_id)
    assert engine.book("TSTUSDT", 5).bids == ()


def test_cancel_all_filters_and_releases_everything() -> None:
    engine, _ = make()
    funded(engine, 1)
    a = place(engine, 1, "buy", "1", "90")
    b = place(engine, 1, "sell", "1", "120")
    c = place(engine, 1, "buy", "1", "95", symbol="TSTPERP")
    assert [o.order_id for o in engine.open_orders(1)] == [c.order_id, b.order_id, a.order_id]
    assert [o.order_id for o in engine.cancel_all(1, category="linear")] == [c.order_id]
    done = engine.cancel_all(1, symbol="TSTUSDT")
    assert [o.order_id for o in done] == [b.order_id, a.order_id]
    assert all(o.status == "cancelled" for o in done)
    assert engine.open_orders(1) == [] and engine.cancel_all(1) == []
    assert all(view.locked == 0 for view in engine.balances(1).values())
    assert [o.order_id for o in engine.closed_orders(1, symbol="TSTUSDT")] == [
        b.order_id, a.order_id,
    ]  # fmt: skip


# -- amend ------------------------------------------------------------------------------------


def test_amend_qty_decrease_keeps_priority() -> None:
    engine, _ = make()
    funded(engine, 1, 2, 3)
    first = place(engine, 1, "sell", "2", "101")
    place(engine, 3, "sell", "1", "101")
    amended = engine.amend_order(1, "TSTUSDT", order_id=first.order_id, qty=D(1))
    assert (amended.qty, amended.remaining, amended.status) == (D(1), D(1), "new")
    assert bal(engine, 1, "TST") == (D(100), D(1))
    place(engine, 2, "buy", "1", "101")
    assert engine.get_order(1, order_id=first.order_id).status == "filled"


@pytest.mark.parametrize("change", [{"qty": D(3)}, {"price": D(102)}])
def test_amend_increase_or_price_change_loses_priority(change: dict[str, Any]) -> None:
    engine, _ = make()
    funded(engine, 1, 2, 3)
    first = place(engine, 1, "sell", "2", "101")
    second = place(engine, 3, "sell", "1", "101")
    engine.amend_order(1, "TSTUSDT", order_id=first.order_id, **change)
    if "price" in change:
        engine.amend_order(1, "TSTUSDT", order_id=first.order_id, price=D(101))
    place(engine, 2, "buy", "1", "101")
    assert engine.get_order(3, order_id=second.order_id).status == "filled"
    assert engine.get_order(1, order_id=first.order_id).filled == 0


def test_amend_relocks_funds_and_can_fail_atomically() -> None:
    engine, _ = make()
    funded(engine, 1, usdt="1000")
    order = place(engine, 1, "buy", "5", "100", client_order_id="x")
    assert bal(engine, 1, "USDT") == (D(1000), D(500))
    engine.amend_order(1, "TSTUSDT", client_order_id="x", qty=D(8))
    assert bal(engine, 1, "USDT") == (D(1000), D(800))
    engine.amend_order(1, "TSTUSDT", client_order_id="x", price=D(50))
    assert bal(engine, 1, "USDT") == (D(1000), D(400))
    before = snapshot(engine)
    rejects("insufficient_funds", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id,
            qty=D(30))  # fmt: skip
    rejects("invalid_request", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id)
    rejects("invalid_request", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id,
            price=D(50))  # fmt: skip
    rejects("invalid_price", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id,
            price=D("50.5"))  # fmt: skip
    assert snapshot(engine) == before


def test_amend_to_a_crossing_price_trades_as_taker() -> None:
    engine, clock = make()
    funded(engine, 1, 2)
    order = place(engine, 1, "buy", "2", "99")
    place(engine, 2, "sell", "1", "101")
    clock.now += 5
    amended = engine.amend_order(1, "TSTUSDT", order_id=order.order_id, price=D(101))
    assert (amended.status, amended.filled, amended.remaining) == ("partially_filled", D(1), D(1))
    assert amended.updated_ms == T0 + 5 and amended.created_ms == T0
    (fill,) = engine.fills(1)
    assert not fill.is_maker and fill.fee_rate == D("0.002")
    assert engine.book("TSTUSDT", 5).bids == ((D(101), D(1)),)
    assert bal(engine, 1, "USDT") == (D(9899), D(101))
    assert engine.audit() == []


def test_amend_rules() -> None:
    engine, _ = make()
    funded(engine, 1, 2)
    order = place(engine, 1, "sell", "2", "101")
    place(engine, 2, "buy", "1", "101")
    rejects("invalid_qty", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id, qty=D(1))
    place(engine, 2, "buy", "1", "101")
    rejects("order_closed", engine.amend_order, 1, "TSTUSDT", order_id=order.order_id, qty=D(5))
    rejects("order_not_found", engine.amend_order, 1, "TSTUSDT", order_id="nope", qty=D(5))
    post = place(engine, 1, "sell", "1", "110", time_in_force="PostOnly")
    place(engine, 2, "buy", "1", "100")
    rejects("post_only_would_take", engine.amend_order, 1, "TSTUSDT", order_id=post.order_id,
            price=D(100))  # fmt: skip


# -- derivatives --------------------------------------------------------------------------------


def test_linear_margin_fees_and_pnl() -> None:
    engine, _ = make()
    funded(engine, 1, 2, usdt="1000")
    maker = place(engine, 2, "sell", "10", "100", symbol="TSTPERP")
    # Order margin: notional / leverage plus a fee at the higher rate, rounded up.
    assert bal(engine, 2, "USDT") == (D(1000), D("100.5"))
    taker = place(engine, 1, "buy", "10", symbol="TSTPERP")
    assert taker.fee_total == D("0.5") and taker.fee_currency == "USDT"
    assert bal(engine, 1, "USDT") == (D("999.5"), D(100))
    assert bal(engine, 2, "USDT") == (D("999.8"), D(100))
    assert engine.get_order(2, order_id=maker.order_id).fee_total == D("0.2")
    (long,) = engine.positions(1)
    assert (long.side, long.size, long.entry_price, long.position_margin) == (
        "buy", D(10), D(100), D(100),
    )  # fmt: skip
    assert long.leverage == 10 and long.realized_pnl == D("-0.5")
    (short,) = engine.positions(2, symbol="TSTPERP")
    assert (short.side, short.size) == ("sell", D(10))
    # The short closes at 110 against the long: +100 for one, -100 for the other.
    place(engine, 2, "buy", "10", "110", symbol="TSTPERP", reduce_only=True)
    assert bal(engine, 2, "USDT") == (D("999.8"), D(100))  # reduce-only locks nothing
    place(engine, 1, "sell", "10", symbol="TSTPERP", reduce_only=True)
    assert bal(engine, 1, "USDT") == (D("1098.95"), 0)
    assert bal(engine, 2, "USDT") == (D("899.58"), 0)
    (flat,) = engine.positions(1, symbol="TSTPERP")
    assert (flat.side, flat.size, flat.entry_price, flat.realized_pnl) == (
        "",
        D(0),
        None,
        D("98.95"),
    )
    assert engine.positions(2)[0].realized_pnl == D("-100.42")
    assert engine.audit() == []


def test_linear_unrealized_pnl_and_leverage() -> None:
    engine, _ = make()
    funded(engine, 1, 2, usdt="1000")
    engine.set_leverage(1, "TSTPERP", D(5))
    place(engine, 2, "sell", "10", "100", symbol="TSTPERP")
    place(engine, 1, "buy", "10", symbol="TSTPERP")
    place(engine, 2, "sell", "1", "104", symbol="TSTPERP")
    place(engine, 2, "buy", "1", "102", symbol="TSTPERP")
    (position,) = engine.positions(1)
    assert position.position_margin == D(200) and position.leverage == 5
    assert position.mark_price == D(103) and position.unrealized_pnl == D(30)
    assert position.liquidation_price is not None and position.liquidation_price < 100
    engine.set_leverage(1, "TSTPERP", D(20))
    assert engine.positions(1)[0].position_margin == D(50)
    assert bal(engine, 1, "USDT")[1] == D(50)
    rejects("insufficient_funds", engine.set_leverage, 1, "TSTPERP", D(1))
    rejects("invalid_request", engine.set_leverage, 1, "TSTPERP", D(51))
    rejects("invalid_request", engine.set_leverage, 1, "TSTUSDT", D(2))
    assert engine.audit() == []


def test_inverse_margin_fees_and_pnl_in_the_base_coin() -> None:
    engine, _ = make()
    funded(engine, 1, 2, tst="100")
    place(engine, 2, "sell", "100", "100", symbol="TSTUSD")
    # 100 contracts of 10 USD at 100 are worth 10 TST: margin 1 TST plus a 0.005 TST fee.
    assert bal(engine, 2, "TST") == (D(100), D("1.005"))
    order = place(engine, 1, "buy", "100", symbol="TSTUSD")
    assert (order.cum_quote, order.avg_price, order.fee_total) == (D(1000), D(100), D("0.005"))
    assert order.fee_currency == "TST"
    assert bal(engine, 1, "TST") == (D("99.995"), D(1))
    assert bal(engine, 2, "TST") == (D("99.998"), D(1))
    place(engine, 2, "buy", "100", "125", symbol="TSTUSD", reduce_only=True)
    place(engine, 1, "sell", "100", symbol="TSTUSD", reduce_only=True)
    # Long PnL = 100 * 10 * (1/100 - 1/125) = 2 TST; closing fees on 8 TST of notional.
    assert bal(engine, 1, "TST") == (D("101.991"), 0)
    assert bal(engine, 2, "TST") == (D("97.9964"), 0)
    assert engine.positions(1)[0].realized_pnl == D("1.991")
    assert engine.positions(2)[0].realized_pnl == D("-2.0036")
    assert bal(engine, 1, "USDT") == (D(10000), 0)
    assert engine.audit() == []


def test_loss_beyond_the_account_is_written_off() -> None:
    engine, _ = make()
    engine.create_account(1, {"USDT": D("100.5")})
    funded(engine, 2, usdt="100000")
    place(engine, 2, "sell", "10", "100", symbol="TSTPERP")
    place(engine, 1, "buy", "10", symbol="TSTPERP")
    assert bal(engine, 1, "USDT") == (D(100), D(100))
    place(engine, 2, "buy", "10", "50", symbol="TSTPERP")
    place(engine, 1, "sell", "10", symbol="TSTPERP", reduce_only=True)
    assert bal(engine, 1, "USDT") == (0, 0)
    assert engine.positions(1)[0].realized_pnl == D("-100.5")
    assert engine.audit() == []


def test_position_flip_in_one_fill() -> None:
    engine, _ = make()
    funded(engine, 1, 2, usdt="10000")
    place(engine, 2, "sell", "4", "100", symbol="TSTPERP")
    place(engine, 1, "buy", "4", symbol="TSTPERP")
    place(engine, 2, "buy", "10", "100", symbol="TSTPERP")
    place(engine, 1, "sell", "10", symbol="TSTPERP")
    (position,) = engine.positions(1)
    assert (position.side, position.size, position.entry_price) == ("sell", D(6), D(100))
    assert position.position_margin == D(60)
    assert engine.positions(2)[0].side == "buy" and engine.positions(2)[0].size == 6
    assert engine.audit() == []


def test_reduce_only_rules() -> None:
    engine, _ = make()
    funded(engine, 1, 2, usdt="100000")
    rejects("reduce_only_rejected", place, engine, 1, "sell", "1", "100", symbol="TSTPERP",
            reduce_only=True)  # fmt: skip
    place(engine, 2, "sell", "10", "100", symbol="TSTPERP")
    place(engine, 1, "buy", "10", symbol="TSTPERP")
    rejects("reduce_only_rejected", place, engine, 1, "buy", "1", "90", symbol="TSTPERP",
            reduce_only=True)  # fmt: skip
    rejects("reduce_only_rejected", place, engine, 1, "sell", "11", "120", symbol="TSTPERP",
            reduce_only=True)  # fmt: skip
    tp = place(engine, 1, "sell", "6", "120", symbol="TSTPERP", reduce_only=True)
    # A resting reduce-only order must fit next to the ones already resting...
    rejects("reduce_only_rejected", place, engine, 1, "sell", "5", "121", symbol="TSTPERP",
            reduce_only=True)  # fmt: skip
    # ...but one that only takes just has to fit the position; the resting one that no
    # longer fits the smaller position is cancelled.
    place(engine, 2, "buy", "5", "99", symbol="TSTPERP")
    place(engine, 1, "sell", "5", symbol="TSTPERP", reduce_only=True)
    assert engine.positions(1)[0].size == 5
    closed = engine.get_order(1, order_id=tp.order_id)
    assert (closed.status, closed.cancel_reason) == ("cancelled", "reduce_only")
    assert engine.audit() == []


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
