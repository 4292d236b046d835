"""OKX funding of perpetual swaps: the forecast for the next settlement and the settled history.

``GET /api/v5/public/funding-rate`` ("Get funding rate",
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate): ``fundingRate`` is OKX's
forecast of the rate that settles at ``fundingTime`` (the next settlement); ``nextFundingTime``
is the settlement after it, so their difference is the interval (OKX states it nowhere else);
``settFundingRate`` is the rate of the settlement before, ``ts`` the time of the answer. It
carries no mark or index price: ``rate`` reads them from ``/api/v5/public/mark-price`` and
``/api/v5/market/index-tickers`` (``adapters.okx.prices``), so a funding rate has the same
fields on OKX as on the exchanges whose funding endpoint carries them.

``GET /api/v5/public/funding-rate-history`` ("Get funding rate history",
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate-history): ``instId``,
``after`` (records earlier than a ``fundingTime``), ``before`` (later), ``limit``; newest first.
``realizedRate`` is the rate actually charged and ``fundingRate`` the forecast, so a record's
rate is ``realizedRate``. The page now says ``limit`` goes to 400 (default 400) where it used
to say 100: pages of 100 are valid under both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from adapters.okx import parse, prices
from exchanges import parsing
from exchanges.models import FundingRate, FundingRecord, Market

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["HISTORY_PAGE", "current", "history", "parse_funding_rate", "parse_records", "rate"]

_EX = "okx"
#: The records one history request asks for.
HISTORY_PAGE = 100
_MAX_PAGES = 200


def current(build: RequestBuilder, inst_id: str) -> Request:
    """``GET /api/v5/public/funding-rate`` of one swap."""
    return build.get("/api/v5/public/funding-rate", {"instId": inst_id}, inst_id=inst_id)


def rate(build: RequestBuilder, market: Market) -> Flow[FundingRate]:
    """The funding rate of one swap with its mark and index price (three public requests)."""
    response = yield current(build, market.id)
    funding = parse_funding_rate(market, parse.first(response))
    mark = yield from prices.price(build, market, "mark")
    index = yield from prices.price(build, market, "index")
    return attrs.evolve(funding, mark_price=mark, index_price=index)


def _history_request(build: RequestBuilder, inst_id: str, after: int | None) -> Request:
    return build.get(
        "/api/v5/public/funding-rate-history",
        {"instId": inst_id, "after": after, "limit": HISTORY_PAGE},
        inst_id=inst_id,
    )


def parse_funding_rate(market: Market, item: Mapping[str, Any]) -> FundingRate:
    """The ``/api/v5/public/funding-rate`` item of one swap."""
    at = parsing.ms(item.get("fundingTime"))
    after = parsing.ms(item.get("nextFundingTime"))
    return FundingRate(
        symbol=market.symbol,
        rate=parsing.need_decimal(item, "fundingRate", _EX),
        timestamp=parsing.ms(item.get("ts")),
        funding_time=at,
        next_funding_time=after,
        mark_price=None,
        index_price=None,
        interval_ms=after - at if at is not None and after is not None and after > at else None,
        raw=item,
    )


def parse_records(symbol: str, rows: list[Any]) -> list[FundingRecord]:
    """The ``data`` of ``/api/v5/public/funding-rate-history``, as sent (newest first)."""
    return parsing.funding_records(rows, symbol, "realizedRate", "fundingTime", _EX)


def history(
    build: RequestBuilder, market: Market, since: int | None, want: int
) -> Flow[list[FundingRecord]]:
    """``want`` records oldest first: the first from ``since``, else the latest.

    Pages go back from the newest by ``after`` until ``want`` records, or (with ``since``) a
    record at or before ``since``, or the end of OKX's history (about three months).
    """
    found: dict[int, FundingRecord] = {}
    after: int | None = None
    for _ in range(_MAX_PAGES):
        response = yield _history_request(build, market.id, after)
        records = parse_records(market.symbol, parse.data_list(response))
        for record in records:
            found.setdefault(record.timestamp, record)
        if len(records) < HISTORY_PAGE:
            break
        after = min(r.timestamp for r in records)
        if after <= (since if since is not None else -1) or (since is None and len(found) >= want):
            break
    ordered = sorted(found.values(), key=lambda r: r.timestamp)
    if since is None:
        return ordered[-want:]
    return [r for r in ordered if r.timestamp >= since][:want]
