"""The OKX adapter's market data: tickers, order books, trades, candles and funding rates."""

from __future__ import annotations

from adapters.okx import funding, parse
from adapters.okx.base import MARKET_GROUPS, MAX_PAGES, OkxBase
from exchanges.adapter import FUNDING_HISTORY_LIMIT
from exchanges.candles import add_fresh, kept
from exchanges.errors import BadRequest
from exchanges.flow import Flow
from exchanges.models import Candle, FundingRate, FundingRecord, OrderBook, Ticker, Trade
from exchanges.symbols import Symbol
from exchanges.units import unified

__all__ = ["TIMEFRAMES", "OkxMarketData"]

# Unified timeframe -> (OKX bar, length in ms). From 6h up OKX's plain bars open on Hong Kong
# time; the ``utc`` bars open on UTC like every other timestamp here. Months are not windowed.
TIMEFRAMES: dict[str, tuple[str, int]] = {
    "1m": ("1m", 60_000),
    "3m": ("3m", 180_000),
    "5m": ("5m", 300_000),
    "15m": ("15m", 900_000),
    "30m": ("30m", 1_800_000),
    "1h": ("1H", 3_600_000),
    "2h": ("2H", 7_200_000),
    "4h": ("4H", 14_400_000),
    "6h": ("6Hutc", 21_600_000),
    "12h": ("12Hutc", 43_200_000),
    "1d": ("1Dutc", 86_400_000),
    "1w": ("1Wutc", 604_800_000),
    "1M": ("1Mutc", 0),
}


_BOOK_MAX = 400  # /market/books sz
_TRADES_MAX = 500  # /market/trades limit
_CANDLES_MAX = 300  # /market/candles limit
_HISTORY_MAX = 100  # /market/history-candles limit


class OkxMarketData(OkxBase):
    """Public market data over OKX's ``/api/v5/market`` and ``/api/v5/public`` endpoints."""

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """``/api/v5/market/ticker``."""
        market = yield from self.market(symbol)
        response = yield self.build.ticker(market.id)
        return unified(parse.parse_ticker(market, parse.first(response)), market)

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """``/api/v5/market/tickers`` per instrument type (spot, swaps, futures when none given)."""
        if symbols is None:
            groups: list[str] = list(MARKET_GROUPS)
        else:
            groups = sorted({self.market_group(s) for s in symbols})
        yield from self._ensure_groups(groups)
        wanted = None if symbols is None else {str(s) for s in symbols}
        tickers: dict[str, Ticker] = {}
        for group in groups:
            inst_type, _, family = group.partition(":")
            response = yield self.build.tickers(inst_type, family or None)
            for item in parse.data_list(response):
                market = self._by_id.get(str(item.get("instId")))
                if market is None or (wanted is not None and market.symbol not in wanted):
                    continue
                tickers[market.symbol] = unified(parse.parse_ticker(market, item), market)
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``/api/v5/market/books`` (default 50 levels, at most 400)."""
        if limit is not None and limit > _BOOK_MAX:
            raise BadRequest(
                f"OKX's order book goes to {_BOOK_MAX} levels, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {_BOOK_MAX}.",
            )
        market = yield from self.market(symbol)
        response = yield self.build.books(market.id, limit or 50)
        return unified(parse.parse_order_book(market.symbol, parse.first(response)), market)

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """``/api/v5/market/trades``, oldest first (at most 500)."""
        if limit is not None and limit > _TRADES_MAX:
            raise BadRequest(
                f"OKX returns at most {_TRADES_MAX} recent trades, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {_TRADES_MAX}.",
            )
        market = yield from self.market(symbol)
        response = yield self.build.trades(market.id, limit)
        trades = [
            unified(parse.parse_trade(market.symbol, i), market) for i in parse.data_list(response)
        ]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """Candles, oldest first.

        Without ``since``: ``/market/candles`` (the latest, up to 300 per page) and older pages
        from ``/market/history-candles``. With ``since``: windows ``(since - 1, since + n·bar)``
        of ``/market/history-candles`` (``before``/``after`` are exclusive bounds), as ccxt does.
        """
        spec = TIMEFRAMES.get(timeframe)
        if spec is None:
            raise BadRequest(
                f"OKX has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        bar, step = spec
        market = yield from self.market(symbol)
        want = limit if limit is not None else 100
        candles: dict[int, Candle] = {}
        start, older_than = since, None
        for page_number in range(MAX_PAGES):
            missing = want - len(candles)
            if missing <= 0:
                break
            history = since is not None or page_number > 0
            page = min(missing, _HISTORY_MAX if history else _CANDLES_MAX)
            if start is not None:
                after = start + page * step if step else None
                request = self.build.candles(
                    market.id, bar, after=after, before=start - 1, limit=page, history=True
                )
            else:
                request = self.build.candles(
                    market.id, bar, after=older_than, before=None, limit=page, history=history
                )
            response = yield request
            batch = parse.parse_candles(market, parse.data_list(response))
            fresh = add_fresh(candles, batch)
            if not fresh or (start is not None and not step):
                break
            if start is not None:
                start = batch[-1].timestamp + step
            else:
                older_than = batch[0].timestamp
        return kept(candles, want, since)

    # -- funding --------------------------------------------------------------------------

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """OKX's forecast for the next settlement of a swap, with its mark and index price."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        return (yield from funding.rate(self.build, market))

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/api/v5/public/funding-rate-history``, oldest first (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, since, want))
