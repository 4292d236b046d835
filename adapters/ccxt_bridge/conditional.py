"""The conditional fields of a ccxt order (``Order.conditional``, ``trigger_price``,
``trigger_by``, ``stop_loss``, ``take_profit``), read from ccxt's unified fields and the
exchange's own row (``info``): Bybit ``stopOrderType``/``triggerBy``, Binance algo orders'
``algoId``/``workingType``, OKX algo orders' ``algoId``/``triggerPxType``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from exchanges.models import StopSpec, TriggerBy

__all__ = ["BY_IN", "cleaned", "decimal", "order_fields"]

#: Binance spot's stop order types (a row's ``type``), which trigger on the last price.
_BINANCE_SPOT_STOPS = frozenset(
    {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
)

BY_IN: dict[str, TriggerBy] = {
    "LastPrice": "last",
    "MarkPrice": "mark",
    "IndexPrice": "index",
    "CONTRACT_PRICE": "last",
    "MARK_PRICE": "mark",
    "last": "last",
    "mark": "mark",
    "index": "index",
}


def decimal(value: Any) -> Decimal | None:
    """A positive finite Decimal of a ccxt value, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() and number > 0 else None


def _text(info: Mapping[str, Any], name: str) -> str:
    value = info.get(name)
    return value if isinstance(value, str) else ""


def order_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """The conditional fields of a ccxt order (``Order.conditional`` and the rest)."""
    info = item.get("info")
    info = info if isinstance(info, Mapping) else {}
    trigger = decimal(item.get("triggerPrice"))
    conditional = (
        trigger is not None
        or bool(_text(info, "algoId"))
        or bool(_text(info, "stopOrderType"))
        or info.get("algoType") == "CONDITIONAL"
    )
    by_text = (
        _text(info, "triggerBy")
        or _text(info, "workingType")
        or _text(info, "triggerPxType")
        or _text(info, "slTriggerPxType")
        or _text(info, "tpTriggerPxType")
    )
    fields: dict[str, Any] = {}
    for name, key, by_key in (
        ("stop_loss", "stopLossPrice", ("slTriggerBy", "slTriggerPxType")),
        ("take_profit", "takeProfitPrice", ("tpTriggerBy", "tpTriggerPxType")),
    ):
        price = decimal(item.get(key))
        if price is not None:
            by = next((_text(info, k) for k in by_key if _text(info, k)), "")
            fields[name] = StopSpec(price, None, BY_IN.get(by, "last"))
    rate, ratio = decimal(info.get("callbackRate")), decimal(info.get("callbackRatio"))
    if rate is not None or ratio is not None:
        # Binance's callbackRate is a percentage, OKX's callbackRatio a fraction.
        fields["trailing_percent"] = rate if rate is not None else (ratio or 0) * 100
    spread = decimal(info.get("callbackSpread"))
    if spread is not None:
        fields["trailing_amount"] = spread
    if "sCode" in info and "reduceOnly" not in info:
        # An OKX acknowledgement (ids and sCode): ccxt's False says nothing; the request does.
        fields["reduce_only"] = None
    if conditional:
        fields["conditional"] = True
        fields["trigger_price"] = trigger
        # None where the row does not say (an acknowledgement): the request fills it in.
        fields["trigger_by"] = BY_IN.get(by_text)
        if info.get("type") in _BINANCE_SPOT_STOPS:
            fields["trigger_by"] = "last"  # Binance spot stops watch the last price only
    return fields


def cleaned(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """``item`` without the -1 OKX algo orders carry as their price for "at market", and
    without the fill ccxt infers for a finished OKX algo order (the amount, as if filled, and
    a cost from that price): the order it placed reports its own fill."""
    info = item.get("info")
    if not isinstance(info, Mapping) or not info.get("algoId") or "accFillSz" in info:
        return item
    out = {**item, "filled": None, "cost": None} if info.get("state") else dict(item)
    if str(item.get("price")) == "-1":
        out["price"] = None
    return out
