"""Binance USD-M conditional orders: the Algo Order API, and position stops built on it.

Since 2025-12-09 ``STOP``, ``TAKE_PROFIT``, ``STOP_MARKET``, ``TAKE_PROFIT_MARKET`` and
``TRAILING_STOP_MARKET`` are placed only with ``POST /fapi/v1/algoOrder`` (``algoType``
CONDITIONAL); ``/fapi/v1/order`` answers them -4120 ("Change Log",
https://developers.binance.com/docs/derivatives/change-log, 2025-11-06; "New Algo Order",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order).
They have an ``algoId`` of their own, are listed by ``GET /fapi/v1/openAlgoOrders`` (not by
``openOrders``) and, finished too, by ``GET /fapi/v1/allAlgoOrders`` (not by ``allOrders``),
read with ``GET /fapi/v1/algoOrder`` and cancelled with ``DELETE /fapi/v1/algoOrder``. So the
adapter lists both kinds in ``fetch_open_orders`` and ``fetch_closed_orders`` and, given an id
that ``/fapi/v1/order`` does not know (-2013/-2011), tries it as an algo id (client ids as
``clientAlgoId``).

The type follows the direction: a buy that triggers as the price rises, or a sell as it falls,
is a STOP (STOP buys trigger at or above the trigger price, sells at or below); the other two
are TAKE_PROFIT; ``_MARKET`` without a price. ``workingType`` CONTRACT_PRICE is the last price,
MARK_PRICE the mark; Binance has no index trigger. A trigger already crossed is -2021.

Binance has no stop-loss or take-profit attached to an order (ccxt's Binance says the same).
A position's stops (``set_trading_stop``) are STOP_MARKET and TAKE_PROFIT_MARKET algo orders
with ``closePosition=true``, which close whatever the position holds when they trigger; setting
one again cancels the previous one of its kind first. Statuses: NEW waits, TRIGGERED and
FINISHED have placed their order (``actualOrderId``), CANCELED, EXPIRED, REJECTED.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.errors import InvalidOrder, OrderNotFound
from exchanges.models import Order, OrderStatus, TradingStop, TriggerBy
from exchanges.reconcile import place_once

if TYPE_CHECKING:
    from adapters.binance.requests import RequestBuilder
    from exchanges.arguments import OrderArgs, OrderRef, TradingStopArgs
    from exchanges.flow import Flow
    from exchanges.models import Market
    from exchanges.wire import Request, Role

__all__ = [
    "RESERVED",
    "cancel",
    "cancel_open",
    "create",
    "fetch",
    "history",
    "open_orders",
    "parse_algo",
    "set_trading_stop",
]

ALGO_PATH = "/fapi/v1/algoOrder"
_WORKING = {"last": "CONTRACT_PRICE", "mark": "MARK_PRICE"}
_WORKING_IN: dict[str, TriggerBy] = {"CONTRACT_PRICE": "last", "MARK_PRICE": "mark"}
_STATUS: dict[str, OrderStatus] = {
    "NEW": "open",
    "TRIGGERING": "open",
    "TRIGGERED": "closed",
    "FINISHED": "closed",
    "CANCELED": "canceled",
    "EXPIRED": "canceled",
    "REJECTED": "rejected",
}

#: The native parameters the conditional arguments set (``params`` may not replace them).
RESERVED: dict[str, str] = {
    "algoType": "trigger_price",
    "triggerPrice": "trigger_price",
    "stopPrice": "trigger_price",
    "workingType": "trigger_by",
    "closePosition": "set_trading_stop",
    "clientAlgoId": "client_order_id",
    "activatePrice": "create_trailing_stop",
    "callbackRate": "create_trailing_stop",
}


def _call(
    build: RequestBuilder, method: str, path: str, params: Mapping[str, Any], *, write: bool
) -> Request:
    role: Role = "trade" if method != "GET" else "read"
    order = method == "POST"
    return build.call(
        "usdm", method, path, params, signed=True, write=write, role=role, order=order
    )


def algo_type(side: str, direction: str | None, limit: bool) -> str:
    """STOP when a buy triggers rising or a sell falling, else TAKE_PROFIT; ``_MARKET`` without
    a limit price."""
    stop = (side == "buy") == (direction == "rise")
    base = "STOP" if stop else "TAKE_PROFIT"
    return base if limit else f"{base}_MARKET"


def create(build: RequestBuilder, market: Market, args: OrderArgs) -> Flow[Order]:
    """``POST /fapi/v1/algoOrder`` of a conditional order, placed exactly once (a hedge-mode
    ``positionSide`` comes in ``params``, as for any order)."""
    params: dict[str, Any] = {
        "algoType": "CONDITIONAL",
        "symbol": market.id,
        "side": "BUY" if args.side == "buy" else "SELL",
        "type": "TRAILING_STOP_MARKET"
        if args.trailing
        else algo_type(args.side, args.trigger_direction, args.type == "limit"),
        "quantity": to_wire(args.amount),
    }
    if args.price is not None:
        params["price"] = to_wire(args.price)
        params["timeInForce"] = "GTX" if args.post_only else args.time_in_force or "GTC"
    if args.trailing:
        # A percentage of the price (callbackRate, 0.1-20 since 2026-10-23), from the
        # activation price when given (activatePrice on the algo endpoint).
        assert args.trailing_percent is not None
        params["callbackRate"] = to_wire(args.trailing_percent)
        if args.activation_price is not None:
            params["activatePrice"] = to_wire(args.activation_price)
    else:
        assert args.trigger_price is not None
        params["triggerPrice"] = to_wire(args.trigger_price)
        params["workingType"] = _WORKING[args.trigger_by]
    if args.reduce_only:
        params["reduceOnly"] = True
    params["clientAlgoId"] = args.client_order_id
    params.update(args.params)
    return (
        yield from place_once(
            _call(build, "POST", ALGO_PATH, params, write=True),
            args.client_order_id,
            lambda: _lookup(build, market, {"clientAlgoId": args.client_order_id}),
            lambda response: parse_algo(market.symbol, response.data),
        )
    )


def _lookup(build: RequestBuilder, market: Market, ids: Mapping[str, str]) -> Flow[Order | None]:
    try:
        response = yield _call(build, "GET", ALGO_PATH, dict(ids), write=False)
    except OrderNotFound:
        return None
    return parse_algo(market.symbol, response.data)


def _ids(ref: OrderRef) -> dict[str, str]:
    if ref.id is not None:
        return {"algoId": ref.id}
    assert ref.client_order_id is not None
    return {"clientAlgoId": ref.client_order_id}


def fetch(build: RequestBuilder, market: Market, ref: OrderRef) -> Flow[Order]:
    """``GET /fapi/v1/algoOrder`` by ``algoId`` or ``clientAlgoId``."""
    response = yield _call(build, "GET", ALGO_PATH, _ids(ref), write=False)
    return parse_algo(market.symbol, response.data)


def cancel(build: RequestBuilder, market: Market, ref: OrderRef) -> Flow[Order]:
    """``DELETE /fapi/v1/algoOrder``; its answer carries the ids only."""
    from exchanges.reconcile import cancel_settled

    ids = _ids(ref)
    return (
        yield from cancel_settled(
            _call(build, "DELETE", ALGO_PATH, ids, write=True),
            lambda: _lookup(build, market, ids),
            lambda response: _cancelled(market.symbol, response.data),
        )
    )


def _cancelled(symbol: str, data: Any) -> Order:
    data = data if isinstance(data, Mapping) else {}
    return Order(
        id=str(data["algoId"]) if data.get("algoId") is not None else None,
        client_order_id=data.get("clientAlgoId") or None,
        symbol=symbol,
        type=None,
        side=None,
        status="canceled",
        price=None,
        amount=None,
        filled=None,
        remaining=Decimal(0),
        average=None,
        time_in_force=None,
        post_only=None,
        reduce_only=None,
        timestamp=None,
        updated=None,
        conditional=True,
        raw=data,
    )


def open_orders(build: RequestBuilder, native: str | None) -> Flow[list[Any]]:
    """The rows of ``GET /fapi/v1/openAlgoOrders`` (of one symbol, or all)."""
    response = yield _call(build, "GET", "/fapi/v1/openAlgoOrders", {"symbol": native}, write=False)
    data = response.data
    rows = data.get("orders") if isinstance(data, Mapping) else data
    return list(rows) if isinstance(rows, list) else []


def history(build: RequestBuilder, native: str, since: int | None, limit: int) -> Flow[list[Any]]:
    """The rows of ``GET /fapi/v1/allAlgoOrders`` of one symbol, any status ("Query All Algo
    Orders": the symbol is required, ``limit`` at most 1000, a window under 7 days, the last 7
    without ``startTime``; cancelled ones without fills are kept 3 days, any 90)."""
    params = {"symbol": native, "startTime": since, "limit": limit}
    response = yield _call(build, "GET", "/fapi/v1/allAlgoOrders", params, write=False)
    data = response.data
    return list(data) if isinstance(data, list) else []


def cancel_open(build: RequestBuilder, native: str) -> Request:
    """``DELETE /fapi/v1/algoOpenOrders`` of one symbol (idempotent)."""
    return _call(build, "DELETE", "/fapi/v1/algoOpenOrders", {"symbol": native}, write=False)


def _dec(item: Mapping[str, Any], name: str) -> Decimal | None:
    text = item.get(name)
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def parse_algo(symbol: str, item: Any) -> Order:
    """One algo order (new-order answer, query, open list)."""
    item = item if isinstance(item, Mapping) else {}
    kind = str(item.get("orderType") or item.get("type") or "")
    status = _STATUS.get(str(item.get("algoStatus") or ""))
    amount = _dec(item, "quantity")
    close = bool(item.get("closePosition"))
    trailing = kind == "TRAILING_STOP_MARKET"
    trigger = _dec(item, "activatePrice" if trailing else "triggerPrice")
    tif = item.get("timeInForce") or None
    return Order(
        id=str(item["algoId"]) if item.get("algoId") is not None else None,
        client_order_id=item.get("clientAlgoId") or None,
        symbol=symbol,
        type="market" if kind.endswith("MARKET") else "limit" if kind else None,
        side="buy" if item.get("side") == "BUY" else "sell" if item.get("side") == "SELL" else None,
        status=status,
        price=_dec(item, "price") or None if not kind.endswith("MARKET") else None,
        amount=amount,
        filled=None,
        remaining=amount if status == "open" else Decimal(0) if status else None,
        average=None,
        time_in_force="PO" if tif == "GTX" else tif,
        post_only=tif == "GTX",
        reduce_only=bool(item.get("reduceOnly")) or close,
        timestamp=item.get("createTime") if isinstance(item.get("createTime"), int) else None,
        updated=item.get("updateTime") if isinstance(item.get("updateTime"), int) else None,
        conditional=True,
        trigger_price=trigger or None,
        trigger_by=_WORKING_IN.get(str(item.get("workingType") or "CONTRACT_PRICE"), "last"),
        trailing_percent=_dec(item, "callbackRate") if trailing else None,
        raw=item,
    )


def set_trading_stop(
    build: RequestBuilder, market: Market, args: TradingStopArgs, side: str, hedged: bool
) -> Flow[TradingStop]:
    """STOP_MARKET / TAKE_PROFIT_MARKET algo orders with ``closePosition=true`` closing the
    position on ``side``, each replacing the previous one of its kind."""
    closing = "SELL" if side == "long" else "BUY"
    position_side = ("LONG" if side == "long" else "SHORT") if hedged else None
    wanted = [
        ("STOP_MARKET", args.stop_loss),
        ("TAKE_PROFIT_MARKET", args.take_profit),
    ]
    rows = yield from open_orders(build, market.id)
    for kind, stop in wanted:
        if stop is None:
            continue
        if stop.trigger_by == "index":
            raise InvalidOrder(
                "Binance triggers on the last or the mark price only", exchange="binance"
            )
        for row in rows:
            if (
                row.get("orderType") == kind
                and row.get("closePosition")
                and row.get("side") == closing
                and (position_side is None or row.get("positionSide") == position_side)
            ):
                # One that triggered or went meanwhile is gone already.
                with contextlib.suppress(OrderNotFound):
                    yield _call(build, "DELETE", ALGO_PATH, {"algoId": row["algoId"]}, write=False)
    raw = []
    for kind, stop in wanted:
        if stop is None:
            continue
        params: dict[str, Any] = {
            "algoType": "CONDITIONAL",
            "symbol": market.id,
            "side": closing,
            "type": kind,
            "triggerPrice": to_wire(stop.trigger_price),
            "workingType": _WORKING[stop.trigger_by],
            "closePosition": True,
        }
        if position_side is not None:
            params["positionSide"] = position_side
        # A second identical position stop replaces the first: a lost answer may be resent.
        response = yield _call(build, "POST", ALGO_PATH, params, write=False)
        raw.append(response.data)
    return TradingStop(
        symbol=market.symbol,
        side="long" if side == "long" else "short",
        stop_loss=args.stop_loss,
        take_profit=args.take_profit,
        raw=raw,
    )
