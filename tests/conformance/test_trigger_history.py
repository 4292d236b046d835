"""Finished conditional orders in ``fetch_closed_orders``, and conditional ids in
``cancel_orders``, the same on every venue.

Where conditional orders live apart (Binance USD-M algo orders, OKX algo orders), the closed
list adds the exchange's algo history (``/fapi/v1/allAlgoOrders``,
``/api/v5/trade/orders-algo-history``) to the ordinary one: a cancelled conditional order is
listed ``canceled``, a fired one ``closed`` as ``fetch_order`` reports it, and the order it
placed is listed as an ordinary order of its own. On Bybit a fired conditional order becomes
that order under the same id. Either way exactly one listed order carries the fill.

The batch cancel endpoints do not know algo ids: an item the batch calls unknown is tried once
more alone as a conditional order, and only then keeps ``OrderNotFound``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.errors import OrderNotFound
from exchanges.models import Order
from tests.conformance.conftest import LINEAR, SPOT, Venue
from tests.conformance.test_batch import UNKNOWN_ID, requests
from tests.conformance.test_mistakes import far_bid
from tests.conformance.test_triggers import AMOUNT, last_price, move, offered, waiting


def by_id(orders: list[Order], order_id: str | None) -> Order:
    [found] = [o for o in orders if o.id == order_id]
    return found


def test_finished_conditional_orders_are_listed_closed(venue: Venue) -> None:
    ex = venue.ex
    last = last_price(venue)

    def place() -> Order:
        return ex.create_order(LINEAR, "market", "buy", AMOUNT, trigger_price=last + 100)

    if not offered(venue, "order.trigger", place):
        return
    cancelled = place()
    assert cancelled.id is not None
    ex.cancel_order(cancelled.id, LINEAR)
    fired = place()
    move(venue, last=last + 200)
    assert waiting(venue) == []
    closed = ex.fetch_closed_orders(LINEAR)
    gone = by_id(closed, cancelled.id)
    assert (gone.status, gone.conditional, gone.trigger_price) == ("canceled", True, last + 100)
    done = by_id(closed, fired.id)
    assert (done.status, done.conditional, done.trigger_price) == ("closed", True, last + 100)
    assert done.status == ex.fetch_order(fired.id, LINEAR).status  # type: ignore[arg-type]
    # The fill is reported once: by the fired order itself (Bybit) or by the order it placed.
    assert [(o.side, o.status) for o in closed if o.filled == AMOUNT] == [("buy", "closed")]
    # Newest first, cut to the limit, conditional orders included.
    stamps = [o.updated or o.timestamp or 0 for o in closed]
    assert stamps == sorted(stamps, reverse=True)
    assert [o.id for o in ex.fetch_closed_orders(LINEAR, limit=1)] == [closed[0].id]
    # ``since`` bounds the conditional orders as it bounds the others.
    later = max(stamps) + 60_000
    assert ex.fetch_closed_orders(LINEAR, since=later) == []


@pytest.mark.parametrize("symbol", [LINEAR, SPOT])
def test_cancel_orders_cancels_a_conditional_order_by_its_id(venue: Venue, symbol: str) -> None:
    ex = venue.ex
    market = "swap" if symbol == LINEAR else "spot"
    caps = ex.capabilities
    if not caps.supports("cancel_orders", market=market):
        pytest.skip(f"{venue.name} does not batch {market} cancels (test_batch)")
    last = ex.fetch_ticker(symbol).last
    assert last is not None
    amount = AMOUNT if symbol == LINEAR else Decimal("0.001")

    def place() -> Order:
        return ex.create_order(symbol, "market", "buy", amount, trigger_price=last + 100)

    if not offered(venue, "order.trigger", place, market=market):
        return
    conditional = place()
    ordinary = ex.create_order(symbol, "limit", "buy", amount, far_bid(venue, symbol))
    ids = [conditional.id, ordinary.id, UNKNOWN_ID]
    result = ex.cancel_orders(ids, symbol)  # type: ignore[arg-type]
    assert [item.id for item in result] == ids
    assert [item.ok for item in result] == [True, True, False]
    assert type(result[2].error) is OrderNotFound
    for item in result[:2]:
        assert item.order is not None
        assert (item.order.id, item.order.status) == (item.id, "canceled")
    assert ex.fetch_open_orders(symbol) == []
    assert waiting(venue) == []
    # An id nobody issued costs the batch and at most one request more.
    before = requests(venue)
    [unknown] = ex.cancel_orders([UNKNOWN_ID], symbol)
    assert type(unknown.error) is OrderNotFound
    assert requests(venue) - before <= 2
