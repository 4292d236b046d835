"""Random sessions of several accounts against the engine, checking its invariants each step."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from exchanges.emulator.engine import Engine, EngineError, FillView, InstrumentSpec

D = Decimal
T0 = 1_700_000_000_000
UIDS = (1, 2, 3)
START = {"USDT": D(20_000), "TST": D(200)}

SPOT = InstrumentSpec(
    symbol="TSTUSDT", category="spot", base="TST", quote="USDT", settle="USDT",
    tick_size=D(1), lot_size=D("0.1"), min_qty=D("0.1"), max_qty=D(1000), min_notional=D(1),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.001"), taker_fee=D("0.002"),
)  # fmt: skip
LINEAR = InstrumentSpec(
    symbol="TSTPERP", category="linear", base="TST", quote="USDT", settle="USDT",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(1000), min_notional=D(0),
    contract_size=D(1), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
)  # fmt: skip
INVERSE = InstrumentSpec(
    symbol="TSTUSD", category="inverse", base="TST", quote="USD", settle="TST",
    tick_size=D("0.5"), lot_size=D(1), min_qty=D(1), max_qty=D(100_000), min_notional=D(0),
    contract_size=D(10), reference_price=D(100), maker_fee=D("0.0002"), taker_fee=D("0.0005"),
)  # fmt: skip
INSTRUMENTS = (SPOT, LINEAR, INVERSE)
CLIENT_IDS = (None, None, "a", "b", "c", "d", "e")
ERROR_KINDS_ALLOWED = {
    "insufficient_funds", "duplicate_client_order_id", "order_not_found", "order_closed",
    "post_only_would_take", "fok_unfillable", "reduce_only_rejected", "no_liquidity",
    "invalid_request", "invalid_qty", "min_notional",
}  # fmt: skip


class Clock:
    """A hand-driven millisecond clock."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


