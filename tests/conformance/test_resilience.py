"""What the network and the exchange's clock do to a call is the same on every adapter."""

from __future__ import annotations

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.errors import RateLimitExceeded
from exchanges.retry import RetryPolicy
from tests.conformance.conftest import CREDENTIALS, LINEAR, Venue


def injected(emu: Emulator) -> int:
    """Faults the emulator has injected so far (its counters outlive a reset)."""
    return sum(emu.stats()["faults_injected"].values())


@pytest.mark.parametrize("offset_ms", [-3_000, 4_000])
def test_a_skewed_exchange_clock_is_absorbed(venue: Venue, offset_ms: int) -> None:
    # Every exchange refuses a signed request stamped too far from its clock (recvWindow,
    # OK-ACCESS-TIMESTAMP within 30 s...): a client that follows the exchange's clock passes.
    venue.emu.set_clock_offset(offset_ms)
    try:
        assert venue.ex.fetch_balance() is not None
        assert venue.ex.fetch_open_orders(LINEAR) == []
    finally:
        venue.emu.set_clock_offset(0)


def test_one_rate_limit_answer_is_waited_out(venue: Venue) -> None:
    # The first request of the call (whichever: a clock sample or the call itself) is refused.
    before = injected(venue.emu)
    venue.emu.set_faults("rate_limit:1.0@/*1")
    try:
        assert venue.ex.fetch_balance() is not None
    finally:
        venue.emu.clear_faults()
    assert injected(venue.emu) - before == 1


def test_rate_limit_answers_that_do_not_stop_end_as_rate_limit_exceeded(
    emulator_of: tuple[str, Emulator],
) -> None:
    name, emu = emulator_of
    emu.reset(11)
    before = injected(emu)
    retry = RetryPolicy(rate_limit_retries=2, max_rate_limit_wait=0.2)
    emu.set_faults("rate_limit:1.0@/")
    try:
        with (
            exchanges.connect(
                name, base_url=emu.base_url, credentials=CREDENTIALS, retry=retry
            ) as ex,
            pytest.raises(RateLimitExceeded) as caught,
        ):
            ex.fetch_balance()
    finally:
        emu.clear_faults()
    # Bounded: the first answer and two retries, no more.
    assert injected(emu) - before == 3
    assert caught.value.retry_after is None or caught.value.retry_after >= 0
