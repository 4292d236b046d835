"""Time in force and reduce-only: one outcome per case on every venue, whatever each exchange
says natively.

* GTC rests until cancelled.
* IOC fills what it can at once; the rest is cancelled: status ``canceled`` everywhere (Binance
  reports its remainder ``EXPIRED``, Bybit and OKX ``Cancelled``/``canceled``).
* FOK fills in full at once, or is refused with ``OrderNotFillable`` and fills nothing (Binance
  rejects it, -5021; Bybit and OKX accept and cancel it).
* Post-only that would take is refused with ``OrderImmediatelyFillable`` and rests nowhere
  (Binance -5022; Bybit and OKX cancel it at once).
* GTD only where native (Binance USD-M ``goodTillDate``, the native adapter and the ccxt bridge):
  the order rests with ``good_till`` and is ``expired`` once that time has passed; a time less
  than 600 s ahead is ``InvalidOrder`` (-5040). Elsewhere ``NotSupported`` before anything is
  sent, with the reason the capabilities declare.
* A reduce-only order that would open, increase or flip a position is ``InvalidOrder`` and
  places nothing, with the exchange's own code (Bybit 110017, Binance -2022, OKX 51169 without
  a position, 51170 on the position's side, 51148 larger than the position).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.errors import (
    InvalidOrder,
    NotSupported,
    OrderImmediatelyFillable,
    OrderNotFillable,
)
from tests.conformance.conftest import LINEAR, SPOT, Venue
from tests.conformance.test_mistakes import far_bid

AMOUNT = Decimal("0.01")
#: The reduce-only refusal's native code per exchange and case.
REDUCE_ONLY_CODES = {
    "bybit": {"none": "110017", "same_side": "110017", "larger": "110017"},
    "binance": {"none": "-2022", "same_side": "-2022", "larger": "-2022"},
    "okx": {"none": "51169", "same_side": "51170", "larger": "51148"},
}
#: Where GTD is native: Binance USD-M (native adapter and ccxt bridge).
GTD_VENUES = ("binance", "ccxt:binance")


def sent(venue: Venue) -> int:
    return len(venue.orders_sent())


def long_position(venue: Venue, amount: Decimal) -> Decimal:
    venue.ex.create_order(LINEAR, "market", "buy", amount)
    [position] = venue.ex.fetch_positions([LINEAR])
    assert position.side == "long"
    return position.size


def test_gtc_rests_until_cancelled(venue: Venue) -> None:
    ex = venue.ex
    placed = ex.create_order(LINEAR, "limit", "buy", AMOUNT, far_bid(venue, LINEAR))
    assert (placed.status, placed.time_in_force, placed.post_only) == ("open", "GTC", False)
    assert [o.id for o in ex.fetch_open_orders(LINEAR)] == [placed.id]
    assert ex.cancel_order(placed.id, LINEAR).status == "canceled"


def test_ioc_fills_what_it_can_and_the_rest_is_cancelled(venue: Venue) -> None:
    ex = venue.ex
    step = ex.market(LINEAR).amount_step
    assert step is not None
    ask, size = ex.fetch_order_book(LINEAR, 5).asks[0]
    amount = size + step * 10
    order = ex.create_order(LINEAR, "limit", "buy", amount, ask, time_in_force="IOC")
    assert (order.status, order.time_in_force) == ("canceled", "IOC")
    assert (order.filled, order.remaining, order.amount) == (size, 0, amount)
    fetched = ex.fetch_order(order.id, LINEAR)
    assert (fetched.status, fetched.filled) == ("canceled", size)
    assert ex.fetch_open_orders(LINEAR) == []
    [position] = ex.fetch_positions([LINEAR])
    assert position.size == size


def test_fok_fills_in_full_or_not_at_all(venue: Venue) -> None:
    ex = venue.ex
    book = ex.fetch_order_book(LINEAR, 5)
    price = book.asks[2][0]
    available = sum(size for level, size in book.asks if level <= price)
    order = ex.create_order(LINEAR, "limit", "buy", AMOUNT, price, time_in_force="FOK")
    assert (order.status, order.filled, order.time_in_force) == ("closed", AMOUNT, "FOK")
    step = ex.market(LINEAR).amount_step
    assert step is not None
    too_much = available - AMOUNT + step
    with pytest.raises(OrderNotFillable):
        ex.create_order(LINEAR, "limit", "buy", too_much, price, time_in_force="FOK")
    [position] = ex.fetch_positions([LINEAR])
    assert position.size == AMOUNT  # the refused FOK filled nothing
    assert ex.fetch_open_orders(LINEAR) == []


@pytest.mark.parametrize("how", ["post_only", "time_in_force"])
def test_post_only_rests_or_is_refused_when_it_would_take(venue: Venue, how: str) -> None:
    ex = venue.ex
    flag = {"post_only": True} if how == "post_only" else {"time_in_force": "PO"}
    resting = ex.create_order(LINEAR, "limit", "buy", AMOUNT, far_bid(venue, LINEAR), **flag)
    assert (resting.status, resting.post_only, resting.time_in_force) == ("open", True, "PO")
    ask = ex.fetch_order_book(LINEAR, 5).asks[0][0]
    with pytest.raises(OrderImmediatelyFillable):
        ex.create_order(LINEAR, "limit", "buy", AMOUNT, ask, **flag)
    assert [o.id for o in ex.fetch_open_orders(LINEAR)] == [resting.id]
    assert ex.fetch_positions([LINEAR]) == []


def test_gtd_is_declared_where_it_is_native(venue: Venue) -> None:
    caps = venue.ex.capabilities
    native = venue.name in GTD_VENUES
    assert caps.supports("time_in_force.GTD", market="swap") is native
    assert caps.supports("time_in_force.GTD", market="spot") is False
    if not native:
        assert caps["time_in_force.GTD"].reason


def test_gtd_rests_until_its_time_then_expires(venue: Venue) -> None:
    ex = venue.ex
    now = ex.fetch_time()
    good_till = (now // 1000 + 3600) * 1000
    before = sent(venue)
    if venue.name not in GTD_VENUES:
        with pytest.raises(NotSupported, match="GTD"):
            ex.create_order(
                LINEAR, "limit", "buy", AMOUNT, Decimal(1000), time_in_force="GTD",
                good_till=good_till,
            )  # fmt: skip
        assert sent(venue) == before
        return
    with pytest.raises(NotSupported, match="GTD"):
        ex.create_order(
            SPOT, "limit", "buy", AMOUNT, Decimal(1000), time_in_force="GTD", good_till=good_till
        )
    with pytest.raises(InvalidOrder) as soon:
        ex.create_order(
            LINEAR, "limit", "buy", AMOUNT, far_bid(venue, LINEAR), time_in_force="GTD",
            good_till=now + 60_000,
        )  # fmt: skip
    assert str(soon.value.code) == "-5040"
    assert sent(venue) == before
    placed = ex.create_order(
        LINEAR, "limit", "buy", AMOUNT, far_bid(venue, LINEAR), time_in_force="GTD",
        good_till=good_till,
    )  # fmt: skip
    assert (placed.status, placed.time_in_force, placed.good_till) == ("open", "GTD", good_till)
    fetched = ex.fetch_order(placed.id, LINEAR)
    assert (fetched.status, fetched.time_in_force, fetched.good_till) == (
        "open",
        "GTD",
        good_till,
    )
    venue.emu.set_clock_offset(3_700_000)  # past good_till on the exchange's clock
    lapsed = ex.fetch_order(placed.id, LINEAR)
    assert (lapsed.status, lapsed.filled, lapsed.good_till) == ("expired", 0, good_till)
    assert ex.fetch_open_orders(LINEAR) == []


def refused(venue: Venue, case: str, side: str, amount: Decimal, **kw: object) -> None:
    before = sent(venue)
    with pytest.raises(InvalidOrder) as caught:
        venue.ex.create_order(LINEAR, "market", side, amount, reduce_only=True, **kw)  # type: ignore[arg-type]
    assert type(caught.value) is InvalidOrder
    assert str(caught.value.code) == REDUCE_ONLY_CODES[venue.exchange][case]
    assert sent(venue) == before


def test_reduce_only_that_would_open_a_position_places_nothing(venue: Venue) -> None:
    refused(venue, "none", "sell", AMOUNT)
    refused(venue, "none", "buy", AMOUNT)
    assert venue.ex.fetch_positions([LINEAR]) == []


def test_reduce_only_that_would_increase_or_flip_a_position_places_nothing(venue: Venue) -> None:
    size = long_position(venue, AMOUNT * 2)
    refused(venue, "same_side", "buy", AMOUNT)
    refused(venue, "larger", "sell", size * 2)
    [position] = venue.ex.fetch_positions([LINEAR])
    assert (position.side, position.size) == ("long", size)
    reduced = venue.ex.create_order(LINEAR, "market", "sell", AMOUNT, reduce_only=True)
    assert (reduced.status, reduced.reduce_only, reduced.filled) == ("closed", True, AMOUNT)
    [position] = venue.ex.fetch_positions([LINEAR])
    assert (position.side, position.size) == ("long", size - AMOUNT)
