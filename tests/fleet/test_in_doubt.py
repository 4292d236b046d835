"""The fleet's ledger of orders in doubt: written before OutcomeUnknown, settled by any member."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis

import exchanges
from exchanges.emulator import Emulator
from exchanges.fleet.keys import Keys, account_id
from exchanges.retry import RetryPolicy

SYMBOL = "BTC/USDT:USDT"
DOUBT = Keys(account_id("bybit", "mainnet", "test-key")).doubt
# The create is processed and its answer lost; every lookup fails too, so the order stays in
# doubt when the call returns.
FAULTS = (
    "drop_after@/v5/order/create*1,"
    "drop_before@/v5/order/realtime*30,"
    "drop_before@/v5/order/history*30"
)
QUICK = RetryPolicy(initial_wait=0.01, max_wait=0.02, max_delay=1.0)


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


def _connect(emu: Emulator, fleet: str, **kw: object) -> exchanges.Exchange:
    return exchanges.connect(
        "bybit",
        base_url=emu.base_url,
        credentials=exchanges.Credentials("test-key", "test-secret"),
        fleet=fleet,
        **kw,  # type: ignore[arg-type]
    )


def _price(ex: exchanges.Exchange) -> Decimal:
    bid = ex.fetch_ticker(SYMBOL).bid
    assert bid is not None
    return (bid * Decimal("0.8")).quantize(Decimal("0.1"))


def _lose_one_order(emu: Emulator, redis_url: str, client_order_id: str) -> None:
    with _connect(emu, redis_url, retry=QUICK, recv_window_ms=1000) as ex:
        price = _price(ex)
        ex.load_markets()
        emu.set_faults(FAULTS)
        with pytest.raises(exchanges.OutcomeUnknown) as lost:
            ex.create_order(
                SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id=client_order_id
            )
        emu.clear_faults()
    assert lost.value.client_order_id == client_order_id


def test_an_order_in_doubt_is_recorded_and_another_client_settles_it(
    redis_url: str, store: redis.Redis
) -> None:
    with Emulator("bybit", seed=7) as emu:
        _lose_one_order(emu, redis_url, "doubt-1")
        entry = json.loads(store.hget(DOUBT, "doubt-1") or b"{}")
        assert entry["symbol"] == SYMBOL
        assert entry["conclusive_after_ms"] > 0
        assert store.ttl(DOUBT) > 0
        # The order is in the exchange's ledger: the lost answer was the only failure.
        assert [o["client_order_id"] for o in emu.ledger()] == ["doubt-1"]
        with _connect(emu, redis_url) as other:
            other.session.fleet.started = True  # type: ignore[union-attr]  # explicit call below
            resolved = other.reconcile_in_doubt()
    assert [(r.client_order_id, r.status) for r in resolved] == [("doubt-1", "placed")]
    order = resolved[0].order
    assert order is not None and order.client_order_id == "doubt-1"
    assert store.hlen(DOUBT) == 0


def test_a_new_client_settles_the_ledger_before_its_first_request(
    redis_url: str, store: redis.Redis
) -> None:
    with Emulator("bybit", seed=7) as emu:
        _lose_one_order(emu, redis_url, "doubt-2")
        assert store.hexists(DOUBT, "doubt-2")
        with _connect(emu, redis_url) as fresh:
            fresh.fetch_time()
        assert not store.hexists(DOUBT, "doubt-2")


def test_an_order_never_placed_is_settled_absent_once_its_window_closed(
    redis_url: str, store: redis.Redis
) -> None:
    past = int(time.time() * 1000) - 10_000
    entry = {"symbol": SYMBOL, "conclusive_after_ms": past, "recorded_ms": past, "owner": "x"}
    open_window = {**entry, "conclusive_after_ms": past + 3_600_000}
    store.hset(DOUBT, mapping={"never-1": json.dumps(entry), "later-1": json.dumps(open_window)})
    with Emulator("bybit", seed=7) as emu, _connect(emu, redis_url) as ex:
        ex.session.fleet.started = True  # type: ignore[union-attr]
        resolved = {r.client_order_id: r for r in ex.reconcile_in_doubt(wait=False)}
    assert resolved["never-1"].status == "absent"
    assert resolved["later-1"].status == "pending"
    assert store.hkeys(DOUBT) == [b"later-1"]


async def test_the_async_client_records_and_settles_too(redis_url: str, store: redis.Redis) -> None:
    with Emulator("bybit", seed=7) as emu:
        async with exchanges.connect_async(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials("test-key", "test-secret"),
            fleet=redis_url,
            retry=QUICK,
            recv_window_ms=1000,
        ) as ex:
            bid = (await ex.fetch_ticker(SYMBOL)).bid
            assert bid is not None
            price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
            await ex.load_markets()
            emu.set_faults(FAULTS)
            with pytest.raises(exchanges.OutcomeUnknown):
                await ex.create_order(
                    SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="doubt-a"
                )
            emu.clear_faults()
            assert store.hexists(DOUBT, "doubt-a")
            with pytest.raises(exchanges.DuplicateOrderId):
                await ex.create_order(
                    SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="doubt-a"
                )
            resolved = await ex.reconcile_in_doubt()
    assert [(r.client_order_id, r.status) for r in resolved] == [("doubt-a", "placed")]
    assert store.hlen(DOUBT) == 0


def test_a_ledger_entry_reads_back_as_written_with_every_field() -> None:
    import attrs

    from exchanges.fleet.ledger import InDoubt

    entry = InDoubt("cid-1", "BTC/USDT:USDT", 1_796_522_863_937, 1_796_522_833_917, "h", "sending")
    text = entry.to_json()
    assert set(json.loads(text)) == {f.name for f in attrs.fields(InDoubt)}
    assert InDoubt.from_json("cid-1", text) == entry
    assert InDoubt.from_json("cid-2", InDoubt("cid-2", "X", None, 5).to_json()).state == "unknown"
