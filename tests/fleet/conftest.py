"""A real ``redis-server`` on a free loopback port for the fleet tests (no fake, no skip).

The Lua scripts, TTLs and atomicity are what these tests check, so they run against the real
server binary. ``.ci/run`` installs it when it is missing; locally, a missing binary fails the
fixture with the command that installs it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchanges.fleet.local_redis import RedisServer, find_binary, free_port, ping

__all__ = ["RedisServer", "free_port", "ping"]


def _binary() -> str:
    found = find_binary()
    if found is None:
        pytest.fail(
            "redis-server is not installed; the fleet tests run against a real one. Install it "
            "(Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) "
            "or run .ci/run, which installs it.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the session; tests that stop it use ``private_redis`` instead."""
    with tempfile.TemporaryDirectory(prefix="exchanges-redis-") as directory:
        server = RedisServer(_binary(), Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server's URL, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A server of this test's own, which it may stop and start again."""
    with tempfile.TemporaryDirectory(prefix="exchanges-redis-") as directory:
        server = RedisServer(_binary(), Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
