"""Binance emulator front-end: spot ``/api/v3``, ``/sapi/v1`` and USD-M ``/fapi`` on one host.

Requests are checked as Binance's docs say they are checked (spot: "Request Security"
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security, "Error codes"
https://developers.binance.com/docs/binance-spot-api-docs/errors and "LIMITS"
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits; USD-M: "General Info"
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info):

* the key must be known (``-2015`` "Invalid API-key, IP, or permissions for action.", HTTP 401);
  an IP outside the key's whitelist and a missing permission get the same ``-2015``;
* the signature is recomputed over the raw percent-encoded query string concatenated with the raw
  body, minus the ``signature`` parameter (HMAC hex compared case-insensitively; RSA and Ed25519
  base64 after percent-decoding), else ``-1022``;
* ``timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow``, else ``-1021``;
  ``recvWindow`` is milliseconds with at most three decimals, else ``-1100`` (so ``nan``,
  ``inf``, ``1e4`` or ``-5000`` never switch the check off), and above zero, else ``-1131``;
  spot refuses ``recvWindow`` above 60000 (``-1131``); the futures docs state no maximum;
* request weights per endpoint (``adapters.binance.limits``) count per IP in fixed one-minute
  windows; every answer carries ``X-MBX-USED-WEIGHT-1M``; beyond the limit, HTTP 429 with
  ``-1003`` and ``Retry-After`` (seconds). Orders count per account (spot 10 per second, USD-M 300
  per 10 s and 1200 per minute) with ``X-MBX-ORDER-COUNT-*`` headers, else ``-1015``;
* ``newClientOrderId`` must be unique among the account's *open* orders ("A unique id among open
  orders"): spot answers ``-2010`` "Duplicate order sent.", USD-M ``-4116`` "ClientOrderId is
  duplicated." (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
  Once the first order is closed the id may be used again, and a query by ``origClientOrderId``
  finds the latest order with it.

Faults: ``server_error`` is Binance's backend timeout ``-1007`` "Timeout waiting for response from
backend server. Send status unknown; execution status unknown.", with HTTP 500 on spot (a
5XX: "execution status is UNKNOWN") and HTTP 408 on USD-M (its documented backend-timeout status);
``rate_limit`` is HTTP 429 ``-1003`` with ``Retry-After: 1``.

Simplifications (documented, not Binance's behaviour): the engine keeps one wallet per account, so
the spot and USD-M views show the same balances; a FOK order that cannot fill is refused (spot
``-2010``, USD-M ``-5021``) instead of being accepted and expired; "1s" klines are not emulated;
USD-M runs in one-way mode (positionSide BOTH).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from adapters.binance.limits import request_weight
from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError, InstrumentSpec, OrderView
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["BinanceFrontEnd"]

_D = Decimal
#: The wallets of a Binance account (the first is the main one, where spot trades) and the
#: categories each pays for.
SPOT_WALLET, USDM_WALLET, COINM_WALLET = "spot", "usdm", "coinm"
WALLETS = {SPOT_WALLET: ("spot",), USDM_WALLET: ("linear",), COINM_WALLET: ("inverse",)}
_NUMBER = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
# "recvWindow ... can be specified with up to three decimal places" ("Timing security",
# https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information).
_RECV_WINDOW = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,3})?$")
_CLIENT_ID = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
_MAX_RECV_WINDOW = 60_000
_DAY_MS = 86_400_000
_INTERVALS = {
    "1m": 1,
    "3m": 3,
    "5m": 5,
    "15m": 15,
    "30m": 30,
    "1h": 60,
    "2h": 120,
    "4h": 240,
    "6h": 360,
    "8h": 480,
    "12h": 720,
    "1d": 1440,
    "3d": 4320,
    "1w": 10080,
    "1M": 43200,
}
_USDM_DEPTHS = (5, 10, 20, 50, 100, 500, 1000)

#: Rate limits the emulator enforces and advertises in exchangeInfo.rateLimits: spot's are the
#: examples of the "Rate limiters (rateLimitType)" enum
#: (https://developers.binance.com/docs/binance-spot-api-docs/enums), USD-M's Binance's published
#: defaults.
_WEIGHT_LIMIT = {"spot": 6000, "usdm": 2400, "coinm": 2400}
_ORDER_LIMITS = {"spot": ((1, "S", 10),), "usdm": ((10, "S", 300), (1, "M", 1200))}
_UNIT_MS = {"S": 1000, "M": 60_000}
_RATE_LIMITS = {
    "spot": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 1, "limit": 10},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ],
    "usdm": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
    ],
}

_MSG_KEY = "Invalid API-key, IP, or permissions for action."
_MSG_UNKNOWN_ORDER = "Unknown order sent."
_MSG_NO_ORDER = "Order does not exist."
_MSG_TIMEOUT = (
    "Timeout waiting for response from backend server. Send status unknown; "
    "execution status unknown."
)


class BinanceError(Exception):
    """A Binance error answer: code, msg and HTTP status."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.headers: dict[str, str] = {}


def mandatory(name: str) -> BinanceError:
    """Binance's -1102 for a parameter not sent."""
    return _mandatory(name)


def _mandatory(name: str) -> BinanceError:
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def _f8(value: Decimal | None) -> str:
    # Spot prints every amount with 8 decimals ("0.10000000").
    return format(value if value is not None else _D(0), ".8f")


def _w(value: Decimal | None) -> str:
    return to_wire(value) if value is not None else "0"


class _Ints:
    """Binance order and trade ids are integers; the engine's are UUIDs."""

    def __init__(self, start: int) -> None:
        self._to_int: dict[str, int] = {}
        self._from_int: dict[int, str] = {}
        self._next = start

    def of(self, engine_id: str) -> int:
        number = self._to_int.get(engine_id)
        if number is None:
            number = self._next
            self._next += 1
            self._to_int[engine_id] = number
            self._from_int[number] = engine_id
        return number

    def engine_id(self, number: int) -> str | None:
        return self._from_int.get(number)


