"""Stop-loss and take-profit in the emulator's engine (a mixin of ``Engine``, beside
``exchanges.emulator.triggers``): stops of an open position and stops attached to an order.

* ``set_position_stops`` sets a position's stops (Bybit ``trading-stop`` Full mode, Binance
  ``closePosition`` algo orders, OKX ``closeFraction`` algo orders): ``close_position`` triggers
  that close whatever the position holds when they fire, at market, replace the previous one of
  their kind, and are cancelled when the position closes (``position_closed``, Bybit's
  CancelByTpSlTsClear); a trailing one (``trail_amount``) from ``activation``.
* ``attach_stops`` (after ``check_stops``) rides on an order until it is done, then guards what
  it filled: the position's stops (``whole``, Bybit Full mode), or reduce-only stops of the
  filled amount (OKX ``attachAlgoOrds``, Bybit Partial), a take-profit and stop-loss pair
  cancelling each other. A stop the price passed while the order filled fires at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.emulator.accounts import ZERO, Account
from exchanges.emulator.instruments import EngineError, InstrumentKey, InstrumentSpec
from exchanges.emulator.orders import Order
from exchanges.emulator.trigger_records import TRIGGER_BY, StopLevel, TriggerView, crossed

if TYPE_CHECKING:
    from exchanges.emulator.trigger_records import Trigger

__all__ = ["StopsMixin"]


@attrs.define(eq=False)
class _Attached:
    """Stops riding on an order until it is done."""

    uid: int
    order_id: str
    take_profit: StopLevel | None
    stop_loss: StopLevel | None
    whole: bool
    leg: str
    native: dict[str, Any]


class StopsMixin:
    """Position stops and stops attached to orders; ``TriggersMixin`` places and fires them."""

    _orders: dict[str, Order]
    _accounts: dict[int, Account]
    _attached: dict[str, _Attached]
    _order_stops: dict[str, tuple[StopLevel | None, StopLevel | None]]
    _dirty: set[InstrumentKey]

    if TYPE_CHECKING:  # provided by Engine and TriggersMixin

        def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
            """The instrument of ``symbol`` (``Engine.instrument``)."""
            raise NotImplementedError

        def _account(self, uid: int) -> Account:
            raise NotImplementedError

        def order_leg(self, leg: str | None) -> Any:
            """Orders placed inside go to hedge leg ``leg`` (``ModesMixin.order_leg``)."""
            raise NotImplementedError

        def reference_price(self, spec: InstrumentSpec, trigger_by: str) -> Decimal:
            """The price a trigger watches (``TriggersMixin.reference_price``)."""
            raise NotImplementedError

        def _open_triggers(self, uid: int | None = None) -> Iterator[Trigger]:
            raise NotImplementedError

        def _cancel_trigger(self, trigger: Trigger, reason: str) -> None:
            raise NotImplementedError

        def link_oco(self, first: str, second: str) -> None:
            """Make two triggers cancel each other (``TriggersMixin.link_oco``)."""
            raise NotImplementedError

        place_trigger: Callable[..., TriggerView]

    def _reset_stops(self) -> None:
        self._attached = {}
        self._order_stops = {}

    def _attach(
        self,
        order_id: str,
        take_profit: StopLevel | None,
        stop_loss: StopLevel | None,
        whole: bool,
        native: Mapping[str, Any],
    ) -> None:
        """Record stops riding on order ``order_id`` until it is done."""
        order = self._orders[order_id]
        self._order_stops[order_id] = (take_profit, stop_loss)
        self._attached[order_id] = _Attached(
            order.uid, order_id, take_profit, stop_loss, whole, order.leg, dict(native)
        )

    def order_stops(self, order_id: str) -> tuple[StopLevel | None, StopLevel | None] | None:
        """(take-profit, stop-loss) attached to order ``order_id``, if any were."""
        return self._order_stops.get(order_id)

    def check_stops(
        self,
        spec: InstrumentSpec,
        side: str,
        take_profit: StopLevel | None,
        stop_loss: StopLevel | None,
    ) -> None:
        """Refuse stops of a ``side`` entry that would fire at once (``trigger_would_fire``):
        a long takes profit above and stops below the price each watches, a short the reverse."""
        for stop, profit in ((take_profit, True), (stop_loss, False)):
            if stop is None:
                continue
            if stop.trigger_by not in TRIGGER_BY:
                raise EngineError("invalid_request", f"trigger_by {stop.trigger_by}")
            reference = self.reference_price(spec, stop.trigger_by)
            direction = _stop_direction(side, profit)
            if crossed(direction, reference, stop.trigger_price):
                name = "TakeProfit" if profit else "StopLoss"
                where = "higher" if direction == "rise" else "lower"
                position = "Buy" if side == "buy" else "Sell"
                raise EngineError(
                    "trigger_would_fire",
                    f"{name}:{stop.trigger_price} set for {position} position should be "
                    f"{where} than base_price:{reference}",
                )

    def attach_stops(
        self,
        uid: int,
        order_id: str,
        *,
        take_profit: StopLevel | None,
        stop_loss: StopLevel | None,
        whole: bool,
        native: Mapping[str, Any] | None = None,
    ) -> None:
        """Guard what order ``order_id`` fills with ``take_profit``/``stop_loss`` once it is
        done: the position's stops when ``whole``, else reduce-only stops of the filled amount
        (an OCO pair when both are given). Checked first with ``check_stops``."""
        order = self._orders[order_id]
        self._attach(order_id, take_profit, stop_loss, whole, dict(native or {}))
        self._activate_attached(order.spec.key)

    def set_position_stops(
        self,
        uid: int,
        symbol: str,
        *,
        take_profit: StopLevel | None = None,
        stop_loss: StopLevel | None = None,
        trail_amount: Decimal | None = None,
        activation: Decimal | None = None,
        category: str | None = None,
        leg: str = "",
        native: Mapping[str, Any] | None = None,
    ) -> list[TriggerView]:
        """Set the position's stops, replacing those of the same kind (Bybit ``trading-stop``
        Full mode). No position: ``no_position``. All or nothing."""
        account = self._account(uid)
        spec = self.instrument(symbol, category)
        position = account.current(spec.key, leg)
        if not spec.is_derivative or position is None or position.size == 0:
            raise EngineError("no_position", "can not set tp/sl/ts for zero position")
        side = "buy" if position.size > 0 else "sell"
        self.check_stops(spec, side, take_profit, stop_loss)
        closing = "sell" if side == "buy" else "buy"
        wanted: list[tuple[str, StopLevel | None]] = [
            ("take_profit", take_profit),
            ("stop_loss", stop_loss),
        ]
        if trail_amount is not None:
            reference = self.reference_price(spec, "last")
            starts = "rise" if closing == "sell" else "fall"
            if activation is not None and crossed(starts, reference, activation):
                raise EngineError("trigger_would_fire", f"activation {activation} is reached")
        created: list[TriggerView] = []
        with self.order_leg(leg or None):
            for kind, stop in wanted:
                if stop is None:
                    continue
                self._cancel_position_stops(uid, spec.key, leg, kind, "replaced")
                created.append(
                    self.place_trigger(
                        uid, symbol, closing, "market", ZERO,
                        trigger_price=stop.trigger_price,
                        direction=_stop_direction(side, kind == "take_profit"),
                        trigger_by=stop.trigger_by, category=spec.category, kind=kind,
                        close_position=True, native=native,
                    )
                )  # fmt: skip
            if trail_amount is not None:
                self._cancel_position_stops(uid, spec.key, leg, "trailing", "replaced")
                created.append(
                    self.place_trigger(
                        uid, symbol, closing, "market", ZERO, trigger_price=None,
                        direction=None, category=spec.category, kind="trailing",
                        close_position=True, trail_amount=trail_amount, activation=activation,
                        native=native,
                    )
                )  # fmt: skip
        return created

    def _cancel_position_stops(
        self, uid: int, key: InstrumentKey, leg: str, kind: str, reason: str
    ) -> None:
        for trigger in list(self._open_triggers(uid)):
            if (
                trigger.close_position
                and trigger.spec.key == key
                and trigger.leg == leg
                and trigger.kind == kind
            ):
                self._cancel_trigger(trigger, reason)

    def _settle_positions(self, key: InstrumentKey) -> None:
        """Cancel the position stops of positions that are now flat."""
        for trigger in list(self._open_triggers()):
            if not trigger.close_position or trigger.spec.key != key:
                continue
            position = self._accounts[trigger.uid].current(key, trigger.leg)
            if position is None or position.size == 0:
                self._cancel_trigger(trigger, "position_closed")

    def _activate_attached(self, key: InstrumentKey) -> None:
        """Stops of orders that are done become position stops or reduce-only stops."""
        for order_id, attached in list(self._attached.items()):
            order = self._orders.get(order_id)
            if order is None or order.spec.key != key or order.is_open:
                continue
            del self._attached[order_id]
            if order.filled == 0:
                continue  # nothing to guard: the stops go with the order
            self._guard(order, attached)

    def _guard(self, order: Order, attached: _Attached) -> None:
        spec = order.spec
        closing = "sell" if order.side == "buy" else "buy"
        stops = [("take_profit", attached.take_profit), ("stop_loss", attached.stop_loss)]
        placed: list[str] = []
        with self.order_leg(attached.leg or None):
            for kind, stop in stops:
                if stop is None:
                    continue
                if attached.whole:
                    self._cancel_position_stops(order.uid, spec.key, attached.leg, kind, "replaced")
                # Not checked against the price: one the fill already passed fires at once,
                # as an exchange's stop does on its first check.
                view = self.place_trigger(
                    order.uid, spec.symbol, closing,
                    "market" if stop.price is None else "limit",
                    ZERO if attached.whole and stop.price is None else order.filled,
                    price=stop.price, trigger_price=stop.trigger_price,
                    direction=_stop_direction(order.side, kind == "take_profit"),
                    trigger_by=stop.trigger_by, category=spec.category, kind=kind,
                    close_position=attached.whole and stop.price is None,
                    reduce_only=True, native=attached.native, may_fire=True,
                )  # fmt: skip
                placed.append(view.trigger_id)
        if len(placed) == 2 and not attached.whole:
            self.link_oco(*placed)


def _stop_direction(entry_side: str, take_profit: bool) -> str:
    """The way the price moves to reach a long's (buy entry) or a short's stop."""
    rising = (entry_side == "buy") == take_profit
    return "rise" if rising else "fall"
