"""Binance codes and statuses into the error tree, scoped by market.

Codes: https://developers.binance.com/docs/binance-spot-api-docs/errors (spot) and
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code (USD-M).
"""

from __future__ import annotations

import json

import pytest

from adapters.binance import errors as table
from adapters.binance.errors import error_for_code, error_for_http
from adapters.binance.hosts import hosts_for
from adapters.binance.parse import decode
from adapters.binance.requests import RequestBuilder
from exchanges import errors as e
from exchanges.retry import outcome_unknown
from exchanges.wire import Request, Response

BUILD = RequestBuilder(hosts_for("mainnet"))


def err(code: int, msg: str = "", market: str = "spot", **kw: object) -> e.ExchangeError:
    return error_for_code(
        code,
        msg,
        market=market,
        env="mainnet",
        http_status=400,
        endpoint="X /y",
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (-1000, e.ExchangeNotAvailable),
        (-1001, e.ExchangeNotAvailable),
        (-1002, e.PermissionDenied),
        (-1003, e.RateLimitExceeded),
        (-1006, e.ExchangeNotAvailable),
        (-1007, e.ExchangeNotAvailable),
        (-1013, e.InvalidOrder),
        (-1015, e.RateLimitExceeded),
        (-1021, e.ClockSkew),
        (-1022, e.InvalidSignature),
        (-1100, e.BadRequest),
        (-1102, e.BadRequest),
        (-1111, e.InvalidOrder),
        (-1121, e.BadSymbol),
        (-1122, e.BadSymbol),
        (-1131, e.BadRequest),
        (-2013, e.OrderNotFound),
        (-2014, e.InvalidApiKey),
        (-2015, e.InvalidApiKey),
        (-2026, e.OrderNotFound),
    ],
)
@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_shared_codes(code: int, cls: type[e.ExchangeError], market: str) -> None:
    error = err(code, "m", market)
    assert type(error) is cls
    assert (error.code, error.exchange, error.message, error.endpoint) == (
        code,
        "binance",
        "m",
        "X /y",
    )
    assert error.hint


@pytest.mark.parametrize(
    ("code", "spot", "usdm"),
    [
        # Same number, different meaning on spot and USD-M.
        (-2021, e.InvalidOrder, e.InvalidOrder),
        (-2022, e.InvalidOrder, e.InvalidOrder),
        (-1008, e.ExchangeNotAvailable, e.RateLimitExceeded),
        (-2018, e.ExchangeError, e.InsufficientFunds),
        (-2019, e.ExchangeError, e.InsufficientFunds),
        (-4116, e.ExchangeError, e.DuplicateOrderId),
        (-4164, e.ExchangeError, e.InvalidOrder),
        (-5022, e.ExchangeError, e.OrderImmediatelyFillable),
        (-5021, e.ExchangeError, e.OrderNotFillable),
        (-1099, e.ExchangeError, e.AuthenticationError),
    ],
)
def test_codes_are_scoped_by_market(
    code: int, spot: type[e.ExchangeError], usdm: type[e.ExchangeError]
) -> None:
    assert type(err(code, "m", "spot")) is spot
    assert type(err(code, "m", "usdm")) is usdm


def test_minus_2021_and_2022_hints_differ_by_market() -> None:
    assert "cancel-replace" in err(-2021, market="spot").hint
    assert "trigger immediately" in err(-2021, market="usdm").hint
    assert "cancel-replace" in err(-2022, market="spot").hint
    assert "reduce-only" in err(-2022, market="usdm").hint


@pytest.mark.parametrize(
    ("code", "msg", "cls"),
    [
        (-2010, "Account has insufficient balance for requested action.", e.InsufficientFunds),
        (-2010, "Duplicate order sent.", e.DuplicateOrderId),
        (-2010, "Order would immediately match and take.", e.OrderImmediatelyFillable),
        (-2010, "Order would trigger immediately.", e.InvalidOrder),
        (-2010, "Market is closed.", e.InvalidOrder),
        (-2010, "This symbol is not permitted for this account.", e.AccountRestricted),
        (-2010, "This symbol is restricted for this account.", e.AccountRestricted),
        (-2010, "Rest API trading is not enabled.", e.PermissionDenied),
        (-2010, "This account may not place or cancel orders.", e.AccountRestricted),
        (-2010, "Price * QTY is zero or less.", e.InvalidOrder),
        (-2010, "Something new Binance says.", e.InvalidOrder),
        (-2011, "Unknown order sent.", e.OrderNotFound),
        (
            -2011,
            "Cancel request failure as open order not found in the orderbook: 'Unknown order sent'",
            e.OrderNotFound,
        ),
        (-2011, "Order was not canceled due to cancel restrictions.", e.InvalidOrder),
    ],
)
def test_messages_classify_2010_and_2011(code: int, msg: str, cls: type[e.ExchangeError]) -> None:
    for market in ("spot", "usdm"):
        error = err(code, msg, market)
        assert type(error) is cls and error.code == code and error.message == msg


