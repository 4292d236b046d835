"""The OKX conversations: one per cassette in ``cassettes/okx/emulator/``.

Every signed request carries ``OK-ACCESS-KEY: test-key``, ``OK-ACCESS-TIMESTAMP:
2026-01-01T00:00:00.000Z`` and ``OK-ACCESS-SIGN`` (base64 HMAC of timestamp, method, path with
query, and body), all pinned; ``OK-ACCESS-PASSPHRASE`` is sent but never written. Amounts are
in the base currency; swaps go on the wire in contracts (0.01 BTC for BTC-USDT-SWAP, 0.1 ETH for
ETH-USDT-SWAP). OKX's ``clOrdId`` is letters and digits only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchanges import errors as e
from exchanges.emulator import Emulator, FaultRule
from tests.cassette.harness import (
    Caller,
    faults,
    has,
    message_has,
    offset,
    place,
    retried_read,
    scenario,
)
from tests.cassette.vcrkit import FROZEN_MS, TEST_KEY, TEST_PASSPHRASE, TEST_SECRET

D = Decimal
OKX = "okx"

SYMBOLS = ["BTC/USD:BTC", "BTC/USDT", "BTC/USDT:USDT", "ETH/USDT", "ETH/USDT:USDT", "SOL/USDT"]
_BALANCE = "/api/v5/account/balance"


# -- success: one cassette per interface method -------------------------------------------


@scenario(OKX, "fetch_time")
async def _fetch_time(call: Caller) -> None:
    """GET /api/v5/public/time (unsigned); the server's frozen clock comes back."""
    assert await call("fetch_time") == FROZEN_MS


@scenario(OKX, "load_markets")
async def _load_markets(call: Caller) -> None:
    """Instruments of SPOT, SWAP and FUTURES, once; the cache answers the second call."""
    markets = await call("load_markets")
    assert sorted(markets) == SYMBOLS
    swap = markets["BTC/USDT:USDT"]
    assert (swap.id, swap.type, swap.settle, swap.contract_size) == (
        "BTC-USDT-SWAP",
        "swap",
        "USDT",
        D("0.01"),
    )
    # A lot of 0.1 contract of 0.01 BTC: 0.001 BTC.
    assert (swap.price_step, swap.amount_step) == (D("0.1"), D("0.001"))
    inverse = markets["BTC/USD:BTC"]
    assert (inverse.id, inverse.settle, inverse.contract_size) == ("BTC-USD-SWAP", "BTC", D(100))
    assert await call("load_markets") == markets  # no request: the cassette has three
    assert (await call("market", "ETH/USDT")).id == "ETH-USDT"


@scenario(OKX, "fetch_markets")
async def _fetch_markets(call: Caller) -> None:
    """fetch_markets always fetches: the same three instrument requests, each time."""
    markets = await call("fetch_markets")
    assert sorted(m.symbol for m in markets) == SYMBOLS
    spot = {m.symbol: m for m in markets}["BTC/USDT"]
    assert (spot.type, spot.price_step, spot.amount_step) == ("spot", D("0.01"), D("0.000001"))
    assert spot.min_amount == D("0.000048") and spot.max_amount == D(100)


@scenario(OKX, "fetch_ticker")
async def _fetch_ticker(call: Caller) -> None:
    """SPOT instruments (the symbol's type only), then /api/v5/market/ticker of BTC-USDT."""
    ticker = await call("fetch_ticker", "BTC/USDT")
    assert ticker.symbol == "BTC/USDT" and ticker.timestamp == FROZEN_MS
    assert (ticker.bid, ticker.ask, ticker.last) == (D("64999.98"), D("65000.02"), D("65000.00"))
    assert (ticker.bid_size, ticker.high, ticker.low) == (
        D("0.216046"),
        D("65322.12"),
        D("64725.09"),
    )


@scenario(OKX, "fetch_tickers")
async def _fetch_tickers(call: Caller) -> None:
    """Instruments and tickers of the two instrument types asked for (SPOT, then SWAP)."""
    tickers = await call("fetch_tickers", ["BTC/USDT", "BTC/USDT:USDT"])
    assert sorted(tickers) == ["BTC/USDT", "BTC/USDT:USDT"]
    assert all(t.bid < t.ask for t in tickers.values())
    assert tickers["BTC/USDT:USDT"].bid_size == D("0.298")  # 29.8 contracts of 0.01 BTC


