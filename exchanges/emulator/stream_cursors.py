"""Where an emulated stream stands in the engine's trades and candles: what it has not sent yet."""

from __future__ import annotations

from exchanges.emulator.engine import CandleView, Engine, InstrumentSpec, PublicTradeView

__all__ = ["CandleCursor", "TradeCursor"]

_FIRST_LOOK = 50
_MOST = 100_000


class TradeCursor:
    """The public trades of one instrument since the last ``fresh`` (from its creation on)."""

    def __init__(self, engine: Engine, spec: InstrumentSpec) -> None:
        self.engine = engine
        self.spec = spec
        recent = engine.public_trades(spec.symbol, 1, category=spec.category)
        self.last_id = recent[0].trade_id if recent else None

    def fresh(self) -> list[PublicTradeView]:
        """The trades not returned before, oldest first."""
        spec, limit = self.spec, _FIRST_LOOK
        while True:
            recent = self.engine.public_trades(spec.symbol, limit, category=spec.category)
            ids = [t.trade_id for t in recent]
            if self.last_id in ids:
                fresh = recent[: ids.index(self.last_id)]
                break
            # Look further back (4 times as far each time) until the last one sent shows up.
            if len(recent) < limit or limit >= _MOST:
                fresh = recent
                break
            limit *= 4
        if fresh:
            self.last_id = fresh[0].trade_id
        return fresh[::-1]


class CandleCursor:
    """The current candle of one instrument and interval, and how an earlier one closed."""

    def __init__(self, engine: Engine, spec: InstrumentSpec, interval_ms: int) -> None:
        self.engine = engine
        self.spec = spec
        self.interval_ms = interval_ms

    def current(self) -> CandleView:
        """The candle being built now."""
        spec = self.spec
        return self.engine.klines(spec.symbol, self.interval_ms, limit=1, category=spec.category)[
            -1
        ]

    def final(self, candle: CandleView) -> CandleView:
        """``candle`` as it closed (as last seen, if the engine no longer has it)."""
        spec = self.spec
        closed = self.engine.klines(
            spec.symbol,
            self.interval_ms,
            start_ms=candle.start_ms,
            end_ms=candle.start_ms,
            category=spec.category,
        )
        return closed[-1] if closed else candle