def test_2015_hint_names_the_environment_and_all_three_causes() -> None:
    for env, host in (
        ("mainnet", "api.binance.com"),
        ("testnet", "testnet.binance.vision"),
        ("demo", "demo-api.binance.com"),
    ):
        error = error_for_code(
            -2015,
            "Invalid API-key, IP, or permissions for action.",
            market="spot",
            env=env,
            http_status=401,
            endpoint=None,
        )
        assert isinstance(error, e.InvalidApiKey)
        assert host in error.hint
        for cause in ("unknown", "IP", "permission", "separate"):
            assert cause in error.hint


def test_unknown_codes_keep_code_and_message() -> None:
    error = err(-9999, "brand new")
    assert type(error) is e.ExchangeError
    assert (error.code, error.message) == (-9999, "brand new")
    assert "not in the library's table" in error.hint


def test_rate_limits_418_429_and_bans() -> None:
    limited = error_for_code(
        -1003, "Too much request weight used", market="spot", env="mainnet",
        http_status=429, endpoint=None, retry_after=7.0,
    )  # fmt: skip
    assert isinstance(limited, e.RateLimitExceeded)
    assert limited.retryable and limited.retry_after == 7.0
    banned = error_for_code(
        -1003, "Way too much request weight used; IP banned until 1700000000000.",
        market="spot", env="mainnet", http_status=418, endpoint=None, retry_after=120.0,
    )  # fmt: skip
    assert isinstance(banned, e.RateLimitExceeded) and not banned.retryable
    assert banned.retry_after == 120.0 and "418" in banned.hint
    page = error_for_http(418, b"<html>banned</html>", market="spot", endpoint=None)
    assert isinstance(page, e.RateLimitExceeded) and not page.retryable


def test_http_statuses_without_binance_json() -> None:
    waf = error_for_http(403, b"<html>403 Forbidden</html>", market="spot", endpoint="GET /x")
    assert isinstance(waf, e.RateLimitExceeded) and not waf.retryable and "firewall" in waf.hint
    for status in (500, 502, 503, 504, 408):
        down = error_for_http(status, b"<html>oops</html>", market="usdm", endpoint=None)
        assert isinstance(down, e.ExchangeNotAvailable) and down.retryable
    assert isinstance(error_for_http(404, b"", market="spot", endpoint=None), e.BadRequest)
    assert isinstance(error_for_http(401, b"", market="spot", endpoint=None), e.AuthenticationError)


@pytest.mark.parametrize("code", [-1006, -1007, -1000])
def test_unknown_outcome_codes_become_outcome_unknown_for_writes(code: int) -> None:
    error = err(code, "Send status unknown; execution status unknown.")
    assert error.retryable
    assert isinstance(outcome_unknown(error, "cid-1"), e.OutcomeUnknown)
    # Refusals that prove nothing happened stay as they are.
    assert outcome_unknown(err(-1021)) is not None
    assert isinstance(outcome_unknown(err(-1021)), e.ClockSkew)


def response(
    status: int, body: object, request: Request, headers: dict[str, str] | None = None
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, headers or {}, raw, request)


def test_decode_scopes_by_path_and_reads_retry_after() -> None:
    spot = BUILD.new_order("spot", {"symbol": "X"})
    usdm = BUILD.new_order("usdm", {"symbol": "X"})
    body = {"code": -2021, "msg": "Order cancel-replace partially failed."}
    with pytest.raises(e.InvalidOrder, match="cancel-replace") as spot_err:
        decode(response(409, body, spot), "mainnet")
    assert spot_err.value.http_status == 409 and spot_err.value.endpoint == "POST /api/v3/order"
    with pytest.raises(e.InvalidOrder) as usdm_err:
        decode(
            response(400, {"code": -2021, "msg": "Order would immediately trigger."}, usdm),
            "mainnet",
        )
    assert "trigger" in usdm_err.value.hint
    with pytest.raises(e.RateLimitExceeded) as limited:
        decode(
            response(429, {"code": -1003, "msg": "Too many"}, spot, {"Retry-After": "3"}), "mainnet"
        )
    assert limited.value.retry_after == 3.0
    with pytest.raises(e.ExchangeNotAvailable):
        decode(response(503, b"<html>Service Unavailable</html>", usdm), "mainnet")
    with pytest.raises(e.BadResponse):
        decode(response(200, b"<html>maintenance</html>", spot), "mainnet")


def test_decode_success_shapes() -> None:
    request = BUILD.cancel_open_orders("usdm", "BTCUSDT")
    ok = response(
        200, {"code": 200, "msg": "The operation of cancel all open order is done."}, request
    )
    decode(ok, "mainnet")
    assert ok.data["code"] == 200
    listing = response(200, [{"orderId": 1}], BUILD.open_orders("spot", None))
    decode(listing, "mainnet")
    assert listing.data == [{"orderId": 1}]


def test_tables_hold_only_negative_codes_and_real_classes() -> None:
    for mapping in (table.SHARED, table.SPOT, table.FUTURES):
        for code, (cls, hint, retryable) in mapping.items():
            assert code < 0 and issubclass(cls, e.ExchangeError)
            assert hint is None or hint.endswith((".", ")"))
            assert retryable in (None, True, False)
