"""Conditional orders and stops: the arguments checked once, before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.arguments import order_args, trading_stop_args
from exchanges.capabilities import intent_keys
from exchanges.errors import InvalidOrder
from exchanges.models import StopSpec

D = Decimal
LINEAR = "BTC/USDT:USDT"


def test_a_trigger_order_defaults_to_the_stop_convention_on_the_last_price() -> None:
    buy = order_args(LINEAR, "market", "buy", D("0.01"), trigger_price=D("70000"))
    assert (buy.trigger_price, buy.trigger_by, buy.trigger_direction) == (
        D("70000"),
        "last",
        "rise",
    )
    assert buy.conditional and not buy.attached
    sell = order_args(LINEAR, "limit", "sell", D("0.01"), D("59000"), trigger_price=D("60000"))
    assert sell.trigger_direction == "fall"
    dip = order_args(
        LINEAR, "market", "buy", D("0.01"), trigger_price=60000, trigger_by="mark",
        trigger_direction="fall",
    )  # fmt: skip
    assert (dip.trigger_by, dip.trigger_direction) == ("mark", "fall")


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"trigger_price": D("-1")}, InvalidOrder),
        ({"trigger_price": D("1"), "trigger_by": "bid"}, ValueError),
        ({"trigger_price": D("1"), "trigger_by": 1}, TypeError),
        ({"trigger_price": D("1"), "trigger_direction": "up"}, ValueError),
        ({"trigger_by": "mark"}, ValueError),
        ({"stop_loss": 1.5}, TypeError),
        ({"stop_loss": StopSpec(D("1"), trigger_by="bid")}, ValueError),  # type: ignore[arg-type]
        ({"stop_loss": D("0")}, InvalidOrder),
        ({"stop_loss": D("70000"), "take_profit": D("60000")}, InvalidOrder),
        ({"stop_loss": D("60000"), "reduce_only": True}, InvalidOrder),
    ],
)
def test_mistakes_are_refused(extra: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        order_args(LINEAR, "market", "buy", D("0.01"), **extra)  # type: ignore[arg-type]


def test_stops_take_a_price_or_a_spec() -> None:
    args = order_args(
        LINEAR, "market", "sell", D("0.01"), stop_loss=70000,
        take_profit=StopSpec(D("60000"), D("59990"), "mark"),
    )  # fmt: skip
    assert args.stop_loss == StopSpec(D("70000"))
    assert args.take_profit == StopSpec(D("60000"), D("59990"), "mark")
    assert args.attached and not args.conditional


def test_intent_keys() -> None:
    assert intent_keys(None, None) == []
    assert intent_keys(D(1), None) == ["order.trigger"]
    assert intent_keys(D(1), "index", ("stop_loss", StopSpec(D(1), trigger_by="mark"))) == [
        "order.trigger",
        "order.stop_loss",
        "order.trigger_by.index",
        "order.trigger_by.mark",
    ]
    assert intent_keys(None, None, ("take_profit", D(1))) == ["order.take_profit"]


def test_trading_stop_arguments() -> None:
    stop = trading_stop_args(LINEAR, D("60000"), None, None, None, None)
    assert stop.stop_loss == StopSpec(D("60000")) and stop.take_profit is None
    with pytest.raises(ValueError, match="nothing to set"):
        trading_stop_args(LINEAR, None, None, None, None, None)
    with pytest.raises(InvalidOrder, match="at market"):
        trading_stop_args(LINEAR, StopSpec(D("1"), D("1")), None, None, None, None)
    with pytest.raises(InvalidOrder, match="spot"):
        trading_stop_args("BTC/USDT", D("1"), None, None, None, None)
    with pytest.raises(ValueError, match="side"):
        trading_stop_args(LINEAR, D("1"), None, None, None, "buy")
    with pytest.raises(ValueError, match="trailing_amount"):
        trading_stop_args(LINEAR, None, None, None, D("1"), None)


def test_trailing_stop_arguments() -> None:
    from exchanges.arguments import trailing_args

    base = order_args(LINEAR, "market", "sell", D("0.01"), reduce_only=True)
    args = trailing_args(base, D("1.5"), None, 70000)
    assert (args.trailing_percent, args.trailing_amount, args.activation_price) == (
        D("1.5"),
        None,
        D("70000"),
    )
    assert args.conditional and args.trailing and args.trigger_price is None
    with pytest.raises(ValueError, match="one"):
        trailing_args(base, D(1), D(1), None)
    with pytest.raises(ValueError, match="one"):
        trailing_args(base, None, None, None)
    with pytest.raises(InvalidOrder):
        trailing_args(base, D(100), None, None)
    with pytest.raises(InvalidOrder):
        trailing_args(base, None, D(-5), None)
