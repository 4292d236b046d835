"""Bybit v5 parsers of instruments and market data: markets, tickers, order books, trades and
candles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.bybit.parse_common import text
from exchanges import parsing
from exchanges.decimals import opt_dec
from exchanges.errors import BadResponse
from exchanges.models import Candle, Market, OrderBook, Ticker, Trade

__all__ = ["parse_candles", "parse_market", "parse_order_book", "parse_ticker", "parse_trade"]

_EX = "bybit"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_price = parsing.need_price
_amount = parsing.need_amount
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms
_yymmdd = parsing.yymmdd

_D = Decimal

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}


# -- markets ------------------------------------------------------------------------------


def _option_parts(native: str) -> tuple[str, int | None, Decimal | None, str | None]:
    # BTC-29JUL22-25000-C, optionally with a settle suffix: BTC-27DEC24-100000-C-USDT
    parts = native.split("-")
    if len(parts) < 4:
        return native, None, None, None
    expiry = None
    tag = parts[1]
    try:
        day, month, year = int(tag[:-5]), _MONTHS[tag[-5:-2]], 2000 + int(tag[-2:])
        expiry = int(datetime(year, month, day, 8, tzinfo=UTC).timestamp() * 1000)
    except (KeyError, ValueError):
        expiry = None
    try:
        strike = opt_dec(parts[2])
    except ValueError:
        strike = None
    if strike is not None and strike <= 0:
        strike = None
    return parts[0], expiry, strike, {"C": "call", "P": "put"}.get(parts[3])


def parse_market(category: str, item: Mapping[str, Any]) -> Market:
    """One instruments-info item as a ``Market`` with unified symbol, precision and limits."""
    native = _str(item, "symbol", _EX)
    base = _str(item, "baseCoin", _EX)
    quote = _str(item, "quoteCoin", _EX)
    price_filter = item.get("priceFilter") or {}
    lot = item.get("lotSizeFilter") or {}
    status = item.get("status", "Trading")
    tick = _opt_amount(price_filter, "tickSize", _EX)
    if category == "spot":
        return Market(
            symbol=f"{base}/{quote}",
            id=native,
            type="spot",
            base=base,
            quote=quote,
            settle=None,
            linear=None,
            inverse=None,
            contract_size=None,
            price_step=tick,
            amount_step=_opt_amount(lot, "basePrecision", _EX),
            min_amount=_opt_amount(lot, "minOrderQty", _EX),
            max_amount=_opt_amount(
                lot, "maxOrderQty" if lot.get("maxOrderQty") else "maxLimitOrderQty", _EX
            ),
            min_notional=_opt_amount(lot, "minOrderAmt", _EX),
            active=status == "Trading",
            category=category,
            raw=item,
        )
    settle = text(item.get("settleCoin")) or (base if category == "inverse" else quote)
    if category == "option":
        _, expiry, strike, right = _option_parts(native)
        if expiry is None:
            expiry = _ms(item.get("deliveryTime"))
        option_type = text(item.get("optionsType"))
        right = right or {"Call": "call", "Put": "put"}.get(option_type or "")
        letter = "C" if right == "call" else "P"
        date = _yymmdd(expiry) if expiry else "000000"
        strike_text = format(strike, "f") if strike is not None else "0"
        return Market(
            symbol=f"{base}/{quote}:{settle}-{date}-{strike_text}-{letter}",
            id=native,
            type="option",
            base=base,
            quote=quote,
            settle=settle,
            linear=settle == quote,
            inverse=settle == base,
            contract_size=_D(1),
            price_step=tick,
            amount_step=_opt_amount(lot, "qtyStep", _EX),
            min_amount=_opt_amount(lot, "minOrderQty", _EX),
            max_amount=_opt_amount(lot, "maxOrderQty", _EX),
            min_notional=None,
            active=status == "Trading",
            expiry=expiry,
            strike=strike,
            option_type="call" if right == "call" else "put",
            category=category,
            raw=item,
        )
    contract_type = text(item.get("contractType")) or ""
    delivery = _ms(item.get("deliveryTime"))
    dated = "Futures" in contract_type or (
        delivery is not None and "Perpetual" not in contract_type
    )
    symbol = f"{base}/{quote}:{settle}"
    if dated and delivery:
        symbol += f"-{_yymmdd(delivery)}"
    return Market(
        symbol=symbol,
        id=native,
        type="future" if dated else "swap",
        base=base,
        quote=quote,
        settle=settle,
        linear=category == "linear",
        inverse=category == "inverse",
        contract_size=_D(1),
        price_step=tick,
        amount_step=_opt_amount(lot, "qtyStep", _EX),
        min_amount=_opt_amount(lot, "minOrderQty", _EX),
        max_amount=_opt_amount(lot, "maxOrderQty", _EX),
        min_notional=_opt_amount(lot, "minNotionalValue", _EX),
        active=status == "Trading",
        expiry=delivery if dated else None,
        category=category,
        raw=item,
    )


# -- market data --------------------------------------------------------------------------


_TICKER_KEYS = (
    "bid1Price", "ask1Price", "lastPrice", "highPrice24h", "lowPrice24h", "volume24h",
    "turnover24h", "bid1Size", "ask1Size", "prevPrice24h", "markPrice", "indexPrice",
    "fundingRate",
)  # fmt: skip


def parse_ticker(symbol: str, category: str, item: Mapping[str, Any], ts: int | None) -> Ticker:
    """One tickers item; for inverse contracts volumes are swapped to keep base/quote meaning.

    Prices, volumes and sizes are >= 0 (a last price of "0" on a new market stays 0); the
    funding rate, last of the keys, may be negative.
    """
    (bid, ask, last, high, low, base_volume, quote_volume, bid_size, ask_size, open_, mark,
     index, funding) = parsing.numbers(item, _TICKER_KEYS, _EX, 1)  # fmt: skip
    if category == "inverse":
        # Inverse volume24h counts USD contracts and turnover24h the base coin.
        base_volume, quote_volume = quote_volume, base_volume
    return Ticker(
        symbol,
        ts,
        bid,
        ask,
        last,
        high,
        low,
        base_volume,
        quote_volume,
        bid_size,
        ask_size,
        open_,
        mark,
        index,
        funding,
        _ms(item.get("nextFundingTime")),
        raw=item,
    )


def parse_order_book(symbol: str, res: Mapping[str, Any]) -> OrderBook:
    """``result`` of /v5/market/orderbook; bids descending, asks ascending as sent."""
    update = res.get("u")
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(res.get("ts")),
        bids=parsing.levels(res.get("b"), _EX),
        asks=parsing.levels(res.get("a"), _EX),
        sequence=update if update.__class__ is int and update >= 0 else _ms(update),
        raw=res,
    )


def parse_trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """One recent-trade item; ``side`` is the taker's."""
    side = item.get("side")
    return Trade(
        id=_str(item, "execId", _EX),
        symbol=symbol,
        timestamp=_need_ms(item, "time", _EX),
        side="buy" if side == "Buy" else "sell" if side == "Sell" else None,
        price=_price(item, "price", _EX),
        amount=_amount(item, "size", _EX),
        raw=item,
    )


def parse_candles(category: str, rows: list[Any]) -> list[Candle]:
    """Kline rows (newest first on the wire) as candles oldest first."""
    candles = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 7:
            raise BadResponse(
                "a kline row is not [start, o, h, l, c, volume, turnover]", exchange="bybit"
            )
        volume, turnover = row[5], row[6]
        if category == "inverse":
            # Inverse klines count volume in USD contracts and turnover in the base coin.
            volume, turnover = turnover, volume
        candles.append(parsing.candle(row[0], row[1:5], volume, turnover, exchange=_EX, raw=row))
    candles.sort(key=lambda c: c.timestamp)
    return candles
