"""``since`` is in milliseconds: a time in seconds is refused before anything is sent.

Read as milliseconds, 1733400000 is 1970-01-21: Bybit and OKX answer such a window with nothing
and Binance with its oldest candles, so a ``since`` in seconds used to pass silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import exchanges
from exchanges.arguments import check_since
from exchanges.emulator import Emulator
from exchanges.errors import BadRequest

SECONDS = 1733400000
MESSAGE = "since=1733400000 looks like seconds; pass milliseconds (1733400000000)"
CREDENTIALS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")


def test_a_time_in_seconds_is_refused_and_milliseconds_pass() -> None:
    with pytest.raises(ValueError) as caught:
        check_since(SECONDS)
    assert str(caught.value) == MESSAGE
    # 2001-01-01 in ms is the first value taken; just before it can only be seconds.
    assert check_since(978_307_200_000) == 978_307_200_000
    with pytest.raises(ValueError, match=r"pass milliseconds \(978307199999000\)"):
        check_since(978_307_199_999)
    assert check_since(SECONDS * 1000) == SECONDS * 1000
    # The epoch is ccxt's "from the beginning": kept.
    assert check_since(0) == 0
    assert check_since(None) is None
    with pytest.raises(BadRequest):
        check_since(-1)
    with pytest.raises(TypeError):
        check_since(float(SECONDS))


@pytest.fixture(params=["bybit", "binance", "okx"])
def emulated(request: pytest.FixtureRequest) -> Iterator[tuple[Emulator, exchanges.Exchange]]:
    with (
        Emulator(request.param, seed=7) as emu,
        exchanges.connect(request.param, base_url=emu.base_url, credentials=CREDENTIALS) as client,
    ):
        yield emu, client


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("fetch_ohlcv", ("1h", SECONDS)),
        ("fetch_closed_orders", (SECONDS,)),
        ("fetch_my_trades", (SECONDS,)),
    ],
)
def test_every_exchange_refuses_seconds_before_sending(
    emulated: tuple[Emulator, exchanges.Exchange], method: str, args: tuple[Any, ...]
) -> None:
    emu, client = emulated
    before = emu.state.requests
    with pytest.raises(ValueError) as caught:
        getattr(client, method)("BTC/USDT", *args)
    assert str(caught.value) == MESSAGE
    assert emu.state.requests == before
