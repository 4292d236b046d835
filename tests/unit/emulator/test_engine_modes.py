"""Margin and hedge modes of the emulator's engine (``exchanges.emulator.modes``): legs that
trade apart, closing orders held to their leg, switches refused while anything is open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.emulator.engine import Engine, EngineError
from tests.unit.emulator.engine_helpers import PERP, funded, make

D = Decimal
USER, OTHER = 1, 2


def hedged_engine() -> Engine:
    engine, _ = make()
    funded(engine, USER, OTHER)
    engine.set_hedged(USER, [PERP], True)
    return engine


def trade(engine: Engine, side: str, qty: str, leg: str | None, *, price: str = "100") -> None:
    """``USER`` takes ``qty`` at ``price`` from a resting order of ``OTHER`` (one-way)."""
    maker_side = "sell" if side == "buy" else "buy"
    engine.place_order(OTHER, "TSTPERP", maker_side, "limit", D(qty), price=D(price))
    with engine.order_leg(leg):
        engine.place_order(USER, "TSTPERP", side, "market", D(qty))


def legs(engine: Engine) -> dict[str, tuple[str, Decimal]]:
    return {p.leg: (p.side, p.size) for p in engine.positions(USER, symbol="TSTPERP")}


def test_one_way_is_the_default_and_reports_one_position() -> None:
    engine, _ = make()
    funded(engine, USER, OTHER)
    trade(engine, "buy", "2", None)
    [view] = engine.positions(USER, symbol="TSTPERP")
    assert (view.leg, view.side, view.size, view.margin_mode) == ("", "buy", 2, "cross")


def test_hedge_legs_hold_a_long_and_a_short_at_once() -> None:
    engine = hedged_engine()
    trade(engine, "buy", "3", "long")
    trade(engine, "sell", "2", "short")
    assert legs(engine) == {"long": ("buy", D(3)), "short": ("sell", D(2))}
    # Selling on the long leg closes it, the short leg is untouched.
    trade(engine, "sell", "3", "long")
    assert legs(engine) == {"long": ("", D(0)), "short": ("sell", D(2))}
    assert engine.audit() == []


def test_a_hedge_order_must_name_its_leg_and_may_not_close_more_than_it_holds() -> None:
    engine = hedged_engine()
    with pytest.raises(EngineError) as missing:
        engine.place_order(USER, "TSTPERP", "buy", "limit", D(1), price=D(90))
    assert missing.value.kind == "position_side_required"
    trade(engine, "buy", "1", "long")
    engine.place_order(OTHER, "TSTPERP", "buy", "limit", D(5), price=D(100))
    with engine.order_leg("long"), pytest.raises(EngineError) as over:
        engine.place_order(USER, "TSTPERP", "sell", "market", D(2))
    assert over.value.kind == "reduce_only_rejected"


def test_a_resting_close_is_cancelled_when_its_leg_is_gone() -> None:
    engine = hedged_engine()
    trade(engine, "buy", "2", "long")
    with engine.order_leg("long"):
        close = engine.place_order(USER, "TSTPERP", "sell", "limit", D(2), price=D(150))
    assert close.status == "new"
    trade(engine, "sell", "2", "long")  # closed by another order: the resting close goes
    assert engine.get_order(USER, order_id=close.order_id).status == "cancelled"
    assert engine.audit() == []


def test_switches_are_refused_with_a_position_or_open_orders() -> None:
    engine, _ = make()
    funded(engine, USER, OTHER)
    engine.place_order(USER, "TSTPERP", "buy", "limit", D(1), price=D(50))
    with pytest.raises(EngineError) as orders:
        engine.set_hedged(USER, [PERP], True)
    assert orders.value.kind == "open_orders_exist"
    with pytest.raises(EngineError) as busy:
        engine.set_margin_mode(USER, "isolated", "TSTPERP", refuse_busy=True)
    assert busy.value.kind == "open_orders_exist"
    engine.cancel_all(USER)
    trade(engine, "buy", "1", None)
    assert engine.busy(USER, PERP) == "position_exists"
    # Setting the mode in force changes nothing and is never refused.
    engine.set_hedged(USER, [PERP], False)
    assert not engine.hedged(USER, "TSTPERP")


def test_margin_mode_per_instrument_overrides_the_account() -> None:
    engine, _ = make()
    funded(engine, USER)
    engine.set_margin_mode(USER, "isolated")
    assert engine.margin_mode(USER, "TSTPERP") == "isolated"
    engine.set_margin_mode(USER, "cross", "TSTPERP")
    assert engine.margin_mode(USER) == "isolated"
    assert engine.margin_mode(USER, "TSTPERP") == "cross"
    with pytest.raises(EngineError):
        engine.set_margin_mode(USER, "portfolio")


def test_leverage_re_margins_both_legs() -> None:
    engine = hedged_engine()
    trade(engine, "buy", "2", "long")
    trade(engine, "sell", "4", "short")
    engine.set_leverage(USER, "TSTPERP", D(5))
    margins = {p.leg: p.position_margin for p in engine.positions(USER, symbol="TSTPERP")}
    assert margins == {"long": D(40), "short": D(80)}
    assert engine.audit() == []
