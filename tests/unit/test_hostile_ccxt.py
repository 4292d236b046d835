"""Hostile payloads through the ccxt bridge: its conversions refuse non-finite numbers, read
floats through their repr, and its error parsing survives hostile bodies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters.ccxt_bridge import convert
from adapters.ccxt_bridge.errors import Scrubber, extract_native, map_exception
from exchanges.errors import BadResponse, ExchangeError
from tests.unit.hostile_bodies import D

# -- the ccxt bridge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level",
    [[float("nan"), 1.0], [65000.0, float("inf")], [0.0, 1.0], [65000.0, -1.0], [1e30, 1.0],
     ["NaN", "1"], [D("sNaN"), D(1)], [65000.0], "12"],
)  # fmt: skip
def test_ccxt_book_levels_refuse_what_no_market_has(level: Any) -> None:
    with pytest.raises(BadResponse):
        convert.order_book("BTC/USDT", {"bids": [level], "asks": []}, None)


def test_ccxt_floats_are_read_through_repr() -> None:
    got = convert.order_book("BTC/USDT", {"bids": [[65000.1, 0.3]], "asks": []}, None)
    assert [(str(p), str(s)) for p, s in got.bids] == [("65000.1", "0.3")]
    trade = convert.trade("BTC/USDT", {"id": 1, "timestamp": 1, "price": 65000.1, "amount": 2.0})
    assert (str(trade.price), str(trade.amount)) == ("65000.1", "2.0")


@pytest.mark.parametrize(
    "call",
    [lambda: convert.trade("X/Y", {"timestamp": 1, "price": float("nan"), "amount": 1}),
     lambda: convert.trade("X/Y", {"timestamp": 1e999, "price": 1, "amount": 1}),
     lambda: convert.candle([float("inf"), 1, 1, 1, 1, 1]),
     lambda: convert.candle([1, 1, 1, 0, 1, 1]),
     lambda: convert.ticker("X/Y", {"last": float("nan")}),
     lambda: convert.ticker("X/Y", {"baseVolume": -1.0}),
     lambda: convert.order("X/Y", {"average": float("inf")}),
     lambda: convert.balances({"USDT": {"free": float("nan"), "used": 0, "total": 1}})],
)  # fmt: skip
def test_ccxt_conversions_refuse_non_finite_numbers(call: Callable[[], Any]) -> None:
    with pytest.raises(BadResponse) as caught:
        call()
    assert caught.value.hint


def test_ccxt_market_limits_read_infinity_as_no_limit() -> None:
    item: dict[str, Any] = {
        "symbol": "BTC/USDT", "id": "BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT",
        "precision": {"price": 0.1, "amount": 0.001},
        "limits": {"amount": {"min": 0.001, "max": float("inf")}, "cost": {"min": None}},
    }  # fmt: skip
    market = convert.market(item, convert.TICK_SIZE)
    assert market is not None and market.max_amount is None
    assert str(market.price_step) == "0.1" and str(market.min_amount) == "0.001"
    item["limits"] = {"amount": {"min": float("nan")}}
    with pytest.raises(BadResponse):
        convert.market(item, convert.TICK_SIZE)


@pytest.mark.parametrize(
    "text",
    ['bybit {"retCode":' + '{"a":' * 100_000, "bybit " + "[" * 100_000,
     'bybit {"retCode": 1e999, "retMsg": "x"}', 'bybit {"retCode": true, "retMsg": "x"}',
     'bybit {"retCode": 10006, "retMsg": ' + "[" * 400 + "]" * 400 + "}",
     "okx " + '{"a":{' * 50_000],
)  # fmt: skip
def test_ccxt_error_parsing_survives_hostile_bodies(text: str) -> None:
    code, message, _ = extract_native(text)
    assert code in (None, 10006) and message is None

    class ExchangeErrorLike(Exception):
        pass

    ExchangeErrorLike.__module__ = "ccxt.base.errors"
    ExchangeErrorLike.__name__ = "ExchangeError"
    err = map_exception(
        ExchangeErrorLike(text),
        exchange="bybit",
        family="bybit",
        endpoint="fetch_order_book",
        scrub=Scrubber(),
        last_body=text,
    )
    assert isinstance(err, ExchangeError) and err.exchange == "bybit"
