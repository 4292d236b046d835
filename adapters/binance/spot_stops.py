"""Binance spot conditional orders: the stop types of ``POST /api/v3/order``.

Spot has no algo service: ``STOP_LOSS``, ``STOP_LOSS_LIMIT``, ``TAKE_PROFIT`` and
``TAKE_PROFIT_LIMIT`` with ``stopPrice`` are ordinary orders ("New order (TRADE)",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints#new-order-trade).
They keep their ``orderId`` and ``clientOrderId`` once triggered, are listed by ``openOrders``
and ``allOrders``, read with ``GET /api/v3/order`` and cancelled with ``DELETE
/api/v3/order``, so placing one exactly once, looking it up and cancelling it are the ordinary
order paths of ``orders.py``; this module only picks the type and reads the stop fields.

The type follows the side and the direction ("Trigger order price rules against market
price": above the market STOP_LOSS buys and TAKE_PROFIT sells, below it STOP_LOSS sells and
TAKE_PROFIT buys): a buy that fires as the price rises, or a sell as it falls, is a STOP_LOSS,
the other two TAKE_PROFIT; ``_LIMIT`` with a limit price (and ``timeInForce``), else it places a
market order. Spot triggers on the last trade price only. A stop already reached is -2010
"Order would trigger immediately." ("Error codes",
https://developers.binance.com/docs/binance-spot-api-docs/errors). The order reports ``status``
NEW while it waits (``isWorking`` false) and ``stopPrice`` in every answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.errors import InvalidOrder

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs
    from exchanges.models import Market

__all__ = ["STOP_TYPES", "order_params", "parse_stop", "stop_type"]

#: The spot order types that wait for ``stopPrice``.
STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})


def stop_type(side: str, direction: str | None, limit: bool) -> str:
    """STOP_LOSS when a buy fires rising or a sell falling, else TAKE_PROFIT; ``_LIMIT`` with a
    limit price."""
    stop = (side == "buy") == (direction == "rise")
    base = "STOP_LOSS" if stop else "TAKE_PROFIT"
    return f"{base}_LIMIT" if limit else base


def order_params(market: Market, args: OrderArgs) -> dict[str, Any]:
    """The ``POST /api/v3/order`` parameters of a spot conditional order."""
    if args.post_only:
        raise InvalidOrder(
            "Binance spot has no post-only stop order (LIMIT_MAKER takes no stopPrice)",
            exchange="binance",
            hint="Drop post_only, or place the LIMIT_MAKER order once your own trigger fires.",
        )
    assert args.trigger_price is not None
    limit = args.type == "limit"
    params: dict[str, Any] = {
        "symbol": market.id,
        "side": "BUY" if args.side == "buy" else "SELL",
        "type": stop_type(args.side, args.trigger_direction, limit),
        "quantity": to_wire(args.amount),
    }
    if limit:
        assert args.price is not None
        params["price"] = to_wire(args.price)
        params["timeInForce"] = args.time_in_force or "GTC"
    params["stopPrice"] = to_wire(args.trigger_price)
    params["newClientOrderId"] = args.client_order_id
    # Stop types answer ACK by default; RESULT carries the status.
    params["newOrderRespType"] = "RESULT"
    params.update(args.params)
    return params


def parse_stop(item: Mapping[str, Any]) -> dict[str, Any]:
    """The conditional fields of a spot order row, or of an ``executionReport`` read under
    REST's names (``P`` as ``stopPrice``); none unless its type is a stop type."""
    if item.get("type") not in STOP_TYPES:
        return {}
    text = item.get("stopPrice")
    try:
        trigger = Decimal(str(text)) if text not in (None, "") else None
    except ArithmeticError:
        trigger = None
    if trigger is not None and (not trigger.is_finite() or trigger <= 0):
        trigger = None
    return {"conditional": True, "trigger_price": trigger, "trigger_by": "last"}
