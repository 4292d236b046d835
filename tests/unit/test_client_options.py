"""``connect(..., **options)``: each exchange takes its own options, and a misspelt one fails."""

from __future__ import annotations

import pytest

import exchanges


@pytest.mark.parametrize(
    ("exchange", "takes"),
    [("bybit", "region="), ("okx", "region="), ("binance", "host=, wallet=")],
)
def test_a_misspelt_option_is_refused_not_ignored(exchange: str, takes: str) -> None:
    with pytest.raises(TypeError, match=f"unknown option\\(s\\) for {exchange}: regoin") as caught:
        exchanges.connect(exchange, regoin="nl")
    assert takes in str(caught.value)


def test_known_and_stream_options_are_taken() -> None:
    with exchanges.connect("bybit", region="nl", ws_max_buffer=10) as ex:
        assert ex.adapter.base_url == "https://api.bybit.nl"
    with exchanges.connect("binance", wallet="usdm") as ex:
        assert ex.adapter.name == "binance"
