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
exchange does not know (or an order already gone) is that item's ``OrderNotFound``. A cancel
batch whose outcome is unknown is settled by looking at each order: cancelled is success, open
is cancelled again once.

A client connected with ``fleet=`` books each request against the shared budget as any
request; the fleet's client-id claims and its ledger of orders in doubt cover ``create_order``
only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

import attrs

from exchanges import results
from exchanges.effects import SHAPE_ERRORS
from exchanges.errors import (
    BadResponse,
    ClockSkew,
    DuplicateOrderId,
    ExchangeError,
    NotSupported,
    OrderNotFound,
    OutcomeUnknown,
    RateLimitExceeded,
)
from exchanges.models import Order

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs
    from exchanges.effects import Flow
    from exchanges.models import Market
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


@attrs.frozen
class OrderRequest:
    """One order of ``create_orders``: ``create_order``'s arguments (plain limit and market
    orders; conditional orders and stops are placed with ``create_order``)."""

    symbol: str
    type: str
    side: str
    amount: Any
    price: Any = None
    client_order_id: str | None = None
    time_in_force: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    params: dict[str, Any] | None = None
    good_till: int | None = None


_FIELDS = frozenset(attrs.fields_dict(OrderRequest))


def order_request(value: Any) -> OrderRequest:
    """An ``OrderRequest``, or a mapping with its fields (ccxt's ``create_orders`` items:
    ``symbol``, ``type``, ``side``, ``amount``, ``price``, ``params``)."""
    if isinstance(value, OrderRequest):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            f"each order must be an OrderRequest or a dict of its fields, not "
            f"{value.__class__.__name__}"
        )
    unknown = sorted(str(k) for k in value if k not in _FIELDS)
    if unknown:
        raise TypeError(
            f"unknown order field(s) {', '.join(unknown)}; an order takes "
            f"{', '.join(f.name for f in attrs.fields(OrderRequest))}"
        )
    missing = [name for name in ("symbol", "type", "side", "amount") if name not in value]
    if missing:
        raise TypeError(f"an order needs {', '.join(missing)}")
    return OrderRequest(**value)


@attrs.frozen
class BatchItem:
    """The outcome of one order of a batch: ``order`` when it succeeded, else ``error``."""

    #: Its place in the list the caller gave.
    index: int
    order: Order | None = None
    error: ExchangeError | None = None
    #: The order id asked for (``cancel_orders``).
    id: str | None = None
    #: The client order id it was placed with (``create_orders``).
    client_order_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


class BatchResult(Sequence[BatchItem]):
    """One ``BatchItem`` per order asked for, in the order asked."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[BatchItem]) -> None:
        self._items = tuple(items)

    @overload
    def __getitem__(self, index: int) -> BatchItem: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BatchItem]: ...

    def __getitem__(self, index: int | slice) -> BatchItem | Sequence[BatchItem]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[BatchItem]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"BatchResult({len(self.orders)} ok, {len(self.failed)} failed)"

    @property
    def orders(self) -> list[Order]:
        """The orders of the items that succeeded, in the order asked."""
        return [item.order for item in self._items if item.order is not None]

    @property
    def failed(self) -> list[BatchItem]:
        """The items that failed, each with its ``error``."""
        return [item for item in self._items if item.error is not None]

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return not self.failed

    def raise_first(self) -> list[Order]:
        """Every order when all succeeded; else raise the first failed item's error."""
        for item in self._items:
            if item.error is not None:
                raise item.error
        return self.orders


# -- the flows ---------------------------------------------------------------------------------

#: An item of a batch being placed: its index, its market and arguments, or its error.
_Prepared = tuple[int, "Market", "OrderArgs"]


def _unknown_item(err: ExchangeError) -> bool:
    """Whether an item's own error leaves its outcome unknown (the exchange may have placed
    it: a timeout or an internal error reported per item)."""
    if isinstance(err, OutcomeUnknown):
        return True
    return err.retryable and not isinstance(err, RateLimitExceeded | ClockSkew)


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
        return _named(_create_orders(self, items), "create_orders")

    def cancel_orders(self, symbol: Symbol, ids: Sequence[str]) -> Flow[BatchResult]:
        """Cancel orders ``ids`` of ``symbol`` (checked: distinct non-empty strings)."""
        from exchanges.adapter import Adapter, _named

        assert isinstance(self, Adapter)
        return _named(_cancel_orders(self, symbol, ids), "cancel_orders")


