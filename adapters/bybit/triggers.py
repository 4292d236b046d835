"""Bybit conditional orders, attached TP/SL and position TP/SL/trailing stops.

Conditional orders are ``POST /v5/order/create`` with ``triggerPrice``, ``triggerDirection``
(1: the price rises to it, 2: falls to it; derivatives only, spot takes the side from the price)
and ``triggerBy`` (LastPrice, MarkPrice, IndexPrice; spot: last only); a spot conditional order
is ``orderFilter=StopOrder`` ("Place Order", https://bybit-exchange.github.io/docs/v5/order/create-order).
They wait as ``Untriggered`` with ``stopOrderType`` Stop and become an active order with the same
``orderId``. ``/v5/order/realtime`` lists every kind by default ("Get Open & Closed Orders",
https://bybit-exchange.github.io/docs/v5/order/open-order), so ``fetch_open_orders`` needs
nothing more; ``/v5/order/cancel`` cancels them, a spot one with ``orderFilter=StopOrder``
("Cancel Order", https://bybit-exchange.github.io/docs/v5/order/cancel-order: orderFilter is
spot only, Order by default).

Attached TP/SL: ``takeProfit``/``stopLoss`` with ``tpTriggerBy``/``slTriggerBy`` on the same
request, ``tpslMode`` Full (the position's TP/SL, at market) or, when a limit price is given,
Partial with ``tpOrderType``/``slOrderType`` Limit and ``tpLimitPrice``/``slLimitPrice``.

Position stops: ``POST /v5/position/trading-stop`` ("Set Trading Stop",
https://bybit-exchange.github.io/docs/v5/position/trading-stop) with ``tpslMode`` Full,
``positionIdx`` (0 one-way, 1/2 the hedge sides), ``takeProfit``, ``stopLoss``, their trigger
types, ``trailingStop`` (a price distance: Bybit's only trailing stop, position level only) and
``activePrice``; 10 requests/s. No position: 10001 "can not set tp/sl/ts for zero position"
(an ``InvalidOrder``, ``errors.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.errors import InvalidOrder
from exchanges.models import Market, StopSpec, TradingStop, TriggerBy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from adapters.bybit.requests import RequestBuilder
    from exchanges.arguments import OrderArgs, TradingStopArgs
    from exchanges.flow import Flow

__all__ = [
    "RESERVED",
    "TRADING_STOP_PATH",
    "order_fields",
    "parse_conditional",
    "set_trading_stop",
]

TRADING_STOP_PATH = "/v5/position/trading-stop"
_BY_OUT: dict[str, str] = {"last": "LastPrice", "mark": "MarkPrice", "index": "IndexPrice"}
_BY_IN: dict[str, TriggerBy] = {"LastPrice": "last", "MarkPrice": "mark", "IndexPrice": "index"}

#: The native parameters the conditional arguments set (``params`` may not replace them).
RESERVED: dict[str, str] = {
    "triggerPrice": "trigger_price",
    "triggerDirection": "trigger_direction",
    "triggerBy": "trigger_by",
    "orderFilter": "trigger_price",
    "takeProfit": "take_profit",
    "stopLoss": "stop_loss",
    "tpTriggerBy": "take_profit",
    "slTriggerBy": "stop_loss",
    "tpslMode": "stop_loss or take_profit",
    "tpOrderType": "take_profit",
    "slOrderType": "stop_loss",
    "tpLimitPrice": "take_profit",
    "slLimitPrice": "stop_loss",
}


def order_fields(args: OrderArgs, category: str) -> dict[str, Any]:
    """The ``/v5/order/create`` fields of a conditional order and of attached TP/SL."""
    body: dict[str, Any] = {}
    if args.trigger_price is not None:
        body["triggerPrice"] = to_wire(args.trigger_price)
        if category == "spot":
            body["orderFilter"] = "StopOrder"
        else:
            body["triggerDirection"] = 1 if args.trigger_direction == "rise" else 2
            body["triggerBy"] = _BY_OUT[args.trigger_by]
    stops = (("tp", "takeProfit", args.take_profit), ("sl", "stopLoss", args.stop_loss))
    partial = any(s is not None and s.price is not None for _, _, s in stops)
    for prefix, name, stop in stops:
        if stop is None:
            continue
        body[name] = to_wire(stop.trigger_price)
        body[f"{prefix}TriggerBy"] = _BY_OUT[stop.trigger_by]
        if partial:
            body[f"{prefix}OrderType"] = "Market" if stop.price is None else "Limit"
            if stop.price is not None:
                body[f"{prefix}LimitPrice"] = to_wire(stop.price)
    if args.attached:
        # Full: the position's TP/SL at market; Partial: of this order's filled qty, needed
        # for limit TP/SL.
        body["tpslMode"] = "Partial" if partial else "Full"
    return body


def _price(item: Mapping[str, Any], name: str) -> Decimal | None:
    text = item.get(name)
    if not isinstance(text, str) or not text:
        return None
    try:
        value = Decimal(text)
    except ArithmeticError:
        return None
    return value if value.is_finite() and value > 0 else None


def _stop(item: Mapping[str, Any], prefix: str, name: str) -> StopSpec | None:
    trigger = _price(item, name)
    if trigger is None:
        return None
    return StopSpec(
        trigger,
        _price(item, f"{prefix}LimitPrice"),
        _BY_IN.get(item.get(f"{prefix}TriggerBy") or "", "last"),
    )


def parse_conditional(item: Mapping[str, Any]) -> dict[str, Any]:
    """The conditional fields of an order row (``Order.conditional`` and the rest)."""
    stop_type = item.get("stopOrderType") or ""
    trigger = _price(item, "triggerPrice")
    fields: dict[str, Any] = {
        "stop_loss": _stop(item, "sl", "stopLoss"),
        "take_profit": _stop(item, "tp", "takeProfit"),
    }
    if stop_type or trigger is not None:
        fields["conditional"] = True
        fields["trigger_price"] = trigger
        fields["trigger_by"] = _BY_IN.get(item.get("triggerBy") or "", "last")
    return fields


def set_trading_stop(
    build: RequestBuilder, market: Market, category: str, args: TradingStopArgs, side: str
) -> Flow[TradingStop]:
    """``/v5/position/trading-stop`` of the position on ``side`` (``long``/``short``)."""
    body: dict[str, Any] = {
        "category": category,
        "symbol": market.id,
        "tpslMode": "Full",
        "positionIdx": 0 if args.side is None else 1 if args.side == "long" else 2,
    }
    for prefix, name, stop in (
        ("tp", "takeProfit", args.take_profit),
        ("sl", "stopLoss", args.stop_loss),
    ):
        if stop is not None:
            body[name] = to_wire(stop.trigger_price)
            body[f"{prefix}TriggerBy"] = _BY_OUT[stop.trigger_by]
    if args.trailing_amount is not None:
        body["trailingStop"] = to_wire(args.trailing_amount)
        if args.activation_price is not None:
            body["activePrice"] = to_wire(args.activation_price)
    # Setting the same stops again changes nothing: a lost answer may be resent.
    request = build.post(TRADING_STOP_PATH, body, category=category, write=False)
    response = yield request
    return TradingStop(
        symbol=market.symbol,
        side="long" if side == "long" else "short",
        stop_loss=args.stop_loss,
        take_profit=args.take_profit,
        trailing_amount=args.trailing_amount,
        activation_price=args.activation_price,
        raw=response.data,
    )


def no_position(symbol: str) -> InvalidOrder:
    """The error for stops asked of a position that is not open."""
    return InvalidOrder(
        f"there is no open {symbol} position to set stops on",
        exchange="bybit",
        hint="Open the position first, or attach the stops to the order that opens it.",
    )
