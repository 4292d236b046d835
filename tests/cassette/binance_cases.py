"""The Binance conversations: one per cassette in ``cassettes/binance/emulator/``.

Spot (``/api/v3``, ``/sapi/v1``) and USD-M (``/fapi``) are served by one emulator host. Every
signed request carries ``recvWindow=5000&timestamp=1767225600000&signature=...`` at the end of
its query (GET, DELETE) or form body (POST, PUT), so each cassette pins the exact signed bytes.
Binance spot has no in-place amend (``amend_order`` on spot raises ``NotSupported`` before any
request): the amend cassette is USD-M's ``PUT /fapi/v1/order``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adapters.binance.limits import weight_key
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
from tests.cassette.vcrkit import FROZEN_MS

D = Decimal
BINANCE = "binance"

SYMBOLS = ["BTC/USDT", "BTC/USDT:USDT", "ETH/USDT", "ETH/USDT:USDT", "SOL/USDT"]
_ACCOUNT = "/api/v3/account"


# -- success: one cassette per interface method -------------------------------------------


@scenario(BINANCE, "fetch_time")
async def _fetch_time(call: Caller) -> None:
    """GET /api/v3/time (unsigned); the server's frozen clock comes back."""
    assert await call("fetch_time") == FROZEN_MS


@scenario(BINANCE, "load_markets")
async def _load_markets(call: Caller) -> None:
    """exchangeInfo of spot and USD-M, once; the cache answers the second call."""
    markets = await call("load_markets")
    assert sorted(markets) == SYMBOLS
    swap = markets["BTC/USDT:USDT"]
    assert (swap.id, swap.type, swap.settle, swap.linear) == ("BTCUSDT", "swap", "USDT", True)
    assert (swap.price_step, swap.amount_step, swap.min_notional) == (D("0.1"), D("0.001"), D(5))
    spot = markets["BTC/USDT"]
    assert (spot.id, spot.type, spot.price_step, spot.min_notional) == (
        "BTCUSDT",
        "spot",
        D("0.01"),
        D(1),
    )
    assert await call("load_markets") == markets  # no request: the cassette has two
    assert (await call("market", "ETH/USDT:USDT")).id == "ETHUSDT"


@scenario(BINANCE, "fetch_markets")
async def _fetch_markets(call: Caller) -> None:
    """fetch_markets always fetches: both exchangeInfo requests, each time."""
    markets = await call("fetch_markets")
    assert sorted(m.symbol for m in markets) == SYMBOLS
    spot = {m.symbol: m for m in markets}["BTC/USDT"]
    assert (spot.amount_step, spot.min_amount, spot.max_amount) == (
        D("0.000001"),
        D("0.000048"),
        D(100),
    )


@scenario(BINANCE, "fetch_ticker")
async def _fetch_ticker(call: Caller) -> None:
    """Spot exchangeInfo (the symbol's market only), then /api/v3/ticker/24hr of BTCUSDT."""
    ticker = await call("fetch_ticker", "BTC/USDT")
    assert ticker.symbol == "BTC/USDT" and ticker.timestamp == FROZEN_MS
    assert (ticker.bid, ticker.ask, ticker.last) == (D("64999.98"), D("65000.02"), D("65000.00"))
    assert (ticker.bid_size, ticker.high, ticker.low) == (
        D("0.216046"),
        D("65322.12"),
        D("64725.09"),
    )


@scenario(BINANCE, "fetch_ticker_usdm")
async def _fetch_ticker_usdm(call: Caller) -> None:
    """USD-M exchangeInfo, the 24hr ticker, then bookTicker (USD-M's 24hr has no bid/ask)."""
    ticker = await call("fetch_ticker", "BTC/USDT:USDT")
    assert (ticker.bid, ticker.ask, ticker.last) == (D("64999.90"), D("65000.10"), D("65000.00"))
    assert (ticker.bid_size, ticker.ask_size) == (D("0.298"), D("0.089"))


@scenario(BINANCE, "fetch_tickers")
async def _fetch_tickers(call: Caller) -> None:
    """Spot's 24hr ticker of a compact JSON ``symbols`` list (``%5B%22BTCUSDT%22%5D``), then
    USD-M's 24hr and bookTicker of every symbol, filtered here."""
    tickers = await call("fetch_tickers", ["BTC/USDT", "BTC/USDT:USDT"])
    assert sorted(tickers) == ["BTC/USDT", "BTC/USDT:USDT"]
    assert all(t.bid < t.ask for t in tickers.values())


