"""The same fields in the same results: what the request said, the state, the time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.errors import NotSupported
from exchanges.models import Order
from tests.conformance.conftest import LINEAR, SPOT, Venue
from tests.conformance.test_mistakes import far_bid

#: Fields every order result carries on every adapter.
ORDER_FIELDS = (
    "id", "client_order_id", "symbol", "type", "side", "status", "price", "amount",
    "time_in_force", "post_only", "reduce_only", "timestamp",
)  # fmt: skip


def unset(order: Order, fields: tuple[str, ...] = ORDER_FIELDS) -> list[str]:
    return [name for name in fields if getattr(order, name) is None]


@pytest.mark.parametrize("symbol", [SPOT, LINEAR])
def test_a_resting_order_through_its_life(venue: Venue, symbol: str) -> None:
    ex = venue.ex
    market = ex.market(symbol)
    amount = market.min_amount * 2 if market.min_amount else Decimal("0.01")
    price = far_bid(venue, symbol)
    placed = ex.create_order(symbol, "limit", "buy", amount, price, client_order_id="life1")
    assert unset(placed) == []
    assert (placed.status, placed.type, placed.side, placed.price, placed.amount) == (
        "open",
        "limit",
        "buy",
        price,
        amount,
    )
    assert (placed.time_in_force, placed.post_only, placed.reduce_only) == ("GTC", False, False)
    fetched = ex.fetch_order(placed.id, symbol)
    assert unset(fetched) == []
    assert (fetched.id, fetched.client_order_id, fetched.status) == (placed.id, "life1", "open")
    assert fetched.filled == 0 and str(fetched.filled) == "0"
    cancelled = ex.cancel_order(placed.id, symbol)
    assert (cancelled.id, cancelled.status, cancelled.symbol) == (placed.id, "canceled", symbol)
    assert cancelled.timestamp is not None
    after = ex.fetch_order(None, symbol, client_order_id="life1")
    assert (after.status, after.filled, after.remaining) == ("canceled", 0, 0)


@pytest.mark.parametrize("symbol", [SPOT, LINEAR])
def test_a_market_order_reports_how_it_ended(venue: Venue, symbol: str) -> None:
    ex = venue.ex
    market = ex.market(symbol)
    amount = market.min_amount * 2 if market.min_amount else Decimal("0.01")
    taken = ex.create_order(symbol, "market", "buy", amount)
    assert unset(taken, tuple(f for f in ORDER_FIELDS if f != "price")) == []
    assert (taken.status, taken.filled, taken.remaining) == ("closed", amount, 0)
    assert taken.average is not None and taken.average > 0
    assert taken.cost is not None and taken.cost > 0
    fills = [f for f in ex.fetch_my_trades(symbol) if f.order_id == taken.id]
    assert sum(f.amount for f in fills) == amount
    for fill in fills:
        assert fill.fee is not None and fill.fee_currency is not None
        assert fill.is_maker is False and fill.side == "buy"


def test_an_amended_order_shows_its_new_values(venue: Venue) -> None:
    ex = venue.ex
    price = far_bid(venue, LINEAR)
    placed = ex.create_order(LINEAR, "limit", "buy", Decimal("0.01"), price)
    step = ex.market(LINEAR).price_step
    assert step is not None
    try:
        amended = ex.amend_order(placed.id, LINEAR, price=price - step, amount=Decimal("0.02"))
    except NotSupported:
        pytest.fail(f"{venue.name} cannot amend a linear order")
    assert (amended.id, amended.status) == (placed.id, "open")
    assert (amended.price, amended.amount) == (price - step, Decimal("0.02"))
    fetched = ex.fetch_order(placed.id, LINEAR)
    assert (fetched.price, fetched.amount) == (price - step, Decimal("0.02"))


def test_amending_a_spot_order_works_or_says_why_not(venue: Venue) -> None:
    ex = venue.ex
    price = far_bid(venue, SPOT)
    placed = ex.create_order(SPOT, "limit", "buy", Decimal("0.001"), price)
    step = ex.market(SPOT).price_step
    assert step is not None
    try:
        amended = ex.amend_order(placed.id, SPOT, price=price - step)
    except NotSupported as refused:
        # Binance spot has no in-place amend; the reason names the alternative.
        assert venue.exchange == "binance" and "cancel" in str(refused).lower()
        return
    assert (amended.id, amended.price, amended.status) == (placed.id, price - step, "open")
