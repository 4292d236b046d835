"""The Bybit v5 adapter: every operation of the interface as a flow over Bybit's REST API."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from adapters.bybit import funding, parse
from adapters.bybit import leverage as leverage_api
from adapters.bybit import modes as modes_api
from adapters.bybit import triggers as triggers_api
from adapters.bybit.batch import BybitBatches, order_fields
from adapters.bybit.capabilities import CAPABILITIES
from adapters.bybit.hosts import ENVIRONMENTS, rest_host
from adapters.bybit.limits import limit_for
from adapters.bybit.requests import RequestBuilder
from adapters.bybit.signer import BybitSigner
from exchanges.adapter import FUNDING_HISTORY_LIMIT, Adapter
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef, TradingStopArgs
from exchanges.capabilities import market_type
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.decimals import to_wire
from exchanges.errors import (
    BadRequest,
    BadResponse,
    BadSymbol,
    OrderNotFound,
)
from exchanges.flow import Flow
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
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol
from exchanges.wire import PreEncoded, Prepared, Request, Response, Role

__all__ = ["BybitAdapter"]

# Unified timeframe -> (Bybit interval, length in ms; months vary and are not windowed).
TIMEFRAMES: dict[str, tuple[str, int]] = {
    "1m": ("1", 60_000),
    "3m": ("3", 180_000),
    "5m": ("5", 300_000),
    "15m": ("15", 900_000),
    "30m": ("30", 1_800_000),
    "1h": ("60", 3_600_000),
    "2h": ("120", 7_200_000),
    "4h": ("240", 14_400_000),
    "6h": ("360", 21_600_000),
    "12h": ("720", 43_200_000),
    "1d": ("D", 86_400_000),
    "1w": ("W", 604_800_000),
    "1M": ("M", 0),
}

_BOOK_LIMITS = {"spot": 1000, "linear": 1000, "inverse": 1000, "option": 25}
_TRADE_LIMITS = {"spot": 60, "linear": 1000, "inverse": 1000, "option": 1000}
_CLOSED = ("closed", "canceled", "rejected", "expired")
_TRADE_EXEC_TYPES = {"Trade", "AdlTrade", "BustTrade", "BlockTrade"}
_MAX_PAGES = 200
_HISTORY_WINDOW_MS = 7 * 86_400_000


def category_of(symbol: Symbol) -> str:
    """Bybit's category of a unified symbol."""
    kind = symbol.kind
    if kind == "spot":
        return "spot"
    if kind == "option":
        return "option"
    return "linear" if symbol.linear else "inverse"


