"""Binance USD-M batches: ``POST`` and ``DELETE /fapi/v1/batchOrders`` (the flows that use them,
exactly once per order, are ``exchanges.batch``'s).

"Place Multiple Orders (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Place-Multiple-Orders):
``batchOrders`` is a JSON list of at most 5 orders, each the single order's parameters as
strings; the answer is a list in the order sent, each item the order or a ``{code, msg}``
error; the orders are processed concurrently. Conditional types are refused there (-4120: they
live in the Algo Order API, which has no batch), and a cancel batch answers an algo id -2011:
the shared flow then cancels it alone with ``DELETE /fapi/v1/algoOrder``
(``cancel_conditional``). "Cancel Multiple Orders (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Multiple-Orders):
``symbol`` and ``orderIdList``, a JSON list of at most 10 ids; each item the cancelled order or
``{code, msg}`` (-2011 for an unknown id). Spot has neither: ``create_orders`` and
``cancel_orders`` are declared not offered there (``NotSupported`` before anything is sent),
as ccxt's Binance refuses them too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.binance import algo as algo_api
from adapters.binance import parse
from adapters.binance.errors import error_for_code
from adapters.binance.requests import wire_value
from exchanges.arguments import OrderRef
from exchanges.batch import Batching
from exchanges.errors import BadResponse, ExchangeError, OrderNotFound
from exchanges.symbols import parse_symbol

if TYPE_CHECKING:
    from adapters.binance.requests import RequestBuilder
    from exchanges.arguments import OrderArgs
    from exchanges.flow import Flow
    from exchanges.models import Market, Order

__all__ = ["CANCEL_LIMIT", "PLACE_LIMIT", "BinanceBatches"]

#: Orders per ``batchOrders`` place; ids per cancel.
PLACE_LIMIT = 5
CANCEL_LIMIT = 10
_PATH = "/fapi/v1/batchOrders"


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class BinanceBatches(Batching):
    """The batch hooks of ``BinanceAdapter`` (``exchanges.batch.Batching``): USD-M only."""

    if TYPE_CHECKING:
        name: str
        env: str
        build: RequestBuilder

        def _group(self, market: Market) -> str: ...

        @staticmethod
        def _order_params(group: str, market: Market, args: OrderArgs) -> dict[str, Any]: ...

        def _query(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]: ...

    def batch_key(self, market: Market) -> str:
        """USD-M orders of any symbols share a request."""
        return self._group(market)

    def batch_limit(self, key: str) -> int:
        """5 orders a request."""
        return PLACE_LIMIT

    def order_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """The single order's lookup: ``GET /fapi/v1/order`` by ``origClientOrderId``."""
        return self._query(market, {"origClientOrderId": client_order_id})

    def cancel_limit(self, market: Market) -> int:
        """10 ids a request."""
        return CANCEL_LIMIT

    def create_batch(
        self, chunk: list[tuple[Market, OrderArgs]]
    ) -> Flow[list[Order | ExchangeError]]:
        """``POST /fapi/v1/batchOrders``."""
        items = [
            {k: wire_value(v) for k, v in self._order_params("usdm", m, a).items() if v is not None}
            for m, a in chunk
        ]
        request = self.build.call(
            "usdm", "POST", _PATH, {"batchOrders": _json(items)},
            signed=True, write=True, role="trade", order=True,
        )  # fmt: skip
        response = yield request
        answers = self._answers(response, len(chunk), request.endpoint)
        return [
            err if err is not None else parse.parse_order(market.symbol, item)
            for (market, _), (item, err) in zip(chunk, answers, strict=True)
        ]

    def cancel_batch(self, market: Market, ids: list[str]) -> Flow[list[Order | ExchangeError]]:
        """``DELETE /fapi/v1/batchOrders`` by ``orderIdList`` (Binance ids are integers: any
        other id is its item's ``OrderNotFound`` without being sent)."""
        found: list[Order | ExchangeError | None] = [
            None
            if order_id.isascii() and order_id.isdigit()
            else OrderNotFound(
                f"{order_id!r} is not a Binance order id (Binance order ids are integers)",
                exchange=self.name,
            )
            for order_id in ids
        ]
        sent = [order_id for order_id, outcome in zip(ids, found, strict=True) if outcome is None]
        if sent:
            params = {"symbol": market.id, "orderIdList": f"[{','.join(sent)}]"}
            request = self.build.call(
                "usdm", "DELETE", _PATH, params, signed=True, write=True, role="trade"
            )
            response = yield request
            answers = iter(self._answers(response, len(sent), request.endpoint))
            for i, outcome in enumerate(found):
                if outcome is None:
                    item, err = next(answers)
                    if err is not None:
                        err.message = f"order {ids[i]}: {err.message}"
                        err.args = (err.message,)
                    found[i] = err or parse.parse_order(market.symbol, item)
        return [outcome for outcome in found if outcome is not None]

    def cancel_conditional(self, market: Market, order_id: str) -> Flow[Order] | None:
        """``batchOrders`` knows no algo order: USD-M ``DELETE /fapi/v1/algoOrder`` by
        ``algoId`` (algo.py); None for spot and for an id that is no integer."""
        if self._group(market) != "usdm" or not (order_id.isascii() and order_id.isdigit()):
            return None
        ref = OrderRef(parse_symbol(market.symbol), order_id, None)
        return algo_api.cancel(self.build, market, ref)

    def _answers(
        self, response: Any, count: int, endpoint: str
    ) -> list[tuple[Mapping[str, Any], ExchangeError | None]]:
        """(item, its error or None) per order sent, in the order sent."""
        items = response.data
        if not isinstance(items, list) or len(items) != count:
            raise BadResponse(
                f"the batch answer is not a list of {count} results",
                exchange=self.name,
                endpoint=endpoint,
            )
        out: list[tuple[Mapping[str, Any], ExchangeError | None]] = []
        for item in items:
            if not isinstance(item, Mapping):
                raise BadResponse("a batch result is not an object", exchange=self.name)
            code = item.get("code")
            if "orderId" not in item and isinstance(code, int) and code not in (0, 200):
                message = item.get("msg")
                err = error_for_code(
                    code,
                    message if isinstance(message, str) else "",
                    market="usdm",
                    env=self.env,
                    http_status=response.status,
                    endpoint=endpoint,
                )
                out.append((item, err))
            else:
                out.append((item, None))
        return out
