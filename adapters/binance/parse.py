"""Binance parsers: error bodies, then each documented JSON shape into a model.

Binance answers successes with the bare JSON of the endpoint (no envelope) and failures with
``{"code": <negative>, "msg": "..."}`` and a 4XX/5XX status; a few USD-M endpoints answer
``{"code": 200, "msg": "..."}`` on success (§1.5). Numbers are strings. Shapes:
../shared/reference/binance-okx.md §1.7-§1.8 and Binance's endpoint pages.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from adapters.binance.errors import MarketKind, error_for_code, error_for_http
from exchanges import parsing
from exchanges.decimals import ZERO, opt_dec
from exchanges.errors import BadResponse
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    KeyInfo,
    Market,
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
from exchanges.wire import Response

__all__ = [
    "decode",
    "market_of_path",
    "parse_balances_spot",
    "parse_balances_usdm",
    "parse_candles",
    "parse_fill",
    "parse_key_info",
    "parse_market_spot",
    "parse_market_usdm",
    "parse_order",
    "parse_order_book",
    "parse_position",
    "parse_ticker",
    "parse_trade",
    "parse_trading_fee",
]


_need = functools.partial(parsing.need, exchange="binance")
_dec = functools.partial(parsing.need_decimal, exchange="binance")
_levels = functools.partial(parsing.levels, exchange="binance")
_ms = parsing.ms
_iso_ms = parsing.iso_ms
_yymmdd = parsing.yymmdd

_STATUS: dict[str, OrderStatus] = {
    "NEW": "open",
    "PENDING_NEW": "open",
    "PARTIALLY_FILLED": "open",
    "FILLED": "closed",
    "NEW_INSURANCE": "closed",
    "NEW_ADL": "closed",
    "CANCELED": "canceled",
    "PENDING_CANCEL": "canceled",
    "REJECTED": "rejected",
    "EXPIRED": "expired",
    "EXPIRED_IN_MATCH": "expired",
}


def market_of_path(path: str) -> MarketKind:
    """Which error table applies: USD-M for ``/fapi``, spot for ``/api`` and ``/sapi``."""
    return "usdm" if path.startswith("/fapi") else "spot"


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def decode(response: Response, env: str) -> None:
    """Set ``response.data`` from a success, or raise the normalised error."""
    request = response.request
    endpoint = request.endpoint if request is not None else None
    market = market_of_path(request.path) if request is not None else "spot"
    status = response.status
    try:
        data = json.loads(response.body)
    except ValueError:
        if status == 200:
            raise BadResponse(
                f"HTTP 200 with a body that is not JSON ({len(response.body)} bytes, "
                "truncated or a proxy page)",
                exchange="binance",
                http_status=status,
                endpoint=endpoint,
            ) from None
        raise error_for_http(
            status,
            response.body,
            market=market,
            endpoint=endpoint,
            retry_after=_retry_after(response),
        ) from None
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, int) and not isinstance(code, bool) and code not in (0, 200):
        response.code = code
        message = data.get("msg", "")
        raise error_for_code(
            code,
            message if isinstance(message, str) else str(message),
            market=market,
            env=env,
            http_status=status,
            endpoint=endpoint,
            retry_after=_retry_after(response),
        )
    if status != 200:
        raise error_for_http(
            status,
            response.body,
            market=market,
            endpoint=endpoint,
            retry_after=_retry_after(response),
        )
    response.data = data


# -- helpers ------------------------------------------------------------------------------


def _bad(what: str) -> BadResponse:
    return BadResponse(what, exchange="binance")


def _filters(item: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for entry in item.get("filters") or ():
        if isinstance(entry, Mapping) and "filterType" in entry:
            found[str(entry["filterType"])] = entry
    return found


def _positive(value: Decimal | None) -> Decimal | None:
    # Binance fills unused limits with zeros ("maxQty": "0.00000000"): zero means "none".
    return value if value else None


# -- markets ------------------------------------------------------------------------------


def parse_market_spot(item: Mapping[str, Any]) -> Market:
    """One ``/api/v3/exchangeInfo`` symbol (PRICE_FILTER, LOT_SIZE, NOTIONAL/MIN_NOTIONAL)."""
    base, quote = str(_need(item, "baseAsset")), str(_need(item, "quoteAsset"))
    filters = _filters(item)
    price = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    return Market(
        symbol=f"{base}/{quote}",
        id=str(_need(item, "symbol")),
        type="spot",
        base=base,
        quote=quote,
        settle=None,
        linear=None,
        inverse=None,
        contract_size=None,
        price_step=_positive(opt_dec(price.get("tickSize"))),
        amount_step=_positive(opt_dec(lot.get("stepSize"))),
        min_amount=_positive(opt_dec(lot.get("minQty"))),
        max_amount=_positive(opt_dec(lot.get("maxQty"))),
        min_notional=_positive(opt_dec(notional.get("minNotional"))),
        active=item.get("status") == "TRADING" and item.get("isSpotTradingAllowed", True) is True,
        category="spot",
        raw=item,
    )


def parse_market_usdm(item: Mapping[str, Any]) -> Market:
    """One ``/fapi/v1/exchangeInfo`` symbol: perpetual (swap) or dated (future)."""
    base, quote = str(_need(item, "baseAsset")), str(_need(item, "quoteAsset"))
    settle = str(item.get("marginAsset") or quote)
    contract = str(item.get("contractType", "PERPETUAL"))
    filters = _filters(item)
    price = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("MIN_NOTIONAL", {})
    dated = contract in ("CURRENT_QUARTER", "NEXT_QUARTER", "CURRENT_MONTH", "NEXT_MONTH")
    expiry = _ms(item.get("deliveryDate")) if dated else None
    symbol = f"{base}/{quote}:{settle}"
    if dated and expiry:
        symbol += f"-{_yymmdd(expiry)}"
    return Market(
        symbol=symbol,
        id=str(_need(item, "symbol")),
        type="future" if dated else "swap",
        base=base,
        quote=quote,
        settle=settle,
        linear=True,
        inverse=False,
        contract_size=Decimal(1),
        price_step=_positive(opt_dec(price.get("tickSize"))),
        amount_step=_positive(opt_dec(lot.get("stepSize"))),
        min_amount=_positive(opt_dec(lot.get("minQty"))),
        max_amount=_positive(opt_dec(lot.get("maxQty"))),
        min_notional=_positive(opt_dec(notional.get("notional"))),
        active=item.get("status") == "TRADING",
        expiry=expiry,
        category="usdm",
        raw=item,
    )


# -- market data --------------------------------------------------------------------------


def parse_ticker(
    symbol: str, item: Mapping[str, Any], book: Mapping[str, Any] | None = None
) -> Ticker:
    """A 24hr ticker; USD-M's has no bid/ask, which ``book`` (a bookTicker item) supplies."""
    top = book if book is not None else item
    return Ticker(
        symbol=symbol,
        timestamp=_ms(item.get("closeTime")),
        bid=opt_dec(top.get("bidPrice")),
        ask=opt_dec(top.get("askPrice")),
        last=opt_dec(item.get("lastPrice")),
        high=opt_dec(item.get("highPrice")),
        low=opt_dec(item.get("lowPrice")),
        base_volume=opt_dec(item.get("volume")),
        quote_volume=opt_dec(item.get("quoteVolume")),
        bid_size=opt_dec(top.get("bidQty")),
        ask_size=opt_dec(top.get("askQty")),
        open=opt_dec(item.get("openPrice")),
        raw=item if book is None else {"ticker": item, "book": book},
    )


