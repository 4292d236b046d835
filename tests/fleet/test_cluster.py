"""Fleets on a real Redis Cluster: three ``redis-server`` masters on loopback, formed by the test.

Every key of an account carries one hash tag, so the account's scripts (budget, claim,
write-ahead) and transactions run on the one node owning its slot; a cluster client
(``redis.RedisCluster``, ``redis.asyncio.RedisCluster``) routes them there.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import redis
import redis.asyncio

import exchanges
from exchanges.cli import main
from exchanges.emulator import Emulator
from exchanges.fleet import FleetUnavailable
from exchanges.fleet.keys import Keys, account_id
from exchanges.fleet.local_redis import LocalCluster, command, find_binary, free_port
from tests.fleet.test_budget import hammer
from tests.fleet.test_in_doubt import FAULTS, QUICK

SYMBOL = "BTC/USDT:USDT"
KEYS = Keys(account_id("bybit", "mainnet", "test-key"))
OTHER = Keys(account_id("bybit", "mainnet", "other-key"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    binary = find_binary()
    if binary is None:
        pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
    with LocalCluster(binary) as formed:
        yield formed


@pytest.fixture
def client(cluster: LocalCluster) -> Iterator[redis.RedisCluster]:
    cluster.flush()
    client = redis.RedisCluster(host="127.0.0.1", port=cluster.ports[0], socket_timeout=2)
    yield client
    client.close()


def _connect(
    emu: Emulator, fleet: object, key: str = "test-key", **kw: object
) -> exchanges.Exchange:
    return exchanges.connect(
        "bybit",
        base_url=emu.base_url,
        credentials=exchanges.Credentials(key, "test-secret"),
        fleet=fleet,
        **kw,  # type: ignore[arg-type]
    )


def _price(ex: exchanges.Exchange) -> Decimal:
    bid = ex.fetch_ticker(SYMBOL).bid
    assert bid is not None
    return (bid * Decimal("0.8")).quantize(Decimal("0.1"))


def _nodes_holding_keys(cluster: LocalCluster) -> list[int]:
    return [port for port in cluster.ports if int(command(port, "DBSIZE")) > 0]


def test_an_accounts_keys_live_in_one_slot_on_one_node(
    cluster: LocalCluster, client: redis.RedisCluster
) -> None:
    with Emulator("bybit", seed=7) as emu:
        emu.add_key("other-key", "test-secret")  # the same account, its own key and hash
        for key in ("test-key", "other-key"):
            with _connect(emu, client, key) as ex:
                ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), _price(ex))
    for keys in (KEYS, OTHER):
        stored = [k.decode() for k in client.scan_iter(match=f"{keys.root}:*")]
        assert len(stored) >= 3, stored  # limits, ledger, a reserved client order id
        assert len({client.keyslot(k) for k in stored}) == 1
    # Two accounts, two hash tags: the cluster may place them on different nodes.
    assert 1 <= len(_nodes_holding_keys(cluster)) <= 2


def test_a_client_order_id_is_claimed_once_across_the_cluster(client: redis.RedisCluster) -> None:
    with Emulator("bybit", seed=7) as emu:
        with _connect(emu, client) as first, _connect(emu, client) as second:
            price = _price(first)
            first.create_order(
                SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="cluster-1"
            )
            with pytest.raises(exchanges.DuplicateOrderId):
                second.create_order(
                    SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="cluster-1"
                )
        assert [o["client_order_id"] for o in emu.ledger()] == ["cluster-1"]


def test_an_order_in_doubt_is_settled_by_another_member(client: redis.RedisCluster) -> None:
    with Emulator("bybit", seed=7) as emu:
        with _connect(emu, client, retry=QUICK, recv_window_ms=1000) as ex:
            price = _price(ex)
            emu.set_faults(FAULTS)
            with pytest.raises(exchanges.OutcomeUnknown):
                ex.create_order(
                    SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id="doubt-c"
                )
            emu.clear_faults()
        assert client.hexists(KEYS.doubt, "doubt-c")
        with _connect(emu, client) as other:
            other.session.fleet.started = True  # type: ignore[union-attr]  # explicit call below
            resolved = other.reconcile_in_doubt()
    assert [(r.client_order_id, r.status) for r in resolved] == [("doubt-c", "placed")]
    assert client.hlen(KEYS.doubt) == 0


def test_the_async_client_books_and_settles_on_a_cluster(
    cluster: LocalCluster, client: redis.RedisCluster
) -> None:
    async def main(base_url: str) -> None:
        shared = redis.asyncio.RedisCluster(
            host="127.0.0.1", port=cluster.ports[1], socket_timeout=2
        )
        try:
            async with exchanges.connect_async(
                "bybit",
                base_url=base_url,
                credentials=exchanges.Credentials("test-key", "test-secret"),
                fleet=shared,
            ) as ex:
                bid = (await ex.fetch_ticker(SYMBOL)).bid
                assert bid is not None
                price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
                order = await ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
                assert order.client_order_id is not None
        finally:
            await shared.aclose()

    with Emulator("bybit", seed=7) as emu:
        asyncio.run(main(emu.base_url))
        assert len(emu.ledger()) == 1
    # Answered: its write-ahead entry left the ledger when the client closed.
    assert client.hlen(KEYS.doubt) == 0
    assert client.exists(*KEYS.limit("bybit:ip")) == 2


def test_four_threads_on_two_nodes_never_exceed_the_limit(
    cluster: LocalCluster, client: redis.RedisCluster
) -> None:
    # Each thread enters the cluster through another node: routing, not the entry, decides.
    clients = [
        redis.RedisCluster(host="127.0.0.1", port=cluster.ports[i % 2], socket_timeout=2)
        for i in range(4)
    ]
    assert len(hammer(clients, 8, 4, 300.0, 2)) == 32


def test_fleet_status_reads_a_cluster(
    cluster: LocalCluster, client: redis.RedisCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    with Emulator("bybit", seed=7) as emu, _connect(emu, client) as ex:
        ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), _price(ex))
    url = f"redis://127.0.0.1:{cluster.ports[2]}"
    assert main(["fleet", "status", "--fleet", url, "--cluster", "--json"]) == 0
    [account] = json.loads(capsys.readouterr().out)
    assert account["account"] == KEYS.account and account["reserved_ids"] == 1
    assert any(b["key"] == "bybit:ip" and b["used"] >= 1 for b in account["budgets"])
    # A node nobody listens on: the fleet's own error, not a traceback.
    assert main(["fleet", "status", "--fleet", f"redis://127.0.0.1:{free_port()}", "--cluster"])
    assert "unreachable" in capsys.readouterr().err


def test_a_cluster_going_away_is_redis_failing(capsys: pytest.CaptureFixture[str]) -> None:
    binary = find_binary()
    assert binary is not None
    with LocalCluster(binary) as private, Emulator("bybit", seed=7) as emu:
        shared = redis.RedisCluster(host="127.0.0.1", port=private.ports[0], socket_timeout=0.5)
        try:
            with _connect(emu, shared) as ex:
                price = _price(ex)
                private.stop()
                # Reads go on with this process's share of the budget; new orders are refused
                # with the fleet's own error, nothing sent.
                assert ex.fetch_time() > 0
                with pytest.raises(FleetUnavailable):
                    ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
        finally:
            shared.close()
        assert emu.ledger() == []
