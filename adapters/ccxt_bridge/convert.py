"""ccxt's unified dicts (markets, tickers, books, orders, trades, balances) into the models.

Where the numbers come from. The bridge's ccxt client parses numbers with ``Decimal`` instead
of ``float`` (``client.py`` sets ccxt's ``number`` hook and makes its order-book parser use it),
so a unified field such as ``order["price"]`` is ``Decimal`` built from the exchange's own string
(``"30000.00"``), the same string ``info`` holds. Values ccxt computes itself come through ccxt's
string arithmetic (``Precise``) and are exact too. Only where a ccxt code path still produces a
``float`` does ``num`` fall back to ``Decimal(repr(value))``: the shortest text that round-trips
the float, which equals the exchange's string whenever it had at most 15 significant digits.

Every number goes through the same checks as the native adapters' readers
(``exchanges.decimals.dec``): ``NaN``, infinities, magnitudes of 1e30 and above, booleans and
text that is no number are ``BadResponse``, never a model; prices are above zero and amounts,
sizes and volumes not negative where the models say so. One exception: an infinite market
limit (``limits.amount.max``) is read as "no limit", which is what a ccxt parser means by it.

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

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from exchanges import parsing
from exchanges.decimals import ZERO, dec, shown
from exchanges.errors import BadResponse
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    FundingRate,
    FundingRecord,
    MarginMode,
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
    "funding_rate",
    "funding_record",
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
    """A ccxt number as ``Decimal``: ``None`` and blank text are None; anything else must be a
    finite number below 1e30 in magnitude, or ``BadResponse``.

    ``float`` is taken through ``repr`` (see the module docstring): the fallback for the few
    values ccxt still computes as floats.
    """
    if value is None:
        return None
    if value.__class__ is str:
        value = value.strip()
        if not value:
            return None
    try:
        found = dec(value)
    except ValueError as err:
        raise BadResponse(f"ccxt handed a value that is {err}", hint=parsing.NUMBER_HINT) from None
    # 0E-8 reads as 0, as it does from the native adapters.
    return found if found else ZERO


def _field(item: Mapping[str, Any], name: str, what: str) -> Decimal | None:
    value = item.get(name)
    try:
        return num(value)
    except BadResponse:
        raise BadResponse(
            f"ccxt's {what} field {name!r} is not a finite number in range: {shown(value)}",
            hint=parsing.NUMBER_HINT,
        ) from None


def _amount(item: Mapping[str, Any], name: str, what: str) -> Decimal | None:
    """An optional field that is never negative (an amount, a volume, a price where 0 is none)."""
    value = _field(item, name, what)
    if value is not None and value < 0:
        raise BadResponse(
            f"ccxt's {what} field {name!r} is negative: {value}", hint=parsing.NUMBER_HINT
        )
    return value


def _need(item: Mapping[str, Any], name: str, what: str) -> Decimal:
    value = _field(item, name, what)
    if value is None:
        raise BadResponse(f"ccxt's {what} has no number {name!r}")
    return value


def _need_price(item: Mapping[str, Any], name: str, what: str) -> Decimal:
    value = _need(item, name, what)
    if value > 0:
        return value
    raise BadResponse(
        f"ccxt's {what} field {name!r} is not a price above zero: {value}",
        hint=parsing.NUMBER_HINT,
    )


def _need_amount(item: Mapping[str, Any], name: str, what: str) -> Decimal:
    value = _need(item, name, what)
    if value >= 0:
        return value
    raise BadResponse(
        f"ccxt's {what} field {name!r} is negative: {value}", hint=parsing.NUMBER_HINT
    )


def _ms(value: Any) -> int | None:
    # parsing.ms: None for absent, zero, negative, fractional or absurd times (never int(inf)).
    return parsing.ms(value)


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _side(value: Any) -> OrderSide | None:
    return "buy" if value == "buy" else "sell" if value == "sell" else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# -- markets ----------------------------------------------------------------------------------


def _step(value: Any, mode: int) -> Decimal | None:
    precision = _limit(value, "market precision")
    if precision is None:
        return None
    if mode == TICK_SIZE:
        return precision if precision > 0 else None
    if mode == DECIMAL_PLACES and 0 <= precision <= _MAX_PLACES:
        # A number of decimal places: the step is one unit of the last place.
        return Decimal(1).scaleb(-int(precision))
    return None


# More decimal places than any market uses: beyond it a precision is garbage, not a step.
_MAX_PLACES = 40


def _limit(value: Any, what: str) -> Decimal | None:
    """A market's precision or limit: None when absent or +infinity ("no limit"), else >= 0."""
    if (isinstance(value, float) and value == math.inf) or (
        isinstance(value, Decimal) and value.is_infinite() and not value.is_signed()
    ):
        return None
    try:
        found = num(value)
    except BadResponse:
        raise BadResponse(
            f"ccxt's {what} is not a finite number in range: {shown(value)}",
            hint=parsing.NUMBER_HINT,
        ) from None
    if found is not None and found < 0:
        raise BadResponse(f"ccxt's {what} is negative: {found}", hint=parsing.NUMBER_HINT)
    return found


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
    size = None if spot else _amount(item, "contractSize", "market")
    amount_step = _step(precision.get("amount"), precision_mode)
    min_amount = _limit(amount_limits.get("min"), "market limit")
    max_amount = _limit(amount_limits.get("max"), "market limit")
    # ccxt counts a contract market's amounts in contracts; the interface counts them in the
    # contract's unit (base currency, USD for inverse), steps and limits included.
    counts = size is not None and size > 0 and size != 1
    if counts:
        assert size is not None
        amount_step, min_amount, max_amount = (
            None if v is None else v * size for v in (amount_step, min_amount, max_amount)
        )
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
        contract_size=size,
        counts_contracts=counts,
        price_step=_step(precision.get("price"), precision_mode),
        amount_step=amount_step,
        min_amount=min_amount,
        max_amount=max_amount,
        min_notional=_limit(cost_limits.get("min"), "market limit"),
        active=item.get("active") is not False,
        expiry=_ms(item.get("expiry")),
        strike=_amount(item, "strike", "market"),
        option_type=option,
        category=None,
        raw=item,
    )


