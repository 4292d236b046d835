"""A member killed mid-order: the order was written ahead, so another member settles it."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis

import exchanges
from exchanges.emulator import Emulator
from exchanges.fleet.keys import Keys, account_id
from tests.fleet import workers

SYMBOL = workers.SYMBOL
DOUBT = Keys(account_id("bybit", "mainnet", workers.KEY)).doubt


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


def _connect(emu: Emulator, fleet: str) -> exchanges.Exchange:
    return exchanges.connect(
        "bybit",
        base_url=emu.base_url,
        credentials=exchanges.Credentials(workers.KEY, workers.SECRET),
        fleet=fleet,
    )


def _wait_for(predicate: object, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        # The exchange places the order and answers 3 s later: the sender dies in between,
        # leaving an order on the book that nobody in the fleet was told of.
        ("latency_after", "placed"),
        # The exchange waits 3 s before acting and drops the request when its sender hangs up:
        # never placed, which a lookup proves once the sender's lease is over.
        ("latency", "absent"),
    ],
)
def test_a_member_killed_mid_order_leaves_an_entry_another_member_settles(
    redis_url: str, store: redis.Redis, fault: str, outcome: str
) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, go = ctx.Queue(), ctx.Event()
    with Emulator("bybit", seed=7) as emu:
        proc = ctx.Process(
            target=workers.place_slowly,
            args=(emu.base_url, redis_url, "crash-1", ready, go),
            daemon=True,
        )
        proc.start()
        try:
            ready.get(timeout=60)
            # 3 s: the kill below must land inside that window even on a loaded machine.
            emu.set_faults(f"{fault}@/v5/order/create*1=3000")
            go.set()
            written = _wait_for(lambda: store.hexists(DOUBT, "crash-1"), 10)
            assert written, f"no write-ahead entry (worker exit code {proc.exitcode})"
            assert proc.pid is not None
            os.kill(proc.pid, signal.SIGKILL)
            proc.join(10)
        finally:
            if proc.is_alive():
                proc.kill()
        assert proc.exitcode == -signal.SIGKILL
        entry = json.loads(store.hget(DOUBT, "crash-1") or b"{}")
        assert entry["state"] == "sending" and entry["symbol"] == SYMBOL
        time.sleep(3.5)  # the exchange has acted (or not) on the dead sender's request
        placed = [o["client_order_id"] for o in emu.ledger()]
        assert placed == (["crash-1"] if outcome == "placed" else [])
        emu.clear_faults()
        with _connect(emu, redis_url) as other:
            other.session.fleet.started = True  # type: ignore[union-attr]  # explicit call below
            resolved = other.reconcile_in_doubt()
    assert [(r.client_order_id, r.status) for r in resolved] == [("crash-1", outcome)]
    if outcome == "placed":
        assert resolved[0].order is not None and resolved[0].order.client_order_id == "crash-1"
    assert store.hlen(DOUBT) == 0


def test_an_answered_order_leaves_no_entry(redis_url: str, store: redis.Redis) -> None:
    with Emulator("bybit", seed=7) as emu:
        with _connect(emu, redis_url) as ex:
            bid = ex.fetch_ticker(SYMBOL).bid
            assert bid is not None
            price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
            ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="ok-1")
            # The answered order's entry leaves with the client's next booking, no extra trip.
            ex.fetch_time()
            assert store.hlen(DOUBT) == 0
            # Refused by the exchange (more than the wallet holds): no order, no entry either.
            with pytest.raises(exchanges.InsufficientFunds):
                ex.create_order(
                    SYMBOL, "limit", "buy", Decimal("50"), price, client_order_id="no-1"
                )
            ex.fetch_time()
            assert store.hlen(DOUBT) == 0
            assert store.exists(Keys(account_id("bybit", "mainnet", workers.KEY)).client_id("no-1"))
            ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="ok-2")
            assert store.hkeys(DOUBT) == [b"ok-2"]
        # Closing the client removes what was still waiting for a booking.
        assert store.hlen(DOUBT) == 0


async def test_the_async_client_flushes_answered_orders_on_close(
    redis_url: str, store: redis.Redis
) -> None:
    with Emulator("bybit", seed=7) as emu:
        async with exchanges.connect_async(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials(workers.KEY, workers.SECRET),
            fleet=redis_url,
        ) as ex:
            bid = (await ex.fetch_ticker(SYMBOL)).bid
            assert bid is not None
            price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
            await ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
            assert store.hlen(DOUBT) == 1
        assert store.hlen(DOUBT) == 0


def test_an_entry_being_sent_is_left_to_its_sender_until_its_lease_ends(
    redis_url: str, store: redis.Redis
) -> None:
    now = int(time.time() * 1000)
    sending = {"symbol": SYMBOL, "recorded_ms": now, "owner": "host:42", "state": "sending"}
    store.hset(
        DOUBT,
        mapping={
            "live-1": json.dumps({**sending, "conclusive_after_ms": now + 3_600_000}),
            "dead-1": json.dumps({**sending, "conclusive_after_ms": now - 10_000}),
        },
    )
    with Emulator("bybit", seed=7) as emu, _connect(emu, redis_url) as ex:
        ex.session.fleet.started = True  # type: ignore[union-attr]
        resolved = {r.client_order_id: r for r in ex.reconcile_in_doubt(wait=False)}
    assert resolved["live-1"].status == "pending"
    assert resolved["live-1"].reason == "being placed by host:42"
    # Its lease is over and the exchange has no such order: it was never placed.
    assert resolved["dead-1"].status == "absent"
    assert store.hkeys(DOUBT) == [b"live-1"]


def test_without_a_shared_budget_an_answered_entry_leaves_at_once(
    redis_url: str, store: redis.Redis
) -> None:
    with (
        Emulator("bybit", seed=7) as emu,
        exchanges.connect(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials(workers.KEY, workers.SECRET),
            fleet=redis_url,
            rate_limits="off",  # no bookings for the removal to ride on
        ) as ex,
    ):
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
        assert store.hlen(DOUBT) == 0