def _create_orders(adapter: Any, items: Sequence[OrderArgs | ExchangeError]) -> Flow[BatchResult]:
    outcomes: dict[int, Order | ExchangeError] = {}
    ready: list[_Prepared] = []
    for index, item in enumerate(items):
        if isinstance(item, ExchangeError):
            outcomes[index] = item
            continue
        try:
            adapter.require_intents(item)
            adapter.require_time_in_force(item)
            market = yield from adapter.order_market(item.symbol, item.amount, item.price)
        except ExchangeError as err:
            outcomes[index] = err
            continue
        ready.append((index, market, item))
    groups: dict[str, list[_Prepared]] = {}
    for prepared in ready:
        groups.setdefault(adapter.batch_key(prepared[1]), []).append(prepared)
    for key, group in groups.items():
        limit = adapter.batch_limit(key)
        for start in range(0, len(group), limit):
            chunk = group[start : start + limit]
            outcomes.update((yield from _place_chunk(adapter, chunk)))
    placed: list[BatchItem] = []
    for index, item in enumerate(items):
        outcome = outcomes[index]
        cid = None if isinstance(item, ExchangeError) else item.client_order_id
        if isinstance(outcome, Order):
            placed.append(BatchItem(index, order=outcome, client_order_id=cid))
        else:
            placed.append(BatchItem(index, error=outcome, client_order_id=cid))
    return BatchResult(placed)


def _place_chunk(adapter: Any, chunk: list[_Prepared]) -> Flow[dict[int, Order | ExchangeError]]:
    """One batch request and the settling of its items."""
    outcomes: dict[int, Order | ExchangeError] = {}
    unknown: dict[int, OutcomeUnknown] = {}
    try:
        answers = yield from adapter.create_batch([(market, args) for _, market, args in chunk])
    except (OutcomeUnknown, BadResponse, *SHAPE_ERRORS) as exc:
        # Sent, and what became of it is unknown (an answer that cannot be read included).
        lost = _lost(exc, adapter.name)
        unknown = {index: _for_item(lost, args.client_order_id) for index, _, args in chunk}
    except ExchangeError as err:
        # The request failed as a whole, definitely: every order of it failed that way.
        return {index: _copy(err) for index, _, _ in chunk}
    else:
        if len(answers) != len(chunk):
            miscount = OutcomeUnknown(
                f"the batch answer reports {len(answers)} orders for {len(chunk)} sent",
                exchange=adapter.name,
            )
            unknown = {index: _for_item(miscount, args.client_order_id) for index, _, args in chunk}
        else:
            for (index, _, args), answer in zip(chunk, answers, strict=True):
                if isinstance(answer, Order) and answer.id is not None:
                    outcomes[index] = answer
                elif isinstance(answer, Order):
                    unknown[index] = OutcomeUnknown(
                        "the batch answer carries no order id for this order",
                        exchange=adapter.name,
                        client_order_id=args.client_order_id,
                    )
                elif _unknown_item(answer):
                    unknown[index] = _as_unknown(answer, args.client_order_id)
                else:
                    outcomes[index] = answer
    for index, market, args in chunk:
        if index in unknown:
            try:
                outcomes[index] = yield from _settle_item(adapter, market, args, unknown[index])
            except ExchangeError as err:
                outcomes[index] = err
        outcome = outcomes[index]
        if isinstance(outcome, Order):
            try:
                outcomes[index] = yield from adapter.finish_placed(outcome, args)
            except ExchangeError as err:
                outcomes[index] = err
    return outcomes


