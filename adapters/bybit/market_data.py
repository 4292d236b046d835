"""The Bybit adapter's market data: tickers, order books, trades, candles and funding rates."""

from __future__ import annotations

from adapters.bybit import funding, parse
from adapters.bybit.base import MAX_PAGES, BybitBase, category_of
from exchanges.adapter import FUNDING_HISTORY_LIMIT
from exchanges.candles import add_fresh, kept
from exchanges.capabilities import market_type
from exchanges.errors import BadRequest, BadResponse, BadSymbol
from exchanges.flow import Flow
from exchanges.models import Candle, FundingRate, FundingRecord, OrderBook, Ticker, Trade
from exchanges.symbols import Symbol

__all__ = ["TIMEFRAMES", "BybitMarketData"]

# Unified timeframe -> (Bybit interval, length in ms; months vary and are not windowed).
TIMEFRAMES: dict[str, tuple[str, int]] = {
    "1m": ("1", 60_000),
    "3m": ("3", 180_000),
    "5m": ("5", 300_000),
    "15m": ("15", 900_000),
    "30m": ("30", 1_800_000),
    "1h": ("60", 3_600_000),
    "2h": ("120", 7_200_000),
    "4h": ("240", 14_400_000),
    "6h": ("360", 21_600_000),
    "12h": ("720", 43_200_000),
    "1d": ("D", 86_400_000),
    "1w": ("W", 604_800_000),
    "1M": ("M", 0),
}

_BOOK_LIMITS = {"spot": 1000, "linear": 1000, "inverse": 1000, "option": 25}
_TRADE_LIMITS = {"spot": 60, "linear": 1000, "inverse": 1000, "option": 1000}


class BybitMarketData(BybitBase):
    """Public market data over ``/v5/market``."""

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """``/v5/market/tickers`` for one symbol."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.tickers(category, market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no ticker for {market.symbol}", exchange=self.name)
        return parse.parse_ticker(market.symbol, category, items[0], parse.envelope_time(response))

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """All tickers of the categories involved (spot, linear, inverse when none given)."""
        if symbols is None:
            categories = ["spot", "linear", "inverse"]
        else:
            categories = sorted({category_of(s) for s in symbols})
            if "option" in categories:
                raise self.capabilities.error("fetch_tickers", market="option")
        yield from self._ensure_groups(categories)
        wanted = None if symbols is None else {str(s) for s in symbols}
        tickers: dict[str, Ticker] = {}
        for category in categories:
            response = yield self.build.tickers(category)
            ts = parse.envelope_time(response)
            for item in parse.result_list(response):
                market = self._by_id.get((category, str(item.get("symbol"))))
                if market is None or (wanted is not None and market.symbol not in wanted):
                    continue
                tickers[market.symbol] = parse.parse_ticker(market.symbol, category, item, ts)
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``/v5/market/orderbook`` (default depth 50; 25 for options)."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        maximum = _BOOK_LIMITS[category]
        if limit is not None and limit > maximum:
            raise BadRequest(
                f"Bybit's {category} order book goes to {maximum} levels, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {maximum}.",
            )
        depth = limit if limit is not None else min(50, maximum)
        response = yield self.build.orderbook(category, market.id, depth)
        return parse.parse_order_book(market.symbol, parse.result(response))

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """``/v5/market/recent-trade``, oldest first."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        maximum = _TRADE_LIMITS[category]
        if limit is not None and limit > maximum:
            raise BadRequest(
                f"Bybit returns at most {maximum} recent {category} trades, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {maximum}.",
            )
        response = yield self.build.recent_trades(category, market.id, limit)
        trades = [parse.parse_trade(market.symbol, i) for i in parse.result_list(response)]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """``/v5/market/kline``, oldest first; pages of 1000 when ``limit`` asks for more."""
        # Before the lookup: options have no klines whether or not the market is loaded.
        self.capabilities.require("fetch_ohlcv", market=market_type(symbol))
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        spec = TIMEFRAMES.get(timeframe)
        if spec is None:
            raise BadRequest(
                f"Bybit has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        interval, step = spec
        want = limit if limit is not None else 200
        candles: dict[int, Candle] = {}
        start, end = since, None
        for _ in range(MAX_PAGES):
            page = min(1000, want - len(candles))
            if page <= 0:
                break
            if start is not None and step:
                # An explicit window makes the page deterministic (Bybit pages newest first).
                end = start + (page - 1) * step
            response = yield self.build.kline(category, market.id, interval, start, end, page)
            rows = parse.result(response).get("list")
            if not isinstance(rows, list):
                raise BadResponse("kline result.list is missing", exchange=self.name)
            batch = parse.parse_candles(category, rows)
            fresh = add_fresh(candles, batch)
            if not fresh or not step:
                break
            if start is not None:
                start = batch[-1].timestamp + step
            else:
                end = batch[0].timestamp - 1
        return kept(candles, want, since)

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """``/v5/market/tickers`` of a perpetual swap: the next settlement's rate."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        response = yield self.build.tickers(market.category or category_of(symbol), market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no ticker for {market.symbol}", exchange=self.name)
        return funding.parse_funding_rate(market, items[0], parse.envelope_time(response))

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/v5/market/funding/history``, oldest first, in pages of 200 (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, category, since, want))
