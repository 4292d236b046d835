"""Every interface method of the OKX adapter against the emulator over loopback HTTP.

Sync and async clients run the same scenarios; errors, clock skew, rate limits and exactly-once
order placement are checked end to end (the emulator verifies signatures over the raw bytes
it receives, so every passing call also proves that the bytes sent are the bytes signed).
"""

from __future__ import annotations

import asyncio
import base64
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

import exchanges
from adapters.okx.signer import iso_timestamp, prehash
from exchanges.emulator import Emulator
from exchanges.errors import (
    AuthenticationError,
    BadSymbol,
    DuplicateOrderId,
    InsufficientFunds,
    InvalidApiKey,
    InvalidSignature,
    IpNotAllowed,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    UnsafeApiKey,
)
from exchanges.retry import RetryPolicy

pytestmark = pytest.mark.timeout(60)

CREDS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("okx", seed=7) as emulator:
        yield emulator


@pytest.fixture(params=["sync", "async"])
async def ex(request: pytest.FixtureRequest, emu: Emulator) -> AsyncIterator[Any]:
    if request.param == "sync":
        with exchanges.connect("okx", base_url=emu.base_url, credentials=CREDS) as client:
            yield client
    else:
        async with exchanges.connect_async(
            "okx", base_url=emu.base_url, credentials=CREDS
        ) as client:
            yield client


@pytest.fixture
def client(emu: Emulator) -> Iterator[exchanges.Exchange]:
    with exchanges.connect("okx", base_url=emu.base_url, credentials=CREDS) as c:
        yield c


