"""Conditional orders on ``watch_orders``, the same on every venue that streams private orders.

Each exchange pushes them its own way: Bybit on the ``order`` topic (Untriggered, Triggered,
then the active order under the same id), Binance USD-M as ``ALGO_UPDATE`` on the listenKey
stream (NEW, TRIGGERING, TRIGGERED, FINISHED; the order it places has an id of its own), Binance
spot as ``executionReport`` like any spot order (a stop type, stop price ``P``), OKX on
``orders-algo`` and ``algo-advance`` of a logged-in ``/ws/v5/business`` connection (live,
effective, canceled). The stream says what ``fetch_order`` says: ``conditional``, the trigger
price, open while it waits, closed once it fired, canceled when cancelled. The emulators push
from their engines' triggers; the price moves through ``Emulator.move_price``. Where a venue
declares ``order.streamed`` not offered (the ccxt bridge has no streams), ``watch_orders``
refuses with ``NotSupported``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

import exchanges
from exchanges.errors import NotSupported
from exchanges.models import Order
from exchanges.stream import Stream, close_streams
from tests.conformance.conftest import CREDENTIALS, LINEAR, SPOT, Venue

pytestmark = pytest.mark.timeout(120)

T = TypeVar("T")
AMOUNT = Decimal("0.01")
WAIT = 15.0


async def until(stream: Stream[T], check: Callable[[T], bool]) -> T:
    async def scan() -> T:
        async for value in stream:
            if check(value):
                return value
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(scan(), WAIT)


def client(venue: Venue, symbol: str = LINEAR) -> exchanges.AsyncExchange:
    # Binance's private streams follow the wallet: USD-M's carry its conditional orders.
    wallet = {"wallet": "usdm"} if venue.name == "binance" and symbol == LINEAR else {}
    return exchanges.connect_async(
        venue.name, base_url=venue.emu.base_url, credentials=CREDENTIALS, **wallet
    )


@contextlib.asynccontextmanager
async def opened(venue: Venue, symbol: str = LINEAR) -> AsyncIterator[exchanges.AsyncExchange]:
    async with client(venue, symbol) as ex:
        try:
            yield ex
        finally:
            await close_streams(ex)


#: Symbol -> (its market kind, the engine's category, the amount of each order).
MARKETS = {
    LINEAR: ("swap", "linear", AMOUNT),
    SPOT: ("spot", "spot", Decimal("0.001")),
}


def move(venue: Venue, last: Decimal, symbol: str = LINEAR) -> None:
    venue.emu.move_price("BTCUSDT", category=MARKETS[symbol][1], last=last)


@pytest.mark.parametrize("symbol", [LINEAR, SPOT])
async def test_conditional_orders_stream_open_then_fired_or_cancelled(
    venue: Venue, symbol: str
) -> None:
    """The same on linear and spot: Binance spot streams its stops as executionReports of a stop
    type, under the same orderId before and after they fire."""
    market, _, amount = MARKETS[symbol]
    async with opened(venue, symbol) as ex:
        caps = ex.capabilities
        if not caps.supports("order.streamed", market=market):
            with pytest.raises(NotSupported, match="does not offer watch_orders"):
                await asyncio.wait_for(ex.watch_orders(symbol).__anext__(), WAIT)
            return
        if not caps.supports("order.trigger", market=market):
            with pytest.raises(NotSupported, match=r"does not offer order\.trigger"):
                await ex.create_order(symbol, "market", "buy", amount, trigger_price=Decimal(1))
            return
        async with ex.watch_orders(symbol) as orders:
            last = (await ex.fetch_ticker(symbol)).last
            assert last is not None
            trigger = last + 100
            placed = await ex.create_order(symbol, "market", "buy", amount, trigger_price=trigger)
            seen = await until(orders, lambda o: o.id == placed.id)
            assert (seen.conditional, seen.trigger_price, seen.status) == (True, trigger, "open")
            assert (seen.side, seen.amount, seen.symbol) == ("buy", amount, symbol)

            move(venue, trigger + 100, symbol)
            # It fires, and the order it placed fills: one event under the same id (Bybit,
            # Binance spot), or the conditional order's and its own order's (Binance USD-M, OKX).
            after: list[Order] = []

            def fired_and_filled(order: Order) -> bool:
                after.append(order)
                return any(o.id == placed.id and o.status != "open" for o in after) and any(
                    o.status == "closed" and o.filled == amount for o in after
                )

            await until(orders, fired_and_filled)
            fired = next(o for o in after if o.id == placed.id and o.status != "open")
            assert (fired.conditional, fired.trigger_price, fired.status) == (
                True,
                trigger,
                "closed",
            )
            filled = next(o for o in after if o.status == "closed" and o.filled == amount)
            assert (filled.side, filled.symbol) == ("buy", symbol)

            now = (await ex.fetch_ticker(symbol)).last
            assert now is not None
            stop = await ex.create_order(symbol, "market", "sell", amount, trigger_price=now - 500)
            waiting = await until(orders, lambda o: o.id == stop.id)
            assert (waiting.status, waiting.trigger_price) == ("open", now - 500)
            assert stop.id is not None
            await ex.cancel_order(stop.id, symbol)
            gone = await until(orders, lambda o: o.id == stop.id and o.status != "open")
            assert (gone.status, gone.conditional) == ("canceled", True)
        assert [o for o in await ex.fetch_open_orders(symbol) if o.conditional] == []


async def test_a_trailing_stop_streams_as_a_conditional_order(venue: Venue) -> None:
    async with opened(venue) as ex:
        caps = ex.capabilities
        if not (
            caps.supports("order.streamed", market="swap")
            and caps.supports("order.trailing_percent", market="swap")
        ):
            return  # Bybit has no trailing order; the bridge no streams (above)
        async with ex.watch_orders(LINEAR) as orders:
            await ex.create_order(LINEAR, "market", "buy", AMOUNT)
            trailing = await ex.create_trailing_stop(LINEAR, "sell", AMOUNT, trailing_percent=1)
            seen: Any = await until(orders, lambda o: o.id == trailing.id)
            assert isinstance(seen, Order)
            assert (seen.conditional, seen.status, seen.trailing_percent) == (True, "open", 1)
            assert trailing.id is not None
            await ex.cancel_order(trailing.id, LINEAR)
            gone = await until(orders, lambda o: o.id == trailing.id and o.status != "open")
            assert gone.status == "canceled"
