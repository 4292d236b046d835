"""Bybit v5 batch endpoints of the emulator: ``/v5/order/create-batch`` and
``/v5/order/cancel-batch``, each order through the front-end's own single-order handler.

"Batch Place Order" (https://bybit-exchange.github.io/docs/v5/order/batch-place) and "Batch
Cancel Order" (https://bybit-exchange.github.io/docs/v5/order/batch-cancel): a ``category`` and
a ``request`` list, at most 20 orders (linear, inverse, option) or 10 (spot). Orders are taken
in turn; each answers in ``result.list`` (``category``, ``symbol``, ``orderId``,
``orderLinkId``, plus ``createAt`` for placing) and, at the same index, in
``retExtInfo.list`` (``code``, ``msg``); the envelope's ``retCode`` is 0 even when some failed,
a failed order showing an empty ``orderId``. A failed order gets the code the single endpoint
would answer (110017, 110072, 170213 ...), because each is the single endpoint's handler as
wrapped for hedge mode and triggers. The code for a list above the limit is not documented;
the emulator answers 10001 with a message naming the limit. Each request counts once against
the batch endpoint's rate limit, not once per order (a simplification).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from adapters.bybit.emulator_base import BATCH_PATHS, BybitError
from exchanges.emulator.engine import EngineError

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["BATCH_PATHS", "LIMITS", "BybitBatch"]

#: Orders per batch request, by category.
LIMITS: Mapping[str, int] = {"linear": 20, "inverse": 20, "option": 20, "spot": 10}

Handler = Callable[..., Any]
Answer = tuple[dict[str, Any], dict[str, Any]]


class BybitBatch:
    """The batch endpoints over a Bybit front-end's single-order handlers."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Handler, str | None]]:
        """(method, path) -> (handler, access)."""
        return {
            ("POST", "/v5/order/create-batch"): (self.create_batch, "trade"),
            ("POST", "/v5/order/cancel-batch"): (self.cancel_batch, "trade"),
        }

    def create_batch(self, params: Mapping[str, Any], key: ApiKey) -> Answer:
        """Place each order of ``request`` in turn."""
        return self._batch(params, key, "/v5/order/create", create=True)

    def cancel_batch(self, params: Mapping[str, Any], key: ApiKey) -> Answer:
        """Cancel each order of ``request`` in turn."""
        return self._batch(params, key, "/v5/order/cancel", create=False)

    def _batch(self, params: Mapping[str, Any], key: ApiKey, path: str, *, create: bool) -> Answer:
        category = self.front._category(params)
        orders = params.get("request")
        if not isinstance(orders, list) or not orders:
            raise BybitError(10001, "params error: request must be a non-empty list")
        if not all(isinstance(order, dict) for order in orders):
            raise BybitError(10001, "params error: each request item must be an object")
        limit = LIMITS[category]
        if len(orders) > limit:
            raise BybitError(
                10001, f"params error: at most {limit} orders per batch for {category}"
            )
        # Looked up now, not when the routes were built: the handler as later modules wrapped it.
        single = self.front.routes[("POST", path)][0]
        results, codes = [], []
        for order in orders:
            item = {**order, "category": category}
            row = {
                "category": category,
                "symbol": str(order.get("symbol", "")),
                "orderId": "",
                "orderLinkId": str(order.get("orderLinkId") or ""),
            }
            try:
                answer = single(item, key)
            except BybitError as err:
                code, msg = err.code, err.message
            except EngineError as err:
                refusal = self.front._engine_error(err, path, category == "spot")
                code, msg = refusal.code, refusal.message
            else:
                if isinstance(answer, tuple):
                    answer = answer[0]
                row["orderId"] = str(answer.get("orderId", ""))
                row["orderLinkId"] = str(answer.get("orderLinkId", ""))
                code, msg = 0, "OK"
            if create:
                row["createAt"] = str(self.front.state.now_ms()) if code == 0 else ""
            results.append(row)
            codes.append({"code": code, "msg": msg})
        return {"list": results}, {"list": codes}
