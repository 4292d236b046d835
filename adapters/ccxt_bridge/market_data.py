"""The ccxt bridge's market data: markets, time, tickers, books, trades, candles, funding."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import attrs

from adapters.ccxt_bridge import convert, okx_prices
from adapters.ccxt_bridge.base import CcxtBase
from adapters.ccxt_bridge.runner import ccxt_request
from exchanges.adapter import FUNDING_HISTORY_LIMIT
from exchanges.errors import (
    BadRequest,
)
from exchanges.flow import Flow
from exchanges.models import (
    Candle,
    FundingRate,
    FundingRecord,
    Market,
    OrderBook,
    Ticker,
    Trade,
)
from exchanges.parsing import ms
from exchanges.symbols import Symbol

__all__ = ["CcxtMarketData"]

#: The most funding history records one request returns, per exchange family (Bybit's
#: "Get Funding Rate History" 200, Binance USD-M's "Get Funding Rate History" 1000, OKX 100:
#: see the native adapters' funding modules); 100 elsewhere.
_FUNDING_PAGES = {"bybit": 200, "binance": 1000, "okx": 100}
_MAX_PAGES = 200
_EIGHT_HOURS_MS = 8 * 3_600_000


class CcxtMarketData(CcxtBase):
    """Public market data through ccxt's unified methods."""

    # -- markets --------------------------------------------------------------------------

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """Every market ccxt lists (ccxt's ``load_markets(reload=True)``)."""
        response = yield ccxt_request("load_markets", True)
        mode = int(getattr(self.client, "precisionMode", convert.TICK_SIZE) or convert.TICK_SIZE)
        found = [convert.market(item, mode) for item in dict(response.data).values()]
        return [market for market in found if market is not None]

    # -- market data ----------------------------------------------------------------------

    def fetch_time(self) -> Flow[int]:
        """ccxt's ``fetch_time``."""
        self._require("fetchTime", "The server time")
        response = yield self.time_request()
        return self.parse_time(response)

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """ccxt's ``fetch_ticker``."""
        market = yield from self.market(symbol)
        self._require("fetchTicker", "A ticker")
        response = yield ccxt_request("fetch_ticker", market.symbol)
        return self._unified(convert.ticker(market.symbol, response.data))

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """ccxt's ``fetch_tickers`` (for ``symbols``, or everything ccxt returns)."""
        yield from self.load_markets()
        self._require("fetchTickers", "Several tickers at once")
        wanted = None if symbols is None else [str(s) for s in symbols]
        response = yield ccxt_request("fetch_tickers", wanted)
        tickers: dict[str, Ticker] = {}
        for key, item in dict(response.data).items():
            symbol = self._symbol(item, str(key))
            if wanted is None or symbol in wanted:
                tickers[symbol] = self._unified(convert.ticker(symbol, item))
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """ccxt's ``fetch_order_book``, cut to ``limit`` levels a side."""
        market = yield from self.market(symbol)
        self._require("fetchOrderBook", "The order book")
        response = yield ccxt_request("fetch_order_book", market.symbol, limit)
        return self._unified(convert.order_book(market.symbol, response.data, limit))

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """ccxt's ``fetch_trades``, oldest first."""
        market = yield from self.market(symbol)
        self._require("fetchTrades", "Recent trades")
        response = yield ccxt_request("fetch_trades", market.symbol, None, limit)
        trades = [
            self._unified(convert.trade(self._symbol(i, market.symbol), i)) for i in response.data
        ]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """ccxt's ``fetch_ohlcv``, oldest first."""
        market = yield from self.market(symbol)
        self._require("fetchOHLCV", "Candles")
        timeframes = getattr(self.client, "timeframes", None) or {}
        if timeframes and timeframe not in timeframes:
            raise BadRequest(
                f"ccxt's {self.name} has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(timeframes)}.",
            )
        response = yield ccxt_request("fetch_ohlcv", market.symbol, timeframe, since, limit)
        candles = [convert.candle(row) for row in response.data]
        candles.sort(key=lambda c: c.timestamp)
        return candles

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """ccxt's ``fetch_funding_rate`` (perpetual swaps only)."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        self._require("fetchFundingRate", "The funding rate")
        response = yield ccxt_request("fetch_funding_rate", market.symbol)
        rate = convert.funding_rate(market.symbol, response.data)
        info = response.data.get("info")
        if rate.timestamp is None and self.family == "okx" and isinstance(info, Mapping):
            # ccxt's okx parser drops the answer's time; OKX sends it as ts (as the native
            # adapter reads it).
            rate = attrs.evolve(rate, timestamp=ms(info.get("ts")))
        if self.family == "okx" and rate.mark_price is None and rate.index_price is None:
            # OKX's funding-rate endpoint carries neither price: read them as the native
            # adapter does, so a funding rate has the same fields on every venue.
            mark = yield from okx_prices.price(market, "mark")
            index = yield from okx_prices.price(market, "index")
            rate = attrs.evolve(rate, mark_price=mark, index_price=index)
        return rate

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """ccxt's ``fetch_funding_rate_history`` page by page, oldest first.

        From ``since`` the pages go forward by ccxt's ``since``. Without it the first page is
        the latest, and older ones are read in windows of one page of intervals before the
        oldest in hand, each forward to its end (ccxt's ``until``). OKX is paged back by its
        ``after``: ccxt sends ``since`` as OKX's ``before``, which alone answers the newest
        records.
        """
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        self._require("fetchFundingRateHistory", "The funding rate history")
        want = limit or FUNDING_HISTORY_LIMIT
        page = _FUNDING_PAGES.get(self.family or "", 100)
        found: dict[int, FundingRecord] = {}

        def call(start: int | None, size: int, params: dict[str, Any]) -> Flow[int]:
            """One page into ``found``: how many records were new (the oldest in ``last``)."""
            response = yield ccxt_request(
                "fetch_funding_rate_history", market.symbol, start, size, params
            )
            records = [convert.funding_record(market.symbol, i) for i in response.data]
            last[:] = [min((r.timestamp for r in records), default=0), len(records)]
            fresh = 0
            for record in records:
                if record.timestamp not in found:
                    found[record.timestamp] = record
                    fresh += 1
            return fresh

        last = [0, 0]

        def oldest() -> int:
            return min(found)

        if self.family == "okx":
            params: dict[str, Any] = {}
            for _ in range(_MAX_PAGES):
                before = len(found)
                yield from call(None, page, params)
                if len(found) - before < page or (since is None and len(found) >= want):
                    break
                if since is not None and oldest() <= since:
                    break
                params = {"after": str(oldest())}
        elif since is not None:
            start = since
            for _ in range(_MAX_PAGES):
                size = min(page, want - len(found))
                fresh = yield from call(start, size, {})
                # A full page answered newest first (ccxt's Bybit window can hold one record
                # more than the page) may leave records between start and its oldest.
                for _ in range(_MAX_PAGES):
                    if last[1] < size or last[0] <= start:
                        break
                    fresh += yield from call(start, size, {"until": last[0] - 1})
                if not fresh or len(found) >= want:
                    break
                start = max(found) + 1
        else:
            more = (yield from call(None, min(page, want), {})) >= min(page, want)
            for _ in range(_MAX_PAGES):
                if not more or len(found) >= want:
                    break
                times = sorted(found)
                gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
                every = min(gaps, default=_EIGHT_HOURS_MS)
                end = times[0] - 1
                start = max(times[0] - min(page, want - len(found)) * every, 0)
                got = 0
                for _ in range(_MAX_PAGES):
                    fresh = yield from call(start, page, {"until": end})
                    got += fresh
                    if not fresh or max(found) >= end:
                        break
                    start = max(t for t in found if t <= end) + 1
                more = got > 0
        ordered = sorted(found.values(), key=lambda r: r.timestamp)
        if since is None:
            return ordered[-want:]
        return [r for r in ordered if r.timestamp >= since][:want]
