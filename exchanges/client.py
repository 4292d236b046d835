"""``Exchange``: the blocking client, and what it shares with ``AsyncExchange``.

Both clients validate arguments once (``arguments.py``), ask the adapter for the operation's
flow and drive it: ``Exchange`` with blocking I/O, ``AsyncExchange`` (``async_client.py``)
with asyncio. Nothing else differs between them. ``connect`` lives in ``connect.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from exchanges import arguments as args
from exchanges import batch_arguments
from exchanges.adapter import Adapter
from exchanges.audit import audit_key_info
from exchanges.batch_items import BatchResult, OrderRequest
from exchanges.capabilities import (
    Capabilities,
    intent_keys,
    market_type,
    order_keys,
    trailing_keys,
)
from exchanges.drivers import run_sync
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
from exchanges.transport.base import Transport
from exchanges.wire import Role

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from decimal import Decimal

    from exchanges.fleet.fleet import Fleet
    from exchanges.fleet.ledger import Resolution

__all__ = ["Exchange"]

T = TypeVar("T")


def _audit_key(session: Session, role: Role) -> Flow[KeyAudit]:
    info = yield from session.adapter.fetch_key_info(role)
    credentials = session.credentials
    if role == "trade" and session.trade_credentials is not None:
        credentials = session.trade_credentials
    masked = credentials.masked_key if credentials is not None else "?"
    return audit_key_info(session.adapter.name, masked, info, session.clock.now_ms())


def _symbols(symbols: Any) -> list[Any] | None:
    if symbols is None:
        return None
    if isinstance(symbols, str):
        raise TypeError("symbols must be a list of symbols, not one str")
    return [args.check_symbol(s) for s in symbols]


def _optional_symbol(symbol: Any) -> Any:
    return None if symbol is None else args.check_symbol(symbol)


def _timeframe(timeframe: Any) -> str:
    if not isinstance(timeframe, str):
        raise TypeError(f"timeframe must be a str like '1m', not {type(timeframe).__name__}")
    return timeframe


class _Client:
    """What both clients share: the adapter and the session."""

    def __init__(self, adapter: Adapter, session: Session) -> None:
        self.adapter = adapter
        self.session = session

    @property
    def name(self) -> str:
        """The exchange's name."""
        return self.adapter.name

    @property
    def env(self) -> str:
        """The environment: ``mainnet``, ``testnet`` or ``demo``."""
        return self.adapter.env

    @property
    def markets(self) -> dict[str, Market]:
        """The markets loaded so far, by unified symbol."""
        return self.adapter.markets

    @property
    def capabilities(self) -> Capabilities:
        """What this exchange offers, and why not where it does not (``exchanges.capabilities``)."""
        return self.adapter.capabilities

    def _offers(self, *keys: str, symbol: Any = None) -> None:
        """``NotSupported`` before anything is sent or started for a key declared not offered."""
        market = None if symbol is None else market_type(args.check_symbol(symbol))
        for key in keys:
            self.adapter.capabilities.require(key, market=market, env=self.adapter.env)

    def __repr__(self) -> str:
        key = self.session.credentials
        who = f" key={key.masked_key}" if key is not None else ""
        where = self.adapter.base_url_override
        at = f" base_url={where}" if where else ""
        return f"<{type(self).__name__} {self.name} env={self.env}{at}{who}>"


