"""``AsyncExchange``: the asyncio client; the same flows as ``Exchange``, driven by asyncio."""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any, TypeVar

from exchanges import arguments as args
from exchanges import batch_arguments
from exchanges.adapter import Adapter
from exchanges.batch_items import BatchResult, OrderRequest
from exchanges.capabilities import intent_keys, order_keys, trailing_keys
from exchanges.client import _audit_key, _Client, _fleet_of, _optional_symbol, _symbols, _timeframe
from exchanges.drivers import run_async
from exchanges.effects import Flow
from exchanges.flow import Session
from exchanges.models import (
    Balances,
    Candle,
    Fill,
    FundingRate,
    FundingRecord,
    KeyAudit,
    KeyInfo,
    LeverageSetting,
    MarginModeSetting,
    Market,
    Order,
    OrderBook,
    Position,
    PositionModeSetting,
    StopSpec,
    Ticker,
    Trade,
    TradingFee,
    TradingStop,
    TriggerBy,
    TriggerDirection,
)
from exchanges.transport.base import AsyncTransport
from exchanges.wire import Role

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping, Sequence
    from decimal import Decimal

    from exchanges.fleet.ledger import Resolution
    from exchanges.stream.manager import Stream


__all__ = ["AsyncExchange"]

T = TypeVar("T")


