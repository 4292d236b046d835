"""The Binance adapter: spot (``/api/v3``) and USD-M futures (``/fapi``) behind the interface.

Unified symbols route by kind: ``BTC/USDT`` to spot, ``BTC/USDT:USDT`` and ``BTC/USDC:USDC``
(and dated ``...-YYMMDD``) to USD-M. COIN-M (``dapi``) and options (``eapi``) are other APIs
and raise ``NotSupported``. Binance's docs: spot
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information, USD-M
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from adapters.binance import algo as algo_api
from adapters.binance import funding, parse
from adapters.binance import leverage as leverage_api
from adapters.binance import modes as modes_api
from adapters.binance.batch import BinanceBatches
from adapters.binance.capabilities import CAPABILITIES
from adapters.binance.hosts import ENVIRONMENTS, hosts_for, sapi_unsupported_reason
from adapters.binance.limits import (
    DEFAULT_LIMITS,
    HEADER,
    INTERVAL_SECONDS,
    key,
    weight_key,
)
from adapters.binance.requests import RequestBuilder
from adapters.binance.signer import BinanceSigner
from exchanges.adapter import FUNDING_HISTORY_LIMIT, Adapter
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef, TradingStopArgs
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.decimals import ZERO, to_wire
from exchanges.errors import (
    BadRequest,
    BadResponse,
    InvalidOrder,
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
from exchanges.preflight import check_order
from exchanges.ratelimit import Limit, RateLimiter
from exchanges.reconcile import amend_settled, cancel_settled, place_once
from exchanges.symbols import Symbol
from exchanges.wire import Prepared, Request, Response, Role

__all__ = ["TIMEFRAMES", "BinanceAdapter", "market_kind"]

#: Unified timeframe -> candle length in ms (Binance's interval names are the unified ones, see
#: "Kline/Candlestick data" in
#: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints;
#: "1s" is spot only; a month is not a fixed length and is never paged by time).
TIMEFRAMES: dict[str, int] = {
    "1s": 1_000,
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
    "1M": 0,
}

_USDM_DEPTHS = (5, 10, 20, 50, 100, 500, 1000)
_SPOT_DEPTH_MAX = 5000
_TRADES_MAX = 1000
_KLINES_MAX = {"spot": 1000, "usdm": 1500}
_ORDERS_MAX = 1000
_MAX_PAGES = 50
_CLOSED = frozenset({"closed", "canceled", "rejected", "expired"})

_SYMBOL_NEEDED = (
    "Binance lists {what} per symbol only ({paths} require symbol): pass symbol=..., "
    "once per market you traded"
)


def market_kind(symbol: Symbol) -> str:
    """``spot`` or ``usdm`` for a unified symbol; COIN-M and options are not offered here."""
    kind = symbol.kind
    if kind == "spot":
        return "spot"
    if kind == "option":
        raise CAPABILITIES.error("market.option", subject=str(symbol))
    if symbol.inverse or not symbol.linear:
        raise CAPABILITIES.error("market.inverse", subject=str(symbol))
    return "usdm"


class BinanceAdapter(BinanceBatches, Adapter):
    """Binance spot and USD-M futures, mainnet, testnet and demo mode."""

    name = "binance"
    environments = ENVIRONMENTS
    option_names = ("host", "wallet")
    client_id_params = ("newClientOrderId",)
    capabilities = CAPABILITIES
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "symbol": "symbol",
        "side": "side",
        "type": "type or post_only",
        "quantity": "amount",
        "quoteOrderQty": "amount (always in the base currency)",
        "price": "price",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
        "goodTillDate": "good_till",
        # The answer must carry status and fills; the signer appends the rest.
        "newOrderRespType": "the library (it reads the RESULT answer)",
        "recvWindow": "connect(recv_window_ms=...)",
        "timestamp": "the library's clock",
        "signature": "the library's signer",
        **algo_api.RESERVED,
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
        self.signer = BinanceSigner(recv_window_ms)
        #: An alternate spot mainnet host by name ("api-gcp", "api1" … "api4", see SPOT_HOSTS).
        host = self.options.pop("host", None)
        #: Which wallet ``fetch_balance`` reads: spot and USD-M are separate on Binance.
        self.wallet = self.options.pop("wallet", "spot")
        if self.wallet not in ("spot", "usdm"):
            raise ValueError("wallet must be 'spot' or 'usdm'")
        self.hosts = hosts_for(env, host, self.base_url_override)
        self.build = RequestBuilder(self.hosts)
        self._by_id: dict[tuple[str, str], Market] = {}
        # The limits currently in force per key: defaults until exchangeInfo says otherwise.
        self._limits = {name: spec.limit for name, spec in DEFAULT_LIMITS.items()}

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """``recvWindow``, ``timestamp`` and ``signature`` over the exact query or body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def decode(self, response: Response) -> None:
        """Raise the normalised error of a ``{code, msg}`` body or failed status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /api/v3/time`` (one clock serves spot and USD-M)."""
        return self.build.server_time("spot")

    def parse_time(self, response: Response) -> int:
        """``serverTime`` in ms."""
        data = response.data
        stamp = data.get("serverTime") if isinstance(data, dict) else None
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise BadResponse("no serverTime in the response", exchange=self.name)
        return stamp

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """IP weight and order-count windows per market."""
        return dict(DEFAULT_LIMITS), None

    def observe(self, response: Response, limiter: RateLimiter, clock: ServerClock) -> None:
        """Feed ``X-MBX-USED-WEIGHT-*``/``X-MBX-ORDER-COUNT-*``, Retry-After and rateLimits."""
        request = response.request
        if request is None:
            return
        market = parse.market_of_path(request.path)
        if response.status in (418, 429):
            retry_after = response.headers.get("Retry-After")
            if retry_after is not None and retry_after.isdigit():
                limiter.block_until(weight_key(market), float(retry_after))
        if response.status == 200 and request.path.endswith("/exchangeInfo"):
            self._learn_limits(market, response.body, limiter)
        server_now: int | None = None
        for name, value in response.headers.items():
            match = HEADER.match(name)
            if match is None:
                continue
            kind = "weight" if match[1].lower() == "used-weight" else "orders"
            name_key = key(market, kind, f"{match[2]}{match[3]}")
            limit = self._limits.get(name_key)
            if limit is None or not value.isdigit():
                continue
            remaining = limit - int(value)
            reset_in = None
            if remaining <= 0:
                # Binance's intervals are fixed (1M resets each minute): wait for the next one.
                if server_now is None:
                    server_now = clock.now_ms() + clock.offset_ms
                period_ms = int(match[2]) * INTERVAL_SECONDS[match[3].lower()] * 1000
                reset_in = (period_ms - server_now % period_ms) / 1000
            limiter.update(name_key, remaining=remaining, reset_in=reset_in)

    def _learn_limits(self, market: str, body: bytes, limiter: RateLimiter) -> None:
        # The limits in force are those exchangeInfo.rateLimits reports; the defaults are examples
        # ("LIMITS": https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
        try:
            entries = json.loads(body).get("rateLimits") or []
        except (ValueError, AttributeError):
            return
        kinds = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("rateLimitType") not in kinds:
                continue
            interval = str(entry.get("interval", ""))[:1].lower()
            name_key = key(
                market, kinds[entry["rateLimitType"]], f"{entry.get('intervalNum')}{interval}"
            )
            limit = entry.get("limit")
            if name_key in self._limits and isinstance(limit, int) and limit > 0:
                self._limits[name_key] = limit
                limiter.update(name_key, limit=limit)

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """``spot`` or ``usdm`` (NotSupported for COIN-M and options)."""
        return market_kind(symbol)

    def market_groups(self) -> tuple[str, ...]:
        """Spot and USD-M markets."""
        return ("spot", "usdm")

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """Every symbol of ``/api/v3/exchangeInfo`` or ``/fapi/v1/exchangeInfo``."""
        response = yield self.build.exchange_info(group)
        items = response.data.get("symbols") if isinstance(response.data, dict) else None
        if not isinstance(items, list):
            raise BadResponse("exchangeInfo has no symbols list", exchange=self.name)
        parser = parse.parse_market_usdm if group == "usdm" else parse.parse_market_spot
        return [parser(item) for item in items]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep (market, native id) → market for parsing lists."""
        for market in markets:
            self._by_id[(group, market.id)] = market

    def _symbol(self, group: str, native: Any) -> str:
        market = self._by_id.get((group, str(native)))
        return market.symbol if market is not None else str(native)

    def _ensure(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))

    @staticmethod
    def _group(market: Market) -> str:
        return market.category or ("spot" if market.spot else "usdm")

    # -- market data ----------------------------------------------------------------------

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """24hr ticker; on USD-M with the bookTicker's bid and ask."""
        market = yield from self.market(symbol)
        group = self._group(market)
        response = yield self.build.ticker_24h(group, market.id)
        book = None
        if group == "usdm":
            book = (yield self.build.book_ticker("usdm", market.id)).data
        return parse.parse_ticker(market.symbol, response.data, book)

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """Tickers of the given symbols, or of every spot and USD-M market."""
        wanted: dict[str, list[Market]] = {"spot": [], "usdm": []}
        if symbols is None:
            yield from self._ensure(self.market_groups())
        else:
            for symbol in symbols:
                market = yield from self.market(symbol)
                wanted[self._group(market)].append(market)
        tickers: dict[str, Ticker] = {}
        for group in ("spot", "usdm"):
            chosen = wanted[group]
            if symbols is not None and not chosen:
                continue
            ids = {m.id for m in chosen}
            if group == "spot" and chosen:
                request = self.build.ticker_24h("spot", symbols=sorted(ids))
            else:
                request = self.build.ticker_24h(group)
            items = (yield request).data
            books: dict[str, Any] = {}
            if group == "usdm":
                books = {b.get("symbol"): b for b in (yield self.build.book_ticker("usdm")).data}
            for item in items if isinstance(items, list) else []:
                native = str(item.get("symbol"))
                if ids and native not in ids:
                    continue
                known = self._by_id.get((group, native))
                if known is not None:
                    tickers[known.symbol] = parse.parse_ticker(
                        known.symbol, item, books.get(native) if group == "usdm" else None
                    )
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``depth``; USD-M takes only 5/10/20/50/100/500/1000 levels, so asks the next size up."""
        market = yield from self.market(symbol)
        group = self._group(market)
        asked = limit
        if limit is not None:
            if group == "usdm":
                asked = next((d for d in _USDM_DEPTHS if d >= limit), _USDM_DEPTHS[-1])
            else:
                asked = min(limit, _SPOT_DEPTH_MAX)
        response = yield self.build.depth(group, market.id, asked)
        return parse.parse_order_book(market.symbol, response.data, limit)

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """Recent public trades, oldest first (at most 1000)."""
        market = yield from self.market(symbol)
        group = self._group(market)
        asked = None if limit is None else min(limit, _TRADES_MAX)
        response = yield self.build.trades(group, market.id, asked)
        rows = response.data if isinstance(response.data, list) else []
        trades = [parse.parse_trade(market.symbol, item) for item in rows]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """Klines oldest first; limits beyond one page are fetched page by page."""
        step = TIMEFRAMES.get(timeframe)
        if step is None:
            raise BadRequest(
                f"Binance has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        market = yield from self.market(symbol)
        group = self._group(market)
        if timeframe == "1s" and group == "usdm":
            raise BadRequest(
                "1s candles exist on Binance spot only", exchange=self.name, hint="Use 1m or more."
            )
        page = _KLINES_MAX[group]
        want = limit if limit is not None else 500  # Binance's documented default
        candles: dict[int, Candle] = {}
        start, end = since, None
        for _ in range(_MAX_PAGES):
            size = min(page, want - len(candles))
            request = self.build.klines(group, market.id, timeframe, start, end, size)
            batch = parse.parse_candles((yield request).data)
            fresh = [c for c in batch if c.timestamp not in candles]
            candles.update((c.timestamp, c) for c in fresh)
            if len(candles) >= want or len(batch) < size or not fresh or not step:
                break
            if since is not None:
                start = batch[-1].timestamp + step
            else:
                end = batch[0].timestamp - 1
        ordered = sorted(candles.values(), key=lambda c: c.timestamp)
        return ordered[:want] if since is not None else ordered[-want:]

    # -- account --------------------------------------------------------------------------

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """``/fapi/v1/premiumIndex``: the next settlement's rate of a USD-M perpetual."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        response = yield funding.premium_index(self.build, market.id)
        return funding.parse_funding_rate(market, response.data)

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/fapi/v1/fundingRate``, oldest first, in pages of 1000 (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, since, want))

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """The spot wallet (``/api/v3/account``) or the USD-M one (``/fapi/v2/account``).

        Binance keeps them apart: ``market_type`` "spot" reads the first, "swap" and "future"
        the second; None reads the one ``connect(..., wallet=)`` chose (spot by default).
        """
        wallet = self.wallet
        if market_type is not None:
            self.capabilities.require(f"market.{market_type}")
            wallet = "spot" if market_type == "spot" else "usdm"
        if wallet == "usdm":
            response = yield self.build.usdm_account()
            return parse.parse_balances_usdm(response.data)
        response = yield self.build.spot_account()
        return parse.parse_balances_spot(response.data)

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/api/v3/account/commission`` or ``/fapi/v1/commissionRate`` for one symbol."""
        market = yield from self.market(symbol)
        response = yield self.build.commission(self._group(market), market.id)
        return parse.parse_trading_fee(market.symbol, response.data)

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/sapi/v1/account/apiRestrictions`` (not on the spot testnet nor demo mode)."""
        reason = sapi_unsupported_reason(self.env)
        if reason is not None:
            unsupported: KeyInfo = yield from self._nope("fetch_key_info", reason)
            return unsupported
        response = yield self.build.api_restrictions(role)
        return parse.parse_key_info(response.data)

    # -- orders: placing, exactly once ------------------------------------------------------

    @staticmethod
    def _id_params(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            if not ref.id.isdigit():
                raise OrderNotFound(
                    f"{ref.id!r} is not a Binance order id (Binance order ids are integers)",
                    exchange="binance",
                    hint="Pass the id Binance returned, or client_order_id=...",
                )
            return {"orderId": ref.id}
        assert ref.client_order_id is not None
        return {"origClientOrderId": ref.client_order_id}

    @staticmethod
    def _order_params(group: str, market: Market, args: OrderArgs) -> dict[str, Any]:
        params: dict[str, Any] = {
            "symbol": market.id,
            "side": "BUY" if args.side == "buy" else "SELL",
        }
        if args.type == "market":
            params["type"] = "MARKET"
        elif group == "spot" and args.post_only:
            # Spot's post-only order is its own type, LIMIT_MAKER, which takes no timeInForce:
            # "New order" in
            # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints
            params["type"] = "LIMIT_MAKER"
        else:
            params["type"] = "LIMIT"
            params["timeInForce"] = "GTX" if args.post_only else args.time_in_force or "GTC"
            if args.good_till is not None:
                # "goodTillDate": ms, whole seconds kept, more than 600 s ahead ("New Order",
                # https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order).
                params["goodTillDate"] = args.good_till
        params["quantity"] = to_wire(args.amount)
        if args.price is not None:
            params["price"] = to_wire(args.price)
        if args.reduce_only:
            params["reduceOnly"] = True
        params["newClientOrderId"] = args.client_order_id
        # RESULT answers with status and fills so far instead of a bare acknowledgement.
        params["newOrderRespType"] = "RESULT"
        params.update(args.params)
        return params

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``POST .../order`` with ``newClientOrderId`` always set, placed exactly once.

        When the outcome is unknown (connection lost after sending, 5xx, ``-1006``/``-1007``)
        the order is looked up by that id; it is resent only if Binance answers ``-2013``
        (no such order), and a duplicate answer to the resend means the first one landed.
        Binance rejects a repeated ``newClientOrderId`` only while the first order is open,
        so the lookup, not the duplicate rule, is what guards a filled order.
        """
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        group = self._group(market)
        if args.conditional:
            # The Algo Order API (algo.py): /fapi/v1/order refuses conditional types (-4120).
            return (yield from algo_api.create(self.build, market, args))
        request = self.build.new_order(group, self._order_params(group, market, args))
        return (
            yield from place_once(
                request,
                args.client_order_id,
                lambda: self._query(market, {"origClientOrderId": args.client_order_id}),
                lambda response: parse.parse_order(market.symbol, response.data),
            )
        )

    def _query(self, market: Market, ids: dict[str, str]) -> Flow[Order | None]:
        params = {"symbol": market.id, **ids}
        try:
            response = yield self.build.query_order(self._group(market), params)
        except OrderNotFound:
            return None
        return parse.parse_order(market.symbol, response.data)

    # -- orders: changing and cancelling ----------------------------------------------------

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """``GET .../order`` by id or client order id."""
        market = yield from self.market(ref.symbol)
        params = {"symbol": market.id, **self._id_params(ref)}
        try:
            response = yield self.build.query_order(self._group(market), params)
        except OrderNotFound:
            if self._group(market) != "usdm":
                raise
            # Not an order: maybe a conditional (algo) order (algo.py).
            return (yield from algo_api.fetch(self.build, market, ref))
        return parse.parse_order(market.symbol, response.data)

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """USD-M ``PUT /fapi/v1/order``; spot has no in-place amend (NotSupported, see reason).

        Binance's modify needs side, quantity and price together, so the order is read first
        for whichever was not given. The values are absolute, so after an unknown outcome the
        order is read again and the same modification resent once if it had not applied.
        """
        market = yield from self.market(args.ref.symbol)
        if self._group(market) == "spot":
            unsupported: Order = yield from self._nope("amend_order.spot")
            return unsupported
        check_order(market, args.amount, args.price, exchange=self.name)
        ids = self._id_params(args.ref)
        current = yield from self._query(market, ids)
        if current is None:
            raise OrderNotFound(
                f"Binance has no order {args.ref.id or args.ref.client_order_id} on "
                f"{market.symbol}",
                exchange=self.name,
                endpoint="GET /fapi/v1/order",
            )
        price = args.price if args.price is not None else current.price
        amount = args.amount if args.amount is not None else current.amount
        if price is None or amount is None or current.side is None:
            raise BadRequest(
                "only an open limit order can be amended",
                exchange=self.name,
                hint="Cancel a market order's remainder instead.",
            )
        params = {
            "symbol": market.id,
            **ids,
            "side": "BUY" if current.side == "buy" else "SELL",
            "quantity": to_wire(amount),
            "price": to_wire(price),
        }
        return (
            yield from amend_settled(
                self.build.modify_order(params),
                lambda: self._query(market, ids),
                lambda order: order.price == price and order.amount == amount,
                lambda response: parse.parse_order(market.symbol, response.data),
            )
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``DELETE .../order``; an unknown outcome is settled by reading the order."""
        market = yield from self.market(ref.symbol)
        ids = self._id_params(ref)
        try:
            return (
                yield from cancel_settled(
                    self.build.cancel_order(self._group(market), {"symbol": market.id, **ids}),
                    lambda: self._query(market, ids),
                    lambda response: parse.parse_order(market.symbol, response.data),
                )
            )
        except OrderNotFound:
            if self._group(market) != "usdm":
                raise
        # Not an order: maybe a conditional (algo) order, cancelled on its own path (algo.py).
        return (yield from algo_api.cancel(self.build, market, ref))

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Per symbol: spot ``DELETE /api/v3/openOrders``, USD-M ``/fapi/v1/allOpenOrders``.

        Without a symbol, every market with open orders. USD-M answers only ``{"code": 200}``,
        so the orders listed just before are reported as cancelled.
        """
        if symbol is not None:
            markets = [(yield from self.market(symbol))]
        else:
            opened = yield from self.fetch_open_orders(None)
            markets = [self.markets[s] for s in sorted({o.symbol for o in opened})]
        cancelled: list[Order] = []
        for market in markets:
            group = self._group(market)
            if group == "usdm":
                algos = yield from algo_api.open_orders(self.build, market.id)
                if algos:
                    yield algo_api.cancel_open(self.build, market.id)
                    cancelled.extend(
                        attrs.evolve(algo_api.parse_algo(market.symbol, row), status="canceled")
                        for row in algos
                    )
                listed = yield from self._open_of("usdm", market.id)
                if listed:
                    yield self.build.cancel_open_orders("usdm", market.id)
                    cancelled.extend(
                        attrs.evolve(o, status="canceled", remaining=ZERO) for o in listed
                    )
                continue
            try:
                response = yield self.build.cancel_open_orders("spot", market.id)
            except OrderNotFound:
                continue  # Binance answers -2011 "Unknown order sent." when none are open
            for item in response.data if isinstance(response.data, list) else []:
                if isinstance(item, dict) and "orderId" in item:
                    cancelled.append(parse.parse_order(market.symbol, item))
        return cancelled

    # -- orders: lists ----------------------------------------------------------------------

    def _open_of(self, group: str, native: str | None) -> Flow[list[Order]]:
        response = yield self.build.open_orders(group, native)
        rows = response.data if isinstance(response.data, list) else []
        return [parse.parse_order(self._symbol(group, i.get("symbol")), i) for i in rows]

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``openOrders`` of one market, or of all spot and USD-M markets, newest first."""
        orders: list[Order] = []
        if symbol is not None:
            market = yield from self.market(symbol)
            orders = yield from self._open_of(self._group(market), market.id)
            native: str | None = market.id if self._group(market) == "usdm" else None
        else:
            yield from self._ensure(self.market_groups())
            for group in self.market_groups():
                orders.extend((yield from self._open_of(group, None)))
            native = None
        if symbol is None or native is not None:
            # Conditional orders are algo orders, listed apart (algo.py).
            for row in (yield from algo_api.open_orders(self.build, native)):
                name = self._symbol("usdm", row.get("symbol"))
                orders.append(algo_api.parse_algo(name, row))
        orders.sort(key=lambda o: o.timestamp or 0, reverse=True)
        return orders

    def _need_symbol(self, symbol: Symbol | None, what: str, paths: str) -> None:
        if symbol is None:
            raise BadRequest(
                f"Binance needs a symbol to list {what}",
                exchange=self.name,
                hint=_SYMBOL_NEEDED.format(what=what, paths=paths),
            )

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``allOrders`` of one symbol (Binance has no account-wide history), newest first."""
        self._need_symbol(symbol, "orders", "/api/v3/allOrders and /fapi/v1/allOrders")
        assert symbol is not None
        market = yield from self.market(symbol)
        response = yield self.build.all_orders(self._group(market), market.id, since, _ORDERS_MAX)
        rows = response.data if isinstance(response.data, list) else []
        orders = [parse.parse_order(market.symbol, item) for item in rows]
        closed = [o for o in orders if o.status in _CLOSED]
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """Spot ``myTrades`` or USD-M ``userTrades`` of one symbol, newest first."""
        self._need_symbol(symbol, "fills", "/api/v3/myTrades and /fapi/v1/userTrades")
        assert symbol is not None
        market = yield from self.market(symbol)
        asked = None if limit is None else min(limit, _ORDERS_MAX)
        response = yield self.build.my_trades(self._group(market), market.id, since, asked)
        rows = response.data if isinstance(response.data, list) else []
        fills = [parse.parse_fill(market.symbol, item) for item in rows]
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/fapi/v1/leverage`` of a USD-M symbol, a whole number (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        return (yield from leverage_api.set_leverage(self.build, market, leverage))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """``/fapi/v1/marginType`` of one USD-M symbol (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        return (yield from modes_api.set_margin_mode(self.build, market, mode))

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/fapi/v1/positionSide/dual``: every USD-M symbol at once (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        if symbol is not None:
            yield from self.market(symbol)  # an unknown symbol is refused before the switch
        name = None if symbol is None else str(symbol)
        return (yield from modes_api.set_position_mode(self.build, name, hedged))

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """Algo STOP_MARKET / TAKE_PROFIT_MARKET orders with ``closePosition`` (``algo.py``)."""
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
        position = held[0]
        return (
            yield from algo_api.set_trading_stop(
                self.build, market, args, position.side, position.hedged
            )
        )

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/fapi/v3/positionRisk``: non-empty USD-M positions (spot has none)."""
        natives: set[str] | None = None
        if symbols:
            natives = set()
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(
                        f"{symbol} is spot: positions are for derivatives only",
                        exchange=self.name,
                        hint="Pass USD-M symbols such as BTC/USDT:USDT.",
                    )
                natives.add((yield from self.market(symbol)).id)
        yield from self._ensure(("usdm",))
        only = next(iter(natives)) if natives and len(natives) == 1 else None
        response = yield self.build.position_risk(only)
        positions = []
        for item in response.data if isinstance(response.data, list) else []:
            native = str(item.get("symbol"))
            if natives is not None and native not in natives:
                continue
            position = parse.parse_position(self._symbol("usdm", native), item)
            if position is not None:
                positions.append(position)
        return positions
