"""Bybit v5 request builders: arguments in, exact bytes out (query string or JSON body, once).

GET parameters are serialised in the given order with every value percent-encoded except
RFC 3986 unreserved characters, but for ``PreEncoded`` values: a ``cursor`` is Bybit's
``nextPageCursor``, already percent-encoded, and goes back exactly as received. POST bodies are
compact JSON in insertion order, UTF-8. Whatever is built here is what the signer signs and the
transport sends. Endpoint parameters: https://bybit-exchange.github.io/docs/v5/intro and each
endpoint's page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from json import encoder as json_encoder
from typing import Any

from adapters.bybit.limits import IP_KEY, route_key
from exchanges.decimals import to_wire
from exchanges.wire import PreEncoded, Request, Role, encode_query

__all__ = ["RequestBuilder", "json_body", "query_value"]

_JSON_HEADERS = {"Content-Type": "application/json"}


def query_value(value: Any) -> str:
    """One GET value as Bybit expects it: Decimals plain, booleans ``true``/``false``."""
    if isinstance(value, str):
        # Returned as it is, not copied: a PreEncoded cursor must stay one for encode_query.
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return to_wire(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a Bybit query: {value!r}")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_wire(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a Bybit body: {value!r}")


# One encoder for every body: json.dumps would build a new one per call. CPython's C encoder,
# made once, also skips the per-call setup of JSONEncoder.encode (a microsecond per order).
_ENCODER = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, default=_json_default
)
_make_c_encoder: Any = getattr(json_encoder, "c_make_encoder", None)
_C_ENCODER: Any = (
    None
    if _make_c_encoder is None
    else _make_c_encoder(
        None, _json_default, json_encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def json_body(body: Mapping[str, Any]) -> bytes:
    """Compact JSON, insertion order, UTF-8; ``None`` values dropped; Decimals as plain strings
    (never floats).
    """
    # One pass over the values on the hot path; a copy only when something must be dropped.
    dropped = False
    for name, value in body.items():
        if value is None:
            dropped = True
        elif value.__class__ is float:
            raise TypeError(f"{name} is a float; pass Decimal or str so no digits are lost")
    if dropped:
        body = {k: v for k, v in body.items() if v is not None}
    if _C_ENCODER is not None:
        return "".join(_C_ENCODER(body, 0)).encode()
    return _ENCODER.encode(body).encode()


class RequestBuilder:
    """Builds ``Request``s for one Bybit host."""

    __slots__ = ("_constant", "base_url")

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        # Requests without arguments never change: built once (requests are immutable).
        self._constant: dict[str, Request] = {}

    def _once(self, name: str, build: Any) -> Request:
        request = self._constant.get(name)
        if request is None:
            request = self._constant[name] = build()
        return request

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        signed: bool = False,
        category: str | None = None,
        role: Role = "read",
        context: Any = None,
    ) -> Request:
        """A GET with its query string built once, ``None`` values dropped."""
        query = ""
        if params:
            query = encode_query(
                (name, query_value(value)) for name, value in params.items() if value is not None
            )
        keys = (route_key(path, category), IP_KEY) if signed else (IP_KEY,)
        return Request(
            "GET",
            self.base_url,
            path,
            query=query,
            signed=signed,
            role=role,
            rate_keys=keys,
            context=context,
        )

    def post(
        self,
        path: str,
        body: Mapping[str, Any],
        *,
        category: str | None,
        write: bool,
        role: Role = "trade",
        context: Any = None,
    ) -> Request:
        """A signed POST with its JSON body serialised once, ``None`` values dropped."""
        data = json_body(body)
        return Request(
            "POST",
            self.base_url,
            path,
            body=data,
            headers=_JSON_HEADERS,
            signed=True,
            write=write,
            role=role,
            rate_keys=(route_key(path, category), IP_KEY),
            context=context,
        )

    # -- market data ----------------------------------------------------------------------

    def server_time(self) -> Request:
        """``GET /v5/market/time``."""
        # Looked up inline: every clock sample and fetch_time asks for it.
        request = self._constant.get("time")
        if request is None:
            request = self._constant["time"] = self.get("/v5/market/time")
        return request

    def instruments(self, category: str, cursor: PreEncoded | None = None, **extra: Any) -> Request:
        """``GET /v5/market/instruments-info`` (one page; spot has no pages)."""
        limit = None if category == "spot" else 1000
        return self.get(
            "/v5/market/instruments-info",
            {"category": category, **extra, "limit": limit, "cursor": cursor or None},
        )

    def tickers(self, category: str, symbol: str | None = None, **extra: Any) -> Request:
        """``GET /v5/market/tickers``."""
        return self.get("/v5/market/tickers", {"category": category, "symbol": symbol, **extra})

    def orderbook(self, category: str, symbol: str, limit: int | None) -> Request:
        """``GET /v5/market/orderbook``."""
        return self.get(
            "/v5/market/orderbook", {"category": category, "symbol": symbol, "limit": limit}
        )

    def recent_trades(self, category: str, symbol: str, limit: int | None) -> Request:
        """``GET /v5/market/recent-trade``."""
        return self.get(
            "/v5/market/recent-trade", {"category": category, "symbol": symbol, "limit": limit}
        )

    def kline(
        self,
        category: str,
        symbol: str,
        interval: str,
        start: int | None,
        end: int | None,
        limit: int | None,
    ) -> Request:
        """``GET /v5/market/kline``."""
        return self.get(
            "/v5/market/kline",
            {
                "category": category,
                "symbol": symbol,
                "interval": interval,
                "start": start,
                "end": end,
                "limit": limit,
            },
        )

    # -- account --------------------------------------------------------------------------

    def wallet_balance(self) -> Request:
        """``GET /v5/account/wallet-balance`` of the unified account."""
        request = self._constant.get("wallet")  # inline, as server_time: a polled request
        if request is None:
            request = self._constant["wallet"] = self.get(
                "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, signed=True
            )
        return request

    def fee_rate(self, category: str, symbol: str) -> Request:
        """``GET /v5/account/fee-rate``."""
        return self.get(
            "/v5/account/fee-rate",
            {"category": category, "symbol": symbol},
            signed=True,
            category=category,
        )

    def query_api(self, role: Role) -> Request:
        """``GET /v5/user/query-api`` for the key of ``role``."""
        return self._once(
            f"query-api:{role}", lambda: self.get("/v5/user/query-api", signed=True, role=role)
        )

    # -- orders ---------------------------------------------------------------------------

    def create_order(self, body: Mapping[str, Any], category: str) -> Request:
        """``POST /v5/order/create`` (a write: never resent blindly)."""
        return self.post("/v5/order/create", body, category=category, write=True)

    def amend_order(self, body: Mapping[str, Any], category: str) -> Request:
        """``POST /v5/order/amend``."""
        return self.post("/v5/order/amend", body, category=category, write=True)

    def cancel_order(self, body: Mapping[str, Any], category: str) -> Request:
        """``POST /v5/order/cancel``."""
        return self.post("/v5/order/cancel", body, category=category, write=True)

    def cancel_all(self, body: Mapping[str, Any], category: str) -> Request:
        """``POST /v5/order/cancel-all``: idempotent, so a lost response is simply retried."""
        return self.post("/v5/order/cancel-all", body, category=category, write=False)

    def orders(
        self, path: str, params: Mapping[str, Any], category: str, role: Role = "read"
    ) -> Request:
        """``GET /v5/order/realtime``, ``/v5/order/history`` or ``/v5/execution/list``."""
        return self.get(path, params, signed=True, category=category, role=role)

    def positions(self, params: Mapping[str, Any], category: str) -> Request:
        """``GET /v5/position/list``."""
        return self.get("/v5/position/list", params, signed=True, category=category)
