"""ccxt's exceptions into the error tree: every ccxt class, native codes, scrubbing."""

from __future__ import annotations

import inspect
from typing import Any

import ccxt
import pytest
from ccxt.base import errors as ccxt_errors
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from adapters.binance import errors as binance_errors
from adapters.bybit import errors as bybit_errors
from adapters.ccxt_bridge.errors import (
    CLASS_MAP,
    NATIVE_CODES,
    Scrubber,
    extract_native,
    family_of,
    map_exception,
)
from adapters.okx import errors as okx_errors
from exchanges import errors as e
from exchanges.credentials import Credentials

KEY, SECRET, PASSPHRASE = "fake-key-0123456789", "fake-secret-abcdef", "fake-passphrase-1"
SCRUB = Scrubber([Credentials(KEY, SECRET, passphrase=PASSPHRASE)])

#: Every class of ccxt.base.errors (4.5.90) and the class the bridge raises for it.
EXPECTED: dict[str, type[e.ExchangeError]] = {
    "BaseError": e.ExchangeError,
    # ccxt's catch-all without any code of the exchange: an answer nobody could read.
    "ExchangeError": e.BadResponse,
    "AuthenticationError": e.AuthenticationError,
    "PermissionDenied": e.PermissionDenied,
    "AccountNotEnabled": e.AccountRestricted,
    "AccountSuspended": e.AccountRestricted,
    "ArgumentsRequired": e.BadRequest,
    "BadRequest": e.BadRequest,
    "BadSymbol": e.BadSymbol,
    "OperationRejected": e.ExchangeError,
    "NoChange": e.BadRequest,
    "MarginModeAlreadySet": e.BadRequest,
    "MarketClosed": e.InvalidOrder,
    "ManualInteractionNeeded": e.AccountRestricted,
    "RestrictedLocation": e.AccountRestricted,
    "InsufficientFunds": e.InsufficientFunds,
    "InvalidAddress": e.BadRequest,
    "AddressPending": e.BadRequest,
    "InvalidOrder": e.InvalidOrder,
    "OrderNotFound": e.OrderNotFound,
    "OrderNotCached": e.OrderNotFound,
    "OrderImmediatelyFillable": e.InvalidOrder,
    "OrderNotFillable": e.InvalidOrder,
    "DuplicateOrderId": e.DuplicateOrderId,
    "ContractUnavailable": e.InvalidOrder,
    "NotSupported": e.NotSupported,
    "InvalidProxySettings": e.BadRequest,
    "ExchangeClosedByUser": e.ExchangeError,
    "OperationFailed": e.ExchangeNotAvailable,
    "NetworkError": e.NetworkError,
    "DDoSProtection": e.RateLimitExceeded,
    "RateLimitExceeded": e.RateLimitExceeded,
    "ExchangeNotAvailable": e.ExchangeNotAvailable,
    "OnMaintenance": e.ExchangeNotAvailable,
    "InvalidNonce": e.ClockSkew,
    "ChecksumError": e.BadResponse,
    "RequestTimeout": e.RequestTimeout,
    "BadResponse": e.BadResponse,
    "NullResponse": e.BadResponse,
    "CancelPending": e.ExchangeNotAvailable,
    "UnsubscribeError": e.ExchangeError,
}

CCXT_CLASSES = {
    name: cls
    for name, cls in inspect.getmembers(ccxt_errors, inspect.isclass)
    if issubclass(cls, ccxt_errors.BaseError)
}


def mapped(exc: BaseException, family: str | None = None, **kwargs: Any) -> e.ExchangeError:
    return map_exception(
        exc, exchange="bybit", family=family, endpoint="ccxt x", scrub=SCRUB, **kwargs
    )


def test_the_table_covers_every_ccxt_error_class() -> None:
    # A class added by a newer ccxt fails here, so that its meaning is decided, not defaulted.
    assert set(CCXT_CLASSES) == set(EXPECTED) == set(CLASS_MAP)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_ccxt_class_maps_to_its_class(name: str) -> None:
    err = mapped(CCXT_CLASSES[name]("bybit something went wrong"))
    assert type(err) is EXPECTED[name]
    assert (err.exchange, err.endpoint, err.code) == ("bybit", "ccxt x", None)
    assert err.message == "something went wrong"
    assert err.hint
    if isinstance(err, e.NetworkError):
        # ccxt cannot say whether the request left: a write is then reconciled, not resent.
        assert err.request_sent is True


