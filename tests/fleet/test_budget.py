"""The fleet's Lua budget against a real redis-server: atomic, never over the limit, bounded."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from exchanges.fleet.budget import CORRECT, RESERVE
from exchanges.fleet.keys import Keys, account_id

KEYS = Keys(account_id("bybit", "mainnet", "test-key"))


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


def book(
    script: Any,
    limits: list[tuple[str, int, float, int]],
    weight: int = 1,
    longest_ms: int = 10_000,
) -> tuple[int, int, float]:
    """Run RESERVE for (key, limit, period_ms, burst) limits: (wait_ms, blocked index, at_ms)."""
    keys: list[str] = []
    args: list[Any] = [weight, longest_ms, len(limits)]
    for name, limit, period_ms, burst in limits:
        keys.extend(KEYS.limit(name))
        args.extend((limit, period_ms, burst))
    args.append("0")  # no claim, nothing settled
    wait, index, *rest = script(keys=keys, args=args)
    return int(wait), int(index), float(rest[0]) if rest else 0.0


def test_one_round_trip_books_every_key_at_the_same_time(client: redis.Redis) -> None:
    script = client.register_script(RESERVE)
    slow = ("test:slow", 2, 1000.0, 2)
    fast = ("test:fast", 100, 1000.0, 100)
    first = [book(script, [slow, fast]) for _ in range(2)]
    assert [w for w, _, _ in first] == [0, 0]
    wait, index, at = book(script, [slow, fast])
    # The slow key is spent: the request waits for it, and is booked on both keys at that time.
    assert index == 0
    assert 900 <= wait <= 1001
    for name in ("test:slow", "test:fast"):
        log = client.lrange(KEYS.limit(name)[1], 0, -1)
        assert float(log[-1]) == pytest.approx(at, abs=0.01)
    assert client.llen(KEYS.limit("test:fast")[1]) == 3


def test_a_block_longer_than_the_caller_may_wait_books_nothing(client: redis.Redis) -> None:
    script = client.register_script(RESERVE)
    fleet_correct = client.register_script(CORRECT)
    state, log = KEYS.limit("test:blocked")
    fleet_correct(keys=[state], args=[5000, 60_000])
    before = client.llen(KEYS.limit("test:other")[1])
    wait, index, _ = book(
        script, [("test:other", 10, 1000.0, 10), ("test:blocked", 10, 1000.0, 10)], longest_ms=1000
    )
    assert index == 2
    assert 4000 < wait <= 5000
    assert client.llen(KEYS.limit("test:other")[1]) == before
    assert client.llen(log) == 0


def hammer(
    clients: list[Any], rounds: int, limit: int, period_ms: float, burst: int
) -> list[float]:
    """Each client books ``rounds`` times from its own thread; the booked times, sorted, after
    checking none was refused and never more than ``limit`` fell in any ``period_ms`` window."""
    stamps: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(client: Any) -> None:
        script = client.register_script(RESERVE)
        try:
            for _ in range(rounds):
                _, index, at = book(script, [("test:hammer", limit, period_ms, burst)])
                assert index == 0
                with lock:
                    stamps.append(at)
        except BaseException as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=run, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(stamps) == rounds * len(clients)
    stamps.sort()
    for i, stamp in enumerate(stamps):
        inside = [s for s in stamps[: i + 1] if s > stamp - period_ms]
        assert len(inside) <= limit, (i, inside)
    return stamps


def test_eight_threads_never_exceed_the_limit_in_any_window(redis_url: str) -> None:
    limit, period_ms, burst = 5, 300.0, 2
    clients = [redis.Redis.from_url(redis_url, socket_timeout=2) for _ in range(8)]
    # Never more than `limit` booked in any rolling window of `period_ms` (checked by hammer)...
    stamps = hammer(clients, 12, limit, period_ms, burst)
    # ... never more than `burst` back to back, and the whole run paced at the limit.
    assert stamps[burst] > stamps[0]
    span = stamps[-1] - stamps[0]
    assert span >= (len(stamps) - burst) * period_ms / limit - 1


def test_a_header_correction_is_bounded_by_the_window(client: redis.Redis) -> None:
    script = client.register_script(RESERVE)
    correct = client.register_script(CORRECT)
    state, _ = KEYS.limit("test:corrected")
    # A wrong header: "spent, resets in an hour" on a 1-second window.
    correct(keys=[state], args=[3_600_000, 1000])
    assert 0 < client.pttl(state) <= 2000
    wait, index, _ = book(script, [("test:corrected", 10, 1000.0, 10)])
    assert index == 0
    assert 900 <= wait <= 1000
    # A later, shorter correction never shortens a block already there.
    correct(keys=[state], args=[10, 1000])
    blocked = float(client.hget(state, "blocked") or 0)
    assert blocked > 0
    wait_again, _, _ = book(script, [("test:corrected", 10, 1000.0, 10)])
    assert wait_again >= wait - 50


def test_every_key_expires(client: redis.Redis) -> None:
    script = client.register_script(RESERVE)
    for _ in range(3):
        book(script, [("test:ttl", 10, 1000.0, 2), ("test:ip", 600, 5000.0, 120)])
    for name, period in (("test:ttl", 1000), ("test:ip", 5000)):
        for key in KEYS.limit(name):
            ttl = client.pttl(key)
            assert 0 < ttl <= period + 1000 + 500, (key, ttl)
    assert all(client.pttl(key) > 0 for key in client.keys("*"))


def test_keys_name_the_account_by_a_hash_in_one_cluster_slot() -> None:
    account = account_id("bybit", "mainnet", "my-api-key")
    assert len(account) == 16
    assert "my-api-key" not in account
    assert account != account_id("bybit", "testnet", "my-api-key")
    keys = Keys(account)
    names = [*keys.limit("bybit:ip"), keys.client_id("abc"), keys.doubt]
    for name in names:
        assert "my-api-key" not in name
        # Redis Cluster hashes the first {...} only: every key of the account shares a slot.
        assert name[name.index("{") + 1 : name.index("}")] == account
