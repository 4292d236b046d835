"""Binance USD-M leverage: ``POST /fapi/v1/leverage`` of one symbol.

"Change Initial Leverage (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Initial-Leverage):
``symbol`` and ``leverage``, an int from 1 to 125 (the symbol's own maximum is its first
bracket's ``initialLeverage``); weight 1; the answer is ``leverage`` (int), ``maxNotionalValue``
and ``symbol``. One value for both sides. Setting the value in force again is answered like any
other change (Binance has no "not modified" code for leverage). "Error Codes"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code): -4028
INVALID_LEVERAGE ("Leverage N is not valid") for a value above the symbol's maximum, as
``BadRequest`` (``errors.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges import parsing
from exchanges.errors import BadRequest
from exchanges.models import LeverageSetting, Market

if TYPE_CHECKING:
    from adapters.binance.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["PATH", "parse_leverage", "request", "whole"]

PATH = "/fapi/v1/leverage"
_EX = "binance"


def whole(leverage: Decimal, symbol: str) -> int:
    """``leverage`` as Binance's int, or ``BadRequest`` (before anything is sent)."""
    if leverage != leverage.to_integral_value():
        raise BadRequest(
            f"Binance USD-M takes a whole leverage, not {leverage} ({symbol})",
            exchange=_EX,
            hint="Pass an int such as 5.",
        )
    return int(leverage)


def request(build: RequestBuilder, symbol: str, leverage: int) -> Request:
    """``POST /fapi/v1/leverage`` (setting it again changes nothing: resent when lost)."""
    return build.call(
        "usdm", "POST", PATH, {"symbol": symbol, "leverage": leverage}, signed=True, role="trade"
    )


def parse_leverage(market: Market, data: Any) -> LeverageSetting:
    """The answer ``{leverage, maxNotionalValue, symbol}``."""
    item = data if isinstance(data, Mapping) else {}
    return LeverageSetting(
        symbol=market.symbol, leverage=parsing.need_decimal(item, "leverage", _EX), raw=data
    )


def set_leverage(build: RequestBuilder, market: Market, leverage: Decimal) -> Flow[LeverageSetting]:
    """Set ``market``'s leverage; the answer says the value now in force."""
    response = yield request(build, market.id, whole(leverage, market.symbol))
    return parse_leverage(market, response.data)
