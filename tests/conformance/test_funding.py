"""Funding of perpetual swaps: the rate of the next settlement and the settled history.

Every emulator serves the engine's funding schedule (``exchanges.emulator.funding``: 8-hour
settlements on the UTC grid, rates within ±0.0375 %) in its exchange's format, so every venue
must read back exactly that schedule: the same rates at the same times, oldest first.
"""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

import exchanges
from exchanges.emulator.funding import HISTORY_INTERVALS, INTERVAL_MS, MAX_RATE
from exchanges.errors import NotSupported
from exchanges.models import FundingRate, FundingRecord
from tests.conformance.conftest import CREDENTIALS, INVERSE, LINEAR, SPOT, Venue

#: The most records one history request returns, by exchange (each funding module's page).
PAGE = {"bybit": 200, "binance": 1000, "okx": 100}
NATIVE = {LINEAR: ("linear", "BTCUSDT"), INVERSE: ("inverse", "BTCUSD")}


def schedule(venue: Venue, symbol: str = LINEAR) -> list[tuple[int, Decimal]]:
    """The emulator's settled (time, rate) of ``symbol``, oldest first."""
    category, native = NATIVE[symbol]
    rows = venue.emu.state.engine.funding_history(native, category=category)
    return [(row.time_ms, row.rate) for row in rows]


def pairs(records: list[FundingRecord]) -> list[tuple[int, Decimal]]:
    return [(r.timestamp, r.rate) for r in records]


def requests(venue: Venue) -> int:
    return int(venue.emu.stats()["requests"])


def check_rate(venue: Venue, rate: FundingRate, symbol: str) -> None:
    now = venue.emu.state.now_ms()
    category, native = NATIVE[symbol]
    expected = venue.emu.state.engine.funding(native, category=category)
    assert rate.symbol == symbol
    assert isinstance(rate.rate, Decimal) and abs(rate.rate) <= MAX_RATE
    assert rate.rate == expected.rate
    # The next settlement: in the future, within one interval, on the 8-hour grid.
    assert rate.funding_time is not None
    assert now < rate.funding_time <= now + INTERVAL_MS
    assert rate.funding_time % INTERVAL_MS == 0
    # The settlement after it, and the interval, where the exchange says.
    assert rate.interval_ms in (None, INTERVAL_MS)
    assert rate.next_funding_time in (None, rate.funding_time + INTERVAL_MS)
    # The mark and index price on every venue (OKX's funding endpoint carries neither: its
    # adapter reads them from the mark-price and index-tickers endpoints).
    assert rate.mark_price == expected.mark and rate.index_price == expected.index


def test_the_current_rate_is_the_next_settlements(venue: Venue) -> None:
    rate = venue.ex.fetch_funding_rate(LINEAR)
    check_rate(venue, rate, LINEAR)
    assert rate.mark_price is not None and rate.mark_price > 0
    assert rate.index_price is not None and rate.index_price > 0


def test_an_inverse_perpetual_has_funding_where_it_is_listed(venue: Venue) -> None:
    if venue.exchange == "binance":
        pytest.skip("Binance COIN-M (inverse) is not covered")
    check_rate(venue, venue.ex.fetch_funding_rate(INVERSE), INVERSE)


def test_history_is_the_latest_settlements_oldest_first(venue: Venue) -> None:
    settled = schedule(venue)
    assert pairs(venue.ex.fetch_funding_rate_history(LINEAR, limit=5)) == settled[-5:]
    # The default is the latest 100.
    records = venue.ex.fetch_funding_rate_history(LINEAR)
    assert pairs(records) == settled[-100:]
    assert all(isinstance(r, FundingRecord) and r.symbol == LINEAR for r in records)


def test_history_starts_at_since(venue: Venue) -> None:
    settled = schedule(venue)
    at = settled[-20][0]
    # A record at since is included; one before it is not.
    assert (
        pairs(venue.ex.fetch_funding_rate_history(LINEAR, since=at, limit=3)) == (settled[-20:-17])
    )
    assert (
        pairs(venue.ex.fetch_funding_rate_history(LINEAR, since=at + 1, limit=3))
        == (settled[-19:-16])
    )
    # Fewer settled since then than asked for: all of them.
    assert pairs(venue.ex.fetch_funding_rate_history(LINEAR, since=at, limit=50)) == (settled[-20:])


@pytest.mark.parametrize("limit", [450, 1000])
def test_history_pages_through_more_than_one_page(venue: Venue, limit: int) -> None:
    settled = schedule(venue)
    venue.ex.load_markets()
    before = requests(venue)
    latest = venue.ex.fetch_funding_rate_history(LINEAR, limit=limit)
    assert pairs(latest) == settled[-limit:]
    pages = requests(venue) - before
    assert pages >= math.ceil(limit / PAGE[venue.exchange])
    since = settled[0][0]
    before = requests(venue)
    first = venue.ex.fetch_funding_rate_history(LINEAR, since=since, limit=limit)
    assert pairs(first) == settled[:limit]
    assert requests(venue) - before >= math.ceil(limit / PAGE[venue.exchange])
    assert len(settled) == HISTORY_INTERVALS


@pytest.mark.parametrize("symbol, market", [(SPOT, "spot"), ("BTC/USDT:USDT-301227", "future")])
def test_funding_outside_perpetual_swaps_is_not_supported(
    venue: Venue, symbol: str, market: str
) -> None:
    before = requests(venue)
    with pytest.raises(NotSupported) as refused:
        venue.ex.fetch_funding_rate(symbol)
    assert f"does not offer fetch_funding_rate.{market} " in str(refused.value)
    with pytest.raises(NotSupported) as refused:
        venue.ex.fetch_funding_rate_history(symbol, limit=5)
    assert f"does not offer fetch_funding_rate_history.{market} " in str(refused.value)
    assert not venue.ex.capabilities.supports(f"fetch_funding_rate.{market}")
    assert requests(venue) == before  # refused before anything was sent


async def test_the_async_client_reads_the_same_funding(venue: Venue) -> None:
    settled = schedule(venue)
    base_url = venue.emu.base_url
    async with exchanges.connect_async(
        venue.name, base_url=base_url, credentials=CREDENTIALS
    ) as ex:
        check_rate(venue, await ex.fetch_funding_rate(LINEAR), LINEAR)
        records = await ex.fetch_funding_rate_history(LINEAR, limit=250)
    assert pairs(records) == settled[-250:]
