"""Writes whose outcome is unknown, settled by looking at the order: written once for every adapter.

The pipeline turns a write that failed after it may have reached the exchange (a lost response,
a 5xx, a server timeout code) into ``OutcomeUnknown``. These flows then ask the exchange what
happened, through an adapter-supplied ``lookup`` that returns the order or ``None`` when the
exchange says it does not exist, and resend only when the lookup proves nothing happened.
"""

from __future__ import annotations

from collections.abc import Callable

from exchanges.errors import DuplicateOrderId, ExchangeError, OutcomeUnknown
from exchanges.flow import Flow
from exchanges.models import Order
from exchanges.wire import Request, Response

__all__ = ["amend_settled", "cancel_settled", "place_once", "unconfirmed"]

Lookup = Callable[[], Flow[Order | None]]
Accept = Callable[[Response], Order]


def unconfirmed(cause: OutcomeUnknown, client_order_id: str | None) -> OutcomeUnknown:
    """The ``OutcomeUnknown`` a caller gets when even the lookup could not settle it."""
    err = OutcomeUnknown(
        f"{cause.message}; the order could not be confirmed",
        exchange=cause.exchange,
        code=cause.code,
        http_status=cause.http_status,
        endpoint=cause.endpoint,
        client_order_id=client_order_id,
    )
    err.__cause__ = cause
    return err


def _confirm(lookup: Lookup, cause: OutcomeUnknown, client_order_id: str) -> Flow[Order | None]:
    try:
        return (yield from lookup())
    except ExchangeError as err:
        raise unconfirmed(cause, client_order_id) from err


def place_once(
    request: Request, client_order_id: str, lookup: Lookup, accept: Accept
) -> Flow[Order]:
    """Send a new order exactly once.

    ``request`` carries ``client_order_id``. If its outcome is unknown, the order is looked up
    by that id and returned when found; it is resent once only if the lookup proves it absent,
    and a duplicate-id answer to the resend means the first attempt had landed after all.
    """
    try:
        response = yield request
    except OutcomeUnknown as unknown:
        found = yield from _confirm(lookup, unknown, client_order_id)
        if found is not None:
            return found
        try:
            response = yield request
        except (DuplicateOrderId, OutcomeUnknown) as again:
            cause = again if isinstance(again, OutcomeUnknown) else unknown
            found = yield from _confirm(lookup, cause, client_order_id)
            if found is not None:
                return found
            raise unconfirmed(cause, client_order_id) from again
    return accept(response)


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
    whether it applied, and an open order that does not show it yet gets the same request again.
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
