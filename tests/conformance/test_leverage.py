"""Leverage of a contract: set once, reported by the positions opened afterwards, the same on
every venue.

Every emulator keeps one leverage per (account, instrument) in the engine and uses it for the
margin of positions and orders (``Engine.set_leverage``); each serves its exchange's route in
the real wire format. A value above the symbol's maximum (100 on the emulators) is refused by
the exchange with its own code (Bybit 110013, Binance -4028, OKX 59102), ``BadRequest`` on
every venue; setting the value in force again succeeds (Bybit's 110043 included).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.emulator import DEFAULT_UID
from exchanges.errors import BadRequest, NotSupported
from exchanges.models import LeverageSetting
from tests.conformance.conftest import CREDENTIALS, LINEAR, SPOT, Venue


def requests(venue: Venue) -> int:
    return int(venue.emu.stats()["requests"])


def engine_leverage(venue: Venue) -> Decimal:
    """The leverage the emulator's engine holds for the account on BTCUSDT (linear)."""
    return venue.emu.state.engine.leverage(DEFAULT_UID, "BTCUSDT", category="linear")


def test_a_leverage_set_is_reported_by_a_position_opened_afterwards(venue: Venue) -> None:
    ex = venue.ex
    setting = ex.set_leverage(5, LINEAR)
    assert isinstance(setting, LeverageSetting)
    assert setting == LeverageSetting(LINEAR, Decimal(5))
    assert engine_leverage(venue) == 5
    ex.create_order(LINEAR, "market", "buy", Decimal("0.01"))
    [position] = ex.fetch_positions([LINEAR])
    assert position.leverage == 5
    # The margin the engine locks is the position's value divided by that leverage.
    [view] = [
        p
        for p in venue.emu.state.engine.positions(DEFAULT_UID, category="linear")
        if p.symbol == "BTCUSDT"
    ]
    assert view.entry_price is not None
    # Rounded down to the engine's money unit (a cent of USDT).
    assert abs(view.position_margin - view.entry_price * view.size / 5) <= Decimal("0.01")


def test_setting_the_leverage_in_force_again_succeeds(venue: Venue) -> None:
    first = venue.ex.set_leverage(Decimal(7), LINEAR)
    again = venue.ex.set_leverage(Decimal(7), LINEAR)
    assert first.leverage == again.leverage == 7
    assert engine_leverage(venue) == 7


def test_a_leverage_above_the_maximum_is_a_bad_request(venue: Venue) -> None:
    before = engine_leverage(venue)
    with pytest.raises(BadRequest) as refused:
        venue.ex.set_leverage(1000, LINEAR)
    assert type(refused.value) is BadRequest
    if venue.name in ("ccxt:binance", "ccxt:okx"):
        # ccxt refuses a leverage outside 1-125 itself for these two, before sending.
        assert "between 1 and 125" in str(refused.value)
    else:
        assert str(refused.value.code) in ("110013", "-4028", "59102")
    # Within ccxt's 1-125 but above the emulators' maximum (100): the exchange refuses it.
    with pytest.raises(BadRequest) as refused:
        venue.ex.set_leverage(110, LINEAR)
    assert type(refused.value) is BadRequest
    assert str(refused.value.code) in ("110013", "-4028", "59102")
    assert engine_leverage(venue) == before


@pytest.mark.parametrize(
    ("leverage", "error"),
    [
        (0, ValueError),
        (Decimal("0.5"), ValueError),
        (Decimal("NaN"), ValueError),
        ("5", TypeError),
        (5.0, TypeError),
        (True, TypeError),
    ],
)
def test_a_leverage_that_is_not_a_number_of_at_least_one_is_refused_before_sending(
    venue: Venue, leverage: Any, error: type[Exception]
) -> None:
    before = requests(venue)
    with pytest.raises(error, match="leverage"):
        venue.ex.set_leverage(leverage, LINEAR)
    assert requests(venue) == before


def test_spot_has_no_leverage(venue: Venue) -> None:
    before = requests(venue)
    with pytest.raises(NotSupported) as refused:
        venue.ex.set_leverage(5, SPOT)
    assert "does not offer set_leverage.spot " in str(refused.value)
    assert not venue.ex.capabilities.supports("set_leverage.spot")
    assert venue.ex.capabilities.supports("set_leverage.swap")
    assert requests(venue) == before  # refused before anything was sent


async def test_the_async_client_sets_the_same_leverage(venue: Venue) -> None:
    async with exchanges.connect_async(
        venue.name, base_url=venue.emu.base_url, credentials=CREDENTIALS
    ) as ex:
        setting = await ex.set_leverage(Decimal(3), LINEAR)
        assert setting == LeverageSetting(LINEAR, Decimal(3))
        with pytest.raises(BadRequest):
            await ex.set_leverage(1000, LINEAR)
        await ex.create_order(LINEAR, "market", "buy", Decimal("0.01"))
        [position] = await ex.fetch_positions([LINEAR])
    assert position.leverage == 3
    assert engine_leverage(venue) == 3