@scenario(BINANCE, "fetch_order_book")
async def _fetch_order_book(call: Caller) -> None:
    """USD-M depth: 7 levels asked, ``limit=10`` sent (USD-M's next allowed size), 7 kept."""
    book = await call("fetch_order_book", "BTC/USDT:USDT", 7)
    assert book.symbol == "BTC/USDT:USDT" and len(book.bids) == len(book.asks) == 7
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    assert (book.bids[0], book.asks[0]) == (
        (D("64999.90"), D("0.298")),
        (D("65000.10"), D("0.089")),
    )
    assert book.timestamp == FROZEN_MS


@scenario(BINANCE, "fetch_trades")
async def _fetch_trades(call: Caller) -> None:
    """A spot market buy makes a public trade; /api/v3/trades lists it, oldest first."""
    await place(call, "ETH/USDT", "buy", "0.5", None, "cas-trades-1")
    trades = await call("fetch_trades", "ETH/USDT", 5)
    assert trades and trades[-1].side == "buy"
    assert [t.timestamp for t in trades] == sorted(t.timestamp for t in trades)


@scenario(BINANCE, "fetch_ohlcv")
async def _fetch_ohlcv(call: Caller) -> None:
    """Klines twice: the newest five hours, then three from ``startTime`` (pinned)."""
    candles = await call("fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5 and candles[-1].timestamp == FROZEN_MS  # the hour now open
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    since = await call("fetch_ohlcv", "BTC/USDT", "1h", candles[0].timestamp, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]


@scenario(BINANCE, "fetch_balance")
async def _fetch_balance(call: Caller) -> None:
    """GET /api/v3/account?omitZeroBalances=true&recvWindow=5000&timestamp=…&signature=…"""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == D(2) and balances["ETH"].total == D(20)


@scenario(BINANCE, "fetch_balance_usdm", options={"wallet": "usdm"})
async def _fetch_balance_usdm(call: Caller) -> None:
    """With ``wallet="usdm"``: the signed GET /fapi/v3/account (no parameters of its own)."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000)


@scenario(BINANCE, "clock_sync", sync_clock=True)
async def _clock_sync(call: Caller) -> None:
    """With clock sync on: GET /api/v3/time first, then the account stamped 20 ms behind."""
    balances = await call("fetch_balance")
    assert balances["SOL"].total == D(200)
    assert call.ex.session.clock.offset_ms == 0


@scenario(BINANCE, "fetch_trading_fee")
async def _fetch_trading_fee(call: Caller) -> None:
    """USD-M exchangeInfo, then the signed /fapi/v1/commissionRate of BTCUSDT."""
    fee = await call("fetch_trading_fee", "BTC/USDT:USDT")
    assert (fee.symbol, fee.maker, fee.taker) == ("BTC/USDT:USDT", D("0.0002"), D("0.00055"))


@scenario(BINANCE, "create_order")
async def _create_order(call: Caller) -> None:
    """The trading key is checked once (/sapi/v1/account/apiRestrictions), then the order's
    exact form body: a post-only spot buy is ``type=LIMIT_MAKER`` with no timeInForce."""
    order = await place(call, "BTC/USDT", "buy", "0.01", "50000", "cas-create-1", post_only=True)
    assert (order.id, order.client_order_id, order.status) == ("1000001", "cas-create-1", "open")
    assert (order.price, order.amount, order.time_in_force, order.post_only) == (
        D(50000),
        D("0.01"),
        "PO",
        True,
    )


@scenario(BINANCE, "amend_order")
async def _amend_order(call: Caller) -> None:
    """A USD-M order, read back (Binance's modify needs side, quantity and price together),
    then PUT /fapi/v1/order with the new quantity and price in the form body."""
    order = await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "cas-amend-1")
    amended = await call(
        "amend_order", order.id, "BTC/USDT:USDT", amount=D("0.02"), price=D("50100.5")
    )
    assert amended.id == order.id == "1000001"
    assert (amended.price, amended.amount) == (D("50100.5"), D("0.02"))


@scenario(BINANCE, "cancel_order")
async def _cancel_order(call: Caller) -> None:
    """A spot order, then DELETE /api/v3/order by ``origClientOrderId`` (in the query)."""
    order = await place(call, "BTC/USDT", "sell", "0.01", "90000", "cas-cancel-1")
    cancelled = await call("cancel_order", None, "BTC/USDT", client_order_id="cas-cancel-1")
    assert cancelled.id == order.id and cancelled.client_order_id == "cas-cancel-1"
    assert cancelled.status == "canceled"


@scenario(BINANCE, "cancel_all_orders")
async def _cancel_all_orders(call: Caller) -> None:
    """Three orders; cancel_all_orders() lists open orders of spot and USD-M, then cancels per
    market: spot DELETE /api/v3/openOrders, USD-M openOrders then DELETE /fapi/v1/allOpenOrders."""
    for cid, symbol, price in (
        ("cas-all-1", "ETH/USDT", "3000"),
        ("cas-all-2", "ETH/USDT", "3001"),
        ("cas-all-3", "ETH/USDT:USDT", "3002"),
    ):
        await place(call, symbol, "buy", "0.1", price, cid)
    cancelled = await call("cancel_all_orders")
    assert sorted(o.client_order_id for o in cancelled) == ["cas-all-1", "cas-all-2", "cas-all-3"]
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call("fetch_open_orders") == []


@scenario(BINANCE, "fetch_order")
async def _fetch_order(call: Caller) -> None:
    """A USD-M order, then GET /fapi/v1/order by ``orderId`` and by ``origClientOrderId``."""
    placed = await place(call, "ETH/USDT:USDT", "buy", "0.1", "3000", "cas-fetch-1")
    by_id = await call("fetch_order", placed.id, "ETH/USDT:USDT")
    by_client = await call("fetch_order", None, "ETH/USDT:USDT", client_order_id="cas-fetch-1")
    assert by_id == by_client
    assert (by_id.id, by_id.status, by_id.price, by_id.remaining) == (
        placed.id,
        "open",
        D(3000),
        D("0.1"),
    )


@scenario(BINANCE, "fetch_open_orders")
async def _fetch_open_orders(call: Caller) -> None:
    """Open orders of one market, then of all spot and all USD-M markets (no symbol)."""
    for cid, symbol in (("cas-open-1", "BTC/USDT"), ("cas-open-2", "BTC/USDT:USDT")):
        await place(call, symbol, "buy", "0.01", "50000", cid)
    one = await call("fetch_open_orders", "BTC/USDT")
    assert [o.client_order_id for o in one] == ["cas-open-1"]
    every = await call("fetch_open_orders")
    assert sorted(o.client_order_id for o in every) == ["cas-open-1", "cas-open-2"]
    assert all(o.status == "open" for o in every)


@scenario(BINANCE, "fetch_closed_orders")
async def _fetch_closed_orders(call: Caller) -> None:
    """A filled market order and a cancelled limit order in /api/v3/allOrders since T-60 s."""
    await place(call, "BTC/USDT", "buy", "0.001", None, "cas-closed-1")
    await place(call, "BTC/USDT", "buy", "0.001", "50000", "cas-closed-2")
    await call("cancel_order", None, "BTC/USDT", client_order_id="cas-closed-2")
    closed = await call("fetch_closed_orders", "BTC/USDT", FROZEN_MS - 60_000, 10)
    assert sorted((o.client_order_id, o.status) for o in closed) == [
        ("cas-closed-1", "closed"),
        ("cas-closed-2", "canceled"),
    ]


@scenario(BINANCE, "fetch_my_trades")
async def _fetch_my_trades(call: Caller) -> None:
    """A USD-M market buy, then its fills from /fapi/v1/userTrades."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", None, "cas-fill-1")
    fills = await call("fetch_my_trades", "BTC/USDT:USDT", None, 5)
    assert fills and all(not f.is_maker for f in fills)
    assert sum(f.amount for f in fills) == D("0.01")
    assert all(f.fee_currency == "USDT" and f.fee > 0 for f in fills)


@scenario(BINANCE, "fetch_positions")
async def _fetch_positions(call: Caller) -> None:
    """A USD-M market buy; /fapi/v3/positionRisk of every symbol, then of one."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", None, "cas-pos-1")
    positions = await call("fetch_positions")
    assert [(p.symbol, p.side, p.size) for p in positions] == [
        ("BTC/USDT:USDT", "long", D("0.010"))
    ]
    assert await call("fetch_positions", ["BTC/USDT:USDT"]) == positions


@scenario(BINANCE, "fetch_key_info")
async def _fetch_key_info(call: Caller) -> None:
    """GET /sapi/v1/account/apiRestrictions: the key's scopes and IP restriction."""
    info = await call("fetch_key_info")
    assert info.permissions == {"read", "spot_trade", "derivatives_trade", "options_trade"}
    assert not info.read_only and info.can_trade and not info.can_withdraw
    assert (info.ip_whitelist, info.ip_restricted, info.created_at) == ((), False, FROZEN_MS)


@scenario(BINANCE, "audit_key")
async def _audit_key(call: Caller) -> None:
    """The same request, judged: no IP restriction is the only finding."""
    audit = await call("audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]
    assert not audit.critical


# -- errors: the main classes of Binance's table ---------------------------------------------


async def _balance(call: Caller) -> None:
    await call("fetch_balance")


@scenario(BINANCE, "error_-1021_resynced", setup=offset(60_000))
async def _e1021_resynced(call: Caller) -> None:
    """The server is 60 s ahead: -1021 "outside of the recvWindow", one GET /api/v3/time, the
    same call restamped 20 ms behind the server's time, success."""
    balances = await call("fetch_balance")
    assert balances["USDT"].total == D(100000)
    assert call.ex.session.clock.offset_ms == 60_000


@scenario(
    BINANCE,
    "error_-1021_clock_skew",
    raises=e.ClockSkew,
    code=-1021,
    hint="resyncs and retries once",
    setup=offset(60_000),
    recv_window_ms=10,
    check_error=message_has("outside of the recvWindow"),
)
async def _e1021(call: Caller) -> None:
    """``recvWindow=10`` cannot absorb the 20 ms safety margin: -1021 survives the resync."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_-1022_invalid_signature",
    raises=e.InvalidSignature,
    code=-1022,
    hint="nothing re-encodes the request",
    emulator={"api_secret": "the-emulator-holds-another-one"},
    check_error=lambda err: has(err, http_status=400, retryable=False),
)
async def _e1022(call: Caller) -> None:
    """The emulator holds another secret for test-key: the request (signed with the published
    secret, so the cassette's ``signature`` still verifies) is refused with -1022."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_-2015_invalid_api_key",
    raises=e.InvalidApiKey,
    code=-2015,
    hint="the key is unknown here, the request's IP is not on the key's whitelist",
    emulator={"api_key": None},
    check_error=lambda err: has(err, http_status=401),
)
async def _e2015(call: Caller) -> None:
    """The emulator knows no key: -2015 "Invalid API-key, IP, or permissions for action.",
    whose hint names all three causes Binance folds into it."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_-2015_ip_not_allowed",
    raises=e.InvalidApiKey,
    code=-2015,
    hint="add this machine's IP to its whitelist",
    emulator={"ips": ("10.0.0.1",)},
)
async def _e2015_ip(call: Caller) -> None:
    """The test key is bound to 10.0.0.1; the request came from loopback: the same -2015."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_-2013_order_not_found",
    raises=e.OrderNotFound,
    code=-2013,
    hint="order id",
    check_error=message_has("Order does not exist."),
)
async def _e2013(call: Caller) -> None:
    """Fetching an unknown spot order id: -2013 NO_SUCH_ORDER."""
    await call("fetch_order", "999999", "BTC/USDT")


@scenario(
    BINANCE,
    "error_-2011_order_not_found",
    raises=e.OrderNotFound,
    code=-2011,
    hint="order id",
    check_error=message_has("Unknown order sent."),
)
async def _e2011(call: Caller) -> None:
    """Cancelling an unknown USD-M client order id: -2011 "Unknown order sent." (a
    CANCEL_REJECTED classified by its message)."""
    await call("cancel_order", None, "BTC/USDT:USDT", client_order_id="cas-no-such-order")


@scenario(
    BINANCE,
    "error_-2010_insufficient_funds",
    raises=e.InsufficientFunds,
    code=-2010,
    hint="deposit more",
    check_error=message_has("insufficient balance"),
)
async def _e2010(call: Caller) -> None:
    """100 spot BTC at 60000 on a 100000 USDT account: -2010 NEW_ORDER_REJECTED, classified by
    its message "Account has insufficient balance for requested action."."""
    await place(call, "BTC/USDT", "buy", "100", "60000", "cas-2010")


@scenario(
    BINANCE,
    "error_-2019_insufficient_margin",
    raises=e.InsufficientFunds,
    code=-2019,
    hint="Not enough margin",
)
async def _e2019(call: Caller) -> None:
    """100 BTC of USD-M contracts at 60000 on a 100000 USDT account: -2019 "Margin is
    insufficient."."""
    await place(call, "BTC/USDT:USDT", "buy", "100", "60000", "cas-2019")


def _balance_not_margin(emu: Emulator) -> None:
    # The emulator answers every USD-M shortfall with -2019; Binance also has -2018
    # BALANCE_NOT_SUFFICIENT for the same shortfall. This front-end instance says -2018.
    front = emu.server.front
    original = front._engine_error

    def engine_error(err: Any, request: Any, market: str) -> Any:
        answer = original(err, request, market)
        if answer.code == -2019:
            answer.code, answer.message = -2018, "Balance is insufficient."
        return answer

    front._engine_error = engine_error


@scenario(
    BINANCE,
    "error_-2018_insufficient_balance",
    raises=e.InsufficientFunds,
    code=-2018,
    hint="deposit more",
    setup=_balance_not_margin,
    check_error=message_has("Balance is insufficient."),
)
async def _e2018(call: Caller) -> None:
    """The same USD-M shortfall answered with -2018 "Balance is insufficient." (USD-M only:
    on spot the code means nothing)."""
    await place(call, "BTC/USDT:USDT", "buy", "100", "60000", "cas-2018")


@scenario(
    BINANCE,
    "error_-2010_duplicate_order_id",
    raises=e.DuplicateOrderId,
    code=-2010,
    hint="fetch_order(None, symbol, client_order_id=...)",
    check_error=message_has("Duplicate order sent."),
)
async def _e2010_duplicate(call: Caller) -> None:
    """The same spot ``newClientOrderId`` twice while the first is open: -2010 "Duplicate
    order sent.", a DuplicateOrderId by its message."""
    await place(call, "BTC/USDT", "buy", "0.01", "50000", "cas-dup-1")
    await place(call, "BTC/USDT", "buy", "0.01", "50000", "cas-dup-1")


@scenario(
    BINANCE,
    "error_-4116_duplicate_order_id",
    raises=e.DuplicateOrderId,
    code=-4116,
    hint="fetch_order(None, symbol, client_order_id=...)",
)
async def _e4116(call: Caller) -> None:
    """The same USD-M ``newClientOrderId`` twice: -4116 "ClientOrderId is duplicated."."""
    await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "cas-dup-2")
    await place(call, "BTC/USDT:USDT", "buy", "0.01", "50000", "cas-dup-2")


