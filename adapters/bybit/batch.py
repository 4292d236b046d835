"""Bybit v5 batches: ``/v5/order/create-batch`` and ``/v5/order/cancel-batch`` (the flows that
use them, exactly once per order, are ``exchanges.batch``'s).

"Batch Place Order" (https://bybit-exchange.github.io/docs/v5/order/batch-place) and "Batch
Cancel Order" (https://bybit-exchange.github.io/docs/v5/order/batch-cancel): one ``category``
and a ``request`` list of the single endpoint's parameters, at most 20 orders for linear,
inverse and option (20 for linear since 2025-02-20) and 10 for spot. The answer's
``result.list`` and ``retExtInfo.list`` are parallel: the i-th ``{code, msg}`` says how the
i-th order went, and the top-level ``retCode`` is 0 even when some failed (a failed order has
an empty ``orderId``). Each order of a batch counts against the batch endpoint's own limit
(10/s for contracts, 20/s spot: "Rate Limit Rules"), so a request weighs as many orders as it
holds. Demo trading offers the batch endpoints for linear and option only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.bybit import parse
from adapters.bybit.errors import item_errors
from adapters.bybit.limits import IP_KEY, route_key
from adapters.bybit.requests import json_body
from exchanges import results
from exchanges.arguments import OrderRef
from exchanges.batch import Batching
from exchanges.decimals import to_wire
from exchanges.errors import BadResponse, ExchangeError
from exchanges.symbols import parse_symbol
from exchanges.wire import Request

if TYPE_CHECKING:
    from adapters.bybit.requests import RequestBuilder
    from exchanges.arguments import OrderArgs
    from exchanges.flow import Flow
    from exchanges.models import Market, Order

__all__ = ["LIMITS", "BybitBatches", "order_fields"]

#: Orders per batch request, by category.
LIMITS: Mapping[str, int] = {"linear": 20, "inverse": 20, "option": 20, "spot": 10}
_HEADERS = {"Content-Type": "application/json"}


def order_fields(args: OrderArgs, market: Market, category: str) -> dict[str, Any]:
    """A limit or market order in ``/v5/order/create``'s words, without ``category`` and
    ``params`` (``create_order`` adds trigger fields first)."""
    body: dict[str, Any] = {
        "symbol": market.id,
        "side": "Buy" if args.side == "buy" else "Sell",
        "orderType": "Limit" if args.type == "limit" else "Market",
        "qty": to_wire(args.amount),
    }
    if args.price is not None:
        body["price"] = to_wire(args.price)
    if args.post_only:
        body["timeInForce"] = "PostOnly"
    elif args.time_in_force is not None:
        body["timeInForce"] = args.time_in_force
    if args.type == "market" and category == "spot":
        # Spot market buys count qty in the quote coin unless told otherwise.
        body["marketUnit"] = "baseCoin"
    if args.reduce_only:
        body["reduceOnly"] = True
    body["orderLinkId"] = args.client_order_id
    return body


def known_fields(args: OrderArgs) -> dict[str, Any]:
    """What the request itself says of the order (Bybit acknowledges with its ids only)."""
    return results.requested(args)


class BybitBatches(Batching):
    """The batch hooks of ``BybitAdapter`` (``exchanges.batch.Batching``)."""

    #: "orderLinkId ... must be unique" (Place Order): a late original of a resent order is
    #: refused (110072), so a lost order proven absent is placed again at once.
    client_ids_unique = True

    if TYPE_CHECKING:
        name: str
        env: str
        build: RequestBuilder

        def _find(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]: ...

        def _cancel_request(
            self, market: Market, ref: OrderRef, body: dict[str, Any]
        ) -> Flow[Order]: ...

    def batch_key(self, market: Market) -> str:
        """One category per request."""
        return market.category or "spot"

    def batch_limit(self, key: str) -> int:
        """20 orders (linear, inverse, option), 10 on spot."""
        return LIMITS[key]

    def order_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """The single order's lookup: realtime, then history, by ``orderLinkId``."""
        return self._find(market, {"orderLinkId": client_order_id})

    def cancel_limit(self, market: Market) -> int:
        """As many as a batch place takes."""
        return LIMITS[market.category or "spot"]

    def _batch_request(self, path: str, category: str, items: list[dict[str, Any]]) -> Request:
        return Request(
            "POST",
            self.build.base_url,
            path,
            body=json_body({"category": category, "request": items}),
            headers=_HEADERS,
            signed=True,
            write=True,
            role="trade",
            rate_keys=(route_key(path, category), IP_KEY),
            weight=len(items),
        )

    def create_batch(
        self, chunk: list[tuple[Market, OrderArgs]]
    ) -> Flow[list[Order | ExchangeError]]:
        """``/v5/order/create-batch``: every order of one category."""
        category = chunk[0][0].category or "spot"
        items = [{**order_fields(args, market, category), **args.params} for market, args in chunk]
        request = self._batch_request("/v5/order/create-batch", category, items)
        response = yield request
        answers = _aligned(response, len(chunk), self.env, request.endpoint, self.name)
        at = parse.envelope_time(response)
        found: list[Order | ExchangeError] = []
        for (market, args), (item, err) in zip(chunk, answers, strict=True):
            if err is not None:
                found.append(err)
            else:
                found.append(parse.parse_ack_item(market.symbol, item, at, **known_fields(args)))
        return found

    def cancel_batch(self, market: Market, ids: list[str]) -> Flow[list[Order | ExchangeError]]:
        """``/v5/order/cancel-batch`` of one symbol's orders by ``orderId``."""
        category = market.category or "spot"
        items = [{"symbol": market.id, "orderId": order_id} for order_id in ids]
        request = self._batch_request("/v5/order/cancel-batch", category, items)
        response = yield request
        answers = _aligned(response, len(ids), self.env, request.endpoint, self.name)
        at = parse.envelope_time(response)
        found: list[Order | ExchangeError] = []
        for order_id, (item, err) in zip(ids, answers, strict=True):
            if err is not None:
                err.message = f"order {order_id}: {err.message}"
                err.args = (err.message,)
                found.append(err)
            else:
                found.append(parse.parse_ack_item(market.symbol, item, at, status="canceled"))
        return found

    def cancel_conditional(self, market: Market, order_id: str) -> Flow[Order] | None:
        """A spot conditional order is cancelled with ``orderFilter=StopOrder``, which
        ``cancel-batch`` does not take: ``/v5/order/cancel`` alone; contracts' batch knows them."""
        if (market.category or "spot") != "spot":
            return None
        ref = OrderRef(parse_symbol(market.symbol), order_id, None)
        body = {"category": "spot", "symbol": market.id, "orderId": order_id}
        return self._cancel_request(market, ref, {**body, "orderFilter": "StopOrder"})


def _aligned(
    response: Any, count: int, env: str, endpoint: str, exchange: str
) -> list[tuple[Mapping[str, Any], ExchangeError | None]]:
    """(``result.list`` item, its error or None) per order sent, in the order sent."""
    items = parse.result_list(response)
    errors = item_errors(response.data, env=env, endpoint=endpoint)
    if len(items) != count or len(errors) != count:
        raise BadResponse(
            f"the batch answer lists {len(items)} orders and {len(errors)} results for "
            f"{count} sent",
            exchange=exchange,
            endpoint=endpoint,
        )
    return [
        (item if isinstance(item, Mapping) else {}, err)
        for item, err in zip(items, errors, strict=True)
    ]
