"""Batches: ``create_orders`` and ``cancel_orders`` in one request where the exchange batches,
with one result per item.

What the caller gets is a ``BatchResult``: one ``BatchItem`` per order asked for, in the order
asked, each with its ``order`` or its ``error``, the same ``exchanges.errors`` class that
``create_order`` or ``cancel_order`` would raise for that order alone. Nothing is swallowed and
nothing is raised for a failed item: ``result.raise_first()`` raises the first failure for those
who want all or an exception, ``result.orders`` lists what succeeded.

How a batch runs (one flow for both clients; the adapter supplies the requests):

* Each item is checked as ``create_order`` checks an order: its arguments (a mistake of Python
  types, ``TypeError``/``ValueError``, is raised at once and nothing is sent), what the exchange
  offers, and the market's filters (amount, step, tick, minimum value). An item refused there
  gets its error and is not sent; the others are.
* Items that may share a request (the adapter's ``batch_key``: Bybit one category, Binance
  USD-M, OKX any) are sent together, in requests of at most the exchange's limit
  (``batch_limit``): a larger batch is split, never refused.
* Exactly once per item: every order carries a client order id (generated when not given).
  When a batch request's outcome is unknown (a timeout, a lost connection, a 5xx), or one
  item's is, each such item is looked up by its client order id with the lookup the single
  order uses (``reconcile.settle``); found, it is the result; proven absent once the lost
  request can no longer be acted on, it is placed again alone, through ``create_order``'s own
  exactly-once path. What cannot be settled is an ``OutcomeUnknown`` naming its client order id.
* An order that ends at once (market, IOC, FOK, post-only) is read back when the answer carried
  only its ids, and a post-only or FOK order killed unfilled is its item's
  ``OrderImmediatelyFillable`` / ``OrderNotFillable``, as for a single order.

Cancels: ``cancel_orders(ids, symbol)`` cancels the listed orders of one symbol; an id the
exchange does not know (or an order already gone) is that item's ``OrderNotFound``. Where the
cancel batch does not know conditional orders (kept apart, as Binance's and OKX's algo orders
are), an item it calls unknown is cancelled once more alone as a conditional order (the hook
``cancel_conditional``): an id nobody issued costs that one request more. A cancel
batch whose outcome is unknown is settled by looking at each order: cancelled is success, open
is cancelled again once.

A client connected with ``fleet=`` books each request against the shared budget as any
request; the fleet's client-id claims and its ledger of orders in doubt cover ``create_order``
only.

The requests and results are in ``exchanges.batch_items``, the flows in ``exchanges.batch_flows``
and the clients' argument checks in ``exchanges.batch_arguments``; their public names are
re-exported here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from exchanges import batch_flows
from exchanges.batch_arguments import checked_ids, checked_orders
from exchanges.batch_items import BatchItem, BatchResult, OrderRequest, order_request
from exchanges.errors import NotSupported

if TYPE_CHECKING:
    from collections.abc import Sequence

    from exchanges.arguments import OrderArgs
    from exchanges.effects import Flow
    from exchanges.errors import ExchangeError
    from exchanges.models import Market, Order
    from exchanges.symbols import Symbol

__all__ = [
    "BatchItem",
    "BatchResult",
    "Batching",
    "OrderRequest",
    "checked_ids",
    "checked_orders",
    "order_request",
]


class Batching:
    """The batch operations of an adapter: the flows, written once, over a few hooks that each
    adapter implements where its exchange batches (the defaults refuse with ``NotSupported``).
    """

    #: Whether the exchange refuses a client order id it accepted before, open or closed
    #: (Bybit): a lost order proven absent may then be placed again at once.
    client_ids_unique: ClassVar[bool] = False

    # -- hooks --------------------------------------------------------------------------------

    def order_ids_unique(self) -> bool:
        """``client_ids_unique``, for adapters where it depends on the instance (the bridge)."""
        return self.client_ids_unique

    def batch_key(self, market: Market) -> str:
        """Orders of markets with the same key may share one batch request."""
        return market.category or "all"

    def batch_limit(self, key: str) -> int:
        """The most orders one batch request of ``key`` takes."""
        raise self._no_batch("create_orders")

    def create_batch(
        self, chunk: list[tuple[Market, OrderArgs]]
    ) -> Flow[list[Order | ExchangeError]]:
        """Send one batch request; the result or error of each order, aligned with ``chunk``.

        Raises ``OutcomeUnknown`` when the request's own outcome is unknown. An order whose
        acknowledgement lacks its id is settled by its client order id.
        """
        raise self._no_batch("create_orders")
        yield  # type: ignore[unreachable]

    def order_lookup(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """The order with this client order id, None when the exchange says it has none (the
        lookup the single ``create_order`` settles an unknown outcome with)."""
        raise self._no_batch("create_orders")
        yield  # type: ignore[unreachable]

    def cancel_limit(self, market: Market) -> int:
        """The most orders one cancel batch of ``market`` takes."""
        raise self._no_batch("cancel_orders")

    def cancel_batch(self, market: Market, ids: list[str]) -> Flow[list[Order | ExchangeError]]:
        """Send one cancel batch of ``market``'s orders ``ids``; each order (cancelled) or its
        error, aligned with ``ids``. Raises ``OutcomeUnknown`` when that is unknown."""
        raise self._no_batch("cancel_orders")
        yield  # type: ignore[unreachable]

    def cancel_conditional(self, market: Market, order_id: str) -> Flow[Order] | None:
        """The flow cancelling ``order_id`` alone as a conditional order, where ``market``'s
        cancel batch does not know those (kept apart: algo orders); None where it does."""
        return None

    def _no_batch(self, operation: str) -> NotSupported:
        name = getattr(self, "name", "this exchange")
        return NotSupported(
            f"{name} does not offer {operation}: this adapter has no batch requests",
            exchange=name,
        )

    # -- create_orders ------------------------------------------------------------------------

    def create_orders(self, items: Sequence[OrderArgs | ExchangeError]) -> Flow[BatchResult]:
        """Place checked orders (an ``ExchangeError`` in place of one refused while checking)."""
        from exchanges.adapter import Adapter, _named

        assert isinstance(self, Adapter)
        return _named(batch_flows.create_orders(self, items), "create_orders")

    def cancel_orders(self, symbol: Symbol, ids: Sequence[str]) -> Flow[BatchResult]:
        """Cancel orders ``ids`` of ``symbol`` (checked: distinct non-empty strings)."""
        from exchanges.adapter import Adapter, _named

        assert isinstance(self, Adapter)
        return _named(batch_flows.cancel_orders(self, symbol, ids), "cancel_orders")
