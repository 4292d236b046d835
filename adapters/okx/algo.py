"""OKX algo orders: trigger orders, TP/SL attached to an order, a position's TP/SL.

Conditional orders are algo orders ("Place algo order",
https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order):
``POST /api/v5/trade/order-algo`` with ``ordType`` ``trigger`` (``triggerPx``, ``orderPx`` -1 for
market, ``triggerPxType`` last, index or mark; spot: last only), with an ``algoId`` and
``algoClOrdId`` of their own. They are listed by ``GET /api/v5/trade/orders-algo-pending`` (one
``ordType`` per call, or ``conditional,oco``), not by ``orders-pending``, read with ``GET
/api/v5/trade/order-algo`` and cancelled with ``POST /api/v5/trade/cancel-algos``. So the adapter
lists both kinds in ``fetch_open_orders`` and, given an id that the order endpoints do not know
(51400, 51603), tries it as an algo id (client ids as ``algoClOrdId``).

OKX takes no direction: a trigger order fires when the price reaches ``triggerPx`` from wherever
it is. To honour ``trigger_direction`` as Bybit (110092) and Binance (-2021) do, the adapter reads
the watched price first (``/market/ticker`` last, ``/public/mark-price`` markPx,
``/market/index-tickers`` idxPx) and refuses a trigger already reached with ``InvalidOrder``
before anything is placed; the price can still move between that read and the placement.

TP/SL on an order ride in ``attachAlgoOrds`` (one entry: ``tpTriggerPx``/``tpOrdPx`` -1 for
market/``tpTriggerPxType``, the same for ``sl``) of ``/api/v5/trade/order`` or of a trigger
order; a top-level ``tpTriggerPx`` is refused with 54070 ("Place order",
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order). Once the order fills
they become one algo order (``oco`` for both) of the filled amount. A position's TP/SL
(``set_trading_stop``) is one ``conditional`` or ``oco`` algo order with ``closeFraction=1``
(``reduceOnly`` in net mode; OKX allows one per position, 51088): setting a stop again cancels it
and places one with the new leg and the other leg kept. An oco order is one order here: its
``stop_loss`` and ``take_profit`` are its two legs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from adapters.okx import parse, prices
from exchanges.arguments import OrderRef
from exchanges.decimals import to_wire
from exchanges.errors import NotSupported, OrderNotFound
from exchanges.models import Order, OrderStatus, StopSpec, TradingStop, TriggerBy
from exchanges.preflight import check_trigger_ahead
from exchanges.reconcile import place_once
from exchanges.units import native_amount

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.arguments import AmendArgs, OrderArgs, TradingStopArgs
    from exchanges.flow import Flow
    from exchanges.models import Market

__all__ = [
    "ALGO_TYPES",
    "RESERVED",
    "amend",
    "attach_fields",
    "cancel",
    "create",
    "fetch",
    "lookup",
    "open_rows",
    "parse_algo",
    "set_trading_stop",
]

ALGO_PATH = "/api/v5/trade/order-algo"
#: One orders-algo-pending call per entry (the endpoint takes one ordType, or these two).
ALGO_TYPES = ("trigger", "conditional,oco", "move_order_stop")
_STATES: dict[str, OrderStatus] = {
    "live": "open",
    "pause": "open",
    "partially_effective": "open",
    "effective": "closed",
    "canceled": "canceled",
    "order_failed": "rejected",
    "partially_failed": "rejected",
}
_BY: dict[str, TriggerBy] = {"last": "last", "mark": "mark", "index": "index"}

#: The native parameters the conditional arguments set (``params`` may not replace them).
RESERVED: dict[str, str] = {
    "triggerPx": "trigger_price",
    "orderPx": "trigger_price",
    "triggerPxType": "trigger_by",
    "algoClOrdId": "client_order_id",
    "attachAlgoOrds": "stop_loss or take_profit",
    "tpTriggerPx": "take_profit",
    "slTriggerPx": "stop_loss",
    "closeFraction": "set_trading_stop",
    "callbackRatio": "trailing_percent",
    "callbackSpread": "trailing_amount",
    "activePx": "activation_price",
}


def _stop_fields(prefix: str, stop: StopSpec) -> dict[str, str]:
    return {
        f"{prefix}TriggerPx": to_wire(stop.trigger_price),
        f"{prefix}OrdPx": "-1" if stop.price is None else to_wire(stop.price),
        f"{prefix}TriggerPxType": stop.trigger_by,
    }


def attach_fields(args: OrderArgs) -> dict[str, Any]:
    """``attachAlgoOrds`` of an order with a stop-loss and/or take-profit."""
    entry: dict[str, str] = {}
    if args.take_profit is not None:
        entry.update(_stop_fields("tp", args.take_profit))
    if args.stop_loss is not None:
        entry.update(_stop_fields("sl", args.stop_loss))
    return {"attachAlgoOrds": [entry]} if entry else {}


def create(
    build: RequestBuilder, market: Market, args: OrderArgs, body: dict[str, Any]
) -> Flow[Order]:
    """A trigger order: the watched price checked, then ``order-algo`` placed exactly once.

    ``body`` is the regular order's (``instId``, ``tdMode``, ``side``, ``sz``, ``posSide`` ...);
    its ``ordType``/``px``/``clOrdId`` become the algo order's.
    """
    if args.trailing:
        return (yield from _trailing(build, market, args, body))
    assert args.trigger_price is not None
    check_trigger_ahead(
        args.trigger_price,
        args.trigger_direction,
        (yield from prices.price(build, market, args.trigger_by)),
        trigger_by=args.trigger_by,
        exchange="okx",
    )
    algo = {k: v for k, v in body.items() if k not in ("ordType", "px", "clOrdId", "tgtCcy")}
    algo.update(
        {
            "ordType": "trigger",
            "triggerPx": to_wire(args.trigger_price),
            "orderPx": "-1" if args.price is None else to_wire(args.price),
            "triggerPxType": args.trigger_by,
            "algoClOrdId": args.client_order_id,
        }
    )
    if market.spot and args.type == "market":
        algo["tgtCcy"] = "base_ccy"
    algo.update(attach_fields(args))
    cid = args.client_order_id
    return (
        yield from place_once(
            build.post(ALGO_PATH, algo, write=True, inst_id=market.id),
            cid,
            lambda: _lookup(build, market, {"algoClOrdId": cid}),
            lambda response: _placed(market.symbol, parse.first(response)),
        )
    )


def _trailing(
    build: RequestBuilder, market: Market, args: OrderArgs, body: dict[str, Any]
) -> Flow[Order]:
    """A trailing stop: ``move_order_stop`` with ``callbackRatio`` (a fraction: percent / 100)
    or ``callbackSpread`` (a price distance) and ``activePx``, placed exactly once."""
    algo = {k: v for k, v in body.items() if k not in ("ordType", "px", "clOrdId", "tgtCcy")}
    algo["ordType"] = "move_order_stop"
    if args.trailing_percent is not None:
        algo["callbackRatio"] = to_wire(args.trailing_percent / 100)
    else:
        assert args.trailing_amount is not None
        algo["callbackSpread"] = to_wire(args.trailing_amount)
    if args.activation_price is not None:
        algo["activePx"] = to_wire(args.activation_price)
    algo["algoClOrdId"] = args.client_order_id
    cid = args.client_order_id
    return (
        yield from place_once(
            build.post(ALGO_PATH, algo, write=True, inst_id=market.id),
            cid,
            lambda: _lookup(build, market, {"algoClOrdId": cid}),
            lambda response: _placed(market.symbol, parse.first(response)),
        )
    )


def _placed(symbol: str, item: Mapping[str, Any]) -> Order:
    return Order(
        id=item.get("algoId") or None,
        client_order_id=item.get("algoClOrdId") or None,
        symbol=symbol,
        type=None,
        side=None,
        status=None,
        price=None,
        amount=None,
        filled=None,
        remaining=None,
        average=None,
        time_in_force=None,
        post_only=None,
        reduce_only=None,
        timestamp=None,
        updated=None,
        conditional=True,
        raw=dict(item),
    )


def _lookup(build: RequestBuilder, market: Market, ids: Mapping[str, str]) -> Flow[Order | None]:
    try:
        response = yield build.get(ALGO_PATH, dict(ids), signed=True)
    except OrderNotFound:
        return None
    items = parse.data_list(response)
    return parse_algo(market.symbol, items[0]) if items else None


def _ids(ref: OrderRef) -> dict[str, str]:
    if ref.id is not None:
        return {"algoId": ref.id}
    assert ref.client_order_id is not None
    return {"algoClOrdId": ref.client_order_id}


def lookup(build: RequestBuilder, market: Market, ref: OrderRef) -> Flow[Order | None]:
    """``GET /api/v5/trade/order-algo`` by ``algoId`` or ``algoClOrdId``; None if none."""
    return (yield from _lookup(build, market, _ids(ref)))


def fetch(build: RequestBuilder, market: Market, ref: OrderRef) -> Flow[Order]:
    """``GET /api/v5/trade/order-algo`` by ``algoId`` or ``algoClOrdId`` (51603 if none)."""
    found = yield from _lookup(build, market, _ids(ref))
    if found is None:
        raise OrderNotFound(
            f"OKX has no order or algo order {ref.id or ref.client_order_id} on {market.symbol}",
            exchange="okx",
        )
    return found


def cancel(build: RequestBuilder, market: Market, ref: OrderRef) -> Flow[Order]:
    """``POST /api/v5/trade/cancel-algos`` of one algo order (cancelling is idempotent here:
    a repeat answers 51400, an ``OrderNotFound``)."""
    ids = _ids(ref)
    if "algoClOrdId" in ids:
        # cancel-algos takes algoId: read it first.
        found = yield from fetch(build, market, ref)
        ids = {"algoId": found.id or ""}
    request = build.post(
        "/api/v5/trade/cancel-algos", [{"instId": market.id, **ids}], write=True, inst_id=market.id
    )
    response = yield request
    order = _placed(market.symbol, parse.first(response))
    return attrs.evolve(order, status="canceled", remaining=Decimal(0))


def amend(build: RequestBuilder, market: Market, args: AmendArgs) -> Flow[Order]:
    """``POST /api/v5/trade/amend-algos`` of a waiting trigger order ("Amend algo order",
    https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-amend-algo-order):
    ``newSz`` (the total, in contracts for derivatives) and ``newOrdPx``; then read back.

    OKX amends a stop (conditional, oco) by its legs' trigger and order prices, and no trailing
    order at all, so those raise ``NotSupported``; ``OrderNotFound`` when no algo order has the
    id, or it no longer waits.
    """
    found = yield from fetch(build, market, args.ref)
    kind = found.raw.get("ordType") if isinstance(found.raw, Mapping) else None
    if found.status != "open":
        raise OrderNotFound(
            f"OKX algo order {found.id} is {found.status}, not waiting", exchange="okx"
        )
    if kind != "trigger":
        raise NotSupported(
            f"OKX amends a {kind} algo order's legs or nothing, not its amount or price",
            exchange="okx",
            hint="Use set_trading_stop to move a position's stops, or cancel the order and "
            "place it again.",
        )
    body: dict[str, Any] = {"instId": market.id, "algoId": found.id}
    if args.amount is not None:
        body["newSz"] = to_wire(native_amount(market, args.amount, exchange="okx"))
    if args.price is not None:
        body["newOrdPx"] = to_wire(args.price)
    yield build.post("/api/v5/trade/amend-algos", body, write=True, inst_id=market.id)
    return (yield from fetch(build, market, OrderRef(args.ref.symbol, found.id, None)))


def open_rows(build: RequestBuilder, inst_id: str | None) -> Flow[list[Any]]:
    """Every live algo order (of one instrument, or the account), one call per ``ordType``."""
    rows: list[Any] = []
    for kinds in ALGO_TYPES:
        response = yield build.get(
            "/api/v5/trade/orders-algo-pending", {"ordType": kinds, "instId": inst_id}, signed=True
        )
        rows.extend(parse.data_list(response))
    return rows


def _dec(item: Mapping[str, Any], name: str) -> Decimal | None:
    text = item.get(name)
    if text in (None, "", "-1"):
        return None
    try:
        value = Decimal(str(text))
    except ArithmeticError:
        return None
    return value if value.is_finite() else None


def _leg(item: Mapping[str, Any], prefix: str) -> StopSpec | None:
    trigger = _dec(item, f"{prefix}TriggerPx")
    if trigger is None:
        return None
    by = _BY.get(str(item.get(f"{prefix}TriggerPxType") or "last"), "last")
    return StopSpec(trigger, _dec(item, f"{prefix}OrdPx"), by)


def parse_algo(symbol: str, item: Mapping[str, Any]) -> Order:
    """One algo order (details, pending, history); ``sz`` in contracts for derivatives (the
    caller converts), none for a ``closeFraction`` order, which closes the whole position."""
    kind = str(item.get("ordType") or "")
    tp, sl = _leg(item, "tp"), _leg(item, "sl")
    attached = item.get("attachAlgoOrds")
    if kind == "trigger" and isinstance(attached, list) and attached:
        entry = attached[0] if isinstance(attached[0], Mapping) else {}
        tp, sl = _leg(entry, "tp"), _leg(entry, "sl")
    trigger = _dec(item, "triggerPx")
    by: TriggerBy | None = _BY.get(str(item.get("triggerPxType") or "last"), "last")
    limit = _dec(item, "ordPx")
    if kind in ("conditional", "oco"):
        legs = [s for s in (tp, sl) if s is not None]
        trigger = legs[0].trigger_price if len(legs) == 1 else None
        by = legs[0].trigger_by if len(legs) == 1 else None
        limit = legs[0].price if len(legs) == 1 else None
    elif kind == "move_order_stop":
        trigger, limit = _dec(item, "activePx"), None
    ratio = _dec(item, "callbackRatio")
    status = _STATES.get(str(item.get("state") or ""))
    amount = _dec(item, "sz")
    if amount is None and item.get("closeFraction"):
        amount = Decimal(0)  # the whole position
    ms = item.get("cTime")
    updated = item.get("uTime")
    return Order(
        id=item.get("algoId") or None,
        client_order_id=item.get("algoClOrdId") or None,
        symbol=symbol,
        type="market" if limit is None else "limit",
        side="buy" if item.get("side") == "buy" else "sell" if item.get("side") == "sell" else None,
        status=status,
        price=limit,
        amount=amount
        if amount is not None
        else (Decimal(0) if item.get("closeFraction") else None),
        filled=None,
        remaining=amount if status == "open" else Decimal(0) if status else None,
        average=None,
        time_in_force=None,
        post_only=False,
        reduce_only=item.get("reduceOnly") == "true" or bool(item.get("closeFraction")),
        timestamp=int(ms) if isinstance(ms, str) and ms.isdigit() else None,
        updated=int(updated) if isinstance(updated, str) and updated.isdigit() else None,
        conditional=True,
        trigger_price=trigger,
        trigger_by=by,
        stop_loss=sl,
        take_profit=tp,
        trailing_percent=ratio * 100 if ratio is not None else None,
        trailing_amount=_dec(item, "callbackSpread"),
        raw=dict(item),
    )


def set_trading_stop(
    build: RequestBuilder,
    market: Market,
    args: TradingStopArgs,
    side: str,
    hedged: bool,
    td_mode: str,
) -> Flow[TradingStop]:
    """One ``conditional``/``oco`` algo order with ``closeFraction=1`` guarding the position on
    ``side``, replacing the one there was (its other leg kept)."""
    closing = "sell" if side == "long" else "buy"
    tp, sl = args.take_profit, args.stop_loss
    for row in (yield from open_rows(build, market.id)):
        if (
            row.get("closeFraction") == "1"
            and row.get("side") == closing
            and (not hedged or row.get("posSide") == side)
        ):
            tp = tp or _leg(row, "tp")
            sl = sl or _leg(row, "sl")
            cancelled = build.post(
                "/api/v5/trade/cancel-algos",
                [{"instId": market.id, "algoId": row.get("algoId")}],
                write=False,
                inst_id=market.id,
            )
            with contextlib.suppress(OrderNotFound):  # it triggered or went meanwhile
                yield cancelled
    body: dict[str, Any] = {
        "instId": market.id,
        "tdMode": td_mode,
        "side": closing,
        "ordType": "oco" if tp is not None and sl is not None else "conditional",
        "closeFraction": "1",
    }
    if hedged:
        body["posSide"] = side
    else:
        body["reduceOnly"] = True
    for prefix, stop in (("tp", tp), ("sl", sl)):
        if stop is not None:
            body.update(_stop_fields(prefix, stop))
    # One full-close order per position: a resend after a lost answer is refused (51088).
    response = yield build.post(ALGO_PATH, body, write=False, inst_id=market.id)
    return TradingStop(
        symbol=market.symbol,
        side="long" if side == "long" else "short",
        stop_loss=args.stop_loss,
        take_profit=args.take_profit,
        raw=response.data,
    )
