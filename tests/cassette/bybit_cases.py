"""The Bybit conversations: one per cassette in ``cassettes/bybit/emulator/``.

Moved unchanged from the single-exchange kit: every request, and so every recorded byte, is the
same as before (``python -m tests.cassette.record --exchange bybit`` reproduces the files).
"""

from __future__ import annotations

from decimal import Decimal

from exchanges import errors as e
from exchanges.emulator import Emulator, FaultRule
from tests.cassette.harness import (
    Caller,
    faults,
    has,
    message_has,
    offset,
    retried_read,
    scenario,
)
from tests.cassette.vcrkit import FROZEN_MS, TEST_KEY, TEST_SECRET

D = Decimal
BYBIT = "bybit"

SYMBOLS = ["BTC/USD:BTC", "BTC/USDT", "BTC/USDT:USDT", "ETH/USDT", "ETH/USDT:USDT", "SOL/USDT"]


# -- success: one cassette per interface method -------------------------------------------


@scenario(BYBIT, "fetch_time")
async def _fetch_time(call: Caller) -> None:
    """GET /v5/market/time (unsigned); the server's frozen clock comes back."""
    assert await call("fetch_time") == FROZEN_MS


@scenario(BYBIT, "load_markets")
async def _load_markets(call: Caller) -> None:
    """Instruments of spot, linear and inverse, once; the cache answers the second call."""
    markets = await call("load_markets")
    assert sorted(markets) == SYMBOLS
    btc = markets["BTC/USDT:USDT"]
    assert (btc.id, btc.type, btc.settle, btc.linear) == ("BTCUSDT", "swap", "USDT", True)
    assert (btc.price_step, btc.amount_step, btc.min_notional) == (D("0.10"), D("0.001"), D(5))
    inverse = markets["BTC/USD:BTC"]
    assert (inverse.id, inverse.inverse, inverse.settle) == ("BTCUSD", True, "BTC")
    assert await call("load_markets") == markets  # no request: the cassette has three
    assert (await call("market", "ETH/USDT")).id == "ETHUSDT"


@scenario(BYBIT, "fetch_markets")
async def _fetch_markets(call: Caller) -> None:
    """fetch_markets always fetches: the same three instrument requests, each time."""
    markets = await call("fetch_markets")
    assert sorted(m.symbol for m in markets) == SYMBOLS
    spot = {m.symbol: m for m in markets}["BTC/USDT"]
    assert (spot.type, spot.price_step, spot.amount_step) == ("spot", D("0.01"), D("0.000001"))
    assert spot.min_amount == D("0.000048") and spot.max_amount == D(100)


@scenario(BYBIT, "fetch_ticker")
async def _fetch_ticker(call: Caller) -> None:
    """Spot instruments (the symbol's group only), then the ticker of BTCUSDT."""
    ticker = await call("fetch_ticker", "BTC/USDT")
    assert ticker.symbol == "BTC/USDT" and ticker.timestamp == FROZEN_MS
    assert (ticker.bid, ticker.ask, ticker.last) == (D("64999.98"), D("65000.02"), D("65000.00"))
    assert (ticker.bid_size, ticker.high, ticker.low) == (
        D("0.216046"),
        D("65322.12"),
        D("64725.09"),
    )


@scenario(BYBIT, "fetch_tickers")
async def _fetch_tickers(call: Caller) -> None:
    """Instruments and tickers of the two categories asked for (inverse, then spot)."""
    tickers = await call("fetch_tickers", ["BTC/USDT", "BTC/USD:BTC"])
    assert sorted(tickers) == ["BTC/USD:BTC", "BTC/USDT"]
    assert all(t.bid < t.ask for t in tickers.values())


@scenario(BYBIT, "fetch_order_book")
async def _fetch_order_book(call: Caller) -> None:
    """Linear instruments, then /v5/market/orderbook with limit=5."""
    book = await call("fetch_order_book", "BTC/USDT:USDT", 5)
    assert book.symbol == "BTC/USDT:USDT" and len(book.bids) == len(book.asks) == 5
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    assert (book.bids[0], book.asks[0]) == (
        (D("64999.90"), D("0.298")),
        (D("65000.10"), D("0.089")),
    )
    assert book.timestamp == FROZEN_MS


@scenario(BYBIT, "fetch_trades")
async def _fetch_trades(call: Caller) -> None:
    """A market buy makes a public trade; /v5/market/recent-trade lists it, oldest first."""
    await call(
        "create_order", "ETH/USDT", "market", "buy", D("0.5"), client_order_id="cas-trades-1"
    )
    trades = await call("fetch_trades", "ETH/USDT", 5)
    assert trades and trades[-1].side == "buy"
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)


