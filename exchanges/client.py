"""``Exchange`` and ``AsyncExchange``: the public interface, and ``connect``/``connect_async``.

Both classes validate arguments once (``arguments.py``), ask the adapter for the operation's
flow and drive it: ``Exchange`` with blocking I/O, ``AsyncExchange`` with asyncio. Nothing else
differs between them.
"""

from __future__ import annotations

import sys
import warnings
from typing import TYPE_CHECKING, Any, TypeVar

from exchanges import arguments as args
from exchanges.adapter import Adapter
from exchanges.audit import audit_key_info
from exchanges.capabilities import Capabilities, market_type, order_keys
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.flow import Flow, Session, run_async, run_sync
from exchanges.models import (
    Balances,
    Candle,
    Fill,
    FundingRate,
    FundingRecord,
    KeyAudit,
    KeyInfo,
    LeverageSetting,
    Market,
    Order,
    OrderBook,
    Position,
    Ticker,
    Trade,
    TradingFee,
)
from exchanges.ratepolicy import RateLimits, check_rate_limits, limiter_for
from exchanges.registry import adapter_class
from exchanges.retry import RetryPolicy
from exchanges.transport.base import AsyncTransport, Transport
from exchanges.transport.limits import MAX_BODY_BYTES
from exchanges.transport.stdlib import StdlibTransport
from exchanges.wire import Role

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from decimal import Decimal

    from exchanges.fleet.fleet import Fleet
    from exchanges.fleet.ledger import Resolution
    from exchanges.stream.manager import Stream

__all__ = ["AsyncExchange", "Exchange", "connect", "connect_async"]

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
        if self.session.fleet is not None:
            self.session.fleet.link.close()

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
    ) -> Order:
        """Place an order exactly once (a client order id is generated when not given)."""
        self._offers(*order_keys(type, time_in_force, post_only))
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
        )
        fleet = self.session.fleet
        if fleet is not None:
            placing = fleet.place(self.session, self.adapter.place(order), order)
            return run_sync(placing, self.transport)
        return self._run(self.adapter.place(order))

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
        if self.session.fleet is not None:
            await self.session.fleet.link.aclose()

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
    ) -> Order:
        """Place an order exactly once (a client order id is generated when not given)."""
        self._offers(*order_keys(type, time_in_force, post_only))
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
        )
        fleet = self.session.fleet
        if fleet is not None:
            return await run_async(
                fleet.place(self.session, self.adapter.place(order), order), self.transport
            )
        return await self._run(self.adapter.place(order))

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


def _fleet_of(session: Session) -> Fleet:
    if session.fleet is None:
        from exchanges.errors import NotSupported

        raise NotSupported(
            "reconcile_in_doubt needs a fleet: connect(..., fleet='redis://host:port/db')",
            exchange=session.adapter.name,
        )
    return session.fleet


_LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def _check_limits(timeout: Any, max_body_bytes: Any) -> None:
    """``timeout`` a positive number of seconds, ``max_body_bytes`` a positive int."""
    import math

    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
        raise TypeError(f"max_body_bytes must be an int, not {type(max_body_bytes).__name__}")
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: Any) -> None:
    """``scheme://host[:port][/path]``: what a bare ``127.0.0.1:8080`` would fail on later."""
    if base_url is None:
        return
    if not isinstance(base_url, str):
        raise TypeError(
            f"base_url must be a str like 'https://host', not {type(base_url).__name__}"
        )
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme in ("http", "https") and parts.hostname:
        if not port_ok:
            raise ValueError(f"base_url={base_url!r} has no valid port (1-65535)")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url={base_url!r} must not carry a query or fragment")
        return
    if parts.scheme in ("http", "https"):
        raise ValueError(f"base_url={base_url!r} names no host, e.g. https://api.example.com")
    bare = base_url.split("://", 1)[-1]
    host = urlsplit(f"//{bare}").hostname or ""
    scheme = "http" if _is_loopback(host) else "https"
    raise ValueError(
        f"base_url={base_url!r} needs a scheme and a host: pass {scheme}://{bare!s}"
        + (" (http:// is fine for this machine)" if scheme == "http" else "")
    )


