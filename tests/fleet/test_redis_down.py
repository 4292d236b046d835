"""Redis stopped mid-run: reads go on with a warning, new orders refuse, recovery on restart."""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.fleet import FleetUnavailable
from exchanges.fleet.link import REST
from tests.fleet.conftest import RedisServer

SYMBOL = "BTC/USDT:USDT"


def _connect(emu: Emulator, fleet: str, **kw: object) -> exchanges.Exchange:
    return exchanges.connect(
        "bybit",
        base_url=emu.base_url,
        credentials=exchanges.Credentials("test-key", "test-secret"),
        fleet=fleet,
        **kw,  # type: ignore[arg-type]
    )


def _fleet_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "exchanges.fleet" and r.levelno >= logging.WARNING
    ]


def test_redis_stopped_mid_run_then_restarted(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with Emulator("bybit", seed=7) as emu, _connect(emu, private_redis.url) as ex:
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
        assert _fleet_warnings(caplog) == []

        private_redis.stop()
        started = time.monotonic()
        for _ in range(5):  # reads go on, on the local share of the budget
            ex.fetch_ticker(SYMBOL)
            ex.fetch_open_orders(SYMBOL)
        with pytest.raises(FleetUnavailable) as refused:
            ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
        assert time.monotonic() - started < 3  # nothing hangs
        assert "unreachable" in refused.value.message
        assert isinstance(refused.value, exchanges.ExchangeNotAvailable)
        assert len(emu.ledger()) == 1  # the refused order was not sent
        warned = _fleet_warnings(caplog)
        assert len(warned) == 1, warned
        assert "local share" in warned[0]

        private_redis.start()
        time.sleep(REST + 0.1)
        ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
        assert len(emu.ledger()) == 2
        assert any("answers again" in m for m in _fleet_warnings(caplog))


def test_local_fallback_places_orders_with_a_loud_warning(
    private_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        Emulator("bybit", seed=7) as emu,
        _connect(emu, private_redis.url, fleet_fallback="local") as ex,
    ):
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        private_redis.stop()
        ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="loc-1")
        with pytest.raises(exchanges.DuplicateOrderId):
            ex.create_order(
                SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="loc-1"
            )
        assert [o["client_order_id"] for o in emu.ledger()] == ["loc-1"]
    assert any("in this process only" in m for m in _fleet_warnings(caplog))


async def test_the_async_client_reads_on_while_redis_is_away(private_redis: RedisServer) -> None:
    with Emulator("bybit", seed=7) as emu:
        async with exchanges.connect_async(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials("test-key", "test-secret"),
            fleet=private_redis.url,
        ) as ex:
            await ex.fetch_ticker(SYMBOL)
            private_redis.stop()
            started = time.monotonic()
            await ex.fetch_ticker(SYMBOL)
            with pytest.raises(FleetUnavailable):
                await ex.create_order(SYMBOL, "market", "buy", Decimal("0.001"))
            assert time.monotonic() - started < 3
            private_redis.start()
            await asyncio.sleep(REST + 0.1)
            await ex.create_order(SYMBOL, "market", "buy", Decimal("0.001"))
        assert len(emu.ledger()) == 1