def parse_order_book(symbol: str, data: Mapping[str, Any], limit: int | None = None) -> OrderBook:
    """``depth``: bids descending, asks ascending; USD-M adds the time ``T``."""
    bids, asks = _levels(data.get("bids")), _levels(data.get("asks"))
    if limit is not None:
        bids, asks = bids[:limit], asks[:limit]
    update = data.get("lastUpdateId")
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(data.get("T") or data.get("E")),
        bids=bids,
        asks=asks,
        sequence=update if isinstance(update, int) else None,
        raw=data,
    )


def parse_trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """One recent trade; ``isBuyerMaker`` means the taker sold."""
    maker = item.get("isBuyerMaker")
    return Trade(
        id=str(_need(item, "id")),
        symbol=symbol,
        timestamp=int(_need(item, "time")),
        side=None if not isinstance(maker, bool) else "sell" if maker else "buy",
        price=_dec(item, "price"),
        amount=_dec(item, "qty"),
        raw=item,
    )


def parse_candles(rows: Any) -> list[Candle]:
    """Kline rows ``[openTime, o, h, l, c, volume, closeTime, quoteVolume, ...]``, oldest first."""
    if not isinstance(rows, list):
        raise _bad("klines are not a list")
    candles = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 8:
            raise _bad("a kline row is not [openTime, o, h, l, c, v, closeTime, quoteVolume, …]")
        try:
            candles.append(
                Candle(
                    timestamp=int(row[0]),
                    open=Decimal(row[1]),
                    high=Decimal(row[2]),
                    low=Decimal(row[3]),
                    close=Decimal(row[4]),
                    volume=Decimal(row[5]),
                    quote_volume=Decimal(row[7]),
                    raw=row,
                )
            )
        except (ValueError, TypeError, ArithmeticError):
            raise _bad("a kline row holds a value that is not a number") from None
    candles.sort(key=lambda c: c.timestamp)
    return candles


