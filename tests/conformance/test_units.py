"""One unit rule: base currency for spot and linear contracts, USD for inverse, everywhere.

The emulator's ledger records what the exchange's engine executed, in its own units (base for
spot and linear, USD for inverse), whatever the wire counted: it is the reference here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.errors import BadSymbol, InvalidOrder, NotSupported
from tests.conformance.conftest import INVERSE, KNOWN_DIFFERENCES, LINEAR, Venue


def test_a_linear_order_counts_the_base_currency(venue: Venue) -> None:
    ex = venue.ex
    market = ex.market(LINEAR)
    assert market.contract_size is not None
    placed = ex.create_order(LINEAR, "market", "buy", Decimal("0.01"))
    assert Decimal(venue.orders_sent()[-1]["qty"]) == Decimal("0.01")
    assert ex.fetch_order(placed.id, LINEAR).filled == Decimal("0.01")
    [position] = ex.fetch_positions([LINEAR])
    assert (position.side, position.size) == ("long", Decimal("0.01"))
    fills = [f for f in ex.fetch_my_trades(LINEAR) if f.order_id == placed.id]
    assert sum(f.amount for f in fills) == Decimal("0.01")


def test_steps_and_limits_are_in_the_same_unit_as_amounts(venue: Venue) -> None:
    market = venue.ex.market(LINEAR)
    assert market.amount_step is not None and market.min_amount is not None
    # The smallest valid order goes through as exactly that much base currency.
    venue.ex.create_order(LINEAR, "market", "buy", market.min_amount)
    assert Decimal(venue.orders_sent()[-1]["qty"]) == market.min_amount


def test_book_sizes_are_in_the_base_currency(venue: Venue) -> None:
    ex = venue.ex
    best_price, best_size = ex.fetch_order_book(LINEAR, 5).bids[0]
    if (venue.name, "ticker.bid_size") not in KNOWN_DIFFERENCES:
        assert ex.fetch_ticker(LINEAR).bid_size == best_size
    # Selling exactly the best bid's size takes that level and nothing beyond it: with sizes
    # in another unit the order would sweep deeper levels or be refused.
    sold = ex.create_order(LINEAR, "market", "sell", best_size)
    fills = [f for f in ex.fetch_my_trades(LINEAR) if f.order_id == sold.id]
    assert sum(f.amount for f in fills) == best_size
    assert {f.price for f in fills} == {best_price}
    trades = ex.fetch_trades(LINEAR, 20)
    assert sum(t.amount for t in trades if t.price == best_price) >= best_size


def test_an_amount_between_two_steps_is_refused_with_the_nearest_ones(venue: Venue) -> None:
    market = venue.ex.market(LINEAR)
    step = market.amount_step
    assert step is not None
    before = len(venue.orders_sent())
    with pytest.raises(InvalidOrder) as refused:
        venue.ex.create_order(LINEAR, "market", "buy", step * 10 + step / 2)
    assert f"{step * 10:f}" in str(refused.value) and f"{step * 11:f}" in str(refused.value)
    assert len(venue.orders_sent()) == before


def test_an_inverse_order_counts_usd(venue: Venue) -> None:
    if venue.exchange == "binance":
        # Binance's coin-margined contracts live on another API (COIN-M), which neither the
        # native adapter nor the emulator serves: the adapter says so instead of guessing.
        with pytest.raises((NotSupported, BadSymbol)):
            venue.ex.market(INVERSE)
        return
    ex = venue.ex
    market = ex.market(INVERSE)
    assert market.inverse is True
    ex.create_order(INVERSE, "market", "buy", Decimal(300))
    assert Decimal(venue.orders_sent()[-1]["qty"]) == Decimal(300)
    [position] = ex.fetch_positions([INVERSE])
    assert position.size == Decimal(300)
