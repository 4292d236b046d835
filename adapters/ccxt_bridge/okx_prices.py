"""The last, mark and index price of an OKX instrument through ccxt.

ccxt's ``fetch_ticker`` (``last``) and ``fetch_mark_price`` (``markPrice``, from OKX's
``/api/v5/public/mark-price``); ccxt has no unified index price for OKX, so the index is read with
its implicit ``public_get_market_index_tickers`` (``/api/v5/market/index-tickers``, ``idxPx``, by
index id: the instrument's first two parts; https://www.okx.com/docs-v5/en/#public-data-rest-api-get-index-tickers).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.ccxt_bridge.conditional import decimal
from adapters.ccxt_bridge.runner import ccxt_request

if TYPE_CHECKING:
    from exchanges.flow import Flow
    from exchanges.models import Market

__all__ = ["price"]


def price(market: Market, by: str) -> Flow[Decimal | None]:
    """``market``'s ``by`` price (``last``, ``mark`` or ``index``); None when OKX reports none."""
    if by == "mark":
        response = yield ccxt_request("fetch_mark_price", market.symbol)
        return decimal(response.data.get("markPrice"))
    if by == "index":
        index = "-".join(market.id.split("-")[:2])
        response = yield ccxt_request("public_get_market_index_tickers", {"instId": index})
        rows = response.data.get("data") if isinstance(response.data, Mapping) else None
        first = rows[0] if isinstance(rows, list) and rows else {}
        return decimal(first.get("idxPx") if isinstance(first, Mapping) else None)
    response = yield ccxt_request("fetch_ticker", market.symbol)
    return decimal(response.data.get("last"))
