"""Binance parsers: error bodies, then each documented JSON shape into a model.

Binance answers successes with the bare JSON of the endpoint (no envelope) and failures with
``{"code": <negative>, "msg": "..."}`` and a 4XX/5XX status; a few USD-M endpoints answer
``{"code": 200, "msg": "..."}`` on success. Numbers are strings. Shapes: Binance's endpoint
pages (https://developers.binance.com/docs/binance-spot-api-docs/rest-api, "Error codes" and
each endpoint's "Response"; https://developers.binance.com/docs/derivatives/usds-margined-futures
for USD-M). Numbers go through the shared readers of ``exchanges.parsing``: a NaN, an infinity,
a negative size, a zero book price or a magnitude of 1e30 or more is ``BadResponse``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from adapters.binance import modes, spot_stops
from adapters.binance.errors import MarketKind, error_for_code, error_for_http
from exchanges import parsing
from exchanges.decimals import ZERO, dec, shown
from exchanges.errors import BadResponse, ExchangeError
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


_EX = "binance"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_price = parsing.need_price
_amount = parsing.need_amount
_decimal = parsing.need_decimal
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms
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
        seconds = float(value)
    except ValueError:
        return None
    # "inf" and "nan" parse as floats too; a wait of either would never end.
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _http_error(response: Response) -> ExchangeError:
    request = response.request
    return error_for_http(
        response.status,
        response.body,
        market=market_of_path(request.path) if request is not None else "spot",
        endpoint=parsing.endpoint_of(response),
        retry_after=_retry_after(response),
    )


def decode(response: Response, env: str) -> None:
    """Set ``response.data`` from a success, or raise the normalised error.

    A body that is not JSON (nesting too deep to decode included) is classified by HTTP status;
    a numeric ``code`` must be an integer (text codes, which some wallet endpoints send on
    success, are left alone).
    """
    data = parsing.decode_json(response, _EX, _http_error)
    code = data.get("code") if isinstance(data, dict) else None
    if code is not None and code.__class__ is not str:
        code = parsing.envelope_code(code, response, _EX, "code")
        if code not in (0, 200):
            request = response.request
            response.code = code
            message = data.get("msg", "")
            raise error_for_code(
                code,
                message if isinstance(message, str) else shown(message),
                market=market_of_path(request.path) if request is not None else "spot",
                env=env,
                http_status=response.status,
                endpoint=parsing.endpoint_of(response),
                retry_after=_retry_after(response),
            )
    if response.status != 200:
        raise _http_error(response)
    response.data = data


# -- helpers ------------------------------------------------------------------------------


def _bad(what: str) -> BadResponse:
    return BadResponse(what, exchange=_EX)


def _text(value: Any) -> str | None:
    # Never str() of a container: a hostile body nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else None


def _filters(item: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for entry in item.get("filters") or ():
        if isinstance(entry, Mapping) and isinstance(entry.get("filterType"), str):
            found[entry["filterType"]] = entry
    return found


def _positive(value: Decimal | None) -> Decimal | None:
    # Binance fills unused limits with zeros ("maxQty": "0.00000000"): zero means "none".
    return value if value else None


# -- markets ------------------------------------------------------------------------------


def parse_market_spot(item: Mapping[str, Any]) -> Market:
    """One ``/api/v3/exchangeInfo`` symbol (PRICE_FILTER, LOT_SIZE, NOTIONAL/MIN_NOTIONAL)."""
    base, quote = _str(item, "baseAsset", _EX), _str(item, "quoteAsset", _EX)
    filters = _filters(item)
    price = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    return Market(
        symbol=f"{base}/{quote}",
        id=_str(item, "symbol", _EX),
        type="spot",
        base=base,
        quote=quote,
        settle=None,
        linear=None,
        inverse=None,
        contract_size=None,
        price_step=_positive(_opt_amount(price, "tickSize", _EX)),
        amount_step=_positive(_opt_amount(lot, "stepSize", _EX)),
        min_amount=_positive(_opt_amount(lot, "minQty", _EX)),
        max_amount=_positive(_opt_amount(lot, "maxQty", _EX)),
        min_notional=_positive(_opt_amount(notional, "minNotional", _EX)),
        active=item.get("status") == "TRADING" and item.get("isSpotTradingAllowed", True) is True,
        category="spot",
        raw=item,
    )


def parse_market_usdm(item: Mapping[str, Any]) -> Market:
    """One ``/fapi/v1/exchangeInfo`` symbol: perpetual (swap) or dated (future)."""
    base, quote = _str(item, "baseAsset", _EX), _str(item, "quoteAsset", _EX)
    settle = _text(item.get("marginAsset")) or quote
    contract = _text(item.get("contractType")) or "PERPETUAL"
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
        id=_str(item, "symbol", _EX),
        type="future" if dated else "swap",
        base=base,
        quote=quote,
        settle=settle,
        linear=True,
        inverse=False,
        contract_size=Decimal(1),
        price_step=_positive(_opt_amount(price, "tickSize", _EX)),
        amount_step=_positive(_opt_amount(lot, "stepSize", _EX)),
        min_amount=_positive(_opt_amount(lot, "minQty", _EX)),
        max_amount=_positive(_opt_amount(lot, "maxQty", _EX)),
        min_notional=_positive(_opt_amount(notional, "notional", _EX)),
        active=item.get("status") == "TRADING",
        expiry=expiry,
        category="usdm",
        raw=item,
    )


# -- market data --------------------------------------------------------------------------


_TICKER_KEYS = ("lastPrice", "highPrice", "lowPrice", "volume", "quoteVolume", "openPrice")
_BOOK_KEYS = ("bidPrice", "askPrice", "bidQty", "askQty")


def parse_ticker(
    symbol: str, item: Mapping[str, Any], book: Mapping[str, Any] | None = None
) -> Ticker:
    """A 24hr ticker; USD-M's has no bid/ask, which ``book`` (a bookTicker item) supplies.

    Prices, volumes and sizes are >= 0 (a new market's "0" stays 0).
    """
    top = book if book is not None else item
    last, high, low, volume, quote_volume, open_ = parsing.numbers(item, _TICKER_KEYS, _EX)
    bid, ask, bid_size, ask_size = parsing.numbers(top, _BOOK_KEYS, _EX)
    return Ticker(
        symbol=symbol,
        timestamp=_ms(item.get("closeTime")),
        bid=bid,
        ask=ask,
        last=last,
        high=high,
        low=low,
        base_volume=volume,
        quote_volume=quote_volume,
        bid_size=bid_size,
        ask_size=ask_size,
        open=open_,
        raw=item if book is None else {"ticker": item, "book": book},
    )


def parse_order_book(symbol: str, data: Mapping[str, Any], limit: int | None = None) -> OrderBook:
    """``depth``: bids descending, asks ascending; USD-M adds the time ``T``."""
    bids, asks = parsing.levels(data.get("bids"), _EX), parsing.levels(data.get("asks"), _EX)
    if limit is not None:
        bids, asks = bids[:limit], asks[:limit]
    update = data.get("lastUpdateId")
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(data.get("T") or data.get("E")),
        bids=bids,
        asks=asks,
        sequence=update if update.__class__ is int and update >= 0 else None,
        raw=data,
    )


def parse_trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """One recent trade; ``isBuyerMaker`` means the taker sold."""
    maker = item.get("isBuyerMaker")
    return Trade(
        id=_str(item, "id", _EX),
        symbol=symbol,
        timestamp=_need_ms(item, "time", _EX),
        side=None if not isinstance(maker, bool) else "sell" if maker else "buy",
        price=_price(item, "price", _EX),
        amount=_amount(item, "qty", _EX),
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
        candles.append(parsing.candle(row[0], row[1:5], row[5], row[7], exchange=_EX, raw=row))
    candles.sort(key=lambda c: c.timestamp)
    return candles


# -- account ------------------------------------------------------------------------------


def parse_balances_spot(data: Mapping[str, Any]) -> Balances:
    """``/api/v3/account``: ``balances[{asset, free, locked}]``."""
    items: dict[str, Balance] = {}
    try:
        for entry in data.get("balances") or ():
            free, locked = dec(entry["free"]), dec(entry["locked"])
            if free < 0 or locked < 0:
                raise ValueError(f"a negative spot balance: free {free}, locked {locked}")
            asset = _str(entry, "asset", _EX)
            items[asset] = Balance(asset, free, locked, free + locked, raw=entry)
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as err:
        raise BadResponse(
            f"the spot account has malformed balances ({err})",
            exchange=_EX,
            hint=parsing.NUMBER_HINT,
        ) from None
    return Balances(items, timestamp=_ms(data.get("updateTime")), raw=data)


def parse_balances_usdm(data: Mapping[str, Any]) -> Balances:
    """``/fapi/v3/account``: total is walletBalance, free is availableBalance."""
    items: dict[str, Balance] = {}
    try:
        for entry in data.get("assets") or ():
            # Either may be negative: losses can exceed a futures wallet.
            total = dec(entry["walletBalance"])
            free = min(dec(entry["availableBalance"]), total)
            asset = _str(entry, "asset", _EX)
            items[asset] = Balance(asset, free, total - free, total, raw=entry)
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as err:
        raise BadResponse(
            f"the USD-M account has malformed assets ({err})",
            exchange=_EX,
            hint=parsing.NUMBER_HINT,
        ) from None
    return Balances(items, timestamp=_ms(data.get("updateTime")), raw=data)


def parse_trading_fee(symbol: str, data: Mapping[str, Any]) -> TradingFee:
    """Spot ``account/commission`` (``standardCommission``) or USD-M ``commissionRate``."""
    standard = data.get("standardCommission")
    if isinstance(standard, Mapping):
        return TradingFee(
            symbol, _decimal(standard, "maker", _EX), _decimal(standard, "taker", _EX), raw=data
        )
    return TradingFee(
        symbol,
        _decimal(data, "makerCommissionRate", _EX),
        _decimal(data, "takerCommissionRate", _EX),
        raw=data,
    )


# apiRestrictions flag -> normalised scope (Binance "Get API Key Permission",
# https://developers.binance.com/docs/wallet/account/api-key-permission); exchange-specific
# ones are prefixed.
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
    optional: older versions of the "Get API Key Permission" page have it, the current one
    does not.
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
    ``timeInForce`` ``GTX``; spot stop types are conditional (``spot_stops.py``).
    """
    native_type = _text(item.get("type")) or ""
    tif = item.get("timeInForce")
    post_only = native_type == "LIMIT_MAKER" or tif == "GTX"
    # Spot STOP_LOSS and TAKE_PROFIT place a market order when they trigger.
    order_type: OrderType | None = (
        "market"
        if native_type in ("MARKET", "STOP_LOSS", "TAKE_PROFIT")
        else "limit"
        if "LIMIT" in native_type
        else None
    )
    amount = _opt_amount(item, "origQty", _EX)
    filled = _opt_amount(item, "executedQty", _EX)
    status = _STATUS.get(_text(item.get("status")) or "")
    good_till = _ms(item.get("goodTillDate")) if tif == "GTD" else None
    if status == "expired" and item.get("status") == "EXPIRED" and tif != "GTD":
        # Binance expires the unfilled part of an IOC, FOK or market order; Bybit and OKX
        # cancel it. One word for one outcome: canceled. Expired is a GTD order that lapsed.
        status = "canceled"
    cost = _opt_amount(
        item, "cummulativeQuoteQty" if "cummulativeQuoteQty" in item else "cumQuote", _EX
    )
    # "0" before any fill means none.
    average = _positive(_opt_amount(item, "avgPrice", _EX))
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
        id=None if order_id is None else _str(item, "orderId", _EX),
        client_order_id=item.get("origClientOrderId") or item.get("clientOrderId") or None,
        symbol=symbol,
        type=order_type,
        side="buy" if item.get("side") == "BUY" else "sell" if item.get("side") == "SELL" else None,
        status=status,
        price=None if order_type == "market" else _positive(_opt_amount(item, "price", _EX)),
        amount=amount,
        filled=filled,
        remaining=remaining,
        average=average,
        time_in_force="PO" if post_only else tif if isinstance(tif, str) else None,
        post_only=post_only,
        reduce_only=_reduce_only(item),
        timestamp=created,
        updated=_ms(item.get("updateTime") or item.get("transactTime")) or created,
        cost=cost,
        good_till=good_till or None,
        **spot_stops.parse_stop(item),
        raw=item,
    )


