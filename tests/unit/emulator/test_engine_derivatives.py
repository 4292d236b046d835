"""Unit tests of the emulator's matching engine: derivatives (margin, fees, PnL, positions,
reduce-only)."""

from __future__ import annotations

from tests.unit.emulator.engine_helpers import D, bal, funded, make, place, rejects

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
