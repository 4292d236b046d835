"""The shared settling of writes whose outcome is unknown (exchanges/reconcile.py)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from exchanges.errors import (
    BadResponse,
    DuplicateOrderId,
    ExchangeNotAvailable,
    NetworkError,
    OutcomeUnknown,
)
from exchanges.flow import Pause
from exchanges.models import Order
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.wire import Request, Response

REQUEST = Request("POST", "https://x", "/order", body=b"{}", write=True)
LOOKUP = Request("GET", "https://x", "/order")


def order(status: str | None = "open", price: str = "1") -> Order:
    from decimal import Decimal

    fields: Any = (None,) * 8
    return Order("id-1", "cid-1", "BTC/USDT", "limit", "buy", status, Decimal(price), Decimal(1),
                 *fields)  # fmt: skip


def accept(response: Response) -> Order:
    return order("open")


def drive(flow: Generator[Request, Any, Order], answers: list[Any]) -> tuple[Any, list[str]]:
    """Feed answers (a Response, an exception, or an Order/None for a lookup) to a flow."""
    sent = []
    try:
        step = next(flow)
        for answer in answers:
            sent.append("pause" if isinstance(step, Pause) else step.path)
            step = flow.throw(answer) if isinstance(answer, BaseException) else flow.send(answer)
        raise AssertionError(f"the flow asked for more: {step}")
    except StopIteration as done:
        return done.value, sent
    except Exception as err:
        return err, sent


def lookup_of(results: list[Order | None]) -> Any:
    def lookup() -> Generator[Request, Any, Order | None]:
        yield LOOKUP
        return results.pop(0)

    return lookup


def unknown(window: int | None = None) -> OutcomeUnknown:
    return OutcomeUnknown("lost", exchange="x", conclusive_after_ms=window)


def unknown_caused_by(cause: Exception, window: int = 5) -> OutcomeUnknown:
    err = unknown(window)
    err.__cause__ = cause
    return err


def test_place_once_returns_the_order_found_and_never_resends() -> None:
    found = order("closed")
    result, sent = drive(place_once(REQUEST, "cid-1", lookup_of([found]), accept),
                         [unknown(), None])  # fmt: skip
    assert result is found and sent == ["/order", "/order"]


def test_place_once_resends_once_when_absent_and_a_duplicate_means_placed() -> None:
    found = order("open")
    flow = place_once(REQUEST, "cid-1", lookup_of([None, found]), accept)
    result, sent = drive(flow, [unknown(), None, DuplicateOrderId("dup"), None])
    assert result is found and sent.count("/order") == 4  # create, lookup, resend, lookup


def test_place_once_gives_up_with_the_client_order_id() -> None:
    flow = place_once(REQUEST, "cid-1", lookup_of([None, None]), accept)
    result, _ = drive(flow, [unknown(), None, unknown(), None])
    assert isinstance(result, OutcomeUnknown) and result.client_order_id == "cid-1"
    flow = place_once(REQUEST, "cid-1", lookup_of([]), accept)
    result, _ = drive(flow, [unknown(), NetworkError("down")])
    assert isinstance(result, OutcomeUnknown) and result.client_order_id == "cid-1"


@pytest.mark.parametrize(
    ("status", "expect"),
    [("canceled", "found"), ("open", "resent"), ("closed", "raised"), (None, "raised")],
)
def test_cancel_settled(status: str | None, expect: str) -> None:
    current = None if status is None else order(status)
    flow = cancel_settled(REQUEST, lookup_of([current]), accept)
    answers: list[Any] = [unknown(), current]
    if expect == "resent":
        answers.append(Response(200, {}, b"{}"))
    result, sent = drive(flow, answers)
    if expect == "found":
        assert result is current
    elif expect == "resent":
        assert isinstance(result, Order) and len(sent) == 3
    else:
        assert isinstance(result, OutcomeUnknown)


def test_amend_settled_checks_the_values() -> None:
    applied = order("open", price="2")
    flow = amend_settled(REQUEST, lookup_of([applied]), lambda o: o.price == 2, accept)
    result, _ = drive(flow, [unknown(), applied])
    assert result is applied
    stale = order("open", price="1")
    flow = amend_settled(REQUEST, lookup_of([stale]), lambda o: o.price == 2, accept)
    result, sent = drive(flow, [unknown(), stale, Response(200, {}, b"{}")])
    assert isinstance(result, Order) and len(sent) == 3


RESUMED = Response(0, {}, b"")


def test_an_absent_order_is_looked_up_again_after_the_window_before_any_resend() -> None:
    found = order("closed")
    flow = place_once(REQUEST, "cid-1", lookup_of([None, found]), accept)
    result, sent = drive(flow, [unknown(window=5), None, RESUMED, None])
    # The late original landed during the window: found, never resent.
    assert result is found and sent == ["/order", "/order", "pause", "/order"]


def test_absent_after_both_windows_means_not_placed() -> None:
    flow = place_once(REQUEST, "cid-1", lookup_of([None, None, None, None]), accept)
    down = ExchangeNotAvailable("down", exchange="x", code=10016)
    answers = [unknown_caused_by(down), None, RESUMED, None]
    answers += [unknown_caused_by(down), None, RESUMED, None]
    result, sent = drive(flow, answers)
    assert type(result) is ExchangeNotAvailable and result.code == 10016
    assert "the order was not placed" in result.message
    assert sent.count("pause") == 2


def test_unique_ids_resend_without_waiting_for_the_window() -> None:
    found = order("open")
    flow = place_once(REQUEST, "cid-1", lookup_of([None]), lambda r: found, ids_unique=True)
    result, sent = drive(flow, [unknown(window=5), None, Response(200, {}, b"{}")])
    assert result is found and "pause" not in sent


def test_a_failed_lookup_gets_a_second_chance_after_the_window() -> None:
    found = order("open")

    def lookup() -> Generator[Request, Any, Order | None]:
        response = yield LOOKUP
        if response is None:
            raise BadResponse("not yet")
        return found

    flow = place_once(REQUEST, "cid-1", lookup, accept, ids_unique=True)
    result, sent = drive(flow, [unknown(window=5), None, RESUMED, RESUMED])
    assert result is found and sent.count("pause") == 1


def test_an_unreadable_acknowledgement_is_settled_by_a_lookup() -> None:
    found = order("open")

    def unreadable(response: Response) -> Order:
        raise KeyError("result")

    flow = place_once(REQUEST, "cid-1", lookup_of([found]), unreadable)
    result, sent = drive(flow, [Response(200, {}, b"{}"), None])
    assert result is found and sent == ["/order", "/order"]
    flow = place_once(REQUEST, "cid-1", lookup_of([None]), unreadable)
    result, _ = drive(flow, [Response(200, {}, b"{}"), None])
    assert isinstance(result, OutcomeUnknown) and result.client_order_id == "cid-1"


def test_an_acknowledgement_without_the_client_order_id_gets_ours() -> None:
    import attrs

    bare = attrs.evolve(order("open"), client_order_id=None)
    flow = place_once(REQUEST, "cid-9", lookup_of([]), lambda r: bare)
    result, _ = drive(flow, [Response(200, {}, b"{}")])
    assert result.client_order_id == "cid-9" and result.id == "id-1"