def test_a_catch_all_with_the_exchange_code_stays_an_exchange_error() -> None:
    err = mapped(ccxt.ExchangeError('bybit {"retCode":123456,"retMsg":"odd"}'), family="bybit")
    assert type(err) is e.ExchangeError and err.code == 123456
    # Without a code an order's outcome is unknown, not refused: reconciled, never resent.
    unreadable = mapped(ccxt.ExchangeError("bybit {}"), family="bybit")
    assert type(unreadable) is e.BadResponse and unreadable.retryable


def test_retry_semantics_follow_the_mapped_class() -> None:
    assert mapped(ccxt.RateLimitExceeded("x")).retryable
    assert mapped(ccxt.ExchangeNotAvailable("x")).retryable
    assert mapped(ccxt.RequestTimeout("x")).retryable
    assert not mapped(ccxt.InsufficientFunds("x")).retryable
    assert not mapped(ccxt.AuthenticationError("x")).retryable


@pytest.mark.parametrize(
    ("family", "ccxt_class", "body", "expected", "code"),
    [
        # The same meaning lands in different ccxt classes per exchange; ours agree.
        ("bybit", ccxt.InvalidNonce, '{"retCode":10002,"retMsg":"invalid request"}', e.ClockSkew,
         10002),
        ("binance", ccxt.BadRequest, '{"code":-1021,"msg":"Timestamp for this request"}',
         e.ClockSkew, -1021),
        ("okx", ccxt.InvalidNonce, '{"code":"50102","msg":"Timestamp request expired"}',
         e.ClockSkew, "50102"),
        ("bybit", ccxt.AuthenticationError, '{"retCode":10004,"retMsg":"error sign!"}',
         e.InvalidSignature, 10004),
        ("binance", ccxt.BadRequest, '{"code":-1022,"msg":"Signature for this request"}',
         e.InvalidSignature, -1022),
        ("okx", ccxt.AuthenticationError, '{"code":"50113","msg":"Invalid Sign"}',
         e.InvalidSignature, "50113"),
        ("bybit", ccxt.InvalidOrder, '{"retCode":110072,"retMsg":"OrderLinkedID is duplicate"}',
         e.DuplicateOrderId, 110072),
        ("binance", ccxt.InvalidOrder, '{"code":-4116,"msg":"ClientOrderId is duplicated."}',
         e.DuplicateOrderId, -4116),
        ("binance", ccxt.InvalidOrder, '{"code":-2010,"msg":"Duplicate order sent."}',
         e.DuplicateOrderId, -2010),
        ("okx", ccxt.InvalidOrder,
         '{"code":"1","msg":"All operations failed","data":[{"sCode":"51016",'
         '"sMsg":"Duplicated clOrdId"}]}', e.DuplicateOrderId, "51016"),
        ("bybit", ccxt.ExchangeError, '{"retCode":10016,"retMsg":"Internal server error."}',
         e.ExchangeNotAvailable, 10016),
        ("binance", ccxt.RequestTimeout, '{"code":-1007,"msg":"Timeout waiting"}',
         e.ExchangeNotAvailable, -1007),
        ("bybit", ccxt.PermissionDenied, '{"retCode":10010,"retMsg":"Unmatched IP"}',
         e.IpNotAllowed, 10010),
        ("okx", ccxt.AuthenticationError, '{"code":"50101","msg":"APIKey does not match"}',
         e.InvalidApiKey, "50101"),
    ],
)  # fmt: skip
def test_native_codes_decide_where_ccxt_disagrees(
    family: str, ccxt_class: type[Exception], body: str, expected: type, code: Any
) -> None:
    err = mapped(ccxt_class(f"{family} {body}"), family)
    assert type(err) is expected
    assert err.code == code