def _settle_item(
    adapter: Any, market: Market, args: OrderArgs, lost: OutcomeUnknown
) -> Flow[Order]:
    """An order whose outcome is unknown: found by its client order id, or placed once more
    alone when proven absent (``create_order``'s exactly-once path).

    Absent proves something only once the lost request can no longer be acted on (its receive
    window has closed, ``settle`` waits for that), or where the exchange refuses a client order
    id seen before (a late original is then refused): otherwise the item stays unknown.
    """
    from exchanges.reconcile import settle, unconfirmed

    cid = args.client_order_id
    unique = adapter.order_ids_unique()
    found = yield from settle(lambda: adapter.order_lookup(market, cid), lost, cid, unique)
    if found is not None:
        return found
    if not unique and lost.conclusive_after_ms is None:
        raise unconfirmed(lost, cid)
    try:
        placed: Order = yield from adapter.create_order(args)
        return placed
    except DuplicateOrderId as duplicate:
        # The lost batch placed it after all, between the lookup and this send.
        try:
            again = yield from adapter.order_lookup(market, cid)
        except ExchangeError as err:
            raise unconfirmed(lost, cid) from err
        if again is None:
            raise unconfirmed(lost, cid) from duplicate
        assert isinstance(again, Order)
        return again


def _as_unknown(err: ExchangeError, client_order_id: str) -> OutcomeUnknown:
    unknown = OutcomeUnknown(
        err.message,
        exchange=err.exchange,
        code=err.code,
        http_status=err.http_status,
        endpoint=err.endpoint,
        client_order_id=client_order_id,
    )
    unknown.__cause__ = err
    return unknown


def _lost(exc: Exception, exchange: str) -> OutcomeUnknown:
    """The unknown outcome of a batch request: its own, or that of an answer nobody could
    read (the requests were sent: each order is settled by looking at it)."""
    if isinstance(exc, OutcomeUnknown):
        return exc
    unknown = OutcomeUnknown(
        f"the batch answer could not be read: {type(exc).__name__}: {exc}",
        exchange=getattr(exc, "exchange", None) or exchange,
        endpoint=getattr(exc, "endpoint", None),
    )
    unknown.__cause__ = exc
    return unknown


def _for_item(lost: OutcomeUnknown, client_order_id: str) -> OutcomeUnknown:
    """The batch's unknown outcome as one order's, naming its client order id."""
    unknown = _copy(lost)
    assert isinstance(unknown, OutcomeUnknown)
    unknown.client_order_id = client_order_id
    return unknown


def _copy(err: ExchangeError) -> ExchangeError:
    import copy

    return copy.copy(err)


# -- cancel_orders -----------------------------------------------------------------------------


def _cancel_orders(adapter: Any, symbol: Symbol, ids: Sequence[str]) -> Flow[BatchResult]:
    from exchanges.capabilities import market_type

    adapter.capabilities.require(
        "cancel_orders", market=market_type(symbol), env=adapter.env, subject=str(symbol)
    )
    if not ids:
        return BatchResult(())
    market = yield from adapter.market(symbol)
    limit = adapter.cancel_limit(market)
    outcomes: dict[int, Order | ExchangeError] = {}
    for start in range(0, len(ids), limit):
        chunk = list(ids[start : start + limit])
        answers = yield from _cancel_chunk(adapter, market, chunk)
        outcomes.update((start + i, answer) for i, answer in enumerate(answers))
    items = []
    for index, order_id in enumerate(ids):
        outcome = outcomes[index]
        if isinstance(outcome, Order):
            items.append(BatchItem(index, order=results.canceled(outcome), id=order_id))
        else:
            items.append(BatchItem(index, error=outcome, id=order_id))
    return BatchResult(items)


def _cancel_chunk(
    adapter: Any, market: Market, ids: list[str]
) -> Flow[list[Order | ExchangeError]]:
    """One cancel batch; after an unknown outcome each order is looked at: cancelled is done,
    open is cancelled again (once), anything else is its own answer."""
    try:
        answers: list[Order | ExchangeError] = yield from adapter.cancel_batch(market, ids)
    except (OutcomeUnknown, BadResponse, *SHAPE_ERRORS) as exc:
        return (yield from _settle_cancels(adapter, market, ids, _lost(exc, adapter.name)))
    except ExchangeError as err:
        return [_copy(err) for _ in ids]
    if len(answers) != len(ids):
        miscount = OutcomeUnknown(
            f"the batch answer reports {len(answers)} orders for {len(ids)} sent",
            exchange=adapter.name,
        )
        return (yield from _settle_cancels(adapter, market, ids, miscount))
    return answers