async def call(ex: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    result = getattr(ex, name)(*args, **kwargs)
    return await result if inspect.isawaitable(result) else result


async def test_market_data(ex: Any, emu: Emulator) -> None:
    assert abs(await call(ex, "fetch_time") - emu.state.now_ms()) < 5000
    markets = await call(ex, "load_markets")
    assert set(markets) == {
        "BTC/USDT",
        "ETH/USDT",
        "SOL/USDT",
        "BTC/USDT:USDT",
        "ETH/USDT:USDT",
        "BTC/USD:BTC",
    }
    swap = await call(ex, "market", "BTC/USDT:USDT")
    assert (swap.id, swap.type, swap.contract_size) == ("BTC-USDT-SWAP", "swap", Decimal("0.01"))
    # OKX lists a lot of 0.1 contract of 0.01 BTC; the interface counts BTC: 0.001.
    assert swap.counts_contracts is True
    assert (swap.amount_step, swap.min_amount, swap.price_step) == (
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal("0.10"),
    )
    inverse = markets["BTC/USD:BTC"]
    assert (inverse.id, inverse.inverse, inverse.contract_size) == (
        "BTC-USD-SWAP",
        True,
        Decimal(100),
    )
    assert len(await call(ex, "fetch_markets")) == len(markets)
    ticker = await call(ex, "fetch_ticker", "BTC/USDT")
    assert ticker.bid < ticker.ask and ticker.last > 0 and ticker.high >= ticker.low
    tickers = await call(ex, "fetch_tickers", ["BTC/USDT", "BTC/USD:BTC"])
    assert set(tickers) == {"BTC/USDT", "BTC/USD:BTC"}
    assert set(await call(ex, "fetch_tickers")) == set(markets)
    book = await call(ex, "fetch_order_book", "BTC/USDT:USDT", 10)
    assert len(book.bids) == len(book.asks) == 10 and book.bids[0][0] < book.asks[0][0]
    assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
    assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
    candles = await call(ex, "fetch_ohlcv", "BTC/USDT", "1h", None, 5)
    assert len(candles) == 5
    assert [c.timestamp for c in candles] == sorted(c.timestamp for c in candles)
    assert all(c.low <= c.open <= c.high and c.low <= c.close <= c.high for c in candles)
    since = await call(ex, "fetch_ohlcv", "BTC/USDT", "1h", candles[0].timestamp, 3)
    assert [c.timestamp for c in since] == [c.timestamp for c in candles[:3]]
    many = await call(ex, "fetch_ohlcv", "ETH/USDT:USDT", "1m", None, 450)
    assert len(many) == 450 and len({c.timestamp for c in many}) == 450
    for missing in ("DOGE/USDT", "BTC/USD:BTC-251226", "BTC/USD:BTC-251226-100000-C"):
        with pytest.raises(BadSymbol):
            await call(ex, "fetch_ticker", missing)


async def test_account_and_key(ex: Any) -> None:
    balances = await call(ex, "fetch_balance")
    assert balances["USDT"].total == Decimal(100000) and balances["USDT"].used == 0
    assert balances["BTC"].free == Decimal(2)
    fee = await call(ex, "fetch_trading_fee", "BTC/USDT:USDT")
    assert (fee.maker, fee.taker) == (Decimal("0.0002"), Decimal("0.00055"))
    spot_fee = await call(ex, "fetch_trading_fee", "BTC/USDT")
    assert spot_fee.maker == Decimal("0.001")
    info = await call(ex, "fetch_key_info")
    assert info.can_trade and not info.can_withdraw and not info.read_only
    audit = await call(ex, "audit_key")
    assert [f.code for f in audit.findings] == ["no_ip_whitelist"]


async def test_order_lifecycle(ex: Any, emu: Emulator) -> None:
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
        client_order_id="life1",
    )
    assert placed.client_order_id == "life1" and placed.id and placed.id.isdigit()
    assert (await call(ex, "fetch_balance"))["USDT"].used == far * Decimal("0.01")
    open_orders = await call(ex, "fetch_open_orders", "BTC/USDT")
    assert [(o.id, o.status, o.post_only) for o in open_orders] == [(placed.id, "open", True)]
    assert [o.id for o in await call(ex, "fetch_open_orders")] == [placed.id]
    await call(ex, "amend_order", placed.id, "BTC/USDT", price=far - 1, amount=Decimal("0.02"))
    amended = await call(ex, "fetch_order", placed.id, "BTC/USDT")
    assert (amended.price, amended.amount) == (far - 1, Decimal("0.02"))
    by_client = await call(ex, "fetch_order", None, "BTC/USDT", client_order_id="life1")
    assert by_client.id == placed.id
    cancelled = await call(ex, "cancel_order", placed.id, "BTC/USDT")
    assert cancelled.status == "canceled"
    fetched = await call(ex, "fetch_order", placed.id, "BTC/USDT")
    assert fetched.status == "canceled" and fetched.remaining == 0
    assert placed.id in [o.id for o in await call(ex, "fetch_closed_orders", "BTC/USDT")]
    with pytest.raises(DuplicateOrderId) as dup:
        await call(
            ex,
            "create_order",
            "BTC/USDT",
            "limit",
            "buy",
            Decimal("0.01"),
            far,
            client_order_id="life1",
        )
    assert dup.value.code == "51016"
    with pytest.raises(OrderNotFound) as missing:
        await call(ex, "fetch_order", "123456789012345678", "BTC/USDT")
    assert missing.value.code == "51603"
    with pytest.raises(OrderNotFound) as gone:
        await call(ex, "cancel_order", placed.id, "BTC/USDT")
    assert gone.value.code == "51400"
    assert [o["client_order_id"] for o in emu.ledger()] == ["life1"]