def test_unknown_code_keeps_ccxts_class_and_the_code() -> None:
    err = mapped(ccxt.InvalidOrder('bybit {"retCode":170999,"retMsg":"Something new"}'), "bybit")
    assert (type(err), err.code, err.message) == (e.InvalidOrder, 170999, "Something new")
    other = mapped(ccxt.ExchangeError('kraken {"error":{"code":42,"message":"odd"}}'), None)
    assert (type(other), other.code, other.message) == (e.ExchangeError, 42, "odd")


def test_a_non_ccxt_exception_is_bad_response() -> None:
    err = mapped(KeyError("result"))
    assert type(err) is e.BadResponse
    assert "KeyError" in err.message


def test_http_status_and_the_last_body_fill_in_what_the_message_lacks() -> None:
    text = "bybit GET http://127.0.0.1:1/v5/x?a=1 503 Service Unavailable <html>"
    assert mapped(ccxt.ExchangeNotAvailable(text)).http_status == 503
    body = '{"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    message = "binance Account has insufficient balance for requested action."
    err = mapped(ccxt.InsufficientFunds(message), "binance", last_body=body)
    assert (type(err), err.code) == (e.InsufficientFunds, -2010)
    # A body whose message is not the one raised belongs to another call: not used.
    other = mapped(ccxt.InsufficientFunds(message), "binance", last_body='{"code":-1,"msg":"x"}')
    assert other.code is None


def test_messages_are_scrubbed() -> None:
    text = (
        f'bybit {{"retCode":10004,"retMsg":"error sign! origin_string[1700000000000{KEY}5000'
        f'{{\\"a\\":\\"{SECRET}\\"}}]"}}'
    )
    err = mapped(ccxt.AuthenticationError(text), "bybit")
    assert type(err) is e.InvalidSignature
    assert KEY not in str(err) and SECRET not in str(err)
    assert "fake…6789" in err.message
    url = (
        "binance GET http://127.0.0.1:1/api/v3/account?timestamp=1&signature=0123456789abcdef"
        f"&passphrase={PASSPHRASE} 404 Not Found"
    )
    err = mapped(ccxt.ExchangeNotAvailable(url), "binance")
    assert "0123456789abcdef" not in str(err) and PASSPHRASE not in str(err)
    assert "signature=<redacted>" in err.message


def test_scrubber_masks_pem_lines_and_json_signatures() -> None:
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    scrub = Scrubber([None, Credentials("fake-key-9876543210", pem)])
    line = pem.splitlines()[1]
    text = scrub(f'{{"sign":"abcdef0123456789","echo":"{line}"}}')
    assert "abcdef0123456789" not in text and line not in text


def test_extract_native_prefers_an_okx_items_scode() -> None:
    body = '{"code":"1","msg":"failed","data":[{"sCode":"0"},{"sCode":"51008","sMsg":"poor"}]}'
    assert extract_native(body) == ("51008", "poor", None)
    assert extract_native("no json here") == (None, None, None)
    assert extract_native('prefix {broken json} then {"retCode":0} {"code":7}') == (
        None,
        None,
        None,
    )


def test_families_follow_ccxt_subclasses() -> None:
    assert family_of(ccxt.binanceusdm) == "binance"
    assert family_of(ccxt.myokx) == "okx"
    assert family_of(ccxt.bybit) == "bybit"
    assert family_of(ccxt.kraken) is None


def _native_class(family: str, code: str) -> set[type]:
    found: set[type] = set()
    if family == "bybit":
        err = bybit_errors.error_for_code(int(code), "m", env="mainnet", http_status=200,
                                          endpoint=None)  # fmt: skip
        found.add(type(err))
    elif family == "binance":
        for market in ("spot", "usdm"):
            err = binance_errors.error_for_code(
                int(code), "m", market=market, env="mainnet", http_status=400, endpoint=None
            )
            found.add(type(err))
    else:
        found.add(type(okx_errors.error_for_code(code, "m", env="mainnet", http_status=200,
                                                 endpoint=None)))  # fmt: skip
    return found


@pytest.mark.parametrize(
    ("family", "code"),
    [(family, code) for family, table in NATIVE_CODES.items() for code in table],
)
def test_native_codes_mean_what_the_native_adapters_say(family: str, code: str) -> None:
    # The bridge's small table must not drift from the native adapters' full ones.
    expected, _ = NATIVE_CODES[family][code]
    assert expected in _native_class(family, code)
