"""Binance emulator: what its route files share (errors, request checks, parameter readers).

The front-end (``adapters/binance/emulator.py``) composes the route files (market data, account,
trading, assets, funding, leverage) over this base; the checks it applies to every request
(weights, order counts, keys, signatures, ``recvWindow``) are documented there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError, InstrumentSpec
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["BinanceBase", "BinanceError", "mandatory"]

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


class BinanceBase:
    """The state and the request checks every Binance route file works with."""

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

    # -- the server's interface -------------------------------------------------------------

    @staticmethod
    def _json(status: int, data: Any, headers: Mapping[str, str] | None = None) -> Outgoing:
        body = json.dumps(data, separators=(",", ":")).encode()
        return Outgoing(status, body, dict(headers or {}))

    def _error(self, err: BinanceError, headers: Mapping[str, str]) -> Outgoing:
        return self._json(
            err.status, {"code": err.code, "msg": err.message}, {**headers, **err.headers}
        )

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
        if security in ("MARKET_DATA", "USER_STREAM"):
            # MARKET_DATA and USER_STREAM endpoints need the API key only ("Endpoint security
            # type" in
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

    # -- instruments ------------------------------------------------------------------------

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