class Exchange(_Client):
    """A connected exchange with blocking methods; use as a context manager or call ``close()``."""

    def __init__(self, adapter: Adapter, session: Session, transport: Transport) -> None:
        super().__init__(adapter, session)
        self.transport = transport

    def _run(self, flow: Flow[T]) -> T:
        return run_sync(self.session.execute(flow), self.transport)

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections; a call made later raises ``ClientClosed``."""
        self.session.closed = True
        self.transport.close()
        fleet = self.session.fleet
        if fleet is not None:
            flush = fleet.flush()
            if flush is not None:
                flush.run()  # best effort: what Redis does not take, reconcile settles
            fleet.link.close()

    def fetch_time(self) -> int:
        """The exchange's time, ms since the epoch."""
        return self._run(self.adapter.fetch_time())

    def load_markets(self, reload: bool = False) -> dict[str, Market]:
        """Every market by unified symbol, loaded once and cached."""
        return self._run(self.adapter.load_markets(reload))

    def fetch_markets(self) -> list[Market]:
        """Every market, fetched now."""
        return self._run(self.adapter.fetch_markets())

    def market(self, symbol: str) -> Market:
        """One market, loading its group of markets on first use."""
        return self._run(self.adapter.market(args.check_symbol(symbol)))

    def fetch_ticker(self, symbol: str) -> Ticker:
        """The ticker of one market."""
        return self._run(self.adapter.fetch_ticker(args.check_symbol(symbol)))

    def fetch_tickers(self, symbols: list[str] | None = None) -> dict[str, Ticker]:
        """Tickers by symbol (all markets of the symbols' kinds; every spot market if None)."""
        return self._run(self.adapter.fetch_tickers(_symbols(symbols)))

    def fetch_order_book(self, symbol: str, limit: int | None = None) -> OrderBook:
        """The order book, best levels first."""
        return self._run(
            self.adapter.fetch_order_book(args.check_symbol(symbol), args.check_limit(limit))
        )

    def fetch_trades(self, symbol: str, limit: int | None = None) -> list[Trade]:
        """Recent public trades, oldest first."""
        return self._run(
            self.adapter.fetch_trades(args.check_symbol(symbol), args.check_limit(limit))
        )

    def fetch_ohlcv(
        self, symbol: str, timeframe: str = "1m", since: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Candles, oldest first."""
        return self._run(
            self.adapter.fetch_ohlcv(
                args.check_symbol(symbol),
                _timeframe(timeframe),
                args.check_since(since),
                args.check_limit(limit),
            )
        )

    def fetch_funding_rate(self, symbol: str) -> FundingRate:
        """A perpetual swap's funding rate for its next settlement (NotSupported elsewhere)."""
        return self._run(self.adapter.fetch_funding_rate(args.check_symbol(symbol)))

    def fetch_funding_rate_history(
        self, symbol: str, since: int | None = None, limit: int | None = None
    ) -> list[FundingRecord]:
        """Settled funding rates, oldest first: the first ``limit`` from ``since``, else the
        latest ``limit`` (100 when None)."""
        return self._run(
            self.adapter.fetch_funding_rate_history(
                args.check_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    def fetch_balance(self, market_type: str | None = None) -> Balances:
        """Balances by currency: of the wallet that pays for ``market_type``'s markets.

        ``None`` is the exchange's default wallet; where one account backs every market type
        (Bybit's unified account, OKX's trading account) every type reads the same wallet.
        """
        return self._run(self.adapter.fetch_balance(args.check_market_type(market_type)))

    def fetch_trading_fee(self, symbol: str) -> TradingFee:
        """The account's maker and taker fee rates for one market."""
        return self._run(self.adapter.fetch_trading_fee(args.check_symbol(symbol)))

    def create_order(
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
            placing = fleet.place(self.session, self.adapter.place(order), order)
            return run_sync(placing, self.transport)
        return self._run(self.adapter.place(order))

    def create_orders(self, orders: Sequence[OrderRequest | Mapping[str, Any]]) -> BatchResult:
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
        return self._run(self.adapter.create_orders(items))

    def cancel_orders(self, ids: Sequence[str], symbol: str) -> BatchResult:
        """Cancel several orders of one market, in one request where the exchange batches.

        One item per id, in the order given: the cancelled ``order``, or the ``error`` (an id
        the exchange does not know, or an order already filled or cancelled, is
        ``OrderNotFound``). Ids beyond the exchange's batch size go in further requests.
        """
        order_ids = batch_arguments.checked_ids(ids)
        self._offers("cancel_orders", symbol=symbol)
        return self._run(self.adapter.cancel_orders(args.check_symbol(symbol), order_ids))

    def amend_order(
        self,
        id: str | None,
        symbol: str,
        *,
        amount: Any = None,
        price: Any = None,
        client_order_id: str | None = None,
    ) -> Order:
        """Change an open order's amount and/or price."""
        return self._run(
            self.adapter.amend(args.amend_args(id, symbol, amount, price, client_order_id))
        )

    def cancel_order(
        self, id: str | None, symbol: str, *, client_order_id: str | None = None
    ) -> Order:
        """Cancel an order by id or client order id."""
        return self._run(self.adapter.cancel(args.order_ref(id, symbol, client_order_id)))

    def cancel_all_orders(self, symbol: str | None = None) -> list[Order]:
        """Cancel every open order (of one market, or everywhere)."""
        return self._run(self.adapter.cancel_all(_optional_symbol(symbol)))

    def fetch_order(
        self, id: str | None, symbol: str, *, client_order_id: str | None = None
    ) -> Order:
        """One order, open or closed, by id or client order id."""
        return self._run(self.adapter.fetch_order(args.order_ref(id, symbol, client_order_id)))

    def fetch_open_orders(self, symbol: str | None = None) -> list[Order]:
        """Open orders (of one market, or everywhere)."""
        return self._run(self.adapter.fetch_open_orders(_optional_symbol(symbol)))

    def fetch_closed_orders(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[Order]:
        """Closed orders, newest first."""
        return self._run(
            self.adapter.fetch_closed_orders(
                _optional_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[Fill]:
        """The account's fills, newest first."""
        return self._run(
            self.adapter.fetch_my_trades(
                _optional_symbol(symbol), args.check_since(since), args.check_limit(limit)
            )
        )

    def fetch_positions(self, symbols: list[str] | None = None) -> list[Position]:
        """Open derivatives positions."""
        return self._run(self.adapter.fetch_positions(_symbols(symbols)))

    def set_leverage(self, leverage: Decimal | int, symbol: str) -> LeverageSetting:
        """Set ``symbol``'s leverage (a Decimal or int of at least 1; NotSupported on spot).

        Setting the value already in force succeeds; one above the exchange's maximum for the
        symbol is ``BadRequest``. Positions opened afterwards report it (``Position.leverage``).
        """
        return self._run(
            self.adapter.set_leverage(args.check_leverage(leverage), args.check_symbol(symbol))
        )

    def set_margin_mode(self, margin_mode: str, symbol: str) -> MarginModeSetting:
        """Trade ``symbol`` under ``"cross"`` or ``"isolated"`` margin (NotSupported on spot).

        The mode in force already succeeds. ``scope`` of the answer says what the change
        covers: on Bybit the whole account (its margin mode is account-wide), elsewhere the
        symbol. Positions report it (``Position.margin_mode``).
        """
        return self._run(
            self.adapter.set_margin_mode(
                args.check_margin_mode(margin_mode), args.check_symbol(symbol)
            )
        )

    def set_position_mode(self, hedged: bool, symbol: str | None = None) -> PositionModeSetting:
        """Hedge mode (``True``: a long and a short position per symbol) or one-way mode.

        The mode in force already succeeds; a change with open positions or orders is refused
        by the exchange (``BadRequest``). Bybit switches one symbol (all USDT perpetuals when
        ``symbol`` is None), Binance and OKX the whole account (``scope`` of the answer).
        """
        return self._run(
            self.adapter.set_position_mode(
                args.check_hedged(hedged), None if symbol is None else args.check_symbol(symbol)
            )
        )

    def create_trailing_stop(
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
            return run_sync(placing, self.transport)
        return self._run(self.adapter.place(order))

    def set_trading_stop(
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
        return self._run(self.adapter.set_trading_stop(stop))

    def fetch_key_info(self) -> KeyInfo:
        """What the (read) key may do."""
        return self._run(self.adapter.fetch_key_info("read"))

    def audit_key(self, role: Role = "read") -> KeyAudit:
        """Audit the read key (or the trade key with ``role="trade"``)."""
        return self._run(_audit_key(self.session, role))

    def reconcile_in_doubt(self, *, wait: bool = True) -> list[Resolution]:
        """Settle the fleet's orders in doubt for this account (``connect(..., fleet=...)``).

        Each order recorded after an ``OutcomeUnknown`` is looked up by client order id; found
        or proven absent, it leaves the ledger. ``wait``: one still inside its receive window is
        looked up again once it closes (at most 65 s); otherwise it is returned ``pending``.
        """
        fleet = _fleet_of(self.session)
        return run_sync(fleet.reconcile(self.session, wait=wait), self.transport)


def _fleet_of(session: Session) -> Fleet:
    if session.fleet is None:
        from exchanges.errors import NotSupported

        raise NotSupported(
            "reconcile_in_doubt needs a fleet: connect(..., fleet='redis://host:port/db')",
            exchange=session.adapter.name,
        )
    return session.fleet
