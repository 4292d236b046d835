"""Matching and settlement of the emulator's engine (a mixin of ``Engine``).

``_try`` matches an order against its market without changing anything; ``_commit`` applies the
plan (fills, balances, positions, fees) for both sides; reduce-only rules are checked before an
order rests and enforced when a position shrinks (see ``exchanges.emulator.engine``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from exchanges.emulator.accounts import (
    ZERO,
    Account,
    FillOutcome,
    apply_fill,
    reservation,
)
from exchanges.emulator.book import Market
from exchanges.emulator.instruments import (
    EngineError,
    FillView,
    InstrumentKey,
    InstrumentSpec,
    PublicTradeView,
)
from exchanges.emulator.modes import LEGS
from exchanges.emulator.orders import MARKET_MAKER_UID, Order, Plan

__all__ = ["ExecutionMixin"]


class ExecutionMixin:
    """Matching, fills and reduce-only enforcement; ``Engine`` provides the state and lookups."""

    _markets: dict[InstrumentKey, Market]
    _accounts: dict[int, Account]
    _open: dict[int, dict[str, Order]]
    _fills: dict[int, list[FillView]]
    _now_ms: Callable[[], int]

    # Provided by Engine.
    def _new_id(self) -> str:
        raise NotImplementedError

    def _touch(self, market: Market) -> None:
        raise NotImplementedError

    def _try(
        self, account: Account, order: Order, plan: Plan, now: int
    ) -> tuple[Account, list[FillOutcome]]:
        """Run the taker side of ``plan`` for ``order`` on a clone of its account.

        Mutates ``order`` (a new or working copy) to its end state; raises
        insufficient_funds if the account cannot afford it.
        """
        spec = order.spec
        trial = account.clone()
        if order.lock:
            # An amendment: the old reservation is freed first, then the new one is taken.
            trial.balance(order.lock_coin, spec.category).locked -= order.lock
            order.lock = ZERO
        leverage = trial.leverage_for(spec)
        # Like a real exchange, the whole order must be affordable at its own price up front,
        # even if it would fill at better prices; market orders are checked on their fills.
        coin, needed = spec.settle, ZERO
        if order.price is not None:
            coin, needed = reservation(
                spec, order.side, order.remaining, order.price, leverage,
                reduce_only=order.reduce_only,
            )  # fmt: skip
        elif spec.category == "spot" and order.side == "sell":
            coin, needed = spec.base, order.qty
        if needed and trial.balance(coin, spec.category).free < needed:
            raise EngineError("insufficient_funds", f"needs {needed} {coin} free")
        outcomes = []
        for match in plan.matches:
            outcome = apply_fill(
                trial, spec, order.side, match.qty, match.price, spec.taker_fee,
                order_lock=None, now=now, leg=order.leg,
            )  # fmt: skip
            order.add_fill(match, outcome.fee)
            outcomes.append(outcome)
        order.finish(plan)
        if order.is_open:
            assert order.price is not None
            order.lock_coin, order.lock = reservation(
                spec, order.side, order.remaining, order.price, leverage,
                reduce_only=order.reduce_only,
            )  # fmt: skip
            trial.balance(order.lock_coin, spec.category).locked += order.lock
        if not trial.solvent():
            raise EngineError("insufficient_funds", "the account cannot afford this order")
        return trial, outcomes

    def _commit(
        self,
        market: Market,
        trial: Account,
        order: Order,
        plan: Plan,
        outcomes: list[FillOutcome],
        now: int,
        *,
        requeue: bool,
    ) -> None:
        """Apply an already-checked taker operation: makers, tape, book and follow-ups."""
        spec = market.spec
        self._accounts[order.uid] = trial
        touched = {order.uid}
        for match, outcome in zip(plan.matches, outcomes, strict=True):
            trade_id = self._new_id()
            maker = match.maker
            if maker.uid == MARKET_MAKER_UID:
                maker.filled += match.qty
            else:
                maker_outcome = apply_fill(
                    self._accounts[maker.uid], spec, maker.side, match.qty, match.price,
                    spec.maker_fee, order_lock=maker.lock, now=now, leg=maker.leg,
                )  # fmt: skip
                maker.lock -= maker_outcome.lock_used
                maker.updated_ms = now
                maker.add_fill(match, maker_outcome.fee)
                fill = maker.fill_view(
                    trade_id, match, maker_outcome.fee, maker_outcome.fee_coin, maker=True, now=now
                )
                self._fills[maker.uid].append(fill)
                touched.add(maker.uid)
            if maker.remaining == 0:
                market.side_of(maker.side).remove(maker)
                if maker.uid != MARKET_MAKER_UID:
                    self._close(maker, "filled", None, now)
            elif maker.uid != MARKET_MAKER_UID:
                maker.status = "partially_filled"
            fill = order.fill_view(
                trade_id, match, outcome.fee, outcome.fee_coin, maker=False, now=now
            )
            self._fills[order.uid].append(fill)
            market.record_trade(
                PublicTradeView(
                    trade_id=trade_id,
                    symbol=spec.symbol,
                    side=order.side,
                    price=match.price,
                    qty=match.qty,
                    time_ms=now,
                )
            )
        if order.is_open:
            if requeue:
                market.side_of(order.side).add(order)
            self._open[order.uid][order.order_id] = order
        else:
            self._open[order.uid].pop(order.order_id, None)
        if spec.is_derivative:
            for uid in sorted(touched):
                self._enforce_reduce_only(spec, uid, now)
        market.refill(now)
        if plan.matches or requeue or order.is_open:
            self._touch(market)
        if plan.matches:
            self._after_trade(market)

    def _after_trade(self, market: Market) -> None:
        """Hook run after an order traded on ``market`` (triggers: ``emulator.triggers``)."""

    def _close(self, order: Order, status: str, reason: str | None, now: int) -> None:
        """Mark a resting user order closed and release what it still locks."""
        if order.lock:
            account = self._accounts[order.uid]
            account.balance(order.lock_coin, order.spec.category).locked -= order.lock
            order.lock = ZERO
        order.status = status
        order.cancel_reason = reason
        order.updated_ms = now
        self._open[order.uid].pop(order.order_id, None)

    def _cancel(self, order: Order, reason: str, now: int) -> None:
        self._markets[order.spec.key].side_of(order.side).remove(order)
        self._close(order, order.cancelled_status(), reason, now)

    def _enforce_reduce_only(self, spec: InstrumentSpec, uid: int, now: int) -> None:
        """Cancel resting reduce-only orders the position no longer covers (newest go first);
        in hedge mode each leg covers its own closing orders."""
        account = self._accounts[uid]
        for leg in LEGS if spec.key in account.hedged else ("",):
            position = account.current(spec.key, leg)
            size = position.size if position is not None else ZERO
            closing_side = "sell" if size > 0 else "buy"
            budget = abs(size)
            resting = [
                o
                for o in self._open[uid].values()
                if o.reduce_only and o.spec.key == spec.key and o.leg == leg
            ]
            for order in sorted(resting, key=lambda o: o.seq):
                if order.side == closing_side and 0 < order.remaining <= budget:
                    budget -= order.remaining
                else:
                    self._cancel(order, "reduce_only", now)

    def _check_reduce_only(
        self,
        account: Account,
        spec: InstrumentSpec,
        side: str,
        qty: Decimal,
        *,
        may_rest: bool,
        besides: Order | None = None,
        leg: str = "",
    ) -> None:
        position = account.current(spec.key, leg)
        size = position.size if position is not None else ZERO
        if size == 0:
            raise EngineError("reduce_only_rejected", "no position to reduce")
        if (size > 0) == (side == "buy"):
            # Front-ends tell these apart by message (OKX: 51169 / 51170 / 51148).
            raise EngineError(
                "reduce_only_rejected", "on the position's side: it would increase it"
            )
        available = abs(size)
        if may_rest:
            available -= sum(
                (
                    o.remaining
                    for o in self._open[account.uid].values()
                    if o.reduce_only
                    and o.spec.key == spec.key
                    and o is not besides
                    and o.leg == leg
                ),
                ZERO,
            )
        if qty > available:
            raise EngineError("reduce_only_rejected", f"qty {qty} exceeds reducible {available}")
