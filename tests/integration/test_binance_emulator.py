"""Every interface method against the Binance emulator over real loopback HTTP, sync and async."""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import exchanges
from exchanges.emulator import Emulator
from exchanges.errors import (
    BadRequest,
    BadSymbol,
    DuplicateOrderId,
    InsufficientFunds,
    InvalidApiKey,
    InvalidOrder,
    InvalidSignature,
    NotSupported,
    OrderNotFound,
    OutcomeUnknown,
)

pytestmark = pytest.mark.timeout(60)

CREDS = exchanges.Credentials("test-key", "test-secret")
D = Decimal


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[exchanges.Exchange]:
    with exchanges.connect("binance", base_url=emu.base_url, credentials=CREDS) as ex:
        yield ex


@pytest.fixture(params=["sync", "async"])
async def ex(request: pytest.FixtureRequest, emu: Emulator) -> AsyncIterator[Any]:
    if request.param == "sync":
        with exchanges.connect("binance", base_url=emu.base_url, credentials=CREDS) as c:
            yield c
    else:
        async with exchanges.connect_async(
            "binance", base_url=emu.base_url, credentials=CREDS
        ) as c:
            yield c


async def call(ex: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    result = getattr(ex, name)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


def below(price: Decimal, factor: str) -> Decimal:
    return (price * D(factor)).quantize(D("0.01"))


async def test_market_data(ex: Any, emu: Emulator) -> None:
    assert abs(await call(ex, "fetch_time") - emu.state.now_ms()) < 5000
    markets = await call(ex, "load_markets")
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"}
    swap = await call(ex, "market", "BTC/USDT:USDT")
    assert (swap.id, swap.type, swap.settle, swap.price_step) == (
        "BTCUSDT",
        "swap",
        "USDT",
        D("0.1"),
    )
    assert (swap.amount_step, swap.min_notional) == (D("0.001"), D(5))
    spot = await call(ex, "market", "BTC/USDT")
    assert (spot.type, spot.amount_step, spot.min_amount) == ("spot", D("0.000001"), D("0.000048"))
    assert len(await call(ex, "fetch_markets")) == len(markets)
    for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
        ticker = await call(ex, "fetch_ticker", symbol)
        # USD-M's 24hr ticker has no bid/ask: the adapter adds the bookTicker's.
        assert ticker.bid < ticker.ask and ticker.low <= ticker.last <= ticker.high
    assert set(await call(ex, "fetch_tickers", ["BTC/USDT", "ETH/USDT:USDT"])) == {
        "BTC/USDT",
        "ETH/USDT:USDT",
    }
    assert set(await call(ex, "fetch_tickers")) == set(markets)
    for symbol, limit in (("BTC/USDT:USDT", 7), ("ETH/USDT", 3)):
        book = await call(ex, "fetch_order_book", symbol, limit)
        assert len(book.bids) == limit and len(book.asks) == limit
        assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
        assert book.bids[0][0] < book.asks[0][0]
    candles = await call(ex, "fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5 and candles == sorted(candles, key=lambda c: c.timestamp)
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    since = await call(ex, "fetch_ohlcv", "BTC/USDT:USDT", "1h", candles[0].timestamp, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]
    with pytest.raises(BadSymbol):
        await call(ex, "fetch_ticker", "DOGE/USDT")
    with pytest.raises(NotSupported, match="COIN-M"):
        await call(ex, "fetch_ticker", "BTC/USD:BTC")
    with pytest.raises(BadRequest):
        await call(ex, "fetch_ohlcv", "BTC/USDT:USDT", "1s")


async def test_account_fees_and_key(ex: Any) -> None:
    balances = await call(ex, "fetch_balance")
    assert balances["USDT"].total == D(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == D(2)
    spot_fee = await call(ex, "fetch_trading_fee", "BTC/USDT")
    assert (spot_fee.maker, spot_fee.taker) == (D("0.001"), D("0.001"))
    swap_fee = await call(ex, "fetch_trading_fee", "BTC/USDT:USDT")
    assert (swap_fee.maker, swap_fee.taker) == (D("0.0002"), D("0.00055"))
    info = await call(ex, "fetch_key_info")
    assert info.permissions >= {"read", "spot_trade", "derivatives_trade"}
    assert info.can_trade and not info.can_withdraw and info.ip_whitelist == ()
    audit = await call(ex, "audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]


async def test_spot_order_lifecycle(ex: Any, emu: Emulator) -> None:
    ticker = await call(ex, "fetch_ticker", "BTC/USDT")
    far = below(ticker.bid, "0.9")
    placed = await call(
        ex, "create_order", "BTC/USDT", "limit", "buy", D("0.01"), far,
        post_only=True, client_order_id="life-1",
    )  # fmt: skip
    assert (placed.client_order_id, placed.status, placed.post_only) == ("life-1", "open", True)
    assert placed.id.isdigit()
    assert (await call(ex, "fetch_balance"))["USDT"].used == far * D("0.01")
    assert [o.id for o in await call(ex, "fetch_open_orders", "BTC/USDT")] == [placed.id]
    assert [o.id for o in await call(ex, "fetch_open_orders")] == [placed.id]
    by_client = await call(ex, "fetch_order", None, "BTC/USDT", client_order_id="life-1")
    assert by_client.id == placed.id and by_client.price == far
    # Binance: "A unique id among open orders": refused while the first is open...
    with pytest.raises(DuplicateOrderId) as dup:
        await call(
            ex, "create_order", "BTC/USDT", "limit", "buy", D("0.01"), far, client_order_id="life-1"
        )
    assert dup.value.code == -2010
    with pytest.raises(NotSupported, match="cancelReplace"):
        await call(ex, "amend_order", placed.id, "BTC/USDT", price=far - 1)
    with pytest.raises(InvalidOrder, match="immediately match"):
        await call(ex, "create_order", "BTC/USDT", "limit", "buy", D("0.01"), ticker.ask + 100,
                   post_only=True)  # fmt: skip
    cancelled = await call(ex, "cancel_order", placed.id, "BTC/USDT")
    assert (cancelled.status, cancelled.client_order_id, cancelled.remaining) == (
        "canceled",
        "life-1",
        0,
    )
    assert placed.id in [o.id for o in await call(ex, "fetch_closed_orders", "BTC/USDT")]
    # ... and accepted again once it is closed; the id then names the newest order.
    again = await call(
        ex, "create_order", "BTC/USDT", "limit", "buy", D("0.01"), far, client_order_id="life-1"
    )
    assert again.id != placed.id
    latest = await call(ex, "fetch_order", None, "BTC/USDT", client_order_id="life-1")
    assert latest.id == again.id
    with pytest.raises(OrderNotFound) as missing:
        await call(ex, "fetch_order", "999999999", "BTC/USDT")
    assert missing.value.code == -2013
    with pytest.raises(OrderNotFound) as unknown:
        await call(ex, "cancel_order", placed.id, "BTC/USDT")
    assert unknown.value.code == -2011
    with pytest.raises(OrderNotFound):
        await call(ex, "fetch_order", "not-a-number", "BTC/USDT")
    assert [o["client_order_id"] for o in emu.ledger()] == ["life-1", "life-1#2"]


async def test_usdm_order_lifecycle(ex: Any) -> None:
    ticker = await call(ex, "fetch_ticker", "ETH/USDT:USDT")
    price = below(ticker.bid, "0.8")
    placed = await call(
        ex, "create_order", "ETH/USDT:USDT", "limit", "buy", D("0.1"), price,
        client_order_id="fut-1", post_only=True,
    )  # fmt: skip
    assert (placed.status, placed.time_in_force, placed.reduce_only) == ("open", "PO", False)
    with pytest.raises(DuplicateOrderId) as dup:
        await call(ex, "create_order", "ETH/USDT:USDT", "limit", "buy", D("0.1"), price,
                   client_order_id="fut-1")  # fmt: skip
    assert dup.value.code == -4116
    amended = await call(ex, "amend_order", placed.id, "ETH/USDT:USDT", price=price - 1)
    assert (amended.id, amended.price, amended.amount) == (placed.id, price - 1, D("0.1"))
    resized = await call(
        ex, "amend_order", None, "ETH/USDT:USDT", amount=D("0.2"), client_order_id="fut-1"
    )
    assert (resized.price, resized.amount) == (price - 1, D("0.2"))
    fetched = await call(ex, "fetch_order", placed.id, "ETH/USDT:USDT")
    assert (fetched.price, fetched.amount, fetched.status) == (price - 1, D("0.2"), "open")
    cancelled = await call(ex, "cancel_order", None, "ETH/USDT:USDT", client_order_id="fut-1")
    assert cancelled.status == "canceled"
    closed = await call(ex, "fetch_closed_orders", "ETH/USDT:USDT")
    assert [o.id for o in closed] == [placed.id]
    with pytest.raises(InvalidOrder) as would_take:
        await call(ex, "create_order", "ETH/USDT:USDT", "limit", "buy", D("0.1"), ticker.ask + 10,
                   post_only=True)  # fmt: skip
    assert would_take.value.code == -5022


async def test_fills_positions_and_reduce_only(ex: Any, emu: Emulator) -> None:
    before = (await call(ex, "fetch_balance"))["USDT"].total
    futures_before = D(emu.balances(wallet="usdm")["USDT"]["total"])
    bought = await call(
        ex, "create_order", "BTC/USDT:USDT", "market", "buy", D("0.01"), client_order_id="mkt-1"
    )
    assert (bought.status, bought.filled) == ("closed", D("0.01"))
    positions = await call(ex, "fetch_positions")
    assert [(p.symbol, p.side, p.size, p.leverage) for p in positions] == [
        ("BTC/USDT:USDT", "long", D("0.01"), D(10))
    ]
    assert await call(ex, "fetch_positions", ["BTC/USDT:USDT"]) == positions
    with pytest.raises(BadRequest):
        await call(ex, "fetch_positions", ["BTC/USDT"])
    fills = await call(ex, "fetch_my_trades", "BTC/USDT:USDT")
    assert {f.order_id for f in fills} == {bought.id} and sum(f.amount for f in fills) == D("0.01")
    assert all(f.is_maker is False and f.fee_currency == "USDT" and f.fee > 0 for f in fills)
    # The fee is paid from the USD-M wallet; the spot wallet (the default) does not move.
    assert (await call(ex, "fetch_balance"))["USDT"].total == before
    futures_after = D(emu.balances(wallet="usdm")["USDT"]["total"])
    assert futures_after == futures_before - sum(f.fee for f in fills)
    await call(ex, "create_order", "BTC/USDT:USDT", "market", "sell", D("0.01"), reduce_only=True)
    assert await call(ex, "fetch_positions") == []
    with pytest.raises(InvalidOrder) as reduce:
        await call(ex, "create_order", "BTC/USDT:USDT", "market", "sell", D("0.01"),
                   reduce_only=True)  # fmt: skip
    assert reduce.value.code == -2022
    spot = await call(ex, "create_order", "ETH/USDT", "market", "buy", D("0.5"))
    spot_fills = await call(ex, "fetch_my_trades", "ETH/USDT", None, 10)
    assert {f.order_id for f in spot_fills} == {spot.id}
    eth = (await call(ex, "fetch_balance"))["ETH"]
    assert eth.total == D(20) + D("0.5") - sum(f.fee for f in spot_fills)
    trades = await call(ex, "fetch_trades", "ETH/USDT", 10)
    assert trades and trades[-1].side == "buy"
    with pytest.raises(BadRequest, match="symbol"):
        await call(ex, "fetch_my_trades")
    with pytest.raises(BadRequest, match="symbol"):
        await call(ex, "fetch_closed_orders")


async def test_cancel_all_and_insufficient_funds(ex: Any) -> None:
    spot = await call(ex, "fetch_ticker", "ETH/USDT")
    for _ in range(3):
        await call(ex, "create_order", "ETH/USDT", "limit", "buy", D("0.1"), below(spot.bid, "0.8"))
    swap = await call(ex, "fetch_ticker", "ETH/USDT:USDT")
    await call(
        ex, "create_order", "ETH/USDT:USDT", "limit", "buy", D("0.1"), below(swap.bid, "0.8")
    )
    cancelled = await call(ex, "cancel_all_orders")
    assert len(cancelled) == 4 and {o.status for o in cancelled} == {"canceled"}
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call(ex, "fetch_open_orders") == []
    assert await call(ex, "cancel_all_orders", "ETH/USDT") == []
    with pytest.raises(InsufficientFunds) as spot_funds:
        await call(ex, "create_order", "BTC/USDT", "limit", "buy", D(100), D(60000))
    assert spot_funds.value.code == -2010
    with pytest.raises(InsufficientFunds) as margin:
        await call(ex, "create_order", "BTC/USDT:USDT", "limit", "buy", D(100), D(60000))
    assert margin.value.code == -2019


def test_authentication_failures(emu: Emulator) -> None:
    url = emu.base_url
    wrong = exchanges.connect(
        "binance", base_url=url, credentials=exchanges.Credentials("test-key", "wrong-secret")
    )
    with pytest.raises(InvalidSignature) as bad_sign:
        wrong.fetch_balance()
    assert bad_sign.value.code == -1022 and "wrong-secret" not in str(bad_sign.value)
    nobody = exchanges.connect(
        "binance", base_url=url, env="testnet", credentials=exchanges.Credentials("nobody", "x")
    )
    with pytest.raises(InvalidApiKey) as unknown:
        nobody.fetch_balance()
    assert unknown.value.code == -2015 and unknown.value.http_status == 401
    assert "testnet.binance.vision" in unknown.value.hint and "IP" in unknown.value.hint
    # A read-only key may read, but an order is refused with the same -2015 (Binance does not
    # tell a missing permission from an unknown key).
    emu.add_key("ro-key", "ro-secret", permissions=("read",))
    read_only = exchanges.connect(
        "binance", base_url=url, credentials=exchanges.Credentials("ro-key", "ro-secret")
    )
    assert read_only.fetch_balance()["USDT"].total > 0
    assert read_only.fetch_key_info().read_only
    with pytest.raises(InvalidApiKey) as no_trade:
        read_only.create_order("BTC/USDT", "market", "buy", D("0.001"))
    assert no_trade.value.code == -2015 and "permission" in no_trade.value.hint
    emu.add_key("ip-key", "ip-secret", ips=("10.0.0.1",))
    fenced = exchanges.connect(
        "binance", base_url=url, credentials=exchanges.Credentials("ip-key", "ip-secret")
    )
    with pytest.raises(InvalidApiKey):
        fenced.fetch_balance()
    assert emu.ledger() == []


def test_ip_restricted_key_info(emu: Emulator) -> None:
    emu.add_key("ip-key", "ip-secret", ips=("127.0.0.1",), permissions=("read", "withdraw"))
    ex = exchanges.connect(
        "binance", base_url=emu.base_url, credentials=exchanges.Credentials("ip-key", "ip-secret")
    )
    info = ex.fetch_key_info()
    assert info.ip_whitelist == () and info.ip_restricted and info.bound_to_ips
    assert info.can_withdraw
    assert ex.audit_key().critical


def test_trade_key_and_read_key(emu: Emulator) -> None:
    emu.add_key("ro-key", "ro-secret", permissions=("read",))
    ex = exchanges.connect(
        "binance",
        base_url=emu.base_url,
        credentials=exchanges.Credentials("ro-key", "ro-secret"),
        trade_credentials=CREDS,
    )
    order = ex.create_order("BTC/USDT", "market", "buy", D("0.001"))
    assert ex.fetch_order(order.id, "BTC/USDT").status == "closed"


@pytest.mark.parametrize("offset_ms", [-3000, 3000, 8000])
def test_stale_clock_resyncs_once(
    client: exchanges.Exchange, emu: Emulator, offset_ms: int
) -> None:
    client.fetch_balance()
    resyncs = client.session.clock.resyncs
    emu.set_clock_offset(offset_ms)
    assert client.fetch_balance()["USDT"].total > 0
    # Binance accepts timestamp < server + 1000 and server - timestamp <= recvWindow (5000):
    # 3 s behind the server passes as is; ahead of it, or 8 s behind, is -1021 and resyncs once.
    expected = resyncs + (0 if offset_ms == 3000 else 1)
    assert client.session.clock.resyncs == expected
    client.fetch_open_orders("BTC/USDT")
    assert client.session.clock.resyncs == expected


@pytest.mark.parametrize(
    ("fault", "path", "symbol"),
    [
        ("drop_after", "/api/v3/order", "BTC/USDT"),
        ("server_error_after", "/api/v3/order", "BTC/USDT"),
        ("http_5xx_after", "/fapi/v1/order", "BTC/USDT:USDT"),
        ("drop_after", "/fapi/v1/order", "BTC/USDT:USDT"),
    ],
)
def test_exactly_once_when_the_answer_is_lost(
    client: exchanges.Exchange, emu: Emulator, fault: str, path: str, symbol: str
) -> None:
    client.fetch_key_info()
    emu.set_faults(f"{fault}:1.0@{path}*1")
    cid = f"once-{fault}".replace("_", "-")
    order = client.create_order(symbol, "market", "buy", D("0.001"), client_order_id=cid)
    # Learnt from the lookup by origClientOrderId, not from the lost answer.
    assert (order.client_order_id, order.status) == (cid, "closed")
    assert [o["client_order_id"] for o in emu.ledger()] == [cid]
    assert emu.stats()["faults_injected"]


@pytest.mark.parametrize("fault", ["drop_before", "server_error", "http_5xx"])
def test_lost_before_acting_is_resent_once(
    client: exchanges.Exchange, emu: Emulator, fault: str
) -> None:
    client.fetch_key_info()
    emu.set_faults(f"{fault}:1.0@/api/v3/order*1")
    order = client.create_order(
        "BTC/USDT", "market", "buy", D("0.001"), client_order_id=f"resent-{fault}"
    )
    assert order.id is not None
    assert [o["client_order_id"] for o in emu.ledger()] == [f"resent-{fault}"]


def test_outcome_unknown_names_the_client_order_id(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    client.fetch_key_info()
    emu.set_faults("drop_after:1.0@/api/v3/order*1,drop_before:1.0@/api/v3/order")
    with pytest.raises(OutcomeUnknown) as info:
        client.create_order("BTC/USDT", "market", "buy", D("0.001"), client_order_id="unknown-1")
    assert info.value.client_order_id == "unknown-1"
    emu.clear_faults()
    assert client.fetch_order(None, "BTC/USDT", client_order_id="unknown-1").status == "closed"
    assert len(emu.ledger()) == 1


def test_rate_limit_answer_is_waited_out(client: exchanges.Exchange, emu: Emulator) -> None:
    client.fetch_time()
    emu.set_faults("rate_limit:1.0@/api/v3/account*1")
    assert client.fetch_balance()["USDT"].total > 0
    assert emu.stats()["faults_injected"] == {"rate_limit": 1}


def test_weights_are_counted_per_market(client: exchanges.Exchange, emu: Emulator) -> None:
    client.load_markets()
    client.fetch_balance()
    stats = emu.stats()["max_in_window"]
    # Spot: exchangeInfo 20 + time 1 + account 20 (Binance's documented weights); USD-M:
    # exchangeInfo 1, counted apart.
    assert stats["binance:spot:weight:1m:127.0.0.1"] == 41
    assert stats["binance:usdm:weight:1m:127.0.0.1"] == 1


def _pems(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_asymmetric_keys_trade(emu: Emulator, kind: str) -> None:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "rsa"
        else ed25519.Ed25519PrivateKey.generate()
    )
    private, public = _pems(key)
    emu.add_key(f"{kind}-key", public_key=public, permissions=("read", "spot_trade"))
    ex = exchanges.connect(
        "binance",
        base_url=emu.base_url,
        credentials=exchanges.Credentials(f"{kind}-key", private_key=private),
    )
    assert ex.session.credentials is not None and ex.session.credentials.kind == kind
    assert ex.fetch_balance()["USDT"].total > 0
    ex.create_order("BTC/USDT", "market", "buy", D("0.001"), client_order_id=f"{kind}-1")
    other, _ = _pems(ed25519.Ed25519PrivateKey.generate())
    bad = exchanges.connect(
        "binance",
        base_url=emu.base_url,
        credentials=exchanges.Credentials(f"{kind}-key", private_key=other),
    )
    with pytest.raises(InvalidSignature):
        bad.fetch_balance()


def test_usdm_wallet_option(emu: Emulator) -> None:
    with exchanges.connect(
        "binance", base_url=emu.base_url, credentials=CREDS, wallet="usdm"
    ) as ex:
        ex.create_order("BTC/USDT:USDT", "market", "buy", D("0.01"))
        usdt = ex.fetch_balance()["USDT"]
        assert usdt.used > 0 and usdt.free + usdt.used == usdt.total


def test_emulator_enforces_weight_and_order_count(
    client: exchanges.Exchange, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import urllib.error
    import urllib.request

    from adapters.binance import emulator as front

    monkeypatch.setitem(front._WEIGHT_LIMIT, "spot", 25)
    url = f"{emu.base_url}/api/v3/exchangeInfo"
    with urllib.request.urlopen(url, timeout=5) as first:
        assert first.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 429
    assert json.loads(refused.value.read())["code"] == -1003
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 60
    monkeypatch.setitem(front._WEIGHT_LIMIT, "spot", 6000)
    monkeypatch.setitem(front._ORDER_LIMITS, "spot", ((1, "S", 2),))
    client.fetch_key_info()
    client.session.limiter.enabled = False  # let the burst reach the emulator's order count
    client.load_markets()
    # The window is a fixed second: start the burst early in one, so all three land in it.
    time.sleep((1000 - emu.state.now_ms() % 1000) / 1000)
    for n in range(3):
        client.create_order("BTC/USDT", "market", "buy", D("0.001"), client_order_id=f"burst-{n}")
    # The third order met -1015 (HTTP 429, Retry-After) and was resent after the wait.
    assert emu.stats()["rate_limited"].get("1001:binance:spot:orders:1s", 0) >= 1
    assert [o["client_order_id"] for o in emu.ledger()] == ["burst-0", "burst-1", "burst-2"]


# -- recvWindow ("Timing security",
# https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information) ---

MARKETS = {"spot": "/api/v3", "usdm": "/fapi/v1"}
ACCOUNT = {"spot": "/api/v3/account", "usdm": "/fapi/v3/account"}


def signed(
    emu: Emulator, method: str, path: str, params: str, timestamp: int | None = None
) -> tuple[int, dict[str, Any]]:
    """One request signed by hand over real HTTP, with the recvWindow text the test chooses."""
    stamp = emu.state.now_ms() if timestamp is None else timestamp
    query = f"{params}&timestamp={stamp}" if params else f"timestamp={stamp}"
    sign = hmac.new(b"test-secret", query.encode(), hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{emu.base_url}{path}?{query}&signature={sign}",
        method=method,
        headers={"X-MBX-APIKEY": "test-key"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("market", ["spot", "usdm"])
@pytest.mark.parametrize(
    "window", ["nan", "NaN", "inf", "Infinity", "-inf", "1e4", "-5000", "5000.1234", "5,000", "x"]
)
def test_a_recv_window_that_is_not_a_number_is_refused(
    emu: Emulator, market: str, window: str
) -> None:
    # Ten minutes old: only a recvWindow that switched the window check off would let it in.
    stale = emu.state.now_ms() - 600_000
    status, body = signed(emu, "GET", ACCOUNT[market], f"recvWindow={window}", stale)
    assert (status, body["code"]) == (400, -1100)
    assert "recvWindow" in body["msg"]


@pytest.mark.parametrize("market", ["spot", "usdm"])
@pytest.mark.parametrize("window", ["0", "0.000"])
def test_a_zero_recv_window_is_refused(emu: Emulator, market: str, window: str) -> None:
    status, body = signed(emu, "GET", ACCOUNT[market], f"recvWindow={window}")
    assert (status, body["code"]) == (400, -1131)


def test_spot_refuses_a_recv_window_over_60000(emu: Emulator) -> None:
    assert signed(emu, "GET", ACCOUNT["spot"], "recvWindow=60000")[0] == 200
    assert signed(emu, "GET", ACCOUNT["spot"], "recvWindow=60000.001")[1]["code"] == -1131
    assert signed(emu, "GET", ACCOUNT["spot"], "recvWindow=60001")[1]["code"] == -1131


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_recv_window_with_up_to_three_decimals_is_served(emu: Emulator, market: str) -> None:
    assert signed(emu, "GET", ACCOUNT[market], "recvWindow=6000.346")[0] == 200
    assert signed(emu, "GET", ACCOUNT[market], "")[0] == 200  # 5000 when not sent
    stale = emu.state.now_ms() - 7000
    status, body = signed(emu, "GET", ACCOUNT[market], "recvWindow=6000.346", stale)
    assert (status, body["code"]) == (400, -1021)


@pytest.mark.parametrize("market", ["spot", "usdm"])
def test_a_stale_order_with_a_nan_recv_window_is_not_placed(emu: Emulator, market: str) -> None:
    order = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=nanwindow"
    stale = emu.state.now_ms() - 600_000
    status, body = signed(emu, "POST", f"{MARKETS[market]}/order", f"{order}&recvWindow=nan", stale)
    assert (status, body["code"]) == (400, -1100)
    assert emu.ledger() == []
