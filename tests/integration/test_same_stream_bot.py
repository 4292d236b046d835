"""One stream-driven bot (book in, order out, fill in) runs unchanged on every exchange's emulator.

Only the exchange's name changes: the bot reads the book from ``watch_order_book``, sends a
market order over REST, and learns of its fill and its end from ``watch_my_trades`` and
``watch_orders``; the book it then sees must be REST's. An exchange whose streams are not in
this version is skipped (``NotSupported``), not failed. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.errors import NotSupported
from exchanges.stream import Stream, close_streams

pytestmark = pytest.mark.timeout(90)

T = TypeVar("T")
WAIT = 15.0
CREDENTIALS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")
SYMBOL = "BTC/USDT"


async def until(stream: Stream[T], check: Callable[[T], bool]) -> T:
    async def scan() -> T:
        async for value in stream:
            if check(value):
                return value
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(scan(), WAIT)


async def bot(ex: exchanges.AsyncExchange) -> dict[str, Any]:
    """Written against the unified interface only."""
    market = await ex.market(SYMBOL)
    amount = max(market.min_amount or Decimal(0), Decimal("0.001"))
    async with (
        ex.watch_order_book(SYMBOL, limit=5) as books,
        ex.watch_orders(SYMBOL) as orders,
        ex.watch_my_trades(SYMBOL) as fills,
    ):
        book = await asyncio.wait_for(books.__anext__(), WAIT)  # book in
        placed = await ex.create_order(SYMBOL, "market", "buy", amount)  # order out
        fill = await until(fills, lambda f: f.order_id == placed.id)  # fill in
        done = await until(orders, lambda o: o.id == placed.id and o.status == "closed")

        async def current() -> Any:
            while True:
                seen = await asyncio.wait_for(books.__anext__(), WAIT)
                rest = await ex.fetch_order_book(SYMBOL, 5)
                if (seen.bids, seen.asks) == (rest.bids, rest.asks):
                    return seen

        after = await asyncio.wait_for(current(), WAIT)
    return {
        "spread_ok": book.bids[0][0] < book.asks[0][0] and after.bids[0][0] < after.asks[0][0],
        "fill_at_best_ask": fill.price == book.asks[0][0],
        "filled": (fill.amount, done.filled) == (amount, amount),
        "side": fill.side,
        "decimal": all(isinstance(v, Decimal) for v in (fill.price, fill.amount, done.filled)),
    }


@pytest.mark.parametrize("name", ["bybit", "binance", "okx"])
async def test_the_same_stream_bot_on_every_exchange(name: str) -> None:
    with Emulator(name, seed=7) as emu:
        async with exchanges.connect_async(
            name, base_url=emu.base_url, credentials=CREDENTIALS
        ) as ex:
            try:
                result = await bot(ex)
            except NotSupported as err:
                pytest.skip(f"{name} streams are not in this version: {err}")
            finally:
                await close_streams(ex)
    assert result == {
        "spread_ok": True,
        "fill_at_best_ask": True,
        "filled": True,
        "side": "buy",
        "decimal": True,
    }
