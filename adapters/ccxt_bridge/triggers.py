"""Conditional orders and stops through ccxt's unified parameters (``CcxtTriggers``, a mixin of
``CcxtAdapter``).

The interface's arguments become ccxt's unified params ("Order structure" and ``createOrder``
params, https://docs.ccxt.com/#/README?id=placing-orders): ``triggerPrice`` (with Bybit's
``triggerDirection`` ascending/descending and ``triggerBy``, OKX's ``triggerPxType``; on Binance
a trigger the price must fall to for a buy, or rise to for a sell, is ccxt's
``takeProfitPrice``, since ccxt makes ``triggerPrice`` a STOP, with ``workingType``; on Binance
spot the same two make STOP_LOSS(_LIMIT) and TAKE_PROFIT(_LIMIT), ordinary orders on the last
price, without ``workingType``),
``stopLoss``/``takeProfit`` dicts (``triggerPrice``, ``type``, ``price``; OKX's
``triggerPriceType``, Bybit's ``slTriggerBy``/``tpTriggerBy``). Conditional orders that live
apart (Binance algo orders, OKX algo orders) are listed (open and finished), fetched and
cancelled with ccxt's ``trigger`` param (OKX: one ``ordType`` per call); Bybit's lists have
every kind.

Position stops (``set_trading_stop``), each exchange's own mechanism through ccxt: Bybit
``stopLossPrice``/``takeProfitPrice`` with ``tradingStopEndpoint`` (ccxt sends
``/v5/position/trading-stop``, Full mode) and ``trailingAmount``/``trailingTriggerPrice``;
Binance ``stopLossPrice``/``takeProfitPrice`` with ``closePosition`` (ccxt sends STOP_MARKET /
TAKE_PROFIT_MARKET algo orders), each replacing the one of its kind; OKX ``stopLossPrice``/
``takeProfitPrice`` with ``closeFraction`` 1 (ccxt sends one conditional/oco algo order),
replacing the one there was with its other leg kept. Like the native OKX adapter, a trigger
order on OKX is preceded by a read of the watched price, refused when already reached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.ccxt_bridge import okx_prices
from adapters.ccxt_bridge.base import CcxtBase
from adapters.ccxt_bridge.runner import ccxt_request
from exchanges.decimals import to_wire
from exchanges.errors import InvalidOrder, OrderNotFound
from exchanges.models import Order, TradingStop
from exchanges.preflight import check_trigger_ahead

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs, OrderRef, TradingStopArgs
    from exchanges.flow import Flow
    from exchanges.models import Market

__all__ = ["TRIGGER_FAMILIES", "CcxtTriggers", "order_params"]

#: The ccxt families whose conditional orders and stops the bridge maps.
TRIGGER_FAMILIES = frozenset({"bybit", "binance", "okx"})
_BYBIT_BY = {"last": "LastPrice", "mark": "MarkPrice", "index": "IndexPrice"}
_BINANCE_BY = {"last": "CONTRACT_PRICE", "mark": "MARK_PRICE"}
#: OKX lists algo orders one ordType per call (ccxt maps each to orders-algo-pending).
_OKX_ALGO_TYPES = ("trigger", "conditional", "oco", "move_order_stop")
#: OKX's algo history takes one ordType, or conditional and oco together.
_OKX_HISTORY_TYPES = ("trigger", "conditional,oco", "move_order_stop")


def _wire(value: Decimal) -> str:
    return to_wire(value)


def order_params(family: str | None, args: OrderArgs, *, spot: bool = False) -> dict[str, Any]:
    """ccxt's params of a conditional order and of attached stops (``spot``: of a spot
    market)."""
    params: dict[str, Any] = {}
    if args.trigger_price is not None:
        rising = args.trigger_direction == "rise"
        if family == "binance":
            # The same on spot, where ccxt makes them STOP_LOSS(_LIMIT)/TAKE_PROFIT(_LIMIT).
            stop_type = (args.side == "buy") == rising
            params["triggerPrice" if stop_type else "takeProfitPrice"] = _wire(args.trigger_price)
            if not spot:
                # Spot triggers on the last price and takes no workingType.
                params["workingType"] = _BINANCE_BY[args.trigger_by]
        else:
            params["triggerPrice"] = _wire(args.trigger_price)
            if family == "okx":
                params["triggerPxType"] = args.trigger_by
            else:
                params["triggerDirection"] = "ascending" if rising else "descending"
                if family == "bybit":
                    params["triggerBy"] = _BYBIT_BY[args.trigger_by]
    if args.trailing_percent is not None:
        params["trailingPercent"] = _wire(args.trailing_percent)
    if args.trailing_amount is not None:
        params["trailingAmount"] = _wire(args.trailing_amount)
    if args.activation_price is not None:
        # ccxt's trailingTriggerPrice (Binance activatePrice); OKX's own activePx.
        key = "activePx" if family == "okx" else "trailingTriggerPrice"
        params[key] = _wire(args.activation_price)
    for name, prefix, stop in (
        ("stopLoss", "sl", args.stop_loss),
        ("takeProfit", "tp", args.take_profit),
    ):
        if stop is None:
            continue
        entry: dict[str, Any] = {
            "triggerPrice": _wire(stop.trigger_price),
            "type": "market" if stop.price is None else "limit",
        }
        if stop.price is not None:
            entry["price"] = _wire(stop.price)
        if family == "okx":
            entry["triggerPriceType"] = stop.trigger_by
        elif family == "bybit":
            params[f"{prefix}TriggerBy"] = _BYBIT_BY[stop.trigger_by]
        params[name] = entry
    return params


class CcxtTriggers(CcxtBase):
    """Conditional orders and position stops of the ccxt bridge."""

    def trigger_precheck(self, market: Market, args: OrderArgs) -> Flow[None]:
        """OKX takes no trigger direction: refuse a trigger its watched price has reached."""
        if self.family != "okx" or args.trigger_price is None:
            return
        check_trigger_ahead(
            args.trigger_price,
            args.trigger_direction,
            (yield from okx_prices.price(market, args.trigger_by)),
            trigger_by=args.trigger_by,
            exchange=self.name,
        )

    def conditional_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """After an unknown outcome: a conditional order by client id (algo orders apart)."""
        params: dict[str, Any] = {"clientOrderId": client_order_id}
        if self.family in ("binance", "okx") and not market.spot:
            # Binance spot stops are ordinary orders (and OKX spot's are not mapped).
            params["trigger"] = True
        try:
            response = yield ccxt_request("fetch_order", None, market.symbol, params)
        except OrderNotFound:
            return None
        return self._order(market.symbol, response.data)

    def open_conditional(self, name: str | None) -> Flow[list[Order]]:
        """The conditional orders a plain ``fetch_open_orders`` leaves out (Binance, OKX)."""
        market = self.markets.get(name) if name is not None else None
        if market is not None and market.spot:
            # Binance spot stops are ordinary orders, listed with them; other spot
            # conditional orders are not mapped.
            return []
        if self.family == "binance":
            calls: list[dict[str, Any]] = [{"trigger": True}]
        elif self.family == "okx":
            calls = [{"trigger": True, "ordType": kind} for kind in _OKX_ALGO_TYPES]
        else:
            return []
        found: list[Order] = []
        for params in calls:
            response = yield ccxt_request("fetch_open_orders", name, None, None, params)
            found.extend(self._orders(name or "", response.data))
        return [o for o in found if o.status in (None, "open")]

    def closed_conditional(
        self, name: str | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """The finished conditional orders a plain closed list leaves out: Binance's
        ``allAlgoOrders`` (one symbol) through ccxt's ``trigger`` param; OKX's
        ``orders-algo-history``, one call per ``ordType`` group and state (triggered,
        cancelled, and ``order_failed`` through OKX's own ``state``), contracts only."""
        market = self.markets.get(name) if name is not None else None
        if market is not None and market.spot:
            return []  # the bridge maps conditional orders of contracts only
        calls: list[tuple[str, dict[str, Any]]] = []
        if self.family == "binance" and name is not None:
            calls = [("fetch_canceled_and_closed_orders", {"trigger": True})]
        elif self.family == "okx":
            scopes = [{}] if name is not None else self._contract_scopes()
            for scope in scopes:
                for kind in _OKX_HISTORY_TYPES:
                    params = {**scope, "trigger": True, "ordType": kind}
                    calls.append(("fetch_closed_orders", params))
                    calls.append(("fetch_canceled_orders", params))
                    calls.append(("fetch_closed_orders", {**params, "state": "order_failed"}))
        found: list[Order] = []
        for method, params in calls:
            response = yield ccxt_request(method, name, since, limit, params)
            found.extend(self._orders(name or "", response.data))
        return found

    def _contract_scopes(self) -> list[dict[str, Any]]:
        """ccxt's ``type`` of each kind of contract loaded (swaps, futures)."""
        kinds = sorted({m.type for m in self.markets.values() if m.type in ("swap", "future")})
        return [{"type": kind} for kind in kinds]

    def conditional_fallback(self, method: str, ref: OrderRef, market: Market) -> Flow[Any]:
        """``fetch_order``/``cancel_order`` of an id only the conditional endpoints know."""
        params: dict[str, Any] = {"trigger": True}
        if ref.id is None:
            params["clientOrderId"] = ref.client_order_id
        request = ccxt_request(method, ref.id, market.symbol, params, write=method != "fetch_order")
        return (yield request)

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """Each exchange's position stops through ccxt (see the module's text)."""
        market, position = yield from self.position_to_stop(args)
        closing = "sell" if position.side == "long" else "buy"
        params: dict[str, Any] = {}
        if position.hedged:
            if self.family == "bybit":
                params["positionIdx"] = 1 if position.side == "long" else 2
            elif self.family == "binance":
                params["positionSide"] = "LONG" if position.side == "long" else "SHORT"
            elif self.family == "okx":
                params["posSide"] = position.side
        calls: list[dict[str, Any]]
        if self.family == "bybit":
            # tpslMode is required by trading-stop; ccxt sets it only with a TP or SL.
            call: dict[str, Any] = {"tradingStopEndpoint": True, "tpslMode": "Full"}
            for key, prefix, stop in (
                ("stopLossPrice", "sl", args.stop_loss),
                ("takeProfitPrice", "tp", args.take_profit),
            ):
                if stop is not None:
                    call[key] = _wire(stop.trigger_price)
                    call[f"{prefix}TriggerBy"] = _BYBIT_BY[stop.trigger_by]
            if args.trailing_amount is not None:
                call["trailingAmount"] = _wire(args.trailing_amount)
                if args.activation_price is not None:
                    call["trailingTriggerPrice"] = _wire(args.activation_price)
            calls = [call]
        elif self.family == "binance":
            calls = yield from self._binance_stops(market, args, closing)
        else:
            calls = yield from self._okx_stops(market, args, closing, position.hedged)
        raw = []
        for call in calls:
            # Setting the same stops again changes nothing: a resend after a lost answer is safe.
            response = yield ccxt_request(
                "create_order", market.symbol, "market", closing, 0, None, {**params, **call},
                write=False,
            )  # fmt: skip
            raw.append(response.data)
        return TradingStop(
            symbol=market.symbol,
            side=position.side,
            stop_loss=args.stop_loss,
            take_profit=args.take_profit,
            trailing_amount=args.trailing_amount,
            activation_price=args.activation_price,
            raw=raw,
        )

    def _binance_stops(
        self, market: Market, args: TradingStopArgs, closing: str
    ) -> Flow[list[dict[str, Any]]]:
        calls = []
        current = yield from self.open_conditional(market.symbol)
        for key, kind, stop in (
            ("stopLossPrice", "STOP_MARKET", args.stop_loss),
            ("takeProfitPrice", "TAKE_PROFIT_MARKET", args.take_profit),
        ):
            if stop is None:
                continue
            if stop.trigger_by == "index":
                raise InvalidOrder("Binance triggers on the last or the mark price only")
            for order in current:
                info = order.raw.get("info") if isinstance(order.raw, Mapping) else None
                if (
                    isinstance(info, Mapping)
                    and info.get("closePosition") in (True, "true")
                    and info.get("orderType", info.get("type")) == kind
                    and order.side == closing
                ):
                    with contextlib.suppress(OrderNotFound):
                        yield ccxt_request(
                            "cancel_order", order.id, market.symbol, {"trigger": True}
                        )
            calls.append(
                {
                    key: _wire(stop.trigger_price),
                    "closePosition": True,
                    "workingType": _BINANCE_BY[stop.trigger_by],
                }
            )
        return calls

    def _okx_stops(
        self, market: Market, args: TradingStopArgs, closing: str, hedged: bool
    ) -> Flow[list[dict[str, Any]]]:
        sl, tp = args.stop_loss, args.take_profit
        for order in (yield from self.open_conditional(market.symbol)):
            info = order.raw.get("info") if isinstance(order.raw, Mapping) else None
            if (
                isinstance(info, Mapping)
                and info.get("closeFraction") == "1"
                and (order.side == closing)
            ):
                sl = sl or order.stop_loss
                tp = tp or order.take_profit
                with contextlib.suppress(OrderNotFound):
                    yield ccxt_request("cancel_order", order.id, market.symbol, {"trigger": True})
        call: dict[str, Any] = {"closeFraction": "1"}
        if not hedged:
            call["reduceOnly"] = True
        if sl is not None:
            call["stopLossPrice"] = _wire(sl.trigger_price)
            call["slTriggerPxType"] = sl.trigger_by
        if tp is not None:
            call["takeProfitPrice"] = _wire(tp.trigger_price)
            call["tpTriggerPxType"] = tp.trigger_by
        return [call]