@scenario(BYBIT, "fetch_ohlcv")
async def _fetch_ohlcv(call: Caller) -> None:
    """Klines twice: the newest five hours, then three from ``since`` (start/end pinned)."""
    candles = await call("fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5 and candles[-1].timestamp == FROZEN_MS  # the hour now open
    assert [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    since = await call("fetch_ohlcv", "BTC/USDT", "1h", candles[0].timestamp, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]


@scenario(BYBIT, "fetch_balance")
async def _fetch_balance(call: Caller) -> None:
    """GET /v5/account/wallet-balance?accountType=UNIFIED, signed at the frozen instant."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == D(2) and balances["ETH"].total == D(20)


@scenario(BYBIT, "clock_sync", sync_clock=True)
async def _clock_sync(call: Caller) -> None:
    """With clock sync on: GET /v5/market/time first, then the balance stamped 20 ms behind."""
    balances = await call("fetch_balance")
    assert balances["SOL"].total == D(200)
    assert call.ex.session.clock.offset_ms == 0


@scenario(BYBIT, "fetch_trading_fee")
async def _fetch_trading_fee(call: Caller) -> None:
    """Linear instruments, then the signed /v5/account/fee-rate of BTCUSDT."""
    fee = await call("fetch_trading_fee", "BTC/USDT:USDT")
    assert (fee.symbol, fee.maker, fee.taker) == ("BTC/USDT:USDT", D("0.0002"), D("0.00055"))


@scenario(BYBIT, "create_order")
async def _create_order(call: Caller) -> None:
    """The trading key is checked once (query-api), then the exact JSON body of the order;
    a post-only order is read back once (/v5/order/realtime) to learn whether it rests."""
    order = await call(
        "create_order",
        "BTC/USDT",
        "limit",
        "buy",
        D("0.01"),
        D("50000"),
        client_order_id="cas-create-1",
        post_only=True,
    )
    assert order.client_order_id == "cas-create-1" and order.id
    # Bybit acknowledges with ids only; the read-back says the order rests.
    assert (order.status, order.price, order.amount, order.time_in_force) == (
        "open",
        D(50000),
        D("0.01"),
        "PO",
    )


@scenario(BYBIT, "amend_order")
async def _amend_order(call: Caller) -> None:
    """A linear order, then /v5/order/amend with the emulator's (seeded) order id."""
    order = await call(
        "create_order",
        "BTC/USDT:USDT",
        "limit",
        "buy",
        D("0.01"),
        D("50000"),
        client_order_id="cas-amend-1",
    )
    amended = await call(
        "amend_order", order.id, "BTC/USDT:USDT", amount=D("0.02"), price=D("50100.5")
    )
    assert amended.id == order.id
    assert (amended.price, amended.amount) == (D("50100.5"), D("0.02"))


@scenario(BYBIT, "cancel_order")
async def _cancel_order(call: Caller) -> None:
    """An order, then /v5/order/cancel by client order id (orderLinkId)."""
    order = await call(
        "create_order",
        "BTC/USDT",
        "limit",
        "sell",
        D("0.01"),
        D("90000"),
        client_order_id="cas-cancel-1",
    )
    cancelled = await call("cancel_order", None, "BTC/USDT", client_order_id="cas-cancel-1")
    assert cancelled.id == order.id == "6513270e-269e-4d37-b2a7-4de452e6b438"  # seeded
    assert cancelled.client_order_id == "cas-cancel-1"


@scenario(BYBIT, "cancel_all_orders")
async def _cancel_all_orders(call: Caller) -> None:
    """Three orders; cancel_all_orders() scans every category, then cancels per market."""
    for cid, symbol, price in (
        ("cas-all-1", "ETH/USDT", "3000"),
        ("cas-all-2", "ETH/USDT", "3001"),
        ("cas-all-3", "ETH/USDT:USDT", "3002"),
    ):
        await call("create_order", symbol, "limit", "buy", D("0.1"), D(price), client_order_id=cid)
    cancelled = await call("cancel_all_orders")
    assert sorted(o.client_order_id for o in cancelled) == ["cas-all-1", "cas-all-2", "cas-all-3"]
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call("fetch_open_orders") == []


@scenario(BYBIT, "fetch_order")
async def _fetch_order(call: Caller) -> None:
    """An order, then fetched by id and by client order id (/v5/order/realtime)."""
    placed = await call(
        "create_order",
        "ETH/USDT:USDT",
        "limit",
        "buy",
        D("0.1"),
        D("3000"),
        client_order_id="cas-fetch-1",
    )
    by_id = await call("fetch_order", placed.id, "ETH/USDT:USDT")
    by_client = await call("fetch_order", None, "ETH/USDT:USDT", client_order_id="cas-fetch-1")
    assert by_id == by_client
    assert (by_id.id, by_id.status, by_id.price, by_id.remaining) == (
        placed.id,
        "open",
        D(3000),
        D("0.1"),
    )


@scenario(BYBIT, "fetch_open_orders")
async def _fetch_open_orders(call: Caller) -> None:
    """Open orders of one market, then across spot, linear (USDT) and inverse (BTC)."""
    for cid, symbol in (("cas-open-1", "BTC/USDT"), ("cas-open-2", "BTC/USDT:USDT")):
        await call(
            "create_order", symbol, "limit", "buy", D("0.01"), D("50000"), client_order_id=cid
        )
    one = await call("fetch_open_orders", "BTC/USDT")
    assert [o.client_order_id for o in one] == ["cas-open-1"]
    every = await call("fetch_open_orders")
    assert sorted(o.client_order_id for o in every) == ["cas-open-1", "cas-open-2"]
    assert all(o.status == "open" for o in every)


@scenario(BYBIT, "fetch_open_orders_paged")
async def _fetch_open_orders_paged(call: Caller) -> None:
    """51 orders make two pages: the second request carries Bybit's already percent-encoded
    cursor exactly as received (``cursor=page_token%3D50%3A0%2C50%3A0``), byte for byte, on
    every transport (aiohttp is given ``yarl.URL(..., encoded=True)``). Both clocks step 1 s after
    every 15 orders, past the emulator's 20-per-second window; the client's own pacing (real
    time, not on the wire) is switched off to keep the test fast."""
    call.ex.session.limiter.enabled = False
    for i in range(51):
        if i and i % 15 == 0:
            call.clock.advance(1000)
        price = D("100.00") + D(i) / 100
        await call(
            "create_order",
            "SOL/USDT",
            "limit",
            "buy",
            D("0.1"),
            price,
            client_order_id=f"cas-page-{i:02d}",
        )
    orders = await call("fetch_open_orders", "SOL/USDT")
    assert sorted(o.client_order_id for o in orders) == [f"cas-page-{i:02d}" for i in range(51)]


@scenario(BYBIT, "fetch_closed_orders")
async def _fetch_closed_orders(call: Caller) -> None:
    """A filled market order and a cancelled limit order in /v5/order/history since T-60 s."""
    await call(
        "create_order", "BTC/USDT", "market", "buy", D("0.001"), client_order_id="cas-closed-1"
    )
    await call(
        "create_order",
        "BTC/USDT",
        "limit",
        "buy",
        D("0.001"),
        D("50000"),
        client_order_id="cas-closed-2",
    )
    await call("cancel_order", None, "BTC/USDT", client_order_id="cas-closed-2")
    closed = await call("fetch_closed_orders", "BTC/USDT", FROZEN_MS - 60_000, 10)
    assert sorted((o.client_order_id, o.status) for o in closed) == [
        ("cas-closed-1", "closed"),
        ("cas-closed-2", "canceled"),
    ]


@scenario(BYBIT, "fetch_my_trades")
async def _fetch_my_trades(call: Caller) -> None:
    """A linear market buy, then its fills from /v5/execution/list."""
    await call(
        "create_order", "BTC/USDT:USDT", "market", "buy", D("0.01"), client_order_id="cas-fill-1"
    )
    fills = await call("fetch_my_trades", "BTC/USDT:USDT", None, 5)
    assert fills and all(f.client_order_id == "cas-fill-1" and not f.is_maker for f in fills)
    assert sum(f.amount for f in fills) == D("0.01")
    assert all(f.fee_currency == "USDT" and f.fee > 0 for f in fills)


@scenario(BYBIT, "fetch_positions")
async def _fetch_positions(call: Caller) -> None:
    """A linear market buy; positions across settle coins, then of one symbol."""
    await call(
        "create_order", "BTC/USDT:USDT", "market", "buy", D("0.01"), client_order_id="cas-pos-1"
    )
    positions = await call("fetch_positions")
    assert [(p.symbol, p.side, p.size) for p in positions] == [
        ("BTC/USDT:USDT", "long", D("0.010"))
    ]
    assert await call("fetch_positions", ["BTC/USDT:USDT"]) == positions


@scenario(BYBIT, "fetch_key_info")
async def _fetch_key_info(call: Caller) -> None:
    """GET /v5/user/query-api: the key's scopes, whitelist and dates."""
    info = await call("fetch_key_info")
    assert info.permissions == {"read", "spot_trade", "derivatives_trade", "options_trade"}
    assert not info.read_only and info.can_trade and not info.can_withdraw
    assert (info.ip_whitelist, info.expires_at, info.created_at) == ((), None, FROZEN_MS)


@scenario(BYBIT, "audit_key")
async def _audit_key(call: Caller) -> None:
    """The same request, judged: no IP whitelist is the only finding."""
    audit = await call("audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]
    assert not audit.critical


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
