"""``fleet=`` on connect: checked at connect, redis imported only then, nothing else changed."""

from __future__ import annotations

import subprocess
import sys

import pytest
import redis
import redis.asyncio

import exchanges
from exchanges.flow import Session


def test_import_exchanges_does_not_import_redis() -> None:
    code = "import sys, exchanges; exchanges.connect('bybit'); print('redis' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False"


def test_without_fleet_nothing_changes() -> None:
    with exchanges.connect("bybit") as ex:
        assert ex.session.fleet is None
        with pytest.raises(exchanges.NotSupported, match="fleet="):
            ex.reconcile_in_doubt()


def test_fleet_arguments_are_checked_at_connect(redis_url: str) -> None:
    with pytest.raises(ValueError, match="not a Redis URL"):
        exchanges.connect("bybit", fleet="http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="fleet_fallback"):
        exchanges.connect("bybit", fleet=redis_url, fleet_fallback="maybe")
    with pytest.raises(ValueError, match="fleet_size"):
        exchanges.connect("bybit", fleet=redis_url, fleet_size=0)
    with pytest.raises(TypeError, match="block the event loop"):
        exchanges.connect_async("bybit", fleet=redis.Redis.from_url(redis_url))
    with pytest.raises(TypeError, match="asyncio"):
        exchanges.connect("bybit", fleet=redis.asyncio.Redis.from_url(redis_url))
    with pytest.raises(TypeError, match="Redis URL or a redis client"):
        exchanges.connect("bybit", fleet=42)


def test_a_ready_client_is_used_and_the_url_password_never_shown(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with exchanges.connect("bybit", fleet=client) as ex:
        fleet = ex.session.fleet
        assert fleet is not None
        assert fleet.link.sync_client() is client
    client.close()
    url = redis_url.replace("redis://", "redis://user:hunter2@")
    with exchanges.connect("bybit", fleet=url) as ex:
        fleet = ex.session.fleet
        assert fleet is not None
        assert "hunter2" not in fleet.link.where
        assert isinstance(ex.session, Session)
