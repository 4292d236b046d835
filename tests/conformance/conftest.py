"""One set of scenarios, run on every adapter against its exchange's emulator.

A venue is a way of reaching an exchange: a native adapter (``bybit``) or the ccxt bridge
(``ccxt:bybit``), each against the emulator of that exchange with ccxt's own defaults. A new
adapter joins the suite by adding one line to ``VENUES``; a scenario is written once and runs
on all of them, so where an adapter differs the suite says so by failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import pytest

import exchanges
from exchanges.emulator import Emulator

#: (venue, the exchange whose emulator it talks to). One line per adapter.
VENUES: tuple[tuple[str, str], ...] = (
    ("bybit", "bybit"),
    ("binance", "binance"),
    ("okx", "okx"),
    ("ccxt:bybit", "bybit"),
    ("ccxt:binance", "binance"),
    ("ccxt:okx", "okx"),
)

#: (venue, what) -> why that venue differs. Every difference the suite tolerates is here,
#: with its reason; anything else that differs fails.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("ccxt:binance", "ticker.bid_size"): (
        "ccxt's Binance USD-M ticker is /fapi/v1/ticker/24hr, which has no bid or ask (the "
        "native adapter adds /fapi/v1/ticker/bookTicker)"
    ),
    ("ccxt:binance", "balance.total"): (
        "ccxt's USD-M total is the margin balance (unrealised PnL included); the native "
        "adapter's total is the wallet balance"
    ),
    ("ccxt:okx", "balance.total"): (
        "ccxt's OKX total is equity (eq, unrealised PnL included); the native adapter's total "
        "is the cash balance (cashBal)"
    ),
}

CREDENTIALS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")
SPOT = "BTC/USDT"
LINEAR = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"


@attrs.define
class Venue:
    """A client of one adapter with the emulator behind it."""

    name: str
    exchange: str
    emu: Emulator
    ex: exchanges.Exchange

    def orders_sent(self) -> list[dict[str, Any]]:
        """Every order the exchange accepted (the emulator's ledger)."""
        return self.emu.ledger()


@pytest.fixture(scope="module", params=[name for name, _ in VENUES])
def emulator_of(request: pytest.FixtureRequest) -> Iterator[tuple[str, Emulator]]:
    exchange = dict(VENUES)[request.param]
    with Emulator(exchange, seed=11) as emu:
        yield request.param, emu


@pytest.fixture
def venue(emulator_of: tuple[str, Emulator]) -> Iterator[Venue]:
    name, emu = emulator_of
    emu.reset(11)
    with exchanges.connect(name, base_url=emu.base_url, credentials=CREDENTIALS) as ex:
        yield Venue(name, dict(VENUES)[name], emu, ex)
