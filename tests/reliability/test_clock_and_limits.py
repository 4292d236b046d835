"""Clock skew and rate-limit bursts against the emulator (issue 11, items 2, 3 and 7)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

import exchanges
from exchanges.clock import ServerClock, wall_ms
from exchanges.emulator import Emulator

pytestmark = pytest.mark.timeout(120)


def session_of_calls(ex: exchanges.Exchange) -> None:
    ex.fetch_balance()
    ex.fetch_open_orders("BTC/USDT")
    order = ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.001"), Decimal("30000"))
    ex.cancel_order(order.id, "BTC/USDT")
    ex.fetch_my_trades("BTC/USDT")


@pytest.mark.parametrize("offset_ms", [3_000, -3_000, 30_000, -30_000])
def test_exchange_clock_offsets_need_at_most_one_resync(
    emulator: Emulator, credentials: exchanges.Credentials, offset_ms: int
) -> None:
    with exchanges.connect("bybit", base_url=emulator.base_url, credentials=credentials) as ex:
        ex.fetch_balance()
        before = ex.session.clock.resyncs
        emulator.set_clock_offset(offset_ms)
        session_of_calls(ex)
        resyncs = ex.session.clock.resyncs - before
        print(f"\nexchange clock {offset_ms:+} ms: {resyncs} resync(s)")
        assert resyncs <= 1
        # Inside Bybit's window behind (-5 s .. +1 s) nothing needs fixing; anything else does.
        assert resyncs == (0 if 0 <= offset_ms < 5000 else 1)


def test_fast_client_clock(emulator: Emulator, credentials: exchanges.Credentials) -> None:
    fast = ServerClock(now_ms=lambda: wall_ms() + 1500)
    with exchanges.connect(
        "bybit", base_url=emulator.base_url, credentials=credentials, clock=fast
    ) as ex:
        session_of_calls(ex)
        assert fast.resyncs == 1  # the first signed call measures the offset: no error at all
        assert -1700 < fast.offset_ms < -1300
    # Without the initial sync the first call is refused once, then resynced.
    fast = ServerClock(now_ms=lambda: wall_ms() + 1500)
    with exchanges.connect(
        "bybit", base_url=emulator.base_url, credentials=credentials, clock=fast, sync_clock=False
    ) as ex:
        session_of_calls(ex)
        assert fast.resyncs == 1


async def test_burst_of_ten_times_the_limit(
    emulator: Emulator, credentials: exchanges.Credentials
) -> None:
    limit = 10  # POST /v5/order/create, linear, per UID per second (Bybit's "Rate Limit Rules")
    n = 10 * limit
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=credentials
    ) as ex:
        ticker = await ex.fetch_ticker("BTC/USDT:USDT")
        price = (ticker.bid * Decimal("0.8")).quantize(Decimal("0.1"))
        await ex.load_markets()
        started = time.monotonic()
        results = await asyncio.gather(
            *(
                ex.create_order("BTC/USDT:USDT", "limit", "buy", Decimal("0.001"), price)
                for _ in range(n)
            ),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    stats = emulator.stats()
    key = "1001:bybit:/v5/order/create:deriv"
    seen = stats["max_arrivals_in_window"][key]
    ideal = n / limit
    print(
        f"\nburst: {n} orders, max {seen} arrivals in one 1 s window (limit {limit}), "
        f"{elapsed:.2f} s (ideal {ideal:.1f} s, {elapsed / ideal - 1:+.0%})"
    )
    assert stats["rate_limited"] == {}
    assert seen <= limit
    # The trading key was checked once, not once per concurrent first order.
    assert stats["max_arrivals_in_window"]["1001:bybit:/v5/user/query-api"] == 1
    # At most `limit` per rolling second means at least (n - limit) / limit seconds; paced, the
    # ideal is n / limit; we may not be more than 20 % slower than that (the timing includes the
    # one check of the trading key before the first order).
    assert (n - limit) / limit <= elapsed <= 1.2 * ideal


async def test_withdrawal_key_cannot_place_orders_async(emulator: Emulator) -> None:
    emulator.add_key("wd-key", "wd-secret", permissions=("read", "spot_trade", "withdraw"))
    creds = exchanges.Credentials("wd-key", "wd-secret")
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=creds
    ) as ex:
        for _ in range(2):  # checked once, refused every time
            with pytest.raises(exchanges.UnsafeApiKey):
                await ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
        with pytest.raises(exchanges.UnsafeApiKey):
            await ex.amend_order("x", "BTC/USDT", price=Decimal(1))
    assert emulator.ledger() == []
    # A read-only key for reads plus the dangerous key for trades is refused too.
    emulator.add_key("ro-key", "ro-secret", permissions=("read",))
    async with exchanges.connect_async(
        "bybit",
        base_url=emulator.base_url,
        credentials=exchanges.Credentials("ro-key", "ro-secret"),
        trade_credentials=creds,
    ) as ex:
        assert (await ex.fetch_balance())["USDT"].total > 0
        with pytest.raises(exchanges.UnsafeApiKey):
            await ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
