from __future__ import annotations

import inspect
import pickle

import pytest

import exchanges
from exchanges import errors

TREE = {
    "AuthenticationError": "ExchangeError",
    "InvalidApiKey": "AuthenticationError",
    "InvalidSignature": "AuthenticationError",
    "ApiKeyExpired": "AuthenticationError",
    "PermissionDenied": "AuthenticationError",
    "IpNotAllowed": "AuthenticationError",
    "UnsafeApiKey": "ExchangeError",
    "ClockSkew": "ExchangeError",
    "RateLimitExceeded": "ExchangeError",
    "BadRequest": "ExchangeError",
    "BadSymbol": "BadRequest",
    "InvalidOrder": "ExchangeError",
    "InsufficientFunds": "InvalidOrder",
    "OrderNotFound": "InvalidOrder",
    "DuplicateOrderId": "InvalidOrder",
    "OrderImmediatelyFillable": "InvalidOrder",
    "OrderNotFillable": "InvalidOrder",
    "AccountRestricted": "ExchangeError",
    "ExchangeNotAvailable": "ExchangeError",
    "NetworkError": "ExchangeError",
    "RequestTimeout": "NetworkError",
    "StreamInterrupted": "NetworkError",
    "StreamOverflow": "ExchangeError",
    "OutcomeUnknown": "ExchangeError",
    "BadResponse": "ExchangeError",
    "NotSupported": "ExchangeError",
    "ClientClosed": "ExchangeError",
}

RETRYABLE = {
    "ClockSkew",
    "RateLimitExceeded",
    "ExchangeNotAvailable",
    "NetworkError",
    "RequestTimeout",
    "StreamInterrupted",
    "BadResponse",
}


def all_classes() -> list[type[errors.ExchangeError]]:
    return [getattr(errors, name) for name in ["ExchangeError", *TREE]]


def test_tree_has_exactly_the_designed_classes_and_parents() -> None:
    defined = {
        name
        for name, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, errors.ExchangeError)
    }
    assert defined == {"ExchangeError", *TREE}
    for name, parent in TREE.items():
        cls = getattr(errors, name)
        assert cls.__bases__ == (getattr(errors, parent),), name


def test_every_class_is_exported_from_the_package() -> None:
    for cls in all_classes():
        assert getattr(exchanges, cls.__name__) is cls
        assert cls.__name__ in exchanges.__all__


@pytest.mark.parametrize("cls", all_classes(), ids=lambda c: c.__name__)
def test_attributes_message_and_pickling(cls: type[errors.ExchangeError]) -> None:
    err = cls(
        "error sign!",
        exchange="bybit",
        code=10004,
        hint="check the secret",
        http_status=200,
        endpoint="POST /v5/order/create",
    )
    assert err.exchange == "bybit"
    assert err.code == 10004
    assert err.message == "error sign!"
    assert err.hint == "check the secret"
    assert err.http_status == 200
    assert err.endpoint == "POST /v5/order/create"
    assert err.retryable is (cls.__name__ in RETRYABLE)
    text = str(err)
    expected = f"bybit 10004 {cls.__name__}: error sign! — hint: check the secret"
    if cls.__name__ == "OutcomeUnknown":
        assert text.startswith(expected)
    else:
        assert text == expected
    assert "POST /v5/order/create" in repr(err)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is cls
    assert (clone.code, clone.message, clone.hint, clone.endpoint) == (
        err.code,
        err.message,
        err.hint,
        err.endpoint,
    )
    assert cls.__doc__ and "\n" not in cls.__doc__.strip()


@pytest.mark.parametrize("cls", all_classes(), ids=lambda c: c.__name__)
def test_default_hint_says_what_to_do(cls: type[errors.ExchangeError]) -> None:
    err = cls("boom")
    assert err.hint and len(err.hint) > 15
    assert str(err) == f"{cls.__name__}: boom — hint: {err.hint}"


def test_retryable_can_be_overridden_per_instance() -> None:
    assert errors.InvalidOrder("x", retryable=True).retryable is True
    assert errors.ExchangeNotAvailable("x", retryable=False).retryable is False


def test_special_attributes_survive_pickling() -> None:
    limited = pickle.loads(pickle.dumps(errors.RateLimitExceeded("slow", retry_after=1.5)))
    assert limited.retry_after == 1.5
    unknown = pickle.loads(pickle.dumps(errors.OutcomeUnknown("?", client_order_id="abc")))
    assert unknown.client_order_id == "abc"
    assert "client_order_id=abc" in str(unknown)
    net = pickle.loads(pickle.dumps(errors.NetworkError("reset", request_sent=True)))
    assert net.request_sent is True


def test_repr_names_the_class_and_code() -> None:
    text = repr(errors.InvalidSignature("bad", exchange="okx", code="50113"))
    assert text.startswith("InvalidSignature(exchange='okx', code='50113'")
