"""ccxt's unified dicts (markets, tickers, books, orders, trades, balances) into the models.

Where the numbers come from. The bridge's ccxt client parses numbers with ``Decimal`` instead
of ``float`` (``client.py`` sets ccxt's ``number`` hook and makes its order-book parser use it),
so a unified field such as ``order["price"]`` is ``Decimal`` built from the exchange's own string
(``"30000.00"``), the same string ``info`` holds. Values ccxt computes itself come through ccxt's
string arithmetic (``Precise``) and are exact too. Only where a ccxt code path still produces a
``float`` does ``num`` fall back to ``Decimal(repr(value))``: the shortest text that round-trips
the float, which equals the exchange's string whenever it had at most 15 significant digits.

Fields that cannot be mapped exactly, for every ccxt exchange:

* ``Market.category``: the native adapters' routing group (Bybit's category, OKX's instType);
  ccxt has none, so it is ``None``. Markets of types outside spot/swap/future/option (ccxt's
  ``index``, ``margin``-only) are left out.
* ``Market.price_step``/``amount_step`` under ccxt's SIGNIFICANT_DIGITS precision mode: a
  number of significant digits is no step, so they are ``None``.
* ``Ticker.funding_rate``/``next_funding_time``: not part of ccxt's ticker; ``None``.
* ``Candle.quote_volume``: ccxt's OHLCV rows have no quote volume; ``None``.
* ``Fill.client_order_id``: ccxt's trade structure has no client order id; ``None``.
* ``OrderBook.sequence``: ccxt's ``nonce``, which some parsers (Bybit's, OKX's) leave empty.
* ``Balance``: ccxt gives ``free``/``used``/``total``; a currency with only one of them known is
  left out of ``Balances`` (its ccxt entry stays in ``Balances.raw``).

Differences seen against the native adapters on the emulators (ccxt 4.5.90's parsers; the
differential test in ``tests/integration/test_ccxt_bridge.py`` lists them with reasons):
Bybit inverse tickers keep Bybit's names (``baseVolume`` is USD, ``quoteVolume`` BTC) and inverse
markets lose ``minNotionalValue``; Binance USD-M tickers have no bid/ask; OKX contract tickers
count ``baseVolume`` in contracts, OKX plain limit orders have no ``timeInForce``/``postOnly``,
and ccxt reports a ``cost`` of 0 for unfilled OKX contract orders.

Normalisations shared with the native adapters: ``remaining`` is zero once an order is closed,
cancelled, rejected or expired; an ``average`` of zero means none; a market order has no price;
a post-only order's ``time_in_force`` is ``"PO"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from exchanges.decimals import ZERO
from exchanges.errors import BadResponse
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    Market,
    MarketType,
    Order,
    OrderBook,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    Ticker,
    Trade,
    TradingFee,
)

__all__ = [
    "BALANCE_KEYS",
    "balances",
    "candle",
    "fill",
    "market",
    "num",
    "order",
    "order_book",
    "position",
    "ticker",
    "trade",
    "trading_fee",
]

# ccxt's precisionMode constants (ccxt.base.decimal_to_precision).
DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE = 2, 3, 4

#: Keys of ccxt's balance structure that are not currencies.
BALANCE_KEYS = frozenset({"info", "timestamp", "datetime", "free", "used", "total", "debt"})

_STATUSES: frozenset[str] = frozenset({"open", "closed", "canceled", "rejected", "expired"})
_TERMINAL: frozenset[str] = frozenset({"closed", "canceled", "rejected", "expired"})


def num(value: Any) -> Decimal | None:
    """A ccxt number as ``Decimal`` (``None``, ``""`` and non-finite values become ``None``).

    ``float`` is taken through ``repr`` (see the module docstring): the fallback for the few
    values ccxt still computes as floats.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, int):
            result = Decimal(value)
        elif isinstance(value, str):
            if not value.strip():
                return None
            result = Decimal(value.strip())
        else:
            return None
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _need(item: Mapping[str, Any], name: str, what: str) -> Decimal:
    value = num(item.get(name))
    if value is None:
        raise BadResponse(f"ccxt's {what} has no number {name!r}")
    return value


