"""OKX v5 public and market-data endpoints of the emulator front-end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.okx.emulator_books import BookSequence
from adapters.okx.emulator_common import (
    _BARS,
    Instrument,
    OkxCore,
    OkxError,
    _numeric,
    _text,
    _w,
)
from exchanges.emulator.engine import CandleView

__all__ = ["OkxMarket"]


class OkxMarket(OkxCore):
    """OKX v5 public and market-data endpoints of the emulator front-end."""

    # -- public ---------------------------------------------------------------------------

    def public_time(self, params: Mapping[str, Any]) -> list[dict[str, str]]:
        """``/api/v5/public/time``."""
        return [{"ts": str(self.state.now_ms())}]

    def _instrument_json(self, inst: Instrument) -> dict[str, Any]:
        spec = inst.spec
        spot = inst.ct_val is None
        linear = spec.category == "linear"
        size = inst.from_engine
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": spec.base if spot else "",
            "category": "1",
            "ctMult": "" if spot else "1",
            "ctType": "" if spot else "linear" if linear else "inverse",
            "ctVal": _w(inst.ct_val),
            "ctValCcy": "" if spot else spec.base if linear else spec.quote,
            "expTime": "",
            "instFamily": "" if spot else inst.family,
            "instId": inst.inst_id,
            "instType": inst.inst_type,
            "lever": _w(spec.max_leverage) if not spot else "10",
            "listTime": "1606468572000",
            "lotSz": _w(size(spec.lot_size)),
            "maxIcebergSz": _w(size(spec.max_qty)),
            "maxLmtAmt": "20000000",
            "maxLmtSz": _w(size(spec.max_qty)),
            "maxMktAmt": "1000000",
            "maxMktSz": _w(size(spec.max_qty)),
            "maxStopSz": _w(size(spec.max_qty)),
            "maxTriggerSz": _w(size(spec.max_qty)),
            "maxTwapSz": _w(size(spec.max_qty)),
            "minSz": _w(size(spec.min_qty)),
            "optType": "",
            "quoteCcy": spec.quote if spot else "",
            "ruleType": "normal",
            "settleCcy": "" if spot else spec.settle,
            "state": "live",
            "stk": "",
            "tickSz": _w(spec.tick_size),
            "uly": "" if spot else inst.family,
        }

    def public_instruments(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/public/instruments`` (``instType`` required; options need a family)."""
        types = self._types(params, required=True)
        if types == ["OPTION"] and not (params.get("instFamily") or params.get("uly")):
            raise OkxError("50015", "Either parameter uly or instFamily is required")
        return [self._instrument_json(i) for i in self._selected(params, type_required=True)]

    def _ticker_json(self, inst: Instrument) -> dict[str, Any]:
        spec = inst.spec
        t = self.engine.ticker(spec.symbol, category=spec.category)
        if inst.ct_val is None:
            vol, vol_ccy = t.volume_24h, t.turnover_24h
        elif spec.category == "linear":
            vol, vol_ccy = inst.from_engine(t.volume_24h), t.volume_24h
        else:
            vol, vol_ccy = inst.from_engine(t.volume_24h), t.turnover_24h
        return {
            "instType": inst.inst_type,
            "instId": inst.inst_id,
            "last": _w(t.last),
            "lastSz": "0",
            "askPx": _w(t.ask),
            "askSz": _w(inst.from_engine(t.ask_size)),
            "bidPx": _w(t.bid),
            "bidSz": _w(inst.from_engine(t.bid_size)),
            "open24h": _w(t.open_24h),
            "high24h": _w(t.high_24h),
            "low24h": _w(t.low_24h),
            "volCcy24h": _w(vol_ccy),
            "vol24h": _w(vol),
            "ts": str(t.time_ms),
            "sodUtc0": _w(t.open_24h),
            "sodUtc8": _w(t.open_24h),
        }

    def market_ticker(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/ticker``."""
        return [self._ticker_json(self._inst(params))]

    def market_tickers(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/tickers`` of one instrument type."""
        return [self._ticker_json(i) for i in self._selected(params, type_required=True)]

    def market_books(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/books``: ``[px, sz, "0", orders]`` levels (sz in contracts)."""
        inst = self._inst(params)
        depth = self._limit(params, 1, 400, "sz")
        # The seqId of the state shown, from the chain the books channel pushes, so that a
        # stream client can start its book here (emulator_books.py).
        sequence = self.book_sequence(inst)
        sequence.refresh(self.state.now_ms())
        return [sequence.snapshot(depth)]

    def book_sequence(self, inst: Instrument) -> BookSequence:
        """The seqId chain of an instrument's book, shared by REST and the books channel."""
        found = self.book_sequences.get(inst.inst_id)
        if found is None:
            found = BookSequence(inst, self.engine, self.state.seed, self.state.now_ms())
            self.book_sequences[inst.inst_id] = found
        return found

    def market_trades(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/trades``, newest first."""
        inst = self._inst(params)
        limit = self._limit(params, 100, 500)
        trades = self.engine.public_trades(inst.spec.symbol, limit, category=inst.spec.category)
        return [
            {
                "instId": inst.inst_id,
                "side": t.side,
                "sz": _w(inst.from_engine(t.qty)),
                "px": _w(t.price),
                "source": "0",
                "tradeId": _numeric(t.trade_id),
                "ts": str(t.time_ms),
            }
            for t in trades
        ]

    def _candles(self, params: Mapping[str, Any], maximum: int) -> list[list[str]]:
        inst = self._inst(params)
        minutes = _BARS.get(_text(params.get("bar")) or "1m")
        if minutes is None:
            raise OkxError("51000", "Parameter bar error")
        limit = self._limit(params, 100, maximum)
        after, before = self._ms(params, "after"), self._ms(params, "before")
        spec = inst.spec
        interval = minutes * 60_000
        candles = self.engine.klines(
            spec.symbol,
            interval,
            start_ms=None if before is None else before + 1,
            end_ms=None if after is None else after - 1,
            limit=1000,
            category=spec.category,
        )
        now = self.state.now_ms()
        return [self.candle_row(inst, c, interval, now) for c in reversed(candles[-limit:])]

    def candle_row(self, inst: Instrument, c: CandleView, interval: int, now: int) -> list[str]:
        """``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` as REST and streams send it."""
        spec = inst.spec
        if spec.category == "spot":
            vol, vol_ccy, vol_quote = c.volume, c.turnover, c.turnover
        elif spec.category == "linear":
            vol, vol_ccy, vol_quote = inst.from_engine(c.volume), c.volume, c.turnover
        else:
            vol, vol_ccy, vol_quote = inst.from_engine(c.volume), c.turnover, c.volume
        return [
            str(c.start_ms),
            _w(c.open),
            _w(c.high),
            _w(c.low),
            _w(c.close),
            _w(vol),
            _w(vol_ccy),
            _w(vol_quote),
            "0" if c.start_ms + interval > now else "1",
        ]

    def market_candles(self, params: Mapping[str, Any]) -> list[list[str]]:
        """``/api/v5/market/candles`` (newest first, at most 300)."""
        return self._candles(params, 300)

    def market_history_candles(self, params: Mapping[str, Any]) -> list[list[str]]:
        """``/api/v5/market/history-candles`` (newest first, at most 100)."""
        return self._candles(params, 100)
