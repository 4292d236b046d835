"""Bybit v5 parsers: the response envelope, then each result item into a model.

Field names and types: Bybit's v5 API pages (https://bybit-exchange.github.io/docs/v5/intro and
each endpoint's "Response Parameters", e.g. .../v5/market/orderbook, .../v5/order/open-order).
Nearly every number inside ``result`` is a string; empty strings mean "none". Numbers go through
the shared readers of ``exchanges.parsing``: a NaN, an infinity, a negative size, a zero book
price or a magnitude of 1e30 or more is ``BadResponse``, never a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.bybit.errors import error_for_code, error_for_http
from adapters.bybit.triggers import parse_conditional
from exchanges import parsing
from exchanges.decimals import ZERO, dec, exact, opt_dec, shown
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
    OrderStatus,
    Position,
    Ticker,
    Trade,
    TradingFee,
)
from exchanges.wire import Response

__all__ = [
    "decode",
    "parse_balances",
    "parse_candles",
    "parse_fill",
    "parse_key_info",
    "parse_market",
    "parse_order",
    "parse_order_book",
    "parse_position",
    "parse_ticker",
    "parse_trade",
    "parse_trading_fee",
]


_EX = "bybit"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_loads = parsing.loads_json
_price = parsing.need_price
_amount = parsing.need_amount
_decimal = parsing.need_decimal
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_need_ms = parsing.need_ms
_iso_ms = parsing.iso_ms
_yymmdd = parsing.yymmdd

_D = Decimal


def _text(value: Any) -> str | None:
    # Never str() of a container: a hostile body nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else None


_STATUS: dict[str, OrderStatus] = {
    "New": "open",
    "PartiallyFilled": "open",
    "Untriggered": "open",
    "Triggered": "open",
    "Active": "open",
    "Created": "open",
    "Filled": "closed",
    "Cancelled": "canceled",
    "PartiallyFilledCanceled": "canceled",
    "Deactivated": "canceled",
    "Rejected": "rejected",
}

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}


def _reset_in(response: Response, server_ms: Any) -> float | None:
    reset = response.headers.get("X-Bapi-Limit-Reset-Timestamp")
    if reset is None or not isinstance(server_ms, int):
        return None
    try:
        return max((int(reset) - server_ms) / 1000, 0.0)
    except (ValueError, OverflowError):  # not a number, or beyond any float
        return None


def _http_error(response: Response) -> ExchangeError:
    return error_for_http(response.status, response.body, endpoint=parsing.endpoint_of(response))


def decode(response: Response, env: str) -> None:
    """Check the envelope; set ``response.data`` or raise the normalised error.

    Non-JSON bodies (HTML error pages, truncated bodies, nesting too deep to decode) are
    classified by HTTP status; a JSON envelope by ``retCode`` only, which must be an integer.
    """
    status = response.status
    try:
        data = _loads(response.body)
    except (ValueError, TypeError):
        # Not JSON: the shared reader decodes it again, to raise what such a body stands for.
        data = parsing.decode_json(response, _EX, _http_error)
    code = None
    if isinstance(data, dict):
        code = data["retCode"] if "retCode" in data else data.get("ret_code")
    if code is None:
        if status != 200:
            raise _http_error(response)
        raise BadResponse(
            "JSON without Bybit's retCode envelope",
            exchange=_EX,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
        )
    if code != 0 or code.__class__ is not int:  # the usual 0 needs no checking
        code = parsing.envelope_code(code, response, _EX, "retCode")
    response.code = code
    if code != 0:
        message = data.get("retMsg", data.get("ret_msg", ""))
        raise error_for_code(
            code,
            message if isinstance(message, str) else shown(message),
            env=env,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
            retry_after=_reset_in(response, data.get("time")),
        )
    if status != 200:
        raise _http_error(response)
    response.data = data


def result(response: Response) -> dict[str, Any]:
    """The envelope's ``result`` object (a ``BadResponse`` if it is not one)."""
    data = response.data
    res = data.get("result") if isinstance(data, dict) else None
    if not isinstance(res, dict):
        raise BadResponse(
            "the response has no result object",
            exchange="bybit",
            endpoint=response.request.endpoint if response.request else None,
        )
    return res


