"""The Bybit conversations that fail: one cassette in ``cassettes/bybit/emulator/`` per retCode
class (the successful ones are in ``bybit_cases.py``, registered before these).

Moved unchanged from the single-exchange kit: every request, and so every recorded byte, is the
same as before (``python -m tests.cassette.record --exchange bybit`` reproduces the files).
"""

from __future__ import annotations

from exchanges import errors as e
from exchanges.emulator import Emulator, FaultRule
from tests.cassette.bybit_cases import BYBIT, D
from tests.cassette.harness import Caller, faults, has, message_has, offset, retried_read, scenario
from tests.cassette.vcrkit import FROZEN_MS, TEST_KEY, TEST_SECRET

# -- errors: one cassette per retCode class --------------------------------------------------

_WALLET = "/v5/account/wallet-balance"


async def _balance(call: Caller) -> None:
    await call("fetch_balance")


async def _buy(call: Caller, symbol: str, amount: str, price: str | None, cid: str) -> None:
    kind = "market" if price is None else "limit"
    await call(
        "create_order",
        symbol,
        kind,
        "buy",
        D(amount),
        None if price is None else D(price),
        client_order_id=cid,
    )


@scenario(
    BYBIT,
    "post_only_would_take",
    raises=e.OrderImmediatelyFillable,
    code=None,
    hint="Move the price",
    check_error=message_has("post-only", "cancelled it unfilled"),
)
async def _post_only_would_take(call: Caller) -> None:
    """A post-only buy above the ask: Bybit accepts it and cancels it at once
    (EC_PostOnlyWillTakeLiquidity); the read-back turns that into OrderImmediatelyFillable."""
    await call(
        "create_order",
        "BTC/USDT",
        "limit",
        "buy",
        D("0.001"),
        D("70000"),
        client_order_id="cas-10001",
        post_only=True,
    )


@scenario(BYBIT, "error_10002_resynced", setup=offset(60_000))
async def _e10002_resynced(call: Caller) -> None:
    """The server is 60 s ahead: 10002, one GET /v5/market/time, the same call restamped."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000)
    assert call.ex.session.clock.offset_ms == 60_000


@scenario(
    BYBIT,
    "error_10002_clock_skew",
    raises=e.ClockSkew,
    code=10002,
    hint="resyncs and retries once",
    setup=offset(60_000),
    recv_window_ms=10,
    check_error=message_has("req_timestamp[", "recv_window[10]"),
)
async def _e10002(call: Caller) -> None:
    """A 10 ms receive window cannot absorb the 20 ms safety margin: 10002 survives the resync."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10003_invalid_api_key",
    raises=e.InvalidApiKey,
    code=10003,
    hint="Keys of mainnet, testnet and demo trading are separate",
    emulator={"api_key": None},
)
async def _e10003(call: Caller) -> None:
    """The emulator knows no key at all: 10003."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10004_invalid_signature",
    raises=e.InvalidSignature,
    code=10004,
    hint="nothing re-encodes the request",
    emulator={"api_secret": "the-emulator-holds-another-one"},
    check_error=message_has("origin_string[1767225600000", "accountType=UNIFIED"),
)
async def _e10004(call: Caller) -> None:
    """The emulator holds another secret for test-key: the request (signed with the published
    secret, so the cassette's X-BAPI-SIGN still verifies) is refused with 10004."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10005_permission_denied",
    raises=e.PermissionDenied,
    code=10005,
    hint="read-only key",
    emulator={"permissions": ("read",)},
)
async def _e10005(call: Caller) -> None:
    """A read-only test key passes the trade-key check but may not place an order: 10005."""
    await _buy(call, "BTC/USDT", "0.001", "50000", "cas-10005")


@scenario(
    BYBIT,
    "error_10006_rate_limit",
    raises=e.RateLimitExceeded,
    code=10006,
    hint="Slow down",
    setup=faults(FaultRule(kind="rate_limit", path=_WALLET)),
    check_error=lambda err: has(err, retry_after=0.2, retryable=True, http_status=200),
)
async def _e10006(call: Caller) -> None:
    """10006 with X-Bapi-Limit-Reset-Timestamp 200 ms ahead, three times (two bounded waits)."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10010_ip_not_allowed",
    raises=e.IpNotAllowed,
    code=10010,
    hint="IP whitelist",
    emulator={"ips": ("10.0.0.1",)},
)
async def _e10010(call: Caller) -> None:
    """The test key is bound to 10.0.0.1; the request came from loopback: 10010."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10016_server_error",
    raises=e.ExchangeNotAvailable,
    code=10016,
    hint="Bybit had an internal error",
    setup=faults(FaultRule(kind="server_error", path=_WALLET)),
    check_error=retried_read(),
)
async def _e10016(call: Caller) -> None:
    """10016 on a read, every time: three attempts, then ExchangeNotAvailable."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_10016_create_reconciled",
    setup=faults(FaultRule(kind="server_error_after", path="/v5/order/create", count=1)),
)
async def _e10016_reconciled(call: Caller) -> None:
    """The order is placed but the answer is 10016: the outcome is unknown, so the client looks
    the orderLinkId up (/v5/order/realtime) and returns the order instead of resending."""
    order = await call(
        "create_order",
        "BTC/USDT",
        "limit",
        "buy",
        D("0.01"),
        D("50000"),
        client_order_id="cas-reconcile-1",
    )
    assert (order.client_order_id, order.status) == ("cas-reconcile-1", "open")


@scenario(
    BYBIT,
    "error_10016_create_outcome_unknown",
    raises=e.OutcomeUnknown,
    code=10016,
    hint="fetch_order(None, symbol, client_order_id=...)",
    setup=faults(FaultRule(kind="server_error", path="/v5/order/create")),
    check_error=lambda err: has(err, client_order_id="cas-unknown-1", retryable=False),
)
async def _e10016_unknown(call: Caller) -> None:
    """10016 on every create: look up (realtime, history), resend once with the same
    orderLinkId, look up again, then OutcomeUnknown naming the client order id."""
    await _buy(call, "BTC/USDT", "0.01", "50000", "cas-unknown-1")


def _expired(emu: Emulator) -> None:
    emu.add_key(TEST_KEY, TEST_SECRET, expires_at=FROZEN_MS - 1)


@scenario(
    BYBIT,
    "error_33004_api_key_expired",
    raises=e.ApiKeyExpired,
    code=33004,
    hint="Create a new API key",
    emulator={"api_key": None},
    setup=_expired,
)
async def _e33004(call: Caller) -> None:
    """The test key expired 1 ms before the frozen instant: 33004."""
    await _balance(call)


@scenario(
    BYBIT, "error_110001_order_not_found", raises=e.OrderNotFound, code=110001, hint="order id"
)
async def _e110001(call: Caller) -> None:
    """Cancelling an unknown linear order: 110001."""
    await call("cancel_order", "no-such-order", "BTC/USDT:USDT")


@scenario(
    BYBIT, "error_170213_order_not_found", raises=e.OrderNotFound, code=170213, hint="order id"
)
async def _e170213(call: Caller) -> None:
    """Cancelling an unknown spot order: spot's own code, 170213."""
    await call("cancel_order", "no-such-order", "BTC/USDT")


