"""The same bot code trades on every exchange's emulator with only the exchange name changed."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest

import exchanges
from exchanges.emulator import Emulator

EXCHANGES = ["bybit", "binance", "okx"]
CREDENTIALS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")


def bot(ex: exchanges.Exchange) -> dict[str, Any]:
    """A small market-making-then-taking bot written against the unified interface only."""
    symbol = "BTC/USDT"
    market = ex.market(symbol)
    ticker = ex.fetch_ticker(symbol)
    book = ex.fetch_order_book(symbol, 5)
    assert book.bids[0][0] < book.asks[0][0]
    before = ex.fetch_balance()
    price = market.round_price(ticker.bid * Decimal("0.9"), ROUND_DOWN)
    amount = max(market.min_amount or Decimal(0), Decimal("0.001"))
    resting = ex.create_order(symbol, "limit", "buy", amount, price, post_only=True,
                              client_order_id="samebotrest1")  # fmt: skip
    open_orders = ex.fetch_open_orders(symbol)
    cancelled = ex.cancel_order(resting.id, symbol)
    taken = ex.create_order(symbol, "market", "buy", amount, client_order_id="samebottake1")
    fills = ex.fetch_my_trades(symbol)
    after = ex.fetch_balance()
    return {
        "open_ids": [o.client_order_id for o in open_orders],
        "cancelled": ex.fetch_order(cancelled.id or resting.id, symbol).status,
        "taken": ex.fetch_order(taken.id, symbol).status,
        "filled": sum(f.amount for f in fills if f.order_id == taken.id),
        "base_gained": after["BTC"].total > before["BTC"].total,
        "quote_spent": after["USDT"].total < before["USDT"].total,
        "amount": amount,
    }


@pytest.mark.parametrize("name", EXCHANGES)
def test_same_bot_on_every_emulator(name: str) -> None:
    with Emulator(name, seed=5) as emu:
        with exchanges.connect(name, base_url=emu.base_url, credentials=CREDENTIALS) as ex:
            result = bot(ex)
        ledger = [o["client_order_id"] for o in emu.ledger()]
    assert result["open_ids"] == ["samebotrest1"]
    assert result["cancelled"] == "canceled"
    assert result["taken"] == "closed"
    assert result["filled"] == result["amount"]
    assert result["base_gained"] and result["quote_spent"]
    assert [cid for cid in ledger if cid.startswith("samebot")] == [
        "samebotrest1",
        "samebottake1",
    ]
