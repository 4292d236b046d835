"""The OKX adapter's orders: placing, amending, cancelling, looking up and listing, and fills.

Conditional orders are algo orders (``algo.py``); batches are ``batch.py``'s.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from adapters.okx import algo as algo_api
from adapters.okx import algo_history, parse
from adapters.okx.base import MAX_PAGES, OkxBase, unified_order
from adapters.okx.batch import OkxBatches
from adapters.okx.errors import item_errors
from exchanges import results
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef
from exchanges.decimals import ZERO, to_wire
from exchanges.errors import BadRequest, BadResponse, ExchangeError, OrderNotFound, OutcomeUnknown
from exchanges.flow import Flow
from exchanges.models import Fill, Market, Order
from exchanges.reconcile import place_once
from exchanges.symbols import Symbol, parse_symbol
from exchanges.units import native_amount, unified

__all__ = ["CLIENT_ORDER_ID", "OkxOrders"]

#: OKX's clOrdId: up to 32 letters and digits (stricter than the interface's 36 of [A-Za-z0-9_-]).
CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")

_ALL_TYPES = ("SPOT", "SWAP", "FUTURES", "OPTION")
_PAGE = 100  # orders-pending, orders-history, fills
_BATCH = 20  # cancel-batch-orders
_CLOSED = ("closed", "canceled", "rejected", "expired")


class OkxOrders(OkxBatches, OkxBase):
    """Regular and algo orders over ``/api/v5/trade``, with the batch hooks of ``batch.py``."""

    @staticmethod
    def _ids(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            return {"ordId": ref.id}
        assert ref.client_order_id is not None
        return {"clOrdId": ref.client_order_id}

    def _check_client_id(self, cid: str | None) -> None:
        if cid is not None and not CLIENT_ORDER_ID.match(cid):
            raise BadRequest(
                f"OKX's clOrdId allows up to 32 letters and digits, not {cid!r}",
                exchange=self.name,
                hint="Use letters and digits only (uuid4().hex works), or omit client_order_id "
                "to get a generated one.",
            )

    @staticmethod
    def _ord_type(args: OrderArgs) -> str:
        if args.type == "market":
            return "market"
        if args.post_only:
            return "post_only"
        return {"IOC": "ioc", "FOK": "fok"}.get(args.time_in_force or "GTC", "limit")

    @staticmethod
    def _time_in_force(args: OrderArgs) -> str:
        # OKX's market orders never rest (they report as IOC); post-only is its own ordType.
        if args.type == "market":
            return "IOC"
        return "PO" if args.post_only else args.time_in_force or "GTC"

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``/api/v5/trade/order`` with a ``clOrdId`` always set, placed exactly once.

        When the outcome is unknown (lost response, 5xx, 50004, 51149) the order is looked up
        by ``clOrdId``; it is resent once only if OKX provably does not have it (51603), and a
        51016 after that resend means the first attempt had landed.
        """
        self._check_client_id(args.client_order_id)
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        # The plain order's fields, as each order of a batch has them (batch.py).
        body = self._order_body(market, args)
        if args.attached and not args.conditional:
            body.update(algo_api.attach_fields(args))
        body.update(args.params)
        if args.conditional:
            # An algo order (algo.py); attached TP/SL ride on it.
            order = yield from algo_api.create(self.build, market, args, body)
            return unified_order(order, market)
        known = results.requested(args, time_in_force=self._time_in_force(args))
        request = self.build.place_order(body, market.id)
        cid = args.client_order_id
        return (
            yield from place_once(
                request,
                cid,
                lambda: self._by_client_id(market, cid),
                lambda response: parse.parse_ack(market.symbol, parse.first(response), **known),
            )
        )

    def _by_client_id(self, market: Market, cid: str) -> Flow[Order | None]:
        """The order with this clOrdId, or None when OKX says it does not exist (51603)."""
        try:
            response = yield self.build.order(market.id, {"clOrdId": cid})
        except OrderNotFound:
            return None
        items = parse.data_list(response)
        if not items:
            return None
        return unified_order(parse.parse_order(market.symbol, items[0], spot=market.spot), market)

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """``/api/v5/trade/order`` by id or client order id, open or closed (51603 if absent)."""
        self._check_client_id(ref.client_order_id)
        market = yield from self.market(ref.symbol)
        try:
            response = yield self.build.order(market.id, self._ids(ref))
        except OrderNotFound as missing:
            # Not an order: maybe an algo (conditional) order (algo.py).
            found = yield from algo_api.lookup(self.build, market, ref)
            if found is None:
                raise missing from None
            return unified_order(found, market)
        order = parse.parse_order(market.symbol, parse.first(response), spot=market.spot)
        return unified_order(order, market)

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """``/api/v5/trade/amend-order`` (``newSz`` is the total amount, filled part included).

        When the outcome is unknown the order is fetched: if it shows the new values the
        amendment is confirmed, otherwise the ``OutcomeUnknown`` stands.
        """
        self._check_client_id(args.ref.client_order_id)
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        body: dict[str, Any] = {"instId": market.id, **self._ids(args.ref)}
        if args.amount is not None:
            body["newSz"] = to_wire(native_amount(market, args.amount, exchange=self.name))
        if args.price is not None:
            body["newPx"] = to_wire(args.price)
        try:
            response = yield self.build.amend_order(body, market.id)
        except OrderNotFound as missing:
            # Not an order: maybe a waiting trigger (algo) order, amended on its own path.
            try:
                amended = yield from algo_api.amend(self.build, market, args)
            except OrderNotFound:
                raise missing from None
            return unified_order(amended, market)
        except OutcomeUnknown as unknown:
            current = yield from self._settle(args.ref, unknown)
            if (args.price is None or current.price == args.price) and (
                args.amount is None or current.amount == args.amount
            ):
                return current
            raise
        return parse.parse_ack(
            market.symbol, parse.first(response), price=args.price, amount=args.amount
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``/api/v5/trade/cancel-order``; an unknown outcome is settled by fetching the order."""
        self._check_client_id(ref.client_order_id)
        market = yield from self.market(ref.symbol)
        body = {"instId": market.id, **self._ids(ref)}
        try:
            response = yield self.build.cancel_order(body, market.id)
        except OrderNotFound as missing:
            # Not an order: maybe an algo (conditional) order (algo.py).
            try:
                cancelled = yield from algo_api.cancel(self.build, market, ref)
            except OrderNotFound:
                raise missing from None
            return unified_order(cancelled, market)
        except OutcomeUnknown as unknown:
            current = yield from self._settle(ref, unknown)
            if current.status == "canceled":
                return current
            raise
        return parse.parse_ack(market.symbol, parse.first(response), status="canceled")

    def _settle(self, ref: OrderRef, unknown: OutcomeUnknown) -> Flow[Order]:
        """The order after a write whose outcome is unknown (that error if it cannot be read)."""
        try:
            return (yield from self.fetch_order(ref))
        except ExchangeError as err:
            raise unknown from err

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Batch-cancel the open orders (OKX has no cancel-all for regular orders).

        ``/api/v5/trade/cancel-batch-orders`` takes at most 20 orders; each item succeeds or
        fails on its own (``sCode``). Orders that are already gone (51400-51402: filled or
        cancelled meanwhile) are skipped; any other failed item raises its own normalised
        error after every batch was sent. A batch whose outcome is unknown is sent once more:
        cancelling is idempotent, and the orders it had cancelled come back as 51400.
        """
        listed = yield from self.fetch_open_orders(symbol)
        open_orders = [o for o in listed if not o.conditional]
        cancelled: list[Order] = []
        for order in (o for o in listed if o.conditional):
            # Algo orders cancel on their own path (algo.py), one by one.
            try:
                unified_symbol = parse_symbol(order.symbol)
                market = yield from self.market(unified_symbol)
                ref = OrderRef(unified_symbol, order.id, None)
                cancelled.append(
                    unified_order((yield from algo_api.cancel(self.build, market, ref)), market)
                )
            except OrderNotFound:
                continue
        failures: list[ExchangeError] = []
        for start in range(0, len(open_orders), _BATCH):
            chunk = open_orders[start : start + _BATCH]
            items = [{"instId": self._inst_id(o), "ordId": o.id} for o in chunk]
            request = self.build.cancel_batch(items)
            try:
                response = yield request
            except OutcomeUnknown:
                response = yield request
            rows = parse.data_list(response)
            errors = item_errors(
                rows, env=self.env, http_status=response.status, endpoint=request.endpoint
            )
            by_id = {
                str(r.get("ordId")): (r, err)
                for r, err in zip(rows, errors, strict=False)
                if isinstance(r, dict)
            }
            for order in chunk:
                result, err = by_id.get(str(order.id), (None, None))
                if result is None:
                    failures.append(
                        BadResponse(
                            f"OKX did not report on order {order.id} of the batch",
                            exchange=self.name,
                            endpoint=request.endpoint,
                        )
                    )
                elif err is None:
                    cancelled.append(
                        attrs.evolve(order, status="canceled", remaining=ZERO, raw=result)
                    )
                elif not isinstance(err, OrderNotFound):
                    err.message = f"order {order.id}: {err.message}"
                    err.args = (err.message,)
                    failures.append(err)
        if failures:
            first = failures[0]
            first.message += (
                f" ({len(cancelled)} order(s) cancelled, {len(failures)} failed; "
                "the first failure is raised)"
            )
            first.args = (first.message,)
            raise first
        return cancelled

    def _inst_id(self, order: Order) -> str:
        raw = order.raw if isinstance(order.raw, dict) else {}
        inst = raw.get("instId")
        if isinstance(inst, str) and inst:
            return inst
        market = self.markets.get(order.symbol)
        return market.id if market is not None else order.symbol

    def _pages(
        self, path: str, params: dict[str, Any], cursor_field: str, want: int | None
    ) -> Flow[list[Any]]:
        """Follow OKX's ``after`` cursor (the last item's id) until a short page or ``want``."""
        items: list[Any] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            response = yield self.build.listing(path, {**params, "after": after, "limit": _PAGE})
            page = parse.data_list(response)
            items.extend(page)
            if len(page) < _PAGE or (want is not None and len(items) >= want):
                break
            last = page[-1].get(cursor_field) if isinstance(page[-1], dict) else None
            if not last or last == after:
                break
            after = str(last)
        return items

    def _scopes(self, symbol: Symbol | None, types: tuple[str, ...]) -> Flow[list[dict[str, Any]]]:
        """The listing scopes: one market, or each instrument type (or one call for all)."""
        if symbol is None:
            return [{"instType": t} for t in types] if types else [{}]
        market = yield from self.market(symbol)
        return [{"instType": market.category or parse.inst_type_of(symbol), "instId": market.id}]

    def _orders(self, items: list[Any]) -> Flow[list[Order]]:
        orders = []
        for item in items:
            market = yield from self._market_of(item)
            symbol = self._symbol(item.get("instId"))
            order = parse.parse_order(symbol, item, spot=item.get("instType") == "SPOT")
            orders.append(order if market is None else unified_order(order, market))
        return orders

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/api/v5/trade/orders-pending``, every page, of one market or the whole account."""
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, ())):
            items.extend(
                (yield from self._pages("/api/v5/trade/orders-pending", scope, "ordId", None))
            )
        orders = [o for o in (yield from self._orders(items)) if o.status == "open"]
        # Conditional orders are algo orders, listed apart (algo.py).
        inst_id = None if symbol is None else (yield from self.market(symbol)).id
        for row in (yield from algo_api.open_rows(self.build, inst_id)):
            market = yield from self._market_of(row)
            order = algo_api.parse_algo(self._symbol(row.get("instId")), row)
            orders.append(order if market is None else unified_order(order, market))
        return orders

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``/api/v5/trade/orders-history`` (last 7 days; ``instType`` is required), newest first,
        with the finished algo (conditional) orders of ``orders-algo-history`` (last 3 months;
        algo_history.py).

        OKX keeps unfilled cancelled orders in this history for 2 hours only ("Get order history
        (last 7 days)":
        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-history-last-7-days).
        """
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, _ALL_TYPES)):
            params = {**scope, "begin": since}
            items.extend(
                (yield from self._pages("/api/v5/trade/orders-history", params, "ordId", limit))
            )
        closed = [o for o in (yield from self._orders(items)) if o.status in _CLOSED]
        inst_id = None if symbol is None else (yield from self.market(symbol)).id
        for row in (yield from algo_history.history_rows(self.build, inst_id, since, limit)):
            market = yield from self._market_of(row)
            order = algo_api.parse_algo(self._symbol(row.get("instId")), row)
            closed.append(order if market is None else unified_order(order, market))
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """``/api/v5/trade/fills`` (last 3 days), newest first.

        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-transaction-details-last-3-days
        """
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, ())):
            params = {**scope, "begin": since}
            items.extend((yield from self._pages("/api/v5/trade/fills", params, "billId", limit)))
        fills = []
        for item in items:
            market = yield from self._market_of(item)
            fill = parse.parse_fill(self._symbol(item.get("instId")), item)
            fills.append(fill if market is None else unified(fill, market))
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills
