"""Finished OKX algo orders, for ``fetch_closed_orders`` (the rest of algo orders is
``algo.py``).

"Get algo order history" (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-get-algo-order-history):
``GET /api/v5/trade/orders-algo-history`` takes one ``ordType`` (or ``conditional,oco``) and one
``state`` (``effective``: triggered, ``canceled``, ``order_failed``: triggered but its order
refused) or an ``algoId``; ``instType``/``instId`` narrow it; pages of at most 100, newest first,
older ones ``after`` the last ``algoId``; it keeps the last 3 months. It takes no time filter, so
``since`` bounds the creation time (``cTime``) here, as ``begin`` does on ``orders-history``.
A triggered (``effective``) one is listed ``closed`` as ``fetch_order`` reports it; the order it
placed is an ordinary order of its own (``orders-history``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.okx import parse
from adapters.okx.algo import ALGO_TYPES

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.flow import Flow

__all__ = ["HISTORY_PATH", "STATES", "history_rows"]

HISTORY_PATH = "/api/v5/trade/orders-algo-history"
#: The finished states, one call each (the endpoint takes one).
STATES = ("effective", "canceled", "order_failed")
_PAGE = 100
_MAX_PAGES = 50


def _created(row: Any) -> int:
    stamp = row.get("cTime") if isinstance(row, dict) else None
    return int(stamp) if isinstance(stamp, str) and stamp.isdigit() else 0


def history_rows(
    build: RequestBuilder, inst_id: str | None, since: int | None, want: int | None
) -> Flow[list[Any]]:
    """Every finished algo order (of one instrument, or the account) created at or after
    ``since``: each ``ordType`` group in each state, at least ``want`` of each when it has
    them (their newest; all when None)."""
    rows: list[Any] = []
    for kinds in ALGO_TYPES:
        for state in STATES:
            params = {"ordType": kinds, "state": state, "instId": inst_id}
            rows.extend((yield from _pages(build, params, since, want)))
    return [row for row in rows if since is None or _created(row) >= since]


def _pages(
    build: RequestBuilder, params: dict[str, Any], since: int | None, want: int | None
) -> Flow[list[Any]]:
    """Newest first until a short page, ``want`` rows, or rows older than ``since``."""
    items: list[Any] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        query = {**params, "after": after, "limit": _PAGE}
        response = yield build.get(HISTORY_PATH, query, signed=True)
        page = [row for row in parse.data_list(response) if isinstance(row, dict)]
        items.extend(page)
        if len(page) < _PAGE or (want is not None and len(items) >= want):
            break
        if since is not None and _created(page[-1]) < since:
            break
        last = page[-1].get("algoId")
        if not last or last == after:
            break
        after = str(last)
    return items