def result_list(response: Response) -> list[Any]:
    """``result.list`` (a ``BadResponse`` if it is not a list)."""
    items = result(response).get("list")
    if not isinstance(items, list):
        raise BadResponse(
            "the response has no result.list",
            exchange="bybit",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items


def envelope_time(response: Response) -> int | None:
    """The envelope's server ``time`` in ms, if present."""
    value = response.data.get("time") if isinstance(response.data, dict) else None
    return _ms(value) if value.__class__ is int else None


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
    settle = _text(item.get("settleCoin")) or (base if category == "inverse" else quote)
    if category == "option":
        _, expiry, strike, right = _option_parts(native)
        if expiry is None:
            expiry = _ms(item.get("deliveryTime"))
        option_type = _text(item.get("optionsType"))
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
    contract_type = _text(item.get("contractType")) or ""
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


# -- account ------------------------------------------------------------------------------


_USED = ("locked", "totalOrderIM", "totalPositionIM")


def parse_balances(response_list: list[Any], ts: int | None) -> Balances:
    """The UNIFIED wallet: total is walletBalance; used is locked plus order and position margin."""
    items: dict[str, Balance] = {}
    account: Any = response_list[0] if response_list else {}
    try:
        for coin in account.get("coin") or []:
            # Inline conversions: this runs per coin on every balance call. A balance may be
            # negative (a unified account borrows); the parts in use never are.
            get = coin.get
            wallet = get("walletBalance")
            if wallet.__class__ is str and wallet:
                # dec() inline; dec() itself raises, with its message, for what is refused.
                try:
                    total = exact(wallet)
                except ArithmeticError:
                    total = dec(wallet)
                if not total.is_finite():
                    total = dec(wallet)
            else:
                total = ZERO if wallet is None or wallet == "" else dec(wallet)
            used = ZERO
            for name in _USED:
                text = get(name)
                if text and text != "0":
                    part = dec(text)
                    if part < 0:
                        raise ValueError(f"{name} is negative: {part}")
                    used += part
            currency = _str(coin, "coin", _EX)
            items[currency] = Balance(currency, total - used, used, total, raw=coin)
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as err:
        raise BadResponse(
            f"the wallet balance has malformed coin entries ({err})",
            exchange=_EX,
            hint=parsing.NUMBER_HINT,
        ) from None
    return Balances(items, timestamp=ts, raw=account)


def parse_trading_fee(symbol: str, item: Mapping[str, Any]) -> TradingFee:
    """One fee-rate item."""
    # Either rate may be negative: a maker rebate.
    return TradingFee(
        symbol,
        _decimal(item, "makerFeeRate", _EX),
        _decimal(item, "takerFeeRate", _EX),
        raw=item,
    )


def _scopes(permissions: Mapping[str, Any], read_only: bool) -> frozenset[str]:
    scopes = {"read"}
    for group, values in permissions.items():
        if not isinstance(values, list):
            continue
        for value in values:
            text = str(value)
            if "withdraw" in text.lower():
                # Bybit documents no field for it; the audit says the check is by name.
                scopes.add("withdraw")
            elif group == "Spot" and text == "SpotTrade":
                scopes.add("spot_trade")
            elif group in ("ContractTrade", "Derivatives"):
                scopes.add("derivatives_trade")
            elif group == "Options":
                scopes.add("options_trade")
            elif group == "Wallet":
                scopes.add("transfer")
            else:
                scopes.add(f"bybit:{group}")
    if read_only:
        scopes -= {"spot_trade", "derivatives_trade", "options_trade"}
    return frozenset(scopes)


def parse_key_info(res: Mapping[str, Any]) -> KeyInfo:
    """``result`` of /v5/user/query-api as normalised scopes (readOnly 1 means read-only)."""
    read_only = str(res.get("readOnly", "0")) == "1"
    permissions = res.get("permissions") or {}
    ips = tuple(str(ip) for ip in res.get("ips") or [] if ip and ip != "*")
    return KeyInfo(
        read_only=read_only,
        permissions=_scopes(permissions if isinstance(permissions, dict) else {}, read_only),
        ip_whitelist=ips,
        # The docs' example gives 1970-01-01 for keys that never expire.
        expires_at=_iso_ms(res.get("expiredAt")),
        created_at=_iso_ms(res.get("createdAt")),
        label=res.get("note") or None,
        raw=res,
    )


# -- orders -------------------------------------------------------------------------------


def _side(value: Any) -> Any:
    return "buy" if value == "Buy" else "sell" if value == "Sell" else None


def parse_order(symbol: str, item: Mapping[str, Any]) -> Order:
    """One realtime/history item."""
    tif = _text(item.get("timeInForce"))
    order_type = item.get("orderType")
    price = _opt_amount(item, "price", _EX)
    if order_type == "Market":
        price = None
    filled = _opt_amount(item, "cumExecQty", _EX)
    status = _STATUS.get(_text(item.get("orderStatus")) or "")
    remaining = _opt_amount(item, "leavesQty", _EX)
    if status in ("closed", "canceled", "rejected", "expired"):
        remaining = ZERO
    # "0" before any fill: kept as None below.
    average = _opt_amount(item, "avgPrice", _EX)
    # Negative for a maker rebate.
    fee = _opt(item, "cumExecFee", _EX)
    detail = item.get("cumFeeDetail")
    fee_currency = next(iter(detail)) if isinstance(detail, dict) and len(detail) == 1 else None
    return Order(
        id=item.get("orderId") or None,
        client_order_id=item.get("orderLinkId") or None,
        symbol=symbol,
        type="limit" if order_type == "Limit" else "market" if order_type == "Market" else None,
        side=_side(item.get("side")),
        status=status,
        price=price,
        amount=_opt_amount(item, "qty", _EX),
        filled=filled,
        remaining=remaining,
        average=average if average else None,
        time_in_force="PO" if tif == "PostOnly" else tif or None,
        post_only=tif == "PostOnly",
        reduce_only=bool(item.get("reduceOnly")) if "reduceOnly" in item else None,
        timestamp=_ms(item.get("createdTime")),
        updated=_ms(item.get("updatedTime")),
        cost=_opt_amount(item, "cumExecValue", _EX),
        fee=fee,
        fee_currency=fee_currency,
        raw=item,
        **parse_conditional(item),
    )


def parse_ack(symbol: str, response: Response, **known: Any) -> Order:
    """An acknowledgement (create, amend, cancel): ids plus what the request itself said.

    The envelope's ``time`` (when Bybit answered) is the time of the write.
    """
    return parse_ack_item(symbol, result(response), envelope_time(response), **known)


def parse_ack_item(symbol: str, res: Mapping[str, Any], at: int | None, **known: Any) -> Order:
    """One acknowledged order (``orderId``, ``orderLinkId``) written at ``at`` (ms)."""
    return Order(
        id=res.get("orderId") or None,
        client_order_id=res.get("orderLinkId") or None,
        symbol=symbol,
        type=known.get("type"),
        side=known.get("side"),
        status=known.get("status"),
        price=known.get("price"),
        amount=known.get("amount"),
        filled=None,
        remaining=None,
        average=None,
        time_in_force=known.get("time_in_force"),
        post_only=known.get("post_only"),
        reduce_only=known.get("reduce_only"),
        timestamp=None,
        updated=at,
        raw=dict(res),
    )


def parse_fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """One execution-list item."""
    return Fill(
        id=_str(item, "execId", _EX),
        order_id=item.get("orderId") or None,
        client_order_id=item.get("orderLinkId") or None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_price(item, "execPrice", _EX),
        amount=_amount(item, "execQty", _EX),
        fee=_opt(item, "execFee", _EX),
        fee_currency=item.get("feeCurrency") or None,
        is_maker=item.get("isMaker") if isinstance(item.get("isMaker"), bool) else None,
        timestamp=_need_ms(item, "execTime", _EX),
        raw=item,
    )


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One position-list item; an empty position (size 0) is None."""
    size = _opt_amount(item, "size", _EX) or ZERO
    side = item.get("side")
    if size == 0 or side not in ("Buy", "Sell"):
        return None
    return Position(
        symbol=symbol,
        side="long" if side == "Buy" else "short",
        size=size,
        entry_price=_opt_amount(item, "avgPrice", _EX) or None,
        mark_price=_opt_amount(item, "markPrice", _EX),
        liquidation_price=_opt_amount(item, "liqPrice", _EX) or None,
        unrealized_pnl=_opt(item, "unrealisedPnl", _EX),
        leverage=_opt_amount(item, "leverage", _EX),
        timestamp=_ms(item.get("updatedTime")),
        # positionIdx 1 and 2 are the Buy and Sell sides of hedge mode, 0 is one-way.
        hedged=str(item.get("positionIdx", 0)) in ("1", "2"),
        raw=item,
    )
