"""Bybit v5 parsers of orders: realtime and history items, acknowledged orders and fills."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.bybit.parse_common import text
from adapters.bybit.triggers import parse_conditional
from exchanges import parsing
from exchanges.decimals import ZERO
from exchanges.models import Fill, Order, OrderStatus

__all__ = ["parse_ack_item", "parse_fill", "parse_order"]

_EX = "bybit"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_price = parsing.need_price
_amount = parsing.need_amount
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms


_STATUS: dict[str, OrderStatus] = {
    "New": "open",
    "PartiallyFilled": "open",
    "Untriggered": "open",
    "Triggered": "open",
    "Active": "open",
    "Created": "open",
    "Filled": "closed",
    "Cancelled": "canceled",
    "PartiallyFilledCanceled": "canceled",
    "Deactivated": "canceled",
    "Rejected": "rejected",
}


# -- orders -------------------------------------------------------------------------------


def _side(value: Any) -> Any:
    return "buy" if value == "Buy" else "sell" if value == "Sell" else None


def parse_order(symbol: str, item: Mapping[str, Any]) -> Order:
    """One realtime/history item."""
    tif = text(item.get("timeInForce"))
    order_type = item.get("orderType")
    price = _opt_amount(item, "price", _EX)
    if order_type == "Market":
        price = None
    filled = _opt_amount(item, "cumExecQty", _EX)
    status = _STATUS.get(text(item.get("orderStatus")) or "")
    remaining = _opt_amount(item, "leavesQty", _EX)
    if status in ("closed", "canceled", "rejected", "expired"):
        remaining = ZERO
    # "0" before any fill: kept as None below.
    average = _opt_amount(item, "avgPrice", _EX)
    # Negative for a maker rebate.
    fee = _opt(item, "cumExecFee", _EX)
    detail = item.get("cumFeeDetail")
    fee_currency = next(iter(detail)) if isinstance(detail, dict) and len(detail) == 1 else None
    return Order(
        id=item.get("orderId") or None,
        client_order_id=item.get("orderLinkId") or None,
        symbol=symbol,
        type="limit" if order_type == "Limit" else "market" if order_type == "Market" else None,
        side=_side(item.get("side")),
        status=status,
        price=price,
        amount=_opt_amount(item, "qty", _EX),
        filled=filled,
        remaining=remaining,
        average=average if average else None,
        time_in_force="PO" if tif == "PostOnly" else tif or None,
        post_only=tif == "PostOnly",
        reduce_only=bool(item.get("reduceOnly")) if "reduceOnly" in item else None,
        timestamp=_ms(item.get("createdTime")),
        updated=_ms(item.get("updatedTime")),
        cost=_opt_amount(item, "cumExecValue", _EX),
        fee=fee,
        fee_currency=fee_currency,
        raw=item,
        **parse_conditional(item),
    )


def parse_ack_item(symbol: str, res: Mapping[str, Any], at: int | None, **known: Any) -> Order:
    """One acknowledged order (``orderId``, ``orderLinkId``) written at ``at`` (ms)."""
    return Order(
        id=res.get("orderId") or None,
        client_order_id=res.get("orderLinkId") or None,
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
        updated=at,
        raw=dict(res),
    )


def parse_fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """One execution-list item."""
    return Fill(
        id=_str(item, "execId", _EX),
        order_id=item.get("orderId") or None,
        client_order_id=item.get("orderLinkId") or None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_price(item, "execPrice", _EX),
        amount=_amount(item, "execQty", _EX),
        fee=_opt(item, "execFee", _EX),
        fee_currency=item.get("feeCurrency") or None,
        is_maker=item.get("isMaker") if isinstance(item.get("isMaker"), bool) else None,
        timestamp=_need_ms(item, "execTime", _EX),
        raw=item,
    )
