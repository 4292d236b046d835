"""The instruments, clock and helpers the engine's unit tests share."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchanges.emulator.engine import (
    Engine,
    EngineError,
    InstrumentSpec,
    OrderView,
)

D = Decimal
T0 = 1_700_000_000_000

# Small, round instruments so expected balances can be worked out by hand. Engines built with
# levels=0 have empty books: every trade is between the test's own accounts.
TST = InstrumentSpec(
    symbol="TSTUSDT", category="spot", base="TST", quote="USDT", settle="USDT",
    tick_size=D(1), lot_size=D("0.1"), min_qty=D("0.1"), max_qty=D(1000), min_notional=D(0),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.001"), taker_fee=D("0.002"),
)  # fmt: skip
PERP = InstrumentSpec(
    symbol="TSTPERP", category="linear", base="TST", quote="USDT", settle="USDT",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(1000), min_notional=D(0),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
    max_leverage=D(50),
)  # fmt: skip
INV = InstrumentSpec(
    symbol="TSTUSD", category="inverse", base="TST", quote="USD", settle="TST",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(1_000_000), min_notional=D(0),
    contract_size=D(10), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
)  # fmt: skip


class Clock:
    """A hand-driven millisecond clock."""

    def __init__(self, start: int = T0) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


def make(*, levels: int = 0, seed: int = 1, custom: bool = True) -> tuple[Engine, Clock]:
    clock = Clock()
    instruments = [TST, PERP, INV] if custom else None
    return Engine(instruments=instruments, seed=seed, now_ms=clock, levels=levels), clock


def funded(engine: Engine, *uids: int, usdt: str = "10000", tst: str = "100") -> None:
    for uid in uids:
        engine.create_account(uid, {"USDT": D(usdt), "TST": D(tst)})


def bal(engine: Engine, uid: int, coin: str) -> tuple[Any, Any]:
    """(total, locked) of a coin, after checking that free is the rest."""
    view = engine.balances(uid)[coin]
    assert view.total == view.locked + view.free
    return view.total, view.locked


def snapshot(engine: Engine, uids: tuple[int, ...] = (1, 2, 3)) -> Any:
    specs = engine.instruments.values()
    return (
        engine.ledger(),
        [engine.balances(u) for u in uids if engine.has_account(u)],
        [engine.open_orders(u) for u in uids if engine.has_account(u)],
        [engine.fills(u) for u in uids if engine.has_account(u)],
        [engine.positions(u) for u in uids if engine.has_account(u)],
        [engine.book(s.symbol, 1000, category=s.category) for s in specs],
        [engine.public_trades(s.symbol, 1000, category=s.category) for s in specs],
    )


def rejects(kind: str, call: Any, *args: Any, **kwargs: Any) -> EngineError:
    with pytest.raises(EngineError) as info:
        call(*args, **kwargs)
    assert info.value.kind == kind, info.value
    return info.value


def place(
    engine: Engine, uid: int, side: str, qty: str, price: str | None = None, **kw: Any
) -> OrderView:
    kind = "limit" if price is not None else "market"
    p = D(price) if price is not None else None
    symbol = kw.pop("symbol", "TSTUSDT")
    return engine.place_order(uid, symbol, side, kind, D(qty), price=p, **kw)
