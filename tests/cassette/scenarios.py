"""Every recorded conversation, of every exchange: one scenario per cassette.

    cassettes/bybit/emulator/<name>.yaml    <- tests/cassette/bybit_cases.py,
                                               tests/cassette/bybit_error_cases.py
    cassettes/binance/emulator/<name>.yaml  <- tests/cassette/binance_cases.py
    cassettes/okx/emulator/<name>.yaml      <- tests/cassette/okx_cases.py

How a scenario is set up and played is in ``harness.py``; this module only gathers them.
"""

from __future__ import annotations

# Importing the case modules registers their scenarios, in this order.
from tests.cassette import binance_cases, bybit_cases, bybit_error_cases, okx_cases  # noqa: F401
from tests.cassette.harness import (
    SCENARIOS,
    Caller,
    Scenario,
    ScriptedClock,
    close,
    connect,
    frozen_ms,
    play,
    start_emulator,
)
from tests.cassette.vcrkit import PROFILES

__all__ = [
    "EXCHANGES",
    "SCENARIOS",
    "Caller",
    "Scenario",
    "ScriptedClock",
    "by_name",
    "close",
    "connect",
    "frozen_ms",
    "of",
    "play",
    "start_emulator",
]

EXCHANGES = tuple(PROFILES)


def of(exchange: str) -> list[Scenario]:
    """The scenarios of one exchange, in registration order."""
    return [s for s in SCENARIOS if s.exchange == exchange]


def by_name(name: str, exchange: str = "bybit") -> Scenario:
    """The scenario called ``name`` (``binance/fetch_time`` names the exchange too)."""
    if "/" in name:
        exchange, name = name.split("/", 1)
    for item in SCENARIOS:
        if item.exchange == exchange and item.name == name:
            return item
    raise KeyError(f"{exchange}/{name}")
