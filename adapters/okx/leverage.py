"""OKX leverage: ``POST /api/v5/account/set-leverage`` of a SWAP or FUTURES instrument.

"Set leverage" (https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-leverage):
``instId``, ``lever`` and ``mgnMode`` (``cross`` here: the adapter places derivatives orders
with ``tdMode=cross``); ``posSide`` only for isolated margin in long/short mode, so never sent.
A SWAP's cross leverage is per contract; dated FUTURES under cross share one leverage per
underlying, so setting one sets its siblings. 20 requests per 2 s per user ID. The answer's
``data`` is one item ``{lever, mgnMode, instId, posSide}``. Setting the value in force again
is answered like any change. "Error codes"
(https://www.okx.com/docs-v5/en/#error-code-rest-api-account): 59102 (leverage above the
maximum) and 59105 (below the minimum) are ``BadRequest`` (``errors.py``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.okx import parse
from exchanges import parsing
from exchanges.models import LeverageSetting, Market

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["MARGIN_MODE", "PATH", "request", "set_leverage"]

PATH = "/api/v5/account/set-leverage"
#: The margin mode whose leverage is set: the one the adapter's orders use.
MARGIN_MODE = "cross"
_EX = "okx"


def request(
    build: RequestBuilder, inst_id: str, leverage: Decimal, margin_mode: str = MARGIN_MODE
) -> Request:
    """``POST /api/v5/account/set-leverage`` (setting it again changes nothing: resent when
    lost)."""
    body = {"instId": inst_id, "lever": leverage, "mgnMode": margin_mode}
    return build.post(PATH, body, write=False)


def set_leverage(
    build: RequestBuilder, market: Market, leverage: Decimal, margin_mode: str = MARGIN_MODE
) -> Flow[LeverageSetting]:
    """Set ``market``'s leverage under ``margin_mode`` (the one its orders trade: cross unless
    ``set_margin_mode`` chose isolated); the answer's ``lever`` is the value now in force."""
    response = yield request(build, market.id, leverage, margin_mode)
    item = parse.first(response)
    return LeverageSetting(
        symbol=market.symbol, leverage=parsing.need_decimal(item, "lever", _EX), raw=item
    )