# -- account ------------------------------------------------------------------------------


def parse_balances_spot(data: Mapping[str, Any]) -> Balances:
    """``/api/v3/account``: ``balances[{asset, free, locked}]``."""
    items: dict[str, Balance] = {}
    try:
        for entry in data.get("balances") or ():
            free, locked = Decimal(entry["free"]), Decimal(entry["locked"])
            asset = str(entry["asset"])
            items[asset] = Balance(asset, free, locked, free + locked, raw=entry)
    except (ArithmeticError, TypeError, ValueError, KeyError):
        raise _bad("the spot account has malformed balances") from None
    return Balances(items, timestamp=_ms(data.get("updateTime")), raw=data)


def parse_balances_usdm(data: Mapping[str, Any]) -> Balances:
    """``/fapi/v3/account``: total is walletBalance, free is availableBalance."""
    items: dict[str, Balance] = {}
    try:
        for entry in data.get("assets") or ():
            total = Decimal(entry["walletBalance"])
            free = min(Decimal(entry["availableBalance"]), total)
            asset = str(entry["asset"])
            items[asset] = Balance(asset, free, total - free, total, raw=entry)
    except (ArithmeticError, TypeError, ValueError, KeyError):
        raise _bad("the USD-M account has malformed assets") from None
    return Balances(items, timestamp=_ms(data.get("updateTime")), raw=data)


def parse_trading_fee(symbol: str, data: Mapping[str, Any]) -> TradingFee:
    """Spot ``account/commission`` (``standardCommission``) or USD-M ``commissionRate``."""
    standard = data.get("standardCommission")
    if isinstance(standard, Mapping):
        return TradingFee(symbol, _dec(standard, "maker"), _dec(standard, "taker"), raw=data)
    return TradingFee(
        symbol, _dec(data, "makerCommissionRate"), _dec(data, "takerCommissionRate"), raw=data
    )


# apiRestrictions flag -> normalised scope (§1.7); exchange-specific ones are prefixed.
_SCOPES = (
    ("enableReading", "read"),
    ("enableSpotAndMarginTrading", "spot_trade"),
    ("enableFutures", "derivatives_trade"),
    ("enableVanillaOptions", "options_trade"),
    ("enableWithdrawals", "withdraw"),
    ("enableInternalTransfer", "transfer"),
    ("permitsUniversalTransfer", "transfer"),
    ("enableMargin", "binance:margin"),
    ("enablePortfolioMarginTrading", "binance:portfolio_margin"),
    ("enableFixApiTrade", "binance:fix_trade"),
    ("enableFixReadOnly", "binance:fix_read"),
)
_WRITE_SCOPES = frozenset(
    {"spot_trade", "derivatives_trade", "options_trade", "withdraw", "transfer"}
)


def parse_key_info(data: Mapping[str, Any]) -> KeyInfo:
    """``/sapi/v1/account/apiRestrictions`` as normalised scopes.

    ``tradingAuthorityExpirationTime`` (the end of the spot/margin trading permission) is
    optional: older docs have it, the current ones do not (§1.7).
    """
    scopes = {scope for flag, scope in _SCOPES if data.get(flag) is True}
    return KeyInfo(
        read_only=not (scopes & _WRITE_SCOPES),
        permissions=frozenset(scopes),
        ip_whitelist=(),
        ip_restricted=data.get("ipRestrict") is True,
        expires_at=_ms(data.get("tradingAuthorityExpirationTime")),
        created_at=_ms(data.get("createTime")),
        raw=data,
    )


# -- orders -------------------------------------------------------------------------------


