"""Every interface method against the emulator over real loopback HTTP, sync and async."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import urllib.request
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.errors import (
    BadSymbol,
    DuplicateOrderId,
    InsufficientFunds,
    InvalidApiKey,
    InvalidSignature,
    IpNotAllowed,
    OrderNotFound,
    PermissionDenied,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["sync", "async"])
async def ex(
    request: pytest.FixtureRequest, emulator: Emulator, credentials: exchanges.Credentials
) -> AsyncIterator[Any]:
    if request.param == "sync":
        with exchanges.connect("bybit", base_url=emulator.base_url, credentials=credentials) as c:
            yield c
    else:
        async with exchanges.connect_async(
            "bybit", base_url=emulator.base_url, credentials=credentials
        ) as c:
            yield c


async def call(ex: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    result = getattr(ex, name)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


async def test_market_data(ex: Any, emulator: Emulator) -> None:
    server_time = await call(ex, "fetch_time")
    assert abs(server_time - emulator.state.now_ms()) < 5000
    markets = await call(ex, "load_markets")
    assert {"BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "BTC/USD:BTC"} <= set(markets)
    btc = await call(ex, "market", "BTC/USDT:USDT")
    assert btc.id == "BTCUSDT" and btc.type == "swap" and btc.price_step == Decimal("0.10")
    assert btc.amount_step == Decimal("0.001") and btc.min_notional == Decimal(5)
    assert len(await call(ex, "fetch_markets")) == len(markets)
    ticker = await call(ex, "fetch_ticker", "BTC/USDT")
    assert ticker.bid < ticker.ask and ticker.last > 0 and ticker.high >= ticker.low
    tickers = await call(ex, "fetch_tickers", ["BTC/USDT", "BTC/USD:BTC"])
    assert set(tickers) == {"BTC/USDT", "BTC/USD:BTC"}
    everything = await call(ex, "fetch_tickers")
    assert set(everything) == set(markets)
    book = await call(ex, "fetch_order_book", "BTC/USDT:USDT", 10)
    assert len(book.bids) == 10 and len(book.asks) == 10
    assert book.bids[0][0] < book.asks[0][0]
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    candles = await call(ex, "fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5
    assert [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
    assert all(c.low <= c.open <= c.high and c.low <= c.close <= c.high for c in candles)
    first = candles[0].timestamp
    since = await call(ex, "fetch_ohlcv", "BTC/USDT", "1h", first, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]
    with pytest.raises(BadSymbol):
        await call(ex, "fetch_ticker", "DOGE/USDT")


async def test_account_and_key(ex: Any) -> None:
    balances = await call(ex, "fetch_balance")
    assert balances["USDT"].total == Decimal(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == Decimal(2)
    fee = await call(ex, "fetch_trading_fee", "BTC/USDT:USDT")
    assert (fee.maker, fee.taker) == (Decimal("0.0002"), Decimal("0.00055"))
    info = await call(ex, "fetch_key_info")
    assert info.can_trade and not info.can_withdraw and not info.read_only
    audit = await call(ex, "audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]
    assert not audit.critical


async def test_order_lifecycle(ex: Any, emulator: Emulator) -> None:
    ticker = await call(ex, "fetch_ticker", "BTC/USDT")
    far = (ticker.bid * Decimal("0.9")).quantize(Decimal("0.01"))
    placed = await call(
        ex,
        "create_order",
        "BTC/USDT",
        "limit",
        "buy",
        Decimal("0.01"),
        far,
        post_only=True,
        client_order_id="life-1",
    )
    assert placed.client_order_id == "life-1" and placed.id
    balances = await call(ex, "fetch_balance")
    assert balances["USDT"].used == far * Decimal("0.01")
    open_orders = await call(ex, "fetch_open_orders", "BTC/USDT")
    assert [(o.id, o.status, o.post_only) for o in open_orders] == [(placed.id, "open", True)]
    assert [o.id for o in await call(ex, "fetch_open_orders")] == [placed.id]
    await call(ex, "amend_order", placed.id, "BTC/USDT", price=far - 1, amount=Decimal("0.02"))
    amended = await call(ex, "fetch_order", placed.id, "BTC/USDT")
    assert (amended.price, amended.amount) == (far - 1, Decimal("0.02"))
    by_client = await call(ex, "fetch_order", None, "BTC/USDT", client_order_id="life-1")
    assert by_client.id == placed.id
    await call(ex, "cancel_order", placed.id, "BTC/USDT")
    cancelled = await call(ex, "fetch_order", placed.id, "BTC/USDT")
    assert cancelled.status == "canceled" and cancelled.remaining == 0
    closed = await call(ex, "fetch_closed_orders", "BTC/USDT")
    assert placed.id in [o.id for o in closed]
    with pytest.raises(DuplicateOrderId):
        await call(
            ex,
            "create_order",
            "BTC/USDT",
            "limit",
            "buy",
            Decimal("0.01"),
            far,
            client_order_id="life-1",
        )
    with pytest.raises(OrderNotFound):
        await call(ex, "fetch_order", "no-such-order", "BTC/USDT")
    with pytest.raises(OrderNotFound):
        await call(ex, "cancel_order", placed.id, "BTC/USDT")
    assert [o["client_order_id"] for o in emulator.ledger()] == ["life-1"]


async def test_market_order_fills_positions_and_fills(ex: Any) -> None:
    before = (await call(ex, "fetch_balance"))["USDT"].total
    await call(
        ex,
        "create_order",
        "BTC/USDT:USDT",
        "market",
        "buy",
        Decimal("0.01"),
        client_order_id="mkt-1",
    )
    positions = await call(ex, "fetch_positions")
    assert [(p.symbol, p.side, p.size) for p in positions] == [
        ("BTC/USDT:USDT", "long", Decimal("0.010"))
    ]
    assert await call(ex, "fetch_positions", ["BTC/USDT:USDT"]) == positions
    fills = await call(ex, "fetch_my_trades", "BTC/USDT:USDT")
    assert fills and all(f.client_order_id == "mkt-1" and f.is_maker is False for f in fills)
    assert sum(f.amount for f in fills) == Decimal("0.01")
    assert all(f.fee_currency == "USDT" and f.fee > 0 for f in fills)
    after = (await call(ex, "fetch_balance"))["USDT"].total
    assert after == before - sum(f.fee for f in fills)
    await call(
        ex, "create_order", "BTC/USDT:USDT", "market", "sell", Decimal("0.01"), reduce_only=True
    )
    assert await call(ex, "fetch_positions") == []
    spot = await call(ex, "create_order", "ETH/USDT", "market", "buy", Decimal("0.5"))
    eth = (await call(ex, "fetch_balance"))["ETH"]
    spot_fills = await call(ex, "fetch_my_trades", "ETH/USDT")
    assert {f.order_id for f in spot_fills} == {spot.id}
    # Spot buy fees are paid in the coin received.
    assert eth.total == Decimal(20) + Decimal("0.5") - sum(f.fee for f in spot_fills)
    trades = await call(ex, "fetch_trades", "ETH/USDT", 10)
    assert trades and trades[-1].side == "buy"


async def test_cancel_all_and_insufficient_funds(ex: Any) -> None:
    ticker = await call(ex, "fetch_ticker", "ETH/USDT")
    low = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.01"))
    for _ in range(3):
        await call(ex, "create_order", "ETH/USDT", "limit", "buy", Decimal("0.1"), low)
    linear = await call(ex, "fetch_ticker", "ETH/USDT:USDT")
    await call(
        ex,
        "create_order",
        "ETH/USDT:USDT",
        "limit",
        "buy",
        Decimal("0.1"),
        (linear.bid * Decimal("0.8")).quantize(Decimal("0.01")),
    )
    cancelled = await call(ex, "cancel_all_orders")
    assert len(cancelled) == 4
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call(ex, "fetch_open_orders") == []
    with pytest.raises(InsufficientFunds) as info:
        await call(ex, "create_order", "BTC/USDT", "limit", "buy", Decimal(100), Decimal(60000))
    assert info.value.code == 170131
    with pytest.raises(InsufficientFunds) as info:
        await call(
            ex, "create_order", "BTC/USDT:USDT", "limit", "buy", Decimal(100), Decimal(60000)
        )
    assert info.value.code == 110007


def test_authentication_failures(emulator: Emulator) -> None:
    url = emulator.base_url
    wrong = exchanges.connect(
        "bybit", base_url=url, credentials=exchanges.Credentials("test-key", "wrong-secret")
    )
    with pytest.raises(InvalidSignature) as info:
        wrong.fetch_balance()
    assert info.value.code == 10004 and "origin_string" in info.value.message
    assert "wrong-secret" not in str(info.value)
    unknown = exchanges.connect(
        "bybit", base_url=url, env="testnet", credentials=exchanges.Credentials("nobody", "x")
    )
    with pytest.raises(InvalidApiKey) as info2:
        unknown.fetch_balance()
    assert "testnet" in info2.value.hint
    emulator.add_key("ro-key", "ro-secret", permissions=("read",))
    read_only = exchanges.connect(
        "bybit", base_url=url, credentials=exchanges.Credentials("ro-key", "ro-secret")
    )
    assert read_only.fetch_balance()["USDT"].total > 0
    with pytest.raises(PermissionDenied) as info3:
        read_only.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert info3.value.code == 10005
    emulator.add_key("ip-key", "ip-secret", ips=("10.0.0.1",))
    fenced = exchanges.connect(
        "bybit", base_url=url, credentials=exchanges.Credentials("ip-key", "ip-secret")
    )
    with pytest.raises(IpNotAllowed):
        fenced.fetch_balance()


def test_trade_key_and_read_key(emulator: Emulator) -> None:
    emulator.add_key("ro-key", "ro-secret", permissions=("read",))
    ex = exchanges.connect(
        "bybit",
        base_url=emulator.base_url,
        credentials=exchanges.Credentials("ro-key", "ro-secret"),
        trade_credentials=exchanges.Credentials("test-key", "test-secret"),
    )
    order = ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert ex.fetch_order(order.id, "BTC/USDT").status == "closed"


# -- X-BAPI-RECV-WINDOW ("Parameters for authenticated endpoints",
# https://bybit-exchange.github.io/docs/v5/guide#parameters-for-authenticated-endpoints) ------


def signed(
    emulator: Emulator, method: str, target: str, recv: str, stamp: int, body: Any = None
) -> dict[str, Any]:
    """One request signed by hand over real HTTP, with the recv window text the test chooses."""
    query = target.partition("?")[2]
    raw = json.dumps(body).encode() if body is not None else b""
    payload = query.encode() if method == "GET" else raw
    message = str(stamp).encode() + b"test-key" + recv.encode() + payload
    request = urllib.request.Request(
        emulator.base_url + target,
        data=raw or None,
        method=method,
        headers={
            "X-BAPI-API-KEY": "test-key",
            "X-BAPI-TIMESTAMP": str(stamp),
            "X-BAPI-RECV-WINDOW": recv,
            "X-BAPI-SIGN": hmac.new(b"test-secret", message, hashlib.sha256).hexdigest(),
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


BALANCE = "/v5/account/wallet-balance?accountType=UNIFIED"


@pytest.mark.parametrize(
    "recv",
    ["nan", "inf", "-5000", "0", "000", "1e4", "5000.5", "5_000", "+5000", "9" * 20],
)
def test_a_recv_window_that_is_not_a_positive_whole_number_is_refused(
    emulator: Emulator, recv: str
) -> None:
    # Ten minutes old: only a window that switched the timestamp check off would let it in.
    stale = emulator.state.now_ms() - 600_000
    answer = signed(emulator, "GET", BALANCE, recv, stale)
    assert answer["retCode"] == 10001 and "recv_window" in answer["retMsg"]
    fresh = signed(emulator, "GET", BALANCE, recv, emulator.state.now_ms())
    assert fresh["retCode"] == 10001


def test_a_stale_order_with_a_malformed_recv_window_is_not_placed(emulator: Emulator) -> None:
    order = {
        "category": "spot",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Market",
        "qty": "0.001",
        "marketUnit": "baseCoin",
    }
    stale = emulator.state.now_ms() - 600_000
    answer = signed(emulator, "POST", "/v5/order/create", "5_000_000", stale, order)
    assert answer["retCode"] == 10001
    assert emulator.ledger() == []


def test_a_positive_recv_window_is_applied(emulator: Emulator) -> None:
    ten_seconds_old = emulator.state.now_ms() - 10_000
    assert signed(emulator, "GET", BALANCE, "5000", emulator.state.now_ms())["retCode"] == 0
    assert signed(emulator, "GET", BALANCE, "15000", ten_seconds_old)["retCode"] == 0
    assert signed(emulator, "GET", BALANCE, "5000", ten_seconds_old)["retCode"] == 10002
