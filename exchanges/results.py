"""The same fields in the same results on every exchange, completed from the request.

Exchanges acknowledge writes differently: Binance answers a new order with the whole order,
Bybit and OKX with its ids only, and a cancel with ids (Bybit) or a code (OKX). What the
request itself determined (symbol, type, side, amount, price, client order id, time in force,
post-only, reduce-only) is filled in here when the answer left it out, and the state a
successful write implies is set: ``open`` once a new order is accepted, ``canceled`` once a
cancel succeeded. What the exchange did report is never overwritten. Every adapter's writes
pass through these functions (``Adapter.place``, ``Adapter.amend``, ``Adapter.cancel``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from exchanges.decimals import ZERO
from exchanges.errors import InvalidOrder, OrderImmediatelyFillable, OrderNotFillable

if TYPE_CHECKING:
    from exchanges.arguments import AmendArgs, OrderArgs
    from exchanges.models import Order

__all__ = ["amended", "canceled", "ends_at_once", "placed", "refusal"]


def _missing(order: Order, values: dict[str, Any]) -> dict[str, Any]:
    """The ``values`` whose field the order leaves at None."""
    return {k: v for k, v in values.items() if v is not None and getattr(order, k) is None}


def _settled(order: Order, changes: dict[str, Any]) -> Order:
    """``order`` with ``changes``, its times and zero amounts in one form."""
    if order.timestamp is None and changes.get("timestamp") is None and order.updated is not None:
        changes["timestamp"] = order.updated
    # 0E-8 reads as 0: a zero prints the same whatever exponent the exchange sent.
    for name in ("filled", "remaining", "cost", "fee"):
        value = changes.get(name, getattr(order, name))
        if value is not None and value == 0:
            changes[name] = ZERO
    if order.filled is not None and order.filled == 0 and order.cost is None:
        changes["cost"] = ZERO
    return attrs.evolve(order, **changes) if changes else order


def requested(args: OrderArgs, *, time_in_force: str | None = None) -> dict[str, Any]:
    """What a new order's request says of it: the fields an acknowledgement carrying only ids
    is completed from (``time_in_force`` when the exchange reports another one than asked)."""
    return {
        "type": args.type,
        "side": args.side,
        "price": args.price,
        "amount": args.amount,
        "time_in_force": time_in_force or ("PO" if args.post_only else args.time_in_force or "GTC"),
        "post_only": args.post_only,
        "reduce_only": args.reduce_only,
    }


def placed(order: Order, args: OrderArgs) -> Order:
    """A new order's result, completed from its request; ``open`` when no status came."""
    values = {
        "client_order_id": args.client_order_id,
        "type": args.type,
        "side": args.side,
        "amount": args.amount,
        "price": args.price if args.type == "limit" else None,
        "time_in_force": "PO" if args.post_only else args.time_in_force or "GTC",
        "post_only": args.post_only,
        "reduce_only": args.reduce_only,
        "status": "open",
        "good_till": args.good_till,
    }
    conditional = args.conditional
    # Most orders carry no intent: their fields are only looked at when there is one.
    if conditional or args.attached:
        values.update(
            trigger_price=args.trigger_price or args.activation_price,
            trigger_by=args.trigger_by if conditional else None,
            stop_loss=args.stop_loss,
            take_profit=args.take_profit,
            trailing_percent=args.trailing_percent,
            trailing_amount=args.trailing_amount,
        )
    changes = _missing(order, values)
    if conditional and not order.conditional:
        changes["conditional"] = True
    return _settled(order, changes)


def ends_at_once(args: OrderArgs) -> bool:
    """True for an order the exchange settles when it arrives: market, IOC, FOK, post-only
    (a conditional order waits for its trigger first)."""
    if args.conditional:
        return False
    return args.type == "market" or args.post_only or args.time_in_force in ("IOC", "FOK")


def refusal(order: Order, args: OrderArgs, exchange: str) -> InvalidOrder | None:
    """The error for a post-only or FOK order the exchange accepted and then killed unfilled.

    Binance refuses such orders outright (-2010, -5021, -5022); Bybit and OKX accept them and
    cancel them at once ("rejectReason" EC_PostOnlyWillTakeLiquidity / EC_CancelForNoFullFill:
    https://bybit-exchange.github.io/docs/v5/enum#rejectreason; OKX ``cancelSource`` in "Get
    order details": https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-details).
    Either way the caller gets the same error.
    """
    if order.status not in ("canceled", "expired", "rejected") or (order.filled or 0) != 0:
        return None
    where = f"{args.side} {args.amount:f} {args.symbol}"
    if args.post_only:
        return OrderImmediatelyFillable(
            f"the post-only order ({where} at {args.price}) would have taken liquidity; "
            f"{exchange} cancelled it unfilled",
            exchange=exchange,
        )
    if args.time_in_force == "FOK":
        return OrderNotFillable(
            f"the fill-or-kill order ({where}) could not fill in full; {exchange} cancelled it "
            "unfilled",
            exchange=exchange,
        )
    return None


def amended(order: Order, args: AmendArgs) -> Order:
    """An amended order's result: the new amount and price, ``open`` when no status came."""
    changes = _missing(
        order,
        {
            "client_order_id": args.ref.client_order_id,
            "amount": args.amount,
            "price": args.price,
            "status": "open",
        },
    )
    return _settled(order, changes)


def canceled(order: Order) -> Order:
    """A cancelled order's result: ``canceled`` when no status came."""
    changes = _missing(order, {"status": "canceled"})
    return _settled(order, changes)
