"""Writes whose outcome is unknown, settled by looking at the order: written once for every adapter.

The pipeline turns a write that failed after it may have reached the exchange (a lost response,
a 5xx, a server timeout code, an answer it cannot read) into ``OutcomeUnknown``. These flows then
ask the exchange what happened, through an adapter-supplied ``lookup`` that returns the order or
``None`` when the exchange says it does not exist, and resend only when the lookup proves nothing
happened.

A lookup that finds nothing proves little while the original request may still be on its way:
an exchange acts on a signed request until its receive window closes (Binance: ``recvWindow``
after ``timestamp``; Bybit: ``X-BAPI-RECV-WINDOW``; OKX: the ``expTime`` header), and a request
delayed inside the exchange can be processed after the lookup. Binance accepts a repeated
``newClientOrderId`` once the first order is no longer open, so nothing on the exchange stops a
resend plus the late original from filling twice. So an absent order is looked up once more
after that window has closed (``OutcomeUnknown.conclusive_after_ms``), and only then resent;
exchanges that refuse any client order id seen before (Bybit) make the wait unnecessary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import attrs

from exchanges.effects import SHAPE_ERRORS, Flow, Pause
from exchanges.errors import BadResponse, DuplicateOrderId, ExchangeError, OutcomeUnknown
from exchanges.models import Order
from exchanges.wire import Request, Response

__all__ = ["amend_settled", "cancel_settled", "place_once", "settle", "unconfirmed"]

Lookup = Callable[[], Flow[Order | None]]
Accept = Callable[[Response], Order]

#: Sends of one new order: the original and at most one resend, after proof of absence.
_MAX_SENDS = 2


def unconfirmed(cause: OutcomeUnknown, client_order_id: str | None) -> OutcomeUnknown:
    """The ``OutcomeUnknown`` a caller gets when even the lookup could not settle it."""
    err = OutcomeUnknown(
        f"{cause.message}; the order could not be confirmed",
        exchange=cause.exchange,
        code=cause.code,
        http_status=cause.http_status,
        endpoint=cause.endpoint,
        client_order_id=client_order_id,
        conclusive_after_ms=cause.conclusive_after_ms,
    )
    err.__cause__ = cause
    return err


def _confirm(lookup: Lookup, cause: OutcomeUnknown, client_order_id: str) -> Flow[Order | None]:
    try:
        return (yield from lookup())
    except ExchangeError as err:
        raise unconfirmed(cause, client_order_id) from err


def _settle(
    lookup: Lookup, unknown: OutcomeUnknown, client_order_id: str, ids_unique: bool
) -> Flow[Order | None]:
    """The order, or None when it is absent once nothing can place it any more.

    Found at once: returned. Absent while the lost request may still be processed: where the
    exchange would accept the id again (it is unique only among open orders), wait until the
    request's receive window has closed and look again; where it refuses any reused id, the
    late original will be refused and a resend is safe now. A lookup that fails is tried again
    after the window too, when there is one.
    """
    failed: ExchangeError | None = None
    try:
        found = yield from lookup()
    except ExchangeError as err:
        failed, found = err, None
    if found is not None:
        return found
    if unknown.conclusive_after_ms is None or (ids_unique and failed is None):
        if failed is not None:
            raise unconfirmed(unknown, client_order_id) from failed
        return None
    yield Pause(unknown.conclusive_after_ms)
    return (yield from _confirm(lookup, unknown, client_order_id))


def settle(
    lookup: Lookup, unknown: OutcomeUnknown, client_order_id: str, ids_unique: bool
) -> Flow[Order | None]:
    """An order whose placement is in doubt: found, or None when absent (after the lost
    request's receive window has closed, where the exchange would accept its id again). What
    ``place_once`` does before resending; batches settle each of their orders with it."""
    return (yield from _settle(lookup, unknown, client_order_id, ids_unique))


def _not_placed(unknown: OutcomeUnknown) -> ExchangeError:
    """The failure behind ``unknown``, now that the order is proven never to have been placed."""
    cause = unknown.__cause__
    err = copy.copy(cause) if isinstance(cause, ExchangeError) else copy.copy(unknown)
    err.message = (
        f"{err.message}; the order was not placed (looked up by client order id after the "
        "exchange's receive window had closed, twice)"
    )
    err.args = (err.message,)
    err.__cause__ = None
    return err


def place_once(
    request: Request,
    client_order_id: str,
    lookup: Lookup,
    accept: Accept,
    *,
    ids_unique: bool = False,
) -> Flow[Order]:
    """Send a new order exactly once.

    ``request`` carries ``client_order_id``. If its outcome is unknown, the order is looked up
    by that id and returned when found; it is resent only once the lookup proves it absent (after
    the exchange's receive window for the lost request has closed, unless ``ids_unique``: the
    exchange refuses any client order id it has accepted before, open or closed), and a
    duplicate-id answer to the resend means the first attempt had landed after all. An
    acknowledgement that cannot be read (or lacks the order id) is settled by the same lookup.
    """
    unknown: OutcomeUnknown | None = None
    for sends in range(1, _MAX_SENDS + 1):
        try:
            response = yield request
        except OutcomeUnknown as lost:
            unknown = lost
        except DuplicateOrderId as duplicate:
            if unknown is None:
                raise  # the caller's own id was already used: nothing of ours is in doubt
            # The resend collided with the first attempt, which had landed after all.
            found = yield from _confirm(lookup, unknown, client_order_id)
            if found is not None:
                return found
            raise unconfirmed(unknown, client_order_id) from duplicate
        else:
            return (yield from _acknowledged(response, client_order_id, lookup, accept))
        found = yield from _settle(lookup, unknown, client_order_id, ids_unique)
        if found is not None:
            return found
        if not ids_unique and unknown.conclusive_after_ms is not None and sends == _MAX_SENDS:
            raise _not_placed(unknown)
    assert unknown is not None
    raise unconfirmed(unknown, client_order_id)


def _acknowledged(
    response: Response, client_order_id: str, lookup: Lookup, accept: Accept
) -> Flow[Order]:
    """The order from an accepting answer; an unreadable one is settled by looking it up."""
    try:
        order = accept(response)
        if order.id is None:
            raise BadResponse("the acknowledgement carries no order id")
    except (ExchangeError, *SHAPE_ERRORS) as exc:
        request = response.request
        cause = OutcomeUnknown(
            f"the exchange accepted the order but its answer could not be read: "
            f"{type(exc).__name__}: {exc}",
            exchange=getattr(exc, "exchange", None),
            http_status=response.status,
            endpoint=request.endpoint if request is not None else None,
            client_order_id=client_order_id,
        )
        found = yield from _confirm(lookup, cause, client_order_id)
        if found is not None:
            return found
        raise unconfirmed(cause, client_order_id) from None
    if order.client_order_id is None:
        order = attrs.evolve(order, client_order_id=client_order_id)
    return order


def cancel_settled(request: Request, lookup: Lookup, accept: Accept) -> Flow[Order]:
    """Cancel; after an unknown outcome, a cancelled order is the answer and an open one is
    cancelled again (cancelling twice does no harm).
    """
    try:
        response = yield request
    except OutcomeUnknown:
        current = yield from lookup()
        if current is not None and current.status == "canceled":
            return current
        if current is None or current.status != "open":
            raise
        response = yield request
    return accept(response)


def amend_settled(
    request: Request, lookup: Lookup, applied: Callable[[Order], bool], accept: Accept
) -> Flow[Order]:
    """Amend; amendments set absolute values, so after an unknown outcome the order shows
    whether it applied, and an open order that does not show it yet gets the same request again
    (should the lost one still arrive, it sets the same values).
    """
    try:
        response = yield request
    except OutcomeUnknown:
        current = yield from lookup()
        if current is not None and applied(current):
            return current
        if current is None or current.status != "open":
            raise
        response = yield request
    return accept(response)
