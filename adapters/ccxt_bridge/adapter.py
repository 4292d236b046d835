"""``CcxtAdapter``: every operation of the interface as a flow of ccxt calls.

Each operation is a flow like the native adapters' (``exchanges/flow.py``), except that what it
yields is a ccxt call (``runner.ccxt_request``) rather than HTTP bytes. ``Exchange`` and
``AsyncExchange`` validate arguments and run the flows through the library's pipeline exactly
as for the native adapters; only the transport differs (``runner.SyncRunner`` calls ccxt,
``runner.AsyncRunner`` awaits ``ccxt.async_support``). So argument checks, retries of reads,
exactly-once order placement (``exchanges.reconcile``) and secret scrubbing are the library's,
written once.

Options of ``connect("ccxt:<id>", ...)``: ``ccxt_config`` (merged into ccxt's constructor
config, e.g. ``{"uid": ...}``), ``ccxt_options`` (merged into ccxt's ``options``, e.g.
``{"defaultType": "swap"}``) and ``ccxt_numbers`` (``"decimal"``, the default, or ``"float"``:
see ``client.build_client``). ``create_order(params=...)`` are ccxt params.

Exactly once: ``create_order`` always sends the client order id (ccxt's ``clientOrderId``
param, which each ccxt exchange maps to its own field: Bybit ``orderLinkId``, Binance
``newClientOrderId``, OKX ``clOrdId``). When ccxt fails with a network error, a timeout or an
"exchange not available" answer after the order may have left, the pipeline turns it into
``OutcomeUnknown`` and the flow looks the order up by that id: for exchanges whose ccxt
``fetchOrder`` takes a client order id (``CLIENT_ID_LOOKUP``) the exchange's answer is
authoritative and a proven-absent order is sent once more; elsewhere the open and closed order
lists are searched, a found order is returned, and an order not found there is *not* resent (a
list is no proof of absence): ``OutcomeUnknown`` with the client order id is raised instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from adapters.binance import parse as binance_parse
from adapters.ccxt_bridge import convert
from adapters.ccxt_bridge import modes as modes_api
from adapters.ccxt_bridge.base import _TERMINAL, CLIENT_ID_LOOKUP, _complete, _plain_params
from adapters.ccxt_bridge.batch import CcxtBatches
from adapters.ccxt_bridge.market_data import CcxtMarketData
from adapters.ccxt_bridge.runner import ccxt_request
from adapters.ccxt_bridge.triggers import CcxtTriggers, order_params
from exchanges import results
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef
from exchanges.capabilities import market_type
from exchanges.errors import (
    BadRequest,
    NotSupported,
    OrderNotFound,
)
from exchanges.flow import Flow
from exchanges.models import (
    Balances,
    Fill,
    KeyInfo,
    LeverageSetting,
    MarginMode,
    MarginModeSetting,
    Market,
    Order,
    Position,
    PositionModeSetting,
    TradingFee,
)
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol, parse_symbol
from exchanges.units import native_amount
from exchanges.wire import Request, Role

__all__ = ["CLIENT_ID_LOOKUP", "CcxtAdapter"]

# Exchange families that refuse a client order id they accepted before, open or closed (Bybit:
# "orderLinkId ... must be unique"): a resend need not wait for the lost request's window.
_UNIQUE_CLIENT_IDS = frozenset({"bybit"})


class CcxtAdapter(CcxtTriggers, CcxtBatches, CcxtMarketData):
    """Any ccxt exchange, by ccxt id (``connect("ccxt:kraken")``)."""

    # -- account --------------------------------------------------------------------------

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """ccxt's ``fetch_balance``, of ``market_type``'s wallet (ccxt's ``type`` parameter)."""
        self._require("fetchBalance", "The balance")
        params = {} if market_type is None else {"type": market_type}
        response = yield ccxt_request("fetch_balance", params)
        return convert.balances(response.data)

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """ccxt's ``fetch_trading_fee`` (or its ``fetch_trading_fees`` for the symbol)."""
        market = yield from self.market(symbol)
        if self._has("fetchTradingFee"):
            response = yield ccxt_request("fetch_trading_fee", market.symbol)
            return convert.trading_fee(market.symbol, response.data)
        self._require("fetchTradingFees", "Trading fees")
        response = yield ccxt_request("fetch_trading_fees")
        fees = response.data.get(market.symbol)
        if not isinstance(fees, Mapping):
            raise NotSupported(
                f"ccxt's {self.name} lists no trading fee for {market.symbol}", exchange=self.name
            )
        return convert.trading_fee(market.symbol, fees)

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """Not offered: ccxt has no unified call for an API key's permissions."""
        return self._nope("fetch_key_info", "ccxt has no unified call for a key's permissions")

    # -- orders ---------------------------------------------------------------------------

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """ccxt's ``create_order`` with our client order id, placed exactly once."""
        self._require("createOrder", "Placing orders")
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        params = self._order_params(market, args)
        yield from self.trigger_precheck(market, args)
        request = ccxt_request(
            "create_order",
            market.symbol,
            args.type,
            args.side,
            native_amount(market, args.amount, exchange=self.name),
            args.price,
            params,
            write=True,
        )
        known: dict[str, Any] = {
            "client_order_id": args.client_order_id,
            **results.requested(args),
        }
        return (
            yield from place_once(
                request,
                args.client_order_id,
                lambda: (
                    self.conditional_lookup(market, args.client_order_id)
                    if args.conditional
                    else self._placed(market, args.client_order_id)
                ),
                lambda response: self._ack(market.symbol, response.data, known),
                ids_unique=self.family in _UNIQUE_CLIENT_IDS,
            )
        )

    def _order_params(self, market: Market, args: OrderArgs) -> dict[str, Any]:
        """ccxt's params of a new order (``create_order`` and each order of a batch)."""
        params: dict[str, Any] = {"clientOrderId": args.client_order_id}
        if args.post_only:
            params["postOnly"] = True
        elif args.time_in_force is not None:
            params["timeInForce"] = args.time_in_force
        if args.good_till is not None:
            # Binance's name, which ccxt passes through (the one exchange with GTD here).
            params["goodTillDate"] = args.good_till
        if args.reduce_only:
            params["reduceOnly"] = True
        if self.family == "okx" and market.symbol in self.margin_modes:
            params["marginMode"] = self.margin_modes[market.symbol]
        if args.conditional or args.attached:
            params.update(order_params(self.family, args, spot=market.spot))  # triggers.py
        params.update(_plain_params(args.params))
        return params

    def _placed(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """After an unknown outcome: the order by client order id; None only if proven absent."""
        if self.family in CLIENT_ID_LOOKUP and self._has("fetchOrder"):
            try:
                response = yield self._fetch_by_client_id(market, client_order_id)
            except OrderNotFound:
                return None
            return self._order(market.symbol, response.data)
        found = yield from self._scan(market, None, client_order_id)
        if found is None:
            raise OrderNotFound(
                f"the order {client_order_id} is in none of {self.name}'s order lists, which "
                "does not prove it was not placed",
                exchange=self.name,
            )
        return found

    def _fetch_by_client_id(self, market: Market, client_order_id: str) -> Request:
        return ccxt_request("fetch_order", None, market.symbol, {"clientOrderId": client_order_id})

    def _listings(self) -> list[str]:
        if self._has("fetchOrders"):
            return ["fetch_orders"]
        methods = ["fetch_open_orders"] if self._has("fetchOpenOrders") else []
        if self._has("fetchCanceledAndClosedOrders"):
            methods.append("fetch_canceled_and_closed_orders")
        else:
            methods.extend(
                m
                for m, feature in (
                    ("fetch_closed_orders", "fetchClosedOrders"),
                    ("fetch_canceled_orders", "fetchCanceledOrders"),
                )
                if self._has(feature)
            )
        return methods

    def _scan(
        self, market: Market, order_id: str | None, client_order_id: str | None
    ) -> Flow[Order | None]:
        """Search the order lists for an order by id or client order id."""
        methods = self._listings()
        if not methods:
            raise NotSupported(
                f"ccxt's {self.name} can neither fetch an order nor list orders",
                exchange=self.name,
            )
        for method in methods:
            response = yield ccxt_request(method, market.symbol)
            for item in response.data:
                if (order_id is not None and str(item.get("id")) == order_id) or (
                    client_order_id is not None and item.get("clientOrderId") == client_order_id
                ):
                    return self._order(market.symbol, item)
        return None

    def _find(self, market: Market, ref: OrderRef) -> Flow[Order | None]:
        """The order of ``ref``, or None when the exchange (or its lists) do not have it."""
        authoritative = self.family in CLIENT_ID_LOOKUP
        if self._has("fetchOrder") and (ref.id is not None or authoritative):
            try:
                if ref.id is not None:
                    response = yield ccxt_request("fetch_order", ref.id, market.symbol)
                else:
                    assert ref.client_order_id is not None
                    response = yield self._fetch_by_client_id(market, ref.client_order_id)
                return self._order(market.symbol, response.data)
            except OrderNotFound:
                if authoritative:
                    return None
            except (BadRequest, NotSupported):
                # e.g. Bybit's fetchOrder wants params["acknowledged"]: the lists answer.
                pass
        return (yield from self._scan(market, ref.id, ref.client_order_id))

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """ccxt's ``fetch_order``, else a search of the open and closed order lists."""
        market = yield from self.market(ref.symbol)
        found = yield from self._find(market, ref)
        if found is None and self.family in ("binance", "okx") and not market.spot:
            # Maybe a conditional (algo) order: ccxt's trigger param (triggers.py).
            with contextlib.suppress(OrderNotFound):
                response = yield from self.conditional_fallback("fetch_order", ref, market)
                found = self._order(market.symbol, response.data)
        if found is None:
            raise OrderNotFound(
                f"{self.name} has no order {ref.id or ref.client_order_id} on {market.symbol}",
                exchange=self.name,
                endpoint="ccxt fetch_order",
            )
        return found

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """ccxt's ``edit_order``; the order is fetched first for the type and side ccxt needs."""
        self._require("editOrder", "Amending orders")
        self.capabilities.require("amend_order", market=market_type(args.ref.symbol))
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        current = yield from self.fetch_order(args.ref)
        if current.conditional and current.status == "open":
            # Known before sending: where conditional orders do not amend, say so now.
            self.capabilities.require(
                "order.amend",
                market=market_type(args.ref.symbol),
                subject=f"conditional order {current.id}",
            )
        amount = args.amount if args.amount is not None else current.amount
        price = args.price if args.price is not None else current.price
        request = ccxt_request(
            "edit_order",
            current.id,
            market.symbol,
            current.type or "limit",
            current.side,
            None if amount is None else native_amount(market, amount, exchange=self.name),
            price,
            {},
            write=True,
        )
        known = {"client_order_id": current.client_order_id, "amount": amount, "price": price}
        ref = attrs.evolve(args.ref, id=current.id)
        return (
            yield from amend_settled(
                request,
                lambda: self._find(market, ref),
                lambda order: (
                    (args.price is None or order.price == args.price)
                    and (args.amount is None or order.amount == args.amount)
                ),
                lambda response: self._ack(market.symbol, response.data, known),
            )
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """ccxt's ``cancel_order`` by id.

        By client order id alone: passed as ccxt's ``clientOrderId`` param where ccxt maps it
        (``CLIENT_ID_LOOKUP``); elsewhere (Bybit's ccxt class ignores it) the order is fetched
        first for its id.
        """
        market = yield from self.market(ref.symbol)
        self._require("cancelOrder", "Cancelling orders")
        if ref.id is None and self.family not in CLIENT_ID_LOOKUP:
            current = yield from self.fetch_order(ref)
            ref = attrs.evolve(ref, id=current.id)
        params = {} if ref.id is not None else {"clientOrderId": ref.client_order_id}
        request = ccxt_request("cancel_order", ref.id, market.symbol, params, write=True)
        known = {"id": ref.id, "client_order_id": ref.client_order_id}
        try:
            return (
                yield from cancel_settled(
                    request,
                    lambda: self._find(market, ref),
                    lambda response: self._cancelled(market.symbol, response.data, known),
                )
            )
        except OrderNotFound as missing:
            if self.family not in ("binance", "okx") or market.spot:
                raise
            # Maybe a conditional (algo) order: ccxt's trigger param (triggers.py).
            try:
                response = yield from self.conditional_fallback("cancel_order", ref, market)
            except OrderNotFound:
                raise missing from None
            return self._cancelled(market.symbol, response.data, known)

    def _cancelled(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order:
        return self._stamped(_complete(_cancel_ack(self._order(symbol, data)), known))

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """ccxt's ``cancel_all_orders`` per market; without it, each open order is cancelled.

        Without a symbol, the markets with open orders are found first: ccxt's own call
        without one covers a single market type on most exchanges (Bybit's default category,
        Binance not at all).
        """
        if symbol is None:
            cancelled: list[Order] = []
            open_orders = yield from self.fetch_open_orders(None)
            for name in sorted({o.symbol for o in open_orders}):
                cancelled.extend((yield from self.cancel_all_orders(parse_symbol(name))))
            return cancelled
        name = (yield from self.market(symbol)).symbol
        if self._has("cancelAllOrders"):
            # Read first: some exchanges answer a cancel-all with a bare success (Binance
            # USD-M's allOpenOrders), and the caller is owed the orders it cancelled.
            before = yield from self.fetch_open_orders(symbol)
            try:
                response = yield ccxt_request("cancel_all_orders", name, write=True)
            except OrderNotFound:
                # Binance answers a cancel-all with nothing open as an unknown order (-2011).
                if before:
                    raise
                return []
            data = response.data
            items = data if isinstance(data, list) else []
            acks = [
                self._stamped(_cancel_ack(self._order(name or "", item)))
                for item in items
                if isinstance(item, Mapping) and item.get("id") is not None
            ]
            if acks:
                return acks
            return [attrs.evolve(order, status="canceled") for order in before]
        cancelled = []
        for order in (yield from self.fetch_open_orders(symbol)):
            ref = OrderRef(
                parse_symbol(order.symbol), order.id, None if order.id else order.client_order_id
            )
            cancelled.append((yield from self.cancel(ref)))
        return cancelled

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """ccxt's ``fetch_open_orders``; without a symbol, once per market type listed.

        ccxt's call without a symbol lists one market type on most exchanges (Bybit's default
        category, Binance's spot), so each type the exchange lists is asked for in turn with
        ccxt's own ``type``/``subType`` parameters.
        """
        name = yield from self._scope(symbol)
        self._require("fetchOpenOrders", "Listing open orders")
        scopes: list[dict[str, str]] = [{}] if name is not None else self._market_scopes()
        found: dict[str, Order] = {}
        for params in scopes:
            response = yield ccxt_request("fetch_open_orders", name, None, None, params)
            for order in self._orders(name or "", response.data):
                if order.status in (None, "open"):
                    # Ids are unique per market only (Binance numbers each symbol's orders).
                    key = f"{order.symbol} {order.id or order.client_order_id or len(found)}"
                    found.setdefault(key, order)
        for order in (yield from self.open_conditional(name)):  # triggers.py
            found.setdefault(f"{order.symbol} {order.id} conditional", order)
        return list(found.values())

    def _market_scopes(self) -> list[dict[str, str]]:
        """ccxt's ``type``/``subType`` of every kind of market loaded (spot, linear swaps...)."""
        scopes: dict[tuple[str, str], dict[str, str]] = {}
        for market in self.markets.values():
            if market.spot:
                scopes[("spot", "")] = {"type": "spot"}
            elif market.type in ("swap", "future"):
                sub = "inverse" if market.inverse else "linear"
                scopes[(market.type, sub)] = {"type": market.type, "subType": sub}
        return [scopes[key] for key in sorted(scopes)]

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """Closed, cancelled, rejected and expired orders, newest first, finished conditional
        orders included (where they live apart: ``closed_conditional``)."""
        name = yield from self._scope(symbol)
        if self._has("fetchCanceledAndClosedOrders"):
            methods = ["fetch_canceled_and_closed_orders"]
        else:
            self._require("fetchClosedOrders", "Listing closed orders")
            methods = ["fetch_closed_orders"]
            if self._has("fetchCanceledOrders"):
                methods.append("fetch_canceled_orders")
        found: dict[str, Order] = {}
        for method in methods:
            response = yield ccxt_request(method, name, since, limit)
            for order in self._orders(name or "", response.data):
                if order.status in _TERMINAL:
                    found.setdefault(order.id or order.client_order_id or str(len(found)), order)
        for order in (yield from self.closed_conditional(name, since, limit)):  # triggers.py
            if order.status in _TERMINAL:
                found.setdefault(f"{order.id} conditional", order)
        closed = sorted(found.values(), key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """ccxt's ``fetch_my_trades``, newest first."""
        name = yield from self._scope(symbol)
        self._require("fetchMyTrades", "The account's trades")
        response = yield ccxt_request("fetch_my_trades", name, since, limit)
        fills = [self._unified(convert.fill(self._symbol(i, name or ""), i)) for i in response.data]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """ccxt's ``fetch_positions``, non-empty positions only."""
        names = None
        yield from self.load_markets()
        if symbols:
            names = []
            for symbol in symbols:
                names.append((yield from self.market(symbol)).symbol)
        self._require("fetchPositions", "Positions")
        response = yield ccxt_request("fetch_positions", names)
        positions = []
        for item in response.data:
            position = convert.position(self._symbol(item, ""), item)
            if position is not None:
                positions.append(self._unified(self._with_leverage(position, item)))
        return (yield from modes_api.with_margin_modes(self, positions))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """ccxt's ``set_margin_mode`` (Bybit: the whole account; ``modes.py``)."""
        return modes_api.set_margin_mode(self, mode, symbol)

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """ccxt's ``set_position_mode`` (``modes.py``)."""
        return modes_api.set_position_mode(self, hedged, symbol)

    def _with_leverage(self, position: Position, item: Mapping[str, Any]) -> Position:
        """Binance USD-M's positionRisk v3 has no ``leverage`` (ccxt then reports none): it is
        derived from the raw item as the native adapter does (|notional| / initial margin)."""
        info = item.get("info")
        if position.leverage is not None or self.family != "binance" or not isinstance(info, dict):
            return position
        native = binance_parse.parse_position(position.symbol, info)
        if native is None or native.leverage is None:
            return position
        return attrs.evolve(position, leverage=native.leverage)

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """ccxt's ``set_leverage`` (contracts only; OKX: cross margin, ccxt's default).

        The value already in force succeeds: Bybit's 110043 ("not modified") included.
        """
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        self._require("setLeverage", "Setting the leverage")
        # ccxt takes a number and checks it as one (Binance 1-125): an int when whole, else a
        # float, which ccxt writes back as the same short decimal (2.5 -> "2.5").
        number: int | float = (
            int(leverage) if leverage == leverage.to_integral_value() else float(leverage)
        )
        raw: Any
        try:
            response = yield ccxt_request("set_leverage", number, market.symbol)
            raw = response.data
        except BadRequest as err:
            if self.family != "bybit" or str(err.code) != "110043":
                raise
            raw = {"retCode": 110043, "retMsg": err.message}
        return LeverageSetting(symbol=market.symbol, leverage=leverage, raw=raw)


def _cancel_ack(order: Order) -> Order:
    """A cancel answer's own client id names the cancel request on some exchanges (Binance)."""
    raw = order.raw.get("info") if isinstance(order.raw, Mapping) else None
    original = raw.get("origClientOrderId") if isinstance(raw, Mapping) else None
    return attrs.evolve(order, client_order_id=str(original)) if original else order
