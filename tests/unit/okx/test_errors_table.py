"""OKX's error table and envelope rules: code, then data[].sCode, subCode kept.

https://www.okx.com/docs-v5/en/#error-code-rest-api-public
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.okx.errors import CODES, error_for_code, error_for_http, item_errors
from adapters.okx.parse import decode
from adapters.okx.requests import RequestBuilder
from exchanges import errors as e
from exchanges.retry import outcome_unknown
from exchanges.wire import Request, Response

EXPECTED: dict[str, type[e.ExchangeError]] = {
    "50000": e.BadRequest,
    "50001": e.ExchangeNotAvailable,
    "50002": e.BadRequest,
    "50004": e.ExchangeNotAvailable,
    "50005": e.ExchangeNotAvailable,
    "50006": e.BadRequest,
    "50011": e.RateLimitExceeded,
    "50013": e.ExchangeNotAvailable,
    "50014": e.BadRequest,
    "50015": e.BadRequest,
    "50026": e.ExchangeNotAvailable,
    "50030": e.PermissionDenied,
    "50035": e.PermissionDenied,
    "50038": e.NotSupported,
    "50061": e.RateLimitExceeded,
    "50100": e.AuthenticationError,
    "50101": e.InvalidApiKey,
    "50102": e.ClockSkew,
    "50103": e.AuthenticationError,
    "50104": e.AuthenticationError,
    "50105": e.AuthenticationError,
    "50106": e.AuthenticationError,
    "50107": e.AuthenticationError,
    "50110": e.IpNotAllowed,
    "50111": e.InvalidApiKey,
    "50112": e.AuthenticationError,
    "50113": e.InvalidSignature,
    "50114": e.AuthenticationError,
    "50115": e.BadRequest,
    "50119": e.InvalidApiKey,
    "50120": e.PermissionDenied,
    "50121": e.AccountRestricted,
    "51000": e.BadRequest,
    "51001": e.BadSymbol,
    "51008": e.InsufficientFunds,
    "51016": e.DuplicateOrderId,
    "51020": e.InvalidOrder,
    "51121": e.InvalidOrder,
    "51131": e.InsufficientFunds,
    "51149": e.ExchangeNotAvailable,
    "51400": e.OrderNotFound,
    "51401": e.OrderNotFound,
    "51402": e.OrderNotFound,
    "51503": e.OrderNotFound,
    "51603": e.OrderNotFound,
}


@pytest.mark.parametrize(("code", "cls"), sorted(EXPECTED.items()))
def test_reference_codes_map_to_their_class(code: str, cls: type[e.ExchangeError]) -> None:
    err = error_for_code(code, "msg", env="mainnet", http_status=200, endpoint="GET /x")
    assert type(err) is cls
    assert err.code == code and err.exchange == "okx" and err.hint


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("Parameter sz error", e.InvalidOrder),
        ("Parameter px error", e.InvalidOrder),
        ("Parameter newSz error", e.InvalidOrder),
        ("Parameter instType error", e.BadRequest),
        ("Parameter expTime error", e.BadRequest),
    ],
)
def test_51000_is_an_invalid_order_when_it_names_the_orders_own_field(
    message: str, cls: type[e.ExchangeError]
) -> None:
    err = error_for_code("51000", message, env="mainnet", http_status=200, endpoint=None)
    assert type(err) is cls and err.code == "51000" and err.message == message


def test_every_table_entry_is_tested_or_marked_from_ccxt() -> None:
    # The table's entries beyond OKX's documented ones are ccxt's; all of OKX's are above.
    assert set(EXPECTED) <= set(CODES)


def test_retry_classes() -> None:
    for code in ("50001", "50004", "50013", "50026", "51149", "50011"):
        assert error_for_code(code, "", env="mainnet", http_status=200, endpoint=None).retryable
    for code in ("50113", "51008", "51016", "51603", "50005"):
        assert not error_for_code(code, "", env="mainnet", http_status=200, endpoint=None).retryable


@pytest.mark.parametrize("code", ["50004", "51149"])
def test_timeouts_become_outcome_unknown_for_writes(code: str) -> None:
    err = error_for_code(code, "timed out", env="mainnet", http_status=400, endpoint="POST /o")
    converted = outcome_unknown(err, "cid1")
    assert isinstance(converted, e.OutcomeUnknown)
    assert converted.client_order_id == "cid1" and converted.code == code


def test_50101_hint_names_the_environment_used() -> None:
    live = error_for_code(
        "50101",
        "APIKey does not match current environment.",
        env="mainnet",
        http_status=401,
        endpoint=None,
    )
    demo = error_for_code(
        "50101",
        "APIKey does not match current environment.",
        env="demo",
        http_status=401,
        endpoint=None,
    )
    assert "live trading" in live.hint and "env='demo'" in live.hint
    assert "demo trading" in demo.hint and "env='mainnet'" in demo.hint
    for hint in (live.hint, demo.hint):
        assert "separate" in hint


def test_unknown_code_keeps_code_and_message() -> None:
    err = error_for_code("59999", "something new", env="mainnet", http_status=200, endpoint=None)
    assert type(err) is e.ExchangeError
    assert (err.code, err.message) == ("59999", "something new")


def response(
    payload: Any, status: int = 200, request: Request | None = None, **headers: str
) -> Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return Response(status, headers, body, request)


def decode_error(resp: Response, env: str = "mainnet") -> e.ExchangeError:
    with pytest.raises(e.ExchangeError) as info:
        decode(resp, env)
    return info.value


def test_scode_wins_over_code_and_subcode_is_kept() -> None:
    resp = response(
        {
            "code": "1",
            "msg": "All operations failed",
            "data": [
                {
                    "clOrdId": "a1",
                    "ordId": "",
                    "sCode": "51008",
                    "sMsg": "Order failed. Insufficient USDT balance in account.",
                    "subCode": "1000",
                }
            ],
        }
    )
    err = decode_error(resp)
    assert type(err) is e.InsufficientFunds
    assert err.code == "51008" and "subCode 1000" in err.message
    assert "Insufficient USDT" in err.message


def test_table_spelling_of_a_subcode_is_understood() -> None:
    err = error_for_code("51008_1001", "margin", env="mainnet", http_status=200, endpoint=None)
    assert type(err) is e.InsufficientFunds
    assert (err.code, err.message) == ("51008", "margin (subCode 1001)")


def test_code_1_without_items_is_a_generic_failure() -> None:
    err = decode_error(response({"code": "1", "msg": "Operation failed.", "data": []}))
    assert type(err) is e.ExchangeError and err.code == "1"


def test_top_level_code_when_items_have_no_scode() -> None:
    err = decode_error(response({"code": "50113", "msg": "Invalid signature.", "data": []}, 401))
    assert type(err) is e.InvalidSignature and err.http_status == 401


def test_code_2_partial_success_surfaces_the_failed_item() -> None:
    payload = {
        "code": "2",
        "msg": "Bulk operation partially succeeded.",
        "data": [
            {"ordId": "1", "sCode": "0", "sMsg": ""},
            {"ordId": "2", "sCode": "51400", "sMsg": "cancellation failed"},
        ],
    }
    # Outside a batch endpoint the failing item is raised...
    assert type(decode_error(response(payload))) is e.OrderNotFound
    # ...a batch endpoint keeps the items for the flow, which reports them one by one.
    batch = RequestBuilder("https://h").cancel_batch([{"instId": "BTC-USDT", "ordId": "1"}])
    resp = response(payload, request=batch)
    decode(resp, "mainnet")
    results = item_errors(resp.data["data"], env="mainnet")
    assert results[0] is None and type(results[1]) is e.OrderNotFound


def test_code_0_with_a_failing_single_item_is_a_failure() -> None:
    payload = {"code": "0", "msg": "", "data": [{"sCode": "51016", "sMsg": "Duplicated clOrdId"}]}
    assert type(decode_error(response(payload))) is e.DuplicateOrderId


def test_rate_limit_statuses_and_retry_after() -> None:
    err = decode_error(
        response(
            {"code": "50011", "msg": "Too Many Requests", "data": []}, 429, **{"Retry-After": "2"}
        )
    )
    assert isinstance(err, e.RateLimitExceeded) and err.retry_after == 2.0
    err = decode_error(response({"code": "50011", "msg": "Rate limit reached.", "data": []}))
    assert isinstance(err, e.RateLimitExceeded) and err.retry_after is None
    html = decode_error(response(b"<html>429</html>", 429, **{"Retry-After": "1.5"}))
    assert isinstance(html, e.RateLimitExceeded) and html.retry_after == 1.5


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (503, e.ExchangeNotAvailable),
        (502, e.ExchangeNotAvailable),
        (401, e.AuthenticationError),
        (403, e.AccountRestricted),
        (404, e.BadRequest),
        (400, e.BadRequest),
        (418, e.BadResponse),
    ],
)
def test_non_json_bodies_are_classified_by_status(status: int, cls: type) -> None:
    err = decode_error(response(b"<html>nope</html>", status))
    assert type(err) is cls and err.http_status == status
    assert type(error_for_http(status, b"x", endpoint=None)) is cls


def test_malformed_bodies() -> None:
    assert type(decode_error(response(b"<html>maintenance</html>"))) is e.BadResponse
    assert type(decode_error(response(b""))) is e.BadResponse
    assert type(decode_error(response({"result": []}))) is e.BadResponse
    assert type(decode_error(response({"error": "x"}, 500))) is e.ExchangeNotAvailable


def test_success_sets_data_and_code() -> None:
    resp = response({"code": "0", "msg": "", "data": [{"ts": "1"}]})
    decode(resp, "mainnet")
    assert resp.code == "0" and resp.data["data"] == [{"ts": "1"}]