class BinanceFrontEnd:
    """Binance spot and USD-M over the emulator's shared engine."""

    name = "binance"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.engine = state.engine
        # Binance keeps the spot wallet and the futures wallets apart: a USD-M fill, fee or
        # margin never touches spot balances ("Futures account" vs "Spot account" in
        # https://developers.binance.com/docs/wallet/asset/user-universal-transfer).
        self.engine.set_wallets(WALLETS)
        self._order_ids = _Ints(1_000_001)
        self._trade_ids = _Ints(5_000_001)
        self._generated = 0
        # (market, window name, subject) -> (window start ms, used)
        self._windows: dict[tuple[str, str, str], tuple[int, int]] = {}
        G, P, D, U = "GET", "POST", "DELETE", "PUT"
        spot, usdm = "spot", "usdm"
        route = tuple[Callable[..., Any], str | None, str]
        self.routes: dict[tuple[str, str], route] = {
            (G, "/api/v3/time"): (self.time, None, spot),
            (G, "/api/v3/exchangeInfo"): (self.exchange_info_spot, None, spot),
            (G, "/api/v3/ticker/24hr"): (self.ticker_24h_spot, None, spot),
            (G, "/api/v3/ticker/bookTicker"): (self.book_ticker_spot, None, spot),
            (G, "/api/v3/depth"): (self.depth_spot, None, spot),
            (G, "/api/v3/trades"): (self.trades_spot, None, spot),
            (G, "/api/v3/aggTrades"): (self.agg_trades_spot, None, spot),
            (G, "/api/v3/klines"): (self.klines_spot, None, spot),
            (G, "/api/v3/account"): (self.account_spot, "USER_DATA", spot),
            (G, "/api/v3/account/commission"): (self.commission_spot, "USER_DATA", spot),
            (P, "/api/v3/order"): (self.new_order_spot, "TRADE", spot),
            (G, "/api/v3/order"): (self.query_order_spot, "USER_DATA", spot),
            (D, "/api/v3/order"): (self.cancel_order_spot, "TRADE", spot),
            (G, "/api/v3/openOrders"): (self.open_orders_spot, "USER_DATA", spot),
            (D, "/api/v3/openOrders"): (self.cancel_open_spot, "TRADE", spot),
            (G, "/api/v3/allOrders"): (self.all_orders_spot, "USER_DATA", spot),
            (G, "/api/v3/myTrades"): (self.my_trades_spot, "USER_DATA", spot),
            (G, "/sapi/v1/account/apiRestrictions"): (self.api_restrictions, "USER_DATA", spot),
            (G, "/fapi/v1/time"): (self.time, None, usdm),
            (G, "/fapi/v1/exchangeInfo"): (self.exchange_info_usdm, None, usdm),
            (G, "/fapi/v1/ticker/24hr"): (self.ticker_24h_usdm, None, usdm),
            (G, "/fapi/v1/ticker/bookTicker"): (self.book_ticker_usdm, None, usdm),
            (G, "/fapi/v1/depth"): (self.depth_usdm, None, usdm),
            (G, "/fapi/v1/trades"): (self.trades_usdm, None, usdm),
            (G, "/fapi/v1/aggTrades"): (self.agg_trades_usdm, None, usdm),
            (G, "/fapi/v1/klines"): (self.klines_usdm, None, usdm),
            (G, "/fapi/v3/account"): (self.account_usdm, "USER_DATA", usdm),
            (G, "/fapi/v3/balance"): (self.balance_usdm, "USER_DATA", usdm),
            (G, "/fapi/v1/commissionRate"): (self.commission_usdm, "USER_DATA", usdm),
            (P, "/fapi/v1/order"): (self.new_order_usdm, "TRADE", usdm),
            (U, "/fapi/v1/order"): (self.modify_order_usdm, "TRADE", usdm),
            (G, "/fapi/v1/order"): (self.query_order_usdm, "USER_DATA", usdm),
            (D, "/fapi/v1/order"): (self.cancel_order_usdm, "TRADE", usdm),
            (G, "/fapi/v1/openOrders"): (self.open_orders_usdm, "USER_DATA", usdm),
            (D, "/fapi/v1/allOpenOrders"): (self.cancel_open_usdm, "TRADE", usdm),
            (G, "/fapi/v1/allOrders"): (self.all_orders_usdm, "USER_DATA", usdm),
            (G, "/fapi/v1/userTrades"): (self.user_trades_usdm, "USER_DATA", usdm),
            (G, "/fapi/v3/positionRisk"): (self.position_risk, "USER_DATA", usdm),
        }
        from adapters.binance.emulator_assets import BinanceAssets
        from adapters.binance.emulator_funding import BinanceFunding
        from adapters.binance.emulator_leverage import BinanceLeverage

        self.routes.update(BinanceAssets(self).routes())
        self.routes.update(BinanceFunding(self).routes())
        self.routes.update(BinanceLeverage(self).routes())

    # -- the server's interface -------------------------------------------------------------

    @staticmethod
    def _json(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Outgoing:
        body = json.dumps(data, separators=(",", ":")).encode()
        return Outgoing(status, body, dict(headers or {}))

    def _error(self, err: BinanceError, headers: Mapping[str, str]) -> Outgoing:
        return self._json(
            err.status, {"code": err.code, "msg": err.message}, {**headers, **err.headers}
        )

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """HTTP 429 ``-1003`` for ``rate_limit``; the backend timeout ``-1007`` otherwise."""
        futures = request.path.startswith("/fapi")
        if kind == "rate_limit":
            limit = _WEIGHT_LIMIT["usdm" if futures else "spot"]
            message = (
                f"Too much request weight used; current limit is {limit} request weight per 1 "
                "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
            )
            return self._json(429, {"code": -1003, "msg": message}, {"Retry-After": "1"})
        return self._json(408 if futures else 500, {"code": -1007, "msg": _MSG_TIMEOUT})

    def handle(self, request: Incoming) -> Outgoing | None:
        """Weigh, authenticate and answer one request of Binance's API."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return None
        handler, security, market = route
        headers: dict[str, str] = {}
        try:
            params = self._params(request)
            weight = request_weight(market, request.method, request.path, params)
            headers.update(self._weigh(market, request.remote, weight))
            if security is None:
                result = handler(params)
            else:
                key = self._authenticate(request, params, market, security)
                if request.method in ("POST", "PUT") and request.path.endswith("/order"):
                    headers.update(self._count_order(market, key.uid))
                result = handler(params, key)
        except BinanceError as err:
            return self._error(err, headers)
        except EngineError as err:
            return self._error(self._engine_error(err, request, market), headers)
        return self._json(200, result, headers)

    # -- checks ---------------------------------------------------------------------------

    @staticmethod
    def _params(request: Incoming) -> dict[str, str]:
        params = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        # "If a parameter sent in both the query string and request body, the query string
        # parameter will be used" ("General Information on Endpoints", in the spot REST docs).
        params.update(parse_qsl(request.query, keep_blank_values=True))
        return params

    def _window(
        self, market: str, name: str, subject: str, span_ms: int, cost: int
    ) -> tuple[int, int]:
        now = self.state.now_ms()
        start = now - now % span_ms
        begun, used = self._windows.get((market, name, subject), (start, 0))
        if begun != start:
            used = 0
        used += cost
        self._windows[(market, name, subject)] = (start, used)
        return used, start + span_ms - now

    def _record(self, name: str, used: int, limit: int) -> None:
        stats = self.state.limits
        if used > limit:
            stats.rejected[name] = stats.rejected.get(name, 0) + 1
        elif used > stats.max_in_window.get(name, 0):
            stats.max_in_window[name] = used

    def _weigh(self, market: str, ip: str, weight: int) -> dict[str, str]:
        if not self.state.ip_limit:
            return {}
        used, left_ms = self._window(market, "weight:1m", ip, 60_000, weight)
        limit = _WEIGHT_LIMIT[market]
        self._record(f"binance:{market}:weight:1m:{ip}", used, limit)
        headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
        if used > limit:
            err = BinanceError(
                -1003,
                f"Too much request weight used; current limit is {limit} request weight per 1 "
                "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                429,
            )
            err.headers = {"Retry-After": str(max(1, -(-left_ms // 1000)))}
            raise err
        return headers

    def _count_order(self, market: str, uid: int) -> dict[str, str]:
        headers: dict[str, str] = {}
        for number, unit, limit in _ORDER_LIMITS[market]:
            name = f"orders:{number}{unit.lower()}"
            used, left_ms = self._window(market, name, str(uid), number * _UNIT_MS[unit], 1)
            self._record(f"{uid}:binance:{market}:{name}", used, limit)
            headers[f"X-MBX-ORDER-COUNT-{number}{unit}"] = str(used)
            if used > limit:
                per = {"S": "SECOND", "M": "MINUTE"}[unit]
                err = BinanceError(
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {number} {per}.",
                    429,
                )
                err.headers = {**headers, "Retry-After": str(max(1, -(-left_ms // 1000)))}
                raise err
        return headers

    def _authenticate(
        self, request: Incoming, params: Mapping[str, str], market: str, security: str
    ) -> ApiKey:
        api_key = request.headers.get("X-MBX-APIKEY", "")
        if not api_key:
            raise BinanceError(-2014, "API-key format invalid.", 401)
        key = self.state.keys.get(api_key)
        if key is None:
            raise BinanceError(-2015, _MSG_KEY, 401)
        if security == "MARKET_DATA":
            # MARKET_DATA endpoints need the API key only ("Endpoint security type" in
            # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/endpoint-security-type).
            return key
        if not params.get("timestamp"):
            raise _mandatory("timestamp")
        if not params.get("signature"):
            raise _mandatory("signature")
        try:
            timestamp = int(params["timestamp"])
        except ValueError:
            raise BinanceError(-1100, "Illegal characters found in a parameter.") from None
        recv_window = self._recv_window(params.get("recvWindow"), market)
        if timestamp >= 10**15:
            timestamp //= 1000  # spot accepts microseconds ("Timing security")
        payload, signature = _signed_payload(request)
        if signature is None or not _verify(key, payload, signature):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        now = self.state.now_ms()
        if timestamp >= now + 1000:
            raise BinanceError(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - timestamp > recv_window:
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
        # Binance reports an expired key, an IP off the whitelist and a missing permission all
        # as -2015.
        if key.expires_at is not None and key.expires_at <= now:
            raise BinanceError(-2015, _MSG_KEY, 401)
        if not key.ip_allowed(request.remote):
            raise BinanceError(-2015, _MSG_KEY, 401)
        if security == "TRADE":
            scope = "derivatives_trade" if market == "usdm" else "spot_trade"
            if not key.allows(scope):
                raise BinanceError(-2015, _MSG_KEY, 401)
        if security == "TRANSFER" and not key.allows("transfer"):
            raise BinanceError(-2015, _MSG_KEY, 401)
        return key

    def _engine_error(self, err: EngineError, request: Incoming, market: str) -> BinanceError:
        kind, spot = err.kind, market == "spot"
        method = request.method
        if kind == "insufficient_funds":
            if spot:
                return BinanceError(-2010, "Account has insufficient balance for requested action.")
            return BinanceError(-2019, "Margin is insufficient.")
        if kind in ("order_not_found", "order_closed"):
            if method == "DELETE":
                return BinanceError(-2011, _MSG_UNKNOWN_ORDER)
            return BinanceError(-2013, _MSG_NO_ORDER)
        if kind == "min_notional":
            if spot:
                return BinanceError(-1013, "Filter failure: NOTIONAL")
            return BinanceError(
                -4164, "Order's notional must be no smaller than 5 (unless you choose reduce only)."
            )
        if kind == "invalid_qty":
            if spot:
                return BinanceError(-1013, "Filter failure: LOT_SIZE")
            return BinanceError(-1111, "Precision is over the maximum defined for this asset.")
        if kind == "invalid_price":
            if spot:
                return BinanceError(-1013, "Filter failure: PRICE_FILTER")
            return BinanceError(-4014, "Price not increased by tick size.")
        if kind == "post_only_would_take":
            if spot:
                return BinanceError(-2010, "Order would immediately match and take.")
            return BinanceError(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be "
                "rejected. The order will not be recorded in the order history",
            )
        if kind == "fok_unfillable":
            if spot:
                return BinanceError(-2010, "Order would immediately expire.")
            return BinanceError(
                -5021,
                "Due to the order could not be filled immediately, the FOK order has been "
                "rejected. The order will not be recorded in the order history",
            )
        if kind == "reduce_only_rejected":
            return BinanceError(-2022, "ReduceOnly Order is rejected.")
        if kind == "no_liquidity":
            if spot:
                return BinanceError(
                    -2010, "Order book liquidity is less than LOT_SIZE filter minimum quantity."
                )
            return BinanceError(-2020, "Unable to fill.")
        if kind == "unknown_symbol":
            return BinanceError(-1121, "Invalid symbol.")
        if kind == "invalid_request" and "changes nothing" in err.message:
            return BinanceError(-5027, "No need to modify the order.")
        return BinanceError(
            -1102,
            f"Mandatory parameter was not sent, was empty/null, or malformed. ({err.message})",
        )

    # -- parameters -----------------------------------------------------------------------

    def _spec(
        self, params: Mapping[str, str], market: str, required: bool = True
    ) -> InstrumentSpec | None:
        symbol = params.get("symbol")
        if not symbol:
            if required:
                raise _mandatory("symbol")
            return None
        try:
            return self.engine.instrument(symbol, "linear" if market == "usdm" else "spot")
        except EngineError:
            raise BinanceError(-1121, "Invalid symbol.") from None

    def _need_spec(self, params: Mapping[str, str], market: str) -> InstrumentSpec:
        spec = self._spec(params, market)
        assert spec is not None
        return spec

    @staticmethod
    def _recv_window(text: str | None, market: str) -> Decimal:
        if not text:
            return _D(5000)
        # A float() reading would let "nan" (every comparison false) or "inf" switch it off.
        if not _RECV_WINDOW.match(text):
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'recvWindow'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,3})?$'.",
            )
        window = _D(text)
        if not window:
            # Binance documents no answer for a zero window; -1131 is its recvWindow code.
            raise BinanceError(-1131, "recvWindow must be greater than 0.")
        if market == "spot" and window > _MAX_RECV_WINDOW:
            raise BinanceError(-1131, "recvWindow must be less than 60000")
        return window

    @staticmethod
    def _number(params: Mapping[str, str], name: str) -> Decimal | None:
        text = params.get(name)
        if text is None or text == "":
            return None
        if not _NUMBER.match(text):
            raise BinanceError(
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            )
        return _D(text)

    @staticmethod
    def _int(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
        text = params.get(name)
        if text is None or text == "":
            return default
        value = integer(text)
        if value is None:
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'.")
        return value

    def _limit(self, params: Mapping[str, str], default: int, maximum: int) -> int:
        value = self._int(params, "limit", default)
        assert value is not None
        if not 1 <= value <= maximum:
            raise BinanceError(-1130, "Invalid data sent for a parameter.")
        return value

    @staticmethod
    def _category(market: str) -> str:
        return "linear" if market == "usdm" else "spot"

    # -- market data ----------------------------------------------------------------------

    def time(self, params: Mapping[str, str]) -> dict[str, int]:
        """``/api/v3/time`` and ``/fapi/v1/time``."""
        return {"serverTime": self.state.now_ms()}

    def specs(self, market: str) -> list[InstrumentSpec]:
        """The instruments listed on ``market`` ("spot" or "usdm")."""
        return self._specs(market)

    def _specs(self, market: str) -> list[InstrumentSpec]:
        category = self._category(market)
        return [s for (c, _), s in sorted(self.engine.instruments.items()) if c == category]

    def chosen(self, params: Mapping[str, str], market: str) -> list[InstrumentSpec]:
        """The instruments named by ``symbol`` or ``symbols``, else all of ``market``."""
        return self._chosen(params, market)

    def _chosen(self, params: Mapping[str, str], market: str) -> list[InstrumentSpec]:
        if params.get("symbol"):
            spec = self._spec(params, market)
            assert spec is not None
            return [spec]
        if params.get("symbols"):
            try:
                names = json_body(params["symbols"])
            except BadInput:
                raise BinanceError(
                    -1100, "Illegal characters found in parameter 'symbols'."
                ) from None
            if not isinstance(names, list) or not names:
                raise BinanceError(-1130, "Invalid data sent for a parameter.")
            if not all(isinstance(n, str) for n in names):
                raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'.")
            return [self._need_spec({"symbol": n}, market) for n in names]
        return self._specs(market)

    def _spot_symbol(self, spec: InstrumentSpec) -> dict[str, Any]:
        return {
            "symbol": spec.symbol,
            "status": "TRADING",
            "baseAsset": spec.base,
            "baseAssetPrecision": 8,
            "quoteAsset": spec.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _f8(spec.tick_size),
                    "maxPrice": "1000000.00000000",
                    "tickSize": _f8(spec.tick_size),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": _f8(spec.min_qty),
                    "maxQty": _f8(spec.max_qty),
                    "stepSize": _f8(spec.lot_size),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": _f8(spec.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": "9000000.00000000",
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_TAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER"],
        }

    def exchange_info_spot(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/api/v3/exchangeInfo`` (``symbol``/``symbols`` filter)."""
        return {
            "timezone": "UTC",
            "serverTime": self.state.now_ms(),
            "rateLimits": _RATE_LIMITS["spot"],
            "exchangeFilters": [],
            "symbols": [self._spot_symbol(s) for s in self._chosen(params, "spot")],
        }

    def _usdm_symbol(self, spec: InstrumentSpec) -> dict[str, Any]:
        decimals = max(-int(spec.tick_size.as_tuple().exponent), 0)
        qty_decimals = max(-int(spec.lot_size.as_tuple().exponent), 0)
        lot = {
            "minQty": _w(spec.min_qty),
            "maxQty": _w(spec.max_qty),
            "stepSize": _w(spec.lot_size),
        }
        return {
            "symbol": spec.symbol,
            "pair": spec.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": spec.base,
            "quoteAsset": spec.quote,
            "marginAsset": spec.settle,
            "pricePrecision": decimals,
            "quantityPrecision": qty_decimals,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "triggerProtect": "0.0500",
            "liquidationFee": "0.012500",
            "marketTakeBound": "0.05",
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": _w(spec.tick_size),
                    "maxPrice": "4529764",
                    "tickSize": _w(spec.tick_size),
                },
                {"filterType": "LOT_SIZE", **lot},
                {"filterType": "MARKET_LOT_SIZE", **lot},
                {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                {"filterType": "MIN_NOTIONAL", "notional": _w(spec.min_notional)},
                {
                    "filterType": "PERCENT_PRICE",
                    "multiplierUp": "1.0500",
                    "multiplierDown": "0.9500",
                    "multiplierDecimal": "4",
                },
            ],
            "orderTypes": ["LIMIT", "MARKET"],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }

    def exchange_info_usdm(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/fapi/v1/exchangeInfo`` (USD-M lists every symbol; no filter parameters)."""
        specs = self._specs("usdm")
        return {
            "timezone": "UTC",
            "serverTime": self.state.now_ms(),
            "futuresType": "U_MARGINED",
            "rateLimits": _RATE_LIMITS["usdm"],
            "exchangeFilters": [],
            "assets": [
                {"asset": coin, "marginAvailable": True, "autoAssetExchange": "-10000"}
                for coin in sorted({s.settle for s in specs})
            ],
            "symbols": [self._usdm_symbol(s) for s in specs],
        }

    def _ticker(self, spec: InstrumentSpec, market: str) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        now = self.state.now_ms()
        fmt = _f8 if market == "spot" else _w
        change = t.last - t.open_24h
        percent = (change / t.open_24h * 100).quantize(_D("0.001")) if t.open_24h else _D(0)
        average = t.turnover_24h / t.volume_24h if t.volume_24h else t.last
        item: dict[str, Any] = {
            "symbol": spec.symbol,
            "priceChange": fmt(change),
            "priceChangePercent": _w(percent),
            "weightedAvgPrice": fmt(average.quantize(spec.tick_size)),
        }
        if market == "spot":
            item.update(
                {
                    "prevClosePrice": fmt(t.open_24h),
                    "lastPrice": fmt(t.last),
                    "lastQty": fmt(_D(0)),
                    "bidPrice": fmt(t.bid),
                    "bidQty": fmt(t.bid_size),
                    "askPrice": fmt(t.ask),
                    "askQty": fmt(t.ask_size),
                }
            )
        else:
            item.update({"lastPrice": fmt(t.last), "lastQty": "0"})
        item.update(
            {
                "openPrice": fmt(t.open_24h),
                "highPrice": fmt(t.high_24h),
                "lowPrice": fmt(t.low_24h),
                "volume": fmt(t.volume_24h),
                "quoteVolume": fmt(t.turnover_24h),
                "openTime": now - _DAY_MS,
                "closeTime": now,
                "firstId": -1,
                "lastId": -1,
                "count": 0,
            }
        )
        return item

    def ticker_24h_spot(self, params: Mapping[str, str]) -> Any:
        """``/api/v3/ticker/24hr``: one object for ``symbol``, else a list."""
        items = [self._ticker(s, "spot") for s in self._chosen(params, "spot")]
        return items[0] if params.get("symbol") else items

    def ticker_24h_usdm(self, params: Mapping[str, str]) -> Any:
        """``/fapi/v1/ticker/24hr`` (no bid/ask: those are in bookTicker)."""
        specs = self._chosen({"symbol": params.get("symbol", "")}, "usdm")
        items = [self._ticker(s, "usdm") for s in specs]
        return items[0] if params.get("symbol") else items

    def _book_ticker(self, spec: InstrumentSpec, market: str) -> dict[str, Any]:
        t = self.engine.ticker(spec.symbol, category=spec.category)
        fmt = _f8 if market == "spot" else _w
        item: dict[str, Any] = {
            "symbol": spec.symbol,
            "bidPrice": fmt(t.bid),
            "bidQty": fmt(t.bid_size),
            "askPrice": fmt(t.ask),
            "askQty": fmt(t.ask_size),
        }
        if market == "usdm":
            item["time"] = t.time_ms
        return item

    def book_ticker_spot(self, params: Mapping[str, str]) -> Any:
        """``/api/v3/ticker/bookTicker``."""
        items = [self._book_ticker(s, "spot") for s in self._chosen(params, "spot")]
        return items[0] if params.get("symbol") else items

    def book_ticker_usdm(self, params: Mapping[str, str]) -> Any:
        """``/fapi/v1/ticker/bookTicker``."""
        specs = self._chosen({"symbol": params.get("symbol", "")}, "usdm")
        items = [self._book_ticker(s, "usdm") for s in specs]
        return items[0] if params.get("symbol") else items

    def _depth(self, spec: InstrumentSpec, limit: int, market: str) -> dict[str, Any]:
        book = self.engine.book(spec.symbol, limit, category=spec.category)
        fmt = _f8 if market == "spot" else _w
        data: dict[str, Any] = {"lastUpdateId": book.update_id}
        if market == "usdm":
            data.update({"E": self.state.now_ms(), "T": book.time_ms})
        data["bids"] = [[fmt(p), fmt(q)] for p, q in book.bids]
        data["asks"] = [[fmt(p), fmt(q)] for p, q in book.asks]
        return data

    def depth_spot(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/api/v3/depth`` (limit 1-5000, default 100)."""
        return self._depth(self._need_spec(params, "spot"), self._limit(params, 100, 5000), "spot")

    def depth_usdm(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/fapi/v1/depth`` (limit one of 5, 10, 20, 50, 100, 500, 1000; default 500)."""
        spec = self._need_spec(params, "usdm")
        limit = self._limit(params, 500, 1000)
        if limit not in _USDM_DEPTHS:
            raise BinanceError(-4021, "Invalid depth limit.")
        return self._depth(spec, limit, "usdm")

    def _trades(self, params: Mapping[str, str], market: str) -> list[dict[str, Any]]:
        spec = self._need_spec(params, market)
        limit = self._limit(params, 500, 1000)
        fmt = _f8 if market == "spot" else _w
        rows = []
        for t in reversed(self.engine.public_trades(spec.symbol, limit, category=spec.category)):
            row: dict[str, Any] = {
                "id": self._trade_ids.of(t.trade_id),
                "price": fmt(t.price),
                "qty": fmt(t.qty),
                "quoteQty": fmt(t.price * t.qty),
                "time": t.time_ms,
                "isBuyerMaker": t.side == "sell",
            }
            if market == "spot":
                row["isBestMatch"] = True
            rows.append(row)
        return rows

    def trades_spot(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/api/v3/trades``: oldest first."""
        return self._trades(params, "spot")

    def trades_usdm(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/fapi/v1/trades``: oldest first."""
        return self._trades(params, "usdm")

    def _agg_trades(self, params: Mapping[str, str], market: str) -> list[dict[str, Any]]:
        """Aggregate trades ("Compressed/Aggregate trades list": a, p, q, f, l, T, m).

        Each engine trade is its own aggregate (Binance merges the fills of one taker order at
        one price; the emulator does not), so ``f`` and ``l`` are the trade's own id.
        """
        rows = []
        for trade in self._trades(params, market):
            row: dict[str, Any] = {
                "a": trade["id"],
                "p": trade["price"],
                "q": trade["qty"],
                "f": trade["id"],
                "l": trade["id"],
                "T": trade["time"],
                "m": trade["isBuyerMaker"],
            }
            if market == "spot":
                row["M"] = True
            rows.append(row)
        return rows

    def agg_trades_spot(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/api/v3/aggTrades``: oldest first."""
        return self._agg_trades(params, "spot")

    def agg_trades_usdm(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/fapi/v1/aggTrades``: oldest first."""
        return self._agg_trades(params, "usdm")

    def _klines(self, params: Mapping[str, str], market: str, maximum: int) -> list[list[Any]]:
        spec = self._need_spec(params, market)
        interval = params.get("interval")
        if not interval:
            raise _mandatory("interval")
        minutes = _INTERVALS.get(interval)
        if minutes is None:
            raise BinanceError(-1120, "Invalid interval.")
        limit = self._limit(params, 500, maximum)
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        candles = self.engine.klines(
            spec.symbol,
            minutes * 60_000,
            start_ms=start,
            end_ms=end,
            limit=1000,
            category=spec.category,
        )
        # With a start, Binance returns the first ``limit`` candles from it; else the latest.
        chosen = candles[:limit] if start is not None else candles[-limit:]
        fmt = _f8 if market == "spot" else _w
        return [
            [
                c.start_ms,
                fmt(c.open),
                fmt(c.high),
                fmt(c.low),
                fmt(c.close),
                fmt(c.volume),
                c.start_ms + minutes * 60_000 - 1,
                fmt(c.turnover),
                0,
                fmt(_D(0)),
                fmt(_D(0)),
                "0",
            ]
            for c in chosen
        ]

    def klines_spot(self, params: Mapping[str, str]) -> list[list[Any]]:
        """``/api/v3/klines`` (limit ≤ 1000)."""
        return self._klines(params, "spot", 1000)

    def klines_usdm(self, params: Mapping[str, str]) -> list[list[Any]]:
        """``/fapi/v1/klines`` (limit ≤ 1500; the engine keeps 1000)."""
        return self._klines(params, "usdm", 1500)

    # -- account --------------------------------------------------------------------------

    def account_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/api/v3/account`` (``omitZeroBalances``)."""
        omit = params.get("omitZeroBalances") == "true"
        fee = next((s.taker_fee for s in self._specs("spot")), _D("0.001"))
        bps = int(fee * 10_000)
        return {
            "makerCommission": bps,
            "takerCommission": bps,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": _f8(fee),
                "taker": _f8(fee),
                "buyer": _f8(_D(0)),
                "seller": _f8(_D(0)),
            },
            "canTrade": key.allows("spot_trade"),
            "canWithdraw": key.allows("withdraw"),
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.state.now_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": coin, "free": _f8(b.free), "locked": _f8(b.locked)}
                for coin, b in self.engine.balances(key.uid).items()
                if not (omit and b.total == 0)
            ],
            "permissions": ["SPOT"],
            "uid": key.uid,
        }

    def _futures_assets(self, key: ApiKey) -> list[dict[str, Any]]:
        positions = self.engine.positions(key.uid, category="linear")
        now = self.state.now_ms()
        assets = []
        for coin, b in self.engine.balances(key.uid, wallet=USDM_WALLET).items():
            held = [
                p for p in positions if self.engine.instrument(p.symbol, "linear").settle == coin
            ]
            position_im = sum((p.position_margin for p in held), _D(0))
            upl = sum((p.unrealized_pnl for p in held), _D(0))
            assets.append(
                {
                    "asset": coin,
                    "walletBalance": _w(b.total),
                    "unrealizedProfit": _w(upl),
                    "marginBalance": _w(b.total + upl),
                    "maintMargin": "0",
                    "initialMargin": _w(b.locked),
                    "positionInitialMargin": _w(position_im),
                    "openOrderInitialMargin": _w(b.locked - position_im),
                    "crossWalletBalance": _w(b.total),
                    "crossUnPnl": _w(upl),
                    "availableBalance": _w(b.free),
                    "maxWithdrawAmount": _w(b.free),
                    "updateTime": now,
                }
            )
        return assets

    def account_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v3/account``: the engine's wallet seen as USD-M margin assets."""
        assets = self._futures_assets(key)

        def total(name: str) -> str:
            return _w(sum((_D(a[name]) for a in assets if a["asset"] == "USDT"), _D(0)))

        return {
            "totalInitialMargin": total("initialMargin"),
            "totalMaintMargin": "0",
            "totalWalletBalance": total("walletBalance"),
            "totalUnrealizedProfit": total("unrealizedProfit"),
            "totalMarginBalance": total("marginBalance"),
            "totalPositionInitialMargin": total("positionInitialMargin"),
            "totalOpenOrderInitialMargin": total("openOrderInitialMargin"),
            "totalCrossWalletBalance": total("crossWalletBalance"),
            "totalCrossUnPnl": total("crossUnPnl"),
            "availableBalance": total("availableBalance"),
            "maxWithdrawAmount": total("maxWithdrawAmount"),
            "assets": assets,
            "positions": [
                {
                    "symbol": p["symbol"],
                    "positionSide": "BOTH",
                    "positionAmt": p["positionAmt"],
                    "unrealizedProfit": p["unRealizedProfit"],
                    "isolatedMargin": "0",
                    "notional": p["notional"],
                    "isolatedWallet": "0",
                    "initialMargin": p["initialMargin"],
                    "maintMargin": "0",
                    "updateTime": p["updateTime"],
                }
                for p in self.position_risk({}, key)
            ],
        }

    def balance_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/fapi/v3/balance``."""
        return [
            {
                "accountAlias": "SgsR",
                "asset": a["asset"],
                "balance": a["walletBalance"],
                "crossWalletBalance": a["crossWalletBalance"],
                "crossUnPnl": a["crossUnPnl"],
                "availableBalance": a["availableBalance"],
                "maxWithdrawAmount": a["maxWithdrawAmount"],
                "marginAvailable": True,
                "updateTime": a["updateTime"],
            }
            for a in self._futures_assets(key)
        ]

    def commission_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/api/v3/account/commission``."""
        spec = self._need_spec(params, "spot")
        zero = {"maker": _f8(_D(0)), "taker": _f8(_D(0)), "buyer": _f8(_D(0)), "seller": _f8(_D(0))}
        return {
            "symbol": spec.symbol,
            "standardCommission": {
                "maker": _f8(spec.maker_fee),
                "taker": _f8(spec.taker_fee),
                "buyer": _f8(_D(0)),
                "seller": _f8(_D(0)),
            },
            "specialCommission": dict(zero),
            "taxCommission": dict(zero),
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": "0.75000000",
            },
        }

    def commission_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v1/commissionRate``."""
        spec = self._need_spec(params, "usdm")
        return {
            "symbol": spec.symbol,
            "makerCommissionRate": _w(spec.maker_fee),
            "takerCommissionRate": _w(spec.taker_fee),
            "rpiCommissionRate": "0",
        }

    def api_restrictions(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/sapi/v1/account/apiRestrictions`` of the calling key.

        Fields: https://developers.binance.com/docs/wallet/account/api-key-permission
        """
        data: dict[str, Any] = {
            "ipRestrict": bool(key.ips),
            "createTime": key.created_at,
            "enableReading": True,
            "enableWithdrawals": key.allows("withdraw"),
            "enableInternalTransfer": key.allows("transfer"),
            "enableMargin": False,
            "enableFutures": key.allows("derivatives_trade"),
            "permitsUniversalTransfer": key.allows("transfer"),
            "enableVanillaOptions": key.allows("options_trade"),
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": key.allows("spot_trade"),
            "enablePortfolioMarginTrading": False,
        }
        if key.expires_at is not None:
            data["tradingAuthorityExpirationTime"] = key.expires_at
        return data

    def position_risk(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/fapi/v3/positionRisk``: symbols with a position or open orders.

        Binance's "Position Information V3": trade/rest-api/Position-Information-V3 under
        https://developers.binance.com/docs/derivatives/usds-margined-futures/
        """
        spec = self._spec(params, "usdm", required=False)
        symbol = spec.symbol if spec is not None else None
        busy = {
            o.symbol for o in self.engine.open_orders(key.uid, symbol=symbol, category="linear")
        }
        items = []
        for p in self.engine.positions(key.uid, symbol=symbol, category="linear"):
            if p.size == 0 and p.symbol not in busy:
                continue
            amount = p.size if p.side != "sell" else -p.size
            notional = amount * p.mark_price
            margin = abs(notional) / p.leverage if p.leverage else _D(0)
            items.append(
                {
                    "symbol": p.symbol,
                    "positionSide": "BOTH",
                    "positionAmt": _w(amount),
                    "entryPrice": _w(p.entry_price or _D(0)),
                    "breakEvenPrice": _w(p.entry_price or _D(0)),
                    "markPrice": _w(p.mark_price),
                    "unRealizedProfit": _w(p.unrealized_pnl),
                    "liquidationPrice": _w(p.liquidation_price or _D(0)),
                    "isolatedMargin": "0",
                    "notional": _w(notional),
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": _w(margin),
                    "maintMargin": "0",
                    "positionInitialMargin": _w(margin),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": p.updated_ms,
                }
            )
        return items

    # -- orders: ids ------------------------------------------------------------------------

    def _internal_ids(self, uid: int, cid: str) -> list[str]:
        # The engine refuses any reuse of a client id; Binance only forbids it among open orders.
        # Later uses travel to the engine as "cid#2", "cid#3"… ('#' is outside Binance's
        # alphabet), so the engine's ledger keeps every order.
        found: list[str] = []
        n = 1
        while True:
            internal = cid if n == 1 else f"{cid}#{n}"
            try:
                self.engine.get_order(uid, client_order_id=internal)
            except EngineError:
                return found
            found.append(internal)
            n += 1

    def _client_id(self, order: OrderView) -> str:
        return (order.client_order_id or "").split("#", 1)[0]

    def _new_client_id(self, params: Mapping[str, str], uid: int, market: str) -> str:
        cid = params.get("newClientOrderId")
        if cid is None or cid == "":
            # Binance generates one when none is sent.
            self._generated += 1
            seed = f"{self.state.seed}:{self._generated}".encode()
            return "emu" + hashlib.sha256(seed).hexdigest()[:19]
        if not _CLIENT_ID.match(cid):
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        category = self._category(market)
        for internal in self._internal_ids(uid, cid):
            order = self.engine.get_order(uid, client_order_id=internal)
            if order.category == category and order.status in ("new", "partially_filled"):
                if market == "spot":
                    raise BinanceError(-2010, "Duplicate order sent.")
                raise BinanceError(-4116, "ClientOrderId is duplicated.")
        return cid

    def _engine_client_id(self, uid: int, cid: str) -> str:
        used = len(self._internal_ids(uid, cid))
        return cid if used == 0 else f"{cid}#{used + 1}"

    def _find(
        self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec, missing: BinanceError
    ) -> OrderView:
        order_id = self._int(params, "orderId")
        cid = params.get("origClientOrderId")
        if order_id is None and not cid:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        view: OrderView | None = None
        if order_id is not None:
            engine_id = self._order_ids.engine_id(order_id)
            if engine_id is not None:
                try:
                    view = self.engine.get_order(key.uid, order_id=engine_id)
                except EngineError:
                    view = None
            if view is not None and cid and self._client_id(view) != cid:
                view = None
        else:
            assert cid is not None
            for internal in reversed(self._internal_ids(key.uid, cid)):
                candidate = self.engine.get_order(key.uid, client_order_id=internal)
                if candidate.symbol == spec.symbol and candidate.category == spec.category:
                    view = candidate
                    break
        if view is None or view.symbol != spec.symbol or view.category != spec.category:
            raise missing
        return view

    # -- orders: JSON -----------------------------------------------------------------------

    @staticmethod
    def _status(order: OrderView) -> str:
        status = order.status
        if status in ("new", "partially_filled", "filled", "rejected"):
            return status.upper()
        if order.cancel_reason == "ioc_remainder":
            return "EXPIRED"
        if order.cancel_reason == "self_trade":
            return "EXPIRED_IN_MATCH"
        return "CANCELED"

    def _spot_order(self, o: OrderView, *, query: bool) -> dict[str, Any]:
        quote = o.quote_qty
        item: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": self._order_ids.of(o.order_id),
            "orderListId": -1,
            "clientOrderId": self._client_id(o),
            "price": _f8(o.price),
            "origQty": _f8(o.filled if quote else o.qty),
            "executedQty": _f8(o.filled),
            "cummulativeQuoteQty": _f8(o.cum_quote),
            "status": self._status(o),
            "timeInForce": "GTC" if o.type == "market" or o.post_only else o.time_in_force,
            "type": "MARKET" if o.type == "market" else "LIMIT_MAKER" if o.post_only else "LIMIT",
            "side": o.side.upper(),
        }
        if query:
            item.update(
                {
                    "stopPrice": _f8(_D(0)),
                    "icebergQty": _f8(_D(0)),
                    "time": o.created_ms,
                    "updateTime": o.updated_ms,
                    "isWorking": True,
                    "workingTime": o.created_ms,
                }
            )
        else:
            item["transactTime"] = o.updated_ms
            item["workingTime"] = o.created_ms
        item["origQuoteOrderQty"] = _f8(o.qty if quote else _D(0))
        item["selfTradePreventionMode"] = "EXPIRE_TAKER"
        return item

    def _usdm_order(self, o: OrderView) -> dict[str, Any]:
        return {
            "orderId": self._order_ids.of(o.order_id),
            "symbol": o.symbol,
            "status": self._status(o),
            "clientOrderId": self._client_id(o),
            "price": _w(o.price),
            "avgPrice": _w(o.avg_price),
            "origQty": _w(o.qty),
            "executedQty": _w(o.filled),
            "cumQty": _w(o.filled),
            "cumQuote": _w(o.cum_quote),
            "timeInForce": "GTX"
            if o.post_only
            else "GTC"
            if o.type == "market"
            else o.time_in_force,
            "type": o.type.upper(),
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": o.side.upper(),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": o.type.upper(),
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_TAKER",
            "goodTillDate": 0,
            "time": o.created_ms,
            "updateTime": o.updated_ms,
        }

    def _spot_fills(self, o: OrderView) -> list[dict[str, Any]]:
        fills = self.engine.fills(o.uid, symbol=o.symbol, category="spot", order_id=o.order_id)
        return [
            {
                "price": _f8(f.price),
                "qty": _f8(f.qty),
                "commission": _f8(f.fee),
                "commissionAsset": f.fee_currency,
                "tradeId": self._trade_ids.of(f.exec_id),
            }
            for f in reversed(fills)
        ]

    # -- orders: spot -----------------------------------------------------------------------

    def _side(self, params: Mapping[str, str]) -> str:
        side = params.get("side")
        if not side:
            raise _mandatory("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        return side.lower()

    def new_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``POST /api/v3/order``: LIMIT, LIMIT_MAKER and MARKET (quantity or quoteOrderQty)."""
        spec = self._need_spec(params, "spot")
        side = self._side(params)
        kind = params.get("type")
        if not kind:
            raise _mandatory("type")
        if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce")
        if kind == "LIMIT":
            if not tif:
                raise _mandatory("timeInForce")
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(-1115, "Invalid timeInForce.")
        elif tif:
            raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
        qty = self._number(params, "quantity")
        quote = self._number(params, "quoteOrderQty") if kind == "MARKET" else None
        if qty is None and quote is None:
            raise _mandatory("quantity")
        price = self._number(params, "price")
        if kind != "MARKET" and price is None:
            raise _mandatory("price")
        cid = self._new_client_id(params, key.uid, "spot")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            "market" if kind == "MARKET" else "limit",
            qty if qty is not None else quote,  # type: ignore[arg-type]
            price=price if kind != "MARKET" else None,
            time_in_force="PostOnly" if kind == "LIMIT_MAKER" else tif or "GTC",
            client_order_id=self._engine_client_id(key.uid, cid),
            quote_qty=qty is None,
            category="spot",
        )
        answer = params.get("newOrderRespType") or "FULL"
        if answer == "ACK":
            return {
                "symbol": order.symbol,
                "orderId": self._order_ids.of(order.order_id),
                "orderListId": -1,
                "clientOrderId": cid,
                "transactTime": order.updated_ms,
            }
        item = self._spot_order(order, query=False)
        if answer == "FULL":
            item["fills"] = self._spot_fills(order)
        return item

    def query_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /api/v3/order``."""
        spec = self._need_spec(params, "spot")
        order = self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER))
        return self._spot_order(order, query=True)

    def _cancel_json(self, order: OrderView, cancel_id: str) -> dict[str, Any]:
        item = self._spot_order(order, query=False)
        # A cancel answer names the cancel by clientOrderId and the order by origClientOrderId.
        return {
            "symbol": item.pop("symbol"),
            "origClientOrderId": self._client_id(order),
            "orderId": item.pop("orderId"),
            "orderListId": item.pop("orderListId"),
            **item,
            "clientOrderId": cancel_id,
        }

    def _cancel_id(self, params: Mapping[str, str]) -> str:
        given = params.get("newClientOrderId")
        if given:
            return given
        self._generated += 1
        return "cancel" + hashlib.sha256(f"c{self._generated}".encode()).hexdigest()[:16]

    def cancel_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /api/v3/order``."""
        spec = self._need_spec(params, "spot")
        order = self._find(params, key, spec, BinanceError(-2011, _MSG_UNKNOWN_ORDER))
        cancelled = self.engine.cancel_order(
            key.uid, spec.symbol, order_id=order.order_id, category="spot"
        )
        return self._cancel_json(cancelled, self._cancel_id(params))

    def open_orders_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders`` (one symbol or all)."""
        spec = self._spec(params, "spot", required=False)
        orders = self.engine.open_orders(
            key.uid, symbol=spec.symbol if spec else None, category="spot"
        )
        return [self._spot_order(o, query=True) for o in reversed(orders)]

    def cancel_open_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``DELETE /api/v3/openOrders`` (symbol required; -2011 when none is open)."""
        spec = self._need_spec(params, "spot")
        if not self.engine.open_orders(key.uid, symbol=spec.symbol, category="spot"):
            raise BinanceError(-2011, _MSG_UNKNOWN_ORDER)
        cancelled = self.engine.cancel_all(key.uid, symbol=spec.symbol, category="spot")
        return [self._cancel_json(o, self._cancel_id({})) for o in reversed(cancelled)]

    def _history(
        self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec
    ) -> list[OrderView]:
        orders = self.engine.open_orders(key.uid, symbol=spec.symbol, category=spec.category)
        orders += self.engine.closed_orders(key.uid, symbol=spec.symbol, category=spec.category)
        orders.sort(key=lambda o: (o.created_ms, self._order_ids.of(o.order_id)))
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        first_id = self._int(params, "orderId")
        chosen = [
            o
            for o in orders
            if (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
            and (first_id is None or self._order_ids.of(o.order_id) >= first_id)
        ]
        limit = self._limit(params, 500, 1000)
        return chosen[:limit] if start is not None or first_id is not None else chosen[-limit:]

    def all_orders_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders`` (symbol required), oldest first."""
        spec = self._need_spec(params, "spot")
        return [self._spot_order(o, query=True) for o in self._history(params, key, spec)]

    def _fills(self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec) -> list[Any]:
        order_id = self._int(params, "orderId")
        engine_id = self._order_ids.engine_id(order_id) if order_id is not None else None
        if order_id is not None and engine_id is None:
            return []
        fills = list(
            reversed(
                self.engine.fills(
                    key.uid, symbol=spec.symbol, category=spec.category, order_id=engine_id
                )
            )
        )
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        chosen = [
            f
            for f in fills
            if (start is None or f.time_ms >= start) and (end is None or f.time_ms <= end)
        ]
        limit = self._limit(params, 500, 1000)
        return chosen[:limit] if start is not None else chosen[-limit:]

    def my_trades_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/myTrades`` (symbol required), oldest first."""
        spec = self._need_spec(params, "spot")
        return [
            {
                "symbol": f.symbol,
                "id": self._trade_ids.of(f.exec_id),
                "orderId": self._order_ids.of(f.order_id),
                "orderListId": -1,
                "price": _f8(f.price),
                "qty": _f8(f.qty),
                "quoteQty": _f8(f.value),
                "commission": _f8(f.fee),
                "commissionAsset": f.fee_currency,
                "time": f.time_ms,
                "isBuyer": f.side == "buy",
                "isMaker": f.is_maker,
                "isBestMatch": True,
            }
            for f in self._fills(params, key, spec)
        ]

    # -- orders: USD-M ----------------------------------------------------------------------

    def new_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``POST /fapi/v1/order``: LIMIT (GTC/IOC/FOK/GTX) and MARKET, one-way mode."""
        spec = self._need_spec(params, "usdm")
        side = self._side(params)
        kind = params.get("type")
        if not kind:
            raise _mandatory("type")
        if kind not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce") or "GTC"
        if tif not in ("GTC", "IOC", "FOK", "GTX"):
            raise BinanceError(-1115, "Invalid timeInForce.")
        if params.get("positionSide", "BOTH") != "BOTH":
            raise BinanceError(-4061, "Order's position side does not match user's setting.")
        qty = self._number(params, "quantity")
        if qty is None:
            raise _mandatory("quantity")
        price = self._number(params, "price")
        if kind == "LIMIT" and price is None:
            raise _mandatory("price")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        cid = self._new_client_id(params, key.uid, "usdm")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            kind.lower(),
            qty,
            price=price if kind == "LIMIT" else None,
            time_in_force="PostOnly"
            if tif == "GTX" and kind == "LIMIT"
            else tif
            if tif != "GTX"
            else "GTC",
            reduce_only=reduce_only,
            client_order_id=self._engine_client_id(key.uid, cid),
            category="linear",
        )
        return self._usdm_order(order)

    def modify_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``PUT /fapi/v1/order``: side, quantity and price are all mandatory."""
        spec = self._need_spec(params, "usdm")
        side = self._side(params)
        qty, price = self._number(params, "quantity"), self._number(params, "price")
        if qty is None:
            raise _mandatory("quantity")
        if price is None:
            raise _mandatory("price")
        order = self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER))
        if order.side != side:
            raise BinanceError(-4072, "Side does not match the original order.")
        amended = self.engine.amend_order(
            key.uid, spec.symbol, order_id=order.order_id, qty=qty, price=price, category="linear"
        )
        return self._usdm_order(amended)

    def query_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /fapi/v1/order``."""
        spec = self._need_spec(params, "usdm")
        return self._usdm_order(self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER)))

    def cancel_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/order``."""
        spec = self._need_spec(params, "usdm")
        order = self._find(params, key, spec, BinanceError(-2011, _MSG_UNKNOWN_ORDER))
        cancelled = self.engine.cancel_order(
            key.uid, spec.symbol, order_id=order.order_id, category="linear"
        )
        return self._usdm_order(cancelled)

    def open_orders_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openOrders``."""
        spec = self._spec(params, "usdm", required=False)
        orders = self.engine.open_orders(
            key.uid, symbol=spec.symbol if spec else None, category="linear"
        )
        return [self._usdm_order(o) for o in reversed(orders)]

    def cancel_open_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/allOpenOrders``: only a code 200 comes back."""
        spec = self._need_spec(params, "usdm")
        self.engine.cancel_all(key.uid, symbol=spec.symbol, category="linear")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def all_orders_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allOrders`` (symbol required), oldest first."""
        spec = self._need_spec(params, "usdm")
        return [self._usdm_order(o) for o in self._history(params, key, spec)]

    def user_trades_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/userTrades`` (symbol required), oldest first."""
        spec = self._need_spec(params, "usdm")
        return [
            {
                "buyer": f.side == "buy",
                "commission": _w(f.fee),
                "commissionAsset": f.fee_currency,
                "id": self._trade_ids.of(f.exec_id),
                "maker": f.is_maker,
                "orderId": self._order_ids.of(f.order_id),
                "price": _w(f.price),
                "qty": _w(f.qty),
                "quoteQty": _w(f.value),
                "realizedPnl": "0",
                "side": f.side.upper(),
                "positionSide": "BOTH",
                "symbol": f.symbol,
                "time": f.time_ms,
            }
            for f in self._fills(params, key, spec)
        ]


# -- signatures ---------------------------------------------------------------------------


def _strip_signature(raw: bytes) -> tuple[bytes, bytes | None]:
    kept, found = [], None
    for part in raw.split(b"&") if raw else []:
        if part.startswith(b"signature="):
            found = part[len(b"signature=") :]
        else:
            kept.append(part)
    return b"&".join(kept), found


def _signed_payload(request: Incoming) -> tuple[bytes, str | None]:
    """The bytes Binance verifies: raw query, then raw body, each without ``signature``."""
    query, in_query = _strip_signature(request.query.encode("latin-1", "replace"))
    body, in_body = _strip_signature(request.body)
    signature = in_query if in_query is not None else in_body
    return query + body, None if signature is None else unquote_plus(signature.decode("latin-1"))


def _verify(key: ApiKey, payload: bytes, signature: str) -> bool:
    if key.secret is not None:
        # "Signatures generated using HMAC are not case-sensitive" ("Signature Case Sensitivity").
        expected = hmac.new(key.secret.encode(), payload, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature.lower())
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    assert key.public_key is not None
    public = serialization.load_pem_public_key(key.public_key.encode())
    try:
        raw = base64.b64decode(signature, validate=True)
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(raw, payload)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True
