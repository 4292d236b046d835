"""Binance emulator: market-data routes (server time, exchange info, tickers, depth, trades, klines)
for spot ``/api/v3`` and USD-M ``/fapi``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.binance.emulator_base import (
    _D,
    _DAY_MS,
    _INTERVALS,
    _RATE_LIMITS,
    _USDM_DEPTHS,
    BinanceBase,
    BinanceError,
    _f8,
    _mandatory,
    _w,
)
from exchanges.emulator.engine import InstrumentSpec

__all__ = ["BinanceMarket"]


class BinanceMarket(BinanceBase):
    """Public market data of spot and USD-M, read from the engine."""

    def time(self, params: Mapping[str, str]) -> dict[str, int]:
        """``/api/v3/time`` and ``/fapi/v1/time``."""
        return {"serverTime": self.state.now_ms()}

    def _spot_symbol(self, spec: InstrumentSpec) -> dict[str, Any]:
        return {
            "symbol": spec.symbol,
            "status": "TRADING",
            "baseAsset": spec.base,
            "baseAssetPrecision": 8,
            "quoteAsset": spec.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": [
                "LIMIT",
                "LIMIT_MAKER",
                "MARKET",
                "STOP_LOSS",
                "STOP_LOSS_LIMIT",
                "TAKE_PROFIT",
                "TAKE_PROFIT_LIMIT",
            ],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _f8(spec.tick_size),
                    "maxPrice": "1000000.00000000",
                    "tickSize": _f8(spec.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _f8(spec.min_qty),
                    "maxQty": _f8(spec.max_qty),
                    "stepSize": _f8(spec.lot_size),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _f8(spec.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_TAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER"],
        }

    def exchange_info_spot(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/api/v3/exchangeInfo`` (``symbol``/``symbols`` filter)."""
        return {
            "timezone": "UTC",
            "serverTime": self.state.now_ms(),
            "rateLimits": _RATE_LIMITS["spot"],
            "exchangeFilters": [],
            "symbols": [self._spot_symbol(s) for s in self._chosen(params, "spot")],
        }

    def _usdm_symbol(self, spec: InstrumentSpec) -> dict[str, Any]:
        decimals = max(-int(spec.tick_size.as_tuple().exponent), 0)
        qty_decimals = max(-int(spec.lot_size.as_tuple().exponent), 0)
        lot = {
            "minQty": _w(spec.min_qty),
            "maxQty": _w(spec.max_qty),
            "stepSize": _w(spec.lot_size),
        }
        return {
            "symbol": spec.symbol,
            "pair": spec.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": spec.base,
            "quoteAsset": spec.quote,
            "marginAsset": spec.settle,
            "pricePrecision": decimals,
            "quantityPrecision": qty_decimals,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _w(spec.tick_size),
                    "maxPrice": "4529764",
                    "tickSize": _w(spec.tick_size),
                },
                {"filterType": "LOT_SIZE", **lot},
                {"filterType": "MARKET_LOT_SIZE", **lot},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": _w(spec.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            # As Binance lists them; the conditional ones go to the Algo Order API
            # (emulator_algo.py), /fapi/v1/order answers them -4120.
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }

    def exchange_info_usdm(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/fapi/v1/exchangeInfo`` (USD-M lists every symbol; no filter parameters)."""
        specs = self._specs("usdm")
        return {
            "timezone": "UTC",
            "serverTime": self.state.now_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": _RATE_LIMITS["usdm"],
            "exchangeFilters": [],
            "assets": [
                {"asset": coin, "marginAvailable": True, "autoAssetExchange": "-10000"}
                for coin in sorted({s.settle for s in specs})
            ],
            "symbols": [self._usdm_symbol(s) for s in specs],
        }

    def _ticker(self, spec: InstrumentSpec, market: str) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        now = self.state.now_ms()
        fmt = _f8 if market == "spot" else _w
        change = t.last - t.open_24h
        percent = (change / t.open_24h * 100).quantize(_D("0.001")) if t.open_24h else _D(0)
        average = t.turnover_24h / t.volume_24h if t.volume_24h else t.last
        item: dict[str, Any] = {
            "symbol": spec.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": _w(percent),
            "weightedAvgPrice": fmt(average.quantize(spec.tick_size)),
        }
        if market == "spot":
            item.update(
                {
                    "prevClosePrice": fmt(t.open_24h),
                    "lastPrice": fmt(t.last),
                    "lastQty": fmt(_D(0)),
                    "bidPrice": fmt(t.bid),
                    "bidQty": fmt(t.bid_size),
                    "askPrice": fmt(t.ask),
                    "askQty": fmt(t.ask_size),
                }
            )
        else:
            item.update({"lastPrice": fmt(t.last), "lastQty": "0"})
        item.update(
            {
                "openPrice": fmt(t.open_24h),
                "highPrice": fmt(t.high_24h),
                "lowPrice": fmt(t.low_24h),
                "volume": fmt(t.volume_24h),
                "quoteVolume": fmt(t.turnover_24h),
                "openTime": now - _DAY_MS,
                "closeTime": now,
                "firstId": -1,
                "lastId": -1,
                "count": 0,
            }
        )
        return item

    def ticker_24h_spot(self, params: Mapping[str, str]) -> Any:
        """``/api/v3/ticker/24hr``: one object for ``symbol``, else a list."""
        items = [self._ticker(s, "spot") for s in self._chosen(params, "spot")]
        return items[0] if params.get("symbol") else items

    def ticker_24h_usdm(self, params: Mapping[str, str]) -> Any:
        """``/fapi/v1/ticker/24hr`` (no bid/ask: those are in bookTicker)."""
        specs = self._chosen({"symbol": params.get("symbol", "")}, "usdm")
        items = [self._ticker(s, "usdm") for s in specs]
        return items[0] if params.get("symbol") else items

    def _book_ticker(self, spec: InstrumentSpec, market: str) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        fmt = _f8 if market == "spot" else _w
        item: dict[str, Any] = {
            "symbol": spec.symbol,
            "bidPrice": fmt(t.bid),
            "bidQty": fmt(t.bid_size),
            "askPrice": fmt(t.ask),
            "askQty": fmt(t.ask_size),
        }
        if market == "usdm":
            item["time"] = t.time_ms
        return item

    def book_ticker_spot(self, params: Mapping[str, str]) -> Any:
        """``/api/v3/ticker/bookTicker``."""
        items = [self._book_ticker(s, "spot") for s in self._chosen(params, "spot")]
        return items[0] if params.get("symbol") else items

    def book_ticker_usdm(self, params: Mapping[str, str]) -> Any:
        """``/fapi/v1/ticker/bookTicker``."""
        specs = self._chosen({"symbol": params.get("symbol", "")}, "usdm")
        items = [self._book_ticker(s, "usdm") for s in specs]
        return items[0] if params.get("symbol") else items

    def _depth(self, spec: InstrumentSpec, limit: int, market: str) -> dict[str, Any]:
        book = self.engine.book(spec.symbol, limit, category=spec.category)
        fmt = _f8 if market == "spot" else _w
        data: dict[str, Any] = {"lastUpdateId": book.update_id}
        if market == "usdm":
            data.update({"E": self.state.now_ms(), "T": book.time_ms})
        data["bids"] = [[fmt(p), fmt(q)] for p, q in book.bids]
        data["asks"] = [[fmt(p), fmt(q)] for p, q in book.asks]
        return data

    def depth_spot(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/api/v3/depth`` (limit 1-5000, default 100)."""
        return self._depth(self._need_spec(params, "spot"), self._limit(params, 100, 5000), "spot")

    def depth_usdm(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/fapi/v1/depth`` (limit one of 5, 10, 20, 50, 100, 500, 1000; default 500)."""
        spec = self._need_spec(params, "usdm")
        limit = self._limit(params, 500, 1000)
        if limit not in _USDM_DEPTHS:
            raise BinanceError(-4021, "Invalid depth limit.")
        return self._depth(spec, limit, "usdm")

    def _trades(self, params: Mapping[str, str], market: str) -> list[dict[str, Any]]:
        spec = self._need_spec(params, market)
        limit = self._limit(params, 500, 1000)
        fmt = _f8 if market == "spot" else _w
        rows = []
        for t in reversed(self.engine.public_trades(spec.symbol, limit, category=spec.category)):
            row: dict[str, Any] = {
                "id": self._trade_ids.of(t.trade_id),
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "quoteQty": fmt(t.price * t.qty),
                "time": t.time_ms,
                "isBuyerMaker": t.side == "sell",
            }
            if market == "spot":
                row["isBestMatch"] = True
            rows.append(row)
        return rows

    def trades_spot(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/api/v3/trades``: oldest first."""
        return self._trades(params, "spot")

    def trades_usdm(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/fapi/v1/trades``: oldest first."""
        return self._trades(params, "usdm")

    def _agg_trades(self, params: Mapping[str, str], market: str) -> list[dict[str, Any]]:
        """Aggregate trades ("Compressed/Aggregate trades list": a, p, q, f, l, T, m).

        Each engine trade is its own aggregate (Binance merges the fills of one taker order at
        one price; the emulator does not), so ``f`` and ``l`` are the trade's own id.
        """
        rows = []
        for trade in self._trades(params, market):
            row: dict[str, Any] = {
                "a": trade["id"],
                "p": trade["price"],
                "q": trade["qty"],
                "f": trade["id"],
                "l": trade["id"],
                "T": trade["time"],
                "m": trade["isBuyerMaker"],
            }
            if market == "spot":
                row["M"] = True
            rows.append(row)
        return rows

    def agg_trades_spot(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/api/v3/aggTrades``: oldest first."""
        return self._agg_trades(params, "spot")

    def agg_trades_usdm(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/fapi/v1/aggTrades``: oldest first."""
        return self._agg_trades(params, "usdm")

    def _klines(self, params: Mapping[str, str], market: str, maximum: int) -> list[list[Any]]:
        spec = self._need_spec(params, market)
        interval = params.get("interval")
        if not interval:
            raise _mandatory("interval")
        minutes = _INTERVALS.get(interval)
        if minutes is None:
            raise BinanceError(-1120, "Invalid interval.")
        limit = self._limit(params, 500, maximum)
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        candles = self.engine.klines(
            spec.symbol,
            minutes * 60_000,
            start_ms=start,
            end_ms=end,
            limit=1000,
            category=spec.category,
        )
        # With a start, Binance returns the first ``limit`` candles from it; else the latest.
        chosen = candles[:limit] if start is not None else candles[-limit:]
        fmt = _f8 if market == "spot" else _w
        return [
            [
                c.start_ms,
                fmt(c.open),
                fmt(c.high),
                fmt(c.low),
                fmt(c.close),
                fmt(c.volume),
                c.start_ms + minutes * 60_000 - 1,
                fmt(c.turnover),
                0,
                fmt(_D(0)),
                fmt(_D(0)),
                "0",
            ]
            for c in chosen
        ]

    def klines_spot(self, params: Mapping[str, str]) -> list[list[Any]]:
        """``/api/v3/klines`` (limit ≤ 1000)."""
        return self._klines(params, "spot", 1000)

    def klines_usdm(self, params: Mapping[str, str]) -> list[list[Any]]:
        """``/fapi/v1/klines`` (limit ≤ 1500; the engine keeps 1000)."""
        return self._klines(params, "usdm", 1500)
