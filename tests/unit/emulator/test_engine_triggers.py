"""Conditional orders, stops and price moves of the emulator's engine
(``exchanges.emulator.triggers``, ``exchanges.emulator.prices``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.emulator.engine import Engine, EngineError
from exchanges.emulator.triggers import StopLevel
from tests.unit.emulator.engine_helpers import funded, make

D = Decimal
USER, OTHER = 1, 2


def engine_with_book() -> Engine:
    engine, _ = make(levels=20)
    funded(engine, USER, OTHER, usdt="100000")
    return engine


def size(engine: Engine) -> Decimal:
    [view] = engine.positions(USER, symbol="TSTPERP")
    return view.size if view.side != "sell" else -view.size


def test_a_trigger_waits_reserving_nothing_then_places_its_order() -> None:
    engine = engine_with_book()
    free = engine.balances(USER)["USDT"].free
    view = engine.place_trigger(
        USER, "TSTPERP", "buy", "market", D(2), trigger_price=D(105), direction="rise"
    )
    assert (view.status, view.order_id) == ("untriggered", None)
    assert engine.balances(USER)["USDT"].free == free
    engine.move_price("TSTPERP", last=D("104.5"))
    assert engine.get_trigger(USER, trigger_id=view.trigger_id).status == "untriggered"
    engine.move_price("TSTPERP", last=D(106))
    fired = engine.get_trigger(USER, trigger_id=view.trigger_id)
    assert fired.status == "triggered" and fired.order_id is not None
    assert engine.get_order(USER, order_id=fired.order_id).status == "filled"
    assert size(engine) == 2
    assert engine.audit() == []


def test_a_trigger_that_would_fire_at_once_is_refused_and_nothing_changes() -> None:
    engine = engine_with_book()
    with pytest.raises(EngineError) as refused:
        engine.place_trigger(
            USER, "TSTPERP", "buy", "market", D(1), trigger_price=D(99), direction="rise"
        )
    assert refused.value.kind == "trigger_would_fire"
    assert engine.triggers(USER) == []
    # Without a direction (OKX) the side of the price decides.
    view = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=D(95), direction=None
    )
    assert view.direction == "fall"


def test_mark_and_index_triggers_watch_their_own_price() -> None:
    engine = engine_with_book()
    mark = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=D(95), direction="fall",
        trigger_by="mark",
    )  # fmt: skip
    engine.move_price("TSTPERP", last=D(90), mark=D(100), index=D(90))
    assert engine.get_trigger(USER, trigger_id=mark.trigger_id).status == "untriggered"
    engine.move_price("TSTPERP", last=D(90), mark=D(94))
    assert engine.get_trigger(USER, trigger_id=mark.trigger_id).status == "triggered"
    ticker = engine.ticker("TSTPERP")
    # The stop sold into the bids below 90.
    assert (ticker.last < D(90), ticker.mark, ticker.index) == (True, D(94), ticker.index)


def test_a_sweep_fills_the_resting_orders_it_crosses() -> None:
    engine = engine_with_book()
    engine.place_order(USER, "TSTPERP", "sell", "limit", D(3), price=D(103))
    engine.move_price("TSTPERP", last=D(104))
    assert size(engine) == -3
    assert engine.ticker("TSTPERP").last == D(104)
    assert engine.audit() == []


def test_position_stops_close_the_position_and_go_with_it() -> None:
    engine = engine_with_book()
    engine.place_order(USER, "TSTPERP", "buy", "market", D(4))
    with pytest.raises(EngineError) as refused:
        engine.set_position_stops(USER, "TSTPERP", stop_loss=StopLevel(D(101)))
    assert refused.value.kind == "trigger_would_fire"
    engine.set_position_stops(
        USER, "TSTPERP", stop_loss=StopLevel(D(95)), take_profit=StopLevel(D(110))
    )
    engine.set_position_stops(USER, "TSTPERP", take_profit=StopLevel(D(108)))
    kinds = {(t.kind, t.trigger_price) for t in engine.triggers(USER)}
    assert kinds == {("stop_loss", D(95)), ("take_profit", D(108))}
    engine.move_price("TSTPERP", last=D(94))
    assert size(engine) == 0
    assert engine.triggers(USER) == []
    reasons = [(t.kind, t.cancel_reason) for t in engine.triggers(USER, open_only=False)]
    # Newest first: the take-profit at 108 went with the position, the one at 110 was replaced.
    assert reasons == [
        ("take_profit", "position_closed"),
        ("stop_loss", None),
        ("take_profit", "replaced"),
    ]
    with pytest.raises(EngineError) as none:
        engine.set_position_stops(USER, "TSTPERP", stop_loss=StopLevel(D(90)))
    assert none.value.kind == "no_position"


@pytest.mark.parametrize("whole", [True, False])
def test_stops_attached_to_an_order_guard_what_it_filled(whole: bool) -> None:
    engine = engine_with_book()
    order = engine.place_order(USER, "TSTPERP", "sell", "limit", D(2), price=D(102))
    engine.attach_stops(
        USER, order.order_id, take_profit=StopLevel(D(96)), stop_loss=StopLevel(D(106)),
        whole=whole,
    )  # fmt: skip
    assert engine.triggers(USER) == []  # the order has not filled yet
    engine.move_price("TSTPERP", last=D(102))
    assert size(engine) == -2
    stops = engine.triggers(USER)
    assert {(t.kind, t.side, t.close_position) for t in stops} == {
        ("take_profit", "buy", whole),
        ("stop_loss", "buy", whole),
    }
    engine.move_price("TSTPERP", last=D(107))
    assert size(engine) == 0
    assert engine.triggers(USER) == []
    assert engine.audit() == []


def test_a_trailing_stop_follows_the_best_price() -> None:
    engine = engine_with_book()
    engine.place_order(USER, "TSTPERP", "buy", "market", D(1))
    engine.set_position_stops(USER, "TSTPERP", trail_amount=D(3), activation=D(104))
    [trail] = engine.triggers(USER)
    assert trail.trigger_price is None  # not active yet
    engine.move_price("TSTPERP", last=D(105))
    assert engine.triggers(USER)[0].trigger_price == D(102)
    engine.move_price("TSTPERP", last=D(110))
    engine.move_price("TSTPERP", last=D(108))
    assert engine.triggers(USER)[0].trigger_price == D(107)
    assert size(engine) == 1
    engine.move_price("TSTPERP", last=D(107))
    assert size(engine) == 0


def test_an_oco_pair_cancels_its_other_half() -> None:
    engine = engine_with_book()
    engine.place_order(USER, "TSTPERP", "buy", "market", D(2))
    tp = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=D(110), direction="rise",
        reduce_only=True, kind="take_profit",
    )  # fmt: skip
    sl = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=D(90), direction="fall",
        reduce_only=True, kind="stop_loss",
    )  # fmt: skip
    engine.link_oco(tp.trigger_id, sl.trigger_id)
    engine.move_price("TSTPERP", last=D(111))
    assert engine.get_trigger(USER, trigger_id=sl.trigger_id).cancel_reason == "oco"
    assert size(engine) == 1


def test_a_trigger_that_cannot_place_its_order_is_rejected() -> None:
    engine = engine_with_book()
    view = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=D(95), direction="fall",
        reduce_only=True,
    )  # fmt: skip
    engine.move_price("TSTPERP", last=D(94))
    rejected = engine.get_trigger(USER, trigger_id=view.trigger_id)
    assert (rejected.status, rejected.reject_reason) == ("rejected", "reduce_only_rejected")


def test_reset_forgets_triggers_and_price_moves() -> None:
    engine = engine_with_book()
    engine.place_trigger(
        USER, "TSTPERP", "buy", "market", D(1), trigger_price=D(120), direction="rise"
    )
    engine.move_price("TSTPERP", last=D(110), mark=D(111))
    engine.reset()
    funded(engine, USER)
    assert engine.triggers(USER) == []
    assert engine.ticker("TSTPERP").last == D(100)


def test_a_waiting_trigger_amends_its_qty_and_price_then_places_the_new_order() -> None:
    engine = engine_with_book()
    view = engine.place_trigger(
        USER, "TSTPERP", "buy", "limit", D(2), price=D(107), trigger_price=D(105),
        direction="rise",
    )  # fmt: skip
    amended = engine.amend_trigger(USER, trigger_id=view.trigger_id, qty=D(3), price=D(108))
    assert (amended.qty, amended.price, amended.trigger_price) == (D(3), D(108), D(105))
    for refused_kind, changes in (
        ("invalid_request", {}),
        ("invalid_request", {"qty": D(3), "price": D(108)}),
        ("invalid_qty", {"qty": D("0.0001")}),
    ):
        with pytest.raises(EngineError) as refused:
            engine.amend_trigger(USER, trigger_id=view.trigger_id, **changes)
        assert refused.value.kind == refused_kind
    engine.move_price("TSTPERP", last=D(106))
    fired = engine.get_trigger(USER, trigger_id=view.trigger_id)
    assert fired.order_id is not None
    placed = engine.get_order(USER, order_id=fired.order_id)
    assert (placed.qty, placed.price) == (D(3), D(108))
    with pytest.raises(EngineError) as closed:
        engine.amend_trigger(USER, trigger_id=view.trigger_id, qty=D(4))
    assert closed.value.kind == "order_closed"


def test_market_and_trailing_triggers_refuse_what_they_cannot_change() -> None:
    engine = engine_with_book()
    market = engine.place_trigger(
        USER, "TSTPERP", "buy", "market", D(1), trigger_price=D(105), direction="rise"
    )
    with pytest.raises(EngineError) as no_price:
        engine.amend_trigger(USER, trigger_id=market.trigger_id, price=D(106))
    assert no_price.value.kind == "invalid_request"
    trailing = engine.place_trigger(
        USER, "TSTPERP", "sell", "market", D(1), trigger_price=None, direction=None,
        kind="trailing", trail_amount=D(2),
    )  # fmt: skip
    with pytest.raises(EngineError) as no_trailing:
        engine.amend_trigger(USER, trigger_id=trailing.trigger_id, qty=D(2))
    assert no_trailing.value.kind == "invalid_request"
    assert engine.get_trigger(USER, trigger_id=trailing.trigger_id).qty == D(1)
