"""Listings and account-wide calls: open and closed orders, cancel-all, balances."""

from __future__ import annotations

from decimal import Decimal

from tests.conformance.conftest import KNOWN_DIFFERENCES, LINEAR, SPOT, Venue
from tests.conformance.test_mistakes import far_bid


def test_cancel_all_cancels_every_market(venue: Venue) -> None:
    ex = venue.ex
    # Order ids are unique per market only: Binance numbers each symbol's orders from 1.
    ids = set()
    for symbol, amount in ((SPOT, Decimal("0.001")), (SPOT, Decimal("0.002")), (LINEAR, None)):
        size = amount or Decimal("0.01")
        ids.add((symbol, ex.create_order(symbol, "limit", "buy", size, far_bid(venue, symbol)).id))
    assert {(o.symbol, o.id) for o in ex.fetch_open_orders()} == ids
    cancelled = ex.cancel_all_orders()
    assert {(o.symbol, o.id) for o in cancelled} == ids
    assert {o.status for o in cancelled} == {"canceled"}
    assert ex.fetch_open_orders() == []
    assert ex.cancel_all_orders(SPOT) == []


def test_closed_orders_newest_first_and_limited(venue: Venue) -> None:
    ex = venue.ex
    price = far_bid(venue, LINEAR)
    placed = []
    for n in range(4):
        order = ex.create_order(
            LINEAR, "limit", "buy", Decimal("0.01"), price, client_order_id=f"closed{n}"
        )
        ex.cancel_order(order.id, LINEAR)
        placed.append(order.id)
    closed = ex.fetch_closed_orders(LINEAR, None, 3)
    assert [o.id for o in closed] == placed[::-1][:3]
    assert {o.status for o in closed} == {"canceled"}
    everything = ex.fetch_closed_orders(LINEAR)
    assert [o.id for o in everything][:4] == placed[::-1]


def test_a_trade_moves_the_wallet_that_pays_for_it(venue: Venue) -> None:
    ex = venue.ex
    before = ex.fetch_balance()
    taken = ex.create_order(SPOT, "market", "buy", Decimal("0.001"))
    after = ex.fetch_balance()
    fills = [f for f in ex.fetch_my_trades(SPOT) if f.order_id == taken.id]
    fee = sum(f.fee or 0 for f in fills if f.fee_currency == "BTC")
    assert after["BTC"].total - before["BTC"].total == Decimal("0.001") - fee
    assert after["USDT"].total < before["USDT"].total
    assert after["USDT"].total + after["USDT"].used >= 0


def test_a_linear_trade_is_paid_from_the_wallet_behind_swaps(venue: Venue) -> None:
    # Binance keeps spot and USD-M wallets apart; Bybit's unified and OKX's trading accounts
    # back both. Either way fetch_balance("swap") is the wallet that pays, read without
    # reconnecting, and fetch_balance("spot") the one spot trades use.
    ex = venue.ex
    before = ex.fetch_balance("swap")["USDT"].total
    spot_before = ex.fetch_balance("spot")["USDT"].total
    taken = ex.create_order(LINEAR, "market", "buy", Decimal("0.01"))
    fees = sum(f.fee or 0 for f in ex.fetch_my_trades(LINEAR) if f.order_id == taken.id)
    assert fees > 0
    spot_after = ex.fetch_balance("spot")["USDT"].total
    if venue.exchange == "binance":
        assert spot_after == spot_before  # paid from the USD-M wallet
    if (venue.name, "balance.total") in KNOWN_DIFFERENCES:
        return
    assert ex.fetch_balance("swap")["USDT"].total == before - fees
    if venue.exchange != "binance":
        assert spot_after == spot_before - fees  # one wallet behind both
