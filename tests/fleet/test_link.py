"""The link's kept connection, on a real redis-server: reloads, shares, drops a failed one."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import redis

from exchanges.fleet.link import DOWN, Link, Script
from tests.fleet.conftest import RedisServer

ECHO = "return ARGV[1]"


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


def _echo(link: Link, value: str) -> bytes:
    got = Script(link, ECHO, [], [value]).run()
    assert isinstance(got, bytes), got
    return got


def _connections(admin: redis.Redis) -> int:
    return int(admin.info("stats")["total_connections_received"])


def test_scripts_run_on_one_kept_connection_and_reload_after_a_flush(
    redis_url: str, admin: redis.Redis
) -> None:
    link = Link(redis_url, asynchronous=False)
    try:
        assert _echo(link, "a") == b"a"
        opened = _connections(admin)
        assert [_echo(link, str(i)) for i in range(20)] == [str(i).encode() for i in range(20)]
        admin.script_flush()
        assert _echo(link, "c") == b"c"
        # One connection ran them all, the reload after the flush included.
        assert _connections(admin) == opened
    finally:
        link.close()


def test_calls_at_the_same_time_all_run(redis_url: str) -> None:
    link = Link(redis_url, asynchronous=False)
    seen: list[bytes] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(50):
                seen.append(_echo(link, f"{n}-{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        link.close()
    assert errors == []
    assert sorted(seen) == sorted(f"{n}-{i}".encode() for n in range(4) for i in range(50))


def test_a_restart_fails_one_call_then_a_new_connection_answers(
    private_redis: RedisServer,
) -> None:
    link = Link(private_redis.url, asynchronous=False)
    try:
        assert _echo(link, "a") == b"a"
        private_redis.stop()
        assert Script(link, ECHO, [], ["b"]).run() is DOWN
        private_redis.start()
        link._rest_until = 0.0  # skip the rest period: this test is about the connection
        assert _echo(link, "c") == b"c"
    finally:
        link.close()


def test_a_cancelled_async_call_never_leaves_a_reply_for_the_next(
    redis_url: str, admin: redis.Redis
) -> None:
    slow = "redis.call('SET', KEYS[1], '1') local t = redis.call('TIME') " + (
        "while true do local n = redis.call('TIME') "
        "if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 50000 then break end end return ARGV[1]"
    )

    async def scenario() -> bytes:
        link = Link(redis_url, asynchronous=True)
        try:
            call = asyncio.ensure_future(Script(link, slow, ["k"], ["late"]).run_async())
            await asyncio.sleep(0.01)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            got = await Script(link, ECHO, [], ["next"]).run_async()
            assert isinstance(got, bytes), got
            return got
        finally:
            await link.aclose()

    got = asyncio.run(scenario())
    # The next call read its own reply, not the cancelled script's "late".
    assert got == b"next"
    assert admin.get("k") == b"1"


ARGS_BACK = "local out = {} for i = 1, #KEYS do out[#out + 1] = KEYS[i] end "
ARGS_BACK += "for i = 1, #ARGV do out[#out + 1] = ARGV[i] end return out"
#: Text with non-ASCII and JSON, integers (negative and beyond 32 bits), an empty string.
SENT = ['é{"a":1}', 7, -3, 1_796_522_863_937, "", "1050.000"]


def test_a_scripts_keys_and_arguments_arrive_as_sent_sync(redis_url: str) -> None:
    link = Link(redis_url, asynchronous=False)
    try:
        got = Script(link, ARGS_BACK, ["k:{x}:1", "k:{x}:ü"], SENT).run()
    finally:
        link.close()
    assert got == [b"k:{x}:1", "k:{x}:ü".encode()] + [str(v).encode() for v in SENT]


def test_a_scripts_keys_and_arguments_arrive_as_sent_async(redis_url: str) -> None:
    async def main() -> object:
        link = Link(redis_url, asynchronous=True)
        try:
            return await Script(link, ARGS_BACK, ["k:{x}:1"], SENT).run_async()
        finally:
            await link.aclose()

    got = asyncio.run(main())
    assert got == [b"k:{x}:1"] + [str(v).encode() for v in SENT]
