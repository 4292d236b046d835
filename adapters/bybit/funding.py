"""Bybit funding: the rate of the next settlement and the settled history, of perpetual swaps.

The current rate is a field of ``GET /v5/market/tickers`` ("Get Tickers",
https://bybit-exchange.github.io/docs/v5/market/tickers: ``fundingRate``, ``nextFundingTime``,
``fundingIntervalHour``, ``markPrice``, ``indexPrice`` of a linear or inverse contract); the
interval is also ``fundingInterval`` (minutes) of ``/v5/market/instruments-info`` ("Get
Instruments Info", https://bybit-exchange.github.io/docs/v5/market/instrument). The history is
``GET /v5/market/funding/history`` ("Get Funding Rate History",
https://bybit-exchange.github.io/docs/v5/market/history-fund-rate): ``category``, ``symbol``,
``startTime`` and ``endTime`` (``startTime`` alone is refused), ``limit`` up to 200, newest
first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.bybit import parse
from exchanges import parsing
from exchanges.models import FundingRate, FundingRecord, Market

if TYPE_CHECKING:
    from adapters.bybit.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["HISTORY_PAGE", "history", "history_request", "parse_funding_rate", "parse_records"]

_EX = "bybit"
#: The most records one history request returns.
HISTORY_PAGE = 200
_HOUR_MS = 3_600_000
_DEFAULT_INTERVAL_MS = 8 * _HOUR_MS
_MAX_PAGES = 200


def interval_ms(market: Market, item: Mapping[str, Any] | None = None) -> int | None:
    """The funding interval: the ticker's ``fundingIntervalHour``, else the instrument's
    ``fundingInterval`` (minutes)."""
    hours = parsing.ms((item or {}).get("fundingIntervalHour"))
    if hours is not None:
        return hours * _HOUR_MS
    raw = market.raw if isinstance(market.raw, Mapping) else {}
    minutes = parsing.ms(raw.get("fundingInterval"))
    return minutes * 60_000 if minutes is not None else None


def parse_funding_rate(market: Market, item: Mapping[str, Any], ts: int | None) -> FundingRate:
    """One ``/v5/market/tickers`` item of a linear or inverse contract."""
    at = parsing.ms(item.get("nextFundingTime"))
    every = interval_ms(market, item)
    return FundingRate(
        symbol=market.symbol,
        rate=parsing.need_decimal(item, "fundingRate", _EX),
        timestamp=ts,
        funding_time=at,
        next_funding_time=at + every if at is not None and every is not None else None,
        mark_price=parsing.opt_amount(item, "markPrice", _EX),
        index_price=parsing.opt_amount(item, "indexPrice", _EX),
        interval_ms=every,
        raw=item,
    )


def parse_records(symbol: str, rows: list[Any]) -> list[FundingRecord]:
    """``result.list`` of ``/v5/market/funding/history``, as sent (newest first)."""
    return parsing.funding_records(rows, symbol, "fundingRate", "fundingRateTimestamp", _EX)


def history_request(
    build: RequestBuilder,
    category: str,
    symbol: str,
    start: int | None,
    end: int | None,
    limit: int,
) -> Request:
    """``GET /v5/market/funding/history``."""
    return build.get(
        "/v5/market/funding/history",
        {
            "category": category,
            "symbol": symbol,
            "startTime": start,
            "endTime": end,
            "limit": limit,
        },
    )


def history(
    build: RequestBuilder, market: Market, category: str, since: int | None, want: int
) -> Flow[list[FundingRecord]]:
    """``want`` records oldest first: the first from ``since``, else the latest.

    Bybit answers newest first. Without ``since`` the pages go back by ``endTime``; with it,
    windows of one page of settlements go forward from ``since``, each read back by
    ``endTime`` until its start (a shorter interval than expected only costs requests), until
    the window passes the server's time.
    """
    found: dict[int, FundingRecord] = {}

    def page(start: int | None, end: int | None) -> Flow[tuple[list[FundingRecord], int | None]]:
        response = yield history_request(build, category, market.id, start, end, HISTORY_PAGE)
        rows = parse.result_list(response)
        records = parse_records(market.symbol, rows)
        for record in records:
            found.setdefault(record.timestamp, record)
        return records, parse.envelope_time(response)

    if since is None:
        end: int | None = None
        for _ in range(_MAX_PAGES):
            records, _now = yield from page(None, end)
            if len(found) >= want or len(records) < HISTORY_PAGE:
                break
            end = min(r.timestamp for r in records) - 1
        return sorted(found.values(), key=lambda r: r.timestamp)[-want:]
    every = interval_ms(market) or _DEFAULT_INTERVAL_MS
    start = since
    for _ in range(_MAX_PAGES):
        window_end = start + (HISTORY_PAGE - 1) * every
        end = window_end
        now: int | None = None
        listed = len(found)
        for _ in range(_MAX_PAGES):
            records, now = yield from page(start, end)
            oldest = min((r.timestamp for r in records), default=start)
            if len(records) < HISTORY_PAGE or oldest <= start:
                break
            end = oldest - 1
        # Past the server's time (or, without it, at an empty window) nothing more can come.
        ended = window_end >= now if now is not None else len(found) == listed
        if ended or sum(1 for t in found if t >= since) >= want:
            break
        start = window_end + 1
    chosen = sorted((r for r in found.values() if r.timestamp >= since), key=lambda r: r.timestamp)
    return chosen[:want]
