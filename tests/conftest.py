"""Shared fixtures: an emulator per test on loopback, and clients connected to it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

import exchanges
from exchanges.emulator import Emulator

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
def _debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    # Every test runs with the library's DEBUG logging captured, so leak scans see it all.
    caplog.set_level(logging.DEBUG, logger="exchanges")
