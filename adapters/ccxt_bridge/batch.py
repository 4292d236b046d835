"""Batches through ccxt: its ``create_orders`` and ``cancel_orders`` (the flows that use them,
exactly once per order, are ``exchanges.batch``'s).

Offered where ccxt's ``has`` offers them, on the market types whose ccxt ``features`` list a
``createOrders`` (its ``max`` is the batch size: Bybit 10, Binance 5, OKX 20; none on Binance
spot, as ccxt's Binance refuses it). Each order is the same ccxt call ``create_order`` would make
(its ``params``: our client order id as ``clientOrderId``, post-only, time in force, GTD,
reduce-only, OKX's margin mode), so the exchange sees the same order.

ccxt's ``parse_orders`` sorts the results by time: they are put back in the order sent by client
order id (placing) or order id (cancelling), the failed ones, which have neither time nor id,
keeping their order. How ccxt reports each order differs per exchange, and is read back to the
library's errors:
Bybit's per-order ``code``/``msg`` (``retExtInfo``) and OKX's ``sCode``/``sMsg`` come in the
order's ``info`` with status ``rejected``, Binance's ``{code, msg}`` as an order without id
(``errors.item_error``). Two things ccxt does not pass on: OKX answers a batch whose every
order failed with ``code`` 1, which ccxt raises as the first order's error (every order of that
request then gets it: they all failed); Bybit's cancel batch drops the per-order codes, so an
order it did not cancel (no id in its row) is ``OrderNotFound``, the class of every cancel
refusal Bybit's batch reports (110001, 170213).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.ccxt_bridge.errors import item_error
from adapters.ccxt_bridge.runner import ccxt_request
from exchanges import results
from exchanges.arguments import OrderRef
from exchanges.batch import Batching
from exchanges.errors import BadResponse, ExchangeError, NotSupported, OrderNotFound
from exchanges.symbols import parse_symbol
from exchanges.units import native_amount

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs
    from exchanges.flow import Flow
    from exchanges.models import MarginMode, Market, Order

__all__ = ["CcxtBatches", "batch_max"]

#: Exchange families that refuse a client order id they accepted before (as the adapter's).
_UNIQUE_CLIENT_IDS = frozenset({"bybit"})
#: Ids per cancel batch where ccxt's features say nothing of cancelOrders.
_CANCEL_LIMITS: Mapping[str, int] = {"binance": 10, "okx": 20, "bybit": 20}


def batch_max(features: Mapping[str, Any], key: str) -> int | None:
    """ccxt's ``createOrders`` ``max`` for a batch key (``spot``, ``linear``, ``inverse``,
    ``option``), None where ccxt's features list no batch."""
    if key in ("linear", "inverse"):
        found = features.get("swap")
        found = found.get(key) if isinstance(found, Mapping) else None
    else:
        found = features.get(key)
    create = found.get("createOrders") if isinstance(found, Mapping) else None
    if not isinstance(create, Mapping):
        return None
    limit = create.get("max")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else 10


def batch_key_of(market: Market) -> str:
    """Orders one ccxt ``create_orders`` call may hold: one of spot, linear and inverse
    contracts (swaps and futures together), options."""
    if market.spot:
        return "spot"
    if market.type == "option":
        return "option"
    return "inverse" if market.inverse else "linear"