@scenario(
    BYBIT,
    "error_110007_insufficient_funds",
    raises=e.InsufficientFunds,
    code=110007,
    hint="deposit more",
)
async def _e110007(call: Caller) -> None:
    """100 BTC of linear contracts at 60000 on a 100000 USDT account: 110007."""
    await _buy(call, "BTC/USDT:USDT", "100", "60000", "cas-110007")


@scenario(
    BYBIT,
    "error_170131_insufficient_funds",
    raises=e.InsufficientFunds,
    code=170131,
    hint="deposit more",
)
async def _e170131(call: Caller) -> None:
    """100 spot BTC at 60000 on a 100000 USDT account: spot's 170131."""
    await _buy(call, "BTC/USDT", "100", "60000", "cas-170131")


@scenario(
    BYBIT,
    "error_110072_duplicate_order_id",
    raises=e.DuplicateOrderId,
    code=110072,
    hint="fetch_order(None, symbol, client_order_id=...)",
)
async def _e110072(call: Caller) -> None:
    """The same orderLinkId twice: the first order stands, the second is 110072."""
    await _buy(call, "BTC/USDT:USDT", "0.01", "50000", "cas-dup-1")
    await _buy(call, "BTC/USDT:USDT", "0.01", "50000", "cas-dup-1")


@scenario(
    BYBIT,
    "error_110017_reduce_only",
    raises=e.InvalidOrder,
    code=110017,
    hint="Reduce-only rule not met",
)
async def _e110017(call: Caller) -> None:
    """A reduce-only sell with no position: 110017, an InvalidOrder."""
    await call(
        "create_order",
        "BTC/USDT:USDT",
        "market",
        "sell",
        D("0.01"),
        client_order_id="cas-110017",
        reduce_only=True,
    )


@scenario(
    BYBIT,
    "error_170140_min_notional",
    raises=e.InvalidOrder,
    code=None,
    hint="min_notional",
)
async def _e170140(call: Caller) -> None:
    """0.0001 BTC at 5000 USDT is worth 0.5 USDT, below spot's minimum of 1: refused before
    sending (Bybit would answer 170140), so the cassette holds the instruments request only."""
    await _buy(call, "BTC/USDT", "0.0001", "5000", "cas-170140")


@scenario(
    BYBIT,
    "error_http_403",
    raises=e.RateLimitExceeded,
    code=None,
    hint="at least 10 minutes",
    setup=faults(FaultRule(kind="html_403", path=_WALLET)),
    check_error=lambda err: has(err, http_status=403, retryable=False, retry_after=600.0),
)
async def _e403(call: Caller) -> None:
    """An HTML 403 page (IP ban or region block): not retried, no native code."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_http_502",
    raises=e.ExchangeNotAvailable,
    code=None,
    hint="reads are retried",
    setup=faults(FaultRule(kind="http_5xx", path=_WALLET, param=502)),
    check_error=retried_read(http_status=502),
)
async def _e502(call: Caller) -> None:
    """An HTML 502 from a gateway, every time: three attempts, then ExchangeNotAvailable."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_truncated_body",
    raises=e.BadResponse,
    code=None,
    hint="not its JSON",
    setup=faults(FaultRule(kind="truncated", path=_WALLET)),
    check_error=message_has("not JSON"),
)
async def _e_truncated(call: Caller) -> None:
    """Half of the JSON body, every time: three attempts, then BadResponse."""
    await _balance(call)


@scenario(
    BYBIT,
    "error_not_json",
    raises=e.BadResponse,
    code=None,
    hint="maintenance page",
    setup=faults(FaultRule(kind="malformed", path=_WALLET)),
)
async def _e_not_json(call: Caller) -> None:
    """HTTP 200 with an HTML maintenance page instead of JSON: BadResponse."""
    await _balance(call)


@scenario(BYBIT, "error_bad_symbol", raises=e.BadSymbol, code=None, hint="load_markets()")
async def _e_bad_symbol(call: Caller) -> None:
    """DOGE/USDT is not among the spot instruments: refused after one request, locally."""
    await call("fetch_ticker", "DOGE/USDT")
