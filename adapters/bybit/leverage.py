"""Bybit leverage: ``POST /v5/position/set-leverage`` of a linear or inverse contract.

"Set Leverage" (https://bybit-exchange.github.io/docs/v5/position/leverage): ``category``
linear or inverse, ``symbol``, ``buyLeverage`` and ``sellLeverage`` as strings in
[1, max leverage]; equal in one-way mode and under cross margin (the adapter trades one-way,
so both are the one value); the answer's ``result`` is empty. "Error Codes"
(https://bybit-exchange.github.io/docs/v5/error): 110043 "Set leverage has not been modified"
means the value is already in force and is success here; 110013 (cannot set leverage due to
the risk limit level) and 110086 (above the maximum of the current risk tier) refuse a value
above the symbol's maximum, as ``BadRequest`` (the table in ``errors.py``). Rate limit: 10 per
second for linear and inverse ("Rate Limit Rules", ``limits.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.errors import BadRequest
from exchanges.models import LeverageSetting, Market

if TYPE_CHECKING:
    from adapters.bybit.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["NOT_MODIFIED", "PATH", "request", "set_leverage"]

PATH = "/v5/position/set-leverage"
#: "Set leverage has not been modified": the value asked for is the one in force.
NOT_MODIFIED = 110043


def request(build: RequestBuilder, category: str, symbol: str, leverage: Decimal) -> Request:
    """``POST /v5/position/set-leverage``, buy and sell leverage equal (one-way mode).

    Setting the same value again changes nothing, so a lost answer may be resent.
    """
    body = {
        "category": category,
        "symbol": symbol,
        "buyLeverage": leverage,
        "sellLeverage": leverage,
    }
    return build.post(PATH, body, category=category, write=False)


def set_leverage(
    build: RequestBuilder, market: Market, category: str, leverage: Decimal
) -> Flow[LeverageSetting]:
    """Set ``market``'s leverage; 110043 (already that value) is success."""
    raw: Any
    try:
        response = yield request(build, category, market.id, leverage)
        raw = response.data
    except BadRequest as err:
        if err.code != NOT_MODIFIED:
            raise
        raw = {"retCode": NOT_MODIFIED, "retMsg": err.message}
    return LeverageSetting(symbol=market.symbol, leverage=leverage, raw=raw)
