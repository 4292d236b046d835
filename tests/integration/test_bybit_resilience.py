"""Clock skew, rate-limit bursts, lost responses and unsafe keys, against the emulator."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.errors import InvalidSignature, OutcomeUnknown, UnsafeApiKey

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize("offset_ms", [3000, -3000])
def test_clock_skew_one_resync_then_success(
    client: exchanges.Exchange, emulator: Emulator, offset_ms: int
) -> None:
    client.fetch_balance()
    resyncs = client.session.clock.resyncs
    emulator.set_clock_offset(offset_ms)
    client.fetch_balance()
    # 3 s behind the exchange is inside Bybit's 5 s window: accepted as is. 3 s ahead is
    # refused (10002): the client resyncs once and the call succeeds.
    expected = resyncs + (1 if offset_ms < 0 else 0)
    assert client.session.clock.resyncs == expected
    if offset_ms < 0:
        assert abs(client.session.clock.offset_ms - offset_ms) < 200
    client.fetch_open_orders("BTC/USDT")
    assert client.session.clock.resyncs == expected


async def test_burst_never_sees_10006_and_stays_within_the_limit(
    aclient: exchanges.AsyncExchange, emulator: Emulator
) -> None:
    ticker = await aclient.fetch_ticker("ETH/USDT:USDT")
    price = (ticker.bid * Decimal("0.7")).quantize(Decimal("0.01"))
    await aclient.fetch_key_info()  # warm up: markets and the trade-key check are cached
    await aclient.create_order("ETH/USDT:USDT", "limit", "buy", Decimal("0.01"), price)
    started = time.monotonic()
    n = 40  # 4x the 10/s per-UID create limit for linear
    orders = await asyncio.gather(
        *[
            aclient.create_order("ETH/USDT:USDT", "limit", "buy", Decimal("0.01"), price)
            for _ in range(n)
        ]
    )
    elapsed = time.monotonic() - started
    assert len({o.id for o in orders}) == n
    stats = emulator.stats()
    assert stats["rate_limited"] == {}
    assert stats["max_in_window"]["1001:bybit:/v5/order/create:deriv"] <= 10
    # Ideal: the first 10 at once (minus the warm-up one), then 10 per second.
    assert 2.5 < elapsed < 4.0 * 1.2


@pytest.mark.parametrize("fault", ["drop_after", "http_5xx_after", "server_error_after"])
def test_response_lost_after_the_order_was_accepted(
    client: exchanges.Exchange, emulator: Emulator, fault: str
) -> None:
    client.fetch_key_info()
    emulator.set_faults(f"{fault}:1.0@/v5/order/create*1")
    order = client.create_order(
        "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id=f"once-{fault}"
    )
    assert order.client_order_id == f"once-{fault}"
    assert order.status == "closed"  # learnt from the lookup, not the lost acknowledgement
    ledger = emulator.ledger()
    assert [o["client_order_id"] for o in ledger] == [f"once-{fault}"]


@pytest.mark.parametrize("fault", ["drop_before", "http_5xx", "server_error"])
def test_request_lost_before_the_exchange_acted_is_resent_once(
    client: exchanges.Exchange, emulator: Emulator, fault: str
) -> None:
    client.fetch_key_info()
    emulator.set_faults(f"{fault}:1.0@/v5/order/create*1")
    order = client.create_order(
        "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id=f"resent-{fault}"
    )
    assert order.id is not None
    assert [o["client_order_id"] for o in emulator.ledger()] == [f"resent-{fault}"]


def test_outcome_unknown_when_nothing_can_be_confirmed(
    client: exchanges.Exchange, emulator: Emulator
) -> None:
    client.fetch_key_info()
    emulator.set_faults("drop_after:1.0@/v5/order/create*1,drop_before:1.0@/v5/order")
    with pytest.raises(OutcomeUnknown) as info:
        client.create_order(
            "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="unknown-1"
        )
    assert info.value.client_order_id == "unknown-1"
    emulator.clear_faults()
    # The exception names an id that settles the question.
    found = client.fetch_order(None, "BTC/USDT", client_order_id="unknown-1")
    assert found.status == "closed"
    assert len(emulator.ledger()) == 1


def test_withdrawal_key_cannot_trade_unless_allowed(emulator: Emulator) -> None:
    emulator.add_key("danger-key", "danger-secret", permissions=("read", "spot_trade", "withdraw"))
    creds = exchanges.Credentials("danger-key", "danger-secret")
    ex = exchanges.connect("bybit", base_url=emulator.base_url, credentials=creds)
    audit = ex.audit_key()
    assert audit.critical and audit.findings[0].code == "withdraw_enabled"
    with pytest.raises(UnsafeApiKey):
        ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert emulator.ledger() == []
    allowed = exchanges.connect(
        "bybit", base_url=emulator.base_url, credentials=creds, allow_withdrawal_keys=True
    )
    allowed.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert len(emulator.ledger()) == 1


def test_rsa_key_trades(emulator: Emulator) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    emulator.add_key("rsa-key", public_key=public, permissions=("read", "spot_trade"))
    ex = exchanges.connect(
        "bybit",
        base_url=emulator.base_url,
        credentials=exchanges.Credentials("rsa-key", private_key=private),
    )
    assert ex.fetch_balance()["USDT"].total > 0
    ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    bad = exchanges.connect(
        "bybit",
        base_url=emulator.base_url,
        credentials=exchanges.Credentials("rsa-key", private_key=wrong),
    )
    with pytest.raises(InvalidSignature):
        bad.fetch_balance()
