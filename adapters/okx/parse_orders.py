"""OKX v5 parsers of orders: order items, write acknowledgements and fills."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.okx.parse_common import text
from exchanges import parsing
from exchanges.decimals import ZERO
from exchanges.models import Fill, Order, OrderStatus

__all__ = ["ORDER_TYPES", "parse_ack", "parse_fill", "parse_order"]

_EX = "okx"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_price = parsing.need_price
_amount = parsing.need_amount
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms

_STATES: dict[str, OrderStatus] = {
    "live": "open",
    "partially_filled": "open",
    "filled": "closed",
    "canceled": "canceled",
    "mmp_canceled": "canceled",
}
_ORD_TYPES: dict[str, tuple[str, str | None]] = {
    # ordType -> (unified type, time in force)
    "limit": ("limit", "GTC"),
    "post_only": ("limit", "PO"),
    "ioc": ("limit", "IOC"),
    "fok": ("limit", "FOK"),
    "market": ("market", "IOC"),
    "optimal_limit_ioc": ("market", "IOC"),
}
#: OKX's ``ordType`` -> (unified type, time in force), for readers of OKX's own order JSON.
ORDER_TYPES = _ORD_TYPES


# -- orders ---------------------------------------------------------------------------------


def _side(value: Any) -> Any:
    return value if value in ("buy", "sell") else None


def _fee(item: Mapping[str, Any], name: str) -> Decimal | None:
    # OKX reports fees charged as negative numbers and rebates as positive ones.
    fee = _opt(item, name, _EX)
    return None if fee is None else -fee


def parse_order(symbol: str, item: Mapping[str, Any], *, spot: bool) -> Order:
    """One order item (details, pending, history); amounts in contracts for derivatives."""
    order_type, tif = _ORD_TYPES.get(text(item.get("ordType")) or "", (None, None))
    status = _STATES.get(text(item.get("state")) or "")
    amount = _opt_amount(item, "sz", _EX)
    if item.get("tgtCcy") == "quote_ccy":
        # A spot market buy sized in the quote currency: sz is money to spend, not an amount.
        amount = None
    filled = _opt_amount(item, "accFillSz", _EX)
    remaining = None
    if status is not None and status != "open":
        remaining = ZERO
    elif amount is not None and filled is not None:
        remaining = amount - filled
    # "" or "0" before any fill: none.
    average = _opt_amount(item, "avgPx", _EX) or None
    cost = filled * average if spot and filled is not None and average is not None else None
    price = _opt_amount(item, "px", _EX) if order_type == "limit" else None
    reduce_only = item.get("reduceOnly")
    return Order(
        id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        type=order_type,  # type: ignore[arg-type]
        side=_side(item.get("side")),
        status=status,
        price=price,
        amount=amount,
        filled=filled,
        remaining=remaining,
        average=average,
        time_in_force=tif,
        post_only=item.get("ordType") == "post_only",
        reduce_only=reduce_only in (True, "true") if reduce_only not in (None, "") else None,
        timestamp=_ms(item.get("cTime")),
        updated=_ms(item.get("uTime")),
        cost=cost,
        fee=_fee(item, "fee"),
        fee_currency=item.get("feeCcy") or None,
        raw=item,
    )


def parse_ack(symbol: str, item: Mapping[str, Any], **known: Any) -> Order:
    """A write's acknowledgement (``ordId``, ``clOrdId``, ``ts``) plus what the request said."""
    return Order(
        id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        type=known.get("type"),
        side=known.get("side"),
        status=known.get("status"),
        price=known.get("price"),
        amount=known.get("amount"),
        filled=None,
        remaining=None,
        average=None,
        time_in_force=known.get("time_in_force"),
        post_only=known.get("post_only"),
        reduce_only=known.get("reduce_only"),
        timestamp=None,
        updated=_ms(item.get("ts")),
        raw=dict(item),
    )


def parse_fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """One /api/v5/trade/fills item (``execType`` M maker, T taker)."""
    exec_type = item.get("execType")
    return Fill(
        id=_str(item, "tradeId", _EX),
        order_id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_price(item, "fillPx", _EX),
        amount=_amount(item, "fillSz", _EX),
        fee=_fee(item, "fee"),
        fee_currency=item.get("feeCcy") or None,
        is_maker=True if exec_type == "M" else False if exec_type == "T" else None,
        timestamp=_need_ms(item, "fillTime" if item.get("fillTime") else "ts", _EX),
        raw=item,
    )
