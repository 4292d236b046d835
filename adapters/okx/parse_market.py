"""OKX v5 parsers of instruments and market data: markets, tickers, order books, trades and
candles (amounts as OKX counts them; the adapter unifies them)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from adapters.okx.parse_common import MARKET_TYPES, symbol_of, text
from exchanges import parsing
from exchanges.decimals import opt_dec
from exchanges.errors import BadResponse
from exchanges.models import Candle, Market, OrderBook, Ticker, Trade
from exchanges.symbols import parse_symbol

__all__ = ["parse_candles", "parse_market", "parse_order_book", "parse_ticker", "parse_trade"]

_EX = "okx"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_price = parsing.need_price
_amount = parsing.need_amount
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms


# -- markets --------------------------------------------------------------------------------


def _strike_of(parts: list[str]) -> Decimal | None:
    # BTC-USD-250926-100000-C: the strike from the instrument id, when it reads as one.
    try:
        strike = opt_dec(parts[3]) if len(parts) > 3 else None
    except ValueError:
        return None
    return strike if strike is not None and strike > 0 else None


def parse_market(item: Mapping[str, Any]) -> Market:
    """One ``/api/v5/public/instruments`` item: unified symbol, contract size, steps, limits."""
    inst_type = _str(item, "instType", _EX)
    inst_id = _str(item, "instId", _EX)
    market_type = MARKET_TYPES.get(inst_type)
    if market_type is None:
        raise BadResponse(f"unknown OKX instType {inst_type!r}", exchange="okx")
    parts = inst_id.split("-")
    family = text(item.get("instFamily")) or text(item.get("uly")) or "-".join(parts[:2])
    base = text(item.get("baseCcy")) or family.split("-")[0]
    quote = text(item.get("quoteCcy")) or family.split("-")[-1]
    state = item.get("state", "live")
    common: dict[str, Any] = {
        "id": inst_id,
        "type": market_type,
        "base": base,
        "quote": quote,
        "price_step": _opt_amount(item, "tickSz", _EX),
        "amount_step": _opt_amount(item, "lotSz", _EX),
        "min_amount": _opt_amount(item, "minSz", _EX),
        "max_amount": _opt_amount(item, "maxLmtSz", _EX),
        # OKX lists no minimum order value; minSz is the floor ("Get instruments",
        # https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments).
        "min_notional": None,
        "active": state == "live",
        "category": inst_type,
        "raw": item,
    }
    if market_type == "spot":
        return Market(
            symbol=f"{base}/{quote}",
            settle=None,
            linear=None,
            inverse=None,
            contract_size=None,
            **common,
        )
    settle = text(item.get("settleCcy")) or (base if quote == "USD" else quote)
    ct_type = item.get("ctType")
    linear = ct_type == "linear" if ct_type else settle == quote
    symbol = symbol_of(inst_id, settle)
    strike = None
    option_type: Literal["call", "put"] | None = None
    if market_type == "option":
        strike = _opt_amount(item, "stk", _EX) or _strike_of(parts)
        option_type = "call" if (item.get("optType") or parts[-1]) in ("C", "call") else "put"
    size = _opt_amount(item, "ctVal", _EX)
    if size:
        # The interface counts every amount in ctValCcy, not in contracts: steps and limits too.
        for key in ("amount_step", "min_amount", "max_amount"):
            if common[key] is not None:
                common[key] = common[key] * size
    return Market(
        symbol=str(parse_symbol(symbol)),
        settle=settle,
        linear=linear,
        inverse=not linear,
        contract_size=size,
        counts_contracts=bool(size),
        expiry=_ms(item.get("expTime")),
        strike=strike,
        option_type=option_type,
        **common,
    )


# -- market data ----------------------------------------------------------------------------


_TICKER_KEYS = (
    "bidPx", "askPx", "last", "high24h", "low24h", "vol24h", "volCcy24h", "bidSz", "askSz",
    "open24h", "markPx", "idxPx",
)  # fmt: skip


def parse_ticker(market: Market, item: Mapping[str, Any]) -> Ticker:
    """One ticker item.

    ``vol24h`` counts the base currency for spot and contracts for derivatives; ``volCcy24h``
    the quote currency for spot and the base currency for derivatives (OKX's ticker fields).
    """
    (bid, ask, last, high, low, vol, vol_ccy, bid_size, ask_size, open_, mark,
     index) = parsing.numbers(item, _TICKER_KEYS, _EX)  # fmt: skip
    if market.spot:
        base_volume, quote_volume = vol, vol_ccy
    else:
        base_volume, quote_volume = vol_ccy, None
        if market.inverse and vol is not None and market.contract_size is not None:
            # Coin-margined contracts are worth ctVal of the quote currency each.
            quote_volume = vol * market.contract_size
    return Ticker(
        symbol=market.symbol,
        timestamp=_ms(item.get("ts")),
        bid=bid,
        ask=ask,
        last=last,
        high=high,
        low=low,
        base_volume=base_volume,
        quote_volume=quote_volume,
        bid_size=bid_size,
        ask_size=ask_size,
        open=open_,
        mark_price=mark,
        index_price=index,
        raw=item,
    )


def parse_order_book(symbol: str, item: Mapping[str, Any]) -> OrderBook:
    """``data[0]`` of /api/v5/market/books: levels ``[px, sz, "0", orders]``, best first."""
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(item.get("ts")),
        bids=parsing.levels(item.get("bids"), _EX),
        asks=parsing.levels(item.get("asks"), _EX),
        sequence=_ms(item.get("seqId")),
        raw=item,
    )


def parse_trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """One /api/v5/market/trades item; ``side`` is the taker's."""
    side = item.get("side")
    return Trade(
        id=_str(item, "tradeId", _EX),
        symbol=symbol,
        timestamp=_need_ms(item, "ts", _EX),
        side=side if side in ("buy", "sell") else None,
        price=_price(item, "px", _EX),
        amount=_amount(item, "sz", _EX),
        raw=item,
    )


def parse_candles(market: Market, rows: list[Any]) -> list[Candle]:
    """Candle rows ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``, oldest first.

    Volume is in the base currency: ``vol`` for spot, ``volCcy`` for derivatives (whose ``vol``
    counts contracts).
    """
    candles = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 6:
            raise BadResponse("a candle row is not [ts, o, h, l, c, vol, …]", exchange=_EX)
        volume = row[5] if market.spot or len(row) < 7 else row[6]
        quote = row[7] if len(row) > 7 else None
        if (quote is None or quote == "") and market.spot and len(row) > 6:
            quote = row[6]
        candles.append(parsing.candle(row[0], row[1:5], volume, quote, exchange=_EX, raw=row))
    candles.sort(key=lambda c: c.timestamp)
    return candles