class CcxtBatches(Batching):
    """The batch hooks of ``CcxtAdapter`` (``exchanges.batch.Batching``)."""

    if TYPE_CHECKING:
        name: str
        family: str | None
        client: Any
        _class: Any
        margin_modes: dict[str, MarginMode]

        def _placed(self, market: Market, client_order_id: str) -> Flow[Order | None]: ...

        def _ack(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order: ...

        def _order(self, default: str, item: Any) -> Order: ...

        def _order_params(self, market: Market, args: OrderArgs) -> dict[str, Any]: ...

        def conditional_fallback(  # noqa: D102
            self, method: str, ref: OrderRef, market: Market
        ) -> Flow[Any]: ...

        def _cancelled(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order: ...

    def order_ids_unique(self) -> bool:
        """Bybit refuses a client order id seen before, through ccxt too."""
        return self.family in _UNIQUE_CLIENT_IDS

    def _features(self) -> Mapping[str, Any]:
        found = getattr(self.client or self._class, "features", None)
        return found if isinstance(found, Mapping) else {}

    def batch_key(self, market: Market) -> str:
        """One ccxt call per kind of market (spot, linear, inverse, option)."""
        return batch_key_of(market)

    def batch_limit(self, key: str) -> int:
        """ccxt's ``createOrders`` ``max`` for the kind of market."""
        limit = batch_max(self._features(), key)
        if limit is None:
            raise NotSupported(
                f"ccxt's {self.name} does not batch {key} orders", exchange=self.name
            )
        return limit

    def order_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """The single order's lookup by client order id (``CcxtAdapter._placed``)."""
        return self._placed(market, client_order_id)

    def cancel_limit(self, market: Market) -> int:
        """The exchange's cancel batch size (Bybit spot 10), else ccxt's createOrders max."""
        if self.family == "bybit" and market.spot:
            return 10
        found = _CANCEL_LIMITS.get(self.family or "")
        if found is not None:
            return found
        return batch_max(self._features(), batch_key_of(market)) or 10

    def create_batch(
        self, chunk: list[tuple[Market, OrderArgs]]
    ) -> Flow[list[Order | ExchangeError]]:
        """ccxt's ``create_orders``, each order as ``create_order`` would send it."""
        orders = [
            {
                "symbol": market.symbol,
                "type": args.type,
                "side": args.side,
                "amount": native_amount(market, args.amount, exchange=self.name),
                "price": args.price,
                "params": self._order_params(market, args),
            }
            for market, args in chunk
        ]
        request = ccxt_request("create_orders", orders, write=True)
        response = yield request
        items = _realigned(
            _listed(response.data, len(chunk), self.name, request.endpoint),
            [args.client_order_id for _, args in chunk],
            "clientOrderId",
        )
        exact = self._exact()
        found: list[Order | ExchangeError] = []
        for (market, args), item in zip(chunk, items, strict=True):
            err = item_error(
                item.get("info"),
                exchange=self.name,
                family=self.family,
                endpoint=request.endpoint,
                exact=exact,
            )
            if err is not None:
                found.append(err)
                continue
            known = {"client_order_id": args.client_order_id, **results.requested(args)}
            found.append(self._ack(market.symbol, item, known))
        return found

    def cancel_batch(self, market: Market, ids: list[str]) -> Flow[list[Order | ExchangeError]]:
        """ccxt's ``cancel_orders`` of one symbol's orders."""
        request = ccxt_request("cancel_orders", list(ids), market.symbol, write=True)
        response = yield request
        items = _realigned(_listed(response.data, len(ids), self.name, request.endpoint), ids, "id")
        exact = self._exact()
        found: list[Order | ExchangeError] = []
        for order_id, item in zip(ids, items, strict=True):
            err = item_error(
                item.get("info"),
                exchange=self.name,
                family=self.family,
                endpoint=request.endpoint,
                exact=exact,
            )
            if err is None and not item.get("id"):
                err = OrderNotFound(
                    f"{self.name} did not cancel order {order_id} (ccxt passes on no code)",
                    exchange=self.name,
                    endpoint=request.endpoint,
                )
            if err is not None:
                err.message = f"order {order_id}: {err.message}"
                err.args = (err.message,)
                found.append(err)
            else:
                order = self._order(market.symbol, item)
                found.append(order if order.id is not None else OrderNotFound(order_id))
        return found

    def cancel_conditional(self, market: Market, order_id: str) -> Flow[Order] | None:
        """ccxt's Binance and OKX batch cancels know no algo order: ccxt's ``cancel_order``
        with its ``trigger`` param (triggers.py), contracts only as the bridge maps them."""
        if self.family not in ("binance", "okx") or market.spot:
            return None
        return self._cancel_trigger(market, order_id)

    def _cancel_trigger(self, market: Market, order_id: str) -> Flow[Order]:
        ref = OrderRef(parse_symbol(market.symbol), order_id, None)
        response = yield from self.conditional_fallback("cancel_order", ref, market)
        return self._cancelled(market.symbol, response.data, {"id": order_id})

    def _exact(self) -> Mapping[str, Any] | None:
        exceptions = getattr(self.client, "exceptions", None)
        exact = exceptions.get("exact") if isinstance(exceptions, Mapping) else None
        return exact if isinstance(exact, Mapping) else None


def _realigned(
    items: list[Mapping[str, Any]], wanted: list[str], field: str
) -> list[Mapping[str, Any]]:
    """``items`` in the order of ``wanted``: ccxt's ``parse_orders`` sorts its results by time,
    and a stable sort, so an item is found by ``field`` (the client order id placed, the id
    cancelled) and the items without one (failed orders carry no time, so they lead the list in
    the order sent) fill the remaining places in order."""
    matched: dict[str, Mapping[str, Any]] = {}
    rest: list[Mapping[str, Any]] = []
    for item in items:
        key = item.get(field)
        if isinstance(key, str) and key in wanted and key not in matched:
            matched[key] = item
        else:
            rest.append(item)
    others = iter(rest)
    return [matched[key] if key in matched else next(others) for key in wanted]


def _listed(data: Any, count: int, exchange: str, endpoint: str) -> list[Mapping[str, Any]]:
    if (
        not isinstance(data, list)
        or len(data) != count
        or not all(isinstance(i, Mapping) for i in data)
    ):
        raise BadResponse(
            f"ccxt's batch answer is not a list of {count} orders",
            exchange=exchange,
            endpoint=endpoint,
        )
    return data
