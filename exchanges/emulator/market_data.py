"""Market data of the emulator's engine (an ``Engine`` mixin): books, tickers, candles, funding."""

from __future__ import annotations

from decimal import Decimal

from exchanges.emulator.book import Market
from exchanges.emulator.funding import (
    INTERVAL_MS as FUNDING_INTERVAL_MS,
)
from exchanges.emulator.funding import (
    FundingView,
    SettlementView,
    funding_rate_at,
    next_settlement,
    settlements,
)
from exchanges.emulator.history import MINUTE_MS
from exchanges.emulator.instruments import (
    BookView,
    CandleView,
    EngineError,
    InstrumentKey,
    InstrumentSpec,
    PublicTradeView,
    TickerView,
)

__all__ = ["MarketDataMixin"]

MAX_KLINES = 1000


class MarketDataMixin:
    """Public market data read from the engine's markets; ``Engine`` provides the lookups."""

    _markets: dict[InstrumentKey, Market]
    _seed: int

    # Provided by Engine.
    def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
        """The instrument of ``symbol`` (``Engine.instrument``)."""
        raise NotImplementedError

    def _now(self) -> int:
        raise NotImplementedError

    def book(self, symbol: str, depth: int, *, category: str | None = None) -> BookView:
        """The aggregated order book, ``depth`` levels per side, best first."""
        market = self._markets[self.instrument(symbol, category).key]
        if depth < 1:
            raise EngineError("invalid_request", "depth must be >= 1")
        return market.book_view(depth, self._now())

    def public_trades(
        self, symbol: str, limit: int, *, category: str | None = None
    ) -> list[PublicTradeView]:
        """The latest trades of the instrument, newest first."""
        market = self._markets[self.instrument(symbol, category).key]
        if limit < 1:
            raise EngineError("invalid_request", "limit must be >= 1")
        return market.trades[-limit:][::-1]

    def ticker(self, symbol: str, *, category: str | None = None) -> TickerView:
        """Top of book, last price, mark/index (= mid) and rolling 24h statistics."""
        market = self._markets[self.instrument(symbol, category).key]
        return market.ticker(self._now())

    def funding(self, symbol: str, *, category: str | None = None) -> FundingView:
        """A swap's funding now: the next settlement's rate (``exchanges.emulator.funding``)."""
        spec = self._swap(symbol, category)
        now = self._now()
        at = next_settlement(now)
        ticker = self._markets[spec.key].ticker(now)
        return FundingView(
            symbol=spec.symbol,
            rate=self.funding_rate(spec, at),
            funding_time=at,
            interval_ms=FUNDING_INTERVAL_MS,
            previous_rate=self.funding_rate(spec, at - FUNDING_INTERVAL_MS),
            mark=ticker.mark,
            index=ticker.index,
            time_ms=now,
        )

    def funding_history(
        self,
        symbol: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        category: str | None = None,
    ) -> list[SettlementView]:
        """A swap's past settlements in ``[start_ms, end_ms]``, oldest first."""
        spec = self._swap(symbol, category)
        times = settlements(self._now(), start_ms, end_ms)
        return [SettlementView(t, self.funding_rate(spec, t)) for t in times]

    def funding_rate(self, spec: InstrumentSpec, time_ms: int, salt: str = "") -> Decimal:
        """The rate of ``spec``'s settlement at ``time_ms`` (``salt`` draws another series)."""
        return funding_rate_at(self._seed, spec.category, spec.symbol, time_ms, salt)

    def _swap(self, symbol: str, category: str | None) -> InstrumentSpec:
        spec = self.instrument(symbol, category)
        if spec.category == "spot":
            raise EngineError("invalid_request", f"{symbol} is spot: funding is for swaps")
        return spec

    def klines(
        self,
        symbol: str,
        interval_ms: int,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 200,
        category: str | None = None,
    ) -> list[CandleView]:
        """Candles starting in ``[start_ms, end_ms]`` (the latest ``limit``), oldest first.

        Candles align to multiples of ``interval_ms`` since the epoch; volume is in qty units
        (base coin, or contracts for inverse), turnover in quote (settle coin for inverse).
        """
        market = self._markets[self.instrument(symbol, category).key]
        if interval_ms <= 0 or interval_ms % MINUTE_MS:
            raise EngineError("invalid_request", "interval_ms must be a positive whole minute")
        if not 1 <= limit <= MAX_KLINES:
            raise EngineError("invalid_request", f"limit must be 1..{MAX_KLINES}")
        return market.klines(interval_ms, start_ms, end_ms, limit, self._now())
