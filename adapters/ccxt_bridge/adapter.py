"""``CcxtAdapter``: every operation of the interface as a flow of ccxt calls.

Each operation is a flow like the native adapters' (``exchanges/flow.py``), except that what it
yields is a ccxt call (``runner.ccxt_request``) rather than HTTP bytes. ``Exchange`` and
``AsyncExchange`` validate arguments and run the flows through the library's pipeline exactly
as for the native adapters; only the transport differs (``runner.SyncRunner`` calls ccxt,
``runner.AsyncRunner`` awaits ``ccxt.async_support``). So argument checks, retries of reads,
exactly-once order placement (``exchanges.reconcile``) and secret scrubbing are the library's,
written once.

Options of ``connect("ccxt:<id>", ...)``: ``ccxt_config`` (merged into ccxt's constructor
config, e.g. ``{"uid": ...}``), ``ccxt_options`` (merged into ccxt's ``options``, e.g.
``{"defaultType": "swap"}``) and ``ccxt_numbers`` (``"decimal"``, the default, or ``"float"``:
see ``client.build_client``). ``create_order(params=...)`` are ccxt params.

Exactly once: ``create_order`` always sends the client order id (ccxt's ``clientOrderId``
param, which each ccxt exchange maps to its own field: Bybit ``orderLinkId``, Binance
``newClientOrderId``, OKX ``clOrdId``). When ccxt fails with a network error, a timeout or an
"exchange not available" answer after the order may have left, the pipeline turns it into
``OutcomeUnknown`` and the flow looks the order up by that id: for exchanges whose ccxt
``fetchOrder`` takes a client order id (``CLIENT_ID_LOOKUP``) the exchange's answer is
authoritative and a proven-absent order is sent once more; elsewhere the open and closed order
lists are searched, a found order is returned, and an order not found there is *not* resent (a
list is no proof of absence): ``OutcomeUnknown`` with the client order id is raised instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, NoReturn, TypeVar

import attrs

from adapters.binance import parse as binance_parse
from adapters.ccxt_bridge import convert
from adapters.ccxt_bridge import modes as modes_api
from adapters.ccxt_bridge.capabilities import OPERATION_OF, derive
from adapters.ccxt_bridge.errors import Scrubber, family_of
from adapters.ccxt_bridge.runner import ccxt_request
from adapters.okx import parse as okx_parse
from exchanges.adapter import FUNDING_HISTORY_LIMIT, Adapter
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef
from exchanges.capabilities import Capabilities, market_type
from exchanges.credentials import Credentials
from exchanges.decimals import to_wire
from exchanges.errors import (
    BadRequest,
    BadResponse,
    NotSupported,
    OrderNotFound,
)
from exchanges.flow import Flow, Session
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
)
from exchanges.parsing import ms
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol, parse_symbol
from exchanges.units import native_amount, unified
from exchanges.wire import Prepared, Request, Response, Role

M = TypeVar("M")

__all__ = ["CLIENT_ID_LOOKUP", "CcxtAdapter"]

#: ccxt families whose ``fetch_order(None, symbol, {"clientOrderId": ...})`` asks the exchange
#: by client order id (Binance ``origClientOrderId``, OKX ``clOrdId``): its "not found" is final.
CLIENT_ID_LOOKUP = frozenset({"binance", "okx"})

_TERMINAL = ("closed", "canceled", "rejected", "expired")
_OPTIONS = ("ccxt_config", "ccxt_options", "ccxt_numbers")


def _plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    # ccxt serialises params itself: Decimals go as their plain digits, never an exponent.
    return {k: to_wire(v) if isinstance(v, Decimal) else v for k, v in params.items()}


#: The most funding history records one request returns, per exchange family (Bybit's
#: "Get Funding Rate History" 200, Binance USD-M's "Get Funding Rate History" 1000, OKX 100:
#: see the native adapters' funding modules); 100 elsewhere.
_FUNDING_PAGES = {"bybit": 200, "binance": 1000, "okx": 100}
_MAX_PAGES = 200
_EIGHT_HOURS_MS = 8 * 3_600_000

# Exchange families that refuse a client order id they accepted before, open or closed (Bybit:
# "orderLinkId ... must be unique"): a resend need not wait for the lost request's window.
_UNIQUE_CLIENT_IDS = frozenset({"bybit"})


class CcxtAdapter(Adapter):
    """Any ccxt exchange, by ccxt id (``connect("ccxt:kraken")``)."""

    name = "ccxt"
    environments = ("mainnet", "testnet", "demo")
    option_names = _OPTIONS
    # ccxt passes params through to the exchange, where a native name would replace the id
    # ccxt set from clientOrderId: the names its exchanges use are taken as the id instead.
    client_id_params = (
        "orderLinkId",
        "newClientOrderId",
        "clOrdId",
        "clientOid",
        "client_oid",
        "cliOrdId",
    )
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "postOnly": "post_only",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
    }

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        given = dict(options or {})
        # ccxt's ids are lower case: "ccxt:Kraken" is "kraken".
        ccxt_id = str(given.pop("ccxt_id", "") or "").strip().lower()
        if not ccxt_id:
            raise NotSupported(
                "the ccxt bridge needs an exchange id", hint="Connect with 'ccxt:<id>'."
            )
        # One class serves every ccxt id, so the name (errors, logs, env prefix) is per instance.
        self.name = ccxt_id
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=given)
        self.ccxt_config: dict[str, Any] = dict(self.options.get("ccxt_config") or {})
        self.ccxt_options: dict[str, Any] = dict(self.options.get("ccxt_options") or {})
        numbers = self.options.get("ccxt_numbers", "decimal")
        if numbers not in ("decimal", "float"):
            raise ValueError(f"ccxt_numbers must be 'decimal' or 'float', not {numbers!r}")
        self.decimal_numbers = numbers == "decimal"
        if self.ccxt_config.get("verbose"):
            raise ValueError(
                "ccxt's verbose mode prints request headers (API key, signature) to stdout; "
                "use logging at DEBUG on 'exchanges' instead"
            )
        from adapters.ccxt_bridge.client import exchange_class, load_ccxt

        # Fails early, at connect(), for a missing ccxt package or an unknown id.
        self._class = exchange_class(load_ccxt(), ccxt_id)
        self.family = family_of(self._class)
        #: set_margin_mode's choice per symbol: OKX orders carry it (``modes.py``).
        self.margin_modes: dict[str, MarginMode] = {}
        self.client: Any = None
        # The capabilities of the client they were derived from (see ``capabilities``).
        self._derived: tuple[Any, Capabilities] | None = None
        self._described: Any = None

    # -- connecting -----------------------------------------------------------------------

    def _clients(self, module: Any, session: Session, timeout: float) -> tuple[Any, Any, Scrubber]:
        from adapters.ccxt_bridge.client import build_client

        scrub = Scrubber((session.credentials, session.trade_credentials))

        def build(credentials: Credentials | None) -> Any:
            return build_client(
                module,
                self.name,
                env=self.env,
                base_url=self.base_url_override,
                credentials=credentials,
                timeout=timeout,
                recv_window_ms=self.recv_window_ms,
                config=self.ccxt_config,
                options=self.ccxt_options,
                scrub=scrub,
                decimal_numbers=self.decimal_numbers,
            )

        read = build(session.credentials)
        trade = read if session.trade_credentials is None else build(session.trade_credentials)
        self.client = read
        return read, trade, scrub

    def connect_sync(self, session: Session, timeout: float) -> Any:
        """The blocking client: ``CcxtExchange`` over ccxt (``connect()``'s hook)."""
        from adapters.ccxt_bridge.client import CcxtExchange, load_ccxt
        from adapters.ccxt_bridge.runner import SyncRunner

        read, trade, scrub = self._clients(load_ccxt(), session, timeout)
        return CcxtExchange(self, session, SyncRunner(read, trade, scrub))

    def connect_async(self, session: Session, timeout: float) -> Any:
        """The asyncio client: ``CcxtAsyncExchange`` over ``ccxt.async_support``."""
        from adapters.ccxt_bridge.client import CcxtAsyncExchange, load_ccxt
        from adapters.ccxt_bridge.runner import AsyncRunner

        read, trade, scrub = self._clients(load_ccxt(asynchronous=True), session, timeout)
        return CcxtAsyncExchange(self, session, AsyncRunner(read, trade, scrub))

    # -- pipeline hooks -------------------------------------------------------------------

    def env_prefix(self) -> str:
        """Keys come from ``<ID>_API_KEY`` etc. (``KRAKEN_TESTNET_API_KEY`` on testnet)."""
        prefix = self.name.upper().replace("-", "_")
        return prefix if self.env == "mainnet" else f"{prefix}_{self.env.upper()}"

    def acts_until_ms(self, request: Request, timestamp_ms: int) -> int | None:
        """ccxt signs writes itself, with the receive window set at connect where it has one.

        OKX has none but refuses a stamp 30 s away from its clock (the REST authentication
        section of its docs); for an exchange with neither nothing is known.
        """
        if not request.write:
            return None
        options = getattr(self.client, "options", None)
        window = options.get("recvWindow") if isinstance(options, dict) else None
        if isinstance(window, int) and not isinstance(window, bool) and window > 0:
            return timestamp_ms + window
        if self.family == "okx":
            return timestamp_ms + 30_000
        return None

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Never used: ccxt signs its own requests (the bridge's requests are not ``signed``)."""
        raise NotSupported("ccxt signs its own requests", exchange=self.name)

    def prepare(self, request: Request) -> Prepared:
        """The call as a ``Prepared`` request for the runner (nothing goes on a wire here)."""
        return Prepared(request.method, f"ccxt://{self.name}/{request.path}", {}, None, request)

    def decode(self, response: Response) -> None:
        """Nothing to decode: the runner put ccxt's answer in ``response.data``."""

    def time_request(self) -> Request:
        """ccxt's ``fetch_time``."""
        return ccxt_request("fetch_time")

    def parse_time(self, response: Response) -> int:
        """The server time in ms."""
        stamp = ms(response.data)
        if stamp is None:
            raise BadResponse(
                f"ccxt's fetch_time gave {type(response.data).__name__}, not a time in ms",
                exchange=self.name,
            )
        return stamp

    def stream_dialect(self) -> NoReturn:
        """No WebSocket streams through the bridge (ccxt.pro's ``watch_*`` are not bridged).

        Overridden because the stream registry is keyed by adapter name, and this adapter is
        named after the ccxt id: ``ccxt:bybit`` must not get the native Bybit dialect.
        """
        raise NotSupported(
            f"the ccxt bridge has no WebSocket streams ({self.name})",
            exchange=self.name,
            hint="Poll with fetch_* here, or connect to the native adapter for streams.",
        )

    # -- helpers --------------------------------------------------------------------------

    def _has(self, feature: str) -> bool:
        has = getattr(self.client or self._class, "has", {}) or {}
        return bool(has.get(feature))

    # A property where the native adapters have a class attribute: one class serves every ccxt
    # id, so the capabilities are derived per instance.
    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        """What ccxt's ``has`` says for this id, within the bridge's limits (``capabilities``)."""
        source = self.client
        if source is None:
            # Not connected: a bare instance, since ccxt's class holds only the defaults of has.
            if self._described is None:
                self._described = self._class()
            source = self._described
        if self._derived is None or self._derived[0] is not source:
            self._derived = (source, derive(self.name, source, self.family))
        return self._derived[1]

    def _require(self, feature: str, what: str) -> None:
        # The declared entry decides (derived from the same has): one reason, one shape.
        key = OPERATION_OF[feature]
        if not self.capabilities.supports(key):
            error = self.capabilities.error(key)
            error.hint = f"{what} is not available through ccxt for this exchange."
            raise error

    def market_group(self, symbol: Symbol) -> str:
        """Every market loads at once; a market type ccxt lacks for this id is ``NotSupported``."""
        self.capabilities.require(f"market.{market_type(symbol)}", subject=str(symbol))
        return "all"

    def _symbol(self, item: Mapping[str, Any], default: str) -> str:
        symbol = item.get("symbol")
        return symbol if isinstance(symbol, str) and symbol else default

    def _unified(self, model: M) -> M:
        """``model`` in the interface's units: ccxt counts contracts, the interface does not."""
        market = self.markets.get(getattr(model, "symbol", ""))
        return model if market is None else unified(model, market)

    def _ack(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order:
        """A write's answer, completed from the request and stamped."""
        return self._stamped(_complete(self._order(symbol, data), known))

    def _stamped(self, order: Order) -> Order:
        """An answer without any time gets ccxt's clock reading of when it came back."""
        if order.timestamp is not None or order.updated is not None:
            return order
        return attrs.evolve(order, updated=int(self.client.milliseconds()))

    def _scope(self, symbol: Symbol | None) -> Flow[str | None]:
        """A listing's market name (None: every market, whose units must then be known)."""
        if symbol is None:
            yield from self.load_markets()
            return None
        return (yield from self.market(symbol)).symbol

    def _order(self, default: str, item: Any) -> Order:
        if not isinstance(item, Mapping):
            raise TypeError(f"ccxt returned {type(item).__name__} where an order belongs")
        order = self._unified(convert.order(self._symbol(item, default), item))
        market = self.markets.get(order.symbol)
        if order.reduce_only is None and market is not None and market.spot:
            # Spot orders cannot reduce a position; ccxt leaves the flag empty for them.
            order = attrs.evolve(order, reduce_only=False)
        if order.time_in_force is None and self.family == "okx":
            # ccxt's okx parser leaves a plain limit order's time in force empty; OKX's own
            # ordType says it (as the native adapter reads it).
            info = order.raw.get("info") if isinstance(order.raw, Mapping) else None
            ord_type = info.get("ordType") if isinstance(info, Mapping) else None
            found = okx_parse.ORDER_TYPES.get(str(ord_type))
            if found is not None:
                tif = found[1]
                order = attrs.evolve(order, time_in_force=tif, post_only=tif == "PO")
        return order

    def _orders(self, default: str, items: Any) -> list[Order]:
        if not isinstance(items, list):
            raise TypeError(f"ccxt returned {type(items).__name__} where a list belongs")
        return [self._order(default, item) for item in items]

    # -- markets --------------------------------------------------------------------------

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """Every market ccxt lists (ccxt's ``load_markets(reload=True)``)."""
        response = yield ccxt_request("load_markets", True)
        mode = int(getattr(self.client, "precisionMode", convert.TICK_SIZE) or convert.TICK_SIZE)
        found = [convert.market(item, mode) for item in dict(response.data).values()]
        return [market for market in found if market is not None]

    # -- market data ----------------------------------------------------------------------

    def fetch_time(self) -> Flow[int]:
        """ccxt's ``fetch_time``."""
        self._require("fetchTime", "The server time")
        response = yield self.time_request()
        return self.parse_time(response)

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """ccxt's ``fetch_ticker``."""
        market = yield from self.market(symbol)
        self._require("fetchTicker", "A ticker")
        response = yield ccxt_request("fetch_ticker", market.symbol)
        return self._unified(convert.ticker(market.symbol, response.data))

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """ccxt's ``fetch_tickers`` (for ``symbols``, or everything ccxt returns)."""
        yield from self.load_markets()
        self._require("fetchTickers", "Several tickers at once")
        wanted = None if symbols is None else [str(s) for s in symbols]
        response = yield ccxt_request("fetch_tickers", wanted)
        tickers: dict[str, Ticker] = {}
        for key, item in dict(response.data).items():
            symbol = self._symbol(item, str(key))
            if wanted is None or symbol in wanted:
                tickers[symbol] = self._unified(convert.ticker(symbol, item))
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """ccxt's ``fetch_order_book``, cut to ``limit`` levels a side."""
        market = yield from self.market(symbol)
        self._require("fetchOrderBook", "The order book")
        response = yield ccxt_request("fetch_order_book", market.symbol, limit)
        return self._unified(convert.order_book(market.symbol, response.data, limit))

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """ccxt's ``fetch_trades``, oldest first."""
        market = yield from self.market(symbol)
        self._require("fetchTrades", "Recent trades")
        response = yield ccxt_request("fetch_trades", market.symbol, None, limit)
        trades = [
            self._unified(convert.trade(self._symbol(i, market.symbol), i)) for i in response.data
        ]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """ccxt's ``fetch_ohlcv``, oldest first."""
        market = yield from self.market(symbol)
        self._require("fetchOHLCV", "Candles")
        timeframes = getattr(self.client, "timeframes", None) or {}
        if timeframes and timeframe not in timeframes:
            raise BadRequest(
                f"ccxt's {self.name} has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(timeframes)}.",
            )
        response = yield ccxt_request("fetch_ohlcv", market.symbol, timeframe, since, limit)
        candles = [convert.candle(row) for row in response.data]
        candles.sort(key=lambda c: c.timestamp)
        return candles

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """ccxt's ``fetch_funding_rate`` (perpetual swaps only)."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        self._require("fetchFundingRate", "The funding rate")
        response = yield ccxt_request("fetch_funding_rate", market.symbol)
        rate = convert.funding_rate(market.symbol, response.data)
        info = response.data.get("info")
        if rate.timestamp is None and self.family == "okx" and isinstance(info, Mapping):
            # ccxt's okx parser drops the answer's time; OKX sends it as ts (as the native
            # adapter reads it).
            rate = attrs.evolve(rate, timestamp=ms(info.get("ts")))
        return rate

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """ccxt's ``fetch_funding_rate_history`` page by page, oldest first.

        From ``since`` the pages go forward by ccxt's ``since``. Without it the first page is
        the latest, and older ones are read in windows of one page of intervals before the
        oldest in hand, each forward to its end (ccxt's ``until``). OKX is paged back by its
        ``after``: ccxt sends ``since`` as OKX's ``before``, which alone answers the newest
        records.
        """
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        self._require("fetchFundingRateHistory", "The funding rate history")
        want = limit or FUNDING_HISTORY_LIMIT
        page = _FUNDING_PAGES.get(self.family or "", 100)
        found: dict[int, FundingRecord] = {}

        def call(start: int | None, size: int, params: dict[str, Any]) -> Flow[int]:
            """One page into ``found``: how many records were new (the oldest in ``last``)."""
            response = yield ccxt_request(
                "fetch_funding_rate_history", market.symbol, start, size, params
            )
            records = [convert.funding_record(market.symbol, i) for i in response.data]
            last[:] = [min((r.timestamp for r in records), default=0), len(records)]
            fresh = 0
            for record in records:
                if record.timestamp not in found:
                    found[record.timestamp] = record
                    fresh += 1
            return fresh

        last = [0, 0]

        def oldest() -> int:
            return min(found)

        if self.family == "okx":
            params: dict[str, Any] = {}
            for _ in range(_MAX_PAGES):
                before = len(found)
                yield from call(None, page, params)
                if len(found) - before < page or (since is None and len(found) >= want):
                    break
                if since is not None and oldest() <= since:
                    break
                params = {"after": str(oldest())}
        elif since is not None:
            start = since
            for _ in range(_MAX_PAGES):
                size = min(page, want - len(found))
                fresh = yield from call(start, size, {})
                # A full page answered newest first (ccxt's Bybit window can hold one record
                # more than the page) may leave records between start and its oldest.
                for _ in range(_MAX_PAGES):
                    if last[1] < size or last[0] <= start:
                        break
                    fresh += yield from call(start, size, {"until": last[0] - 1})
                if not fresh or len(found) >= want:
                    break
                start = max(found) + 1
        else:
            more = (yield from call(None, min(page, want), {})) >= min(page, want)
            for _ in range(_MAX_PAGES):
                if not more or len(found) >= want:
                    break
                times = sorted(found)
                gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
                every = min(gaps, default=_EIGHT_HOURS_MS)
                end = times[0] - 1
                start = max(times[0] - min(page, want - len(found)) * every, 0)
                got = 0
                for _ in range(_MAX_PAGES):
                    fresh = yield from call(start, page, {"until": end})
                    got += fresh
                    if not fresh or max(found) >= end:
                        break
                    start = max(t for t in found if t <= end) + 1
                more = got > 0
        ordered = sorted(found.values(), key=lambda r: r.timestamp)
        if since is None:
            return ordered[-want:]
        return [r for r in ordered if r.timestamp >= since][:want]

    # -- account --------------------------------------------------------------------------

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """ccxt's ``fetch_balance``, of ``market_type``'s wallet (ccxt's ``type`` parameter)."""
        self._require("fetchBalance", "The balance")
        params = {} if market_type is None else {"type": market_type}
        response = yield ccxt_request("fetch_balance", params)
        return convert.balances(response.data)

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """ccxt's ``fetch_trading_fee`` (or its ``fetch_trading_fees`` for the symbol)."""
        market = yield from self.market(symbol)
        if self._has("fetchTradingFee"):
            response = yield ccxt_request("fetch_trading_fee", market.symbol)
            return convert.trading_fee(market.symbol, response.data)
        self._require("fetchTradingFees", "Trading fees")
        response = yield ccxt_request("fetch_trading_fees")
        fees = response.data.get(market.symbol)
        if not isinstance(fees, Mapping):
            raise NotSupported(
                f"ccxt's {self.name} lists no trading fee for {market.symbol}", exchange=self.name
            )
        return convert.trading_fee(market.symbol, fees)

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """Not offered: ccxt has no unified call for an API key's permissions."""
        return self._nope("fetch_key_info", "ccxt has no unified call for a key's permissions")

    # -- orders ---------------------------------------------------------------------------

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """ccxt's ``create_order`` with our client order id, placed exactly once."""
        self._require("createOrder", "Placing orders")
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        params: dict[str, Any] = {"clientOrderId": args.client_order_id}
        if args.post_only:
            params["postOnly"] = True
        elif args.time_in_force is not None:
            params["timeInForce"] = args.time_in_force
        if args.reduce_only:
            params["reduceOnly"] = True
        if self.family == "okx" and market.symbol in self.margin_modes:
            params["marginMode"] = self.margin_modes[market.symbol]
        params.update(_plain_params(args.params))
        request = ccxt_request(
            "create_order",
            market.symbol,
            args.type,
            args.side,
            native_amount(market, args.amount, exchange=self.name),
            args.price,
            params,
            write=True,
        )
        known: dict[str, Any] = {
            "client_order_id": args.client_order_id,
            "type": args.type,
            "side": args.side,
            "price": args.price,
            "amount": args.amount,
            "time_in_force": "PO" if args.post_only else args.time_in_force or "GTC",
            "post_only": args.post_only,
            "reduce_only": args.reduce_only,
        }
        return (
            yield from place_once(
                request,
                args.client_order_id,
                lambda: self._placed(market, args.client_order_id),
                lambda response: self._ack(market.symbol, response.data, known),
                ids_unique=self.family in _UNIQUE_CLIENT_IDS,
            )
        )

    def _placed(self, market: Market, client_order_id: str) -> Flow[Order | None]:
        """After an unknown outcome: the order by client order id; None only if proven absent."""
        if self.family in CLIENT_ID_LOOKUP and self._has("fetchOrder"):
            try:
                response = yield self._fetch_by_client_id(market, client_order_id)
            except OrderNotFound:
                return None
            return self._order(market.symbol, response.data)
        found = yield from self._scan(market, None, client_order_id)
        if found is None:
            raise OrderNotFound(
                f"the order {client_order_id} is in none of {self.name}'s order lists, which "
                "does not prove it was not placed",
                exchange=self.name,
            )
        return found

    def _fetch_by_client_id(self, market: Market, client_order_id: str) -> Request:
        return ccxt_request("fetch_order", None, market.symbol, {"clientOrderId": client_order_id})

    def _listings(self) -> list[str]:
        if self._has("fetchOrders"):
            return ["fetch_orders"]
        methods = ["fetch_open_orders"] if self._has("fetchOpenOrders") else []
        if self._has("fetchCanceledAndClosedOrders"):
            methods.append("fetch_canceled_and_closed_orders")
        else:
            methods.extend(
                m
                for m, feature in (
                    ("fetch_closed_orders", "fetchClosedOrders"),
                    ("fetch_canceled_orders", "fetchCanceledOrders"),
                )
                if self._has(feature)
            )
        return methods

    def _scan(
        self, market: Market, order_id: str | None, client_order_id: str | None
    ) -> Flow[Order | None]:
        """Search the order lists for an order by id or client order id."""
        methods = self._listings()
        if not methods:
            raise NotSupported(
                f"ccxt's {self.name} can neither fetch an order nor list orders",
                exchange=self.name,
            )
        for method in methods:
            response = yield ccxt_request(method, market.symbol)
            for item in response.data:
                if (order_id is not None and str(item.get("id")) == order_id) or (
                    client_order_id is not None and item.get("clientOrderId") == client_order_id
                ):
                    return self._order(market.symbol, item)
        return None

    def _find(self, market: Market, ref: OrderRef) -> Flow[Order | None]:
        """The order of ``ref``, or None when the exchange (or its lists) do not have it."""
        authoritative = self.family in CLIENT_ID_LOOKUP
        if self._has("fetchOrder") and (ref.id is not None or authoritative):
            try:
                if ref.id is not None:
                    response = yield ccxt_request("fetch_order", ref.id, market.symbol)
                else:
                    assert ref.client_order_id is not None
                    response = yield self._fetch_by_client_id(market, ref.client_order_id)
                return self._order(market.symbol, response.data)
            except OrderNotFound:
                if authoritative:
                    return None
            except (BadRequest, NotSupported):
                # e.g. Bybit's fetchOrder wants params["acknowledged"]: the lists answer.
                pass
        return (yield from self._scan(market, ref.id, ref.client_order_id))

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """ccxt's ``fetch_order``, else a search of the open and closed order lists."""
        market = yield from self.market(ref.symbol)
        found = yield from self._find(market, ref)
        if found is None:
            raise OrderNotFound(
                f"{self.name} has no order {ref.id or ref.client_order_id} on {market.symbol}",
                exchange=self.name,
                endpoint="ccxt fetch_order",
            )
        return found

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """ccxt's ``edit_order``; the order is fetched first for the type and side ccxt needs."""
        self._require("editOrder", "Amending orders")
        self.capabilities.require("amend_order", market=market_type(args.ref.symbol))
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        current = yield from self.fetch_order(args.ref)
        amount = args.amount if args.amount is not None else current.amount
        price = args.price if args.price is not None else current.price
        request = ccxt_request(
            "edit_order",
            current.id,
            market.symbol,
            current.type or "limit",
            current.side,
            None if amount is None else native_amount(market, amount, exchange=self.name),
            price,
            {},
            write=True,
        )
        known = {"client_order_id": current.client_order_id, "amount": amount, "price": price}
        ref = attrs.evolve(args.ref, id=current.id)
        return (
            yield from amend_settled(
                request,
                lambda: self._find(market, ref),
                lambda order: (
                    (args.price is None or order.price == args.price)
                    and (args.amount is None or order.amount == args.amount)
                ),
                lambda response: self._ack(market.symbol, response.data, known),
            )
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """ccxt's ``cancel_order`` by id.

        By client order id alone: passed as ccxt's ``clientOrderId`` param where ccxt maps it
        (``CLIENT_ID_LOOKUP``); elsewhere (Bybit's ccxt class ignores it) the order is fetched
        first for its id.
        """
        market = yield from self.market(ref.symbol)
        self._require("cancelOrder", "Cancelling orders")
        if ref.id is None and self.family not in CLIENT_ID_LOOKUP:
            current = yield from self.fetch_order(ref)
            ref = attrs.evolve(ref, id=current.id)
        params = {} if ref.id is not None else {"clientOrderId": ref.client_order_id}
        request = ccxt_request("cancel_order", ref.id, market.symbol, params, write=True)
        known = {"id": ref.id, "client_order_id": ref.client_order_id}
        return (
            yield from cancel_settled(
                request,
                lambda: self._find(market, ref),
                lambda response: self._cancelled(market.symbol, response.data, known),
            )
        )

    def _cancelled(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order:
        return self._stamped(_complete(_cancel_ack(self._order(symbol, data)), known))

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """ccxt's ``cancel_all_orders`` per market; without it, each open order is cancelled.

        Without a symbol, the markets with open orders are found first: ccxt's own call
        without one covers a single market type on most exchanges (Bybit's default category,
        Binance not at all).
        """
        if symbol is None:
            cancelled: list[Order] = []
            open_orders = yield from self.fetch_open_orders(None)
            for name in sorted({o.symbol for o in open_orders}):
                cancelled.extend((yield from self.cancel_all_orders(parse_symbol(name))))
            return cancelled
        name = (yield from self.market(symbol)).symbol
        if self._has("cancelAllOrders"):
            # Read first: some exchanges answer a cancel-all with a bare success (Binance
            # USD-M's allOpenOrders), and the caller is owed the orders it cancelled.
            before = yield from self.fetch_open_orders(symbol)
            try:
                response = yield ccxt_request("cancel_all_orders", name, write=True)
            except OrderNotFound:
                # Binance answers a cancel-all with nothing open as an unknown order (-2011).
                if before:
                    raise
                return []
            data = response.data
            items = data if isinstance(data, list) else []
            acks = [
                self._stamped(_cancel_ack(self._order(name or "", item)))
                for item in items
                if isinstance(item, Mapping) and item.get("id") is not None
            ]
            if acks:
                return acks
            return [attrs.evolve(order, status="canceled") for order in before]
        cancelled = []
        for order in (yield from self.fetch_open_orders(symbol)):
            ref = OrderRef(
                parse_symbol(order.symbol), order.id, None if order.id else order.client_order_id
            )
            cancelled.append((yield from self.cancel(ref)))
        return cancelled

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """ccxt's ``fetch_open_orders``; without a symbol, once per market type listed.

        ccxt's call without a symbol lists one market type on most exchanges (Bybit's default
        category, Binance's spot), so each type the exchange lists is asked for in turn with
        ccxt's own ``type``/``subType`` parameters.
        """
        name = yield from self._scope(symbol)
        self._require("fetchOpenOrders", "Listing open orders")
        scopes: list[dict[str, str]] = [{}] if name is not None else self._market_scopes()
        found: dict[str, Order] = {}
        for params in scopes:
            response = yield ccxt_request("fetch_open_orders", name, None, None, params)
            for order in self._orders(name or "", response.data):
                if order.status in (None, "open"):
                    # Ids are unique per market only (Binance numbers each symbol's orders).
                    key = f"{order.symbol} {order.id or order.client_order_id or len(found)}"
                    found.setdefault(key, order)
        return list(found.values())

    def _market_scopes(self) -> list[dict[str, str]]:
        """ccxt's ``type``/``subType`` of every kind of market loaded (spot, linear swaps...)."""
        scopes: dict[tuple[str, str], dict[str, str]] = {}
        for market in self.markets.values():
            if market.spot:
                scopes[("spot", "")] = {"type": "spot"}
            elif market.type in ("swap", "future"):
                sub = "inverse" if market.inverse else "linear"
                scopes[(market.type, sub)] = {"type": market.type, "subType": sub}
        return [scopes[key] for key in sorted(scopes)]

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """Closed, cancelled, rejected and expired orders, newest first."""
        name = yield from self._scope(symbol)
        if self._has("fetchCanceledAndClosedOrders"):
            methods = ["fetch_canceled_and_closed_orders"]
        else:
            self._require("fetchClosedOrders", "Listing closed orders")
            methods = ["fetch_closed_orders"]
            if self._has("fetchCanceledOrders"):
                methods.append("fetch_canceled_orders")
        found: dict[str, Order] = {}
        for method in methods:
            response = yield ccxt_request(method, name, since, limit)
            for order in self._orders(name or "", response.data):
                if order.status in _TERMINAL:
                    found.setdefault(order.id or order.client_order_id or str(len(found)), order)
        closed = sorted(found.values(), key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """ccxt's ``fetch_my_trades``, newest first."""
        name = yield from self._scope(symbol)
        self._require("fetchMyTrades", "The account's trades")
        response = yield ccxt_request("fetch_my_trades", name, since, limit)
        fills = [self._unified(convert.fill(self._symbol(i, name or ""), i)) for i in response.data]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """ccxt's ``fetch_positions``, non-empty positions only."""
        names = None
        yield from self.load_markets()
        if symbols:
            names = []
            for symbol in symbols:
                names.append((yield from self.market(symbol)).symbol)
        self._require("fetchPositions", "Positions")
        response = yield ccxt_request("fetch_positions", names)
        positions = []
        for item in response.data:
            position = convert.position(self._symbol(item, ""), item)
            if position is not None:
                positions.append(self._unified(self._with_leverage(position, item)))
        return (yield from modes_api.with_margin_modes(self, positions))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """ccxt's ``set_margin_mode`` (Bybit: the whole account; ``modes.py``)."""
        return modes_api.set_margin_mode(self, mode, symbol)

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """ccxt's ``set_position_mode`` (``modes.py``)."""
        return modes_api.set_position_mode(self, hedged, symbol)

    def _with_leverage(self, position: Position, item: Mapping[str, Any]) -> Position:
        """Binance USD-M's positionRisk v3 has no ``leverage`` (ccxt then reports none): it is
        derived from the raw item as the native adapter does (|notional| / initial margin)."""
        info = item.get("info")
        if position.leverage is not None or self.family != "binance" or not isinstance(info, dict):
            return position
        native = binance_parse.parse_position(position.symbol, info)
        if native is None or native.leverage is None:
            return position
        return attrs.evolve(position, leverage=native.leverage)

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """ccxt's ``set_leverage`` (contracts only; OKX: cross margin, ccxt's default).

        The value already in force succeeds: Bybit's 110043 ("not modified") included.
        """
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        self._require("setLeverage", "Setting the leverage")
        # ccxt takes a number and checks it as one (Binance 1-125): an int when whole, else a
        # float, which ccxt writes back as the same short decimal (2.5 -> "2.5").
        number: int | float = (
            int(leverage) if leverage == leverage.to_integral_value() else float(leverage)
        )
        raw: Any
        try:
            response = yield ccxt_request("set_leverage", number, market.symbol)
            raw = response.data
        except BadRequest as err:
            if self.family != "bybit" or str(err.code) != "110043":
                raise
            raw = {"retCode": 110043, "retMsg": err.message}
        return LeverageSetting(symbol=market.symbol, leverage=leverage, raw=raw)


def _complete(order: Order, known: Mapping[str, Any]) -> Order:
    """Fill what an acknowledgement left out from what the request itself said.

    Only an acknowledgement (no status: Bybit's and OKX's answers to writes carry ids only) is
    completed, as the native adapters do; a full order stays as the exchange reported it.
    """
    if order.status is not None:
        return order
    missing = {k: v for k, v in known.items() if getattr(order, k) is None and v is not None}
    return attrs.evolve(order, **missing) if missing else order


def _cancel_ack(order: Order) -> Order:
    """A cancel answer's own client id names the cancel request on some exchanges (Binance)."""
    raw = order.raw.get("info") if isinstance(order.raw, Mapping) else None
    original = raw.get("origClientOrderId") if isinstance(raw, Mapping) else None
    return attrs.evolve(order, client_order_id=str(original)) if original else order
