"""What the common layer asks of an exchange adapter.

An adapter translates: arguments into exact request bytes, responses into models or normalised
errors. It owns no I/O, no clock and no sleeping; every operation is a flow (see ``flow.py``).
Operations an exchange lacks raise ``NotSupported`` with the reason.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from exchanges import results
from exchanges.batch import Batching
from exchanges.capabilities import UNDECLARED, Capabilities, funding_market, market_type
from exchanges.errors import BadSymbol, ExchangeError, InvalidOrder, NotSupported, OrderNotFound
from exchanges.preflight import check_order
from exchanges.symbols import Symbol
from exchanges.wire import Prepared

if TYPE_CHECKING:
    from decimal import Decimal

    from exchanges.arguments import AmendArgs, OrderArgs, OrderRef, TradingStopArgs
    from exchanges.clock import ServerClock
    from exchanges.credentials import Credentials
    from exchanges.effects import Flow
    from exchanges.models import (
        Balances,
        Candle,
        Fill,
        FundingRate,
        FundingRecord,
        KeyInfo,
        LeverageSetting,
        MarginMode,
        MarginModeSetting,
        Market,
        Order,
        OrderBook,
        Position,
        PositionModeSetting,
        Ticker,
        Trade,
        TradingFee,
        TradingStop,
    )
    from exchanges.ratelimit import Limit, RateLimiter
    from exchanges.stream.dialect import StreamDialect
    from exchanges.wire import Request, Response, Role

__all__ = ["FUNDING_HISTORY_LIMIT", "Adapter"]

#: The records ``fetch_funding_rate_history`` returns when no ``limit`` is given.
FUNDING_HISTORY_LIMIT = 100

_log = logging.getLogger("exchanges")
T = TypeVar("T")


class Adapter(Batching, abc.ABC):
    """Base of every exchange adapter: the pipeline hooks, the market cache, the operations."""

    #: The name used in ``connect()``, logs and errors (a class attribute, or set per instance).
    name: str
    #: Environments this exchange offers.
    environments: ClassVar[tuple[str, ...]] = ("mainnet",)
    #: The exchange-specific ``connect(..., **options)`` it takes (``ws_*`` are the streams').
    option_names: ClassVar[tuple[str, ...]] = ()
    #: Native order parameters that ``create_order``'s named arguments set, each with the
    #: argument that sets it: ``params`` may not replace them after validation.
    reserved_order_params: ClassVar[Mapping[str, str]] = {}
    #: The environment variables (after the prefix) a key of this exchange needs.
    credential_variables: ClassVar[tuple[str, ...]] = ("API_KEY", "API_SECRET")
    #: The exchange's own names for a client order id in ``params`` (ccxt's ``clientOrderId``
    #: is always understood): taken as ``client_order_id``, so the id tracked is the id sent.
    client_id_params: ClassVar[tuple[str, ...]] = ()
    #: What this exchange offers, and why not where it does not (``exchanges.capabilities``);
    #: ``NotSupported`` takes its reason from here.
    capabilities: ClassVar[Capabilities] = UNDECLARED

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if env not in self.environments:
            raise ValueError(
                f"{self.name} has no environment {env!r}; "
                f"choose one of {', '.join(self.environments)}"
            )
        self.env = env
        self.base_url_override = base_url.rstrip("/") if base_url else None
        self.recv_window_ms = recv_window_ms
        self.options = dict(options or {})
        unknown = sorted(
            key for key in self.options if key not in self.option_names and key[:3] != "ws_"
        )
        if unknown:
            # A misspelt option (regoin="nl") must not silently mean the default.
            takes = ", ".join(f"{name}=" for name in self.option_names) or "none"
            raise TypeError(
                f"unknown option(s) for {self.name}: {', '.join(unknown)} (it takes {takes}, "
                "and ws_*= for streams)"
            )
        self.markets: dict[str, Market] = {}
        self._loaded_groups: set[str] = set()

    # -- pipeline hooks -------------------------------------------------------------------

    def env_prefix(self) -> str:
        """The environment-variable prefix of this environment's keys (``BYBIT_TESTNET``)."""
        prefix = self.name.upper()
        return prefix if self.env == "mainnet" else f"{prefix}_{self.env.upper()}"

    @abc.abstractmethod
    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Authenticate ``request`` over exactly the bytes that will be sent."""

    def prepare(self, request: Request) -> Prepared:
        """Turn an unsigned request into its wire form."""
        headers = dict(request.headers) if request.headers else {}
        return Prepared(
            request.method, request.base_url + request.target, headers, request.body, request
        )

    @abc.abstractmethod
    def decode(self, response: Response) -> None:
        """Decode the body into ``response.data``; raise the normalised error for a failure."""

    @abc.abstractmethod
    def time_request(self) -> Request:
        """The public request that returns the server time."""

    @abc.abstractmethod
    def parse_time(self, response: Response) -> int:
        """The server time in ms from a decoded ``time_request`` response."""

    def acts_until_ms(self, request: Request, timestamp_ms: int) -> int | None:
        """Exchange time after which the exchange no longer acts on ``request`` sent now.

        ``timestamp_ms`` is the stamp it was signed with. A signed request is refused once the
        exchange's clock is past its stamp plus the receive window, which is what makes a
        lookup after that time conclusive. None when nothing bounds it.
        """
        return timestamp_ms + self.recv_window_ms if request.signed else None

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """Static limits per key, and a function giving the limit of other keys."""
        return {}, None

    def observe(self, response: Response, limiter: RateLimiter, clock: ServerClock) -> None:
        """Feed rate-limit headers of a response to the limiter (default: nothing)."""

    # -- streams --------------------------------------------------------------------------

    def stream_dialect(self) -> StreamDialect:
        """The exchange's WebSocket dialect (``exchanges.stream``); ``NotSupported`` if none."""
        from exchanges.stream.registry import dialect_for

        return dialect_for(self)

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """The group of markets loaded together that holds ``symbol`` (e.g. a category)."""
        return "all"

    def market_groups(self) -> tuple[str, ...]:
        """Every group ``load_markets`` loads."""
        return ("all",)

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """Fetch every market of one group."""
        return self._nope("fetch_markets")

    def fetch_markets(self) -> Flow[list[Market]]:
        """Fetch every market of every group."""
        markets: list[Market] = []
        for group in self.market_groups():
            markets.extend((yield from self.fetch_market_group(group)))
        return markets

    def load_markets(self, reload: bool = False) -> Flow[dict[str, Market]]:
        """Load (once, unless ``reload``) every market into the cache."""
        for group in self.market_groups():
            if reload or group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))
        return dict(self.markets)

    def _store(self, group: str, markets: list[Market]) -> None:
        for market in markets:
            self.markets[market.symbol] = market
        self._loaded_groups.add(group)
        self.index_markets(group, markets)

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Hook for adapters that keep their own index (native id → market)."""

    def market(self, symbol: Symbol) -> Flow[Market]:
        """The market of ``symbol``, loading its group on first use."""
        text = str(symbol)
        market = self.markets.get(text)
        if market is None:
            group = self.market_group(symbol)
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))
                market = self.markets.get(text)
        if market is None:
            raise BadSymbol(
                f"{self.name} has no market {text}",
                exchange=self.name,
                hint="List the markets with load_markets(); unified symbols look like "
                "BTC/USDT (spot) or BTC/USDT:USDT (perpetual).",
            )
        return market

    def order_market(
        self, symbol: Symbol, amount: Decimal | None, price: Decimal | None
    ) -> Flow[Market]:
        """The market of a new or amended order, its amount and price checked against it.

        Every adapter's writes go through this one pre-flight check (``exchanges.preflight``):
        the same mistake is the same ``InvalidOrder`` everywhere, before anything is sent.
        """
        market = yield from self.market(symbol)
        check_order(market, amount, price, exchange=self.name)
        return market

    # -- operations -----------------------------------------------------------------------

    def _nope(self, what: str, why: str = "") -> Flow[Any]:
        """A flow that raises ``NotSupported`` for capability ``what`` when run.

        The reason is the declared one (in this environment); ``why`` serves a key that the
        declarations do not refuse. One shape: ``"<exchange> does not offer <key>: <reason>"``.
        """
        if not self.capabilities.supports(what, env=self.env):
            raise self.capabilities.error(what, env=self.env)
        reason = why or "not offered by this adapter"
        raise NotSupported(f"{self.name} does not offer {what}: {reason}", exchange=self.name)
        yield  # type: ignore[unreachable]  # makes this a generator: it raises when run

    def fetch_time(self) -> Flow[int]:
        """The server time, ms."""
        response = yield self.time_request()
        return self.parse_time(response)

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """One market's ticker."""
        return self._nope("fetch_ticker")

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """Tickers of several markets (all when ``symbols`` is None)."""
        return self._nope("fetch_tickers")

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """The order book."""
        return self._nope("fetch_order_book")

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """Recent public trades, oldest first."""
        return self._nope("fetch_trades")

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """Candles, oldest first."""
        return self._nope("fetch_ohlcv")

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """A perpetual swap's funding rate for its next settlement."""
        return self._nope("fetch_funding_rate")

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """Settled funding rates, oldest first: the first ``limit`` from ``since``, else the
        latest ``limit`` (``FUNDING_HISTORY_LIMIT`` when None)."""
        return self._nope("fetch_funding_rate_history")

    def require_funding(self, what: str, symbol: Symbol) -> None:
        """``NotSupported`` naming ``what.<market type>`` unless ``symbol`` is a perpetual swap
        with funding here (declared per market type: spot, dated futures and options refuse)."""
        self.capabilities.require(
            what, market=funding_market(symbol), env=self.env, subject=str(symbol)
        )

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """The balances of the wallet that pays for ``market_type`` (None: the default one)."""
        return self._nope("fetch_balance")

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """The account's fee rates for a market."""
        return self._nope("fetch_trading_fee")

    def place(self, args: OrderArgs) -> Flow[Order]:
        """``create_order``, its result completed from the request (``exchanges.results``)."""
        return _named(self._place(args), "create_order")

    def amend(self, args: AmendArgs) -> Flow[Order]:
        """``amend_order``, its result completed from the request."""
        return _named(self._amend(args), "amend_order")

    def cancel(self, ref: OrderRef) -> Flow[Order]:
        """``cancel_order``, its result ``canceled`` unless the exchange said otherwise."""
        return _named(self._cancel(ref), "cancel_order")

    def cancel_all(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``cancel_all_orders``, each result ``canceled`` unless the exchange said otherwise."""
        return _named(self._cancel_all(symbol), "cancel_all_orders")

    def _cancel_all(self, symbol: Symbol | None) -> Flow[list[Order]]:
        return [results.canceled(order) for order in (yield from self.cancel_all_orders(symbol))]

    def _place(self, args: OrderArgs) -> Flow[Order]:
        """Place, then settle the result the same way on every exchange.

        An order that ends when it arrives (market, IOC, FOK, post-only) is read back once when
        the exchange acknowledged only its ids, so that the result says how it ended, and a
        post-only or FOK order killed unfilled raises the same error on every exchange.
        """
        self.require_intents(args)
        self.require_time_in_force(args)
        order = yield from self.create_order(args)
        return (yield from self.finish_placed(order, args))

    def finish_placed(self, order: Order, args: OrderArgs) -> Flow[Order]:
        """A placed order's result, settled the same way on every exchange (``_place``; each
        order of a batch too): read back once when it ended at once and the exchange
        acknowledged only its ids, refused with the same error everywhere when a post-only or
        FOK order was killed unfilled, completed from the request."""
        from exchanges.arguments import OrderRef

        if order.status is None and order.id is not None and results.ends_at_once(args):
            try:
                order = yield from self.fetch_order(OrderRef(args.symbol, order.id, None))
            except ExchangeError as err:
                # Placed for sure: the read-back failing must not lose the order.
                _log.debug("reading back order %s failed: %r", order.id, err)
        refused = results.refusal(order, args, self.name)
        if refused is not None:
            raise refused
        return results.placed(order, args)

    def _amend(self, args: AmendArgs) -> Flow[Order]:
        try:
            order = yield from self.amend_order(args)
        except OrderNotFound as missing:
            # Conditional orders live apart on some exchanges (algo orders), where the amend
            # endpoint does not know them: where amending them is not offered, say so rather
            # than call an open order missing.
            market = market_type(args.ref.symbol)
            if not self.capabilities.supports("order.amend", market=market, env=self.env) and (
                yield from self._is_conditional(args)
            ):
                raise self.capabilities.error(
                    "order.amend", market=market, env=self.env, subject=_order_name(args)
                ) from missing
            raise
        return results.amended(order, args)

    def _is_conditional(self, args: AmendArgs) -> Flow[bool]:
        """Whether the order ``args`` names is an open conditional order (False if unknown)."""
        try:
            order = yield from self.fetch_order(args.ref)
        except ExchangeError:
            return False
        return order.conditional and order.status == "open"

    def _cancel(self, ref: OrderRef) -> Flow[Order]:
        return results.canceled((yield from self.cancel_order(ref)))

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """Place an order exactly once."""
        return self._nope("create_order")

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """Change an open order's amount and/or price."""
        return self._nope("amend_order")

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """Cancel an order."""
        return self._nope("cancel_order")

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Cancel every open order (of one market, or all)."""
        return self._nope("cancel_all_orders")

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """One order, open or closed."""
        return self._nope("fetch_order")

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Open orders."""
        return self._nope("fetch_open_orders")

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """Closed orders, newest first."""
        return self._nope("fetch_closed_orders")

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """The account's fills, newest first."""
        return self._nope("fetch_my_trades")

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """Open derivatives positions."""
        return self._nope("fetch_positions")

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """What the key (of ``role``) may do."""
        return self._nope("fetch_key_info")

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """Set one derivatives market's leverage (validated: a Decimal of at least 1)."""
        return self._nope("set_leverage")

    def require_leverage(self, symbol: Symbol) -> None:
        """``NotSupported`` naming ``set_leverage.<market type>`` unless ``symbol``'s market type
        has a leverage here (declared per market type: spot refuses), before anything is sent."""
        self.capabilities.require(
            "set_leverage", market=market_type(symbol), env=self.env, subject=str(symbol)
        )

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """Set the margin mode (cross or isolated) that ``symbol`` trades under."""
        return self._nope("set_margin_mode")

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """Switch hedge mode (two positions per symbol) on or off."""
        return self._nope("set_position_mode")

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """Stop-loss, take-profit and/or trailing stop of an open position."""
        return self._nope("position.trading_stop")

    def position_to_stop(self, args: TradingStopArgs) -> Flow[tuple[Market, Position]]:
        """The market and open position (of ``args.side``, if given) that ``args`` sets stops on."""
        market = yield from self.market(args.symbol)
        held = yield from self.fetch_positions([args.symbol])
        if args.side is not None:
            held = [p for p in held if p.side == args.side]
        if not held:
            raise InvalidOrder(
                f"there is no open {market.symbol} position to set stops on",
                exchange=self.name,
                hint="Open the position first.",
            )
        return market, held[0]

    def require_intents(self, args: OrderArgs) -> None:
        """``NotSupported`` for an intent of ``args`` (``ORDER_INTENTS``) that ``args.symbol``'s
        market type does not offer here (the clients check them too; this serves callers of
        the adapter and the market types the declarations name)."""
        if not (args.conditional or args.attached):
            return
        from exchanges.capabilities import intent_keys, trailing_keys

        keys = intent_keys(
            args.trigger_price,
            args.trigger_by,
            ("stop_loss", args.stop_loss),
            ("take_profit", args.take_profit),
        )
        keys += trailing_keys(args.trailing_percent, args.trailing_amount)
        for key in keys:
            self.capabilities.require(
                key, market=market_type(args.symbol), env=self.env, subject=str(args.symbol)
            )

    def require_time_in_force(self, args: OrderArgs) -> None:
        """``NotSupported`` for a GTD order where ``args.symbol``'s market type has no GTD
        (Binance offers it on USD-M, not on spot), before anything is sent; the clients check
        the exchange-wide entry of every time in force."""
        if args.time_in_force == "GTD":
            self.capabilities.require(
                "time_in_force.GTD",
                market=market_type(args.symbol),
                env=self.env,
                subject=str(args.symbol),
            )

    def require_mode(self, operation: str, symbol: Symbol | None) -> None:
        """``NotSupported`` naming ``<operation>.<market type>`` unless ``symbol``'s market type
        (a swap when None) has that mode here, before anything is sent."""
        market = market_type(symbol) if symbol is not None else "swap"
        self.capabilities.require(
            operation, market=market, env=self.env, subject=str(symbol or operation)
        )


def _order_name(args: AmendArgs) -> str:
    return f"conditional order {args.ref.id or args.ref.client_order_id}"


def _named(flow: Flow[T], name: str) -> Flow[T]:
    """``flow`` named after the interface method it serves: errors name the caller's call."""
    flow.__name__ = name  # type: ignore[attr-defined]
    return flow