# -- market data ------------------------------------------------------------------------------


def ticker(symbol: str, item: Mapping[str, Any]) -> Ticker:
    """A ccxt ticker (``bidVolume``/``askVolume`` are the sizes at the best prices).

    Prices, volumes and sizes are >= 0 (a new market's 0 stays 0).
    """
    return Ticker(
        symbol=symbol,
        timestamp=_ms(item.get("timestamp")),
        bid=_amount(item, "bid", "ticker"),
        ask=_amount(item, "ask", "ticker"),
        last=_amount(item, "last", "ticker"),
        high=_amount(item, "high", "ticker"),
        low=_amount(item, "low", "ticker"),
        base_volume=_amount(item, "baseVolume", "ticker"),
        quote_volume=_amount(item, "quoteVolume", "ticker"),
        bid_size=_amount(item, "bidVolume", "ticker"),
        ask_size=_amount(item, "askVolume", "ticker"),
        open=_amount(item, "open", "ticker"),
        mark_price=_amount(item, "markPrice", "ticker"),
        index_price=_amount(item, "indexPrice", "ticker"),
        raw=item,
    )


def _levels(rows: Any, descending: bool) -> tuple[tuple[Decimal, Decimal], ...]:
    if not isinstance(rows, list):
        raise BadResponse("ccxt's order book levels are not a list")
    levels = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 2:
            raise BadResponse(
                f"ccxt's order book has a level that is not [price, amount]: {shown(row)}"
            )
        price, amount = num(row[0]), num(row[1])
        if price is None or amount is None:
            raise BadResponse("ccxt's order book has a level that is not [price, amount]")
        if not price > 0 or amount < 0:
            raise BadResponse(
                f"ccxt's order book has the level [{price}, {amount}]: a price must be above "
                "zero and an amount not negative",
                hint=parsing.NUMBER_HINT,
            )
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
        price=_need_price(item, "price", "trade"),
        amount=_need_amount(item, "amount", "trade"),
        raw=item,
    )


def _interval_ms(value: Any) -> int | None:
    # ccxt's funding interval: "8h" (hours), or OKX's milliseconds as text when unnamed.
    if not isinstance(value, str):
        return None
    if value.endswith("h") and value[:-1].isdigit():
        return int(value[:-1]) * 3_600_000 or None
    return _ms(value)


def funding_rate(symbol: str, item: Mapping[str, Any]) -> FundingRate:
    """A ccxt funding rate structure: ``fundingRate`` is charged at ``fundingTimestamp``.

    Where ccxt gives no ``nextFundingTimestamp`` but an ``interval``, the settlement after is
    one interval later (as the native adapters compute it).
    """
    at = _ms(item.get("fundingTimestamp"))
    every = _interval_ms(item.get("interval"))
    after = _ms(item.get("nextFundingTimestamp"))
    if after is None and at is not None and every is not None:
        after = at + every
    return FundingRate(
        symbol=symbol,
        rate=_need(item, "fundingRate", "funding rate"),
        timestamp=_ms(item.get("timestamp")),
        funding_time=at,
        next_funding_time=after,
        mark_price=_amount(item, "markPrice", "funding rate"),
        index_price=_amount(item, "indexPrice", "funding rate"),
        interval_ms=every,
        raw=item,
    )


def funding_record(symbol: str, item: Any) -> FundingRecord:
    """One item of ccxt's funding rate history."""
    if not isinstance(item, Mapping):
        raise BadResponse(f"ccxt's funding history item is {type(item).__name__}, not a dict")
    stamp = _ms(item.get("timestamp"))
    if stamp is None:
        raise BadResponse(
            f"ccxt's funding history item has no time: {shown(item.get('timestamp'))}"
        )
    return FundingRecord(symbol, _need(item, "fundingRate", "funding history"), stamp, raw=item)