async def test_contracts_positions_and_fills(ex: Any, emu: Emulator) -> None:
    before = (await call(ex, "fetch_balance"))["USDT"].total
    await call(
        ex,
        "create_order",
        "BTC/USDT:USDT",
        "market",
        "buy",
        Decimal("0.02"),
        client_order_id="mkt1",
    )
    # 0.02 BTC is 2 contracts of 0.01 BTC on the wire; the engine saw 0.02 BTC.
    assert Decimal(emu.ledger()[-1]["qty"]) == Decimal("0.02")
    positions = await call(ex, "fetch_positions")
    assert [(p.symbol, p.side, p.size) for p in positions] == [
        ("BTC/USDT:USDT", "long", Decimal("0.02"))
    ]
    assert await call(ex, "fetch_positions", ["BTC/USDT:USDT"]) == positions
    fills = await call(ex, "fetch_my_trades", "BTC/USDT:USDT")
    assert fills and all(f.client_order_id == "mkt1" and f.is_maker is False for f in fills)
    assert sum(f.amount for f in fills) == Decimal("0.02")
    assert all(f.fee_currency == "USDT" and f.fee > 0 for f in fills)
    after = (await call(ex, "fetch_balance"))["USDT"].total
    assert after == before - sum(f.fee for f in fills)
    await call(
        ex, "create_order", "BTC/USDT:USDT", "market", "sell", Decimal("0.02"), reduce_only=True
    )
    assert await call(ex, "fetch_positions") == []
    # Inverse contracts count USD: 300 USD is 3 contracts of 100 USD.
    await call(ex, "create_order", "BTC/USD:BTC", "market", "buy", Decimal(300))
    assert Decimal(emu.ledger()[-1]["qty"]) == Decimal(300)
    inverse = await call(ex, "fetch_positions", ["BTC/USD:BTC"])
    assert [(p.side, p.size) for p in inverse] == [("long", 300)]
    spot = await call(ex, "create_order", "ETH/USDT", "market", "buy", Decimal("0.5"))
    eth = (await call(ex, "fetch_balance"))["ETH"]
    spot_fills = await call(ex, "fetch_my_trades", "ETH/USDT")
    assert {f.order_id for f in spot_fills} == {spot.id}
    # tgtCcy=base_ccy: 0.5 ETH bought, the fee paid in the coin received.
    assert eth.total == Decimal(20) + Decimal("0.5") - sum(f.fee for f in spot_fills)
    everything = await call(ex, "fetch_my_trades")
    assert {f.symbol for f in everything} == {"BTC/USDT:USDT", "BTC/USD:BTC", "ETH/USDT"}
    assert [f.timestamp for f in everything] == sorted(
        (f.timestamp for f in everything), reverse=True
    )
    assert len(await call(ex, "fetch_my_trades", None, None, 2)) == 2
    trades = await call(ex, "fetch_trades", "ETH/USDT", 10)
    assert trades and trades[-1].side == "buy"


async def test_cancel_all_and_insufficient_funds(ex: Any) -> None:
    ticker = await call(ex, "fetch_ticker", "ETH/USDT")
    low = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.01"))
    for _ in range(3):
        await call(ex, "create_order", "ETH/USDT", "limit", "buy", Decimal("0.1"), low)
    swap = await call(ex, "fetch_ticker", "ETH/USDT:USDT")
    swap_low = (swap.bid * Decimal("0.8")).quantize(Decimal("0.01"))
    await call(ex, "create_order", "ETH/USDT:USDT", "limit", "buy", Decimal("0.1"), swap_low)
    cancelled = await call(ex, "cancel_all_orders")
    assert len(cancelled) == 4 and {o.status for o in cancelled} == {"canceled"}
    assert {o.symbol for o in cancelled} == {"ETH/USDT", "ETH/USDT:USDT"}
    assert await call(ex, "fetch_open_orders") == []
    assert await call(ex, "cancel_all_orders", "ETH/USDT") == []
    with pytest.raises(InsufficientFunds) as info:
        await call(ex, "create_order", "BTC/USDT", "limit", "buy", Decimal(100), Decimal(60000))
    assert info.value.code == "51008" and "subCode 1000" in info.value.message
    with pytest.raises(InsufficientFunds) as info:
        await call(
            ex, "create_order", "BTC/USDT:USDT", "limit", "buy", Decimal(1000), Decimal(60000)
        )
    assert info.value.code == "51008" and "subCode 1001" in info.value.message


def connect(emu: Emulator, key: str, secret: str, passphrase: str | None, **kw: Any) -> Any:
    creds = exchanges.Credentials(key, secret, passphrase=passphrase)
    return exchanges.connect("okx", base_url=emu.base_url, credentials=creds, **kw)