def _ms(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        stamp = int(value)
    except (TypeError, ValueError):
        return None
    return stamp if stamp > 0 else None


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _side(value: Any) -> OrderSide | None:
    return "buy" if value == "buy" else "sell" if value == "sell" else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# -- markets ----------------------------------------------------------------------------------


def _step(value: Any, mode: int) -> Decimal | None:
    precision = num(value)
    if precision is None:
        return None
    if mode == TICK_SIZE:
        return precision if precision > 0 else None
    if mode == DECIMAL_PLACES:
        # A number of decimal places: the step is one unit of the last place.
        return Decimal(1).scaleb(-int(precision))
    return None


_TYPE_FLAGS: tuple[MarketType, ...] = ("option", "future", "swap", "spot")


def _market_type(item: Mapping[str, Any]) -> MarketType | None:
    kind = item.get("type")
    for flag in _TYPE_FLAGS:
        if kind == flag:
            return flag
    for flag in _TYPE_FLAGS:
        if item.get(flag) is True:
            return flag
    return None


def market(item: Mapping[str, Any], precision_mode: int) -> Market | None:
    """A ccxt market; ``None`` for kinds the library does not model (index, margin-only)."""
    kind = _market_type(item)
    if kind is None:
        return None
    precision = item.get("precision") or {}
    limits = item.get("limits") or {}
    amount_limits = limits.get("amount") or {}
    cost_limits = limits.get("cost") or {}
    spot = kind == "spot"
    option_type = item.get("optionType")
    option: Literal["call", "put"] | None = (
        "call" if option_type == "call" else "put" if option_type == "put" else None
    )
    return Market(
        symbol=str(item["symbol"]),
        id=str(item["id"]),
        type=kind,
        base=str(item["base"]),
        quote=str(item["quote"]),
        settle=None if spot else _str(item.get("settle")),
        linear=None if spot else _bool(item.get("linear")),
        inverse=None if spot else _bool(item.get("inverse")),
        contract_size=None if spot else num(item.get("contractSize")),
        price_step=_step(precision.get("price"), precision_mode),
        amount_step=_step(precision.get("amount"), precision_mode),
        min_amount=num(amount_limits.get("min")),
        max_amount=num(amount_limits.get("max")),
        min_notional=num(cost_limits.get("min")),
        active=item.get("active") is not False,
        expiry=_ms(item.get("expiry")),
        strike=num(item.get("strike")),
        option_type=option,
        category=None,
        raw=item,
    )


# -- market data ------------------------------------------------------------------------------


def ticker(symbol: str, item: Mapping[str, Any]) -> Ticker:
    """A ccxt ticker (``bidVolume``/``askVolume`` are the sizes at the best prices)."""
    return Ticker(
        symbol=symbol,
        timestamp=_ms(item.get("timestamp")),
        bid=num(item.get("bid")),
        ask=num(item.get("ask")),
        last=num(item.get("last")),
        high=num(item.get("high")),
        low=num(item.get("low")),
        base_volume=num(item.get("baseVolume")),
        quote_volume=num(item.get("quoteVolume")),
        bid_size=num(item.get("bidVolume")),
        ask_size=num(item.get("askVolume")),
        open=num(item.get("open")),
        mark_price=num(item.get("markPrice")),
        index_price=num(item.get("indexPrice")),
        raw=item,
    )


def _levels(rows: Any, descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(rows, list):
        raise BadResponse("ccxt's order book levels are not a list")
    levels = []
    for row in rows:
        price, amount = num(row[0]), num(row[1])
        if price is None or amount is None:
            raise BadResponse("ccxt's order book has a level that is not [price, amount]")
        levels.append((price, amount))
    # Sorted again numerically: ccxt sorts whatever its parser produced.
    levels.sort(key=lambda level: level[0], reverse=descending)
    return tuple(levels)


def order_book(symbol: str, item: Mapping[str, Any], limit: int | None) -> OrderBook:
    """A ccxt order book, best levels first, cut to ``limit`` levels a side."""
    bids, asks = _levels(item.get("bids"), True), _levels(item.get("asks"), False)
    if limit is not None:
        bids, asks = bids[:limit], asks[:limit]
    nonce = item.get("nonce")
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(item.get("timestamp")),
        bids=bids,
        asks=asks,
        sequence=nonce if isinstance(nonce, int) and not isinstance(nonce, bool) else None,
        raw=item,
    )


def trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """A ccxt public trade (``side`` is the taker's)."""
    stamp = _ms(item.get("timestamp"))
    if stamp is None:
        raise BadResponse("ccxt's trade has no timestamp")
    return Trade(
        id=str(item.get("id") or ""),
        symbol=symbol,
        timestamp=stamp,
        side=_side(item.get("side")),
        price=_need(item, "price", "trade"),
        amount=_need(item, "amount", "trade"),
        raw=item,
    )


def candle(row: Any) -> Candle:
    """A ccxt OHLCV row ``[timestamp, open, high, low, close, volume]``."""
    if not isinstance(row, list | tuple) or len(row) < 6:
        raise BadResponse("ccxt's OHLCV row is not [timestamp, o, h, l, c, volume]")
    values = [num(value) for value in row[1:6]]
    if any(value is None for value in values):
        raise BadResponse("ccxt's OHLCV row holds a value that is not a number")
    o, h, low, c, v = (value for value in values if value is not None)
    return Candle(timestamp=int(row[0]), open=o, high=h, low=low, close=c, volume=v, raw=row)


# -- account ----------------------------------------------------------------------------------


def _balance(currency: str, entry: Mapping[str, Any]) -> Balance | None:
    free, used, total = num(entry.get("free")), num(entry.get("used")), num(entry.get("total"))
    if total is None and free is not None and used is not None:
        total = free + used
    elif free is None and total is not None and used is not None:
        free = total - used
    elif used is None and total is not None and free is not None:
        used = total - free
    if free is None or used is None or total is None:
        return None
    return Balance(currency, free, used, total, raw=entry)


def balances(item: Mapping[str, Any]) -> Balances:
    """A ccxt balance structure: one ``Balance`` per currency entry."""
    found: dict[str, Balance] = {}
    for currency, entry in item.items():
        if currency in BALANCE_KEYS or not isinstance(entry, Mapping):
            continue
        converted = _balance(str(currency), entry)
        if converted is not None:
            found[str(currency)] = converted
    return Balances(found, timestamp=_ms(item.get("timestamp")), raw=item)


def trading_fee(symbol: str, item: Mapping[str, Any]) -> TradingFee:
    """A ccxt trading fee structure (rates as fractions: 0.001 is 0.1 %)."""
    return TradingFee(symbol, _need(item, "maker", "fee"), _need(item, "taker", "fee"), raw=item)


# -- orders -----------------------------------------------------------------------------------


def _fee(item: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
    fee = item.get("fee")
    if isinstance(fee, Mapping) and fee.get("cost") is not None:
        return num(fee.get("cost")), _str(fee.get("currency"))
    fees = item.get("fees")
    if isinstance(fees, list) and len(fees) == 1 and isinstance(fees[0], Mapping):
        return num(fees[0].get("cost")), _str(fees[0].get("currency"))
    return None, None


def order(symbol: str, item: Mapping[str, Any]) -> Order:
    """A ccxt order (a full one, or the acknowledgement of a write with ids only)."""
    kind = item.get("type")
    order_type: OrderType | None = (
        "limit" if kind in ("limit", "limit_maker") else "market" if kind == "market" else None
    )
    status_text = item.get("status")
    status: OrderStatus | None = status_text if status_text in _STATUSES else None
    post_only = _bool(item.get("postOnly"))
    if kind == "limit_maker":
        post_only = True
    tif = _str(item.get("timeInForce"))
    if post_only:
        tif = "PO"
    remaining = num(item.get("remaining"))
    if status in _TERMINAL:
        remaining = ZERO
    average = num(item.get("average")) or None
    fee, fee_currency = _fee(item)
    return Order(
        id=_str(item.get("id")),
        client_order_id=_str(item.get("clientOrderId")),
        symbol=symbol,
        type=order_type,
        side=_side(item.get("side")),
        status=status,
        price=None if order_type == "market" else num(item.get("price")) or None,
        amount=num(item.get("amount")),
        filled=num(item.get("filled")),
        remaining=remaining,
        average=average,
        time_in_force=tif,
        post_only=post_only,
        reduce_only=_bool(item.get("reduceOnly")),
        timestamp=_ms(item.get("timestamp")),
        updated=_ms(item.get("lastUpdateTimestamp")),
        cost=num(item.get("cost")),
        fee=fee,
        fee_currency=fee_currency,
        raw=item,
    )


def fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """A ccxt trade of the account (``fetch_my_trades``)."""
    stamp = _ms(item.get("timestamp"))
    if stamp is None:
        raise BadResponse("ccxt's trade has no timestamp")
    fee, fee_currency = _fee(item)
    maker = item.get("takerOrMaker")
    return Fill(
        id=str(item.get("id") or ""),
        order_id=_str(item.get("order")),
        client_order_id=None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_need(item, "price", "trade"),
        amount=_need(item, "amount", "trade"),
        fee=fee,
        fee_currency=fee_currency,
        is_maker=True if maker == "maker" else False if maker == "taker" else None,
        timestamp=stamp,
        raw=item,
    )


def position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """A ccxt position; an empty one (no contracts) is ``None``. ``size`` counts contracts."""
    size = num(item.get("contracts"))
    side = item.get("side")
    if not size or side not in ("long", "short"):
        return None
    return Position(
        symbol=symbol,
        side="long" if side == "long" else "short",
        size=abs(size),
        entry_price=num(item.get("entryPrice")) or None,
        mark_price=num(item.get("markPrice")),
        liquidation_price=num(item.get("liquidationPrice")) or None,
        unrealized_pnl=num(item.get("unrealizedPnl")),
        leverage=num(item.get("leverage")),
        timestamp=_ms(item.get("timestamp")),
        raw=item,
    )
