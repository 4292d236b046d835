"""What each ``AsyncExchange.watch_*`` method subscribes to, after its arguments are checked.

Each function returns a ``Stream`` at once; the market lookups (REST, cached) and the
subscription happen when the stream starts, so ``watch_*`` itself never blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import Select
from exchanges.stream.manager import Stream, streams_of

if TYPE_CHECKING:
    from exchanges.async_client import AsyncExchange
    from exchanges.models import Balances, Candle, Fill, Order, OrderBook, Position, Ticker, Trade
    from exchanges.symbols import Symbol

__all__ = [
    "watch_balance",
    "watch_my_trades",
    "watch_ohlcv",
    "watch_order_book",
    "watch_orders",
    "watch_positions",
    "watch_ticker",
    "watch_trades",
]

Resolved = tuple[FeedSpec, Select | None, int | None]


def watch_ticker(client: AsyncExchange, symbol: Symbol) -> Stream[Ticker]:
    """See ``AsyncExchange.watch_ticker``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        market = await client.market(str(symbol))
        return manager.dialect.ticker(market), None, None

    return manager.stream(open, f"ticker {symbol}")


def watch_order_book(client: AsyncExchange, symbol: Symbol, limit: int) -> Stream[OrderBook]:
    """See ``AsyncExchange.watch_order_book``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        market = await client.market(str(symbol))
        return manager.dialect.order_book(market, limit), None, limit

    return manager.stream(open, f"order book {symbol}")


def watch_trades(client: AsyncExchange, symbol: Symbol) -> Stream[Trade]:
    """See ``AsyncExchange.watch_trades``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        market = await client.market(str(symbol))
        name = market.symbol

        def select(trade: Any) -> Any:
            # Some topics carry several markets (Bybit option trades are per base coin).
            return trade if trade.symbol == name else None

        return manager.dialect.trades(market), select, None

    return manager.stream(open, f"trades {symbol}")


def watch_ohlcv(client: AsyncExchange, symbol: Symbol, timeframe: str) -> Stream[Candle]:
    """See ``AsyncExchange.watch_ohlcv``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        market = await client.market(str(symbol))
        return manager.dialect.ohlcv(market, timeframe), None, None

    return manager.stream(open, f"ohlcv {symbol} {timeframe}")


async def _private(client: AsyncExchange, what: str) -> None:
    streams_of(client).credentials(what)
    # Private messages name markets natively: every market must be known to name them.
    await client.load_markets()


def _by_symbol(symbol: Symbol | None) -> Select | None:
    if symbol is None:
        return None
    name = str(symbol)
    return lambda item: item if item.symbol == name else None


def watch_orders(client: AsyncExchange, symbol: Symbol | None) -> Stream[Order]:
    """See ``AsyncExchange.watch_orders``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        await _private(client, "watch_orders")
        if symbol is not None:
            await client.market(str(symbol))
        return manager.dialect.orders(), _by_symbol(symbol), None

    return manager.stream(open, "orders")


def watch_my_trades(client: AsyncExchange, symbol: Symbol | None) -> Stream[Fill]:
    """See ``AsyncExchange.watch_my_trades``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        await _private(client, "watch_my_trades")
        if symbol is not None:
            await client.market(str(symbol))
        return manager.dialect.my_trades(), _by_symbol(symbol), None

    return manager.stream(open, "my trades")


def watch_positions(
    client: AsyncExchange, symbols: Sequence[Symbol] | None
) -> Stream[list[Position]]:
    """See ``AsyncExchange.watch_positions``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        await _private(client, "watch_positions")
        select: Select | None = None
        if symbols is not None:
            wanted = {(await client.market(str(s))).symbol for s in symbols}

            def select(positions: list[Position]) -> list[Position]:
                return [p for p in positions if p.symbol in wanted]

        return manager.dialect.positions(), select, None

    return manager.stream(open, "positions")


def watch_balance(client: AsyncExchange) -> Stream[Balances]:
    """See ``AsyncExchange.watch_balance``."""
    manager = streams_of(client)

    async def open() -> Resolved:
        await _private(client, "watch_balance")
        return manager.dialect.balance(), None, None

    return manager.stream(open, "balance")
