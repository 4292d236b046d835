"""OKX v5 batches: ``/api/v5/trade/batch-orders`` and ``/api/v5/trade/cancel-batch-orders`` (the
flows that use them, exactly once per order, are ``exchanges.batch``'s).

"Place multiple orders"
(https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-multiple-orders) and "Cancel
multiple orders" (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-cancel-multiple-orders):
an array of at most 20 of the single endpoint's bodies, any instruments, "placed in turn"; each
``data`` item answers for the order at its index with ``sCode``/``sMsg`` (``0``: accepted), the
top-level ``code`` being ``0`` (all accepted), ``1`` (all failed) or ``2`` (some did): the
decoder hands those to the flow (``parse.BATCH_PATHS``). More than 20 is 51111. Both count
orders, not requests, against 300 orders per 2 s (a request weighs as many orders as it holds);
placing carries the ``expTime`` header as single orders do, so a lost batch has a receive
window after which a lookup by ``clOrdId`` is final.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapters.okx import algo as algo_api
from adapters.okx import parse
from adapters.okx.errors import item_errors
from exchanges import results
from exchanges.arguments import OrderRef
from exchanges.batch import Batching
from exchanges.decimals import to_wire
from exchanges.errors import BadResponse, ExchangeError
from exchanges.symbols import parse_symbol
from exchanges.units import native_amount

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.arguments import OrderArgs
    from exchanges.flow import Flow
    from exchanges.models import MarginMode, Market, Order
    from exchanges.wire import Response

__all__ = ["LIMIT", "OkxBatches"]

#: Orders per request, placing or cancelling.
LIMIT = 20
_PLACE = "/api/v5/trade/batch-orders"


class OkxBatches(Batching):
    """The batch hooks of ``OkxAdapter`` (``exchanges.batch.Batching``)."""

    if TYPE_CHECKING:
        name: str
        env: str
        build: RequestBuilder
        _margin_modes: dict[str, MarginMode]

        def _check_client_id(self, cid: str | None) -> None: ...

        @staticmethod
        def _ord_type(args: OrderArgs) -> str: ...

        @staticmethod
        def _time_in_force(args: OrderArgs) -> str: ...

        def _by_client_id(self, market: Market, cid: str) -> Flow[Order | None]: ...

    def batch_key(self, market: Market) -> str:
        """Orders of any instruments share a request."""
        return "all"

    def batch_limit(self, key: str) -> int:
        """20 orders a request."""
        return LIMIT

    def order_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """The single order's lookup: ``GET /api/v5/trade/order`` by ``clOrdId`` (51603)."""
        return self._by_client_id(market, client_order_id)

    def cancel_limit(self, market: Market) -> int:
        """20 orders a request."""
        return LIMIT

    def _order_body(self, market: Market, args: OrderArgs) -> dict[str, Any]:
        """A limit or market order in ``/api/v5/trade/order``'s words, without ``params``
        (``create_order`` adds attached stops first)."""
        body: dict[str, Any] = {
            "instId": market.id,
            "tdMode": "cash" if market.spot else self._margin_modes.get(market.symbol, "cross"),
            "side": args.side,
            "ordType": self._ord_type(args),
            "sz": to_wire(native_amount(market, args.amount, exchange=self.name)),
        }
        if args.price is not None:
            body["px"] = to_wire(args.price)
        if args.type == "market" and market.spot:
            # Spot market buys count sz in the quote currency unless told otherwise.
            body["tgtCcy"] = "base_ccy"
        if args.reduce_only:
            body["reduceOnly"] = True
        body["clOrdId"] = args.client_order_id
        return body

    def create_batch(
        self, chunk: list[tuple[Market, OrderArgs]]
    ) -> Flow[list[Order | ExchangeError]]:
        """``/api/v5/trade/batch-orders``; an order whose client id OKX would refuse (32 letters
        and digits at most) is its item's ``BadRequest``, not sent."""
        found: list[Order | ExchangeError | None] = []
        sent: list[tuple[int, Market, OrderArgs]] = []
        for i, (market, args) in enumerate(chunk):
            try:
                self._check_client_id(args.client_order_id)
            except ExchangeError as refused:
                found.append(refused)
                continue
            found.append(None)
            sent.append((i, market, args))
        if sent:
            items = [{**self._order_body(market, args), **args.params} for _, market, args in sent]
            request = self.build.post(_PLACE, items, write=True, weight=len(items))
            response = yield request
            for (i, market, args), (item, err) in zip(
                sent, _aligned(response, len(sent), self.env, self.name), strict=True
            ):
                known = results.requested(args, time_in_force=self._time_in_force(args))
                found[i] = err or parse.parse_ack(market.symbol, item, **known)
        return [outcome for outcome in found if outcome is not None]

    def cancel_batch(self, market: Market, ids: list[str]) -> Flow[list[Order | ExchangeError]]:
        """``/api/v5/trade/cancel-batch-orders`` by ``ordId``."""
        request = self.build.cancel_batch([{"instId": market.id, "ordId": i} for i in ids])
        response = yield request
        found: list[Order | ExchangeError] = []
        for order_id, (item, err) in zip(
            ids, _aligned(response, len(ids), self.env, self.name), strict=True
        ):
            if err is not None:
                err.message = f"order {order_id}: {err.message}"
                err.args = (err.message,)
                found.append(err)
            else:
                found.append(parse.parse_ack(market.symbol, item, status="canceled"))
        return found

    def cancel_conditional(self, market: Market, order_id: str) -> Flow[Order] | None:
        """``cancel-batch-orders`` knows no algo order: ``/api/v5/trade/cancel-algos`` of this
        ``algoId`` (algo.py)."""
        return algo_api.cancel(
            self.build, market, OrderRef(parse_symbol(market.symbol), order_id, None)
        )


def _aligned(
    response: Response, count: int, env: str, exchange: str
) -> list[tuple[dict[str, Any], ExchangeError | None]]:
    """(``data`` item, its error or None) per order sent, in the order sent."""
    items = parse.data_list(response)
    endpoint = response.request.endpoint if response.request is not None else None
    if len(items) != count or not all(isinstance(item, dict) for item in items):
        raise BadResponse(
            f"the batch answer lists {len(items)} results for {count} orders sent",
            exchange=exchange,
            endpoint=endpoint,
        )
    errors = item_errors(items, env=env, http_status=response.status, endpoint=endpoint)
    return list(zip(items, errors, strict=True))
