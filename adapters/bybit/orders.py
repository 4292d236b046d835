"""The Bybit adapter's orders: placing exactly once, amending, cancelling, looking up and
listing, and fills.

Conditional orders and attached stops are order fields (``triggers.py``); batches are
``batch.py``'s.
"""

from __future__ import annotations

from typing import Any

from adapters.bybit import parse
from adapters.bybit import triggers as triggers_api
from adapters.bybit.base import BybitBase, category_of
from adapters.bybit.batch import BybitBatches, order_fields
from exchanges import results
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef
from exchanges.decimals import to_wire
from exchanges.errors import OrderNotFound
from exchanges.flow import Flow
from exchanges.models import Fill, Market, Order
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol
from exchanges.wire import PreEncoded, Request

__all__ = ["BybitOrders"]

_CLOSED = ("closed", "canceled", "rejected", "expired")
_TRADE_EXEC_TYPES = {"Trade", "AdlTrade", "BustTrade", "BlockTrade"}
_HISTORY_WINDOW_MS = 7 * 86_400_000


class BybitOrders(BybitBatches, BybitBase):
    """Orders of every category over ``/v5/order`` and fills, with the batch hooks of
    ``batch.py``."""

    @staticmethod
    def _id_params(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            return {"orderId": ref.id}
        assert ref.client_order_id is not None
        return {"orderLinkId": ref.client_order_id}

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``/v5/order/create`` with an ``orderLinkId`` always set, placed exactly once.

        When the outcome is unknown (timeout after sending, dropped connection, 5xx, 10016) the
        order is looked up by that id; it is resent only if it provably does not exist, and a
        110072 after the resend means the first attempt had landed.
        """
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        category = market.category or category_of(args.symbol)
        # The plain order's fields, as each order of a batch has them (batch.py).
        body: dict[str, Any] = {"category": category, **order_fields(args, market, category)}
        if args.conditional or args.attached:
            body.update(triggers_api.order_fields(args, category))
        body.update(args.params)
        request = self.build.create_order(body, category)
        known = results.requested(args)
        return (
            yield from place_once(
                request,
                args.client_order_id,
                lambda: self._find(market, {"orderLinkId": args.client_order_id}),
                lambda response: parse.parse_ack(market.symbol, response, **known),
                # "orderLinkId ... must be unique" (https://bybit-exchange.github.io/docs/v5/
                # order/create-order): a late original of a resent order is refused (110072).
                ids_unique=True,
            )
        )

    def _find(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]:
        """Look an order up in realtime, then in history."""
        category = market.category or "spot"
        params = {"category": category, "symbol": market.id, **ids}
        for path in ("/v5/order/realtime", "/v5/order/history"):
            response = yield self.build.orders(path, params, category)
            items = parse.result_list(response)
            if items:
                return parse.parse_order(market.symbol, items[0])
        return None

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """By id or client order id: realtime first, then history."""
        market = yield from self.market(ref.symbol)
        found = yield from self._find(market, self._id_params(ref))
        if found is None:
            raise OrderNotFound(
                f"Bybit has no order {ref.id or ref.client_order_id} on {market.symbol} "
                "(neither open nor in the history)",
                exchange=self.name,
                endpoint="GET /v5/order/history",
            )
        return found

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """``/v5/order/amend``; an unknown outcome is settled by looking at the order."""
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        category = market.category or "spot"
        body: dict[str, Any] = {"category": category, "symbol": market.id}
        body.update(self._id_params(args.ref))
        if args.amount is not None:
            body["qty"] = to_wire(args.amount)
        if args.price is not None:
            body["price"] = to_wire(args.price)
        request = self.build.amend_order(body, category)
        known = {"price": args.price, "amount": args.amount}
        return (
            yield from amend_settled(
                request,
                lambda: self._find(market, self._id_params(args.ref)),
                lambda order: self._amended(order, args),
                lambda response: parse.parse_ack(market.symbol, response, **known),
            )
        )

    @staticmethod
    def _amended(order: Order, args: AmendArgs) -> bool:
        return (args.price is None or order.price == args.price) and (
            args.amount is None or order.amount == args.amount
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``/v5/order/cancel``; an unknown outcome is settled by looking at the order."""
        market = yield from self.market(ref.symbol)
        category = market.category or "spot"
        body = {"category": category, "symbol": market.id, **self._id_params(ref)}
        try:
            return (yield from self._cancel_request(market, ref, body))
        except OrderNotFound:
            if category != "spot":
                raise
        # A spot conditional order is cancelled with orderFilter=StopOrder (triggers.py).
        return (yield from self._cancel_request(market, ref, {**body, "orderFilter": "StopOrder"}))

    def _cancel_request(self, market: Market, ref: OrderRef, body: dict[str, Any]) -> Flow[Order]:
        request = self.build.cancel_order(body, market.category or "spot")
        return (
            yield from cancel_settled(
                request,
                lambda: self._find(market, self._id_params(ref)),
                lambda response: parse.parse_ack(market.symbol, response),
            )
        )

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/v5/order/cancel-all`` for one market, or for every market with open orders."""
        if symbol is not None:
            markets = [(yield from self.market(symbol))]
        else:
            open_orders = yield from self.fetch_open_orders(None)
            symbols = sorted({o.symbol for o in open_orders})
            markets = [self.markets[s] for s in symbols if s in self.markets]
        cancelled: list[Order] = []
        for market in markets:
            category = market.category or "spot"
            body = {"category": category, "symbol": market.id}
            response = yield self.build.cancel_all(body, category)
            at = parse.envelope_time(response)
            for item in parse.result_list(response):
                cancelled.append(parse.parse_ack_item(market.symbol, item, at, status="canceled"))
        return cancelled

    def _list(
        self,
        path: str,
        symbol: Symbol | None,
        extra: dict[str, Any],
        want: int | None,
        page_size: int,
    ) -> Flow[list[tuple[str, Any]]]:
        """(category, item) pairs of a listing endpoint for one market or across the account."""
        if symbol is not None:
            market = yield from self.market(symbol)
            category = market.category or category_of(symbol)
            targets: list[tuple[str, dict[str, str]]] = [(category, {"symbol": market.id})]
        else:
            targets = yield from self._scan_targets()
        found: list[tuple[str, Any]] = []
        for category, scope in targets:

            def make(
                cursor: PreEncoded | None, c: str = category, s: dict[str, str] = scope
            ) -> Request:
                params = {"category": c, **s, **extra, "limit": page_size, "cursor": cursor}
                return self.build.orders(path, params, c)

            items = yield from self._pages(make, want)
            found.extend((category, item) for item in items)
        return found

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/v5/order/realtime``, all pages, for one market or across spot, linear, inverse."""
        pairs = yield from self._list("/v5/order/realtime", symbol, {}, None, 50)
        orders = [parse.parse_order(self._symbol(c, i.get("symbol")), i) for c, i in pairs]
        return [o for o in orders if o.status == "open"]

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``/v5/order/history`` (7-day window from ``since``), closed orders newest first."""
        extra: dict[str, Any] = {}
        if since is not None:
            extra = {"startTime": since, "endTime": since + _HISTORY_WINDOW_MS}
        pairs = yield from self._list("/v5/order/history", symbol, extra, limit, 50)
        orders = [parse.parse_order(self._symbol(c, i.get("symbol")), i) for c, i in pairs]
        closed = [o for o in orders if o.status in _CLOSED]
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """``/v5/execution/list`` (trades only, no funding), newest first."""
        extra: dict[str, Any] = {}
        if since is not None:
            extra = {"startTime": since, "endTime": since + _HISTORY_WINDOW_MS}
        pairs = yield from self._list("/v5/execution/list", symbol, extra, limit, 100)
        fills = [
            parse.parse_fill(self._symbol(c, i.get("symbol")), i)
            for c, i in pairs
            if i.get("execType", "Trade") in _TRADE_EXEC_TYPES
        ]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills
