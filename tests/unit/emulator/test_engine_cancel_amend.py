"""Unit tests of the emulator's matching engine: cancelling and amending orders."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.emulator.engine_helpers import T0, D, bal, funded, make, place, rejects, snapshot

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
