"""The Bybit conversations that succeed: one per cassette in ``cassettes/bybit/emulator/``, one
per interface method (the error conversations are in ``bybit_error_cases.py``).

Moved unchanged from the single-exchange kit: every request, and so every recorded byte, is the
same as before (``python -m tests.cassette.record --exchange bybit`` reproduces the files).
"""

from __future__ import annotations

from decimal import Decimal

from tests.cassette.harness import Caller, scenario
from tests.cassette.vcrkit import FROZEN_MS

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