def check_plain_http(url: str | None, keyed: bool, allowed: bool, what: str = "base_url") -> None:
    """Refuse to send keys over plain HTTP (or ``ws://``) to a host that is not this machine.

    Headers carry the API key and signature, and OKX's passphrase in clear: readable by anyone
    on the path. Loopback (an emulator, a local proxy) stays allowed; anything else needs
    ``allow_insecure_http=True`` and then warns.
    """
    if url is None or not keyed:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "ws") or _is_loopback(parts.hostname or ""):
        return
    if not allowed:
        raise ValueError(
            f"{what}={url!r} is plain {parts.scheme} to {parts.hostname}, which is not this "
            "machine: the API key, signatures (and OKX's passphrase) would travel unencrypted. "
            f"Use {'https' if parts.scheme == 'http' else 'wss'}://, or pass "
            "allow_insecure_http=True if the network in between is yours."
        )
    warnings.warn(
        f"sending API credentials over plain {parts.scheme} to {parts.hostname} "
        "(allow_insecure_http=True)",
        stacklevel=4,
    )


def _build(
    exchange: str,
    *,
    env: str,
    credentials: Credentials | None,
    trade_credentials: Credentials | None,
    base_url: str | None,
    recv_window_ms: int,
    allow_withdrawal_keys: bool,
    clock: ServerClock | None,
    retry: RetryPolicy | None,
    options: dict[str, Any],
    allow_insecure_http: bool = False,
    timeout: float = 10.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    asynchronous: bool = False,
) -> tuple[Adapter, Session]:
    if credentials is not None and not isinstance(credentials, Credentials):
        raise TypeError("credentials must be exchanges.Credentials")
    if trade_credentials is not None and not isinstance(trade_credentials, Credentials):
        raise TypeError("trade_credentials must be exchanges.Credentials")
    if isinstance(recv_window_ms, bool) or not isinstance(recv_window_ms, int):
        raise TypeError("recv_window_ms must be an int")
    _check_limits(timeout, max_body_bytes)
    _check_base_url(base_url)
    policy = check_rate_limits(rate_limits)
    cls = adapter_class(exchange)
    sync_clock = bool(options.pop("sync_clock", True))
    if exchange.lower().startswith("ccxt:"):
        options["ccxt_id"] = exchange.split(":", 1)[1]
    adapter = cls(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
    problem = None
    if credentials is None:
        credentials, problem = Credentials.read_env(adapter.env_prefix())
        if problem is not None:
            # Public calls still work; a private one fails with this same message.
            warnings.warn(f"{problem}; connecting without credentials", stacklevel=3)
    keyed = credentials is not None or trade_credentials is not None
    check_plain_http(base_url, keyed, allow_insecure_http)
    check_plain_http(options.get("ws_url"), keyed, allow_insecure_http, "ws_url")
    limits, default = adapter.rate_limits()
    limiter = limiter_for(limits, default, policy)
    member = None
    if fleet is not None:
        # Here only: `redis` is imported when a fleet is asked for, never by `import exchanges`.
        from exchanges.fleet import open_fleet

        member = open_fleet(
            fleet,
            adapter=adapter,
            credentials=credentials or trade_credentials,
            policy=policy,
            fleet_size=fleet_size,
            fallback=fleet_fallback,
            asynchronous=asynchronous,
        )
        limiter = member.budget.local
        limiter.enabled = policy != "off"
    session = Session(
        adapter,
        credentials=credentials,
        trade_credentials=trade_credentials,
        clock=clock,
        limiter=limiter,
        retry=retry,
        allow_withdrawal_keys=allow_withdrawal_keys,
        sync_clock=sync_clock,
    )
    session.credentials_problem = problem
    session.fleet = member
    return adapter, session


def connect(
    exchange: str,
    *,
    env: str = "mainnet",
    credentials: Credentials | None = None,
    trade_credentials: Credentials | None = None,
    base_url: str | None = None,
    recv_window_ms: int = 5000,
    timeout: float = 10.0,
    allow_withdrawal_keys: bool = False,
    clock: ServerClock | None = None,
    retry: RetryPolicy | None = None,
    transport: str = "stdlib",
    allow_insecure_http: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    **options: Any,
) -> Exchange:
    """Connect to ``exchange`` (``bybit``, ``binance``, ``okx``, ``ccxt:<id>``) with blocking I/O.

    Credentials default to ``<EXCHANGE>[_TESTNET|_DEMO]_API_KEY`` / ``_API_SECRET`` from the
    environment; public methods work without any. ``transport="urllib3"`` selects the urllib3
    transport instead of the (faster) standard-library one. Credentials never go over plain
    ``http://`` to a host other than this machine unless ``allow_insecure_http=True``. A
    response body larger than ``max_body_bytes`` (64 MiB; counted after decompression) is
    refused as ``BadResponse``. ``rate_limits`` paces requests: ``"documented"`` (the
    exchange's default tier, corrected from its headers), a number that scales every limit
    (a VIP tier), or ``"off"`` for one's own test servers (``exchanges.ratepolicy``).

    ``fleet="redis://host:port/db"`` (or ``rediss://``, or a ``redis.Redis``) makes this client
    one of a fleet sharing the account's rate budget, client order ids and orders in doubt
    through Redis (``exchanges.fleet``, needs ``pip install 'exchanges[fleet]'``):
    ``fleet_size`` is how many processes share the budget when Redis is away (each then takes
    1/``fleet_size`` of every limit), ``fleet_fallback`` what new orders do then (``"refuse"``,
    or ``"local"``: placed with their id reserved in this process only).
    """
    adapter, session = _build(
        exchange,
        env=env,
        credentials=credentials,
        trade_credentials=trade_credentials,
        base_url=base_url,
        recv_window_ms=recv_window_ms,
        allow_withdrawal_keys=allow_withdrawal_keys,
        clock=clock,
        retry=retry,
        options=options,
        allow_insecure_http=allow_insecure_http,
        timeout=timeout,
        max_body_bytes=max_body_bytes,
        rate_limits=rate_limits,
        fleet=fleet,
        fleet_size=fleet_size,
        fleet_fallback=fleet_fallback,
    )
    custom = getattr(adapter, "connect_sync", None)
    if custom is not None:
        client: Exchange = custom(session, timeout)
        return client
    if transport == "stdlib":
        sender: Transport = StdlibTransport(
            timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes
        )
    elif transport == "urllib3":
        from exchanges.transport.sync import SyncTransport

        sender = SyncTransport(
            timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes
        )
    else:
        raise ValueError(f"transport must be 'stdlib' or 'urllib3', not {transport!r}")
    return Exchange(adapter, session, sender)


def connect_async(
    exchange: str,
    *,
    env: str = "mainnet",
    credentials: Credentials | None = None,
    trade_credentials: Credentials | None = None,
    base_url: str | None = None,
    recv_window_ms: int = 5000,
    timeout: float = 10.0,
    allow_withdrawal_keys: bool = False,
    clock: ServerClock | None = None,
    retry: RetryPolicy | None = None,
    allow_insecure_http: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    **options: Any,
) -> AsyncExchange:
    """Like ``connect`` but returns an ``AsyncExchange`` whose methods are coroutines.

    ``fleet=`` takes a Redis URL or a ``redis.asyncio.Redis``.
    """
    if any(key.startswith("ws_") for key in options):
        from exchanges.stream.options import StreamOptions

        StreamOptions.from_options(options)  # a bad stream option fails here, not on first watch
    adapter, session = _build(
        exchange,
        env=env,
        credentials=credentials,
        trade_credentials=trade_credentials,
        base_url=base_url,
        recv_window_ms=recv_window_ms,
        allow_withdrawal_keys=allow_withdrawal_keys,
        clock=clock,
        retry=retry,
        options=options,
        allow_insecure_http=allow_insecure_http,
        timeout=timeout,
        max_body_bytes=max_body_bytes,
        rate_limits=rate_limits,
        fleet=fleet,
        fleet_size=fleet_size,
        fleet_fallback=fleet_fallback,
        asynchronous=True,
    )
    custom = getattr(adapter, "connect_async", None)
    if custom is not None:
        client: AsyncExchange = custom(session, timeout)
        return client
    # aiohttp costs ~160 ms to import: only async users pay for it.
    from exchanges.transport.aio import AioTransport

    return AsyncExchange(
        adapter,
        session,
        AioTransport(timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes),
    )
