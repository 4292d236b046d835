"""The OKX v5 adapter: every operation of the interface as a flow over OKX's REST API.

Markets: spot, perpetual swaps and dated futures load with ``load_markets``; options load per
instrument family (``BTC-USD``) on first use, as OKX lists them (``instFamily`` is required for
options). Amounts follow the interface's unit rule everywhere (base currency; USD for inverse
contracts): OKX counts swaps, futures and options in contracts of ``ctVal``
(``Market.contract_size``), converted here with ``exchanges.units`` on the way out and in; an
amount that is not a whole number of contracts is refused before anything is sent. Spot amounts
are in the base currency, spot market buys included (``tgtCcy=base_ccy``). Orders trade
``tdMode=cash`` on spot and ``cross`` on derivatives unless
``params`` say otherwise (e.g. ``{"tdMode": "isolated"}``, or ``{"posSide": "long"}`` for an
account in long/short mode). OKX's docs: https://www.okx.com/docs-v5/en/
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from adapters.okx import algo as algo_api
from adapters.okx import funding, parse
from adapters.okx import leverage as leverage_api
from adapters.okx import modes as modes_api
from adapters.okx.batch import OkxBatches
from adapters.okx.capabilities import CAPABILITIES
from adapters.okx.errors import item_errors
from adapters.okx.hosts import ENVIRONMENTS, check_environment, rest_host
from adapters.okx.limits import limit_for
from adapters.okx.requests import RequestBuilder
from adapters.okx.signer import EXPIRING_PATHS, OkxSigner
from exchanges.adapter import FUNDING_HISTORY_LIMIT, Adapter
from exchanges.arguments import AmendArgs, OrderArgs, OrderRef, TradingStopArgs
from exchanges.credentials import Credentials
from exchanges.decimals import ZERO, to_wire
from exchanges.errors import (
    BadRequest,
    BadResponse,
    ExchangeError,
    InvalidOrder,
    OrderNotFound,
    OutcomeUnknown,
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
from exchanges.ratelimit import Limit
from exchanges.reconcile import place_once
from exchanges.symbols import Symbol, parse_symbol
from exchanges.units import native_amount, unified
from exchanges.wire import Prepared, Request, Response, Role

__all__ = ["TIMEFRAMES", "OkxAdapter"]

# Unified timeframe -> (OKX bar, length in ms). From 6h up OKX's plain bars open on Hong Kong
# time; the ``utc`` bars open on UTC like every other timestamp here. Months are not windowed.
TIMEFRAMES: dict[str, tuple[str, int]] = {
    "1m": ("1m", 60_000),
    "3m": ("3m", 180_000),
    "5m": ("5m", 300_000),
    "15m": ("15m", 900_000),
    "30m": ("30m", 1_800_000),
    "1h": ("1H", 3_600_000),
    "2h": ("2H", 7_200_000),
    "4h": ("4H", 14_400_000),
    "6h": ("6Hutc", 21_600_000),
    "12h": ("12Hutc", 43_200_000),
    "1d": ("1Dutc", 86_400_000),
    "1w": ("1Wutc", 604_800_000),
    "1M": ("1Mutc", 0),
}

#: OKX's clOrdId: up to 32 letters and digits (stricter than the interface's 36 of [A-Za-z0-9_-]).
CLIENT_ORDER_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")

_MARKET_GROUPS = ("SPOT", "SWAP", "FUTURES")
_ALL_TYPES = ("SPOT", "SWAP", "FUTURES", "OPTION")
_BOOK_MAX = 400  # /market/books sz
_TRADES_MAX = 500  # /market/trades limit
# How far OKX accepts a request's stamp from its clock (the REST authentication section).
_STAMP_TOLERANCE_MS = 30_000
_CANDLES_MAX = 300  # /market/candles limit
_HISTORY_MAX = 100  # /market/history-candles limit
_PAGE = 100  # orders-pending, orders-history, fills
_BATCH = 20  # cancel-batch-orders
_MAX_PAGES = 200
_CLOSED = ("closed", "canceled", "rejected", "expired")


class OkxAdapter(OkxBatches, Adapter):
    """OKX v5: spot, swaps and futures (data, orders, positions) and option market data."""

    name = "okx"
    environments = ENVIRONMENTS
    option_names = ("region",)
    # tdMode is a default ("cross" for derivatives) that params may change to "isolated".
    client_id_params = ("clOrdId",)
    capabilities = CAPABILITIES
    credential_variables = ("API_KEY", "API_SECRET", "API_PASSPHRASE")
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "instId": "symbol",
        "side": "side",
        "ordType": "type, time_in_force or post_only",
        "sz": "amount",
        "tgtCcy": "amount (always in the base currency)",
        "px": "price",
        "reduceOnly": "reduce_only",
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
        check_environment(env)
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
        region = self.options.pop("region", None)
        #: The region named at connect (None: global); the stream dialect picks its host by it.
        self.region: str | None = region
        self.base_url = self.base_url_override or rest_host(region)
        self.build = RequestBuilder(self.base_url, demo=env == "demo")
        # OKX has no receive window; orders get one through the expTime header.
        self.signer = OkxSigner(self.env_prefix(), recv_window_ms)
        self._by_id: dict[str, Market] = {}
        # OKX picks the margin mode per order (tdMode): set_margin_mode's choice per symbol, and
        # the position mode this client last set (modes.py).
        self._margin_modes: dict[str, MarginMode] = {}
        self._hedged = False

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """OKX's ``OK-ACCESS-*`` headers over the exact target and body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def acts_until_ms(self, request: Request, timestamp_ms: int) -> int | None:
        """Orders until their ``expTime``; other signed requests while the stamp is accepted.

        OKX refuses a stamp more than 30 s away from its clock (50102,
        https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests).
        """
        if not request.signed:
            return None
        if request.write and request.path in EXPIRING_PATHS:
            return timestamp_ms + self.recv_window_ms
        return timestamp_ms + _STAMP_TOLERANCE_MS

    def decode(self, response: Response) -> None:
        """Check OKX's envelope (``code``, then ``data[].sCode``) or the HTTP status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /api/v5/public/time``."""
        return self.build.server_time()

    def parse_time(self, response: Response) -> int:
        """Server time in ms from ``data[0].ts``."""
        stamp = parse.first(response).get("ts")
        if not isinstance(stamp, str) or not (stamp.isascii() and stamp.isdigit()):
            raise BadResponse("no server time in the response", exchange=self.name)
        return int(stamp)

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """OKX's documented per-endpoint limits (per IP, user, or user and instrument)."""
        return {}, limit_for

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """Markets load per ``instType``; options per instrument family (``OPTION:BTC-USD``)."""
        inst_type = parse.inst_type_of(symbol)
        return f"OPTION:{symbol.base}-{symbol.quote}" if inst_type == "OPTION" else inst_type

    def market_groups(self) -> tuple[str, ...]:
        """``load_markets`` loads spot, swaps and futures; options load on first use."""
        return _MARKET_GROUPS

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """``/api/v5/public/instruments`` of one instrument type (or option family)."""
        inst_type, _, family = group.partition(":")
        response = yield self.build.instruments(inst_type, family or None)
        return [parse.parse_market(item) for item in parse.data_list(response)]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep instrument id → market for parsing responses."""
        for market in markets:
            self._by_id[market.id] = market

    def _symbol(self, inst_id: Any) -> str:
        market = self._by_id.get(str(inst_id))
        return market.symbol if market is not None else parse.symbol_of(str(inst_id))

    def _market_of(self, item: Mapping[str, Any]) -> Flow[Market | None]:
        """The market of a listed item (loading its group), None for spot: its unit is exact.

        A contract's amounts cannot be read without its ``ctVal``; an instrument OKX lists
        but does not describe is a ``BadResponse``, never a count passed off as an amount.
        """
        inst_id = str(item.get("instId"))
        market = self._by_id.get(inst_id)
        if market is not None or item.get("instType") == "SPOT":
            return market
        group = self.market_group(parse_symbol(parse.symbol_of(inst_id)))
        if group not in self._loaded_groups:
            self._store(group, (yield from self.fetch_market_group(group)))
        market = self._by_id.get(inst_id)
        if market is None:
            raise BadResponse(
                f"OKX returned {inst_id}, which its instrument list does not describe",
                exchange=self.name,
            )
        return market

    def _ensure_groups(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))

    # -- market data ----------------------------------------------------------------------

    def fetch_ticker(self, symbol: Symbol) -> Flow[Ticker]:
        """``/api/v5/market/ticker``."""
        market = yield from self.market(symbol)
        response = yield self.build.ticker(market.id)
        return unified(parse.parse_ticker(market, parse.first(response)), market)

    def fetch_tickers(self, symbols: list[Symbol] | None) -> Flow[dict[str, Ticker]]:
        """``/api/v5/market/tickers`` per instrument type (spot, swaps, futures when none given)."""
        if symbols is None:
            groups: list[str] = list(_MARKET_GROUPS)
        else:
            groups = sorted({self.market_group(s) for s in symbols})
        yield from self._ensure_groups(groups)
        wanted = None if symbols is None else {str(s) for s in symbols}
        tickers: dict[str, Ticker] = {}
        for group in groups:
            inst_type, _, family = group.partition(":")
            response = yield self.build.tickers(inst_type, family or None)
            for item in parse.data_list(response):
                market = self._by_id.get(str(item.get("instId")))
                if market is None or (wanted is not None and market.symbol not in wanted):
                    continue
                tickers[market.symbol] = unified(parse.parse_ticker(market, item), market)
        return tickers

    def fetch_order_book(self, symbol: Symbol, limit: int | None) -> Flow[OrderBook]:
        """``/api/v5/market/books`` (default 50 levels, at most 400)."""
        if limit is not None and limit > _BOOK_MAX:
            raise BadRequest(
                f"OKX's order book goes to {_BOOK_MAX} levels, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {_BOOK_MAX}.",
            )
        market = yield from self.market(symbol)
        response = yield self.build.books(market.id, limit or 50)
        return unified(parse.parse_order_book(market.symbol, parse.first(response)), market)

    def fetch_trades(self, symbol: Symbol, limit: int | None) -> Flow[list[Trade]]:
        """``/api/v5/market/trades``, oldest first (at most 500)."""
        if limit is not None and limit > _TRADES_MAX:
            raise BadRequest(
                f"OKX returns at most {_TRADES_MAX} recent trades, not {limit}",
                exchange=self.name,
                hint=f"Pass limit <= {_TRADES_MAX}.",
            )
        market = yield from self.market(symbol)
        response = yield self.build.trades(market.id, limit)
        trades = [
            unified(parse.parse_trade(market.symbol, i), market) for i in parse.data_list(response)
        ]
        trades.sort(key=lambda t: t.timestamp)
        return trades

    def fetch_ohlcv(
        self, symbol: Symbol, timeframe: str, since: int | None, limit: int | None
    ) -> Flow[list[Candle]]:
        """Candles, oldest first.

        Without ``since``: ``/market/candles`` (the latest, up to 300 per page) and older pages
        from ``/market/history-candles``. With ``since``: windows ``(since - 1, since + n·bar)``
        of ``/market/history-candles`` (``before``/``after`` are exclusive bounds), as ccxt does.
        """
        spec = TIMEFRAMES.get(timeframe)
        if spec is None:
            raise BadRequest(
                f"OKX has no timeframe {timeframe!r}",
                exchange=self.name,
                hint=f"Use one of {', '.join(TIMEFRAMES)}.",
            )
        bar, step = spec
        market = yield from self.market(symbol)
        want = limit if limit is not None else 100
        candles: dict[int, Candle] = {}
        start, older_than = since, None
        for page_number in range(_MAX_PAGES):
            missing = want - len(candles)
            if missing <= 0:
                break
            history = since is not None or page_number > 0
            page = min(missing, _HISTORY_MAX if history else _CANDLES_MAX)
            if start is not None:
                after = start + page * step if step else None
                request = self.build.candles(
                    market.id, bar, after=after, before=start - 1, limit=page, history=True
                )
            else:
                request = self.build.candles(
                    market.id, bar, after=older_than, before=None, limit=page, history=history
                )
            response = yield request
            batch = parse.parse_candles(market, parse.data_list(response))
            fresh = [c for c in batch if c.timestamp not in candles]
            for candle in fresh:
                candles[candle.timestamp] = candle
            if not fresh or (start is not None and not step):
                break
            if start is not None:
                start = batch[-1].timestamp + step
            else:
                older_than = batch[0].timestamp
        ordered = sorted(candles.values(), key=lambda c: c.timestamp)
        return ordered[:want] if since is not None else ordered[-want:]

    # -- account --------------------------------------------------------------------------

    def fetch_funding_rate(self, symbol: Symbol) -> Flow[FundingRate]:
        """``/api/v5/public/funding-rate``: OKX's forecast for the next settlement of a swap."""
        self.require_funding("fetch_funding_rate", symbol)
        market = yield from self.market(symbol)
        response = yield funding.current(self.build, market.id)
        return funding.parse_funding_rate(market, parse.first(response))

    def fetch_funding_rate_history(
        self, symbol: Symbol, since: int | None, limit: int | None
    ) -> Flow[list[FundingRecord]]:
        """``/api/v5/public/funding-rate-history``, oldest first (``funding.history``)."""
        self.require_funding("fetch_funding_rate_history", symbol)
        market = yield from self.market(symbol)
        want = limit or FUNDING_HISTORY_LIMIT
        return (yield from funding.history(self.build, market, since, want))

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """``/api/v5/account/balance``: the trading account, which backs every market type."""
        response = yield self.build.balance()
        items = parse.data_list(response)
        return parse.parse_balances(items[0] if items else {})

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/api/v5/account/trade-fee`` (``instId`` for spot, ``instFamily`` for contracts)."""
        market = yield from self.market(symbol)
        inst_type = market.category or parse.inst_type_of(symbol)
        family = None if market.spot else f"{market.base}-{market.quote}"
        inst_id = market.id if market.spot else None
        response = yield self.build.trade_fee(inst_type, inst_id, family)
        return parse.parse_trading_fee(market, parse.first(response))

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/api/v5/account/config`` for the key of ``role`` (``perm``, ``ip``, ``label``)."""
        response = yield self.build.config(role)
        return parse.parse_key_info(parse.first(response))

    # -- orders ---------------------------------------------------------------------------

    @staticmethod
    def _ids(ref: OrderRef) -> dict[str, str]:
        if ref.id is not None:
            return {"ordId": ref.id}
        assert ref.client_order_id is not None
        return {"clOrdId": ref.client_order_id}

    def _check_client_id(self, cid: str | None) -> None:
        if cid is not None and not CLIENT_ORDER_ID.match(cid):
            raise BadRequest(
                f"OKX's clOrdId allows up to 32 letters and digits, not {cid!r}",
                exchange=self.name,
                hint="Use letters and digits only (uuid4().hex works), or omit client_order_id "
                "to get a generated one.",
            )

    @staticmethod
    def _ord_type(args: OrderArgs) -> str:
        if args.type == "market":
            return "market"
        if args.post_only:
            return "post_only"
        return {"IOC": "ioc", "FOK": "fok"}.get(args.time_in_force or "GTC", "limit")

    @staticmethod
    def _time_in_force(args: OrderArgs) -> str:
        # OKX's market orders never rest (they report as IOC); post-only is its own ordType.
        if args.type == "market":
            return "IOC"
        return "PO" if args.post_only else args.time_in_force or "GTC"

    def create_order(self, args: OrderArgs) -> Flow[Order]:
        """``/api/v5/trade/order`` with a ``clOrdId`` always set, placed exactly once.

        When the outcome is unknown (lost response, 5xx, 50004, 51149) the order is looked up
        by ``clOrdId``; it is resent once only if OKX provably does not have it (51603), and a
        51016 after that resend means the first attempt had landed.
        """
        self._check_client_id(args.client_order_id)
        market = yield from self.order_market(args.symbol, args.amount, args.price)
        # The plain order's fields, as each order of a batch has them (batch.py).
        body = self._order_body(market, args)
        if args.attached and not args.conditional:
            body.update(algo_api.attach_fields(args))
        body.update(args.params)
        if args.conditional:
            # An algo order (algo.py); attached TP/SL ride on it.
            order = yield from algo_api.create(self.build, market, args, body)
            return _unified_order(order, market)
        known = {
            "type": args.type,
            "side": args.side,
            "price": args.price,
            "amount": args.amount,
            "time_in_force": self._time_in_force(args),
            "post_only": args.post_only,
            "reduce_only": args.reduce_only,
        }
        request = self.build.place_order(body, market.id)
        cid = args.client_order_id
        return (
            yield from place_once(
                request,
                cid,
                lambda: self._by_client_id(market, cid),
                lambda response: parse.parse_ack(market.symbol, parse.first(response), **known),
            )
        )

    def _by_client_id(self, market: Market, cid: str) -> Flow[Order | None]:
        """The order with this clOrdId, or None when OKX says it does not exist (51603)."""
        try:
            response = yield self.build.order(market.id, {"clOrdId": cid})
        except OrderNotFound:
            return None
        items = parse.data_list(response)
        if not items:
            return None
        return _unified_order(parse.parse_order(market.symbol, items[0], spot=market.spot), market)

    def fetch_order(self, ref: OrderRef) -> Flow[Order]:
        """``/api/v5/trade/order`` by id or client order id, open or closed (51603 if absent)."""
        self._check_client_id(ref.client_order_id)
        market = yield from self.market(ref.symbol)
        try:
            response = yield self.build.order(market.id, self._ids(ref))
        except OrderNotFound as missing:
            # Not an order: maybe an algo (conditional) order (algo.py).
            found = yield from algo_api.lookup(self.build, market, ref)
            if found is None:
                raise missing from None
            return _unified_order(found, market)
        order = parse.parse_order(market.symbol, parse.first(response), spot=market.spot)
        return _unified_order(order, market)

    def amend_order(self, args: AmendArgs) -> Flow[Order]:
        """``/api/v5/trade/amend-order`` (``newSz`` is the total amount, filled part included).

        When the outcome is unknown the order is fetched: if it shows the new values the
        amendment is confirmed, otherwise the ``OutcomeUnknown`` stands.
        """
        self._check_client_id(args.ref.client_order_id)
        market = yield from self.order_market(args.ref.symbol, args.amount, args.price)
        body: dict[str, Any] = {"instId": market.id, **self._ids(args.ref)}
        if args.amount is not None:
            body["newSz"] = to_wire(native_amount(market, args.amount, exchange=self.name))
        if args.price is not None:
            body["newPx"] = to_wire(args.price)
        try:
            response = yield self.build.amend_order(body, market.id)
        except OutcomeUnknown as unknown:
            current = yield from self._settle(args.ref, unknown)
            if (args.price is None or current.price == args.price) and (
                args.amount is None or current.amount == args.amount
            ):
                return current
            raise
        return parse.parse_ack(
            market.symbol, parse.first(response), price=args.price, amount=args.amount
        )

    def cancel_order(self, ref: OrderRef) -> Flow[Order]:
        """``/api/v5/trade/cancel-order``; an unknown outcome is settled by fetching the order."""
        self._check_client_id(ref.client_order_id)
        market = yield from self.market(ref.symbol)
        body = {"instId": market.id, **self._ids(ref)}
        try:
            response = yield self.build.cancel_order(body, market.id)
        except OrderNotFound as missing:
            # Not an order: maybe an algo (conditional) order (algo.py).
            try:
                cancelled = yield from algo_api.cancel(self.build, market, ref)
            except OrderNotFound:
                raise missing from None
            return _unified_order(cancelled, market)
        except OutcomeUnknown as unknown:
            current = yield from self._settle(ref, unknown)
            if current.status == "canceled":
                return current
            raise
        return parse.parse_ack(market.symbol, parse.first(response), status="canceled")

    def _settle(self, ref: OrderRef, unknown: OutcomeUnknown) -> Flow[Order]:
        """The order after a write whose outcome is unknown (that error if it cannot be read)."""
        try:
            return (yield from self.fetch_order(ref))
        except ExchangeError as err:
            raise unknown from err

    def cancel_all_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """Batch-cancel the open orders (OKX has no cancel-all for regular orders).

        ``/api/v5/trade/cancel-batch-orders`` takes at most 20 orders; each item succeeds or
        fails on its own (``sCode``). Orders that are already gone (51400-51402: filled or
        cancelled meanwhile) are skipped; any other failed item raises its own normalised
        error after every batch was sent. A batch whose outcome is unknown is sent once more:
        cancelling is idempotent, and the orders it had cancelled come back as 51400.
        """
        listed = yield from self.fetch_open_orders(symbol)
        open_orders = [o for o in listed if not o.conditional]
        cancelled: list[Order] = []
        for order in (o for o in listed if o.conditional):
            # Algo orders cancel on their own path (algo.py), one by one.
            try:
                unified_symbol = parse_symbol(order.symbol)
                market = yield from self.market(unified_symbol)
                ref = OrderRef(unified_symbol, order.id, None)
                cancelled.append(
                    _unified_order((yield from algo_api.cancel(self.build, market, ref)), market)
                )
            except OrderNotFound:
                continue
        failures: list[ExchangeError] = []
        for start in range(0, len(open_orders), _BATCH):
            chunk = open_orders[start : start + _BATCH]
            items = [{"instId": self._inst_id(o), "ordId": o.id} for o in chunk]
            request = self.build.cancel_batch(items)
            try:
                response = yield request
            except OutcomeUnknown:
                response = yield request
            results = parse.data_list(response)
            errors = item_errors(
                results, env=self.env, http_status=response.status, endpoint=request.endpoint
            )
            by_id = {
                str(r.get("ordId")): (r, err)
                for r, err in zip(results, errors, strict=False)
                if isinstance(r, dict)
            }
            for order in chunk:
                result, err = by_id.get(str(order.id), (None, None))
                if result is None:
                    failures.append(
                        BadResponse(
                            f"OKX did not report on order {order.id} of the batch",
                            exchange=self.name,
                            endpoint=request.endpoint,
                        )
                    )
                elif err is None:
                    cancelled.append(
                        attrs.evolve(order, status="canceled", remaining=ZERO, raw=result)
                    )
                elif not isinstance(err, OrderNotFound):
                    err.message = f"order {order.id}: {err.message}"
                    err.args = (err.message,)
                    failures.append(err)
        if failures:
            first = failures[0]
            first.message += (
                f" ({len(cancelled)} order(s) cancelled, {len(failures)} failed; "
                "the first failure is raised)"
            )
            first.args = (first.message,)
            raise first
        return cancelled

    def _inst_id(self, order: Order) -> str:
        raw = order.raw if isinstance(order.raw, dict) else {}
        inst = raw.get("instId")
        if isinstance(inst, str) and inst:
            return inst
        market = self.markets.get(order.symbol)
        return market.id if market is not None else order.symbol

    def _pages(
        self, path: str, params: dict[str, Any], cursor_field: str, want: int | None
    ) -> Flow[list[Any]]:
        """Follow OKX's ``after`` cursor (the last item's id) until a short page or ``want``."""
        items: list[Any] = []
        after: str | None = None
        for _ in range(_MAX_PAGES):
            response = yield self.build.listing(path, {**params, "after": after, "limit": _PAGE})
            page = parse.data_list(response)
            items.extend(page)
            if len(page) < _PAGE or (want is not None and len(items) >= want):
                break
            last = page[-1].get(cursor_field) if isinstance(page[-1], dict) else None
            if not last or last == after:
                break
            after = str(last)
        return items

    def _scopes(self, symbol: Symbol | None, types: tuple[str, ...]) -> Flow[list[dict[str, Any]]]:
        """The listing scopes: one market, or each instrument type (or one call for all)."""
        if symbol is None:
            return [{"instType": t} for t in types] if types else [{}]
        market = yield from self.market(symbol)
        return [{"instType": market.category or parse.inst_type_of(symbol), "instId": market.id}]

    def _orders(self, items: list[Any]) -> Flow[list[Order]]:
        orders = []
        for item in items:
            market = yield from self._market_of(item)
            symbol = self._symbol(item.get("instId"))
            order = parse.parse_order(symbol, item, spot=item.get("instType") == "SPOT")
            orders.append(order if market is None else _unified_order(order, market))
        return orders

    def fetch_open_orders(self, symbol: Symbol | None) -> Flow[list[Order]]:
        """``/api/v5/trade/orders-pending``, every page, of one market or the whole account."""
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, ())):
            items.extend(
                (yield from self._pages("/api/v5/trade/orders-pending", scope, "ordId", None))
            )
        orders = [o for o in (yield from self._orders(items)) if o.status == "open"]
        # Conditional orders are algo orders, listed apart (algo.py).
        inst_id = None if symbol is None else (yield from self.market(symbol)).id
        for row in (yield from algo_api.open_rows(self.build, inst_id)):
            market = yield from self._market_of(row)
            order = algo_api.parse_algo(self._symbol(row.get("instId")), row)
            orders.append(order if market is None else _unified_order(order, market))
        return orders

    def fetch_closed_orders(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Order]]:
        """``/api/v5/trade/orders-history`` (last 7 days; ``instType`` is required), newest first.

        OKX keeps unfilled cancelled orders in this history for 2 hours only ("Get order history
        (last 7 days)":
        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-history-last-7-days).
        """
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, _ALL_TYPES)):
            params = {**scope, "begin": since}
            items.extend(
                (yield from self._pages("/api/v5/trade/orders-history", params, "ordId", limit))
            )
        closed = [o for o in (yield from self._orders(items)) if o.status in _CLOSED]
        closed.sort(key=lambda o: o.updated or o.timestamp or 0, reverse=True)
        return closed[:limit] if limit is not None else closed

    def fetch_my_trades(
        self, symbol: Symbol | None, since: int | None, limit: int | None
    ) -> Flow[list[Fill]]:
        """``/api/v5/trade/fills`` (last 3 days), newest first.

        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-transaction-details-last-3-days
        """
        items: list[Any] = []
        for scope in (yield from self._scopes(symbol, ())):
            params = {**scope, "begin": since}
            items.extend((yield from self._pages("/api/v5/trade/fills", params, "billId", limit)))
        fills = []
        for item in items:
            market = yield from self._market_of(item)
            fill = parse.parse_fill(self._symbol(item.get("instId")), item)
            fills.append(fill if market is None else unified(fill, market))
        fills.sort(key=lambda f: f.timestamp, reverse=True)
        return fills[:limit] if limit is not None else fills

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/api/v5/account/set-leverage`` under cross margin (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        mode = self._margin_modes.get(market.symbol, leverage_api.MARGIN_MODE)
        return (yield from leverage_api.set_leverage(self.build, market, leverage, mode))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """Set-leverage under ``mode``; later orders on the symbol trade it (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        current = self._margin_modes.get(market.symbol, "cross")
        setting = yield from modes_api.set_margin_mode(
            self.build, market, mode, current, self._hedged
        )
        self._margin_modes[market.symbol] = mode
        return setting

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/api/v5/account/set-position-mode``: every swap and future (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        if symbol is not None:
            yield from self.market(symbol)  # an unknown symbol is refused before the switch
        name = None if symbol is None else str(symbol)
        setting = yield from modes_api.set_position_mode(self.build, name, hedged)
        self._hedged = hedged
        return setting

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """A ``closeFraction`` conditional/oco algo order on the position (``algo.py``)."""
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
        mode = self._margin_modes.get(market.symbol, "cross")
        return (
            yield from algo_api.set_trading_stop(
                self.build, market, args, held[0].side, held[0].hedged, mode
            )
        )

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/api/v5/account/positions``, non-empty positions only."""
        wanted: set[str] | None = None
        if symbols:
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(
                        f"{symbol} is spot: positions are for derivatives only", exchange=self.name
                    )
            wanted = {str(s) for s in symbols}
            yield from self._ensure_groups(sorted({self.market_group(s) for s in symbols}))
        response = yield self.build.positions()
        positions = []
        for item in parse.data_list(response):
            name = self._symbol(item.get("instId"))
            if wanted is not None and name not in wanted:
                continue
            position = parse.parse_position(name, item)
            if position is not None:
                market = yield from self._market_of(item)
                positions.append(position if market is None else unified(position, market))
        return positions


def _unified_order(order: Order, market: Market) -> Order:
    """An order of ``market`` in unified amounts, with the cost OKX leaves to the reader.

    OKX reports no cumulative value for contracts; a linear contract's is its filled base
    amount times the average price, as on spot.
    """
    order = unified(order, market)
    if order.cost is None and market.linear and order.filled is not None:
        if order.filled == 0:
            return attrs.evolve(order, cost=ZERO)
        if order.average is not None:
            return attrs.evolve(order, cost=order.filled * order.average)
    return order