def _settle_cancels(
    adapter: Any, market: Market, ids: list[str], lost: OutcomeUnknown, *, again: bool = True
) -> Flow[list[Order | ExchangeError]]:
    from exchanges.arguments import OrderRef
    from exchanges.symbols import parse_symbol

    symbol = parse_symbol(market.symbol)
    outcomes: list[Order | ExchangeError | None] = []
    retry: list[int] = []
    for i, order_id in enumerate(ids):
        try:
            current: Order = yield from adapter.fetch_order(OrderRef(symbol, order_id, None))
        except OrderNotFound as err:
            outcomes.append(err)
            continue
        except ExchangeError as err:
            unknown = OutcomeUnknown(
                f"{lost.message}; the order could not be looked up",
                exchange=lost.exchange,
                endpoint=lost.endpoint,
            )
            unknown.__cause__ = err
            outcomes.append(unknown)
            continue
        if current.status == "canceled":
            outcomes.append(current)
        elif current.status == "open" and again:
            outcomes.append(None)
            retry.append(i)
        elif current.status == "open":
            outcomes.append(_copy(lost))
        else:
            outcomes.append(
                OrderNotFound(
                    f"order {order_id} is {current.status}: there is nothing to cancel",
                    exchange=adapter.name,
                )
            )
    if retry:
        resent = [ids[i] for i in retry]
        try:
            answers = yield from adapter.cancel_batch(market, resent)
        except OutcomeUnknown as still:
            answers = yield from _settle_cancels(adapter, market, resent, still, again=False)
        except ExchangeError as err:
            answers = [_copy(err) for _ in resent]
        for i, answer in zip(retry, answers, strict=False):
            outcomes[i] = answer
    return [o if o is not None else _copy(lost) for o in outcomes]


# -- arguments (the clients') ------------------------------------------------------------------


def checked_orders(client: Any, orders: Any) -> list[OrderArgs | ExchangeError]:
    """``create_orders``' orders checked as ``create_order`` checks one: each becomes its
    ``OrderArgs`` or the ``ExchangeError`` that call would raise before sending. Python usage
    errors raise at once (``TypeError``/``ValueError``: not a list, an unknown field, two
    orders with one client order id), and so does ``NotSupported`` for a market type the
    exchange has no batch for: then nothing is sent."""
    from exchanges import arguments
    from exchanges.capabilities import order_keys

    if isinstance(orders, str | bytes | Mapping) or not isinstance(orders, Sequence):
        raise TypeError(
            f"orders must be a list of OrderRequest (or dicts), not {orders.__class__.__name__}"
        )
    requests = [order_request(order) for order in orders]
    checked: list[OrderArgs | ExchangeError] = []
    for request in requests:
        try:
            arguments.check_symbol(request.symbol)
        except ExchangeError as err:
            checked.append(err)
            continue
        client._offers("create_orders", symbol=request.symbol)
        try:
            client._offers(*order_keys(request.type, request.time_in_force, request.post_only))
            checked.append(
                arguments.order_args(
                    request.symbol,
                    request.type,
                    request.side,
                    request.amount,
                    request.price,
                    client_order_id=request.client_order_id,
                    time_in_force=request.time_in_force,
                    post_only=request.post_only,
                    reduce_only=request.reduce_only,
                    params=request.params,
                    reserved=client.adapter.reserved_order_params,
                    client_id_params=client.adapter.client_id_params,
                    good_till=request.good_till,
                )
            )
        except ExchangeError as err:
            checked.append(err)
    seen: set[str] = set()
    for item in checked:
        if isinstance(item, ExchangeError):
            continue
        if item.client_order_id in seen:
            raise ValueError(
                f"two orders of the batch have client_order_id {item.client_order_id!r}: "
                "each order needs its own"
            )
        seen.add(item.client_order_id)
    return checked


def checked_ids(ids: Any) -> list[str]:
    """``cancel_orders``' ids: a list of distinct, non-empty order ids (str or int)."""
    if isinstance(ids, str | bytes | Mapping) or not isinstance(ids, Sequence):
        raise TypeError(f"ids must be a list of order ids, not {ids.__class__.__name__}")
    found: list[str] = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise TypeError(f"an order id must be a str, not {value.__class__.__name__}")
        text = str(value)
        if not text:
            raise ValueError("an order id is empty: pass the ids the exchange returned")
        if text in found:
            raise ValueError(f"order id {text!r} is listed twice")
        found.append(text)
    return found