def _reduce_only(item: Mapping[str, Any]) -> bool | None:
    flag = item.get("reduceOnly")
    if isinstance(flag, bool):
        return flag
    # Spot orders (the ones with cummulativeQuoteQty) cannot reduce anything.
    return False if "cummulativeQuoteQty" in item else None


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
        id=_str(item, "id", _EX),
        order_id=None if order_id is None else _str(item, "orderId", _EX),
        client_order_id=None,
        symbol=symbol,
        side=side,
        price=_price(item, "price", _EX),
        amount=_amount(item, "qty", _EX),
        fee=_opt(item, "commission", _EX),
        fee_currency=item.get("commissionAsset") or None,
        is_maker=maker if isinstance(maker, bool) else None,
        timestamp=_need_ms(item, "time", _EX),
        raw=item,
    )


_MAX_LEVERAGE = Decimal(1_000_000)


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One ``/fapi/v3/positionRisk`` item; an empty position is None.

    v3 dropped ``leverage``; it is derived as |notional| / initial margin (both at the mark
    price), rounded to Binance's whole-number leverage.
    """
    # Signed in one-way mode: negative is short.
    amount = _opt(item, "positionAmt", _EX) or ZERO
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
    notional = _opt(item, "notional", _EX)
    margin = _opt_amount(
        item, "positionInitialMargin" if item.get("positionInitialMargin") else "initialMargin", _EX
    )
    leverage = _opt_amount(item, "leverage", _EX)
    if leverage is None and notional and margin:
        ratio = abs(notional) / margin
        # A ratio past any real leverage (a hostile margin of 1e-20) is no leverage at all.
        leverage = ratio.quantize(Decimal(1)) if ratio < _MAX_LEVERAGE else None
    return Position(
        symbol=symbol,
        side=side,
        size=abs(amount),
        entry_price=_positive(_opt_amount(item, "entryPrice", _EX)),
        mark_price=_opt_amount(item, "markPrice", _EX),
        liquidation_price=_positive(_opt_amount(item, "liquidationPrice", _EX)),
        unrealized_pnl=_opt(item, "unRealizedProfit", _EX),
        leverage=leverage,
        timestamp=_ms(item.get("updateTime")),
        margin_mode=modes.margin_mode_of(item),
        hedged=hedge_side in ("LONG", "SHORT"),
        raw=item,
    )