class AsyncExchange(_Client):
    """A connected exchange with coroutine methods; use ``async with`` or ``await close()``."""

    def __init__(self, adapter: Adapter, session: Session, transport: AsyncTransport) -> None:
        super().__init__(adapter, session)
        self.transport = transport

    def _run(self, flow: Flow[T]) -> Coroutine[Any, Any, T]:
        # The driver's coroutine itself, not one more awaiting it: a layer less per call.
        return run_async(self.session.execute(flow), self.transport)

    async def __aenter__(self) -> AsyncExchange:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """End every stream and close the connections; later calls raise ``ClientClosed``."""
        self.session.closed = True
        streams = sys.modules.get("exchanges.stream.manager")
        if streams is not None:  # a client that never streamed does not import the stream code
            await streams.close_streams(self)
        await self.transport.close()
        fleet = self.session.fleet
        if fleet is not None:
            flush = fleet.flush()
            if flush is not None:
                await flush.run_async()  # best effort: what Redis does not take, reconcile settles
            await fleet.link.aclose()

    def __del__(self) -> None:
        session = getattr(self, "session", None)
        if session is None or session.closed:
            return
        # Dropped while open: aiohttp would only say "Unclosed client session". Say what to do,
        # and release what can be released without the event loop.
        warnings.warn(
            f"{self!r} was dropped without being closed: use `async with "
            "exchanges.connect_async(...) as ex:` or `await ex.close()` when done",
            ResourceWarning,
            source=self,
            stacklevel=2,
        )
        abandon = getattr(self.transport, "abandon", None)
        if abandon is not None:
            abandon()

    async def fetch_time(self) -> int:
        """The exchange's time, ms since the epoch."""
        return await self._run(self.adapter.fetch_time())

    async def load_markets(self, reload: bool = False) -> dict[str, Market]:
        """Every market by unified symbol, loaded once and cached."""
        return await self._run(self.adapter.load_markets(reload))

    async def fetch_markets(self) -> list[Market]:
        """Every market, fetched now."""
        return await self._run(self.adapter.fetch_markets())

    async def market(self, symbol: str) -> Market:
        """One market, loading its group of markets on first use."""
        return await self._run(self.adapter.market(args.check_symbol(symbol)))

    async def fetch_ticker(self, symbol: str) -> Ticker:
        """The ticker of one market."""
        return await self._run(self.adapter.fetch_ticker(args.check_symbol(symbol)))

    async def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Tickers by symbol (all markets of the symbols' kinds; every spot market if None)."""
        return await self._run(self.adapter.fetch_tickers(_symbols(symbols)))

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """The order book, best levels first."""
        return await self._run(
            self.adapter.fetch_order_book(args.check_symbol(symbol), args.check_limit(limit))
        )

    async def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """Recent public trades, oldest first."""
        return await self._run(
            self.adapter.fetch_trades(args.check_symbol(symbol), args.check_limit(limit))
        )

    async def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Candles, oldest first."""
        return await self._run(
            self.adapter.fetch_ohlcv(
                args.check_symbol(symbol),
                _timeframe(timeframe),
                args.check_since(since),
                args.check_limit(limit),
            )
        )

    async def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """A perpetual swap's funding rate for its next settlement (NotSupported elsewhere)."""
        return await self._run(self.adapter.fetch_funding_rate(args.check_symbol(symbol)))

    async def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRecord]:
        """Settled funding rates, oldest first: the first ``limit`` from ``since``, else the
        latest ``limit`` (100 when None)."""
        return await self._run(
            self.adapter.fetch_funding_rate_history(
                args.check_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    async def fetch_balance(self, market_type: str | None = None) -> Balances:
        """Balances by currency: of the wallet that pays for ``market_type``'s markets."""
        return await self._run(self.adapter.fetch_balance(args.check_market_type(market_type)))

    async def fetch_trading_fee(self, symbol: str) -> TradingFee:
        """The account's maker and taker fee rates for one market."""
        return await self._run(self.adapter.fetch_trading_fee(args.check_symbol(symbol)))

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: Any,
        price: Any = None,
        *,
        client_order_id: str | None = None,
        time_in_force: str | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        params: dict[str, Any] | None = None,
        trigger_price: Any = None,
        trigger_by: TriggerBy | None = None,
        trigger_direction: TriggerDirection | None = None,
        stop_loss: StopSpec | Decimal | None = None,
        take_profit: StopSpec | Decimal | None = None,
        good_till: int | None = None,
    ) -> Order:
        """Place an order exactly once (a client order id is generated when not given).

        ``time_in_force``: ``"GTC"`` (the default for limit orders), ``"IOC"`` (what does not
        fill at once is cancelled: status ``canceled``), ``"FOK"`` (fills in full at once or is
        refused, ``OrderNotFillable``), ``"PO"`` (as ``post_only=True``: an order that would
        take is refused, ``OrderImmediatelyFillable``) or ``"GTD"`` with ``good_till`` (ms since
        the epoch; Binance USD-M only). A ``reduce_only`` order that would open or increase a
        position is refused with ``InvalidOrder`` and places nothing, on every exchange.

        ``trigger_price`` makes it a conditional order, placed when the ``trigger_by`` price
        (``"last"`` by default, ``"mark"`` or ``"index"`` where the exchange has them) reaches
        it moving in ``trigger_direction`` (by default a buy as the price rises to it, a sell as
        it falls to it); until then it is listed by ``fetch_open_orders`` with
        ``conditional=True`` and cancelled by ``cancel_order`` like any order. ``stop_loss`` and
        ``take_profit`` (a price, or a ``StopSpec`` with a limit price or another
        ``trigger_by``) guard the position the order opens. Where the exchange lacks one of
        these, ``NotSupported`` says why before anything is sent.
        """
        self._offers(*order_keys(type, time_in_force, post_only))
        self._offers(
            *intent_keys(
                trigger_price, trigger_by, ("stop_loss", stop_loss), ("take_profit", take_profit)
            ),
            symbol=symbol,
        )
        order = args.order_args(
            symbol,
            type,
            side,
            amount,
            price,
            client_order_id=client_order_id,
            time_in_force=time_in_force,
            post_only=post_only,
            reduce_only=reduce_only,
            params=params,
            reserved=self.adapter.reserved_order_params,
            client_id_params=self.adapter.client_id_params,
            trigger_price=trigger_price,
            trigger_by=trigger_by,
            trigger_direction=trigger_direction,
            stop_loss=stop_loss,
            take_profit=take_profit,
            good_till=good_till,
        )
        fleet = self.session.fleet
        if fleet is not None:
            return await run_async(
                fleet.place(self.session, self.adapter.place(order), order), self.transport
            )
        return await self._run(self.adapter.place(order))

    async def create_orders(
        self, orders: Sequence[OrderRequest | Mapping[str, Any]]
    ) -> BatchResult:
        """Place several orders, in one request where the exchange batches (``exchanges.batch``).

        Each order is an ``OrderRequest`` (or a dict of its fields, as ccxt's ``create_orders``
        takes): ``create_order``'s arguments for a limit or market order. The result has one
        item per order, in the order given, with its ``order`` or its ``error`` (the class
        ``create_order`` would raise for it alone); nothing is raised for a failed item
        (``result.raise_first()`` does). Orders beyond the exchange's batch size (Bybit 20, 10
        on spot; Binance USD-M 5; OKX 20) go in further requests. Each order is placed at most
        once, settled by its client order id when a request's outcome is unknown.
        ``NotSupported`` (nothing sent) where the exchange has no batch for a market type.
        """
        items = batch_arguments.checked_orders(self, orders)
        if not items:
            return BatchResult(())
        return await self._run(self.adapter.create_orders(items))

    async def cancel_orders(self, ids: Sequence[str], symbol: str) -> BatchResult:
        """Cancel several orders of one market, in one request where the exchange batches.

        One item per id, in the order given: the cancelled ``order``, or the ``error`` (an id
        the exchange does not know, or an order already filled or cancelled, is
        ``OrderNotFound``). Ids beyond the exchange's batch size go in further requests.
        """
        order_ids = batch_arguments.checked_ids(ids)
        self._offers("cancel_orders", symbol=symbol)
        return await self._run(self.adapter.cancel_orders(args.check_symbol(symbol), order_ids))

    async def amend_order(
        self,
        id: str | None,
        symbol: str,
        *,
        amount: Any = None,
        price: Any = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Change an open order's amount and/or price."""
        return await self._run(
            self.adapter.amend(args.amend_args(id, symbol, amount, price, client_order_id))
        )

    async def cancel_order(
        self, id: str | None, symbol: str, *, client_order_id: str | None = None
    ) -> Order:
        """Cancel an order by id or client order id."""
        return await self._run(self.adapter.cancel(args.order_ref(id, symbol, client_order_id)))

    async def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of one market, or everywhere)."""
        return await self._run(self.adapter.cancel_all(_optional_symbol(symbol)))

    async def fetch_order(
        self, id: str | None, symbol: str, *, client_order_id: str | None = None
    ) -> Order:
        """One order, open or closed, by id or client order id."""
        return await self._run(
            self.adapter.fetch_order(args.order_ref(id, symbol, client_order_id))
        )

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders (of one market, or everywhere)."""
        return await self._run(self.adapter.fetch_open_orders(_optional_symbol(symbol)))

    async def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        """Closed orders, newest first."""
        return await self._run(
            self.adapter.fetch_closed_orders(
                _optional_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    async def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        """The account's fills, newest first."""
        return await self._run(
            self.adapter.fetch_my_trades(
                _optional_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    async def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Open derivatives positions."""
        return await self._run(self.adapter.fetch_positions(_symbols(symbols)))

    async def set_leverage(self, leverage: Decimal | int, symbol: str) -> LeverageSetting:
        """Set ``symbol``'s leverage (see ``Exchange.set_leverage``)."""
        return await self._run(
            self.adapter.set_leverage(args.check_leverage(leverage), args.check_symbol(symbol))
        )

    async def set_margin_mode(self, margin_mode: str, symbol: str) -> MarginModeSetting:
        """Trade ``symbol`` under cross or isolated margin (see ``Exchange.set_margin_mode``)."""
        return await self._run(
            self.adapter.set_margin_mode(
                args.check_margin_mode(margin_mode), args.check_symbol(symbol)
            )
        )

    async def set_position_mode(
        self, hedged: bool, symbol: str | None = None
    ) -> PositionModeSetting:
        """Hedge or one-way mode (see ``Exchange.set_position_mode``)."""
        return await self._run(
            self.adapter.set_position_mode(
                args.check_hedged(hedged), None if symbol is None else args.check_symbol(symbol)
            )
        )

    async def create_trailing_stop(
        self,
        symbol: str,
        side: str,
        amount: Any,
        *,
        trailing_percent: Decimal | None = None,
        trailing_amount: Decimal | None = None,
        activation_price: Decimal | None = None,
        reduce_only: bool = True,
        client_order_id: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Order:
        """A trailing stop: a market order placed when the price comes back from its best
        since placement (since ``activation_price``, when given) by ``trailing_percent`` (a
        percentage of the price) or ``trailing_amount`` (a price distance).

        Each exchange trails in its own unit, so only its own is offered: Binance USD-M a
        percentage (``callbackRate``, 0.1-20), OKX either (``move_order_stop``), Bybit none on
        orders (it trails a position: ``set_trading_stop(trailing_amount=...)``). It is listed
        by ``fetch_open_orders`` and cancelled by ``cancel_order`` like any conditional order.
        """
        self._offers(*trailing_keys(trailing_percent, trailing_amount), symbol=symbol)
        order = args.trailing_args(
            args.order_args(
                symbol,
                "market",
                side,
                amount,
                client_order_id=client_order_id,
                reduce_only=reduce_only,
                params=params,
                reserved=self.adapter.reserved_order_params,
                client_id_params=self.adapter.client_id_params,
            ),
            trailing_percent,
            trailing_amount,
            activation_price,
        )
        fleet = self.session.fleet
        if fleet is not None:
            placing = fleet.place(self.session, self.adapter.place(order), order)
            return await run_async(placing, self.transport)
        return await self._run(self.adapter.place(order))

    async def set_trading_stop(
        self,
        symbol: str,
        *,
        stop_loss: StopSpec | Decimal | None = None,
        take_profit: StopSpec | Decimal | None = None,
        trailing_amount: Decimal | None = None,
        activation_price: Decimal | None = None,
        side: str | None = None,
    ) -> TradingStop:
        """Guard ``symbol``'s open position with a stop-loss, a take-profit and/or a trailing
        stop (``trailing_amount``, a price distance, from ``activation_price`` when given).

        They close the whole position at market when triggered and are cancelled when it
        closes; each shows in ``fetch_open_orders`` as a conditional order and is removed with
        ``cancel_order``. Setting one again replaces the previous one. ``side`` picks the
        position in hedge mode (``"long"``/``"short"``). Bybit sets them with
        ``/v5/position/trading-stop``; Binance and OKX with conditional orders that close the
        position (``closePosition``, ``closeFraction``). No position: ``InvalidOrder``.
        """
        self._offers("position.trading_stop", symbol=symbol)
        stop = args.trading_stop_args(
            symbol, stop_loss, take_profit, trailing_amount, activation_price, side
        )
        if stop.trailing_amount is not None:
            self._offers("position.trailing_stop", symbol=symbol)
        return await self._run(self.adapter.set_trading_stop(stop))

    async def fetch_key_info(self) -> KeyInfo:
        """What the (read) key may do."""
        return await self._run(self.adapter.fetch_key_info("read"))

    async def audit_key(self, role: Role = "read") -> KeyAudit:
        """Audit the read key (or the trade key with ``role="trade"``)."""
        return await self._run(_audit_key(self.session, role))

    async def reconcile_in_doubt(self, *, wait: bool = True) -> list[Resolution]:
        """Settle the fleet's orders in doubt for this account (see ``Exchange``'s)."""
        fleet = _fleet_of(self.session)
        return await run_async(fleet.reconcile(self.session, wait=wait), self.transport)

    # -- WebSocket streams: each returns a ``Stream`` (``async with`` it, or ``aclose()``) ---
    # Latest-value streams (ticker, book, candles, positions, balance) conflate: a slow
    # consumer skips to the newest value. Event streams (trades, orders, fills) yield one
    # model per event and buffer up to ws_max_buffer, then raise StreamOverflow.

    def watch_ticker(self, symbol: str) -> Stream[Ticker]:
        """Ticker updates of one market (latest value)."""
        self._offers("watch_ticker", symbol=symbol)
        from exchanges.stream import watch

        return watch.watch_ticker(self, args.check_symbol(symbol))

    def watch_order_book(self, symbol: str, limit: int = 50) -> Stream[OrderBook]:
        """The order book, ``limit`` levels a side, kept from snapshot and deltas (latest value)."""
        self._offers("watch_order_book", symbol=symbol)
        from exchanges.stream import watch

        depth = args.check_limit(limit)
        assert depth is not None
        return watch.watch_order_book(self, args.check_symbol(symbol), depth)

    def watch_trades(self, symbol: str) -> Stream[Trade]:
        """Public trades, one ``Trade`` per iteration, oldest first (buffered events)."""
        self._offers("watch_trades", symbol=symbol)
        from exchanges.stream import watch

        return watch.watch_trades(self, args.check_symbol(symbol))

    def watch_ohlcv(self, symbol: str, timeframe: str = "1m") -> Stream[Candle]:
        """The forming candle after each update (latest value per candle start)."""
        self._offers("watch_ohlcv", symbol=symbol)
        from exchanges.stream import watch

        return watch.watch_ohlcv(self, args.check_symbol(symbol), _timeframe(timeframe))

    def watch_orders(self, symbol: str | None = None) -> Stream[Order]:
        """The account's order updates, one ``Order`` per change (buffered events)."""
        self._offers("watch_orders")
        from exchanges.stream import watch

        return watch.watch_orders(self, _optional_symbol(symbol))

    def watch_my_trades(self, symbol: str | None = None) -> Stream[Fill]:
        """The account's fills, one ``Fill`` per execution (buffered events)."""
        self._offers("watch_my_trades")
        from exchanges.stream import watch

        return watch.watch_my_trades(self, _optional_symbol(symbol))

    def watch_positions(self, symbols: list[str] | None = None) -> Stream[list[Position]]:
        """Every open position after each change, starting from REST (latest value)."""
        self._offers("watch_positions")
        from exchanges.stream import watch

        return watch.watch_positions(self, _symbols(symbols))

    def watch_balance(self) -> Stream[Balances]:
        """The balances after each change, starting from REST (latest value)."""
        self._offers("watch_balance")
        from exchanges.stream import watch

        return watch.watch_balance(self)