def test_authentication_failures(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(AuthenticationError) as info:
        connect(emu, "test-key", "test-secret", "wrong-passphrase").fetch_balance()
    assert info.value.code == "50105" and "passphrase" in info.value.hint
    assert "wrong-passphrase" not in str(info.value) + repr(info.value)
    with pytest.raises(InvalidSignature) as info2:
        connect(emu, "test-key", "wrong-secret", "test-passphrase").fetch_balance()
    assert info2.value.code == "50113" and "wrong-secret" not in str(info2.value)
    with pytest.raises(InvalidApiKey) as info3:
        connect(emu, "nobody", "x", "y").fetch_balance()
    assert info3.value.code == "50111"
    before = emu.stats()["requests"]
    with pytest.raises(AuthenticationError, match="passphrase"):
        connect(emu, "test-key", "test-secret", None).fetch_balance()
    assert emu.stats()["requests"] - before <= 1  # at most the clock sync; nothing signed
    emu.add_key("ro-key", "ro-secret", passphrase="ro-pass", permissions=("read",))
    read_only = connect(emu, "ro-key", "ro-secret", "ro-pass")
    assert read_only.fetch_balance()["USDT"].total > 0
    assert read_only.fetch_key_info().read_only
    with pytest.raises(PermissionDenied) as info4:
        read_only.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert info4.value.code == "50120"
    emu.add_key("ip-key", "ip-secret", passphrase="ip-pass", ips=("10.0.0.1",))
    with pytest.raises(IpNotAllowed) as info5:
        connect(emu, "ip-key", "ip-secret", "ip-pass").fetch_balance()
    assert info5.value.code == "50110"
    # The library logs at DEBUG during every test: no secret, passphrase or signature leaks.
    for secret in (
        "test-secret",
        "wrong-secret",
        "test-passphrase",
        "wrong-passphrase",
        "ro-secret",
        "ro-pass",
        "ip-secret",
        "ip-pass",
        "OK-ACCESS-SIGN",
    ):
        assert secret not in caplog.text


def test_live_and_demo_keys_are_separate(emu: Emulator) -> None:
    emu.add_key("live-key", "live-secret", passphrase="live-pass", environment="live")
    emu.add_key("demo-key", "demo-secret", passphrase="demo-pass", environment="demo")
    live_in_demo = connect(emu, "live-key", "live-secret", "live-pass", env="demo")
    with pytest.raises(InvalidApiKey) as info:
        live_in_demo.fetch_balance()
    assert info.value.code == "50101"
    assert "demo trading" in info.value.hint and "separate" in info.value.hint
    demo = connect(emu, "demo-key", "demo-secret", "demo-pass", env="demo")
    assert demo.fetch_balance()["USDT"].total > 0
    order = demo.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert demo.fetch_order(order.id, "BTC/USDT").status == "closed"
    with pytest.raises(InvalidApiKey) as info2:
        connect(emu, "demo-key", "demo-secret", "demo-pass").fetch_balance()
    assert info2.value.code == "50101" and "live trading" in info2.value.hint
    assert connect(emu, "live-key", "live-secret", "live-pass").fetch_balance()["BTC"].total
    with pytest.raises(ValueError, match="demo"):
        connect(emu, "demo-key", "demo-secret", "demo-pass", env="testnet")


@pytest.mark.parametrize("offset_ms", [60_000, -60_000])
def test_stale_clock_resyncs_once(
    client: exchanges.Exchange, emu: Emulator, offset_ms: int
) -> None:
    client.fetch_balance()
    resyncs = client.session.clock.resyncs
    emu.set_clock_offset(offset_ms)
    assert client.fetch_balance()["USDT"].total > 0  # 50102, resync, retried
    assert client.session.clock.resyncs == resyncs + 1
    assert abs(client.session.clock.offset_ms - offset_ms) < 1000
    client.fetch_open_orders("BTC/USDT")
    assert client.session.clock.resyncs == resyncs + 1


@pytest.mark.parametrize(
    "fault", ["drop_after", "server_error_after", "http_5xx_after", "truncated"]
)
def test_lost_acknowledgement_is_reconciled_exactly_once(
    client: exchanges.Exchange, emu: Emulator, fault: str
) -> None:
    client.fetch_key_info()
    cid = f"once{fault.replace('_', '')}"
    emu.set_faults(f"{fault}:1.0@/api/v5/trade/order*1")
    order = client.create_order("BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id=cid)
    assert order.client_order_id == cid
    assert order.status == "closed"  # learnt from the lookup, not the lost acknowledgement
    assert [o["client_order_id"] for o in emu.ledger()] == [cid]


@pytest.mark.parametrize("fault", ["drop_before", "server_error", "http_5xx", "rate_limit"])
def test_request_refused_before_acting_is_sent_again_once(
    client: exchanges.Exchange, emu: Emulator, fault: str
) -> None:
    client.fetch_key_info()
    cid = f"again{fault.replace('_', '')}"
    emu.set_faults(f"{fault}:1.0@/api/v5/trade/order*1")
    order = client.create_order("BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id=cid)
    assert order.id is not None and order.client_order_id == cid
    assert [o["client_order_id"] for o in emu.ledger()] == [cid]
    assert emu.stats()["faults_injected"] == {fault: 1}


def test_lost_amend_and_cancel_acknowledgements_are_settled_by_reading_the_order(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    ticker = client.fetch_ticker("BTC/USDT")
    low = (ticker.bid * Decimal("0.9")).quantize(Decimal("0.01"))
    placed = client.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), low)
    emu.set_faults("drop_after:1.0@/api/v5/trade/amend-order*1")
    amended = client.amend_order(placed.id, "BTC/USDT", price=low - 1)
    assert (amended.price, amended.status) == (low - 1, "open")
    emu.set_faults("server_error_after:1.0@/api/v5/trade/cancel-order*1")
    cancelled = client.cancel_order(placed.id, "BTC/USDT")
    assert cancelled.status == "canceled" and cancelled.id == placed.id
    assert emu.stats()["faults_injected"] == {"drop_after": 1, "server_error_after": 1}


def test_outcome_unknown_when_nothing_can_be_confirmed(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    client.fetch_key_info()
    emu.set_faults("drop_after:1.0@/api/v5/trade/order*1,drop_before:1.0@/api/v5/trade/order")
    with pytest.raises(OutcomeUnknown) as info:
        client.create_order("BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="u1")
    assert info.value.client_order_id == "u1"
    emu.clear_faults()
    assert client.fetch_order(None, "BTC/USDT", client_order_id="u1").status == "closed"
    assert len(emu.ledger()) == 1


async def test_burst_is_paced_to_the_documented_limit(emu: Emulator) -> None:
    # The client's own schedule is checked (not arrival times at the emulator, which a loaded
    # machine can bunch): at most 10 balance requests in any 2 s, OKX's limit for
    # /api/v5/account/balance.
    booked: list[float] = []
    async with exchanges.connect_async("okx", base_url=emu.base_url, credentials=CREDS) as ex:
        reserve = ex.session.limiter.reserve

        def recording(keys: Any, weight: int = 1) -> float:
            wait = reserve(keys, weight)
            if "okx:GET /api/v5/account/balance" in keys:
                booked.append(time.monotonic() + wait)
            return wait

        ex.session.limiter.reserve = recording  # type: ignore[method-assign]
        balances = await asyncio.gather(*[ex.fetch_balance() for _ in range(14)])
    assert all(b["USDT"].total == 100000 for b in balances)
    booked.sort()
    assert len(booked) >= 14
    assert all(booked[i + 10] - booked[i] >= 2.0 for i in range(len(booked) - 10))
    assert emu.stats()["max_in_window"]["1001:okx:GET /api/v5/account/balance"] <= 10


def test_emulator_answers_50011_beyond_the_limit() -> None:
    # A frozen emulator clock keeps every request in one 2 s window, however slow the machine.
    frozen = time.time_ns() // 1_000_000
    with (
        Emulator("okx", seed=7, wall_ms=lambda: frozen) as emu,
        exchanges.connect(
            "okx",
            base_url=emu.base_url,
            credentials=CREDS,
            retry=RetryPolicy(rate_limit_retries=0),
        ) as ex,
    ):
        ex.session.limiter.enabled = False
        for _ in range(5):
            ex.fetch_key_info()  # 5 per 2 s, OKX's limit for /api/v5/account/config
        with pytest.raises(exchanges.RateLimitExceeded) as info:
            ex.fetch_key_info()
        assert info.value.code == "50011" and info.value.http_status == 429
        assert emu.stats()["rate_limited"] == {"1001:okx:GET /api/v5/account/config": 1}


def test_withdrawal_key_cannot_trade_unless_allowed(emu: Emulator) -> None:
    emu.add_key(
        "w-key", "w-secret", passphrase="w-pass", permissions=("read", "spot_trade", "withdraw")
    )
    ex = connect(emu, "w-key", "w-secret", "w-pass")
    audit = ex.audit_key()
    assert audit.critical and audit.findings[0].code == "withdraw_enabled"
    with pytest.raises(UnsafeApiKey):
        ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert emu.ledger() == []
    allowed = connect(emu, "w-key", "w-secret", "w-pass", allow_withdrawal_keys=True)
    allowed.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert len(emu.ledger()) == 1


# -- expTime (https://www.okx.com/docs-v5/en/#overview-general-info-transaction-timeouts) ------


def signed(
    emu: Emulator, method: str, target: str, body: Any = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    """One request signed by hand over real HTTP, so the test chooses ``expTime`` itself."""
    raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    stamp = iso_timestamp(emu.state.now_ms())
    digest = hmac.new(b"test-secret", prehash(stamp, method, target, raw), hashlib.sha256)
    request = urllib.request.Request(
        emu.base_url + target,
        data=raw or None,
        method=method,
        headers={
            "OK-ACCESS-KEY": "test-key",
            "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
            "OK-ACCESS-TIMESTAMP": stamp,
            "OK-ACCESS-PASSPHRASE": "test-passphrase",
            "Content-Type": "application/json",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def limit_buy(cid: str, px: str = "20000") -> dict[str, str]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": px,
        "sz": "0.001",
        "clOrdId": cid,
    }


def test_an_order_past_its_exptime_is_not_placed(emu: Emulator) -> None:
    expired = str(emu.state.now_ms() - 1)
    status, body = signed(emu, "POST", "/api/v5/trade/order", limit_buy("late1"), expTime=expired)
    assert (status, body["code"], body["data"]) == (200, "51149", [])
    assert emu.ledger() == []


def test_an_order_delayed_inside_the_exchange_past_its_exptime_is_not_placed(
    emu: Emulator,
) -> None:
    # The latency fault holds the request for 1.5 s before the front-end sees it; it had 0.3 s.
    emu.set_faults("latency:1.0@/api/v5/trade/order*1=1500")
    deadline = str(emu.state.now_ms() + 300)
    status, body = signed(emu, "POST", "/api/v5/trade/order", limit_buy("slow1"), expTime=deadline)
    assert emu.stats()["faults_injected"] == {"latency": 1}
    assert (status, body["code"]) == (200, "51149")
    assert emu.ledger() == []


def test_an_order_within_its_exptime_is_placed_even_when_delayed(emu: Emulator) -> None:
    emu.set_faults("latency:1.0@/api/v5/trade/order*1=200")
    deadline = str(emu.state.now_ms() + 15_000)
    status, body = signed(
        emu, "POST", "/api/v5/trade/order", limit_buy("ontime1"), expTime=deadline
    )
    assert (status, body["code"], body["data"][0]["sCode"]) == (200, "0", "0")
    assert [o["client_order_id"] for o in emu.ledger()] == ["ontime1"]


def test_an_amend_past_its_exptime_changes_nothing(emu: Emulator) -> None:
    assert signed(emu, "POST", "/api/v5/trade/order", limit_buy("amend1"))[1]["code"] == "0"
    expired = str(emu.state.now_ms() - 1)
    change = {"instId": "BTC-USDT", "clOrdId": "amend1", "newPx": "21000"}
    status, body = signed(emu, "POST", "/api/v5/trade/amend-order", change, expTime=expired)
    assert (status, body["code"]) == (200, "51149")
    assert [Decimal(o["price"]) for o in emu.ledger()] == [Decimal(20000)]
    # A read of the same path is no order write: OKX applies expTime to place and amend only.
    query = "/api/v5/trade/order?instId=BTC-USDT&clOrdId=amend1"
    status, body = signed(emu, "GET", query, expTime=expired)
    assert (status, body["code"], Decimal(body["data"][0]["px"])) == (200, "0", Decimal(20000))


@pytest.mark.parametrize("value", ["soon", "-1", "1.7e12", "", "0x10"])
def test_a_malformed_exptime_is_a_parameter_error(emu: Emulator, value: str) -> None:
    status, body = signed(emu, "POST", "/api/v5/trade/order", limit_buy("bad1"), expTime=value)
    assert (status, body["code"], body["msg"]) == (400, "51000", "Parameter expTime error")
    assert emu.ledger() == []
