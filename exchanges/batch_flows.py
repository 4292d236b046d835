"""The batch flows written once for every adapter: placing orders in batches and settling each
item whose outcome is unknown, and cancelling orders in batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exchanges import results
from exchanges.batch_items import BatchItem, BatchResult
from exchanges.effects import SHAPE_ERRORS
from exchanges.errors import (
    BadRequest,
    BadResponse,
    ClockSkew,
    DuplicateOrderId,
    ExchangeError,
    InvalidOrder,
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

__all__ = ["cancel_orders", "create_orders"]

# -- create_orders -----------------------------------------------------------------------------

#: An item of a batch being placed: its index, its market and arguments, or its error.
_Prepared = tuple[int, "Market", "OrderArgs"]


def _unknown_item(err: ExchangeError) -> bool:
    """Whether an item's own error leaves its outcome unknown (the exchange may have placed
    it: a timeout or an internal error reported per item)."""
    if isinstance(err, OutcomeUnknown):
        return True
    return err.retryable and not isinstance(err, RateLimitExceeded | ClockSkew)


def create_orders(adapter: Any, items: Sequence[OrderArgs | ExchangeError]) -> Flow[BatchResult]:
    """Place checked orders in batch requests and settle each item (``Batching.create_orders``)."""
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


def cancel_orders(adapter: Any, symbol: Symbol, ids: Sequence[str]) -> Flow[BatchResult]:
    """Cancel orders ``ids`` of ``symbol`` in batch requests (``Batching.cancel_orders``)."""
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
        answers = yield from _cancel_conditional(adapter, market, chunk, answers)
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


def _cancel_conditional(
    adapter: Any, market: Market, ids: list[str], answers: list[Order | ExchangeError]
) -> Flow[list[Order | ExchangeError]]:
    """Each item the batch called unknown, cancelled once more alone as a conditional order
    where the batch does not know those: cancelled, or kept ``OrderNotFound`` when that path
    has no such order either or refuses the id (one request more for an id nobody issued)."""
    outcomes = list(answers)
    for i, (order_id, answer) in enumerate(zip(ids, answers, strict=True)):
        if not isinstance(answer, OrderNotFound):
            continue
        flow = adapter.cancel_conditional(market, order_id)
        if flow is None:
            continue
        try:
            outcomes[i] = yield from flow
        except (InvalidOrder, BadRequest, NotSupported):
            continue  # not a conditional order's id there either (OrderNotFound included)
        except ExchangeError as err:
            # Whether it was a conditional order is unknown (rate limit, network, lost
            # answer): "not found" would claim too much; what the conditional path said stands.
            outcomes[i] = err
    return outcomes


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
