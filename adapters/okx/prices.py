"""The last, mark and index price of an OKX instrument, each from the endpoint that reports it.

``GET /api/v5/market/ticker`` (``last``), ``GET /api/v5/public/mark-price`` (``markPx``;
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-mark-price) and
``GET /api/v5/market/index-tickers`` (``idxPx``, by index id: the instrument's first two parts,
e.g. ``BTC-USDT`` for ``BTC-USDT-SWAP``;
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-index-tickers).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from adapters.okx import parse

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.models import Market

__all__ = ["price"]


def price(build: RequestBuilder, market: Market, by: str) -> Flow[Decimal | None]:
    """``market``'s ``by`` price (``last``, ``mark`` or ``index``); None when OKX reports none."""
    if by == "mark":
        params = {"instType": market.category or "SWAP", "instId": market.id}
        response = yield build.get("/api/v5/public/mark-price", params)
        field = "markPx"
    elif by == "index":
        index = "-".join(market.id.split("-")[:2])
        response = yield build.get("/api/v5/market/index-tickers", {"instId": index})
        field = "idxPx"
    else:
        response = yield build.get("/api/v5/market/ticker", {"instId": market.id})
        field = "last"
    items = parse.data_list(response)
    text = items[0].get(field) if items and isinstance(items[0], dict) else None
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except ArithmeticError:
        return None
