from __future__ import annotations

import redis

from tests.fleet.conftest import RedisServer, ping


def test_fixture_serves_a_real_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=1)
    try:
        assert client.ping() is True
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
    finally:
        client.close()


def test_private_server_stops_and_restarts_on_its_port(private_redis: RedisServer) -> None:
    port = private_redis.port
    private_redis.stop()
    assert not ping(port)
    private_redis.start()
    assert private_redis.port == port
    assert ping(port)
