"""Shared fixtures: an emulator per test on loopback, and clients connected to it."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import exchanges
from exchanges.emulator import Emulator
from tests import leaks

# Installed before any test runs: the whole suite is scanned for leaked secrets at its end.
leaks.install()
LEAK_SCAN = "test_no_secret_leaked_anywhere"

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})

TEST_KEY = "test-key"
TEST_SECRET = "test-secret"


@pytest.fixture
def credentials() -> exchanges.Credentials:
    return exchanges.Credentials(TEST_KEY, TEST_SECRET)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator("bybit", seed=7) as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator, credentials: exchanges.Credentials) -> Iterator[exchanges.Exchange]:
    with exchanges.connect("bybit", base_url=emulator.base_url, credentials=credentials) as ex:
        yield ex


@pytest.fixture
async def aclient(
    emulator: Emulator, credentials: exchanges.Credentials
) -> AsyncIterator[exchanges.AsyncExchange]:
    async with exchanges.connect_async(
        "bybit", base_url=emulator.base_url, credentials=credentials
    ) as ex:
        yield ex


@pytest.fixture(autouse=True)
def _loopback_only(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reaches past loopback: connecting or resolving elsewhere fails the test.

    Only tests marked ``network`` (recording real sandboxes, skipped without keys) may leave.
    """
    if request.node.get_closest_marker("network") is not None:
        yield
        return
    blocked: list[object] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            blocked.append(address)
            raise OSError(f"test guard: non-loopback connection to {address!r} refused")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in LOOPBACK:
            blocked.append(name)
            raise socket.gaierror(f"test guard: lookup of {name!r} refused")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    assert blocked == [], f"a test tried to leave loopback: {blocked}"


@pytest.fixture(autouse=True)
def _debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    # Every test runs with the library's DEBUG logging captured, so leak scans see it all.
    caplog.set_level(logging.DEBUG, logger="exchanges")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The leak scan judges everything the suite did, so it runs last.
    scans = [item for item in items if item.name == LEAK_SCAN]
    for item in scans:
        items.remove(item)
        items.append(item)