@scenario(OKX, "fetch_order_book")
async def _fetch_order_book(call: Caller) -> None:
    """SWAP instruments, then /api/v5/market/books with ``sz=5`` (contracts, read as BTC)."""
    book = await call("fetch_order_book", "BTC/USDT:USDT", 5)
    assert book.symbol == "BTC/USDT:USDT" and len(book.bids) == len(book.asks) == 5
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    assert (book.bids[0], book.asks[0]) == (
        (D("64999.90"), D("0.298")),
        (D("65000.10"), D("0.089")),
    )
    assert book.timestamp == FROZEN_MS


@scenario(OKX, "fetch_trades")
async def _fetch_trades(call: Caller) -> None:
    """A spot market buy (``tgtCcy=base_ccy``) makes a public trade; /market/trades lists it."""
    await place(call, "ETH/USDT", "buy", "0.5", None, "castrades1")
    trades = await call("fetch_trades", "ETH/USDT", 5)
    assert trades and trades[-1].side == "buy"
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)


@scenario(OKX, "fetch_ohlcv")
async def _fetch_ohlcv(call: Caller) -> None:
    """/market/candles for the newest five hours, then /market/history-candles in the window
    ``(since - 1, since + 3 h)`` (``before``/``after`` are exclusive bounds)."""
    candles = await call("fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5 and candles[-1].timestamp == FROZEN_MS  # the hour now open
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    since = await call("fetch_ohlcv", "BTC/USDT", "1h", candles[0].timestamp, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]


@scenario(OKX, "fetch_balance")
async def _fetch_balance(call: Caller) -> None:
    """GET /api/v5/account/balance, signed at the frozen instant."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == D(2) and balances["ETH"].total == D(20)


def _demo_key(emu: Emulator) -> None:
    emu.add_key(TEST_KEY, TEST_SECRET, passphrase=TEST_PASSPHRASE, environment="demo")


@scenario(OKX, "demo_trading", env="demo", emulator={"api_key": None}, setup=_demo_key)
async def _demo_trading(call: Caller) -> None:
    """env="demo": the same balance request with ``x-simulated-trading: 1`` (pinned), accepted
    from a key of OKX's demo environment."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000)


@scenario(OKX, "clock_sync", sync_clock=True)
async def _clock_sync(call: Caller) -> None:
    """With clock sync on: GET /api/v5/public/time first, then the balance stamped 20 ms
    behind (``OK-ACCESS-TIMESTAMP: 2025-12-31T23:59:59.980Z``)."""
    balances = await call("fetch_balance")
    assert balances["SOL"].total == D(200)
    assert call.ex.session.clock.offset_ms == 0


@scenario(OKX, "fetch_trading_fee")
async def _fetch_trading_fee(call: Caller) -> None:
    """SWAP instruments, then the signed /account/trade-fee of the family BTC-USDT."""
    fee = await call("fetch_trading_fee", "BTC/USDT:USDT")
    assert (fee.symbol, fee.maker, fee.taker) == ("BTC/USDT:USDT", D("0.0002"), D("0.00055"))


@scenario(OKX, "create_order")
async def _create_order(call: Caller) -> None:
    """The trading key is checked once (/api/v5/account/config), then the order's exact
    compact JSON body (``ordType":"post_only"``)."""
    order = await place(call, "BTC/USDT", "buy", "0.01", "50000", "cascreate1", post_only=True)
    assert (order.id, order.client_order_id) == ("447525511738078264", "cascreate1")  # seeded
    # OKX acknowledges with ids only; a post-only order is read back once: it rests.
    assert (order.status, order.price, order.amount, order.time_in_force) == (
        "open",
        D(50000),
        D("0.01"),
        "PO",
    )


@scenario(OKX, "amend_order")
async def _amend_order(call: Caller) -> None:
    """A swap order, then /api/v5/trade/amend-order with ``newSz`` and ``newPx``."""
    order = await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "casamend1")
    amended = await call(
        "amend_order", order.id, "BTC/USDT:USDT", amount=D("0.02"), price=D("50100.5")
    )
    assert amended.id == order.id
    assert (amended.price, amended.amount) == (D("50100.5"), D("0.02"))


@scenario(OKX, "cancel_order")
async def _cancel_order(call: Caller) -> None:
    """An order, then /api/v5/trade/cancel-order by ``clOrdId``."""
    order = await place(call, "BTC/USDT", "sell", "0.01", "90000", "cascancel1")
    cancelled = await call("cancel_order", None, "BTC/USDT", client_order_id="cascancel1")
    assert (cancelled.id, cancelled.client_order_id, cancelled.status) == (
        order.id,
        "cascancel1",
        "canceled",
    )


