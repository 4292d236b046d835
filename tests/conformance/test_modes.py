"""Margin mode and position (hedge) mode of a contract, the same on every venue, and positions
that report leverage, margin mode and side alike.

Every emulator keeps the margin mode per account (Bybit: account-wide) or per instrument
(Binance, OKX) and hedge mode per instrument with two legs in the engine
(``exchanges.emulator.modes``); each serves its exchange's routes in the real wire format:
Bybit ``/v5/account/set-margin-mode`` and ``/v5/position/switch-mode`` (positionIdx 1/2),
Binance ``/fapi/v1/marginType`` and ``/fapi/v1/positionSide/dual`` (positionSide LONG/SHORT),
OKX per-order ``tdMode`` and ``/api/v5/account/set-position-mode`` (posSide long/short). The
mode in force already is success (Bybit 110025, Binance -4046/-4059); a position-mode change
with a position open is refused with the exchange's code (Bybit 110024, Binance -4068, OKX
59000). Hedge-mode orders name their side through ``params`` in each exchange's own words.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.emulator import DEFAULT_UID
from exchanges.errors import BadRequest, InvalidOrder, NotSupported
from exchanges.models import MarginModeSetting, PositionModeSetting
from tests.conformance.conftest import CREDENTIALS, LINEAR, SPOT, Venue

#: (open long, open short) leg parameters per exchange: Bybit positionIdx, Binance
#: positionSide, OKX posSide (each "Place order" page).
LEGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "bybit": ({"positionIdx": 1}, {"positionIdx": 2}),
    "binance": ({"positionSide": "LONG"}, {"positionSide": "SHORT"}),
    "okx": ({"posSide": "long"}, {"posSide": "short"}),
}
#: Bybit's margin mode is account-wide; Binance sets it per symbol, OKX per order (tdMode).
MARGIN_SCOPE = {"bybit": "account", "binance": "symbol", "okx": "symbol"}
AMOUNT = Decimal("0.01")


def requests(venue: Venue) -> int:
    return int(venue.emu.stats()["requests"])


def engine_hedged(venue: Venue) -> bool:
    return venue.emu.state.engine.hedged(DEFAULT_UID, "BTCUSDT", category="linear")


def test_positions_report_leverage_margin_mode_and_side_alike(venue: Venue) -> None:
    ex = venue.ex
    ex.create_order(LINEAR, "market", "buy", AMOUNT)
    [position] = ex.fetch_positions([LINEAR])
    assert (position.side, position.margin_mode, position.hedged) == ("long", "cross", False)
    assert position.leverage == 10  # the emulators' default


def test_a_margin_mode_set_is_reported_by_a_position_opened_afterwards(venue: Venue) -> None:
    ex = venue.ex
    setting = ex.set_margin_mode("isolated", LINEAR)
    assert isinstance(setting, MarginModeSetting)
    assert setting == MarginModeSetting(LINEAR, "isolated", MARGIN_SCOPE[venue.exchange])
    # The mode in force again succeeds (Binance answers -4046).
    assert ex.set_margin_mode("isolated", LINEAR).margin_mode == "isolated"
    engine = venue.emu.state.engine
    ex.create_order(LINEAR, "market", "sell", AMOUNT)
    assert engine.margin_mode(DEFAULT_UID, "BTCUSDT", category="linear") == "isolated"
    [position] = ex.fetch_positions([LINEAR])
    assert (position.side, position.margin_mode, position.hedged) == ("short", "isolated", False)
    assert position.leverage == 10


def test_hedge_mode_holds_a_long_and_a_short_position(venue: Venue) -> None:
    ex = venue.ex
    # One-way is in force: asking for it succeeds (Bybit 110025, Binance -4059).
    assert ex.set_position_mode(False, LINEAR).hedged is False
    setting = ex.set_position_mode(True, LINEAR)
    assert isinstance(setting, PositionModeSetting)
    assert setting.hedged is True
    assert setting.scope == ("symbol" if venue.exchange == "bybit" else "account")
    assert ex.set_position_mode(True, LINEAR).hedged is True
    assert engine_hedged(venue)
    long, short = LEGS[venue.exchange]
    ex.create_order(LINEAR, "market", "buy", AMOUNT, params=long)
    ex.create_order(LINEAR, "market", "sell", AMOUNT * 2, params=short)
    positions = sorted(ex.fetch_positions([LINEAR]), key=lambda p: p.side)
    assert [(p.side, p.size, p.hedged, p.margin_mode) for p in positions] == [
        ("long", AMOUNT, True, "cross"),
        ("short", AMOUNT * 2, True, "cross"),
    ]
    assert all(p.leverage == 10 for p in positions)
    # Selling on the long side closes it; the short side stays.
    ex.create_order(LINEAR, "market", "sell", AMOUNT, params=long)
    [left] = ex.fetch_positions([LINEAR])
    assert (left.side, left.size, left.hedged) == ("short", AMOUNT * 2, True)
    assert venue.emu.state.engine.audit() == []


def test_a_position_mode_change_with_a_position_open_is_refused(venue: Venue) -> None:
    venue.ex.create_order(LINEAR, "market", "buy", AMOUNT)
    with pytest.raises(BadRequest) as refused:
        venue.ex.set_position_mode(True, LINEAR)
    assert type(refused.value) is BadRequest
    assert str(refused.value.code) in ("110024", "-4068", "59000")
    assert not engine_hedged(venue)


def test_a_hedge_mode_order_without_its_side_is_an_invalid_order(venue: Venue) -> None:
    venue.ex.set_position_mode(True, LINEAR)
    placed = len(venue.orders_sent())
    with pytest.raises(InvalidOrder) as refused:
        venue.ex.create_order(LINEAR, "market", "buy", AMOUNT)
    assert str(refused.value.code) in ("10001", "-4061", "51000")
    assert len(venue.orders_sent()) == placed


def test_a_margin_mode_change_with_a_position_open(venue: Venue) -> None:
    """Binance refuses it (-4048); Bybit switches the account and OKX the symbol's next orders
    (its margin mode is per order), so both accept it."""
    venue.ex.create_order(LINEAR, "market", "buy", AMOUNT)
    if venue.exchange == "binance":
        with pytest.raises(BadRequest) as refused:
            venue.ex.set_margin_mode("isolated", LINEAR)
        assert str(refused.value.code) == "-4048"
        [position] = venue.ex.fetch_positions([LINEAR])
        assert position.margin_mode == "cross"
    else:
        assert venue.ex.set_margin_mode("isolated", LINEAR).margin_mode == "isolated"


@pytest.mark.parametrize(
    ("mode", "error"), [("ISOLATED", ValueError), ("portfolio", ValueError), (1, TypeError)]
)
def test_a_margin_mode_other_than_cross_or_isolated_is_refused_before_sending(
    venue: Venue, mode: Any, error: type[Exception]
) -> None:
    before = requests(venue)
    with pytest.raises(error, match="margin mode"):
        venue.ex.set_margin_mode(mode, LINEAR)
    with pytest.raises(TypeError, match="hedged"):
        venue.ex.set_position_mode("yes", LINEAR)  # type: ignore[arg-type]
    assert requests(venue) == before


def test_spot_has_no_margin_or_position_mode(venue: Venue) -> None:
    before = requests(venue)
    with pytest.raises(NotSupported) as refused:
        venue.ex.set_margin_mode("isolated", SPOT)
    assert "does not offer set_margin_mode.spot " in str(refused.value)
    with pytest.raises(NotSupported) as refused:
        venue.ex.set_position_mode(True, SPOT)
    assert "does not offer set_position_mode.spot " in str(refused.value)
    assert venue.ex.capabilities.supports("set_margin_mode.swap")
    assert venue.ex.capabilities.supports("set_position_mode.swap")
    assert requests(venue) == before  # refused before anything was sent


async def test_the_async_client_sets_the_same_modes(venue: Venue) -> None:
    async with exchanges.connect_async(
        venue.name, base_url=venue.emu.base_url, credentials=CREDENTIALS
    ) as ex:
        setting = await ex.set_margin_mode("isolated", LINEAR)
        assert setting.margin_mode == "isolated"
        assert (await ex.set_position_mode(True)).hedged is True
        long, _ = LEGS[venue.exchange]
        await ex.create_order(LINEAR, "market", "buy", AMOUNT, params=long)
        [position] = await ex.fetch_positions([LINEAR])
    assert (position.side, position.margin_mode, position.hedged) == ("long", "isolated", True)
    assert engine_hedged(venue)