class BybitAdapter(BybitBatches, Adapter):
    """Bybit v5: spot, linear, inverse (and option market data, orders and positions)."""

    name = "bybit"
    environments = ENVIRONMENTS
    option_names = ("region",)
    client_id_params = ("orderLinkId",)
    capabilities = CAPABILITIES
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "category": "symbol",
        "symbol": "symbol",
        "side": "side",
        "orderType": "type",
        "qty": "amount",
        "marketUnit": "amount (always in the base currency)",
        "price": "price",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
        **triggers_api.RESERVED,
    }

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
        if not 0 < recv_window_ms <= 60_000:
            raise ValueError("recv_window_ms must be in (0, 60000]")
        #: The regional site (``"nl"``, ``"tr"``, ...), or None for the global one.
        self.region: str | None = self.options.pop("region", None)
        self.base_url = self.base_url_override or rest_host(env, self.region)
        self.build = RequestBuilder(self.base_url)
        self.signer = BybitSigner(recv_window_ms)
        self._by_id: dict[tuple[str, str], Market] = {}

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Bybit's ``X-BAPI-*`` headers over the exact query or body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def decode(self, response: Response) -> None:
        """Check Bybit's envelope (retCode) or HTTP status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /v5/market/time``."""
        return self.build.server_time()

    def parse_time(self, response: Response) -> int:
        """Server time in ms: ``timeNano`` when present, else the envelope's ``time``."""
        res = parse.result(response)
        nano = res.get("timeNano")
        if isinstance(nano, str) and nano.isascii() and nano.isdigit():
            return int(nano) // 1_000_000
        stamp = parse.envelope_time(response)
        if stamp is None:
            raise BadResponse("no server time in the response", exchange=self.name)
        return stamp

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """Documented per-UID limits per route, plus the IP budget."""
        return {}, limit_for

    def observe(self, response: Response, limiter: RateLimiter, clock: ServerClock) -> None:
        """Apply ``X-Bapi-Limit``/``-Status``/``-Reset-Timestamp`` to the route's window."""
        headers = response.headers
        status = headers.get("X-Bapi-Limit-Status")
        request = response.request
        if status is None or request is None or not request.rate_keys:
            return
        try:
            remaining = int(status)
            limit_text = headers.get("X-Bapi-Limit")
            limit = int(limit_text) if limit_text else None
            reset_in = None
            if remaining <= 0:
                # The reset time matters only once the quota is spent.
                reset_text = headers.get("X-Bapi-Limit-Reset-Timestamp")
                if reset_text:
                    server_now = clock.now_ms() + clock.offset_ms
                    reset_in = (int(reset_text) - server_now) / 1000
        except ValueError:
            return
        limiter.update(request.rate_keys[0], limit=limit, remaining=remaining, reset_in=reset_in)

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """Markets load per category; options per base coin (Bybit lists them that way)."""
        category = category_of(symbol)
        return f"option:{symbol.base}" if category == "option" else category

    def market_groups(self) -> tuple[str, ...]:
        """``load_markets`` loads spot, linear and inverse; options load on first use."""
        return ("spot", "linear", "inverse")

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """All pages of ``/v5/market/instruments-info`` for one category."""
        category, _, base_coin = group.partition(":")
        extra = {"baseCoin": base_coin} if base_coin else {}
        items = yield from self._pages(
            lambda cursor: self.build.instruments(category, cursor, **extra), None
        )
        return [parse.parse_market(category, item) for item in items]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep (category, native id) → market for parsing responses."""
        for market in markets:
            self._by_id[(market.category or group, market.id)] = market

    def _symbol(self, category: str, native: Any) -> str:
        market = self._by_id.get((category, str(native)))
        return market.symbol if market is not None else str(native)

    def _ensure_groups(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))

    def _scan_targets(self) -> Flow[list[tuple[str, dict[str, str]]]]:
        """Every (category, filter) that together covers all of an account's orders/positions.

        Linear and inverse queries need a symbol, base coin or settle coin: the settle coins
        come from the loaded markets.
        """
        yield from self._ensure_groups(("spot", "linear", "inverse"))
        targets: list[tuple[str, dict[str, str]]] = [("spot", {})]
        for category in ("linear", "inverse"):
            settles = sorted(
                {m.settle for (c, _), m in self._by_id.items() if c == category and m.settle}
            )
            targets.extend((category, {"settleCoin": coin}) for coin in settles)
        return targets

    def _pages(
        self, make: Callable[[PreEncoded | None], Request], want: int | None
    ) -> Flow[list[Any]]:
        """Follow ``nextPageCursor`` until the end or until ``want`` items are collected."""
        items: list[Any] = []
        cursor: PreEncoded | None = None
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            response = yield make(cursor)
            res = parse.result(response)
            page = res.get("list")
            if not isinstance(page, list):
                raise BadResponse("result.list is missing", exchange=self.name)
            items.extend(page)
            received = res.get("nextPageCursor") or None
            if received is not None and not isinstance(received, str):
                raise BadResponse("result.nextPageCursor is not a string", exchange=self.name)
            if not received or received in seen or (want is not None and len(items) >= want):
                break
            seen.add(received)
            # The cursor comes percent-encoded and goes back as received ("cursor: Use the
            # nextPageCursor token from the response", Request Parameters of
            # https://bybit-exchange.github.io/docs/v5/order/open-order): encoded once more,
            # its "%3A" would reach Bybit as "%253A", a cursor it never issued.
            cursor = PreEncoded(received)
        return items

    # -- market data ----------------------------------------------------------------------

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """``/v5/market/tickers`` for one symbol."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.tickers(category, market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no ticker for {market.symbol}", exchange=self.name)
        return parse.parse_ticker(market.symbol, category, items[0], parse.envelope_time(response))

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """All tickers of the categories involved (spot, linear, inverse when none given)."""
        if symbols is None:
            categories = ["spot", "linear", "inverse"]
        else:
            categories = sorted({category_of(s) for s in symbols})
            if "option" in categories:
                raise self.capabilities.error("fetch_tickers", market="option")
        yield from self._ensure_groups(categories)
        wanted = None if symbols is None else {str(s) for s in symbols}
        tickers: dict[str, Ticker] = {}
        for category in categories:
            response = yield self.build.tickers(category)
            ts = parse.envelope_time(response)
            for item in parse.result_list(response):
                market = self._by_id.get((category, str(item.get("symbol"))))
                if market is None or (wanted is not None and market.symbol not in wanted):
                    continue
                tickers[market.symbol] = parse.parse_ticker(market.symbol, category, item, ts)
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``/v5/market/orderbook`` (default depth 50; 25 for options)."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        maximum = _BOOK_LIMITS[category]
        if limit is not None and limit > maximum:
            raise BadRequest(
                f"Bybit's {category} order book goes to {maximum} levels, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {maximum}.",
            )
        depth = limit if limit is not None else min(50, maximum)
        response = yield self.build.orderbook(category, market.id, depth)
        return parse.parse_order_book(market.symbol, parse.result(response))

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """``/v5/market/recent-trade``, oldest first."""
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        maximum = _TRADE_LIMITS[category]
        if limit is not None and limit > maximum:
            raise BadRequest(
                f"Bybit returns at most {maximum} recent {category} trades, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {maximum}.",
            )
        response = yield self.build.recent_trades(category, market.id, limit)
        trades = [parse.parse_trade(market.symbol, i) for i in parse.result_list(response)]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """``/v5/market/kline``, oldest first; pages of 1000 when ``limit`` asks for more."""
        # Before the lookup: options have no klines whether or not the market is loaded.
        self.capabilities.require("fetch_ohlcv", market=market_type(symbol))
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        spec = TIMEFRAMES.get(timeframe)
        if spec is None:
            raise BadRequest(
                f"Bybit has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        interval, step = spec
        want = limit if limit is not None else 200
        candles: dict[int, Candle] = {}
        start, end = since, None
        for _ in range(_MAX_PAGES):
            page = min(1000, want - len(candles))
            if page <= 0:
                break
            if start is not None and step:
                # An explicit window makes the page deterministic (Bybit pages newest first).
                end = start + (page - 1) * step
            response = yield self.build.kline(category, market.id, interval, start, end, page)
            rows = parse.result(response).get("list")
            if not isinstance(rows, list):
                raise BadResponse("kline result.list is missing", exchange=self.name)
            batch = parse.parse_candles(category, rows)
            fresh = [c for c in batch if c.timestamp not in candles]
            for candle in fresh:
                candles[candle.timestamp] = candle
            if not fresh or not step:
                break
            if start is not None:
                start = batch[-1].timestamp + step
            else:
                end = batch[0].timestamp - 1
        ordered = sorted(candles.values(), key=lambda c: c.timestamp)
        return ordered[:want] if since is not None else ordered[-want:]

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """``/v5/market/tickers`` of a perpetual swap: the next settlement's rate."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        response = yield self.build.tickers(market.category or category_of(symbol), market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no ticker for {market.symbol}", exchange=self.name)
        return funding.parse_funding_rate(market, items[0], parse.envelope_time(response))

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/v5/market/funding/history``, oldest first, in pages of 200 (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, category, since, want))

    # -- account --------------------------------------------------------------------------

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """``/v5/account/wallet-balance`` of the unified account, which backs every type."""
        response = yield self.build.wallet_balance()
        return parse.parse_balances(parse.result_list(response), parse.envelope_time(response))

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/v5/account/fee-rate`` for one symbol (not offered by demo trading)."""
        self.capabilities.require("fetch_trading_fee", env=self.env)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.fee_rate(category, market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no fee rate for {market.symbol}", exchange=self.name)
        return parse.parse_trading_fee(market.symbol, items[0])

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/v5/user/query-api`` for the key of ``role``."""
        response = yield self.build.query_api(role)
        return parse.parse_key_info(parse.result(response))

    # -- orders ---------------------------------------------------------------------------

    @staticmethod
    def _id_params(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            return {"orderId": ref.id}
        assert ref.client_order_id is not None
        return {"orderLinkId": ref.client_order_id}

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``/v5/order/create`` with an ``orderLinkId`` always set, placed exactly once.

        When the outcome is unknown (timeout after sending, dropped connection, 5xx, 10016) the
        order is looked up by that id; it is resent only if it provably does not exist, and a
        110072 after the resend means the first attempt had landed.
        """
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        category = market.category or category_of(args.symbol)
        # The plain order's fields, as each order of a batch has them (batch.py).
        body: dict[str, Any] = {"category": category, **order_fields(args, market, category)}
        if args.conditional or args.attached:
            body.update(triggers_api.order_fields(args, category))
        body.update(args.params)
        request = self.build.create_order(body, category)
        known = {
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
                lambda: self._find(market, {"orderLinkId": args.client_order_id}),
                lambda response: parse.parse_ack(market.symbol, response, **known),
                # "orderLinkId ... must be unique" (https://bybit-exchange.github.io/docs/v5/
                # order/create-order): a late original of a resent order is refused (110072).
                ids_unique=True,
            )
        )

    def _find(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]:
        """Look an order up in realtime, then in history."""
        category = market.category or "spot"
        params = {"category": category, "symbol": market.id, **ids}
        for path in ("/v5/order/realtime", "/v5/order/history"):
            response = yield self.build.orders(path, params, category)
            items = parse.result_list(response)
            if items:
                return parse.parse_order(market.symbol, items[0])
        return None

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """By id or client order id: realtime first, then history."""
        market = yield from self.market(ref.symbol)
        found = yield from self._find(market, self._id_params(ref))
        if found is None:
            raise OrderNotFound(
                f"Bybit has no order {ref.id or ref.client_order_id} on {market.symbol} "
                "(neither open nor in the history)",
                exchange=self.name,
                endpoint="GET /v5/order/history",
            )
        return found

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """``/v5/order/amend``; an unknown outcome is settled by looking at the order."""
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        category = market.category or "spot"
        body: dict[str, Any] = {"category": category, "symbol": market.id}
        body.update(self._id_params(args.ref))
        if args.amount is not None:
            body["qty"] = to_wire(args.amount)
        if args.price is not None:
            body["price"] = to_wire(args.price)
        request = self.build.amend_order(body, category)
        known = {"price": args.price, "amount": args.amount}
        return (
            yield from amend_settled(
                request,
                lambda: self._find(market, self._id_params(args.ref)),
                lambda order: self._amended(order, args),
                lambda response: parse.parse_ack(market.symbol, response, **known),
            )
        )

    @staticmethod
    def _amended(order: Order, args: AmendArgs) -> bool:
        return (args.price is None or order.price == args.price) and (
            args.amount is None or order.amount == args.amount
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``/v5/order/cancel``; an unknown outcome is settled by looking at the order."""
        market = yield from self.market(ref.symbol)
        category = market.category or "spot"
        body = {"category": category, "symbol": market.id, **self._id_params(ref)}
        try:
            return (yield from self._cancel_request(market, ref, body))
        except OrderNotFound:
            if category != "spot":
                raise
        # A spot conditional order is cancelled with orderFilter=StopOrder (triggers.py).
        return (yield from self._cancel_request(market, ref, {**body, "orderFilter": "StopOrder"}))

    def _cancel_request(self, market: Market, ref: OrderRef, body: dict[str, Any]) -> Flow[Order]:
        request = self.build.cancel_order(body, market.category or "spot")
        return (
            yield from cancel_settled(
                request,
                lambda: self._find(market, self._id_params(ref)),
                lambda response: parse.parse_ack(market.symbol, response),
            )
        )

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/v5/order/cancel-all`` for one market, or for every market with open orders."""
        if symbol is not None:
            markets = [(yield from self.market(symbol))]
        else:
            open_orders = yield from self.fetch_open_orders(None)
            symbols = sorted({o.symbol for o in open_orders})
            markets = [self.markets[s] for s in symbols if s in self.markets]
        cancelled: list[Order] = []
        for market in markets:
            category = market.category or "spot"
            body = {"category": category, "symbol": market.id}
            response = yield self.build.cancel_all(body, category)
            at = parse.envelope_time(response)
            for item in parse.result_list(response):
                cancelled.append(parse.parse_ack_item(market.symbol, item, at, status="canceled"))
        return cancelled

    def _list(
        self,
        path: str,
        symbol: Symbol | None,
        extra: dict[str, Any],
        want: int | None,
        page_size: int,
    ) -> Flow[list[tuple[str, Any]]]:
        """(category, item) pairs of a listing endpoint for one market or across the account."""
        if symbol is not None:
            market = yield from self.market(symbol)
            category = market.category or category_of(symbol)
            targets: list[tuple[str, dict[str, str]]] = [(category, {"symbol": market.id})]
        else:
            targets = yield from self._scan_targets()
        found: list[tuple[str, Any]] = []
        for category, scope in targets:

            def make(
                cursor: PreEncoded | None, c: str = category, s: dict[str, str] = scope
            ) -> Request:
                params = {"category": c, **s, **extra, "limit": page_size, "cursor": cursor}
                return self.build.orders(path, params, c)

            items = yield from self._pages(make, want)
            found.extend((category, item) for item in items)
        return found

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/v5/order/realtime``, all pages, for one market or across spot, linear, inverse."""
        pairs = yield from self._list("/v5/order/realtime", symbol, {}, None, 50)
        orders = [parse.parse_order(self._symbol(c, i.get("symbol")), i) for c, i in pairs]
        return [o for o in orders if o.status == "open"]

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``/v5/order/history`` (7-day window from ``since``), closed orders newest first."""
        extra: dict[str, Any] = {}
        if since is not None:
            extra = {"startTime": since, "endTime": since + _HISTORY_WINDOW_MS}
        pairs = yield from self._list("/v5/order/history", symbol, extra, limit, 50)
        orders = [parse.parse_order(self._symbol(c, i.get("symbol")), i) for c, i in pairs]
        closed = [o for o in orders if o.status in _CLOSED]
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """``/v5/execution/list`` (trades only, no funding), newest first."""
        extra: dict[str, Any] = {}
        if since is not None:
            extra = {"startTime": since, "endTime": since + _HISTORY_WINDOW_MS}
        pairs = yield from self._list("/v5/execution/list", symbol, extra, limit, 100)
        fills = [
            parse.parse_fill(self._symbol(c, i.get("symbol")), i)
            for c, i in pairs
            if i.get("execType", "Trade") in _TRADE_EXEC_TYPES
        ]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/v5/position/list``, non-empty positions only."""
        pairs: list[tuple[str, Any]] = []
        if symbols:
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(f"{symbol} is spot: positions are for derivatives only")
                pairs.extend((yield from self._positions_of(symbol)))
        else:
            targets = yield from self._scan_targets()
            for category, scope in targets:
                if category == "spot":
                    continue

                def make(
                    cursor: PreEncoded | None, c: str = category, s: dict[str, str] = scope
                ) -> Request:
                    params = {"category": c, **s, "limit": 200, "cursor": cursor}
                    return self.build.positions(params, c)

                items = yield from self._pages(make, None)
                pairs.extend((category, item) for item in items)
        positions = []
        for category, item in pairs:
            position = parse.parse_position(self._symbol(category, item.get("symbol")), item)
            if position is not None:
                positions.append(position)
        if positions:
            # Positions' tradeMode is deprecated: the margin mode is the account's (modes.py).
            info = yield modes_api.account_info(self.build)
            mode = modes_api.margin_mode_of(parse.result(info))
            positions = [attrs.evolve(p, margin_mode=mode) for p in positions]
        return positions

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/v5/position/set-leverage`` of a linear or inverse contract (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        return (yield from leverage_api.set_leverage(self.build, market, category, leverage))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """``/v5/account/set-margin-mode``: account-wide on Bybit (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        return (yield from modes_api.set_margin_mode(self.build, market, mode))

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/v5/position/switch-mode`` of a USDT perpetual, or of all of them (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        market = None if symbol is None else (yield from self.market(symbol))
        return (yield from modes_api.set_position_mode(self.build, market, hedged))

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """``/v5/position/trading-stop`` of the open position (``triggers.py``)."""
        market = yield from self.market(args.symbol)
        category = market.category or category_of(args.symbol)
        side = args.side
        if side is None:
            held = [
                p
                for c, item in (yield from self._positions_of(args.symbol))
                if (p := parse.parse_position(market.symbol, item)) is not None
            ]
            if not held:
                raise triggers_api.no_position(market.symbol)
            side = held[0].side
        return (yield from triggers_api.set_trading_stop(self.build, market, category, args, side))

    def _positions_of(self, symbol: Symbol) -> Flow[list[tuple[str, Any]]]:
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.positions({"category": category, "symbol": market.id}, category)
        return [(category, item) for item in parse.result_list(response)]