def parse_order(symbol: str, item: Mapping[str, Any]) -> Order:
    """An order of either market (query, new-order RESULT, cancel, lists).

    A cancel answer's ``clientOrderId`` names the cancel request; the order's own id is then
    ``origClientOrderId``. Spot post-only orders are type ``LIMIT_MAKER``, USD-M ones have
    ``timeInForce`` ``GTX``.
    """
    native_type = str(item.get("type", ""))
    tif = item.get("timeInForce")
    post_only = native_type == "LIMIT_MAKER" or tif == "GTX"
    order_type: OrderType | None = (
        "market" if native_type == "MARKET" else "limit" if "LIMIT" in native_type else None
    )
    amount = opt_dec(item.get("origQty"))
    filled = opt_dec(item.get("executedQty"))
    status = _STATUS.get(str(item.get("status")))
    cost = opt_dec(item.get("cummulativeQuoteQty", item.get("cumQuote")))
    average = _positive(opt_dec(item.get("avgPrice")))
    if average is None and cost and filled:
        average = cost / filled
    remaining = None
    if amount is not None and filled is not None:
        remaining = (
            ZERO if status in ("closed", "canceled", "rejected", "expired") else amount - filled
        )
    created = _ms(item.get("time") or item.get("transactTime"))
    order_id = item.get("orderId")
    return Order(
        id=None if order_id is None else str(order_id),
        client_order_id=item.get("origClientOrderId") or item.get("clientOrderId") or None,
        symbol=symbol,
        type=order_type,
        side="buy" if item.get("side") == "BUY" else "sell" if item.get("side") == "SELL" else None,
        status=status,
        price=None if order_type == "market" else _positive(opt_dec(item.get("price"))),
        amount=amount,
        filled=filled,
        remaining=remaining,
        average=average,
        time_in_force="PO" if post_only else tif if isinstance(tif, str) else None,
        post_only=post_only,
        reduce_only=item.get("reduceOnly") if isinstance(item.get("reduceOnly"), bool) else None,
        timestamp=created,
        updated=_ms(item.get("updateTime") or item.get("transactTime")) or created,
        cost=cost,
        raw=item,
    )


def parse_fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """Spot ``myTrades`` (``isBuyer``/``isMaker``) or USD-M ``userTrades`` (``side``/``maker``).

    Neither carries the client order id.
    """
    side: OrderSide
    if "isBuyer" in item:
        side = "buy" if item["isBuyer"] else "sell"
        maker = item.get("isMaker")
    else:
        side = "buy" if item.get("side") == "BUY" else "sell"
        maker = item.get("maker")
    order_id = item.get("orderId")
    return Fill(
        id=str(_need(item, "id")),
        order_id=None if order_id is None else str(order_id),
        client_order_id=None,
        symbol=symbol,
        side=side,
        price=_dec(item, "price"),
        amount=_dec(item, "qty"),
        fee=opt_dec(item.get("commission")),
        fee_currency=item.get("commissionAsset") or None,
        is_maker=maker if isinstance(maker, bool) else None,
        timestamp=int(_need(item, "time")),
        raw=item,
    )


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One ``/fapi/v3/positionRisk`` item; an empty position is None.

    v3 dropped ``leverage``; it is derived as |notional| / initial margin (both at the mark
    price), rounded to Binance's whole-number leverage.
    """
    amount = opt_dec(item.get("positionAmt")) or ZERO
    if amount == 0:
        return None
    hedge_side = item.get("positionSide")
    side: Literal["long", "short"] = (
        "long"
        if hedge_side == "LONG"
        else "short"
        if hedge_side == "SHORT"
        else "long"
        if amount > 0
        else "short"
    )
    notional = opt_dec(item.get("notional"))
    margin = opt_dec(item.get("positionInitialMargin") or item.get("initialMargin"))
    leverage = opt_dec(item.get("leverage"))
    if leverage is None and notional and margin:
        leverage = (abs(notional) / margin).quantize(Decimal(1))
    return Position(
        symbol=symbol,
        side=side,
        size=abs(amount),
        entry_price=_positive(opt_dec(item.get("entryPrice"))),
        mark_price=opt_dec(item.get("markPrice")),
        liquidation_price=_positive(opt_dec(item.get("liquidationPrice"))),
        unrealized_pnl=opt_dec(item.get("unRealizedProfit")),
        leverage=leverage,
        timestamp=_ms(item.get("updateTime")),
        raw=item,
    )
