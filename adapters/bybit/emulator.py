"""Bybit v5 front-end of the emulator: Bybit's endpoints, envelopes, field names and codes.

Requests are checked as Bybit's docs say (https://bybit-exchange.github.io/docs/v5/guide
"Authentication", https://bybit-exchange.github.io/docs/v5/error "Error Codes" and
https://bybit-exchange.github.io/docs/v5/rate-limit "Rate Limit Rules"): the key must exist (10003)
and not be expired (33004); the timestamp must satisfy
``server_time - recv_window <= timestamp < server_time + 1000`` (10002), where the timestamp and
the ``X-BAPI-RECV-WINDOW`` header are whole numbers of at most 19 ASCII digits and the window is
above zero, else 10001 (the guide states no maximum window,
https://bybit-exchange.github.io/docs/v5/guide#parameters-for-authenticated-endpoints); the
signature is recomputed over the raw query string or raw body bytes received (10004, with Bybit's
``origin_string[...]`` message); the peer IP must be on the key's whitelist (10010); the key needs
the scope of the endpoint and category (10005); per-UID rate limits answer 10006 with the
``X-Bapi-Limit*`` headers, and the 600-per-5-s IP budget an HTML 403.

A post-only order that would take, or a FOK order that cannot fill, is accepted and cancelled
at once, its ``rejectReason`` EC_PostOnlyWillTakeLiquidity or EC_CancelForNoFullFill ("Enums
Definitions", https://bybit-exchange.github.io/docs/v5/enum#rejectreason), as on Bybit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

from adapters.bybit.limits import IP_KEY, limit_for, route_key
from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError, InstrumentSpec, OrderView
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["BybitFrontEnd"]

_INTERVALS = {
    "1": 1,
    "3": 3,
    "5": 5,
    "15": 15,
    "30": 30,
    "60": 60,
    "120": 120,
    "240": 240,
    "360": 360,
    "720": 720,
    "D": 1440,
    "W": 10080,
    "M": 43200,
}
_STATUS = {
    "new": "New",
    "partially_filled": "PartiallyFilled",
    "filled": "Filled",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
}
# Why the matching engine killed an order ("rejectReason", Bybit's enums page linked above).
_REJECT_REASONS = {
    "post_only_would_take": "EC_PostOnlyWillTakeLiquidity",
    "fok_unfillable": "EC_CancelForNoFullFill",
}
_TIF_IN = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "PostOnly"}
_LINK_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_CATEGORIES = ("spot", "linear", "inverse", "option")


class BybitError(Exception):
    """A Bybit error answer: retCode, retMsg, and optional extra headers."""

    def __init__(self, code: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def _w(value: Decimal | None) -> str:
    return "" if value is None else to_wire(value)


def _ms(params: Mapping[str, Any], name: str) -> int | None:
    if not params.get(name):
        return None
    value = integer(params[name])
    if value is None:
        raise BybitError(10001, f"params error: {name} must be a timestamp in milliseconds")
    return value


def _iso(ms: int | None) -> str:
    if not ms:
        return "1970-01-01T00:00:00Z"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# The token behind a cursor before it is percent-encoded into ``nextPageCursor``: the next
# page's offset, in the shape of Bybit's "id:0,id:0" (its "267951%3A0%2C38567%3A0" decoded).
_TOKEN = re.compile(r"page_token=([0-9]{1,9}):0,\1:0")


def _cursor(offset: int) -> str:
    # Bybit hands its cursors out percent-encoded and takes them back as they are: the query
    # string is decoded once, which gives the token back. ":" "=" "," are all encoded, so a
    # client that encodes the cursor again sends "%253A" and gets 10001.
    return quote(f"page_token={offset}:0,{offset}:0", safe="")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    # The token exactly: a cursor encoded twice decodes to "page_token%3D..." and is unknown.
    match = _TOKEN.fullmatch(str(cursor))
    if match is None:
        raise BybitError(10001, "params error: cursor invalid")
    return int(match.group(1))


class BybitFrontEnd:
    """Bybit v5 over the emulator's shared state."""

    name = "bybit"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.engine = state.engine
        get, post = "GET", "POST"
        self.routes: dict[tuple[str, str], tuple[Callable[..., Any], str | None]] = {
            (get, "/v5/market/time"): (self.market_time, None),
            (get, "/v5/market/instruments-info"): (self.instruments, None),
            (get, "/v5/market/tickers"): (self.tickers, None),
            (get, "/v5/market/orderbook"): (self.orderbook, None),
            (get, "/v5/market/recent-trade"): (self.recent_trade, None),
            (get, "/v5/market/kline"): (self.kline, None),
            (get, "/v5/account/wallet-balance"): (self.wallet_balance, "read"),
            (get, "/v5/account/fee-rate"): (self.fee_rate, "read"),
            (get, "/v5/account/info"): (self.account_info, "read"),
            (get, "/v5/user/query-api"): (self.query_api, "read"),
            (post, "/v5/order/create"): (self.order_create, "trade"),
            (post, "/v5/order/amend"): (self.order_amend, "trade"),
            (post, "/v5/order/cancel"): (self.order_cancel, "trade"),
            (post, "/v5/order/cancel-all"): (self.order_cancel_all, "trade"),
            (get, "/v5/order/realtime"): (self.order_realtime, "read"),
            (get, "/v5/order/history"): (self.order_history, "read"),
            (get, "/v5/execution/list"): (self.execution_list, "read"),
            (get, "/v5/position/list"): (self.position_list, "read"),
        }
        from adapters.bybit.emulator_assets import BybitAssets
        from adapters.bybit.emulator_funding import BybitFunding
        from adapters.bybit.emulator_leverage import BybitLeverage
        from adapters.bybit.emulator_modes import BybitModes

        self.routes.update(BybitAssets(self).routes())
        self.funding = BybitFunding(self)
        self.routes.update(self.funding.routes())
        self.routes.update(BybitLeverage(self).routes())
        self.routes.update(BybitModes(self).routes())  # last: it wraps the order handlers

    # -- envelope -------------------------------------------------------------------------

    def _envelope(self, code: int, message: str, result: Any, ext: Any = None) -> bytes:
        return json.dumps(
            {
                "retCode": code,
                "retMsg": message,
                "result": result if result is not None else {},
                "retExtInfo": ext if ext is not None else {},
                "time": self.state.now_ms(),
            },
            separators=(",", ":"),
        ).encode()

    def _error(self, err: BybitError) -> Outgoing:
        return Outgoing(200, self._envelope(err.code, err.message, {}), err.headers)

    def register_routes(self, app: Any) -> None:
        """Add Bybit's WebSocket endpoints (``/v5/public/{category}``, ``/v5/private``)."""
        from adapters.bybit.emulator_ws import BybitWebSockets

        BybitWebSockets(self).register(app)

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """10016 for ``server_error``, 10006 for ``rate_limit``."""
        if kind == "rate_limit":
            now = self.state.now_ms()
            headers = {
                "X-Bapi-Limit": "10",
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit-Reset-Timestamp": str(now + 200),
            }
            return Outgoing(200, self._envelope(10006, "Too many visits!", {}), headers)
        return Outgoing(200, self._envelope(10016, "Server error.", {}))

    def handle(self, request: Incoming) -> Outgoing | None:
        """Authenticate, rate-limit and answer one request of Bybit's v5 API."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            if request.path.startswith("/v5/"):
                return Outgoing(200, self._envelope(10017, "Route not found.", {}))
            return None
        handler, access = route
        if self.state.ip_limit:
            verdict = self.state.limits.hit(
                f"{IP_KEY}:{request.remote}", 600, 5000, self.state.now_ms()
            )
            if not verdict.allowed:
                page = b"<html><body><h1>403 Forbidden</h1>access too frequent</body></html>"
                return Outgoing(403, page, content_type="text/html")
        category: Any = None
        try:
            params = self._params(request)
            headers: dict[str, str] = {}
            key = None
            category = params.get("category")
            if access is not None:
                key = self._authenticate(request)
                self._authorise(key, request.path, category, access)
                headers = self._rate_limit(key, request.path, category)
            result = handler(params, key) if access is not None else handler(params)
        except BybitError as err:
            return self._error(err)
        except EngineError as err:
            return self._error(self._engine_error(err, request.path, category == "spot"))
        ext = None
        if isinstance(result, tuple):
            result, ext = result
        return Outgoing(200, self._envelope(0, "OK", result, ext), headers)

    # -- checks ---------------------------------------------------------------------------

    @staticmethod
    def _params(request: Incoming) -> dict[str, Any]:
        if request.method == "GET":
            if request.body:
                raise BybitError(10001, "GET request must not carry a body")
            return dict(parse_qsl(request.query, keep_blank_values=True))
        try:
            body = json_body(request.body or b"{}")
        except BadInput as exc:
            raise BybitError(10001, f"params error: request body refused: {exc}") from None
        if not isinstance(body, dict):
            raise BybitError(10001, "request body must be a JSON object")
        for name, value in body.items():
            # Every v5 endpoint served here takes flat parameters (no batch endpoints).
            if isinstance(value, dict | list):
                raise BybitError(10001, f"params error: {name} must be a string or a number")
        return body

    def _authenticate(self, request: Incoming) -> ApiKey:
        headers = request.headers
        api_key = headers.get("X-BAPI-API-KEY", "")
        stamp = headers.get("X-BAPI-TIMESTAMP", "")
        sign = headers.get("X-BAPI-SIGN", "")
        recv = headers.get("X-BAPI-RECV-WINDOW", "5000")
        if not api_key or not stamp or not sign:
            raise BybitError(
                10003 if not api_key else 10001,
                f"empty value: apiTimestamp[{stamp}] apiKey[{api_key}] apiSignature[{sign}]",
            )
        key = self.state.keys.get(api_key)
        if key is None:
            raise BybitError(
                10003,
                "API key is invalid. Check whether the key and domain are matched, there are "
                "4 env: mainnet, testnet, mainnet-demo, testnet-demo",
            )
        # int() would also read "5_000", "+5000" or a window too long for any clock, and a window
        # of zero or less is no window: none of them may reach the timestamp check.
        timestamp, recv_window = integer(stamp), integer(recv)
        if timestamp is None or recv_window is None or recv_window <= 0:
            raise BybitError(10001, "params error: timestamp or recv_window invalid")
        now = self.state.now_ms()
        if not now - recv_window <= timestamp < now + 1000:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{timestamp}],server_timestamp[{now}],recv_window[{recv_window}]",
            )
        payload = request.query.encode() if request.method == "GET" else request.body
        message = stamp.encode() + api_key.encode() + recv.encode() + payload
        if not self._verify(key, message, sign):
            raise BybitError(
                10004, f"error sign! origin_string[{message.decode('utf-8', 'replace')}]"
            )
        if key.expires_at is not None and key.expires_at <= now:
            raise BybitError(33004, "Your api key has expired.")
        if not key.ip_allowed(request.remote):
            raise BybitError(10010, "Unmatched IP, please check your API key's bound IP addresses.")
        return key

    @staticmethod
    def _verify(key: ApiKey, message: bytes, sign: str) -> bool:
        if key.secret is not None:
            expected = hmac.new(key.secret.encode(), message, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, sign.lower())
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        assert key.public_key is not None
        public = serialization.load_pem_public_key(key.public_key.encode())
        if not isinstance(public, rsa.RSAPublicKey):
            return False
        try:
            public.verify(base64.b64decode(sign), message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    @staticmethod
    def _authorise(key: ApiKey, path: str, category: Any, access: str) -> None:
        if access != "trade":
            return
        scope = {
            "spot": "spot_trade",
            "linear": "derivatives_trade",
            "inverse": "derivatives_trade",
            "option": "options_trade",
        }.get(str(category), "derivatives_trade")
        if not key.allows(scope):
            raise BybitError(10005, "Permission denied, please check your API key permissions.")

    def _rate_limit(self, key: ApiKey, path: str, category: Any) -> dict[str, str]:
        route = route_key(path, str(category) if category else None)
        limit = limit_for(route)
        if limit is None:
            return {}
        now = self.state.now_ms()
        verdict = self.state.limits.hit(
            f"{key.uid}:{route}", limit.limit, int(limit.period * 1000), now
        )
        headers = {
            "X-Bapi-Limit": str(verdict.limit),
            "X-Bapi-Limit-Status": str(verdict.remaining),
            "X-Bapi-Limit-Reset-Timestamp": str(verdict.reset_ms),
        }
        if not verdict.allowed:
            raise BybitError(10006, "Too many visits!", headers)
        return headers

    @staticmethod
    def _engine_error(err: EngineError, path: str, spot: bool) -> BybitError:
        kind = err.kind
        if kind == "insufficient_funds":
            return (
                BybitError(170131, "Insufficient balance.")
                if spot
                else BybitError(110007, "ab not enough for new order")
            )
        if kind == "duplicate_client_order_id":
            return BybitError(110072, "OrderLinkedID is duplicate")
        if kind in ("order_not_found", "order_closed"):
            if spot and path == "/v5/order/cancel":
                return BybitError(170213, "Order does not exist.")
            return BybitError(110001, "order not exists or too late to cancel")
        if kind == "min_notional":
            return (
                BybitError(170140, "Order value exceeded lower limit")
                if spot
                else BybitError(110094, "Order notional value below the lower limit")
            )
        if kind == "reduce_only_rejected":
            return BybitError(110017, "current position is zero, cannot fix reduce-only order qty")
        if kind == "unknown_symbol":
            return BybitError(10001, "Not supported symbols")
        if kind == "invalid_qty" and spot:
            return BybitError(170137, f"Order quantity has too many decimals. ({err.message})")
        if kind == "invalid_price" and spot:
            return BybitError(170134, f"Order price has too many decimals. ({err.message})")
        return BybitError(10001, f"params error: {err.message}")

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _category(params: Mapping[str, Any], default: str | None = None) -> str:
        category = params.get("category", default)
        if category not in _CATEGORIES:
            raise BybitError(10001, f"params error: category invalid [{category}]")
        return str(category)

    def _spec(self, params: Mapping[str, Any], category: str) -> InstrumentSpec:
        symbol = params.get("symbol")
        if not symbol:
            raise BybitError(10001, "params error: symbol is required")
        try:
            return self.engine.instrument(str(symbol), category)
        except EngineError:
            raise BybitError(10001, "Not supported symbols") from None

    @staticmethod
    def _decimal(params: Mapping[str, Any], name: str) -> Decimal | None:
        value = params.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str | int):
            raise BybitError(10001, f"params error: {name} must be a string")
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            raise BybitError(10001, f"params error: {name} invalid") from None
        if not number.is_finite():
            raise BybitError(10001, f"params error: {name} invalid")
        return number

    @staticmethod
    def _limit(params: Mapping[str, Any], default: int, maximum: int) -> int:
        text = params.get("limit")
        if text in (None, ""):
            return default
        try:
            value = int(str(text))
        except ValueError:
            raise BybitError(10001, "params error: limit invalid") from None
        if not 1 <= value <= maximum:
            raise BybitError(10001, f"params error: limit must be in [1, {maximum}]")
        return value

    def _page(
        self, items: list[Any], params: Mapping[str, Any], default: int, maximum: int
    ) -> tuple[list[Any], str]:
        limit = self._limit(params, default, maximum)
        start = _offset(params.get("cursor"))
        page = items[start : start + limit]
        more = start + limit < len(items)
        return page, _cursor(start + limit) if more else ""

    # -- market ---------------------------------------------------------------------------

    def market_time(self, params: Mapping[str, Any]) -> dict[str, str]:
        """``/v5/market/time``."""
        now = self.state.now_ms()
        return {"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}

    def _instrument_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        if spec.category == "spot":
            return {
                "symbol": spec.symbol,
                "baseCoin": spec.base,
                "quoteCoin": spec.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "none",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": _w(spec.lot_size),
                    "quotePrecision": "0.00000001",
                    "minOrderQty": _w(spec.min_qty),
                    "maxOrderQty": _w(spec.max_qty),
                    "minOrderAmt": _w(spec.min_notional),
                    "maxOrderAmt": "2000000",
                },
                "priceFilter": {"tickSize": _w(spec.tick_size)},
                "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
            }
        return {
            "symbol": spec.symbol,
            "contractType": "LinearPerpetual" if spec.category == "linear" else "InversePerpetual",
            "status": "Trading",
            "baseCoin": spec.base,
            "quoteCoin": spec.quote,
            "launchTime": "1585526400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(max(-spec.tick_size.as_tuple().exponent, 0)),  # type: ignore[operator]
            "leverageFilter": {
                "minLeverage": "1",
                "maxLeverage": _w(spec.max_leverage),
                "leverageStep": "0.01",
            },
            "priceFilter": {
                "minPrice": _w(spec.tick_size),
                "maxPrice": "1999999.80",
                "tickSize": _w(spec.tick_size),
            },
            "lotSizeFilter": {
                "maxOrderQty": _w(spec.max_qty),
                "maxMktOrderQty": _w(spec.max_qty),
                "minOrderQty": _w(spec.min_qty),
                "qtyStep": _w(spec.lot_size),
                "postOnlyMaxOrderQty": _w(spec.max_qty),
                "minNotionalValue": _w(spec.min_notional),
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": spec.settle,
            "copyTrading": "both",
            "upperFundingRate": "0.00375",
            "lowerFundingRate": "-0.00375",
            "isPreListing": False,
            "preListingInfo": None,
        }

    def _specs(self, category: str) -> list[InstrumentSpec]:
        # The emulator lists no options: the option category is valid and empty.
        return [s for (c, _), s in sorted(self.engine.instruments.items()) if c == category]

    def instruments(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/instruments-info`` (paged for derivatives, as on Bybit)."""
        category = self._category(params)
        specs = self._specs(category)
        if params.get("symbol"):
            specs = [s for s in specs if s.symbol == params["symbol"]]
        # Only ``Trading`` symbols by default; ``status`` filters (every emulated one trades).
        if params.get("status") and params["status"] != "Trading":
            specs = []
        items = [self._instrument_json(s) for s in specs]
        if category == "spot":
            return {"category": category, "list": items}
        page, cursor = self._page(items, params, 500, 1000)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _ticker_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        change = (t.last - t.open_24h) / t.open_24h if t.open_24h else Decimal(0)
        item = {
            "symbol": spec.symbol,
            "bid1Price": _w(t.bid),
            "bid1Size": _w(t.bid_size),
            "ask1Price": _w(t.ask),
            "ask1Size": _w(t.ask_size),
            "lastPrice": _w(t.last),
            "prevPrice24h": _w(t.open_24h),
            "price24hPcnt": _w(change.quantize(Decimal("0.000001"))),
            "highPrice24h": _w(t.high_24h),
            "lowPrice24h": _w(t.low_24h),
            "turnover24h": _w(t.turnover_24h),
            "volume24h": _w(t.volume_24h),
        }
        if spec.category == "spot":
            item["usdIndexPrice"] = _w(t.index)
        else:
            item.update(
                {
                    "indexPrice": _w(t.index),
                    "markPrice": _w(t.mark),
                    "prevPrice1h": _w(t.open_24h),
                    "openInterest": "0",
                    "openInterestValue": "0",
                    **self.funding.ticker_fields(spec),
                    "predictedDeliveryPrice": "",
                    "basisRate": "",
                    "deliveryFeeRate": "",
                    "deliveryTime": "0",
                }
            )
        return item

    def tickers(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/tickers``."""
        category = self._category(params)
        specs = [self._spec(params, category)] if params.get("symbol") else self._specs(category)
        return {"category": category, "list": [self._ticker_json(s) for s in specs]}

    def orderbook(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/orderbook``."""
        category = self._category(params)
        spec = self._spec(params, category)
        default = 1 if category == "spot" else 25
        depth = self._limit(params, default, 1000)
        book = self.engine.book(spec.symbol, depth, category=category)
        return {
            "s": spec.symbol,
            "b": [[_w(p), _w(q)] for p, q in book.bids],
            "a": [[_w(p), _w(q)] for p, q in book.asks],
            "ts": book.time_ms,
            "u": book.update_id,
            "seq": book.seq,
            "cts": book.time_ms,
        }

    def recent_trade(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/recent-trade``, newest first."""
        category = self._category(params)
        spec = self._spec(params, category)
        limit = self._limit(
            params, 60 if category == "spot" else 500, 60 if category == "spot" else 1000
        )
        trades = self.engine.public_trades(spec.symbol, limit, category=category)
        return {
            "category": category,
            "list": [
                {
                    "execId": t.trade_id,
                    "symbol": spec.symbol,
                    "price": _w(t.price),
                    "size": _w(t.qty),
                    "side": "Buy" if t.side == "buy" else "Sell",
                    "time": str(t.time_ms),
                    "isBlockTrade": False,
                    "isRPITrade": False,
                }
                for t in trades
            ],
        }

    def kline(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/kline``, newest first."""
        category = self._category(params, "linear")
        spec = self._spec(params, category)
        minutes = _INTERVALS.get(str(params.get("interval")))
        if minutes is None:
            raise BybitError(10001, "params error: interval invalid")
        limit = self._limit(params, 200, 1000)
        start, end = _ms(params, "start"), _ms(params, "end")
        candles = self.engine.klines(
            spec.symbol,
            minutes * 60_000,
            start_ms=start,
            end_ms=end,
            limit=1000,
            category=category,
        )
        # With a start, Bybit returns the first ``limit`` candles from it; else the latest.
        chosen = candles[:limit] if start is not None else candles[-limit:]
        rows = [
            [
                str(c.start_ms),
                _w(c.open),
                _w(c.high),
                _w(c.low),
                _w(c.close),
                _w(c.volume),
                _w(c.turnover),
            ]
            for c in reversed(chosen)
        ]
        return {"category": category, "symbol": spec.symbol, "list": rows}

    # -- account --------------------------------------------------------------------------

    def wallet_balance(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/wallet-balance`` (UNIFIED only)."""
        if params.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        balances = self.engine.balances(key.uid)
        positions = self.engine.positions(key.uid)
        coins = []
        total_usd = Decimal(0)
        wanted = set(str(params["coin"]).split(",")) if params.get("coin") else None
        for coin, bal in sorted(balances.items()):
            if wanted is not None and coin not in wanted:
                continue
            position_im = sum(
                (
                    p.position_margin
                    for p in positions
                    if self._settle(p.symbol, p.category) == coin
                ),
                Decimal(0),
            )
            upl = sum(
                (p.unrealized_pnl for p in positions if self._settle(p.symbol, p.category) == coin),
                Decimal(0),
            )
            if bal.total == 0 and wanted is None:
                continue
            usd = bal.total * self._usd_price(coin)
            total_usd += usd
            coins.append(
                {
                    "coin": coin,
                    "equity": _w(bal.total + upl),
                    "usdValue": _w(usd.quantize(Decimal("0.0001"))),
                    "walletBalance": _w(bal.total),
                    "free": "",
                    "locked": _w(bal.locked - position_im),
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "availableToWithdraw": _w(bal.free),
                    "availableToBorrow": "",
                    "accruedInterest": "0",
                    "totalOrderIM": "0",
                    "totalPositionIM": _w(position_im),
                    "totalPositionMM": "0",
                    "unrealisedPnl": _w(upl),
                    "cumRealisedPnl": "0",
                    "bonus": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                }
            )
        usd_text = _w(total_usd.quantize(Decimal("0.0001")))
        account = {
            "accountType": "UNIFIED",
            "accountIMRate": "0",
            "accountMMRate": "0",
            "totalEquity": usd_text,
            "totalWalletBalance": usd_text,
            "totalMarginBalance": usd_text,
            "totalAvailableBalance": usd_text,
            "totalPerpUPL": "0",
            "totalInitialMargin": "0",
            "totalMaintenanceMargin": "0",
            "accountLTV": "0",
            "coin": coins,
        }
        return {"list": [account]}

    def _settle(self, symbol: str, category: str) -> str:
        return self.engine.instrument(symbol, category).settle

    def _usd_price(self, coin: str) -> Decimal:
        if coin in ("USDT", "USDC", "USD"):
            return Decimal(1)
        for (category, _), spec in self.engine.instruments.items():
            if category == "spot" and spec.base == coin and spec.quote == "USDT":
                return self.engine.ticker(spec.symbol, category="spot").last
        return Decimal(0)

    def fee_rate(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/fee-rate``."""
        category = self._category(params)
        specs = [self._spec(params, category)] if params.get("symbol") else self._specs(category)
        items = [
            {"symbol": s.symbol, "takerFeeRate": _w(s.taker_fee), "makerFeeRate": _w(s.maker_fee)}
            for s in specs
        ]
        result: dict[str, Any] = {"list": items}
        if category == "spot":
            result["category"] = "spot"
        return result

    def account_info(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/info`` (docs v5/account/account-info): a UTA 2.0 account, cross margin."""
        return {
            "unifiedMarginStatus": 5,  # docs v5/acct-mode: 5 = UTA 2.0 (query-api says uta=1)
            "marginMode": "REGULAR_MARGIN",
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(key.created_at),
            "dcpStatus": "OFF",  # deprecated, always OFF
            "timeWindow": 0,  # deprecated, always 0
            "smpGroup": 0,  # deprecated, always 0
        }

    def query_api(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/user/query-api``: the calling key's permissions, IPs and expiry."""
        perms: dict[str, list[str]] = {
            "ContractTrade": [],
            "Spot": [],
            "Wallet": [],
            "Options": [],
            "Derivatives": [],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        }
        if key.allows("spot_trade"):
            perms["Spot"] = ["SpotTrade"]
        if key.allows("derivatives_trade"):
            perms["ContractTrade"] = ["Order", "Position"]
            perms["Derivatives"] = ["DerivativesTrade"]
        if key.allows("options_trade"):
            perms["Options"] = ["OptionsTrade"]
        if key.allows("transfer"):
            perms["Wallet"] += ["AccountTransfer", "SubMemberTransfer"]
        if key.allows("withdraw"):
            # Bybit documents no field for withdrawal; the emulator names it "Withdraw".
            perms["Wallet"].append("Withdraw")
        now = self.state.now_ms()
        deadline = -2 if key.expires_at is None else max((key.expires_at - now) // 86_400_000, 0)
        return {
            # A stable id: hash() is salted per process, which would make recordings differ.
            "id": str(zlib.crc32(key.api_key.encode()) % 10_000_000),
            "note": key.label or "emulator key",
            "apiKey": key.api_key,
            "readOnly": 1 if key.read_only else 0,
            "secret": "",
            "permissions": perms,
            "ips": list(key.ips) or ["*"],
            "type": 1,
            "deadlineDay": deadline,
            "expiredAt": _iso(key.expires_at),
            "createdAt": _iso(key.created_at),
            "unified": 0,
            "uta": 1,
            "userID": key.uid,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": key.public_key or "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    # -- orders ---------------------------------------------------------------------------

    def _order_json(self, order: OrderView) -> dict[str, Any]:
        status = _STATUS.get(order.status)
        if order.status == "partially_filled_cancelled":
            status = "PartiallyFilledCanceled" if order.category == "spot" else "Cancelled"
        tif = "PostOnly" if order.post_only else order.time_in_force
        leaves = order.remaining
        price = order.price
        item = {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id or "",
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": _w(price) if price is not None else "0",
            "qty": _w(order.qty),
            "side": "Buy" if order.side == "buy" else "Sell",
            "isLeverage": "0" if order.category == "spot" else "",
            "positionIdx": 0,
            "orderStatus": status,
            "createType": "CreateByUser",
            "cancelType": "CancelByUser" if order.cancel_reason == "user" else "UNKNOWN",
            "rejectReason": _REJECT_REASONS.get(order.cancel_reason or "", "EC_NoError"),
            "avgPrice": _w(order.avg_price) if order.avg_price is not None else "",
            "leavesQty": _w(leaves),
            "leavesValue": _w(leaves * price) if price is not None else "0",
            "cumExecQty": _w(order.filled),
            "cumExecValue": _w(order.cum_quote),
            "cumExecFee": _w(order.fee_total),
            "cumFeeDetail": {order.fee_currency: _w(order.fee_total)} if order.fee_currency else {},
            "timeInForce": tif,
            "orderType": "Limit" if order.type == "limit" else "Market",
            "stopOrderType": "",
            "orderIv": "",
            "marketUnit": "quoteCoin" if order.quote_qty else "",
            "triggerPrice": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpslMode": "",
            "ocoTriggerBy": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "basePrice": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }
        if order.category == "spot":
            # Spot orders carry no tpslMode (a contracts-only field); clients such as ccxt
            # read its presence as "this is a contract order".
            del item["tpslMode"]
        return item

    def order_create(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/create``."""
        category = self._category(params)
        spec = self._spec(params, category)
        side = {"Buy": "buy", "Sell": "sell"}.get(str(params.get("side")))
        order_type = {"Limit": "limit", "Market": "market"}.get(str(params.get("orderType")))
        if side is None:
            raise BybitError(10001, "params error: side invalid")
        if order_type is None:
            raise BybitError(10001, "params error: orderType invalid")
        qty = self._decimal(params, "qty")
        if qty is None:
            raise BybitError(10001, "params error: qty is required")
        price = self._decimal(params, "price") if order_type == "limit" else None
        if order_type == "limit" and price is None:
            raise BybitError(10001, "params error: price is required for limit orders")
        tif = _TIF_IN.get(str(params.get("timeInForce", "GTC")))
        if tif is None:
            raise BybitError(10001, "params error: timeInForce invalid")
        if order_type == "market" and tif in ("GTC", "PostOnly"):
            tif = "IOC"
        link = params.get("orderLinkId") or None
        if link is not None and (not isinstance(link, str) or not _LINK_ID.match(link)):
            raise BybitError(10001, "params error: orderLinkId invalid (<= 36 of [A-Za-z0-9_-])")
        quote_qty = (
            category == "spot"
            and order_type == "market"
            and side == "buy"
            and params.get("marketUnit", "quoteCoin") == "quoteCoin"
        )
        reduce_only = params.get("reduceOnly") in (True, "true", "True")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            order_type,
            qty,
            price=price,
            time_in_force=tif,
            reduce_only=reduce_only,
            client_order_id=link,
            quote_qty=quote_qty,
            category=category,
            # Bybit accepts these and cancels them at once: the rejectReason says why.
            kill_unfillable=True,
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def _ref(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        order_id = params.get("orderId") or None
        link = params.get("orderLinkId") or None
        if order_id is None and link is None:
            raise BybitError(10001, "params error: OrderId or orderLinkId is required")
        return {"order_id": order_id, "client_order_id": None if order_id else link}

    def order_amend(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/amend``."""
        category = self._category(params)
        spec = self._spec(params, category)
        order = self.engine.amend_order(
            key.uid,
            spec.symbol,
            **self._ref(params),
            qty=self._decimal(params, "qty"),
            price=self._decimal(params, "price"),
            category=category,
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def order_cancel(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/cancel``."""
        category = self._category(params)
        spec = self._spec(params, category)
        order = self.engine.cancel_order(
            key.uid, spec.symbol, **self._ref(params), category=category
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def order_cancel_all(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/cancel-all``."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category in ("linear", "inverse") and not (
            params.get("baseCoin") or params.get("settleCoin")
        ):
            raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
        cancelled = self.engine.cancel_all(key.uid, symbol=symbol, category=category)
        settle = params.get("settleCoin")
        items = [
            {"orderId": o.order_id, "orderLinkId": o.client_order_id or ""}
            for o in cancelled
            if not settle or self._settle(o.symbol, o.category) == settle
        ]
        return {"list": items, "success": "1"}

    def _filter(self, orders: list[OrderView], params: Mapping[str, Any]) -> list[OrderView]:
        order_id, link = params.get("orderId"), params.get("orderLinkId")
        settle, base = params.get("settleCoin"), params.get("baseCoin")
        out = []
        for order in orders:
            if order_id and order.order_id != order_id:
                continue
            if link and order.client_order_id != link:
                continue
            spec = self.engine.instrument(order.symbol, order.category)
            if settle and spec.settle != settle:
                continue
            if base and spec.base != base:
                continue
            out.append(order)
        return out

    def _scoped(self, params: Mapping[str, Any], category: str) -> str | None:
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category == "linear" and not (
            params.get("baseCoin")
            or params.get("settleCoin")
            or params.get("orderId")
            or params.get("orderLinkId")
        ):
            raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
        return symbol

    def order_realtime(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/realtime``: open orders (openOnly=1: recent closed ones)."""
        category = self._category(params)
        symbol = self._scoped(params, category)
        if str(params.get("openOnly", "0")) == "1":
            orders = self.engine.closed_orders(key.uid, symbol=symbol, category=category)[:500]
        else:
            orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
        items = [self._order_json(o) for o in self._filter(orders, params)]
        page, cursor = self._page(items, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def order_history(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/history``: every order of the window, newest first."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
        orders += self.engine.closed_orders(key.uid, symbol=symbol, category=category)
        orders.sort(key=lambda o: o.created_ms, reverse=True)
        orders = self._window(orders, params, lambda o: o.created_ms)
        items = [self._order_json(o) for o in self._filter(orders, params)]
        status = params.get("orderStatus")
        if status:
            items = [i for i in items if i["orderStatus"] == status]
        page, cursor = self._page(items, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _window(
        self, items: list[Any], params: Mapping[str, Any], stamp: Callable[[Any], int]
    ) -> list[Any]:
        start, end = _ms(params, "startTime"), _ms(params, "endTime")
        if start is not None and end is not None and end - start > 7 * 86_400_000:
            raise BybitError(10001, "params error: endTime - startTime must be <= 7 days")
        return [
            i
            for i in items
            if (start is None or stamp(i) >= start) and (end is None or stamp(i) <= end)
        ]

    def execution_list(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/execution/list``, newest first."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        fills = self.engine.fills(
            key.uid, symbol=symbol, category=category, order_id=params.get("orderId") or None
        )
        fills = self._window(fills, params, lambda f: f.time_ms)
        link = params.get("orderLinkId")
        settle = params.get("settleCoin")
        items = []
        for f in fills:
            if link and f.client_order_id != link:
                continue
            if settle and self._settle(f.symbol, f.category) != settle:
                continue
            # The order's context (orderType, orderPrice, orderQty in "Get Trade History":
            # https://bybit-exchange.github.io/docs/v5/order/execution).
            order = self.engine.get_order(key.uid, order_id=f.order_id)
            items.append(
                {
                    "symbol": f.symbol,
                    "orderId": f.order_id,
                    "orderLinkId": f.client_order_id or "",
                    "side": "Buy" if f.side == "buy" else "Sell",
                    "orderPrice": _w(order.price if order.price is not None else f.price),
                    "orderQty": _w(order.qty),
                    "leavesQty": "0",
                    "createType": "CreateByUser",
                    "orderType": "Limit" if order.type == "limit" else "Market",
                    "stopOrderType": "",
                    "execFee": _w(f.fee),
                    "execFeeV2": "",
                    "execId": f.exec_id,
                    "execPrice": _w(f.price),
                    "execQty": _w(f.qty),
                    "execType": "Trade",
                    "execValue": _w(f.value),
                    "execTime": str(f.time_ms),
                    "feeCurrency": f.fee_currency,
                    "isMaker": f.is_maker,
                    "feeRate": _w(f.fee_rate),
                    "tradeIv": "",
                    "markIv": "",
                    "markPrice": _w(f.price),
                    "indexPrice": "",
                    "underlyingPrice": "",
                    "blockTradeId": "",
                    "closedSize": "",
                    "seq": 0,
                    "extraFees": "",
                }
            )
        page, cursor = self._page(items, params, 50, 100)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def position_list(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/position/list`` (no spot)."""
        category = self._category(params)
        if category == "spot":
            raise BybitError(10001, "params error: category spot is not supported")
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category == "linear" and not (params.get("settleCoin") or params.get("baseCoin")):
            raise BybitError(10001, "params error: symbol or settleCoin is required")
        positions = self.engine.positions(key.uid, symbol=symbol, category=category)
        settle = params.get("settleCoin")
        items = []
        for p in positions:
            if settle and self._settle(p.symbol, p.category) != settle:
                continue
            if symbol is None and p.size == 0:
                continue
            value = (p.entry_price or Decimal(0)) * p.size
            items.append(
                {
                    "positionIdx": 0,
                    "riskId": 1,
                    "riskLimitValue": "2000000",
                    "symbol": p.symbol,
                    "side": {"buy": "Buy", "sell": "Sell"}.get(p.side, ""),
                    "size": _w(p.size),
                    "avgPrice": _w(p.entry_price) if p.entry_price is not None else "0",
                    "positionValue": _w(value),
                    "tradeMode": 0,
                    "autoAddMargin": 0,
                    "positionStatus": "Normal",
                    "leverage": _w(p.leverage),
                    "markPrice": _w(p.mark_price),
                    "liqPrice": _w(p.liquidation_price) if p.liquidation_price else "",
                    "bustPrice": "",
                    "positionIM": _w(p.position_margin),
                    "positionMM": "0",
                    "positionBalance": _w(p.position_margin),
                    "takeProfit": "0",
                    "stopLoss": "0",
                    "trailingStop": "0",
                    "sessionAvgPrice": "",
                    "unrealisedPnl": _w(p.unrealized_pnl),
                    "curRealisedPnl": _w(p.realized_pnl),
                    "cumRealisedPnl": _w(p.realized_pnl),
                    "adlRankIndicator": 0,
                    "createdTime": str(p.created_ms),
                    "updatedTime": str(p.updated_ms),
                    "seq": 0,
                    "isReduceOnly": False,
                    "mmrSysUpdatedTime": "",
                    "leverageSysUpdatedTime": "",
                }
            )
        page, cursor = self._page(items, params, 20, 200)
        return {"category": category, "list": page, "nextPageCursor": cursor}