@settings(max_examples=50, stateful_step_count=40, deadline=None)
class EngineMachine(RuleBasedStateMachine):
    """Three funded accounts trading spot, linear and inverse against each other and the MM."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.engine = Engine(instruments=list(INSTRUMENTS), now_ms=self.clock, levels=6)

    @initialize(seed=st.integers(0, 3))
    def open_accounts(self, seed: int) -> None:
        self.engine.reset(seed)
        for uid in UIDS:
            self.engine.create_account(uid, START)
        # Every account joins the best levels, so takers soon meet users and not only the
        # market maker.
        for uid in UIDS:
            for spec in INSTRUMENTS:
                book = self.engine.book(spec.symbol, 1, category=spec.category)
                qty = spec.lot_size * (50 if spec.category == "inverse" else 5)
                for side, levels in (("buy", book.bids), ("sell", book.asks)):
                    self.engine.place_order(
                        uid, spec.symbol, side, "limit", qty, price=levels[0][0],
                        time_in_force="PostOnly", category=spec.category,
                    )  # fmt: skip

    # -- rules ------------------------------------------------------------------------------------

    def _state(self) -> Any:
        engine = self.engine
        return (
            engine.ledger(),
            [engine.balances(uid) for uid in UIDS],
            [engine.positions(uid) for uid in UIDS],
            [engine.fills(uid) for uid in UIDS],
            [engine.book(s.symbol, 1000, category=s.category) for s in INSTRUMENTS],
            [engine.public_trades(s.symbol, 10_000, category=s.category) for s in INSTRUMENTS],
        )

    def _attempt(self, call: Any, **kwargs: Any) -> None:
        """Run an engine call; a rejection must be an expected kind and change nothing."""
        before = self._state()
        try:
            result = call(**kwargs)
        except EngineError as error:
            event(f"{call.__name__}: {error.kind}")
            assert error.kind in ERROR_KINDS_ALLOWED, error
            assert self._state() == before, f"{error} changed the state"
        else:
            event(f"{call.__name__}: {getattr(result, 'status', 'ok')}")

    @rule(
        uid=st.sampled_from(UIDS),
        spec=st.sampled_from(INSTRUMENTS),
        side=st.sampled_from(("buy", "sell")),
        type_=st.sampled_from(("limit", "limit", "market")),
        tif=st.sampled_from(("GTC", "GTC", "IOC", "FOK", "PostOnly")),
        lots=st.integers(1, 40),
        offset=st.integers(-6, 6),
        reduce_only=st.booleans(),
        quote_qty=st.booleans(),
        client_order_id=st.sampled_from(CLIENT_IDS),
    )
    def place(
        self,
        uid: int,
        spec: InstrumentSpec,
        side: str,
        type_: str,
        tif: str,
        lots: int,
        offset: int,
        reduce_only: bool,
        quote_qty: bool,
        client_order_id: str | None,
    ) -> None:
        if type_ == "market" and tif == "PostOnly":
            tif = "IOC"
        is_quote = quote_qty and spec.category == "spot" and type_ == "market" and side == "buy"
        mid = self.engine.ticker(spec.symbol, category=spec.category).mark
        price = (mid / spec.tick_size).to_integral_value() * spec.tick_size
        qty = D(lots) * spec.lot_size * (10 if spec.category == "inverse" else 1)
        if is_quote:
            qty = D(lots * 25)
        self._attempt(
            self.engine.place_order,
            uid=uid, symbol=spec.symbol, side=side, type=type_, qty=qty,
            price=price + offset * spec.tick_size if type_ == "limit" else None,
            time_in_force=tif, reduce_only=reduce_only and spec.category != "spot",
            client_order_id=client_order_id, quote_qty=is_quote, category=spec.category,
        )  # fmt: skip

    @rule(
        uid=st.sampled_from(UIDS),
        spec=st.sampled_from(INSTRUMENTS),
        side=st.sampled_from(("buy", "sell")),
        lots=st.integers(1, 60),
        reduce_only=st.booleans(),
    )
    def take(self, uid: int, spec: InstrumentSpec, side: str, lots: int, reduce_only: bool) -> None:
        """A market order: the commonest way fills happen."""
        qty = D(lots) * spec.lot_size * (10 if spec.category == "inverse" else 1)
        self._attempt(
            self.engine.place_order,
            uid=uid, symbol=spec.symbol, side=side, type="market", qty=qty,
            reduce_only=reduce_only and spec.category != "spot", category=spec.category,
        )  # fmt: skip

    @rule(uid=st.sampled_from(UIDS), pick=st.integers(0, 50), qty_lots=st.integers(0, 40),
          offset=st.integers(-3, 3), by_client_id=st.booleans())  # fmt: skip
    def amend(self, uid: int, pick: int, qty_lots: int, offset: int, by_client_id: bool) -> None:
        orders = self.engine.ledger()
        mine = [o for o in orders if o.uid == uid]
        if not mine:
            return
        order = mine[pick % len(mine)]
        spec = self.engine.instruments[(order.category, order.symbol)]
        qty = D(qty_lots) * spec.lot_size * (10 if spec.category == "inverse" else 1)
        price = None if order.price is None else order.price + offset * spec.tick_size
        ids: dict[str, Any] = {"order_id": order.order_id}
        if by_client_id and order.client_order_id is not None:
            ids = {"client_order_id": order.client_order_id}
        self._attempt(
            self.engine.amend_order,
            uid=uid, symbol=order.symbol, category=order.category,
            qty=qty if qty_lots else None, price=price if offset else None, **ids,
        )  # fmt: skip

    @rule(uid=st.sampled_from(UIDS), pick=st.integers(0, 50), by_client_id=st.booleans())
    def cancel(self, uid: int, pick: int, by_client_id: bool) -> None:
        mine = [o for o in self.engine.ledger() if o.uid == uid]
        if not mine:
            self._attempt(self.engine.cancel_order, uid=uid, symbol="TSTUSDT", order_id="none")
            return
        order = mine[pick % len(mine)]
        ids: dict[str, Any] = {"order_id": order.order_id}
        if by_client_id and order.client_order_id is not None:
            ids = {"client_order_id": order.client_order_id}
        self._attempt(
            self.engine.cancel_order, uid=uid, symbol=order.symbol, category=order.category, **ids
        )

    @rule(uid=st.sampled_from(UIDS), spec=st.sampled_from((None, *INSTRUMENTS)))
    def cancel_all(self, uid: int, spec: InstrumentSpec | None) -> None:
        if spec is None:
            cancelled = self.engine.cancel_all(uid)
        else:
            cancelled = self.engine.cancel_all(uid, symbol=spec.symbol, category=spec.category)
        assert all(o.status in ("cancelled", "partially_filled_cancelled") for o in cancelled)
        assert not self.engine.open_orders(uid, symbol=spec.symbol if spec else None)

    @rule(uid=st.sampled_from(UIDS), spec=st.sampled_from((LINEAR, INVERSE)),
          leverage=st.sampled_from((D(1), D(3), D(10), D(25))))  # fmt: skip
    def set_leverage(self, uid: int, spec: InstrumentSpec, leverage: Decimal) -> None:
        self._attempt(
            self.engine.set_leverage,
            uid=uid, symbol=spec.symbol, leverage=leverage, category=spec.category,
        )  # fmt: skip

    @rule(ms=st.integers(0, 120_000))
    def wait(self, ms: int) -> None:
        self.clock.now += ms

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def internal_consistency(self) -> None:
        assert self.engine.audit() == []

    @invariant()
    def balances_are_never_negative(self) -> None:
        for uid in UIDS:
            for coin, view in self.engine.balances(uid).items():
                assert view.coin == coin
                assert view.total >= 0 and view.locked >= 0 and view.free >= 0, view
                assert view.total == view.locked + view.free

    @invariant()
    def orders_agree_with_their_fills(self) -> None:
        fills_by_order: dict[str, list[FillView]] = defaultdict(list)
        for uid in UIDS:
            for fill in self.engine.fills(uid):
                fills_by_order[fill.order_id].append(fill)
        seen_client_ids: set[tuple[int, str]] = set()
        for order in self.engine.ledger():
            fills = fills_by_order.pop(order.order_id, [])
            assert sum((f.qty for f in fills), D(0)) == order.filled
            assert sum((f.fee for f in fills), D(0)) == order.fee_total
            assert sum((f.value for f in fills), D(0)) == order.cum_quote
            if order.quote_qty:
                assert order.cum_quote <= order.qty
            else:
                assert order.filled <= order.qty
            is_open = order.status in ("new", "partially_filled")
            assert order.remaining == (order.qty - order.filled if is_open else 0)
            if order.client_order_id is not None:
                key = (order.uid, order.client_order_id)
                assert key not in seen_client_ids
                seen_client_ids.add(key)
        assert not fills_by_order, "fills of orders missing from the ledger"

    @invariant()
    def trades_pair_up_and_value_is_conserved(self) -> None:
        user_fills: dict[str, list[FillView]] = defaultdict(list)
        for uid in UIDS:
            for fill in self.engine.fills(uid):
                user_fills[fill.exec_id].append(fill)
        # Per coin: what users gained from spot trades, what the market maker gained, and fees.
        users: dict[str, Decimal] = defaultdict(Decimal)
        market_maker: dict[str, Decimal] = defaultdict(Decimal)
        fees: dict[str, Decimal] = defaultdict(Decimal)
        for spec in INSTRUMENTS:
            for trade in self.engine.public_trades(spec.symbol, 10_000, category=spec.category):
                fills = user_fills.pop(trade.trade_id)
                assert all((f.price, f.qty) == (trade.price, trade.qty) for f in fills)
                taker = [f for f in fills if not f.is_maker]
                assert len(taker) == 1 and taker[0].side == trade.side
                if len(fills) == 2:
                    assert {f.side for f in fills} == {"buy", "sell"}
                else:
                    assert len(fills) == 1  # the market maker was the maker
                if spec.category != "spot":
                    continue
                sign = 1 if trade.side == "buy" else -1
                if len(fills) == 1:
                    market_maker[spec.base] -= sign * trade.qty
                    market_maker[spec.quote] += sign * trade.qty * trade.price
                for fill in fills:
                    s = 1 if fill.side == "buy" else -1
                    users[spec.base] += s * fill.qty
                    users[spec.quote] -= s * fill.value
                    fees[fill.fee_currency] += fill.fee
        assert not user_fills, "fills without a public trade"
        # Derivatives move only their settle coin, by realised PnL net of fees.
        realized: dict[str, Decimal] = defaultdict(Decimal)
        for uid in UIDS:
            for position in self.engine.positions(uid):
                spec = self.engine.instruments[(position.category, position.symbol)]
                realized[spec.settle] += position.realized_pnl
        for coin in {*START, "USD"}:
            change = sum(
                (
                    self.engine.balances(uid)[coin].total - START[coin]
                    for uid in UIDS
                    if coin in self.engine.balances(uid)
                ),
                D(0),
            )
            # Spot value is conserved between users and the market maker, minus fees.
            assert users[coin] + market_maker[coin] == 0
            assert change == -market_maker[coin] - fees[coin] + realized[coin], coin


TestEngineMachine = EngineMachine.TestCase
