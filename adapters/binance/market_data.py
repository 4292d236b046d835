"""The Binance adapter's market data: tickers, order books, trades, candles and funding rates."""

from __future__ import annotations

from typing import Any

from adapters.binance import funding, parse
from adapters.binance.base import BinanceBase
from exchanges.adapter import FUNDING_HISTORY_LIMIT
from exchanges.candles import add_fresh, kept
from exchanges.errors import BadRequest
from exchanges.flow import Flow
from exchanges.models import Candle, FundingRate, FundingRecord, Market, OrderBook, Ticker, Trade
from exchanges.symbols import Symbol

__all__ = ["TIMEFRAMES", "BinanceMarketData"]

#: Unified timeframe -> candle length in ms (Binance's interval names are the unified ones, see
#: "Kline/Candlestick data" in
#: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints;
#: "1s" is spot only; a month is not a fixed length and is never paged by time).
TIMEFRAMES: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
    "1M": 0,
}

_USDM_DEPTHS = (5, 10, 20, 50, 100, 500, 1000)
_SPOT_DEPTH_MAX = 5000
_TRADES_MAX = 1000
_KLINES_MAX = {"spot": 1000, "usdm": 1500}
_MAX_PAGES = 50


class BinanceMarketData(BinanceBase):
    """Public market data of spot (``/api/v3``) and USD-M (``/fapi``)."""

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """24hr ticker; on USD-M with the bookTicker's bid and ask."""
        market = yield from self.market(symbol)
        group = self._group(market)
        response = yield self.build.ticker_24h(group, market.id)
        book = None
        if group == "usdm":
            book = (yield self.build.book_ticker("usdm", market.id)).data
        return parse.parse_ticker(market.symbol, response.data, book)

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """Tickers of the given symbols, or of every spot and USD-M market."""
        wanted: dict[str, list[Market]] = {"spot": [], "usdm": []}
        if symbols is None:
            yield from self._ensure(self.market_groups())
        else:
            for symbol in symbols:
                market = yield from self.market(symbol)
                wanted[self._group(market)].append(market)
        tickers: dict[str, Ticker] = {}
        for group in ("spot", "usdm"):
            chosen = wanted[group]
            if symbols is not None and not chosen:
                continue
            ids = {m.id for m in chosen}
            if group == "spot" and chosen:
                request = self.build.ticker_24h("spot", symbols=sorted(ids))
            else:
                request = self.build.ticker_24h(group)
            items = (yield request).data
            books: dict[str, Any] = {}
            if group == "usdm":
                books = {b.get("symbol"): b for b in (yield self.build.book_ticker("usdm")).data}
            for item in items if isinstance(items, list) else []:
                native = str(item.get("symbol"))
                if ids and native not in ids:
                    continue
                known = self._by_id.get((group, native))
                if known is not None:
                    tickers[known.symbol] = parse.parse_ticker(
                        known.symbol, item, books.get(native) if group == "usdm" else None
                    )
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``depth``; USD-M takes only 5/10/20/50/100/500/1000 levels, so asks the next size up."""
        market = yield from self.market(symbol)
        group = self._group(market)
        asked = limit
        if limit is not None:
            if group == "usdm":
                asked = next((d for d in _USDM_DEPTHS if d >= limit), _USDM_DEPTHS[-1])
            else:
                asked = min(limit, _SPOT_DEPTH_MAX)
        response = yield self.build.depth(group, market.id, asked)
        return parse.parse_order_book(market.symbol, response.data, limit)

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """Recent public trades, oldest first (at most 1000)."""
        market = yield from self.market(symbol)
        group = self._group(market)
        asked = None if limit is None else min(limit, _TRADES_MAX)
        response = yield self.build.trades(group, market.id, asked)
        rows = response.data if isinstance(response.data, list) else []
        trades = [parse.parse_trade(market.symbol, item) for item in rows]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """Klines oldest first; limits beyond one page are fetched page by page."""
        step = TIMEFRAMES.get(timeframe)
        if step is None:
            raise BadRequest(
                f"Binance has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        market = yield from self.market(symbol)
        group = self._group(market)
        if timeframe == "1s" and group == "usdm":
            raise BadRequest(
                "1s candles exist on Binance spot only", exchange=self.name, hint="Use 1m or more."
            )
        page = _KLINES_MAX[group]
        want = limit if limit is not None else 500  # Binance's documented default
        candles: dict[int, Candle] = {}
        start, end = since, None
        for _ in range(_MAX_PAGES):
            size = min(page, want - len(candles))
            request = self.build.klines(group, market.id, timeframe, start, end, size)
            batch = parse.parse_candles((yield request).data)
            fresh = add_fresh(candles, batch)
            if len(candles) >= want or len(batch) < size or not fresh or not step:
                break
            if since is not None:
                start = batch[-1].timestamp + step
            else:
                end = batch[0].timestamp - 1
        return kept(candles, want, since)

    # -- funding --------------------------------------------------------------------------

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """``/fapi/v1/premiumIndex``: the next settlement's rate of a USD-M perpetual."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        response = yield funding.premium_index(self.build, market.id)
        return funding.parse_funding_rate(market, response.data)

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/fapi/v1/fundingRate``, oldest first, in pages of 1000 (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, since, want))