def candle(row: Any) -> Candle:
    """A ccxt OHLCV row ``[timestamp, open, high, low, close, volume]``."""
    if not isinstance(row, list | tuple) or len(row) < 6:
        raise BadResponse("ccxt's OHLCV row is not [timestamp, o, h, l, c, volume]")
    stamp = _ms(row[0])
    if stamp is None:
        raise BadResponse(f"ccxt's OHLCV row has no time in ms: {shown(row[0])}")
    values = [num(value) for value in row[1:6]]
    if any(value is None for value in values):
        raise BadResponse("ccxt's OHLCV row holds a value that is not a number")
    o, h, low, c, v = (value for value in values if value is not None)
    if not (o > 0 and h > 0 and low > 0 and c > 0) or v < 0:
        raise BadResponse(
            f"ccxt's OHLCV row has a price that is not above zero or a negative volume: "
            f"[{o}, {h}, {low}, {c}, {v}]",
            hint=parsing.NUMBER_HINT,
        )
    return Candle(timestamp=stamp, open=o, high=h, low=low, close=c, volume=v, raw=row)


# -- account ----------------------------------------------------------------------------------


def _balance(currency: str, entry: Mapping[str, Any]) -> Balance | None:
    free, used, total = (
        _field(entry, "free", "balance"),
        _field(entry, "used", "balance"),
        _field(entry, "total", "balance"),
    )
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
    # Either rate may be negative: a maker rebate.
    return TradingFee(symbol, _need(item, "maker", "fee"), _need(item, "taker", "fee"), raw=item)


# -- orders -----------------------------------------------------------------------------------


def _fee(item: Mapping[str, Any]) -> tuple[Decimal | None, str | None]:
    fee = item.get("fee")
    if isinstance(fee, Mapping) and fee.get("cost") is not None:
        return _field(fee, "cost", "fee"), _str(fee.get("currency"))
    fees = item.get("fees")
    if isinstance(fees, list) and len(fees) == 1 and isinstance(fees[0], Mapping):
        return _field(fees[0], "cost", "fee"), _str(fees[0].get("currency"))
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
    good_till = None
    if tif == "GTD":
        info = item.get("info")
        good_till = _ms(info.get("goodTillDate")) if isinstance(info, Mapping) else None
    elif status == "expired":
        # ccxt says expired where Binance ended an IOC, FOK or market order's remainder; the
        # interface says canceled for that everywhere (expired is a GTD order that lapsed).
        status = "canceled"
    remaining = _amount(item, "remaining", "order")
    if status in _TERMINAL:
        remaining = ZERO
    # Zero before any fill: none.
    average = _amount(item, "average", "order") or None
    fee, fee_currency = _fee(item)
    return Order(
        id=_str(item.get("id")),
        client_order_id=_str(item.get("clientOrderId")),
        symbol=symbol,
        type=order_type,
        side=_side(item.get("side")),
        status=status,
        price=None if order_type == "market" else _amount(item, "price", "order") or None,
        amount=_amount(item, "amount", "order"),
        filled=_amount(item, "filled", "order"),
        remaining=remaining,
        average=average,
        time_in_force=tif,
        post_only=post_only,
        reduce_only=_bool(item.get("reduceOnly")),
        timestamp=_ms(item.get("timestamp")),
        updated=_ms(item.get("lastUpdateTimestamp")),
        cost=_amount(item, "cost", "order"),
        fee=fee,
        fee_currency=fee_currency,
        good_till=good_till,
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
        price=_need_price(item, "price", "trade"),
        amount=_need_amount(item, "amount", "trade"),
        fee=fee,
        fee_currency=fee_currency,
        is_maker=True if maker == "maker" else False if maker == "taker" else None,
        timestamp=stamp,
        raw=item,
    )


_MARGIN_MODES: Mapping[str, MarginMode] = {"cross": "cross", "isolated": "isolated"}


def position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """A ccxt position; an empty one (no contracts) is ``None``. ``size`` counts contracts."""
    size = _amount(item, "contracts", "position")
    side = item.get("side")
    if not size or side not in ("long", "short"):
        return None
    return Position(
        symbol=symbol,
        side="long" if side == "long" else "short",
        size=abs(size),
        entry_price=_amount(item, "entryPrice", "position") or None,
        mark_price=_amount(item, "markPrice", "position"),
        liquidation_price=_amount(item, "liquidationPrice", "position") or None,
        unrealized_pnl=_field(item, "unrealizedPnl", "position"),
        leverage=_amount(item, "leverage", "position"),
        timestamp=_ms(item.get("timestamp")),
        margin_mode=_MARGIN_MODES.get(str(item.get("marginMode"))),
        hedged=item.get("hedged") is True,
        raw=item,
    )
