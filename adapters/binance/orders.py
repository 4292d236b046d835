"""The Binance adapter's orders: placing exactly once, amending, cancelling, looking up and
listing, and fills.

Conditional orders are USD-M algo orders (``algo.py``) and spot orders of a stop type
(``spot_stops.py``); batches are ``batch.py``'s.
"""

from __future__ import annotations

from typing import Any

import attrs

from adapters.binance import algo as algo_api
from adapters.binance import parse, spot_stops
from adapters.binance.base import BinanceBase
from adapters.binance.batch import BinanceBatches
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef
from exchanges.decimals import ZERO, to_wire
from exchanges.errors import BadRequest, OrderNotFound
from exchanges.flow import Flow
from exchanges.models import Fill, Market, Order
from exchanges.preflight import check_order
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol

__all__ = ["BinanceOrders"]

_ORDERS_MAX = 1000
_CLOSED = frozenset({"closed", "canceled", "rejected", "expired"})

_SYMBOL_NEEDED = (
    "Binance lists {what} per symbol only ({paths} require symbol): pass symbol=..., "
    "once per market you traded"
)


class BinanceOrders(BinanceBatches, BinanceBase):
    """Spot and USD-M orders, with the batch hooks of ``batch.py``."""

    # -- orders: placing, exactly once ------------------------------------------------------

    @staticmethod
    def _id_params(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            if not ref.id.isdigit():
                raise OrderNotFound(
                    f"{ref.id!r} is not a Binance order id (Binance order ids are integers)",
                    exchange="binance",
                    hint="Pass the id Binance returned, or client_order_id=...",
                )
            return {"orderId": ref.id}
        assert ref.client_order_id is not None
        return {"origClientOrderId": ref.client_order_id}

    @staticmethod
    def _order_params(group: str, market: Market, args: OrderArgs) -> dict[str, Any]:
        params: dict[str, Any] = {
            "symbol": market.id,
            "side": "BUY" if args.side == "buy" else "SELL",
        }
        if args.type == "market":
            params["type"] = "MARKET"
        elif group == "spot" and args.post_only:
            # Spot's post-only order is its own type, LIMIT_MAKER, which takes no timeInForce:
            # "New order" in
            # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints
            params["type"] = "LIMIT_MAKER"
        else:
            params["type"] = "LIMIT"
            params["timeInForce"] = "GTX" if args.post_only else args.time_in_force or "GTC"
            if args.good_till is not None:
                # "goodTillDate": ms, whole seconds kept, more than 600 s ahead ("New Order",
                # https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order).
                params["goodTillDate"] = args.good_till
        params["quantity"] = to_wire(args.amount)
        if args.price is not None:
            params["price"] = to_wire(args.price)
        if args.reduce_only:
            params["reduceOnly"] = True
        params["newClientOrderId"] = args.client_order_id
        # RESULT answers with status and fills so far instead of a bare acknowledgement.
        params["newOrderRespType"] = "RESULT"
        params.update(args.params)
        return params

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``POST .../order`` with ``newClientOrderId`` always set, placed exactly once.

        When the outcome is unknown (connection lost after sending, 5xx, ``-1006``/``-1007``)
        the order is looked up by that id; it is resent only if Binance answers ``-2013``
        (no such order), and a duplicate answer to the resend means the first one landed.
        Binance rejects a repeated ``newClientOrderId`` only while the first order is open,
        so the lookup, not the duplicate rule, is what guards a filled order.
        """
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        group = self._group(market)
        if args.conditional and group != "spot":
            # The Algo Order API (algo.py): /fapi/v1/order refuses conditional types (-4120).
            return (yield from algo_api.create(self.build, market, args))
        if args.conditional:
            # Spot stops are ordinary orders of a stop type (spot_stops.py).
            params = spot_stops.order_params(market, args)
        else:
            params = self._order_params(group, market, args)
        request = self.build.new_order(group, params)
        return (
            yield from place_once(
                request,
                args.client_order_id,
                lambda: self._query(market, {"origClientOrderId": args.client_order_id}),
                lambda response: parse.parse_order(market.symbol, response.data),
            )
        )

    def _query(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]:
        params = {"symbol": market.id, **ids}
        try:
            response = yield self.build.query_order(self._group(market), params)
        except OrderNotFound:
            return None
        return parse.parse_order(market.symbol, response.data)

    # -- orders: changing and cancelling ----------------------------------------------------

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """``GET .../order`` by id or client order id."""
        market = yield from self.market(ref.symbol)
        params = {"symbol": market.id, **self._id_params(ref)}
        try:
            response = yield self.build.query_order(self._group(market), params)
        except OrderNotFound:
            if self._group(market) != "usdm":
                raise
            # Not an order: maybe a conditional (algo) order (algo.py).
            return (yield from algo_api.fetch(self.build, market, ref))
        return parse.parse_order(market.symbol, response.data)

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """USD-M ``PUT /fapi/v1/order``; spot has no in-place amend (NotSupported, see reason).

        Binance's modify needs side, quantity and price together, so the order is read first
        for whichever was not given. The values are absolute, so after an unknown outcome the
        order is read again and the same modification resent once if it had not applied.
        """
        market = yield from self.market(args.ref.symbol)
        if self._group(market) == "spot":
            unsupported: Order = yield from self._nope("amend_order.spot")
            return unsupported
        check_order(market, args.amount, args.price, exchange=self.name)
        ids = self._id_params(args.ref)
        current = yield from self._query(market, ids)
        if current is None:
            raise OrderNotFound(
                f"Binance has no order {args.ref.id or args.ref.client_order_id} on "
                f"{market.symbol}",
                exchange=self.name,
                endpoint="GET /fapi/v1/order",
            )
        price = args.price if args.price is not None else current.price
        amount = args.amount if args.amount is not None else current.amount
        if price is None or amount is None or current.side is None:
            raise BadRequest(
                "only an open limit order can be amended",
                exchange=self.name,
                hint="Cancel a market order's remainder instead.",
            )
        params = {
            "symbol": market.id,
            **ids,
            "side": "BUY" if current.side == "buy" else "SELL",
            "quantity": to_wire(amount),
            "price": to_wire(price),
        }
        return (
            yield from amend_settled(
                self.build.modify_order(params),
                lambda: self._query(market, ids),
                lambda order: order.price == price and order.amount == amount,
                lambda response: parse.parse_order(market.symbol, response.data),
            )
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``DELETE .../order``; an unknown outcome is settled by reading the order."""
        market = yield from self.market(ref.symbol)
        ids = self._id_params(ref)
        try:
            return (
                yield from cancel_settled(
                    self.build.cancel_order(self._group(market), {"symbol": market.id, **ids}),
                    lambda: self._query(market, ids),
                    lambda response: parse.parse_order(market.symbol, response.data),
                )
            )
        except OrderNotFound:
            if self._group(market) != "usdm":
                raise
        # Not an order: maybe a conditional (algo) order, cancelled on its own path (algo.py).
        return (yield from algo_api.cancel(self.build, market, ref))

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Per symbol: spot ``DELETE /api/v3/openOrders``, USD-M ``/fapi/v1/allOpenOrders``.

        Without a symbol, every market with open orders. USD-M answers only ``{"code": 200}``,
        so the orders listed just before are reported as cancelled.
        """
        if symbol is not None:
            markets = [(yield from self.market(symbol))]
        else:
            opened = yield from self.fetch_open_orders(None)
            markets = [self.markets[s] for s in sorted({o.symbol for o in opened})]
        cancelled: list[Order] = []
        for market in markets:
            group = self._group(market)
            if group == "usdm":
                algos = yield from algo_api.open_orders(self.build, market.id)
                if algos:
                    yield algo_api.cancel_open(self.build, market.id)
                    cancelled.extend(
                        attrs.evolve(algo_api.parse_algo(market.symbol, row), status="canceled")
                        for row in algos
                    )
                listed = yield from self._open_of("usdm", market.id)
                if listed:
                    yield self.build.cancel_open_orders("usdm", market.id)
                    cancelled.extend(
                        attrs.evolve(o, status="canceled", remaining=ZERO) for o in listed
                    )
                continue
            try:
                response = yield self.build.cancel_open_orders("spot", market.id)
            except OrderNotFound:
                continue  # Binance answers -2011 "Unknown order sent." when none are open
            for item in response.data if isinstance(response.data, list) else []:
                if isinstance(item, dict) and "orderId" in item:
                    cancelled.append(parse.parse_order(market.symbol, item))
        return cancelled

    # -- orders: lists ----------------------------------------------------------------------

    def _open_of(self, group: str, native: str | None) -> Flow[list[Order]]:
        response = yield self.build.open_orders(group, native)
        rows = response.data if isinstance(response.data, list) else []
        return [parse.parse_order(self._symbol(group, i.get("symbol")), i) for i in rows]

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``openOrders`` of one market, or of all spot and USD-M markets, newest first."""
        orders: list[Order] = []
        if symbol is not None:
            market = yield from self.market(symbol)
            orders = yield from self._open_of(self._group(market), market.id)
            native: str | None = market.id if self._group(market) == "usdm" else None
        else:
            yield from self._ensure(self.market_groups())
            for group in self.market_groups():
                orders.extend((yield from self._open_of(group, None)))
            native = None
        if symbol is None or native is not None:
            # Conditional orders are algo orders, listed apart (algo.py).
            for row in (yield from algo_api.open_orders(self.build, native)):
                name = self._symbol("usdm", row.get("symbol"))
                orders.append(algo_api.parse_algo(name, row))
        orders.sort(key=lambda o: o.timestamp or 0, reverse=True)
        return orders

    def _need_symbol(self, symbol: Symbol | None, what: str, paths: str) -> None:
        if symbol is None:
            raise BadRequest(
                f"Binance needs a symbol to list {what}",
                exchange=self.name,
                hint=_SYMBOL_NEEDED.format(what=what, paths=paths),
            )

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``allOrders`` of one symbol (Binance has no account-wide history), newest first; on
        USD-M with ``allAlgoOrders``, the conditional orders, listed apart (algo.py).

        A triggered conditional order is listed ``closed`` as ``fetch_order`` reports it, and
        the order it placed (``actualOrderId``) as an ordinary order of its own. Both endpoints
        take the same window (under 7 days from ``since``, else the last 7).
        """
        self._need_symbol(symbol, "orders", "/api/v3/allOrders and /fapi/v1/allOrders")
        assert symbol is not None
        market = yield from self.market(symbol)
        group = self._group(market)
        response = yield self.build.all_orders(group, market.id, since, _ORDERS_MAX)
        rows = response.data if isinstance(response.data, list) else []
        orders = [parse.parse_order(market.symbol, item) for item in rows]
        if group == "usdm":
            algos = yield from algo_api.history(self.build, market.id, since, _ORDERS_MAX)
            orders.extend(algo_api.parse_algo(market.symbol, row) for row in algos)
        closed = [o for o in orders if o.status in _CLOSED]
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """Spot ``myTrades`` or USD-M ``userTrades`` of one symbol, newest first."""
        self._need_symbol(symbol, "fills", "/api/v3/myTrades and /fapi/v1/userTrades")
        assert symbol is not None
        market = yield from self.market(symbol)
        asked = None if limit is None else min(limit, _ORDERS_MAX)
        response = yield self.build.my_trades(self._group(market), market.id, since, asked)
        rows = response.data if isinstance(response.data, list) else []
        fills = [parse.parse_fill(market.symbol, item) for item in rows]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills
