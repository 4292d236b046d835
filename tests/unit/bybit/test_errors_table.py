"""Every Bybit retCode we classify maps to its class with a hint.

Codes: https://bybit-exchange.github.io/docs/v5/error ("Error Codes").
"""

from __future__ import annotations

import json

import pytest

from adapters.bybit.errors import CODES, error_for_code, error_for_http, item_errors
from adapters.bybit.parse import decode
from exchanges import errors as e
from exchanges.wire import Request, Response

EXPECTED: dict[int, type[e.ExchangeError]] = {
    -1: e.ClockSkew,
    429: e.ExchangeNotAvailable,
    -2015: e.ApiKeyExpired,
    33004: e.ApiKeyExpired,
    5004: e.ExchangeNotAvailable,
    10000: e.ExchangeNotAvailable,
    10001: e.BadRequest,
    10002: e.ClockSkew,
    10003: e.InvalidApiKey,
    10004: e.InvalidSignature,
    10005: e.PermissionDenied,
    10006: e.RateLimitExceeded,
    10007: e.AuthenticationError,
    10008: e.AccountRestricted,
    10009: e.AccountRestricted,
    10010: e.IpNotAllowed,
    10014: e.BadRequest,
    10016: e.ExchangeNotAvailable,
    10017: e.BadRequest,
    10018: e.RateLimitExceeded,
    10020: e.AccountRestricted,
    10024: e.AccountRestricted,
    10027: e.AccountRestricted,
    10028: e.AccountRestricted,
    10029: e.BadSymbol,
    100028: e.AccountRestricted,
    30035: e.RateLimitExceeded,
    110001: e.OrderNotFound,
    110003: e.InvalidOrder,
    110004: e.InsufficientFunds,
    110005: e.InvalidOrder,
    110006: e.InsufficientFunds,
    110007: e.InsufficientFunds,
    110008: e.OrderNotFound,
    110009: e.InvalidOrder,
    110010: e.OrderNotFound,
    110012: e.InsufficientFunds,
    110013: e.BadRequest,
    110014: e.InsufficientFunds,
    110017: e.InvalidOrder,
    110024: e.BadRequest,
    110020: e.InvalidOrder,
    110021: e.InvalidOrder,
    110025: e.BadRequest,
    110026: e.BadRequest,
    110028: e.BadRequest,
    110029: e.NotSupported,
    110043: e.BadRequest,
    110044: e.InsufficientFunds,
    110045: e.InsufficientFunds,
    110072: e.DuplicateOrderId,
    110079: e.InvalidOrder,
    110086: e.BadRequest,
    110092: e.InvalidOrder,
    110093: e.InvalidOrder,
    110094: e.InvalidOrder,
    110100: e.NotSupported,
    181017: e.InvalidOrder,
    170001: e.ExchangeNotAvailable,
    170005: e.RateLimitExceeded,
    170007: e.ExchangeNotAvailable,
    170121: e.BadSymbol,
    170124: e.InvalidOrder,
    170130: e.BadRequest,
    170131: e.InsufficientFunds,
    170132: e.InvalidOrder,
    170133: e.InvalidOrder,
    170134: e.InvalidOrder,
    170136: e.InvalidOrder,
    170137: e.InvalidOrder,
    170139: e.OrderNotFound,
    170140: e.InvalidOrder,
    170141: e.DuplicateOrderId,
    170142: e.OrderNotFound,
    170143: e.OrderNotFound,
    170193: e.InvalidOrder,
    170194: e.InvalidOrder,
    170209: e.AccountRestricted,
    170210: e.InvalidOrder,
    170213: e.OrderNotFound,
    170222: e.RateLimitExceeded,
    170371: e.InvalidOrder,
    170372: e.InvalidOrder,
    170810: e.InvalidOrder,
}

RETRYABLE = {
    -1,
    429,
    5004,
    10000,
    10002,
    10006,
    10016,
    30035,
    110079,
    170001,
    170005,
    170007,
    170222,
}


def test_table_covers_exactly_the_expected_codes() -> None:
    assert set(CODES) == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_code_maps_to_class_with_hint(code: int) -> None:
    err = error_for_code(
        code, "native message", env="testnet", http_status=200, endpoint="POST /v5/order/create"
    )
    assert type(err) is EXPECTED[code]
    assert err.code == code and err.message == "native message" and err.exchange == "bybit"
    assert err.hint and len(err.hint) > 10
    assert err.retryable is (code in RETRYABLE)
    assert str(err).startswith(f"bybit {code} {EXPECTED[code].__name__}: native message")


def test_10003_hint_names_the_environment_and_that_keys_are_separate() -> None:
    for env, host in (
        ("testnet", "api-testnet.bybit.com"),
        ("demo", "api-demo.bybit.com"),
        ("mainnet", "api.bybit.com"),
    ):
        hint = error_for_code(
            10003, "API key is invalid.", env=env, http_status=200, endpoint=None
        ).hint
        assert host in hint and "separate" in hint


def test_unknown_codes_keep_code_and_message() -> None:
    err = error_for_code(123456, "something new", env="mainnet", http_status=200, endpoint=None)
    assert type(err) is e.ExchangeError and err.code == 123456 and err.message == "something new"


def test_classification_ignores_the_message() -> None:
    a = error_for_code(
        110007, "ab not enough for new order", env="m", http_status=200, endpoint=None
    )
    b = error_for_code(110007, "Too many visits!", env="m", http_status=200, endpoint=None)
    assert type(a) is type(b) is e.InsufficientFunds


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("The number of contracts exceeds minimum limit allowed", e.InvalidOrder),
        ("Qty invalid", e.InvalidOrder),
        ("params error: price is required for limit orders", e.InvalidOrder),
        ("Order value exceeded lower limit", e.InvalidOrder),
        ("params error: orderLinkId invalid (<= 36 of [A-Za-z0-9_-])", e.BadRequest),
        ("Not supported symbols", e.BadRequest),
    ],
)
def test_the_generic_params_error_is_an_invalid_order_when_it_names_the_order(
    message: str, cls: type[e.ExchangeError]
) -> None:
    err = error_for_code(10001, message, env="mainnet", http_status=200, endpoint=None)
    assert type(err) is cls and err.code == 10001 and err.message == message


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (403, e.RateLimitExceeded, False),
        (429, e.RateLimitExceeded, True),
        (401, e.AuthenticationError, False),
        (404, e.BadRequest, False),
        (500, e.ExchangeNotAvailable, True),
        (502, e.ExchangeNotAvailable, True),
        (503, e.ExchangeNotAvailable, True),
        (400, e.BadRequest, False),
        (418, e.BadResponse, True),
    ],
)
def test_http_statuses_of_non_json_bodies(
    status: int, cls: type[e.ExchangeError], retryable: bool
) -> None:
    err = error_for_http(status, b"<html><body>nope</body></html>", endpoint="GET /x")
    assert type(err) is cls and err.http_status == status and err.retryable is retryable
    assert "nope" in err.message


def response(status: int, body: bytes) -> Response:
    return Response(status, {}, body, Request("GET", "https://x", "/v5/account/wallet-balance"))


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (200, b'{"retCode":0,"retMsg":"OK","result":{"a":1},"retExtInfo":{},"time":1}', None),
        (200, b'{"ret_code":0,"ret_msg":"OK","result":{}}', None),
        (200, b'{"retCode":10006,"retMsg":"Too many visits!"}', e.RateLimitExceeded),
        (200, b'{"retCode":5004,"retMsg":"Server Timeout","result":null}', e.ExchangeNotAvailable),
        (200, b'{"retCode":"10004","retMsg":"x"}', e.InvalidSignature),
        (200, b'{"retCode":"abc","retMsg":"x"}', e.BadResponse),
        (200, b'{"retCode":0,"retMsg":"OK","res', e.BadResponse),
        (200, b"", e.BadResponse),
        (200, b"[1,2]", e.BadResponse),
        (200, b'{"hello":1}', e.BadResponse),
        (403, b"<html>403 Forbidden</html>", e.RateLimitExceeded),
        (502, b"<html>Bad Gateway</html>", e.ExchangeNotAvailable),
        (503, b'{"retCode":0,"result":{}}', e.ExchangeNotAvailable),
    ],
)
def test_envelope_decoding(status: int, body: bytes, cls: type[e.ExchangeError] | None) -> None:
    resp = response(status, body)
    if cls is None:
        decode(resp, "mainnet")
        assert resp.code == 0 and isinstance(resp.data, dict)
    else:
        with pytest.raises(cls) as info:
            decode(resp, "mainnet")
        assert info.value.endpoint == "GET /v5/account/wallet-balance"
        assert info.value.hint


def test_10006_retry_after_from_the_reset_header() -> None:
    body = json.dumps({"retCode": 10006, "retMsg": "Too many visits!", "time": 1000}).encode()
    resp = Response(200, {"X-Bapi-Limit-Reset-Timestamp": "1750"}, body, None)
    with pytest.raises(e.RateLimitExceeded) as info:
        decode(resp, "mainnet")
    assert info.value.retry_after == pytest.approx(0.75)


def test_batch_items_are_surfaced_per_item() -> None:
    # Bybit docs, order/batch-cancel example: top-level retCode 0, item 2 failed.
    data = {
        "retCode": 0,
        "result": {"list": [{"orderId": "1"}, {"orderId": ""}]},
        "retExtInfo": {
            "list": [{"code": 0, "msg": "OK"}, {"code": 170213, "msg": "Order does not exist."}]
        },
    }
    items = item_errors(data, env="mainnet", endpoint="POST /v5/order/cancel-batch")
    assert items[0] is None
    assert isinstance(items[1], e.OrderNotFound) and items[1].code == 170213
    assert item_errors({"retExtInfo": {}}, env="m", endpoint=None) == []
