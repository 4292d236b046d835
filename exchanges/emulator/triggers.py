"""Conditional orders, stop-loss/take-profit and trailing stops of the emulator's engine (a mixin
of ``Engine``).

A trigger waits, reserving nothing, until the price it watches (``last``: the last trade,
``mark`` or ``index``: the market's mark or index price, which follow the book's mid unless
``move_price`` set them) reaches its trigger price moving in its direction (``rise``: at or
above, ``fall``: at or below); then it places its order as a normal order of the engine and
records that order's id (``TriggerView.order_id``). An order it cannot place (no funds, nothing
left to reduce) leaves it ``rejected`` with the engine's reason, as Bybit cancels and Binance
rejects a conditional order whose margin check fails at trigger time ("Place Order",
https://bybit-exchange.github.io/docs/v5/order/create-order; "Event Algo Order Update",
https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update).

Triggers are evaluated whenever an instrument trades (the end of every match) and when the
admin API moves a price (``exchanges.emulator.prices``), in the order they were placed, until
none fires; a trigger that fires may move the price and fire others.

* A trigger placed where it would fire at once is refused (``trigger_would_fire``): Bybit
  110092/110093, Binance -2021, OKX 51xxx. A front-end that has no direction (OKX) passes
  ``direction=None`` and the engine takes the side of the trigger from the price at placement.
* Position stops and stops attached to an order are set up by ``exchanges.emulator.stops``
  (``StopsMixin``) and fire here like any trigger.
* ``close_position`` triggers (a position's stop-loss, take-profit or trailing stop: Bybit
  ``trading-stop``, Binance ``closePosition``, OKX ``closeFraction``) close whatever the
  position holds when they fire, at market, and are cancelled when the position closes
  (``position_closed``, Bybit's CancelByTpSlTsClear).
* Stops attached to an order (``attach_stops``) wait until the order is done, then guard what
  it filled: the position's stops (Bybit, ``whole=True``), or reduce-only stops of the filled
  amount (OKX ``attachAlgoOrds``), a take-profit and stop-loss pair cancelling each other.
* Two triggers linked by ``oco`` cancel each other: when one fires the other is cancelled.
* A trailing stop (``trail_amount`` or ``trail_ratio``) activates when the price reaches its
  ``activation`` (at once without one), then tracks the best price since and fires when the
  price comes back by the distance: a sell at ``highest - amount`` (or ``highest × (1 -
  ratio)``), a buy at ``lowest + amount``.

What the engine keeps of a trigger (``Trigger``, ``TriggerView``, ``StopLevel``) is in
``exchanges.emulator.trigger_records``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.emulator.accounts import ZERO, Account
from exchanges.emulator.book import Market
from exchanges.emulator.instruments import (
    EngineError,
    InstrumentKey,
    InstrumentSpec,
    OrderView,
    check_order,
    check_price,
    check_qty,
)
from exchanges.emulator.orders import Order
from exchanges.emulator.trigger_records import (
    DIRECTIONS,
    KINDS,
    TRIGGER_BY,
    StopLevel,
    Trigger,
    TriggerView,
    crossed,
)

__all__ = ["TRIGGER_BY", "StopLevel", "TriggerView", "TriggersMixin"]

#: Rounds of evaluation after one change before the engine stops (a safety net: each round
#: fires at least one trigger, and a fired trigger never waits again).
_MAX_ROUNDS = 1000


class TriggersMixin:
    """Conditional orders and stops; ``Engine`` provides the state, lookups and ``place_order``."""

    _markets: dict[InstrumentKey, Market]
    _accounts: dict[int, Account]
    _orders: dict[str, Order]
    _client_ids: dict[int, dict[str, Order]]
    _triggers: dict[str, Trigger]
    _trigger_ids: dict[int, dict[str, Trigger]]
    _trigger_of_order: dict[str, str]
    _trigger_seq: int
    _evaluating: bool
    _dirty: set[InstrumentKey]
    _reused_id: str | None

    if TYPE_CHECKING:  # provided by Engine and its other mixins

        def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
            """The instrument of ``symbol`` (``Engine.instrument``)."""
            raise NotImplementedError

        def _account(self, uid: int) -> Account:
            raise NotImplementedError

        def _now(self) -> int:
            raise NotImplementedError

        def _new_id(self) -> str:
            raise NotImplementedError

        def _order_leg(
            self, account: Account, spec: InstrumentSpec, side: str, reduce_only: bool
        ) -> tuple[str, bool]:
            raise NotImplementedError

        def order_leg(self, leg: str | None) -> Any:
            """Orders placed inside go to hedge leg ``leg`` (``ModesMixin.order_leg``)."""
            raise NotImplementedError

        place_order: Callable[..., OrderView]

        def _reset_stops(self) -> None:
            raise NotImplementedError

        def _settle_positions(self, key: InstrumentKey) -> None:
            raise NotImplementedError

        def _activate_attached(self, key: InstrumentKey) -> None:
            raise NotImplementedError

        def _attach(
            self,
            order_id: str,
            take_profit: StopLevel | None,
            stop_loss: StopLevel | None,
            whole: bool,
            native: Mapping[str, Any],
        ) -> None:
            raise NotImplementedError

    def _reset_triggers(self) -> None:
        self._triggers = {}
        self._trigger_ids = {}
        self._trigger_of_order = {}
        self._trigger_seq = 0
        self._evaluating = False
        self._dirty = set()
        self._reused_id = None
        self._reset_stops()

    def _claim_order_id(self) -> str:
        """The id of an order being registered: its trigger's when that trigger keeps its id
        (Bybit: a conditional order is the same order once triggered), else a new one."""
        reused, self._reused_id = self._reused_id, None
        return reused if reused is not None else self._new_id()

    # -- prices ------------------------------------------------------------------------------

    def reference_price(self, spec: InstrumentSpec, trigger_by: str) -> Decimal:
        """The price a trigger on ``trigger_by`` watches now."""
        market = self._markets[spec.key]
        if trigger_by == "last":
            return market.last_price()
        if trigger_by == "mark":
            return market.mark_price()
        if trigger_by == "index":
            return market.index_price()
        raise EngineError(
            "invalid_request", f"trigger_by must be last, mark or index: {trigger_by}"
        )

    # -- placing -----------------------------------------------------------------------------

    def place_trigger(
        self,
        uid: int,
        symbol: str,
        side: str,
        type: str,
        qty: Decimal,
        *,
        trigger_price: Decimal | None,
        direction: str | None,
        trigger_by: str = "last",
        price: Decimal | None = None,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
        client_order_id: str | None = None,
        category: str | None = None,
        kind: str = "trigger",
        close_position: bool = False,
        take_profit: StopLevel | None = None,
        stop_loss: StopLevel | None = None,
        whole: bool = True,
        inherit_client_id: bool = False,
        trail_amount: Decimal | None = None,
        trail_ratio: Decimal | None = None,
        activation: Decimal | None = None,
        native: Mapping[str, Any] | None = None,
        may_fire: bool = False,
    ) -> TriggerView:
        """Accept a conditional order, or raise EngineError having changed nothing.

        ``direction`` None takes it from the price at placement (OKX). ``close_position``
        orders carry no qty (``ZERO``): they close the position when they fire. A trailing stop
        (``kind="trailing"``) has no trigger price until it activates. ``take_profit`` and
        ``stop_loss`` ride on the order it places (``attach_stops``).
        """
        account = self._account(uid)
        spec = self.instrument(symbol, category)
        if kind not in KINDS:
            raise EngineError("invalid_request", f"unknown trigger kind {kind!r}")
        if trigger_by not in TRIGGER_BY:
            raise EngineError(
                "invalid_request", f"trigger_by must be last, mark or index: {trigger_by}"
            )
        if close_position and not spec.is_derivative:
            raise EngineError("invalid_request", "only a derivatives position can be closed")
        trailing = kind == "trailing"
        if trailing and (trail_amount is None) == (trail_ratio is None):
            raise EngineError("invalid_request", "a trailing stop needs an amount or a ratio")
        if close_position:
            tif, amount, limit = time_in_force, ZERO, None
            if type != "market":
                raise EngineError("invalid_request", "a position stop closes at market")
        else:
            tif, amount, limit = check_order(
                spec, side, type, qty, price, time_in_force, reduce_only=reduce_only,
                quote_qty=False,
            )  # fmt: skip
        leg, reduce_only = self._order_leg(account, spec, side, reduce_only or close_position)
        if client_order_id is not None:
            self._check_client_id(uid, client_order_id)
        reference = self.reference_price(spec, trigger_by)
        activated = True
        if trailing:
            direction = "fall" if side == "sell" else "rise"
            if activation is not None:
                # A sell trails a rise: it starts once the price is up at its activation price.
                starts = "rise" if side == "sell" else "fall"
                if crossed(starts, reference, activation):
                    raise EngineError(
                        "trigger_would_fire", f"activation {activation} is already reached"
                    )
                activated = False
            trigger_price = None
        else:
            if trigger_price is None:
                raise EngineError("invalid_request", "a conditional order needs a trigger price")
            if direction is None:
                if trigger_price == reference:
                    raise EngineError("trigger_would_fire", f"trigger {trigger_price} is the price")
                direction = "rise" if trigger_price > reference else "fall"
            if direction not in DIRECTIONS:
                raise EngineError("invalid_request", f"direction must be rise or fall: {direction}")
            if not may_fire and crossed(direction, reference, trigger_price):
                raise EngineError(
                    "trigger_would_fire",
                    f"expect {'Rising' if direction == 'rise' else 'Falling'}, but "
                    f"trigger_price[{trigger_price}] {'<=' if direction == 'rise' else '>='} "
                    f"current[{reference}]",
                )
        for stop, name in ((take_profit, "take_profit"), (stop_loss, "stop_loss")):
            if stop is not None and stop.trigger_by not in TRIGGER_BY:
                raise EngineError("invalid_request", f"{name} trigger_by {stop.trigger_by}")
        now = self._now()
        self._trigger_seq += 1
        trigger = Trigger(
            trigger_id=self._new_id(),
            uid=uid,
            spec=spec,
            side=side,
            type=type,
            qty=amount,
            price=limit,
            trigger_price=trigger_price,
            trigger_by=trigger_by,
            direction=direction,
            time_in_force=tif,
            reduce_only=reduce_only,
            client_order_id=client_order_id,
            kind=kind,
            close_position=close_position,
            created_ms=now,
            updated_ms=now,
            seq=self._trigger_seq,
            leg=leg,
            inherit_client_id=inherit_client_id,
            take_profit=take_profit,
            stop_loss=stop_loss,
            whole=whole,
            trail_amount=trail_amount,
            trail_ratio=trail_ratio,
            activation=activation,
            activated=activated,
            extreme=reference if trailing and activated else None,
            native=dict(native or {}),
        )
        self._store(trigger)
        if may_fire:
            self._dirty.add(spec.key)
        return trigger.view()

    def _store(self, trigger: Trigger) -> None:
        self._triggers[trigger.trigger_id] = trigger
        if trigger.client_order_id is not None:
            self._trigger_ids.setdefault(trigger.uid, {})[trigger.client_order_id] = trigger

    def _check_client_id(self, uid: int, client_order_id: str) -> None:
        if not isinstance(client_order_id, str) or not client_order_id:
            raise EngineError("invalid_request", "client_order_id must be a non-empty str")
        if client_order_id in self._client_ids.get(uid, {}) or client_order_id in (
            self._trigger_ids.get(uid, {})
        ):
            raise EngineError("duplicate_client_order_id", f"{client_order_id!r} was used")

    def link_oco(self, first: str, second: str) -> None:
        """Make two untriggered triggers cancel each other (OKX oco, split TP/SL pairs)."""
        a, b = self._triggers[first], self._triggers[second]
        a.oco, b.oco = b.trigger_id, a.trigger_id

    # -- reading and cancelling ----------------------------------------------------------------

    def triggers(
        self,
        uid: int,
        *,
        symbol: str | None = None,
        category: str | None = None,
        open_only: bool = True,
    ) -> list[TriggerView]:
        """The account's conditional orders (only the waiting ones by default), newest first."""
        self._account(uid)
        chosen = [
            t
            for t in self._triggers.values()
            if t.uid == uid
            and (not open_only or t.status == "untriggered")
            and (symbol is None or t.spec.symbol == symbol)
            and (category is None or t.spec.category == category)
        ]
        return [t.view() for t in sorted(chosen, key=lambda t: t.seq, reverse=True)]

    def get_trigger(
        self,
        uid: int,
        *,
        trigger_id: str | None = None,
        client_order_id: str | None = None,
        symbol: str | None = None,
        category: str | None = None,
    ) -> TriggerView:
        """One conditional order, waiting or not; ``order_not_found`` when there is none."""
        return self._find_trigger(uid, trigger_id, client_order_id, symbol, category).view()

    def find_trigger(
        self,
        uid: int,
        *,
        trigger_id: str | None = None,
        client_order_id: str | None = None,
    ) -> TriggerView | None:
        """One conditional order of the account, or None."""
        try:
            return self._find_trigger(uid, trigger_id, client_order_id, None, None).view()
        except EngineError:
            return None

    def trigger_of_order(self, order_id: str) -> TriggerView | None:
        """The conditional order that placed order ``order_id``, if one did."""
        found = self._trigger_of_order.get(order_id)
        return None if found is None else self._triggers[found].view()

    def cancel_trigger(
        self,
        uid: int,
        symbol: str | None = None,
        *,
        trigger_id: str | None = None,
        client_order_id: str | None = None,
        category: str | None = None,
    ) -> TriggerView:
        """Cancel one waiting conditional order (``order_closed`` when it is not waiting)."""
        self._account(uid)
        trigger = self._find_trigger(uid, trigger_id, client_order_id, symbol, category)
        if trigger.status != "untriggered":
            raise EngineError("order_closed", f"order {trigger.trigger_id} is {trigger.status}")
        self._cancel_trigger(trigger, "user")
        return trigger.view()

    def amend_trigger(
        self,
        uid: int,
        *,
        trigger_id: str,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> TriggerView:
        """Change a waiting conditional order's qty and/or limit price (its trigger stays).

        ``order_closed`` when it no longer waits; a trailing or position-closing order, or a
        price for a market one, is ``invalid_request``. Nothing changes on a refusal.
        """
        self._account(uid)
        trigger = self._find_trigger(uid, trigger_id, None, None, None)
        if trigger.status != "untriggered":
            raise EngineError("order_closed", f"order {trigger.trigger_id} is {trigger.status}")
        if trigger.kind == "trailing" or trigger.close_position:
            raise EngineError("invalid_request", f"a {trigger.kind} order cannot be amended")
        if qty is None and price is None:
            raise EngineError("invalid_request", "nothing to amend: give qty and/or price")
        if price is not None and trigger.price is None:
            raise EngineError("invalid_request", "a market conditional order has no price")
        new_qty = trigger.qty if qty is None else check_qty(trigger.spec, qty)
        new_price = trigger.price if price is None else check_price(trigger.spec, price)
        if new_qty == trigger.qty and new_price == trigger.price:
            raise EngineError("invalid_request", "the amendment changes nothing")
        trigger.qty, trigger.price = new_qty, new_price
        trigger.updated_ms = self._now()
        return trigger.view()

    def cancel_triggers(
        self, uid: int, *, symbol: str | None = None, category: str | None = None
    ) -> list[TriggerView]:
        """Cancel every waiting conditional order of the account (of one symbol/category)."""
        self._account(uid)
        cancelled = []
        for trigger in sorted(self._open_triggers(uid), key=lambda t: t.seq, reverse=True):
            if (symbol is None or trigger.spec.symbol == symbol) and (
                category is None or trigger.spec.category == category
            ):
                self._cancel_trigger(trigger, "user")
                cancelled.append(trigger.view())
        return cancelled

    def _find_trigger(
        self,
        uid: int,
        trigger_id: str | None,
        client_order_id: str | None,
        symbol: str | None,
        category: str | None,
    ) -> Trigger:
        if trigger_id is None and client_order_id is None:
            raise EngineError("invalid_request", "give order_id or client_order_id")
        if trigger_id is not None:
            found = self._triggers.get(trigger_id)
        else:
            assert client_order_id is not None
            found = self._trigger_ids.get(uid, {}).get(client_order_id)
        if (
            found is None
            or found.uid != uid
            or (symbol is not None and found.spec.symbol != symbol)
            or (category is not None and found.spec.category != category)
        ):
            raise EngineError("order_not_found", f"no order {trigger_id or client_order_id!r}")
        return found

    def _open_triggers(self, uid: int | None = None) -> Iterator[Trigger]:
        for trigger in list(self._triggers.values()):
            if trigger.status == "untriggered" and (uid is None or trigger.uid == uid):
                yield trigger

    def _cancel_trigger(self, trigger: Trigger, reason: str) -> None:
        trigger.status = "cancelled"
        trigger.cancel_reason = reason
        trigger.updated_ms = self._now()

    # -- evaluation ------------------------------------------------------------------------------

    def _after_trade(self, market: Market) -> None:
        """Called at the end of every match: evaluate the instrument's triggers."""
        self.evaluate_triggers([market.spec.key])

    def evaluate_triggers(self, keys: Iterable[InstrumentKey]) -> None:
        """Fire what the prices of ``keys`` reached, until nothing more fires."""
        self._dirty.update(keys)
        if self._evaluating:
            return  # the running evaluation picks these up
        self._evaluating = True
        try:
            for _ in range(_MAX_ROUNDS):
                if not self._dirty:
                    break
                key = min(self._dirty)
                self._dirty.discard(key)
                self._settle_positions(key)
                self._activate_attached(key)
                for trigger in self._due(key):
                    if trigger.status == "untriggered":
                        self._fire(trigger)
                        self._dirty.add(key)
        finally:
            self._evaluating = False

    def _due(self, key: InstrumentKey) -> list[Trigger]:
        due = []
        waiting = sorted(
            (t for t in self._open_triggers() if t.spec.key == key), key=lambda t: t.seq
        )
        for trigger in waiting:
            reference = self.reference_price(trigger.spec, trigger.trigger_by)
            if trigger.kind == "trailing":
                if self._trail(trigger, reference):
                    due.append(trigger)
            elif trigger.trigger_price is not None and crossed(
                trigger.direction, reference, trigger.trigger_price
            ):
                due.append(trigger)
        return due

    def _trail(self, trigger: Trigger, reference: Decimal) -> bool:
        """Move a trailing stop with the price; True when it fires."""
        selling = trigger.side == "sell"
        if not trigger.activated:
            assert trigger.activation is not None
            if not crossed("rise" if selling else "fall", reference, trigger.activation):
                return False
            trigger.activated, trigger.extreme = True, reference
        extreme = trigger.extreme if trigger.extreme is not None else reference
        extreme = max(extreme, reference) if selling else min(extreme, reference)
        trigger.extreme = extreme
        if trigger.trail_amount is not None:
            distance = trigger.trail_amount
        else:
            assert trigger.trail_ratio is not None
            distance = extreme * trigger.trail_ratio
        trigger.trigger_price = extreme - distance if selling else extreme + distance
        return crossed(trigger.direction, reference, trigger.trigger_price)

    def _fire(self, trigger: Trigger) -> None:
        now = self._now()
        trigger.status, trigger.updated_ms = "triggered", now
        if trigger.oco is not None:
            partner = self._triggers.get(trigger.oco)
            if partner is not None and partner.status == "untriggered":
                self._cancel_trigger(partner, "oco")
        qty, side = trigger.qty, trigger.side
        if trigger.close_position:
            position = self._accounts[trigger.uid].current(trigger.spec.key, trigger.leg)
            size = position.size if position is not None else ZERO
            if size == 0 or (size > 0) == (side == "buy"):
                trigger.status, trigger.reject_reason = "rejected", "reduce_only_rejected"
                return
            qty = abs(size)
        client_id = trigger.client_order_id if trigger.inherit_client_id else None
        self._reused_id = trigger.trigger_id if trigger.inherit_client_id else None
        try:
            with self.order_leg(trigger.leg or None):
                order = self.place_order(
                    trigger.uid, trigger.spec.symbol, side, trigger.type, qty,
                    price=trigger.price, time_in_force=trigger.time_in_force,
                    reduce_only=trigger.reduce_only, client_order_id=client_id,
                    category=trigger.spec.category, kill_unfillable=True,
                )  # fmt: skip
        except EngineError as err:
            trigger.status, trigger.reject_reason = "rejected", err.kind
            return
        finally:
            self._reused_id = None
        trigger.order_id = order.order_id
        self._trigger_of_order[order.order_id] = trigger.trigger_id
        if trigger.take_profit is not None or trigger.stop_loss is not None:
            # The stops ride on the order it placed (exchanges.emulator.stops).
            self._attach(
                order.order_id, trigger.take_profit, trigger.stop_loss, trigger.whole,
                {"parent": trigger.trigger_id},
            )  # fmt: skip
            self._dirty.add(trigger.spec.key)