@scenario(OKX, "cancel_all_orders")
async def _cancel_all_orders(call: Caller) -> None:
    """Three orders; cancel_all_orders() lists /trade/orders-pending, then one
    /trade/cancel-batch-orders with every order (OKX has no cancel-all)."""
    for cid, symbol, price in (
        ("casall1", "ETH/USDT", "3000"),
        ("casall2", "ETH/USDT", "3001"),
        ("casall3", "ETH/USDT:USDT", "3002"),
    ):
        await place(call, symbol, "buy", "0.1", price, cid)
    cancelled = await call("cancel_all_orders")
    assert sorted(o.client_order_id for o in cancelled) == ["casall1", "casall2", "casall3"]
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call("fetch_open_orders") == []


@scenario(OKX, "fetch_order")
async def _fetch_order(call: Caller) -> None:
    """An order, then GET /api/v5/trade/order by ``ordId`` and by ``clOrdId``."""
    placed = await place(call, "ETH/USDT:USDT", "buy", "0.1", "3000", "casfetch1")
    by_id = await call("fetch_order", placed.id, "ETH/USDT:USDT")
    by_client = await call("fetch_order", None, "ETH/USDT:USDT", client_order_id="casfetch1")
    assert by_id == by_client
    assert (by_id.id, by_id.status, by_id.price, by_id.remaining) == (
        placed.id,
        "open",
        D(3000),
        D("0.1"),
    )


@scenario(OKX, "fetch_open_orders")
async def _fetch_open_orders(call: Caller) -> None:
    """Open orders of one market, then of the whole account (one request, no instType)."""
    await place(call, "BTC/USDT", "buy", "0.01", "50000", "casopen1")
    await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "casopen2")
    one = await call("fetch_open_orders", "BTC/USDT")
    assert [o.client_order_id for o in one] == ["casopen1"]
    every = await call("fetch_open_orders")
    assert sorted(o.client_order_id for o in every) == ["casopen1", "casopen2"]
    assert all(o.status == "open" for o in every)


@scenario(OKX, "fetch_closed_orders")
async def _fetch_closed_orders(call: Caller) -> None:
    """A filled market order and a cancelled limit order in /trade/orders-history since
    T-60 s (``begin``)."""
    await place(call, "BTC/USDT", "buy", "0.001", None, "casclosed1")
    await place(call, "BTC/USDT", "buy", "0.001", "50000", "casclosed2")
    await call("cancel_order", None, "BTC/USDT", client_order_id="casclosed2")
    closed = await call("fetch_closed_orders", "BTC/USDT", FROZEN_MS - 60_000, 10)
    assert sorted((o.client_order_id, o.status) for o in closed) == [
        ("casclosed1", "closed"),
        ("casclosed2", "canceled"),
    ]


@scenario(OKX, "fetch_my_trades")
async def _fetch_my_trades(call: Caller) -> None:
    """A swap market buy, then its fills from /api/v5/trade/fills."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", None, "casfill1")
    fills = await call("fetch_my_trades", "BTC/USDT:USDT", None, 5)
    assert fills and all(f.client_order_id == "casfill1" and not f.is_maker for f in fills)
    assert sum(f.amount for f in fills) == D("0.01")
    assert all(f.fee_currency == "USDT" and f.fee > 0 for f in fills)


@scenario(OKX, "fetch_positions")
async def _fetch_positions(call: Caller) -> None:
    """A swap market buy; /api/v5/account/positions, then of one symbol (its instruments
    loaded first)."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", None, "caspos1")
    positions = await call("fetch_positions")
    assert [(p.symbol, p.side, p.size) for p in positions] == [("BTC/USDT:USDT", "long", D("0.01"))]
    assert await call("fetch_positions", ["BTC/USDT:USDT"]) == positions


@scenario(OKX, "fetch_key_info")
async def _fetch_key_info(call: Caller) -> None:
    """GET /api/v5/account/config: the key's ``perm`` and ``ip``."""
    info = await call("fetch_key_info")
    assert info.permissions == {"read", "spot_trade", "derivatives_trade", "options_trade"}
    assert not info.read_only and info.can_trade and not info.can_withdraw
    assert info.ip_whitelist == ()


