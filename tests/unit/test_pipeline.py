"""The request pipeline with a scripted exchange: resync, rate limits, retries, writes, keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

import exchanges
from exchanges.errors import (
    AuthenticationError,
    ClockSkew,
    ExchangeNotAvailable,
    InvalidSignature,
    NetworkError,
    OutcomeUnknown,
    RateLimitExceeded,
    UnsafeApiKey,
)
from exchanges.wire import Prepared, Response
from tests.fakes import KEY_INFO, NOW, FakeBybit, FakeClock, make_client, raises

ORDER_ACK = {"orderId": "oid-1", "orderLinkId": "cid-1"}


def open_order(link: str, status: str = "New") -> dict[str, str]:
    return {
        "orderId": "oid-1",
        "orderLinkId": link,
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "price": "60000",
        "qty": "0.01",
        "orderStatus": status,
        "cumExecQty": "0",
        "leavesQty": "0.01",
        "avgPrice": "",
        "timeInForce": "GTC",
        "createdTime": str(NOW),
        "updatedTime": str(NOW),
    }


def test_clock_skew_resyncs_once_then_succeeds() -> None:
    fake = FakeBybit()
    clock = FakeClock()
    stamps: list[int] = []

    def wallet(prepared: Prepared) -> Response:
        stamp = int(prepared.headers["X-BAPI-TIMESTAMP"])
        stamps.append(stamp)
        if not fake.server_time - 5000 <= stamp < fake.server_time + 1000:
            return fake.error(10002, "invalid request, please check your server timestamp")
        return fake.ok({"list": [{"coin": []}]})

    fake.on("GET", "/v5/account/wallet-balance", wallet)
    ex = make_client(fake, clock=clock)
    ex.fetch_balance()  # first signed call: one initial sync, then the call
    assert fake.paths() == ["GET /v5/market/time", "GET /v5/account/wallet-balance"]
    fake.server_time += 30_000  # the exchange's clock jumps 30 s ahead of ours
    fake.sent.clear()
    ex.fetch_balance()
    assert fake.paths() == [
        "GET /v5/account/wallet-balance",
        "GET /v5/market/time",
        "GET /v5/account/wallet-balance",
    ]
    assert stamps[-1] <= fake.server_time, "never stamped ahead of the server"
    assert stamps[-1] >= fake.server_time - 1000
    assert ex.session.clock.offset_ms == 30_000


def test_persistent_clock_skew_is_raised_after_one_resync() -> None:
    fake = FakeBybit()
    fake.on("GET", "/v5/account/wallet-balance", lambda p: fake.error(10002, "time window"))
    ex = make_client(fake)
    with pytest.raises(ClockSkew) as info:
        ex.fetch_balance()
    assert info.value.code == 10002
    assert fake.paths().count("GET /v5/market/time") == 2  # initial sync + one resync
    assert fake.paths().count("GET /v5/account/wallet-balance") == 2


def test_rate_limit_waits_and_retries_writes_too() -> None:
    fake = FakeBybit()
    replies = iter(
        [
            fake.error(
                10006,
                "Too many visits!",
                {"X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(NOW + 5)},
            ),
            fake.ok(ORDER_ACK),
        ]
    )
    fake.on("POST", "/v5/order/create", lambda p: next(replies))
    ex = make_client(fake)
    order = ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), Decimal("60000"))
    assert order.id == "oid-1"
    assert fake.paths().count("POST /v5/order/create") == 2


def test_rate_limit_gives_up_after_its_bound() -> None:
    fake = FakeBybit()
    fake.on("GET", "/v5/market/tickers", lambda p: fake.error(10006, "Too many visits!"))
    ex = make_client(fake)
    with pytest.raises(RateLimitExceeded):
        ex.fetch_ticker("BTC/USDT")
    assert fake.paths().count("GET /v5/market/tickers") == 6  # 1 + rate_limit_retries (5)


def test_retryable_reads_are_retried_with_a_bound() -> None:
    fake = FakeBybit()
    fake.on("GET", "/v5/account/wallet-balance", lambda p: fake.error(10016, "Server error."))
    ex = make_client(fake)
    with pytest.raises(ExchangeNotAvailable) as info:
        ex.fetch_balance()
    assert info.value.code == 10016
    assert fake.paths().count("GET /v5/account/wallet-balance") == 3


def test_a_retryable_read_recovers() -> None:
    fake = FakeBybit()
    replies = iter(
        [
            NetworkError("reset", request_sent=True),
            fake.error(10016, "Server error."),
            fake.ok({"list": [{"coin": [{"coin": "USDT", "walletBalance": "5", "locked": "1"}]}]}),
        ]
    )
    fake.on("GET", "/v5/account/wallet-balance", lambda p: next(replies))
    balances = make_client(fake).fetch_balance()
    assert balances["USDT"].free == Decimal(4)


def test_non_retryable_errors_are_raised_at_once() -> None:
    fake = FakeBybit()
    fake.on("GET", "/v5/account/wallet-balance", lambda p: fake.error(10004, "error sign!"))
    ex = make_client(fake)
    with pytest.raises(InvalidSignature):
        ex.fetch_balance()
    assert fake.paths().count("GET /v5/account/wallet-balance") == 1


def test_write_failing_after_send_is_reconciled_not_resent() -> None:
    fake = FakeBybit()
    fake.on("POST", "/v5/order/create", raises(NetworkError("reset", request_sent=True)))

    def realtime(prepared: Prepared) -> Response:
        link = fake.params(prepared)["orderLinkId"]
        return fake.ok({"list": [open_order(link)], "nextPageCursor": ""})

    fake.on("GET", "/v5/order/realtime", realtime)
    ex = make_client(fake)
    order = ex.create_order(
        "BTC/USDT", "limit", "buy", Decimal("0.01"), Decimal("60000"), client_order_id="my-order-1"
    )
    assert order.client_order_id == "my-order-1" and order.status == "open"
    assert fake.paths().count("POST /v5/order/create") == 1


def test_write_resent_once_when_provably_absent_and_110072_means_placed() -> None:
    fake = FakeBybit()
    creates = iter([fake.error(10016, "Server error."), fake.error(110072, "duplicate")])
    fake.on("POST", "/v5/order/create", lambda p: next(creates))
    lookups = iter([[], [open_order("cid-9")]])
    fake.on(
        "GET",
        "/v5/order/realtime",
        lambda p: fake.ok({"list": next(lookups), "nextPageCursor": ""}),
    )
    fake.on("GET", "/v5/order/history", lambda p: fake.ok({"list": [], "nextPageCursor": ""}))
    ex = make_client(fake)
    order = ex.create_order("BTC/USDT", "limit", "buy", "0.01", "60000", client_order_id="cid-9")
    assert order.client_order_id == "cid-9"
    creates_sent = [p for p in fake.sent if urlsplit(p.url).path == "/v5/order/create"]
    assert len(creates_sent) == 2
    assert creates_sent[0].body == creates_sent[1].body  # same orderLinkId both times


def test_unknown_outcome_is_raised_with_the_client_order_id() -> None:
    fake = FakeBybit()
    fake.on("POST", "/v5/order/create", raises(NetworkError("timeout", request_sent=True)))
    fake.on("GET", "/v5/order/realtime", raises(NetworkError("down", request_sent=False)))
    ex = make_client(fake)
    with pytest.raises(OutcomeUnknown) as info:
        ex.create_order("BTC/USDT", "limit", "buy", "0.01", "60000", client_order_id="cid-7")
    assert info.value.client_order_id == "cid-7"
    assert "cid-7" in str(info.value)


def test_write_not_sent_at_all_is_retried() -> None:
    fake = FakeBybit()
    creates = iter([NetworkError("refused", request_sent=False), fake.ok(ORDER_ACK)])
    fake.on("POST", "/v5/order/create", lambda p: next(creates))
    order = make_client(fake).create_order("BTC/USDT", "market", "buy", "0.01")
    assert order.id == "oid-1"


def test_withdrawal_key_refused_before_any_order() -> None:
    fake = FakeBybit()
    dangerous = dict(KEY_INFO, permissions={"Wallet": ["AccountTransfer", "Withdraw"]})
    fake.on("GET", "/v5/user/query-api", lambda p: fake.ok(dangerous))
    fake.on("POST", "/v5/order/create", lambda p: fake.ok(ORDER_ACK))
    ex = make_client(fake)
    with pytest.raises(UnsafeApiKey) as info:
        ex.create_order("BTC/USDT", "limit", "buy", "0.01", "60000")
    assert "allow_withdrawal_keys" in info.value.hint
    assert "POST /v5/order/create" not in fake.paths()
    allowed = make_client(fake, allow_withdrawal_keys=True)
    assert allowed.create_order("BTC/USDT", "limit", "buy", "0.01", "60000").id == "oid-1"


def test_trade_key_signs_writes_and_read_key_signs_reads() -> None:
    fake = FakeBybit()
    fake.on("POST", "/v5/order/create", lambda p: fake.ok(ORDER_ACK))
    fake.on("GET", "/v5/account/wallet-balance", lambda p: fake.ok({"list": []}))
    read = exchanges.Credentials("read-key-0001", "read-secret")
    trade = exchanges.Credentials("trade-key-0002", "trade-secret")
    ex = make_client(fake, credentials=read, trade_credentials=trade)
    ex.fetch_balance()
    ex.create_order("BTC/USDT", "limit", "buy", "0.01", "60000")
    by_path = {(p.method, urlsplit(p.url).path): p for p in fake.sent}
    assert by_path[("GET", "/v5/account/wallet-balance")].headers["X-BAPI-API-KEY"] == read.api_key
    # The trading key's permissions are checked with the trading key itself.
    assert by_path[("GET", "/v5/user/query-api")].headers["X-BAPI-API-KEY"] == trade.api_key
    create = by_path[("POST", "/v5/order/create")]
    assert create.headers["X-BAPI-API-KEY"] == trade.api_key
    message = (create.headers["X-BAPI-TIMESTAMP"] + trade.api_key + "5000").encode() + create.body
    assert (
        create.headers["X-BAPI-SIGN"]
        == hmac.new(b"trade-secret", message, hashlib.sha256).hexdigest()
    )


def test_private_call_without_credentials_says_which_variables() -> None:
    fake = FakeBybit()
    ex = make_client(fake)
    ex.session.credentials = None
    with pytest.raises(AuthenticationError) as info:
        ex.fetch_balance()
    assert "BYBIT_API_KEY" in info.value.hint
    assert fake.sent == []


def test_error_messages_mask_the_key_and_never_carry_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeBybit()
    creds = exchanges.Credentials("test-key-abcdef123", "test-secret-zyx987")

    def echo(prepared: Prepared) -> Response:
        origin = prepared.headers["X-BAPI-TIMESTAMP"] + creds.api_key + "5000test-secret-zyx987"
        return fake.error(10004, f"error sign! origin_string[{origin}]")

    fake.on("GET", "/v5/account/wallet-balance", echo)
    ex = make_client(fake, credentials=creds)
    with pytest.raises(InvalidSignature) as info:
        ex.fetch_balance()
    text = str(info.value) + repr(info.value) + caplog.text
    assert "test-key-abcdef123" not in text and "test-secret-zyx987" not in text
    assert "test…f123" in str(info.value)


def test_debug_log_has_method_path_status_code_and_no_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="exchanges")
    fake = FakeBybit()
    fake.on("GET", "/v5/account/wallet-balance", lambda p: fake.ok({"list": []}))
    ex = make_client(fake)
    ex.fetch_balance()
    lines = [r.getMessage() for r in caplog.records if r.name == "exchanges.bybit"]
    assert any("GET /v5/account/wallet-balance -> 200 code=0" in line for line in lines)
    signatures = [p.headers["X-BAPI-SIGN"] for p in fake.sent if "X-BAPI-SIGN" in p.headers]
    for line in lines:
        assert "test-secret" not in line and "test-key-123456" not in line
        assert not any(sig in line for sig in signatures)


def test_urllib3_request_lines_never_log_a_query_signature(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import exchanges.transport.sync  # noqa: F401 - installs the filter

    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.binance.com", 443, "GET",
        "/api/v3/account?timestamp=1&recvWindow=5000&signature=deadbeefcafe0123", "HTTP/1.1",
        200, 100,
    )  # fmt: skip
    assert "deadbeefcafe0123" not in caplog.text
    assert "signature=<redacted>" in caplog.text