@scenario(
    BINANCE,
    "error_-1003_rate_limit",
    raises=e.RateLimitExceeded,
    code=-1003,
    hint="waits Retry-After seconds",
    setup=faults(FaultRule(kind="rate_limit", path=_ACCOUNT)),
    check_error=lambda err: has(err, retry_after=1.0, retryable=True, http_status=429),
)
async def _e1003(call: Caller) -> None:
    """HTTP 429 -1003 with ``Retry-After: 1``, three times (two bounded waits). The client
    blocks spot's weight window for the Retry-After (checked here); its pacing, real time that
    is not on the wire, is switched off to keep the test fast."""
    limiter = call.ex.session.limiter
    limiter.enabled = False
    try:
        await _balance(call)
    finally:
        assert limiter.blocked_for(weight_key("spot")) > 0.5


@scenario(
    BINANCE,
    "error_http_502",
    raises=e.ExchangeNotAvailable,
    code=None,
    hint="execution status is unknown",
    setup=faults(FaultRule(kind="http_5xx", path=_ACCOUNT, param=502)),
    check_error=retried_read(http_status=502),
)
async def _e502(call: Caller) -> None:
    """An HTML 502 from a gateway, every time: three attempts, then ExchangeNotAvailable."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_truncated_body",
    raises=e.BadResponse,
    code=None,
    hint="not its JSON",
    setup=faults(FaultRule(kind="truncated", path=_ACCOUNT)),
    check_error=message_has("not JSON"),
)
async def _e_truncated(call: Caller) -> None:
    """Half of the JSON body, every time: three attempts, then BadResponse."""
    await _balance(call)


@scenario(
    BINANCE,
    "error_-1007_create_reconciled",
    setup=faults(FaultRule(kind="server_error_after", path="/api/v3/order", count=1)),
)
async def _e1007_reconciled(call: Caller) -> None:
    """The order is placed but the answer is HTTP 500 -1007 ("execution status unknown"): the
    client looks the ``origClientOrderId`` up (GET /api/v3/order) and returns the order instead
    of resending it."""
    order = await place(call, "BTC/USDT", "buy", "0.01", "50000", "cas-reconcile-1")
    assert (order.client_order_id, order.status) == ("cas-reconcile-1", "open")


@scenario(
    BINANCE,
    "error_-1007_create_outcome_unknown",
    raises=e.ExchangeNotAvailable,
    code=-1007,
    # The absent order is looked up again once the receive window closed: a short one.
    recv_window_ms=10,
    setup=faults(FaultRule(kind="server_error", path="/api/v3/order", method="POST")),
    check_error=lambda err: "the order was not placed" in err.message,
)
async def _e1007_unknown(call: Caller) -> None:
    """-1007 on every create: look up (-2013), look up again after the receive window (-2013),
    resend once with the same ``newClientOrderId``, the same twice more: absent, so the -1007
    stands and says the order was not placed."""
    await place(call, "BTC/USDT", "buy", "0.01", "50000", "cas-unknown-1")
