"""Replay every emulator cassette offline, through the stdlib, urllib3 and aiohttp transports,
and check the outcome.

No emulator runs: the client talks to ``http://<exchange>-emulator.test`` and vcrpy answers from
``cassettes/<exchange>/emulator/<scenario>.yaml`` (``record_mode="none"``, whatever
``--record-mode`` says: these files are written by ``python -m tests.cassette.record``). A
request that differs from the recording in method, path, query string, body bytes, the
exchange's pinned headers or its signature fails with a diff; the client must also send exactly
the recorded requests, in the recorded order.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from exchanges.wire import Prepared
from tests.cassette.scenarios import (
    EXCHANGES,
    SCENARIOS,
    Scenario,
    ScriptedClock,
    close,
    connect,
    of,
    play,
)
from tests.cassette.vcrkit import CASSETTES, Parts, profile_of

TRANSPORTS = ("stdlib", "urllib3", "aiohttp")


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config(scenario: Scenario) -> dict[str, Any]:
    # "none" here wins over --record-mode: recording these needs the emulator (record.py).
    return {**profile_of(scenario.exchange).emulator_config(), "record_mode": "none"}


@pytest.fixture
def default_cassette_name(scenario: Scenario) -> str:
    return f"{scenario.exchange}/emulator/{scenario.name}"


class _Spy:
    """Keeps every request the client hands to its transport, in order."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[Prepared] = []

    def close(self) -> Any:
        return self.inner.close()


class _SyncSpy(_Spy):
    def send(self, prepared: Prepared) -> Any:
        self.sent.append(prepared)
        return self.inner.send(prepared)


class _AsyncSpy(_Spy):
    async def send(self, prepared: Prepared) -> Any:
        self.sent.append(prepared)
        return await self.inner.send(prepared)


def spy_on(ex: Any) -> _Spy:
    cls = _AsyncSpy if inspect.iscoroutinefunction(ex.transport.send) else _SyncSpy
    spy = cls(ex.transport)
    ex.transport = spy
    return spy


def sent_parts(exchange: str, prepared: Prepared) -> tuple[str, Parts]:
    class _AsRecorded:
        method = prepared.method
        uri = prepared.url
        body = prepared.body
        headers = prepared.headers

    return prepared.url, profile_of(exchange).parts(_AsRecorded)


@pytest.mark.vcr
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
async def test_replay(scenario: Scenario, transport: str, vcr: Any) -> None:
    profile = profile_of(scenario.exchange)
    clock = ScriptedClock()
    ex = connect(scenario, transport, profile.emulator_url, clock)
    spy = spy_on(ex)
    try:
        await play(scenario, ex, clock)
    finally:
        await close(ex)
    recorded = [(r.uri, profile.parts(r)) for r in vcr.requests]
    assert [sent_parts(scenario.exchange, p) for p in spy.sent] == recorded
    assert vcr.all_played and vcr.play_count == len(recorded)


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_every_scenario_has_a_cassette(exchange: str) -> None:
    names = {s.name for s in of(exchange)}
    files = {p.stem for p in profile_of(exchange).emulator_folder.glob("*.yaml")}
    assert names == files, f"missing: {sorted(names - files)}; stale: {sorted(files - names)}"


def test_every_exchange_has_its_cassettes() -> None:
    counts = {exchange: len(of(exchange)) for exchange in EXCHANGES}
    assert counts["bybit"] == 47 and min(counts.values()) >= 35, counts
