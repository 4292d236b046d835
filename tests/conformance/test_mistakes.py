"""One error class per mistake, on every adapter, and nothing sent when it is caught locally."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import pytest

from exchanges.errors import (
    DuplicateOrderId,
    InsufficientFunds,
    InvalidOrder,
    OrderImmediatelyFillable,
    OrderNotFillable,
    OrderNotFound,
)
from tests.conformance.conftest import LINEAR, SPOT, Venue


def far_bid(venue: Venue, symbol: str) -> Decimal:
    """A price well below the market, valid for the market's tick."""
    market = venue.ex.market(symbol)
    bid = venue.ex.fetch_order_book(symbol, 5).bids[0][0]
    return market.round_price(bid * Decimal("0.9"), ROUND_DOWN)


def refused_locally(venue: Venue, error: type[Exception], *args: object, **kw: object) -> str:
    """The message of ``error`` raised by ``create_order(*args)`` before anything was sent."""
    before = len(venue.orders_sent())
    with pytest.raises(error) as caught:
        venue.ex.create_order(*args, **kw)  # type: ignore[arg-type]
    assert len(venue.orders_sent()) == before
    assert type(caught.value) is error
    return str(caught.value)


def test_an_amount_below_the_minimum(venue: Venue) -> None:
    minimum = venue.ex.market(LINEAR).min_amount
    assert minimum is not None
    text = refused_locally(venue, InvalidOrder, LINEAR, "market", "buy", minimum / 10)
    assert "below" in text and f"{minimum:f}" in text


def test_an_amount_above_the_maximum(venue: Venue) -> None:
    maximum = venue.ex.market(LINEAR).max_amount
    assert maximum is not None
    price = far_bid(venue, LINEAR)
    text = refused_locally(venue, InvalidOrder, LINEAR, "limit", "buy", maximum * 2, price)
    assert "above" in text and f"{maximum:f}" in text


def test_a_price_off_the_tick(venue: Venue) -> None:
    market = venue.ex.market(LINEAR)
    assert market.price_step is not None and market.min_amount is not None
    off = far_bid(venue, LINEAR) + market.price_step / 2
    text = refused_locally(venue, InvalidOrder, LINEAR, "limit", "buy", market.min_amount, off)
    assert "nearest valid prices" in text


def test_a_value_below_the_minimum_notional(venue: Venue) -> None:
    market = venue.ex.market(SPOT)
    if market.min_notional is None:
        pytest.skip(f"{venue.name} lists no minimum order value for {SPOT}")
    assert market.price_step is not None and market.amount_step is not None
    price = far_bid(venue, SPOT)
    amount = max(market.min_amount or market.amount_step, market.amount_step)
    while amount * price >= market.min_notional:
        price = market.round_price(price / 2, ROUND_DOWN)
    text = refused_locally(venue, InvalidOrder, SPOT, "limit", "buy", amount, price)
    assert "minimum" in text


def test_a_post_only_order_that_would_take(venue: Venue) -> None:
    ex = venue.ex
    ask = ex.fetch_order_book(LINEAR, 5).asks[0][0]
    with pytest.raises(OrderImmediatelyFillable):
        ex.create_order(LINEAR, "limit", "buy", Decimal("0.01"), ask, post_only=True)
    assert ex.fetch_open_orders(LINEAR) == []


def test_a_fill_or_kill_order_that_cannot_fill(venue: Venue) -> None:
    ex = venue.ex
    price = far_bid(venue, LINEAR)
    with pytest.raises(OrderNotFillable):
        ex.create_order(LINEAR, "limit", "buy", Decimal("0.01"), price, time_in_force="FOK")
    assert ex.fetch_open_orders(LINEAR) == []


def test_a_reduce_only_order_that_would_open_a_position(venue: Venue) -> None:
    with pytest.raises(InvalidOrder):
        venue.ex.create_order(LINEAR, "market", "sell", Decimal("0.01"), reduce_only=True)
    assert venue.ex.fetch_positions([LINEAR]) == []


def test_an_order_the_balance_cannot_pay_for(venue: Venue) -> None:
    price = far_bid(venue, LINEAR)
    with pytest.raises(InsufficientFunds):
        venue.ex.create_order(LINEAR, "limit", "buy", Decimal(1000), price)


def test_an_order_that_does_not_exist(venue: Venue) -> None:
    with pytest.raises(OrderNotFound):
        venue.ex.fetch_order(None, LINEAR, client_order_id="nosuchorder1")
    with pytest.raises(OrderNotFound):
        venue.ex.cancel_order(None, LINEAR, client_order_id="nosuchorder2")


def test_a_client_order_id_used_twice(venue: Venue) -> None:
    price = far_bid(venue, LINEAR)
    venue.ex.create_order(LINEAR, "limit", "buy", Decimal("0.01"), price, client_order_id="dup1")
    with pytest.raises(DuplicateOrderId):
        venue.ex.create_order(
            LINEAR, "limit", "buy", Decimal("0.01"), price, client_order_id="dup1"
        )
    assert [o["client_order_id"] for o in venue.orders_sent()].count("dup1") == 1
