"""Binance USD-M funding: the rate of the next settlement and the settled history.

``GET /fapi/v1/premiumIndex`` ("Mark Price",
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price):
``lastFundingRate`` is the rate charged at ``nextFundingTime``, with ``markPrice``,
``indexPrice``, ``interestRate`` and ``time``; it states no interval. ``GET /fapi/v1/fundingRate``
("Get Funding Rate History",
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History):
``symbol``, ``startTime``, ``endTime`` (inclusive), ``limit`` up to 1000, oldest first; with
``startTime`` the first ``limit`` records from it, without times the most recent ones.
COIN-M (``/dapi``) is not covered, as elsewhere in this adapter.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from exchanges import parsing
from exchanges.errors import BadResponse
from exchanges.models import FundingRate, FundingRecord, Market

if TYPE_CHECKING:
    from adapters.binance.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["HISTORY_PAGE", "history", "parse_funding_rate", "parse_records", "premium_index"]

_EX = "binance"
#: The most records one history request returns.
HISTORY_PAGE = 1000
_DEFAULT_INTERVAL_MS = 8 * 3_600_000
_MAX_PAGES = 200


def premium_index(build: RequestBuilder, symbol: str) -> Request:
    """``GET /fapi/v1/premiumIndex`` of one symbol (weight 1)."""
    return build.call("usdm", "GET", "/fapi/v1/premiumIndex", {"symbol": symbol})


def _history_request(
    build: RequestBuilder, symbol: str, start: int | None, end: int | None, limit: int
) -> Request:
    return build.call(
        "usdm",
        "GET",
        "/fapi/v1/fundingRate",
        {"symbol": symbol, "startTime": start, "endTime": end, "limit": limit},
    )


def parse_funding_rate(market: Market, item: Any) -> FundingRate:
    """The ``/fapi/v1/premiumIndex`` object of one symbol."""
    if not isinstance(item, Mapping):
        raise BadResponse("premiumIndex did not answer an object", exchange=_EX)
    return FundingRate(
        symbol=market.symbol,
        rate=parsing.need_decimal(item, "lastFundingRate", _EX),
        timestamp=parsing.ms(item.get("time")),
        funding_time=parsing.ms(item.get("nextFundingTime")),
        next_funding_time=None,
        mark_price=parsing.opt_amount(item, "markPrice", _EX),
        index_price=parsing.opt_amount(item, "indexPrice", _EX),
        raw=item,
    )


def parse_records(symbol: str, rows: Any) -> list[FundingRecord]:
    """The ``/fapi/v1/fundingRate`` list, as sent (oldest first)."""
    return parsing.funding_records(rows, symbol, "fundingRate", "fundingTime", _EX)


def history(
    build: RequestBuilder, market: Market, since: int | None, want: int
) -> Flow[list[FundingRecord]]:
    """``want`` records oldest first: the first from ``since``, else the latest.

    From ``since`` the pages go forward by ``startTime``. Without it the first page is the most
    recent records; older ones are read in windows of one page of intervals (the smallest gap
    seen, else 8 hours) before the oldest in hand, each window forward to its end, so a
    shorter interval costs requests but never leaves a gap.
    """
    found: dict[int, FundingRecord] = {}

    def forward(start: int, end: int | None, need: int) -> Flow[int]:
        """Read ``[start, end]`` forward until ``need`` new records or its end; how many."""
        got = 0
        for _ in range(_MAX_PAGES):
            size = min(HISTORY_PAGE, max(need - got, 1))
            rows = parse_records(market.symbol, (yield _history_request(
                build, market.id, start, end, size
            )).data)  # fmt: skip
            for record in rows:
                if record.timestamp not in found:
                    found[record.timestamp] = record
                    got += 1
            if len(rows) < size or got >= need:
                break
            start = rows[-1].timestamp + 1
        return got

    if since is not None:
        yield from forward(since, None, want)
        return sorted(found.values(), key=lambda r: r.timestamp)[:want]
    size = min(HISTORY_PAGE, want)
    latest = parse_records(
        market.symbol, (yield _history_request(build, market.id, None, None, size)).data
    )
    for record in latest:
        found.setdefault(record.timestamp, record)
    more = len(latest) >= size
    for _ in range(_MAX_PAGES):
        if not more or len(found) >= want:
            break
        times = sorted(found)
        gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
        every = min(gaps, default=_DEFAULT_INTERVAL_MS)
        end = times[0] - 1
        start = max(times[0] - min(HISTORY_PAGE, want - len(found)) * every, 0)
        # The whole window: what comes after the records still needed is kept and cut below.
        more = (yield from forward(start, end, HISTORY_PAGE * _MAX_PAGES)) > 0
    return sorted(found.values(), key=lambda r: r.timestamp)[-want:]
