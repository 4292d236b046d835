"""Conditional orders, stop-loss/take-profit on an order and on a position, the same on every
venue.

Each emulator keeps conditional orders in its engine (``exchanges.emulator.triggers``): they
wait without reserving anything, fire when the price they watch (last, mark or index) crosses,
and then place a normal order; position stops close the position and go with it. Each serves
them the way its exchange does: Bybit on ``/v5/order/create`` (``triggerPrice``) and
``/v5/position/trading-stop``, Binance USD-M on the Algo Order API (``/fapi/v1/algoOrder``,
``openAlgoOrders``), OKX on ``/api/v5/trade/order-algo`` and ``attachAlgoOrds``. Prices move
through the emulator's admin API (``Emulator.move_price``): a sweep through the book, with the
mark and index prices set apart when a test needs them.

Where a venue declares an intent not offered (Binance has no stop-loss attached to an order),
the scenario checks that the call raises ``NotSupported`` naming that key, before anything is
sent: the declaration and the behaviour agree.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.emulator import DEFAULT_UID
from exchanges.errors import InvalidOrder, NotSupported, OrderNotFound
from exchanges.models import Order, StopSpec, TradingStop
from tests.conformance.conftest import CREDENTIALS, LINEAR, SPOT, Venue

AMOUNT = Decimal("0.01")
#: The engine's id of the linear perpetual every emulator lists as BTC/USDT:USDT.
ENGINE_ID = ("BTCUSDT", "linear")


def requests(venue: Venue) -> int:
    return int(venue.emu.stats()["requests"])


def move(venue: Venue, **prices: Decimal) -> None:
    venue.emu.move_price(ENGINE_ID[0], category=ENGINE_ID[1], **prices)


def waiting(venue: Venue) -> list[Any]:
    """The conditional orders the engine holds, waiting for their trigger."""
    return venue.emu.state.engine.triggers(DEFAULT_UID)


def last_price(venue: Venue) -> Decimal:
    last = venue.ex.fetch_ticker(LINEAR).last
    assert last is not None
    return last


def offered(venue: Venue, key: str, call: Callable[[], object], market: str = "swap") -> bool:
    """True when ``key`` is offered on ``market``; otherwise check that ``call`` raises
    NotSupported naming it, with nothing sent, and return False."""
    if venue.ex.capabilities.supports(key, market=market):
        return True
    before = requests(venue)
    with pytest.raises(NotSupported) as refused:
        call()
    assert f"does not offer {key}" in str(refused.value)
    assert requests(venue) == before
    return False


def position_size(venue: Venue) -> Decimal:
    return sum((p.size for p in venue.ex.fetch_positions([LINEAR])), Decimal(0))


def conditional(orders: list[Order]) -> list[Order]:
    return [o for o in orders if o.conditional]


def stop_prices(orders: list[Order]) -> list[Decimal]:
    """The trigger prices of conditional orders, legs included: OKX keeps a TP/SL pair in one
    oco order whose ``stop_loss`` and ``take_profit`` are its legs."""
    found = set()
    for order in conditional(orders):
        if order.trigger_price is not None:
            found.add(order.trigger_price)
        for leg in (order.stop_loss, order.take_profit):
            if leg is not None:
                found.add(leg.trigger_price)
    return sorted(found)


def test_a_trigger_order_rests_listed_as_conditional_and_cancels(venue: Venue) -> None:
    ex = venue.ex
    trigger = last_price(venue) + 100
    place = lambda: ex.create_order(LINEAR, "market", "buy", AMOUNT, trigger_price=trigger)  # noqa: E731
    if not offered(venue, "order.trigger", place):
        return
    order = place()
    assert (order.status, order.conditional, order.trigger_price) == ("open", True, trigger)
    assert order.trigger_by == "last"
    [listed] = ex.fetch_open_orders(LINEAR)
    assert listed.id == order.id
    assert (listed.conditional, listed.trigger_price, listed.trigger_by) == (True, trigger, "last")
    assert (listed.side, listed.amount, listed.status) == ("buy", AMOUNT, "open")
    assert len(waiting(venue)) == 1
    cancelled = ex.cancel_order(order.id, LINEAR)
    assert cancelled.status == "canceled"
    assert ex.fetch_open_orders(LINEAR) == []
    assert waiting(venue) == []
    assert position_size(venue) == 0


def test_a_conditional_order_amends_where_declared_else_is_refused_unchanged(
    venue: Venue,
) -> None:
    ex = venue.ex
    trigger = last_price(venue) + 100
    price = trigger + 50
    place = lambda: ex.create_order(  # noqa: E731
        LINEAR, "limit", "buy", AMOUNT, price, trigger_price=trigger
    )
    if not offered(venue, "order.trigger", place):
        return
    order = place()
    amend = lambda: ex.amend_order(order.id, LINEAR, amount=AMOUNT * 2, price=price + 10)  # noqa: E731
    if ex.capabilities.supports("order.amend"):
        amended = amend()
        assert (amended.id, amended.amount, amended.price) == (order.id, AMOUNT * 2, price + 10)
        want = (order.id, AMOUNT * 2, price + 10)
    else:
        # Not "order not found": the order is open, the exchange cannot amend it.
        with pytest.raises(NotSupported) as refused_amend:
            amend()
        assert "does not offer order.amend" in str(refused_amend.value)
        want = (order.id, AMOUNT, price)
    [listed] = ex.fetch_open_orders(LINEAR)
    assert (listed.id, listed.amount, listed.price) == want
    assert (listed.conditional, listed.trigger_price) == (True, trigger)
    ex.cancel_order(order.id, LINEAR)
    # An id that names no open order is still OrderNotFound.
    with pytest.raises(OrderNotFound):
        amend()


@pytest.mark.parametrize("trigger_by", ["last", "mark"])
def test_a_trigger_order_fires_when_its_price_crosses_and_fills(
    venue: Venue, trigger_by: str
) -> None:
    ex = venue.ex
    last = last_price(venue)
    trigger = last + 100

    def place() -> Order:
        return ex.create_order(
            LINEAR, "market", "buy", AMOUNT, trigger_price=trigger, trigger_by=trigger_by
        )

    if not offered(venue, "order.trigger", place):
        return
    if trigger_by != "last" and not offered(venue, f"order.trigger_by.{trigger_by}", place):
        return
    order = place()
    assert order.trigger_by == trigger_by
    if trigger_by == "mark":
        # The last price crosses, the mark price does not: nothing fires.
        move(venue, last=last + 200, mark=last)
        assert len(waiting(venue)) == 1
        assert position_size(venue) == 0
        move(venue, last=last + 200, mark=last + 200)
    else:
        move(venue, last=last + 200)
    assert waiting(venue) == []
    assert position_size(venue) == AMOUNT
    assert conditional(ex.fetch_open_orders(LINEAR)) == []
    assert venue.emu.state.engine.audit() == []


def test_a_spot_trigger_order(venue: Venue) -> None:
    """Bybit (orderFilter=StopOrder, cancelled with it), Binance (a STOP_LOSS order, an
    ordinary order of a stop type) and OKX (an algo order) take spot conditional orders."""
    ex = venue.ex
    last = ex.fetch_ticker(SPOT).last
    assert last is not None
    amount = Decimal("0.001")

    def place() -> Order:
        return ex.create_order(SPOT, "market", "buy", amount, trigger_price=last + 100)

    if not offered(venue, "order.trigger", place, market="spot"):
        return
    order = place()
    assert [(o.id, o.conditional) for o in ex.fetch_open_orders(SPOT)] == [(order.id, True)]
    assert order.id is not None
    assert ex.cancel_order(order.id, SPOT).status == "canceled"
    assert ex.fetch_open_orders(SPOT) == []
    assert venue.emu.state.engine.triggers(DEFAULT_UID) == []


def test_a_spot_stop_fires_when_the_last_price_falls_through_it_and_sells(venue: Venue) -> None:
    """A spot sell that triggers as the price falls (Binance: STOP_LOSS) waits without filling,
    then sells at market once the last price crosses it."""
    ex = venue.ex
    last = ex.fetch_ticker(SPOT).last
    assert last is not None
    amount = Decimal("0.001")

    def place(trigger: Decimal) -> Order:
        return ex.create_order(SPOT, "market", "sell", amount, trigger_price=trigger)

    if not offered(venue, "order.trigger", lambda: place(last - 100), market="spot"):
        return
    order = place(last - 100)
    assert (order.conditional, order.trigger_price, order.trigger_by) == (True, last - 100, "last")
    sells = lambda: [f for f in ex.fetch_my_trades(SPOT) if f.side == "sell"]  # noqa: E731
    before = sells()
    venue.emu.move_price(ENGINE_ID[0], category="spot", last=last - 50)  # not yet
    assert len(waiting(venue)) == 1
    assert sells() == before
    venue.emu.move_price(ENGINE_ID[0], category="spot", last=last - 200)
    assert waiting(venue) == []
    assert conditional(ex.fetch_open_orders(SPOT)) == []
    assert sum(f.amount for f in sells()) - sum(f.amount for f in before) == amount
    assert venue.emu.state.engine.audit() == []


def test_a_trigger_on_the_wrong_side_of_the_price_is_refused(venue: Venue) -> None:
    ex = venue.ex
    below = last_price(venue) - 100

    def place() -> Order:
        # A buy that triggers as the price rises, to a price already below it.
        return ex.create_order(LINEAR, "market", "buy", AMOUNT, trigger_price=below)

    if not offered(venue, "order.trigger", place):
        return
    placed = len(venue.orders_sent())
    with pytest.raises(InvalidOrder) as refused:
        place()
    assert str(refused.value.code) in ("110092", "-2021", "51052", "None")
    assert waiting(venue) == []
    assert len(venue.orders_sent()) == placed


def test_a_bracket_order_stop_loss_closes_the_position(venue: Venue) -> None:
    ex = venue.ex
    last = last_price(venue)

    def place() -> Order:
        return ex.create_order(
            LINEAR,
            "market",
            "buy",
            AMOUNT,
            stop_loss=last - 300,
            take_profit=StopSpec(last + 300),
        )

    if not offered(venue, "order.stop_loss", place):
        return
    entry = place()
    assert entry.stop_loss == StopSpec(last - 300)
    assert entry.take_profit == StopSpec(last + 300)
    assert position_size(venue) == AMOUNT
    stops = conditional(ex.fetch_open_orders(LINEAR))
    assert stop_prices(stops) == [last - 300, last + 300]
    assert stops and all(o.side == "sell" and o.reduce_only for o in stops)
    move(venue, last=last - 400)
    assert position_size(venue) == 0
    # The take-profit went with the position.
    assert conditional(ex.fetch_open_orders(LINEAR)) == []
    assert waiting(venue) == []
    assert venue.emu.state.engine.audit() == []


def test_set_trading_stop_guards_an_open_position(venue: Venue) -> None:
    ex = venue.ex
    ex.create_order(LINEAR, "market", "buy", AMOUNT)
    last = last_price(venue)

    def guard() -> TradingStop:
        return ex.set_trading_stop(LINEAR, stop_loss=last - 300, take_profit=last + 300)

    if not offered(venue, "position.trading_stop", guard):
        return
    stop = guard()
    assert (stop.symbol, stop.side) == (LINEAR, "long")
    assert (stop.stop_loss, stop.take_profit) == (StopSpec(last - 300), StopSpec(last + 300))
    assert stop_prices(ex.fetch_open_orders(LINEAR)) == [last - 300, last + 300]
    # Set again: the new take-profit replaces the old one, the stop-loss stays.
    ex.set_trading_stop(LINEAR, take_profit=last + 250)
    assert stop_prices(ex.fetch_open_orders(LINEAR)) == [last - 300, last + 250]
    move(venue, last=last + 400)
    assert position_size(venue) == 0
    assert conditional(ex.fetch_open_orders(LINEAR)) == []
    assert venue.emu.state.engine.audit() == []


def test_a_position_stop_cancels_like_any_order(venue: Venue) -> None:
    ex = venue.ex
    ex.create_order(LINEAR, "market", "sell", AMOUNT)
    last = last_price(venue)

    def guard() -> TradingStop:
        return ex.set_trading_stop(LINEAR, stop_loss=last + 300)

    if not offered(venue, "position.trading_stop", guard):
        return
    assert guard().side == "short"
    [stop] = conditional(ex.fetch_open_orders(LINEAR))
    assert stop.side == "buy" and stop_prices([stop]) == [last + 300]
    assert stop.id is not None
    assert ex.cancel_order(stop.id, LINEAR).status == "canceled"
    assert waiting(venue) == []
    move(venue, last=last + 400)
    assert position_size(venue) == AMOUNT


def test_set_trading_stop_without_a_position_is_an_invalid_order(venue: Venue) -> None:
    last = last_price(venue)

    def guard() -> TradingStop:
        return venue.ex.set_trading_stop(LINEAR, stop_loss=last - 300)

    if not offered(venue, "position.trading_stop", guard):
        return
    with pytest.raises(InvalidOrder):
        guard()
    assert waiting(venue) == []


def test_a_trailing_stop_order_follows_the_price_then_closes(venue: Venue) -> None:
    """Binance trails by a percentage, OKX by either, Bybit has no trailing order (it trails
    positions: next test)."""
    ex = venue.ex
    ex.create_order(LINEAR, "market", "buy", AMOUNT)
    last = last_price(venue)
    caps = ex.capabilities
    by_percent = caps.supports("order.trailing_percent", market="swap")

    def place() -> Order:
        if by_percent:
            return ex.create_trailing_stop(LINEAR, "sell", AMOUNT, trailing_percent=Decimal(1))
        return ex.create_trailing_stop(LINEAR, "sell", AMOUNT, trailing_amount=Decimal(500))

    if not by_percent and not offered(venue, "order.trailing_amount", place):
        return
    order = place()
    assert (order.status, order.conditional, order.reduce_only) == ("open", True, True)
    # No venue amends a trailing order (OKX's amend-algos excludes them, Binance amends no
    # algo order): refused, not "not found", and left as it was.
    with pytest.raises(NotSupported):
        ex.amend_order(order.id, LINEAR, amount=AMOUNT * 2)
    [listed] = conditional(ex.fetch_open_orders(LINEAR))
    assert (listed.id, listed.amount) == (order.id, AMOUNT)
    assert (listed.trailing_percent, listed.trailing_amount) in (
        (Decimal(1), None),
        (None, Decimal(500)),
    )
    high = last + 1000
    move(venue, last=high)  # the stop follows: 1 % (or 500) below the new high
    assert position_size(venue) == AMOUNT
    move(venue, last=(high * Decimal("0.99") - 100).quantize(Decimal("0.1")))
    assert position_size(venue) == 0
    assert conditional(ex.fetch_open_orders(LINEAR)) == []
    assert venue.emu.state.engine.audit() == []


def test_a_position_trailing_stop(venue: Venue) -> None:
    ex = venue.ex
    ex.create_order(LINEAR, "market", "buy", AMOUNT)
    last = last_price(venue)

    def guard() -> TradingStop:
        return ex.set_trading_stop(LINEAR, trailing_amount=Decimal(500))

    if not offered(venue, "position.trailing_stop", guard):
        return
    assert guard().trailing_amount == Decimal(500)
    assert len(conditional(ex.fetch_open_orders(LINEAR))) == 1
    move(venue, last=last + 1000)
    assert position_size(venue) == AMOUNT
    move(venue, last=last + 400)
    assert position_size(venue) == 0
    assert conditional(ex.fetch_open_orders(LINEAR)) == []


def test_mistakes_are_refused_before_sending(venue: Venue) -> None:
    ex = venue.ex
    before = requests(venue)

    def refused(key: str) -> type[Exception]:
        # An intent not offered is refused as such first.
        return InvalidOrder if ex.capabilities.supports(key, market="swap") else NotSupported

    with pytest.raises(refused("order.stop_loss")):
        ex.create_order(
            LINEAR, "market", "buy", AMOUNT, stop_loss=Decimal(70000), take_profit=Decimal(60000)
        )
    with pytest.raises(refused("position.trading_stop")):
        ex.set_trading_stop(LINEAR, stop_loss=StopSpec(Decimal(60000), Decimal(59000)))
    with pytest.raises(ValueError if ex.capabilities.supports("order.trigger") else NotSupported):
        ex.create_order(LINEAR, "market", "buy", AMOUNT, trigger_price=1, trigger_by="bid")  # type: ignore[arg-type]
    assert requests(venue) == before


async def test_the_async_client_places_and_cancels_a_trigger_order(venue: Venue) -> None:
    async with exchanges.connect_async(
        venue.name, base_url=venue.emu.base_url, credentials=CREDENTIALS
    ) as ex:
        last = (await ex.fetch_ticker(LINEAR)).last
        assert last is not None
        if not ex.capabilities.supports("order.trigger", market="swap"):
            with pytest.raises(NotSupported):
                await ex.create_order(LINEAR, "market", "sell", AMOUNT, trigger_price=last - 100)
            return
        order = await ex.create_order(LINEAR, "market", "sell", AMOUNT, trigger_price=last - 100)
        assert order.conditional
        [listed] = await ex.fetch_open_orders(LINEAR)
        assert (listed.id, listed.trigger_price) == (order.id, last - 100)
        assert order.id is not None
        assert (await ex.cancel_order(order.id, LINEAR)).status == "canceled"
    assert waiting(venue) == []
