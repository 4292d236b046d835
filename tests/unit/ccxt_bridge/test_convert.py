"""ccxt's unified dicts into the models: numbers, precision modes, order normalisation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adapters.ccxt_bridge import convert
from exchanges.errors import BadResponse

D = Decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        (D("0.10"), D("0.10")),
        (" 1.5 ", D("1.5")),
        (3, D(3)),
        # The float fallback goes through repr: 0.1 is 0.1, not its binary expansion.
        (0.1, D("0.1")),
        (64999.98, D("64999.98")),
    ],
)
def test_num(value: Any, expected: Decimal | None) -> None:
    result = convert.num(value)
    assert result == expected
    if expected is not None:
        assert str(result) == str(expected)


@pytest.mark.parametrize(
    "value",
    ["abc", True, D("NaN"), D("sNaN"), "Infinity", float("nan"), float("-inf"), 1e999, [], 10**30,
     D("1e30"), "1e400"],
)  # fmt: skip
def test_num_refuses_what_is_no_finite_number_in_range(value: Any) -> None:
    with pytest.raises(BadResponse) as caught:
        convert.num(value)
    assert caught.value.hint


def market_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "symbol": "BTC/USDT:USDT", "id": "BTCUSDT", "type": "swap", "base": "BTC",
        "quote": "USDT", "settle": "USDT", "linear": True, "inverse": False,
        "contractSize": D(1), "precision": {"price": D("0.1"), "amount": D("0.001")},
        "limits": {"amount": {"min": D("0.001"), "max": D(100)}, "cost": {"min": D(5)}},
        "active": True, "expiry": None, "strike": None, "optionType": None,
    }  # fmt: skip
    base.update(over)
    return base


def test_market_under_each_precision_mode() -> None:
    market = convert.market(market_dict(), convert.TICK_SIZE)
    assert market is not None
    assert (market.price_step, market.amount_step) == (D("0.1"), D("0.001"))
    assert (market.min_amount, market.max_amount, market.min_notional) == (D("0.001"), 100, 5)
    assert (market.settle, market.linear, market.inverse, market.contract_size) == (
        "USDT", True, False, 1,
    )  # fmt: skip
    assert market.category is None and market.raw["id"] == "BTCUSDT"
    places = convert.market(market_dict(precision={"price": 2, "amount": 3}), 2)
    assert places is not None
    assert (places.price_step, places.amount_step) == (D("0.01"), D("0.001"))
    digits = convert.market(market_dict(precision={"price": 5, "amount": 4}), 3)
    assert digits is not None and digits.price_step is None and digits.amount_step is None


def test_market_kinds() -> None:
    spot = convert.market(
        market_dict(symbol="BTC/USDT", type="spot", settle="USDT", linear=True, active=None),
        convert.TICK_SIZE,
    )
    assert spot is not None
    # Spot markets have no settle/linear/contract size in the models; unknown active is active.
    assert (spot.type, spot.settle, spot.linear, spot.contract_size, spot.active) == (
        "spot", None, None, None, True,
    )  # fmt: skip
    assert convert.market(market_dict(type="index"), convert.TICK_SIZE) is None
    flagged = convert.market(market_dict(type="delivery", future=True), convert.TICK_SIZE)
    assert flagged is not None and flagged.type == "future"
    option = convert.market(
        market_dict(
            symbol="BTC/USDC:USDC-251226-100000-C", type="option", strike=D(100000),
            optionType="call", expiry=1766736000000,
        ),
        convert.TICK_SIZE,
    )  # fmt: skip
    assert option is not None
    assert (option.strike, option.option_type, option.expiry) == (100000, "call", 1766736000000)
    assert not convert.market(market_dict(active=False), convert.TICK_SIZE).active  # type: ignore[union-attr]


def test_ticker_and_order_book() -> None:
    ticker = convert.ticker(
        "BTC/USDT",
        {"timestamp": 1, "bid": D("1.5"), "ask": "1.6", "bidVolume": 2.5, "askVolume": None,
         "last": D(1), "high": None, "low": None, "baseVolume": None, "quoteVolume": None},
    )  # fmt: skip
    assert (ticker.bid, ticker.ask, ticker.bid_size, ticker.ask_size) == (
        D("1.5"), D("1.6"), D("2.5"), None,
    )  # fmt: skip
    book = convert.order_book(
        "BTC/USDT",
        # Some ccxt parsers give strings (sorted as text by ccxt): sorted again by value.
        {"bids": [["99.5", "1"], ["100.5", "2"], ["98", "1"]],
         "asks": [[D("101"), D(1)], [D("100.75"), D(3), 7]], "timestamp": None, "nonce": 42},
        2,
    )  # fmt: skip
    assert book.bids == ((D("100.5"), D(2)), (D("99.5"), D(1)))
    assert book.asks == ((D("100.75"), D(3)), (D(101), D(1)))
    assert book.sequence == 42 and book.timestamp is None
    with pytest.raises(BadResponse):
        convert.order_book("X/Y", {"bids": [[None, "1"]], "asks": []}, None)
    with pytest.raises(BadResponse):
        convert.order_book("X/Y", {"bids": None, "asks": []}, None)


def order_dict(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "1", "clientOrderId": "c1", "symbol": "BTC/USDT", "type": "limit", "side": "buy",
        "status": "open", "price": D(100), "amount": D(2), "filled": D("0.5"),
        "remaining": D("1.5"), "average": D(0), "timeInForce": "GTC", "postOnly": False,
        "reduceOnly": None, "timestamp": 10, "lastUpdateTimestamp": 11, "cost": D(50),
        "fee": None, "fees": [],
    }  # fmt: skip
    base.update(over)
    return base


def test_order_normalisation() -> None:
    order = convert.order("BTC/USDT", order_dict())
    assert (order.status, order.remaining, order.average, order.updated) == (
        "open", D("1.5"), None, 11,
    )  # fmt: skip
    cancelled = convert.order("BTC/USDT", order_dict(status="canceled"))
    assert cancelled.remaining == 0
    maker = convert.order("BTC/USDT", order_dict(type="limit_maker", postOnly=None))
    assert (maker.type, maker.post_only, maker.time_in_force) == ("limit", True, "PO")
    market = convert.order(
        "BTC/USDT", order_dict(type="market", price=D(101), status="closed", average=D(101))
    )
    assert (market.price, market.average, market.remaining) == (None, D(101), 0)
    odd = convert.order("BTC/USDT", order_dict(type="stop", status="triggered", side="x"))
    assert (odd.type, odd.status, odd.side) == (None, None, None)
    fee = convert.order("BTC/USDT", order_dict(fees=[{"cost": D("0.1"), "currency": "USDT"}]))
    assert (fee.fee, fee.fee_currency) == (D("0.1"), "USDT")
    ack = convert.order("BTC/USDT", {"id": "9", "clientOrderId": None, "info": {}})
    assert (ack.id, ack.status, ack.amount, ack.client_order_id) == ("9", None, None, None)


def test_balances() -> None:
    balances = convert.balances(
        {
            "info": {}, "timestamp": 5, "free": {}, "used": {}, "total": {},
            "USDT": {"free": D(90), "used": D(10), "total": D(100)},
            "BTC": {"free": D(1), "used": None, "total": D(3)},
            "ETH": {"free": None, "used": D(1), "total": D(4)},
            "SOL": {"free": D(2), "used": D(1), "total": None},
            "XRP": {"free": None, "used": None, "total": D(7)},
        }
    )  # fmt: skip
    assert balances.timestamp == 5
    assert {c: (b.free, b.used, b.total) for c, b in balances.items()} == {
        "USDT": (90, 10, 100),
        "BTC": (1, 2, 3),
        "ETH": (3, 1, 4),
        "SOL": (2, 1, 3),
    }


def test_trades_fills_candles_positions_fees() -> None:
    trade = convert.trade(
        "BTC/USDT", {"id": 7, "timestamp": 1, "side": "sell", "price": "1", "amount": D(2)}
    )
    assert (trade.id, trade.side, trade.price, trade.amount) == ("7", "sell", 1, 2)
    with pytest.raises(BadResponse):
        convert.trade("BTC/USDT", {"id": 7, "timestamp": None, "price": 1, "amount": 1})
    with pytest.raises(BadResponse):
        convert.trade("BTC/USDT", {"id": 7, "timestamp": 1, "price": None, "amount": 1})
    fill = convert.fill(
        "BTC/USDT",
        {"id": "f", "order": 12, "timestamp": 3, "side": "buy", "price": D(1), "amount": D(1),
         "takerOrMaker": "maker", "fee": {"cost": D("0.01"), "currency": "BTC"}},
    )  # fmt: skip
    assert (fill.order_id, fill.is_maker, fill.fee, fill.fee_currency) == (
        "12", True, D("0.01"), "BTC",
    )  # fmt: skip
    assert fill.client_order_id is None
    candle = convert.candle([60000, D(1), D(2), D("0.5"), D("1.5"), D(10)])
    assert (candle.timestamp, candle.low, candle.volume, candle.quote_volume) == (
        60000, D("0.5"), 10, None,
    )  # fmt: skip
    for row in ([1, 2, 3], [1, None, 1, 1, 1, 1], "row"):
        with pytest.raises(BadResponse):
            convert.candle(row)
    short = convert.position(
        "BTC/USDT:USDT",
        {"contracts": D("0.5"), "side": "short", "entryPrice": D(0), "markPrice": D(65000),
         "liquidationPrice": None, "unrealizedPnl": D(1), "leverage": D(10), "timestamp": 0},
    )  # fmt: skip
    assert short is not None
    assert (short.side, short.size, short.entry_price, short.timestamp) == (
        "short", D("0.5"), None, None,
    )  # fmt: skip
    assert convert.position("BTC/USDT:USDT", {"contracts": D(0), "side": "long"}) is None
    assert convert.position("BTC/USDT:USDT", {"contracts": D(1), "side": None}) is None
    fee = convert.trading_fee("BTC/USDT", {"maker": D("0.001"), "taker": "0.002"})
    assert (fee.maker, fee.taker) == (D("0.001"), D("0.002"))
    with pytest.raises(BadResponse):
        convert.trading_fee("BTC/USDT", {"maker": None, "taker": "0.002"})
