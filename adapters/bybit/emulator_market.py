"""Bybit v5 emulator: market data (server time, instruments, tickers, book, trades, klines)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.bybit.emulator_base import (
    _INTERVALS,
    BybitBase,
    BybitError,
    _ms,
    _w,
)
from exchanges.emulator.engine import InstrumentSpec

__all__ = ["BybitMarket"]


class BybitMarket(BybitBase):
    """Bybit v5 emulator: market data (server time, instruments, tickers, book, trades, klines)."""

    def market_time(self, params: Mapping[str, Any]) -> dict[str, str]:
        """``/v5/market/time``."""
        now = self.state.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def _instrument_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        if spec.category == "spot":
            return {
                "symbol": spec.symbol,
                "baseCoin": spec.base,
                "quoteCoin": spec.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "none",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": _w(spec.lot_size),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": _w(spec.min_qty),
                    "maxOrderQty": _w(spec.max_qty),
                    "minOrderAmt": _w(spec.min_notional),
                    "maxOrderAmt": "2000000",
                },
                "priceFilter": {"tickSize": _w(spec.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
            }
        return {
            "symbol": spec.symbol,
            "contractType": "LinearPerpetual" if spec.category == "linear" else "InversePerpetual",
            "status": "Trading",
            "baseCoin": spec.base,
            "quoteCoin": spec.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(max(-spec.tick_size.as_tuple().exponent, 0)),  # type: ignore[operator]
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": _w(spec.max_leverage),
                "leverageStep": "0.01",
            },
            "priceFilter": {
                "minPrice": _w(spec.tick_size),
                "maxPrice": "1999999.80",
                "tickSize": _w(spec.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": _w(spec.max_qty),
                "maxMktOrderQty": _w(spec.max_qty),
                "minOrderQty": _w(spec.min_qty),
                "qtyStep": _w(spec.lot_size),
                "postOnlyMaxOrderQty": _w(spec.max_qty),
                "minNotionalValue": _w(spec.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": spec.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
        }

    def instruments(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/instruments-info`` (paged for derivatives, as on Bybit)."""
        category = self._category(params)
        specs = self._specs(category)
        if params.get("symbol"):
            specs = [s for s in specs if s.symbol == params["symbol"]]
        # Only ``Trading`` symbols by default; ``status`` filters (every emulated one trades).
        if params.get("status") and params["status"] != "Trading":
            specs = []
        items = [self._instrument_json(s) for s in specs]
        if category == "spot":
            return {"category": category, "list": items}
        page, cursor = self._page(items, params, 500, 1000)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _ticker_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        change = (t.last - t.open_24h) / t.open_24h if t.open_24h else Decimal(0)
        item = {
            "symbol": spec.symbol,
            "bid1Price": _w(t.bid),
            "bid1Size": _w(t.bid_size),
            "ask1Price": _w(t.ask),
            "ask1Size": _w(t.ask_size),
            "lastPrice": _w(t.last),
            "prevPrice24h": _w(t.open_24h),
            "price24hPcnt": _w(change.quantize(Decimal("0.000001"))),
            "highPrice24h": _w(t.high_24h),
            "lowPrice24h": _w(t.low_24h),
            "turnover24h": _w(t.turnover_24h),
            "volume24h": _w(t.volume_24h),
        }
        if spec.category == "spot":
            item["usdIndexPrice"] = _w(t.index)
        else:
            item.update(
                {
                    "indexPrice": _w(t.index),
                    "markPrice": _w(t.mark),
                    "prevPrice1h": _w(t.open_24h),
                    "openInterest": "0",
                    "openInterestValue": "0",
                    **self.funding.ticker_fields(spec),
                    "predictedDeliveryPrice": "",
                    "basisRate": "",
                    "deliveryFeeRate": "",
                    "deliveryTime": "0",
                }
            )
        return item

    def tickers(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/tickers``."""
        category = self._category(params)
        specs = [self._spec(params, category)] if params.get("symbol") else self._specs(category)
        return {"category": category, "list": [self._ticker_json(s) for s in specs]}

    def orderbook(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/orderbook``."""
        category = self._category(params)
        spec = self._spec(params, category)
        default = 1 if category == "spot" else 25
        depth = self._limit(params, default, 1000)
        book = self.engine.book(spec.symbol, depth, category=category)
        return {
            "s": spec.symbol,
            "b": [[_w(p), _w(q)] for p, q in book.bids],
            "a": [[_w(p), _w(q)] for p, q in book.asks],
            "ts": book.time_ms,
            "u": book.update_id,
            "seq": book.seq,
            "cts": book.time_ms,
        }

    def recent_trade(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/recent-trade``, newest first."""
        category = self._category(params)
        spec = self._spec(params, category)
        limit = self._limit(
            params, 60 if category == "spot" else 500, 60 if category == "spot" else 1000
        )
        trades = self.engine.public_trades(spec.symbol, limit, category=category)
        return {
            "category": category,
            "list": [
                {
                    "execId": t.trade_id,
                    "symbol": spec.symbol,
                    "price": _w(t.price),
                    "size": _w(t.qty),
                    "side": "Buy" if t.side == "buy" else "Sell",
                    "time": str(t.time_ms),
                    "isBlockTrade": False,
                    "isRPITrade": False,
                }
                for t in trades
            ],
        }

    def kline(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/kline``, newest first."""
        category = self._category(params, "linear")
        spec = self._spec(params, category)
        minutes = _INTERVALS.get(str(params.get("interval")))
        if minutes is None:
            raise BybitError(10001, "params error: interval invalid")
        limit = self._limit(params, 200, 1000)
        start, end = _ms(params, "start"), _ms(params, "end")
        candles = self.engine.klines(
            spec.symbol,
            minutes * 60_000,
            start_ms=start,
            end_ms=end,
            limit=1000,
            category=category,
        )
        # With a start, Bybit returns the first ``limit`` candles from it; else the latest.
        chosen = candles[:limit] if start is not None else candles[-limit:]
        rows = [
            [
                str(c.start_ms),
                _w(c.open),
                _w(c.high),
                _w(c.low),
                _w(c.close),
                _w(c.volume),
                _w(c.turnover),
            ]
            for c in reversed(chosen)
        ]
        return {"category": category, "symbol": spec.symbol, "list": rows}
