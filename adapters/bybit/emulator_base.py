"""Bybit v5 emulator: what every route shares (errors, envelope, authentication, parameters).

Authentication follows https://bybit-exchange.github.io/docs/v5/guide "Authentication"; codes
https://bybit-exchange.github.io/docs/v5/error "Error Codes".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from adapters.bybit.limits import limit_for, route_key
from exchanges.decimals import to_wire
from exchanges.emulator.engine import Engine, EngineError, InstrumentSpec
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

if TYPE_CHECKING:
    from adapters.bybit.emulator_funding import BybitFunding

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


__all__ = ["BATCH_PATHS", "BybitBase", "BybitError"]


#: The endpoints whose body carries a ``request`` list (``emulator_batch``).
BATCH_PATHS = frozenset({"/v5/order/create-batch", "/v5/order/cancel-batch"})


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


class BybitBase:
    """The state, the envelope and the checks every Bybit route uses."""

    name = "bybit"
    state: EmulatorState
    engine: Engine
    funding: BybitFunding

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

    def _settle(self, symbol: str, category: str) -> str:
        return self.engine.instrument(symbol, category).settle

    def _usd_price(self, coin: str) -> Decimal:
        if coin in ("USDT", "USDC", "USD"):
            return Decimal(1)
        for (category, _), spec in self.engine.instruments.items():
            if category == "spot" and spec.base == coin and spec.quote == "USDT":
                return self.engine.ticker(spec.symbol, category="spot").last
        return Decimal(0)

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
        batch = request.path in BATCH_PATHS
        for name, value in body.items():
            # Flat parameters everywhere but the batch endpoints' ``request`` list.
            if batch and name == "request":
                continue
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
            # One code whatever the reason; the texts are those Bybit answers without a
            # position, else "Reduce-only rule not satisfied" (ccxt's bybit table quotes it).
            if err.message == "no position to reduce":
                return BybitError(
                    110017, "current position is zero, cannot fix reduce-only order qty"
                )
            return BybitError(110017, "Reduce-only rule not satisfied")
        if kind == "unknown_symbol":
            return BybitError(10001, "Not supported symbols")
        if kind == "invalid_qty" and spot:
            return BybitError(170137, f"Order quantity has too many decimals. ({err.message})")
        if kind == "invalid_price" and spot:
            return BybitError(170134, f"Order price has too many decimals. ({err.message})")
        return BybitError(10001, f"params error: {err.message}")

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

    def _specs(self, category: str) -> list[InstrumentSpec]:
        # The emulator lists no options: the option category is valid and empty.
        return [s for (c, _), s in sorted(self.engine.instruments.items()) if c == category]
