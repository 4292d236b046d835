"""What the emulator's engine keeps of a conditional order (``Trigger``), its snapshot
(``TriggerView``), a stop's level (``StopLevel``) and the test of a price reaching a trigger."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from exchanges.emulator.instruments import InstrumentSpec

__all__ = ["DIRECTIONS", "KINDS", "TRIGGER_BY", "StopLevel", "Trigger", "TriggerView", "crossed"]

TRIGGER_BY = ("last", "mark", "index")
DIRECTIONS = ("rise", "fall")
KINDS = ("trigger", "take_profit", "stop_loss", "trailing")


@attrs.frozen
class StopLevel:
    """A stop-loss or take-profit: its trigger, the price it watches and its limit price (None:
    market)."""

    trigger_price: Decimal
    trigger_by: str = "last"
    price: Decimal | None = None


@attrs.frozen
class TriggerView:
    """A snapshot of one conditional order."""

    trigger_id: str
    client_order_id: str | None
    uid: int
    symbol: str
    category: str
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_by: str
    direction: str
    time_in_force: str
    reduce_only: bool
    kind: str
    close_position: bool
    #: ``untriggered``, ``triggered``, ``cancelled`` or ``rejected``.
    status: str
    cancel_reason: str | None
    reject_reason: str | None
    order_id: str | None
    created_ms: int
    updated_ms: int
    leg: str
    take_profit: StopLevel | None
    stop_loss: StopLevel | None
    trail_amount: Decimal | None
    trail_ratio: Decimal | None
    activation: Decimal | None
    oco: str | None
    #: What the front-end asked to keep with it (its native order type, flags).
    native: Mapping[str, Any]

    @property
    def is_open(self) -> bool:
        """True while it waits for its trigger."""
        return self.status == "untriggered"


@attrs.define(eq=False)
class Trigger:
    """One conditional order as the engine keeps it (``TriggerView`` is its snapshot)."""

    trigger_id: str
    uid: int
    spec: InstrumentSpec
    side: str
    type: str
    qty: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    trigger_by: str
    direction: str
    time_in_force: str
    reduce_only: bool
    client_order_id: str | None
    kind: str
    close_position: bool
    created_ms: int
    updated_ms: int
    seq: int
    leg: str = ""
    inherit_client_id: bool = False  # and its id: the order it places is the same order
    take_profit: StopLevel | None = None
    stop_loss: StopLevel | None = None
    whole: bool = True
    trail_amount: Decimal | None = None
    trail_ratio: Decimal | None = None
    activation: Decimal | None = None
    activated: bool = True
    extreme: Decimal | None = None
    oco: str | None = None
    native: dict[str, Any] = attrs.Factory(dict)
    status: str = "untriggered"
    cancel_reason: str | None = None
    reject_reason: str | None = None
    order_id: str | None = None

    def view(self) -> TriggerView:
        """A snapshot of it."""
        return TriggerView(
            trigger_id=self.trigger_id,
            client_order_id=self.client_order_id,
            uid=self.uid,
            symbol=self.spec.symbol,
            category=self.spec.category,
            side=self.side,
            type=self.type,
            qty=self.qty,
            price=self.price,
            trigger_price=self.trigger_price,
            trigger_by=self.trigger_by,
            direction=self.direction,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            kind=self.kind,
            close_position=self.close_position,
            status=self.status,
            cancel_reason=self.cancel_reason,
            reject_reason=self.reject_reason,
            order_id=self.order_id,
            created_ms=self.created_ms,
            updated_ms=self.updated_ms,
            leg=self.leg,
            take_profit=self.take_profit,
            stop_loss=self.stop_loss,
            trail_amount=self.trail_amount,
            trail_ratio=self.trail_ratio,
            activation=self.activation,
            oco=self.oco,
            native=dict(self.native),
        )


def crossed(direction: str, reference: Decimal, trigger: Decimal) -> bool:
    """True when ``reference`` has reached ``trigger`` moving in ``direction``."""
    return reference >= trigger if direction == "rise" else reference <= trigger
