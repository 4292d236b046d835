"""OKX v5 parsers: the envelope, instrument ids ↔ unified symbols, and each item into a model.

Envelope and error rules: OKX's v5 docs, https://www.okx.com/docs-v5/en/#overview-rest-api
("REST API", the ``code``/``msg``/``data`` envelope) and .../#error-code; key configuration:
.../#trading-account-rest-api-get-account-configuration. Numbers arrive as strings and ``""``
means "none"; they go through the shared readers of ``exchanges.parsing`` (a NaN, an infinity,
a negative size, a zero book price or a magnitude of 1e30 or more is ``BadResponse``).

Swaps, futures and options count amounts in contracts (``sz``, ``accFillSz``, ``fillSz``,
``pos``, book and ticker sizes) of ``ctVal`` each, in ``ctValCcy``: the base currency for linear
contracts and options, USD for inverse contracts. Their markets say so (``counts_contracts``,
steps and limits already multiplied by ``ctVal``); the parsers here keep OKX's counts and the
adapter turns every model into the unified unit with ``exchanges.units``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from adapters.okx.errors import error_for_code, error_for_http, item_error, retry_after_seconds
from exchanges import parsing
from exchanges.decimals import ZERO, opt_dec, shown
from exchanges.errors import BadResponse, BadSymbol, ExchangeError
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    KeyInfo,
    MarginMode,
    Market,
    MarketType,
    Order,
    OrderBook,
    OrderStatus,
    Position,
    Ticker,
    Trade,
    TradingFee,
)
from exchanges.symbols import Symbol, parse_symbol
from exchanges.wire import Response

__all__ = [
    "BATCH_PATHS",
    "INST_TYPES",
    "data_list",
    "decode",
    "first",
    "inst_id_of",
    "inst_type_of",
    "parse_ack",
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
    "symbol_of",
]


_EX = "okx"
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

#: Unified market type -> OKX ``instType``.
INST_TYPES: Mapping[str, str] = {
    "spot": "SPOT",
    "swap": "SWAP",
    "future": "FUTURES",
    "option": "OPTION",
}
_TYPES: dict[str, MarketType] = {
    "SPOT": "spot",
    "SWAP": "swap",
    "FUTURES": "future",
    "OPTION": "option",
}

#: Endpoints whose items succeed or fail one by one (code "1"/"2" is handled by the flow).
BATCH_PATHS = frozenset({"/api/v5/trade/batch-orders", "/api/v5/trade/cancel-batch-orders"})

_STATES: dict[str, OrderStatus] = {
    "live": "open",
    "partially_filled": "open",
    "filled": "closed",
    "canceled": "canceled",
    "mmp_canceled": "canceled",
}
_ORD_TYPES: dict[str, tuple[str, str | None]] = {
    # ordType -> (unified type, time in force)
    "limit": ("limit", "GTC"),
    "post_only": ("limit", "PO"),
    "ioc": ("limit", "IOC"),
    "fok": ("limit", "FOK"),
    "market": ("market", "IOC"),
    "optimal_limit_ioc": ("market", "IOC"),
}
#: OKX's ``ordType`` -> (unified type, time in force), for readers of OKX's own order JSON.
ORDER_TYPES = _ORD_TYPES


# -- envelope -------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    # Never str() of a container: a hostile body nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else None


def _http_error(response: Response) -> ExchangeError:
    return error_for_http(
        response.status,
        response.body,
        endpoint=parsing.endpoint_of(response),
        retry_after=retry_after_seconds(response.headers),
    )


_ITEM_CODE_FIELDS = ("sCode", "sMsg", "subCode")


def _item_error(item: Any, response: Response, env: str) -> ExchangeError | None:
    if isinstance(item, dict):
        for name in _ITEM_CODE_FIELDS:
            value = item.get(name)
            # Text or a plain integer: anything else (1e999, a nested list) cannot be a code.
            if value is not None and value.__class__ is not str and value.__class__ is not int:
                raise BadResponse(
                    f"an OKX data item's {name} is not a code or text: {shown(value)}",
                    exchange=_EX,
                    http_status=response.status,
                    endpoint=parsing.endpoint_of(response),
                )
    return item_error(
        item, env=env, http_status=response.status, endpoint=parsing.endpoint_of(response)
    )


def decode(response: Response, env: str) -> None:
    """Check the envelope; set ``response.data`` or raise the normalised error.

    Non-JSON bodies (nesting too deep to decode included) are classified by HTTP status. In a
    JSON envelope a failing item's ``sCode`` takes precedence over ``code`` (OKX's "REST API"
    overview); batch endpoints keep ``code`` "1"/"2" for the flow, which reports item by item.
    ``code`` is text (``"0"``) or an integer; a float, a boolean or anything else is
    ``BadResponse``.
    """
    request = response.request
    status = response.status
    data = parsing.decode_json(response, _EX, _http_error)
    raw_code = data.get("code") if isinstance(data, dict) else None
    if raw_code is None:
        if status != 200:
            raise _http_error(response)
        raise BadResponse(
            "JSON without OKX's code envelope",
            exchange=_EX,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
        )
    if raw_code.__class__ is str:
        code: str = raw_code
    else:
        code = str(parsing.envelope_code(raw_code, response, _EX, "code"))
    response.code = code
    items = data.get("data")
    batch = request is not None and request.path in BATCH_PATHS
    if code == "0" or (batch and code in ("1", "2")):
        if code == "0" and not batch and isinstance(items, list):
            # A single-item write reports its own result; "0" with a failing item is a failure.
            for item in items:
                err = _item_error(item, response, env)
                if err is not None:
                    raise err
        if status != 200 and code == "0":
            raise _http_error(response)
        response.data = data
        return
    if isinstance(items, list):
        for item in items:
            err = _item_error(item, response, env)
            if err is not None:
                raise err
    message = data.get("msg", "")
    raise error_for_code(
        code,
        message if isinstance(message, str) else shown(message),
        env=env,
        http_status=status,
        endpoint=parsing.endpoint_of(response),
        retry_after=retry_after_seconds(response.headers),
    )


def data_list(response: Response) -> list[Any]:
    """The envelope's ``data`` list (a ``BadResponse`` if it is not one)."""
    data = response.data
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise BadResponse(
            "the response has no data list",
            exchange="okx",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items


def first(response: Response) -> dict[str, Any]:
    """The first item of ``data`` (a ``BadResponse`` if there is none)."""
    items = data_list(response)
    if not items or not isinstance(items[0], dict):
        raise BadResponse(
            "the response's data list is empty",
            exchange="okx",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items[0]


# -- instrument ids and unified symbols -----------------------------------------------------


def inst_type_of(symbol: Symbol) -> str:
    """OKX's ``instType`` of a unified symbol."""
    return INST_TYPES[symbol.kind]


def inst_id_of(symbol: Symbol) -> str:
    """OKX's instrument id of a unified symbol (BTC/USDT:USDT → BTC-USDT-SWAP)."""
    pair = f"{symbol.base}-{symbol.quote}"
    kind = symbol.kind
    if kind == "spot":
        return pair
    if kind == "swap":
        return f"{pair}-SWAP"
    if kind == "future":
        return f"{pair}-{symbol.expiry}"
    assert symbol.strike is not None
    return f"{pair}-{symbol.expiry}-{format(symbol.strike, 'f')}-{symbol.right}"


def symbol_of(inst_id: str, settle: str | None = None) -> str:
    """The unified symbol of an instrument id; ``settle`` from the instrument when known.

    Without it, OKX's naming decides: ``-USD-`` contracts are coin-margined (settled in the
    base currency), the others settle in their quote currency.
    """
    parts = inst_id.split("-")
    if len(parts) < 2 or not all(parts):
        raise BadSymbol(f"{inst_id!r} is not an OKX instrument id", exchange="okx")
    base, quote = parts[0], parts[1]
    if len(parts) == 2:
        return f"{base}/{quote}"
    coin = settle or (base if quote == "USD" else quote)
    tail = parts[2:]
    if tail == ["SWAP"]:
        return f"{base}/{quote}:{coin}"
    if len(tail) == 1:
        return f"{base}/{quote}:{coin}-{tail[0]}"
    if len(tail) == 3:
        return f"{base}/{quote}:{coin}-{tail[0]}-{tail[1]}-{tail[2]}"
    raise BadSymbol(f"{inst_id!r} is not an OKX instrument id", exchange="okx")


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
    market_type = _TYPES.get(inst_type)
    if market_type is None:
        raise BadResponse(f"unknown OKX instType {inst_type!r}", exchange="okx")
    parts = inst_id.split("-")
    family = _text(item.get("instFamily")) or _text(item.get("uly")) or "-".join(parts[:2])
    base = _text(item.get("baseCcy")) or family.split("-")[0]
    quote = _text(item.get("quoteCcy")) or family.split("-")[-1]
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
    settle = _text(item.get("settleCcy")) or (base if quote == "USD" else quote)
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


# -- account --------------------------------------------------------------------------------


def parse_balances(item: Mapping[str, Any]) -> Balances:
    """``data[0]`` of /api/v5/account/balance.

    ``total`` is the cash balance (``cashBal``, without unrealised PnL), ``used`` the frozen
    part (``frozenBal``), ``free`` the rest, so that ``free + used == total``.
    """
    balances: dict[str, Balance] = {}
    for detail in item.get("details") or []:
        currency = _text(detail.get("ccy"))
        if not currency:
            continue
        # A cash balance may be negative (borrowed); the frozen part never is.
        total = _opt(detail, "cashBal", _EX)
        if total is None:
            total = _opt(detail, "eq", _EX) or ZERO
        used = _opt_amount(detail, "frozenBal", _EX)
        if used is None:
            available = _opt(detail, "availBal", _EX)
            used = total - available if available is not None else ZERO
        balances[currency] = Balance(currency, total - used, used, total, raw=detail)
    return Balances(balances, timestamp=_ms(item.get("uTime")), raw=item)


def parse_trading_fee(market: Market, item: Mapping[str, Any]) -> TradingFee:
    """One /api/v5/account/trade-fee item; OKX gives charged fees as negative rates.

    USDT-margined contracts read ``makerU``/``takerU``, USDC-margined ``makerUSDC``/
    ``takerUSDC``, everything else ``maker``/``taker``.
    """
    suffix = ""
    if market.contract and market.linear:
        suffix = {"USDT": "U", "USDC": "USDC"}.get(market.settle or "", "")
    maker = _opt(item, f"maker{suffix}", _EX)
    taker = _opt(item, f"taker{suffix}", _EX)
    if maker is None or taker is None:
        maker, taker = _decimal(item, "maker", _EX), _decimal(item, "taker", _EX)
    return TradingFee(market.symbol, -maker, -taker, raw=item)


_PERMS = {
    # "perm" values of "Get account configuration" -> normalised scopes (trade covers every
    # product).
    "read_only": ("read",),
    "trade": ("spot_trade", "derivatives_trade", "options_trade"),
    "withdraw": ("withdraw",),
}


def parse_key_info(item: Mapping[str, Any]) -> KeyInfo:
    """``data[0]`` of /api/v5/account/config: ``perm`` is a comma set in any order."""
    perms = {p.strip() for p in (_text(item.get("perm")) or "").split(",") if p.strip()}
    scopes = {"read"}
    for perm in perms:
        scopes.update(_PERMS.get(perm, (f"okx:{perm}",)))
    ips = tuple(ip.strip() for ip in (_text(item.get("ip")) or "").split(",") if ip.strip())
    return KeyInfo(
        read_only=not (perms & {"trade", "withdraw"}),
        permissions=frozenset(scopes),
        ip_whitelist=ips,
        # OKX reports no expiry: live keys holding trade/withdraw without an IP binding expire
        # after 14 days of inactivity, which is not a date; demo keys never expire.
        expires_at=None,
        created_at=None,
        label=_text(item.get("label")) or None,
        # OKX lists the bound IPs ("" when none), so the list says it all.
        ip_restricted=bool(ips),
        raw=item,
    )


# -- orders ---------------------------------------------------------------------------------


def _side(value: Any) -> Any:
    return value if value in ("buy", "sell") else None


def _fee(item: Mapping[str, Any], name: str) -> Decimal | None:
    # OKX reports fees charged as negative numbers and rebates as positive ones.
    fee = _opt(item, name, _EX)
    return None if fee is None else -fee


def parse_order(symbol: str, item: Mapping[str, Any], *, spot: bool) -> Order:
    """One order item (details, pending, history); amounts in contracts for derivatives."""
    order_type, tif = _ORD_TYPES.get(_text(item.get("ordType")) or "", (None, None))
    status = _STATES.get(_text(item.get("state")) or "")
    amount = _opt_amount(item, "sz", _EX)
    if item.get("tgtCcy") == "quote_ccy":
        # A spot market buy sized in the quote currency: sz is money to spend, not an amount.
        amount = None
    filled = _opt_amount(item, "accFillSz", _EX)
    remaining = None
    if status is not None and status != "open":
        remaining = ZERO
    elif amount is not None and filled is not None:
        remaining = amount - filled
    # "" or "0" before any fill: none.
    average = _opt_amount(item, "avgPx", _EX) or None
    cost = filled * average if spot and filled is not None and average is not None else None
    price = _opt_amount(item, "px", _EX) if order_type == "limit" else None
    reduce_only = item.get("reduceOnly")
    return Order(
        id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        type=order_type,  # type: ignore[arg-type]
        side=_side(item.get("side")),
        status=status,
        price=price,
        amount=amount,
        filled=filled,
        remaining=remaining,
        average=average,
        time_in_force=tif,
        post_only=item.get("ordType") == "post_only",
        reduce_only=reduce_only in (True, "true") if reduce_only not in (None, "") else None,
        timestamp=_ms(item.get("cTime")),
        updated=_ms(item.get("uTime")),
        cost=cost,
        fee=_fee(item, "fee"),
        fee_currency=item.get("feeCcy") or None,
        raw=item,
    )


def parse_ack(symbol: str, item: Mapping[str, Any], **known: Any) -> Order:
    """A write's acknowledgement (``ordId``, ``clOrdId``, ``ts``) plus what the request said."""
    return Order(
        id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
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
        updated=_ms(item.get("ts")),
        raw=dict(item),
    )


def parse_fill(symbol: str, item: Mapping[str, Any]) -> Fill:
    """One /api/v5/trade/fills item (``execType`` M maker, T taker)."""
    exec_type = item.get("execType")
    return Fill(
        id=_str(item, "tradeId", _EX),
        order_id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_price(item, "fillPx", _EX),
        amount=_amount(item, "fillSz", _EX),
        fee=_fee(item, "fee"),
        fee_currency=item.get("feeCcy") or None,
        is_maker=True if exec_type == "M" else False if exec_type == "T" else None,
        timestamp=_need_ms(item, "fillTime" if item.get("fillTime") else "ts", _EX),
        raw=item,
    )


_MARGIN_MODES: dict[str, MarginMode] = {"cross": "cross", "isolated": "isolated"}


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One /api/v5/account/positions item; an empty position (pos 0) is None.

    In net mode ``pos`` is signed (negative is short); in long/short mode ``posSide`` says it.
    """
    pos = _opt(item, "pos", _EX) or ZERO
    if pos == 0:
        return None
    pos_side = item.get("posSide")
    side: Literal["long", "short"] = "long" if pos > 0 else "short"
    if pos_side in ("long", "short"):
        side = "long" if pos_side == "long" else "short"
    return Position(
        symbol=symbol,
        side=side,
        size=abs(pos),
        entry_price=_opt_amount(item, "avgPx", _EX) or None,
        mark_price=_opt_amount(item, "markPx", _EX),
        liquidation_price=_opt_amount(item, "liqPx", _EX) or None,
        unrealized_pnl=_opt(item, "upl", _EX),
        leverage=_opt_amount(item, "lever", _EX),
        timestamp=_ms(item.get("uTime")),
        margin_mode=_MARGIN_MODES.get(str(item.get("mgnMode"))),
        hedged=pos_side in ("long", "short"),
        raw=item,
    )
