"""OKX v5 parsers: the envelope, instrument ids ↔ unified symbols, and each item into a model.

Envelope and error rules: ../shared/reference/binance-okx.md §2.3; key configuration: §2.4.
Numbers arrive as strings and ``""`` means "none". Swaps, futures and options count amounts in
contracts (``sz``, ``accFillSz``, ``fillSz``, ``pos``) of ``ctVal`` each (``Market.contract_size``):
the models keep those contract counts, as ccxt does, and spot amounts are in the base currency.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from adapters.okx.errors import error_for_code, error_for_http, item_error, retry_after_seconds
from exchanges import parsing
from exchanges.decimals import ZERO, opt_dec
from exchanges.errors import BadResponse, BadSymbol
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    KeyInfo,
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


_need = functools.partial(parsing.need, exchange="okx")
_dec = functools.partial(parsing.need_decimal, exchange="okx")
_levels = functools.partial(parsing.levels, exchange="okx")
_ms = parsing.ms
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
BATCH_PATHS = frozenset({"/api/v5/trade/cancel-batch-orders"})

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


# -- envelope -------------------------------------------------------------------------------


def decode(response: Response, env: str) -> None:
    """Check the envelope; set ``response.data`` or raise the normalised error.

    Non-JSON bodies are classified by HTTP status. In a JSON envelope a failing item's ``sCode``
    takes precedence over ``code`` (§2.3); batch endpoints keep ``code`` "1"/"2" for the flow,
    which reports item by item.
    """
    request = response.request
    endpoint = request.endpoint if request is not None else None
    status = response.status
    retry_after = retry_after_seconds(response.headers)
    try:
        data = json.loads(response.body)
    except ValueError:
        if status == 200:
            raise BadResponse(
                f"HTTP 200 with a body that is not JSON ({len(response.body)} bytes, "
                "truncated or a proxy page)",
                exchange="okx",
                http_status=status,
                endpoint=endpoint,
            ) from None
        raise error_for_http(
            status, response.body, endpoint=endpoint, retry_after=retry_after
        ) from None
    code = data.get("code") if isinstance(data, dict) else None
    if code is None:
        if status != 200:
            raise error_for_http(status, response.body, endpoint=endpoint, retry_after=retry_after)
        raise BadResponse(
            "JSON without OKX's code envelope",
            exchange="okx",
            http_status=status,
            endpoint=endpoint,
        )
    code = str(code)
    response.code = code
    items = data.get("data")
    batch = request is not None and request.path in BATCH_PATHS
    if code == "0" or (batch and code in ("1", "2")):
        if code == "0" and not batch and isinstance(items, list):
            # A single-item write reports its own result; "0" with a failing item is a failure.
            for item in items:
                err = item_error(item, env=env, http_status=status, endpoint=endpoint)
                if err is not None:
                    raise err
        if status != 200 and code == "0":
            raise error_for_http(status, response.body, endpoint=endpoint, retry_after=retry_after)
        response.data = data
        return
    if isinstance(items, list):
        for item in items:
            err = item_error(item, env=env, http_status=status, endpoint=endpoint)
            if err is not None:
                raise err
    message = data.get("msg", "")
    raise error_for_code(
        code,
        message if isinstance(message, str) else str(message),
        env=env,
        http_status=status,
        endpoint=endpoint,
        retry_after=retry_after,
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


def parse_market(item: Mapping[str, Any]) -> Market:
    """One ``/api/v5/public/instruments`` item: unified symbol, contract size, steps, limits."""
    inst_type = str(_need(item, "instType"))
    inst_id = str(_need(item, "instId"))
    market_type = _TYPES.get(inst_type)
    if market_type is None:
        raise BadResponse(f"unknown OKX instType {inst_type!r}", exchange="okx")
    parts = inst_id.split("-")
    family = str(item.get("instFamily") or item.get("uly") or "-".join(parts[:2]))
    base = str(item.get("baseCcy") or family.split("-")[0])
    quote = str(item.get("quoteCcy") or family.split("-")[-1])
    state = item.get("state", "live")
    common: dict[str, Any] = {
        "id": inst_id,
        "type": market_type,
        "base": base,
        "quote": quote,
        "price_step": opt_dec(item.get("tickSz")),
        "amount_step": opt_dec(item.get("lotSz")),
        "min_amount": opt_dec(item.get("minSz")),
        "max_amount": opt_dec(item.get("maxLmtSz")),
        # OKX lists no minimum order value; minSz is the floor (§2.5 instruments).
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
    settle = str(item.get("settleCcy") or (base if quote == "USD" else quote))
    ct_type = item.get("ctType")
    linear = ct_type == "linear" if ct_type else settle == quote
    symbol = symbol_of(inst_id, settle)
    strike = None
    option_type: Literal["call", "put"] | None = None
    if market_type == "option":
        strike = opt_dec(item.get("stk")) or opt_dec(parts[3] if len(parts) > 3 else None)
        option_type = "call" if (item.get("optType") or parts[-1]) in ("C", "call") else "put"
    return Market(
        symbol=str(parse_symbol(symbol)),
        settle=settle,
        linear=linear,
        inverse=not linear,
        contract_size=opt_dec(item.get("ctVal")),
        expiry=_ms(item.get("expTime")),
        strike=strike,
        option_type=option_type,
        **common,
    )


# -- market data ----------------------------------------------------------------------------


def parse_ticker(market: Market, item: Mapping[str, Any]) -> Ticker:
    """One ticker item.

    ``vol24h`` counts the base currency for spot and contracts for derivatives; ``volCcy24h``
    the quote currency for spot and the base currency for derivatives (OKX's ticker fields).
    """
    vol = opt_dec(item.get("vol24h"))
    vol_ccy = opt_dec(item.get("volCcy24h"))
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
        bid=opt_dec(item.get("bidPx")),
        ask=opt_dec(item.get("askPx")),
        last=opt_dec(item.get("last")),
        high=opt_dec(item.get("high24h")),
        low=opt_dec(item.get("low24h")),
        base_volume=base_volume,
        quote_volume=quote_volume,
        bid_size=opt_dec(item.get("bidSz")),
        ask_size=opt_dec(item.get("askSz")),
        open=opt_dec(item.get("open24h")),
        mark_price=opt_dec(item.get("markPx")),
        index_price=opt_dec(item.get("idxPx")),
        raw=item,
    )


def parse_order_book(symbol: str, item: Mapping[str, Any]) -> OrderBook:
    """``data[0]`` of /api/v5/market/books: levels ``[px, sz, "0", orders]``, best first."""
    return OrderBook(
        symbol=symbol,
        timestamp=_ms(item.get("ts")),
        bids=_levels(item.get("bids")),
        asks=_levels(item.get("asks")),
        sequence=_ms(item.get("seqId")),
        raw=item,
    )


def parse_trade(symbol: str, item: Mapping[str, Any]) -> Trade:
    """One /api/v5/market/trades item; ``side`` is the taker's."""
    side = item.get("side")
    return Trade(
        id=str(_need(item, "tradeId")),
        symbol=symbol,
        timestamp=int(_need(item, "ts")),
        side=side if side in ("buy", "sell") else None,
        price=_dec(item, "px"),
        amount=_dec(item, "sz"),
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
            raise BadResponse("a candle row is not [ts, o, h, l, c, vol, …]", exchange="okx")
        try:
            volume = Decimal(row[5]) if market.spot or len(row) < 7 else Decimal(row[6])
            quote = opt_dec(row[7]) if len(row) > 7 else None
            if quote is None and market.spot and len(row) > 6:
                quote = opt_dec(row[6])
            candles.append(
                Candle(
                    timestamp=int(row[0]),
                    open=Decimal(row[1]),
                    high=Decimal(row[2]),
                    low=Decimal(row[3]),
                    close=Decimal(row[4]),
                    volume=volume,
                    quote_volume=quote,
                    raw=row,
                )
            )
        except (ValueError, TypeError, ArithmeticError):
            raise BadResponse("a candle row holds a non-number", exchange="okx") from None
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
        currency = str(detail.get("ccy") or "")
        if not currency:
            continue
        total = opt_dec(detail.get("cashBal"))
        if total is None:
            total = opt_dec(detail.get("eq")) or ZERO
        used = opt_dec(detail.get("frozenBal"))
        if used is None:
            available = opt_dec(detail.get("availBal"))
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
    maker = opt_dec(item.get(f"maker{suffix}"))
    taker = opt_dec(item.get(f"taker{suffix}"))
    if maker is None or taker is None:
        maker, taker = _dec(item, "maker"), _dec(item, "taker")
    return TradingFee(market.symbol, -maker, -taker, raw=item)


_PERMS = {
    # §2.4 perm values -> normalised scopes (brief: trade covers every product).
    "read_only": ("read",),
    "trade": ("spot_trade", "derivatives_trade", "options_trade"),
    "withdraw": ("withdraw",),
}


def parse_key_info(item: Mapping[str, Any]) -> KeyInfo:
    """``data[0]`` of /api/v5/account/config: ``perm`` is a comma set in any order (§2.4)."""
    perms = {p.strip() for p in str(item.get("perm") or "").split(",") if p.strip()}
    scopes = {"read"}
    for perm in perms:
        scopes.update(_PERMS.get(perm, (f"okx:{perm}",)))
    ips = tuple(ip.strip() for ip in str(item.get("ip") or "").split(",") if ip.strip())
    return KeyInfo(
        read_only=not (perms & {"trade", "withdraw"}),
        permissions=frozenset(scopes),
        ip_whitelist=ips,
        # OKX reports no expiry: live keys holding trade/withdraw without an IP binding expire
        # after 14 days of inactivity, which is not a date (§2.2); demo keys never expire.
        expires_at=None,
        created_at=None,
        label=str(item.get("label") or "") or None,
        # OKX lists the bound IPs ("" when none, §2.4), so the list says it all.
        ip_restricted=bool(ips),
        raw=item,
    )


# -- orders ---------------------------------------------------------------------------------


def _side(value: Any) -> Any:
    return value if value in ("buy", "sell") else None


def _fee(value: Any) -> Decimal | None:
    # OKX reports fees charged as negative numbers and rebates as positive ones.
    fee = opt_dec(value)
    return None if fee is None else -fee


def parse_order(symbol: str, item: Mapping[str, Any], *, spot: bool) -> Order:
    """One order item (details, pending, history); amounts in contracts for derivatives."""
    order_type, tif = _ORD_TYPES.get(str(item.get("ordType")), (None, None))
    status = _STATES.get(str(item.get("state")))
    amount = opt_dec(item.get("sz"))
    if item.get("tgtCcy") == "quote_ccy":
        # A spot market buy sized in the quote currency: sz is money to spend, not an amount.
        amount = None
    filled = opt_dec(item.get("accFillSz"))
    remaining = None
    if status is not None and status != "open":
        remaining = ZERO
    elif amount is not None and filled is not None:
        remaining = amount - filled
    average = opt_dec(item.get("avgPx")) or None
    cost = filled * average if spot and filled is not None and average is not None else None
    price = opt_dec(item.get("px")) if order_type == "limit" else None
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
        fee=_fee(item.get("fee")),
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
        id=str(_need(item, "tradeId")),
        order_id=item.get("ordId") or None,
        client_order_id=item.get("clOrdId") or None,
        symbol=symbol,
        side=_side(item.get("side")),
        price=_dec(item, "fillPx"),
        amount=_dec(item, "fillSz"),
        fee=_fee(item.get("fee")),
        fee_currency=item.get("feeCcy") or None,
        is_maker=True if exec_type == "M" else False if exec_type == "T" else None,
        timestamp=int(item.get("fillTime") or _need(item, "ts")),
        raw=item,
    )


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One /api/v5/account/positions item; an empty position (pos 0) is None.

    In net mode ``pos`` is signed (negative is short); in long/short mode ``posSide`` says it.
    """
    pos = opt_dec(item.get("pos")) or ZERO
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
        entry_price=opt_dec(item.get("avgPx")) or None,
        mark_price=opt_dec(item.get("markPx")),
        liquidation_price=opt_dec(item.get("liqPx")) or None,
        unrealized_pnl=opt_dec(item.get("upl")),
        leverage=opt_dec(item.get("lever")),
        timestamp=_ms(item.get("uTime")),
        raw=item,
    )
