"""``AsyncExchange.create_orders`` and ``cancel_orders``: the same flow as the blocking client's,
driven by asyncio (a native adapter and the ccxt bridge over ``ccxt.async_support``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

import exchanges
from exchanges import OrderRequest
from exchanges.emulator import Emulator
from exchanges.errors import InvalidOrder, OrderNotFound
from tests.conformance.conftest import CREDENTIALS, LINEAR


@pytest.mark.parametrize(("name", "exchange"), [("okx", "okx"), ("ccxt:bybit", "bybit")])
async def test_async_batches(name: str, exchange: str) -> None:
    with Emulator(exchange, seed=11) as emu:
        async with exchanges.connect_async(
            name, base_url=emu.base_url, credentials=CREDENTIALS
        ) as ex:
            bid = (await ex.fetch_order_book(LINEAR, 5)).bids[0][0]
            price = (await ex.market(LINEAR)).round_price(bid * Decimal("0.9"))
            result = await ex.create_orders(
                [
                    OrderRequest(LINEAR, "limit", "buy", Decimal("0.01"), price),
                    OrderRequest(LINEAR, "market", "sell", Decimal("0.01"), reduce_only=True),
                    {"symbol": LINEAR, "type": "limit", "side": "buy", "amount": "0.01",
                     "price": price},
                ]
            )  # fmt: skip
            assert [item.ok for item in result] == [True, False, True]
            assert isinstance(result[1].error, InvalidOrder)
            ids = [order.id for order in result.orders]
            assert None not in ids
            cancelled = await ex.cancel_orders([*ids, "987654321"], LINEAR)  # type: ignore[list-item]
            assert [item.ok for item in cancelled] == [True, True, False]
            assert isinstance(cancelled[2].error, OrderNotFound)
            assert await ex.fetch_open_orders(LINEAR) == []