@scenario(OKX, "audit_key")
async def _audit_key(call: Caller) -> None:
    """The same request, judged: no IP whitelist is the only finding."""
    audit = await call("audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]
    assert not audit.critical


# -- errors: the main classes of OKX's table ---------------------------------------------------


async def _balance(call: Caller) -> None:
    await call("fetch_balance")


@scenario(OKX, "error_50102_resynced", setup=offset(60_000))
async def _e50102_resynced(call: Caller) -> None:
    """The server is 60 s ahead (OKX allows 30 s): 50102, one GET /public/time, the same call
    restamped (``2026-01-01T00:00:59.980Z``), success."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000)
    assert call.ex.session.clock.offset_ms == 60_000


def _lagging_time_node(emu: Emulator) -> None:
    # The server checking stamps is 60 s ahead, and /public/time answers from a node whose
    # clock does not have that offset: the resync cannot help.
    emu.set_clock_offset(60_000)
    front = emu.server.front
    _, access = front.routes[("GET", "/api/v5/public/time")]

    def lagging(params: Any) -> Any:
        return [{"ts": str(emu.state.now_ms() - 60_000)}]

    front.routes[("GET", "/api/v5/public/time")] = (lagging, access)


@scenario(
    OKX,
    "error_50102_clock_skew",
    raises=e.ClockSkew,
    code="50102",
    hint="resyncs and retries once",
    setup=_lagging_time_node,
    check_error=lambda err: has(err, http_status=401, message="Timestamp request expired."),
)
async def _e50102(call: Caller) -> None:
    """The time endpoint lags the server that checks stamps by 60 s: the resync finds no
    offset, the retry is stamped 20 ms behind (``2025-12-31T23:59:59.980Z``) and 50102 survives
    the one resync."""
    await _balance(call)


@scenario(
    OKX,
    "error_50111_invalid_api_key",
    raises=e.InvalidApiKey,
    code="50111",
    hint="Live and demo keys are separate",
    emulator={"api_key": None},
)
async def _e50111(call: Caller) -> None:
    """The emulator knows no key at all: 50111 "Invalid OK-ACCESS-KEY."."""
    await _balance(call)


@scenario(
    OKX,
    "error_50113_invalid_signature",
    raises=e.InvalidSignature,
    code="50113",
    hint="nothing re-encodes the request",
    emulator={"api_secret": "the-emulator-holds-another-one"},
)
async def _e50113(call: Caller) -> None:
    """The emulator holds another secret for test-key: the request (signed with the published
    secret, so the cassette's OK-ACCESS-SIGN still verifies) is refused with 50113."""
    await _balance(call)


@scenario(
    OKX,
    "error_50105_passphrase",
    raises=e.AuthenticationError,
    code="50105",
    hint="not the account's login or trading password",
    emulator={"passphrase": "the-emulator-holds-another-one"},
)
async def _e50105(call: Caller) -> None:
    """The emulator holds another passphrase for test-key: 50105 "OK-ACCESS-PASSPHRASE
    incorrect". The passphrase sent is not in the cassette, so replay cannot tell which one
    was sent: the cassette pins the answer and its normalisation."""
    await _balance(call)


def _live_key(emu: Emulator) -> None:
    emu.add_key(TEST_KEY, TEST_SECRET, passphrase=TEST_PASSPHRASE, environment="live")


@scenario(
    OKX,
    "error_50101_live_key_in_demo",
    raises=e.InvalidApiKey,
    code="50101",
    hint="OKX demo trading (header x-simulated-trading: 1)",
    env="demo",
    emulator={"api_key": None},
    setup=_live_key,
)
async def _e50101(call: Caller) -> None:
    """A live key used with env="demo": the request carries ``x-simulated-trading: 1``
    (pinned) and OKX answers 50101 "APIKey does not match current environment"."""
    await _balance(call)


@scenario(
    OKX,
    "error_50110_ip_not_allowed",
    raises=e.IpNotAllowed,
    code="50110",
    hint="IP whitelist",
    emulator={"ips": ("10.0.0.1",)},
    check_error=message_has("Your IP 127.0.0.1 is not included"),
)
async def _e50110(call: Caller) -> None:
    """The test key is bound to 10.0.0.1; the request came from loopback: 50110."""
    await _balance(call)


@scenario(
    OKX,
    "error_50120_permission_denied",
    raises=e.PermissionDenied,
    code="50120",
    hint="Enable the Trade permission",
    emulator={"permissions": ("read",)},
)
async def _e50120(call: Caller) -> None:
    """A read-only test key passes the trade-key check but may not place an order: 50120."""
    await place(call, "BTC/USDT", "buy", "0.001", "50000", "cas50120")


@scenario(
    OKX,
    "error_51603_order_not_found",
    raises=e.OrderNotFound,
    code="51603",
    hint="order id",
)
async def _e51603(call: Caller) -> None:
    """Fetching an unknown order id: 51603 "Order does not exist"."""
    await call("fetch_order", "123456789012345678", "BTC/USDT")


@scenario(
    OKX,
    "error_51400_cancel_unknown_order",
    raises=e.OrderNotFound,
    code="51400",
    hint="already filled or cancelled",
)
async def _e51400(call: Caller) -> None:
    """Cancelling an unknown ``clOrdId``: the item's sCode 51400 (under code "1") wins."""
    await call("cancel_order", None, "BTC/USDT", client_order_id="casnosuchorder")


@scenario(
    OKX,
    "error_51008_insufficient_funds",
    raises=e.InsufficientFunds,
    code="51008",
    hint="deposit more",
    check_error=message_has("Insufficient USDT balance", "(subCode 1000)"),
)
async def _e51008(call: Caller) -> None:
    """100 spot BTC at 60000 on a 100000 USDT account: sCode 51008, subCode 1000."""
    await place(call, "BTC/USDT", "buy", "100", "60000", "cas51008")


@scenario(
    OKX,
    "error_51016_duplicate_order_id",
    raises=e.DuplicateOrderId,
    code="51016",
    hint="fetch_order(None, symbol, client_order_id=...)",
)
async def _e51016(call: Caller) -> None:
    """The same ``clOrdId`` twice: the first order stands, the second is 51016."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "casdup1")
    await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "casdup1")


@scenario(
    OKX,
    "error_50011_rate_limit",
    raises=e.RateLimitExceeded,
    code="50011",
    hint="Slow down",
    setup=faults(FaultRule(kind="rate_limit", path=_BALANCE)),
    check_error=lambda err: has(err, retry_after=None, retryable=True, http_status=429),
)
async def _e50011(call: Caller) -> None:
    """HTTP 429 with 50011 "Too Many Requests" (no Retry-After: OKX documents none), three
    times (two bounded waits), then RateLimitExceeded."""
    await _balance(call)


@scenario(
    OKX,
    "error_50001_server_error",
    raises=e.ExchangeNotAvailable,
    code="50001",
    hint="temporarily unavailable",
    setup=faults(FaultRule(kind="server_error", path=_BALANCE)),
    check_error=retried_read(http_status=503),
)
async def _e50001(call: Caller) -> None:
    """HTTP 503 with 50001 on a read, every time: three attempts, then ExchangeNotAvailable."""
    await _balance(call)


@scenario(
    OKX,
    "error_50004_timeout",
    raises=e.ExchangeNotAvailable,
    code="50004",
    hint="does not mean it failed",
    setup=faults(FaultRule(kind="server_error_after", path=_BALANCE)),
    check_error=retried_read(http_status=400),
)
async def _e50004(call: Caller) -> None:
    """50004 "API endpoint request timeout" (HTTP 400) after processing a read, every time:
    retried like any read, three attempts, then ExchangeNotAvailable."""
    await _balance(call)


@scenario(
    OKX,
    "error_50004_create_reconciled",
    setup=faults(FaultRule(kind="server_error_after", path="/api/v5/trade/order", count=1)),
)
async def _e50004_reconciled(call: Caller) -> None:
    """The order is placed but the answer is 50004: the outcome is unknown, so the client
    looks the ``clOrdId`` up (GET /api/v5/trade/order) and returns the order, not resending."""
    order = await place(call, "BTC/USDT", "buy", "0.01", "50000", "casreconcile1")
    assert (order.client_order_id, order.status) == ("casreconcile1", "open")


@scenario(
    OKX,
    "error_truncated_body",
    raises=e.BadResponse,
    code=None,
    hint="not its JSON",
    setup=faults(FaultRule(kind="truncated", path=_BALANCE)),
    check_error=message_has("not JSON"),
)
async def _e_truncated(call: Caller) -> None:
    """Half of the JSON body, every time: three attempts, then BadResponse."""
    await _balance(call)
