"""OKX v5 request builders: arguments in, exact bytes out (query string or JSON body, once).

GET parameters become the query string in the given order, ``None`` dropped, every value
percent-encoded except RFC 3986 unreserved characters (``exchanges.wire.encode_query``); the query
is part of the signed request path
(https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests). POST bodies are
compact JSON (no spaces) in insertion order, UTF-8, with every amount a plain decimal string, and
never empty: ``{}`` when there is nothing to send (OKX refuses an empty POST body with 50000,
https://www.okx.com/docs-v5/en/#error-code-rest-api-public). In demo trading every request carries
``x-simulated-trading: 1`` (https://www.okx.com/docs-v5/en/#overview-demo-trading-services).
Endpoints and parameters: each endpoint's section of https://www.okx.com/docs-v5/en/ (e.g.
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.okx.hosts import DEMO_HEADER
from adapters.okx.limits import route_key
from exchanges.decimals import to_wire
from exchanges.wire import Request, Role, encode_query

__all__ = ["RequestBuilder", "body_bytes", "wire_value"]


def wire_value(value: Any) -> Any:
    """A value as OKX takes it: Decimal and int as plain strings, lists and dicts converted."""
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, Decimal | int):
        return to_wire(value)
    if isinstance(value, Mapping):
        return {str(k): wire_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in value]
    # Floats above all: a binary fraction on the wire is a different amount than the one meant.
    raise TypeError(f"cannot send a {type(value).__name__} to OKX: {value!r} (use Decimal or str)")


def body_bytes(body: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """The exact POST body: compact JSON of the converted values, UTF-8 (what ccxt sends)."""
    return json.dumps(wire_value(body), separators=(",", ":"), ensure_ascii=False).encode()


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    converted = wire_value(value)
    if not isinstance(converted, str):
        raise TypeError(f"cannot put a {type(value).__name__} in an OKX query: {value!r}")
    return converted


class RequestBuilder:
    """Builds ``Request``s for one OKX host and environment."""

    __slots__ = ("_get_headers", "_post_headers", "base_url")

    def __init__(self, base_url: str, *, demo: bool = False) -> None:
        self.base_url = base_url
        extra = dict(DEMO_HEADER) if demo else {}
        self._get_headers: Mapping[str, str] | None = extra or None
        self._post_headers: Mapping[str, str] = {"Content-Type": "application/json", **extra}

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        signed: bool = False,
        role: Role = "read",
        inst_id: str | None = None,
        context: Any = None,
    ) -> Request:
        """A GET whose query string is built once, ``None`` values dropped."""
        query = ""
        if params:
            query = encode_query(
                (name, _query_text(value)) for name, value in params.items() if value is not None
            )
        return Request(
            "GET",
            self.base_url,
            path,
            query=query,
            headers=self._get_headers,
            signed=signed,
            role=role,
            rate_keys=(route_key(f"GET {path}", inst_id),),
            context=context,
        )

    def post(
        self,
        path: str,
        body: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        write: bool,
        inst_id: str | None = None,
        weight: int = 1,
        role: Role = "trade",
        context: Any = None,
    ) -> Request:
        """A signed POST whose JSON body is serialised once (``None`` values dropped)."""
        if isinstance(body, Mapping):
            payload: Any = {k: v for k, v in body.items() if v is not None}
        else:
            payload = [{k: v for k, v in item.items() if v is not None} for item in body]
        return Request(
            "POST",
            self.base_url,
            path,
            body=body_bytes(payload),
            headers=self._post_headers,
            signed=True,
            write=write,
            role=role,
            rate_keys=(route_key(f"POST {path}", inst_id),),
            weight=weight,
            context=context,
        )

    # -- public ---------------------------------------------------------------------------

    def server_time(self) -> Request:
        """``GET /api/v5/public/time``."""
        return self.get("/api/v5/public/time")

    def instruments(self, inst_type: str, inst_family: str | None = None) -> Request:
        """``GET /api/v5/public/instruments`` (options need an instrument family)."""
        return self.get(
            "/api/v5/public/instruments", {"instType": inst_type, "instFamily": inst_family}
        )

    def ticker(self, inst_id: str) -> Request:
        """``GET /api/v5/market/ticker``."""
        return self.get("/api/v5/market/ticker", {"instId": inst_id})

    def tickers(self, inst_type: str, inst_family: str | None = None) -> Request:
        """``GET /api/v5/market/tickers`` of one instrument type."""
        return self.get(
            "/api/v5/market/tickers", {"instType": inst_type, "instFamily": inst_family}
        )

    def books(self, inst_id: str, depth: int) -> Request:
        """``GET /api/v5/market/books`` (``sz`` levels per side)."""
        return self.get("/api/v5/market/books", {"instId": inst_id, "sz": depth})

    def trades(self, inst_id: str, limit: int | None) -> Request:
        """``GET /api/v5/market/trades``."""
        return self.get("/api/v5/market/trades", {"instId": inst_id, "limit": limit})

    def candles(
        self,
        inst_id: str,
        bar: str,
        *,
        after: int | None,
        before: int | None,
        limit: int,
        history: bool,
    ) -> Request:
        """``GET /api/v5/market/candles`` or ``/history-candles`` (bounds are exclusive)."""
        path = "/api/v5/market/history-candles" if history else "/api/v5/market/candles"
        return self.get(
            path,
            {"instId": inst_id, "bar": bar, "after": after, "before": before, "limit": limit},
        )

    # -- account --------------------------------------------------------------------------

    def balance(self) -> Request:
        """``GET /api/v5/account/balance``."""
        return self.get("/api/v5/account/balance", signed=True)

    def positions(self, inst_type: str | None = None) -> Request:
        """``GET /api/v5/account/positions``."""
        return self.get("/api/v5/account/positions", {"instType": inst_type}, signed=True)

    def config(self, role: Role) -> Request:
        """``GET /api/v5/account/config`` for the key of ``role``."""
        return self.get("/api/v5/account/config", signed=True, role=role)

    def trade_fee(self, inst_type: str, inst_id: str | None, inst_family: str | None) -> Request:
        """``GET /api/v5/account/trade-fee`` (``instId`` for spot, ``instFamily`` otherwise)."""
        return self.get(
            "/api/v5/account/trade-fee",
            {"instType": inst_type, "instId": inst_id, "instFamily": inst_family},
            signed=True,
        )

    # -- orders ---------------------------------------------------------------------------

    def place_order(self, body: Mapping[str, Any], inst_id: str) -> Request:
        """``POST /api/v5/trade/order`` (a write: never resent blindly)."""
        return self.post("/api/v5/trade/order", body, write=True, inst_id=inst_id)

    def amend_order(self, body: Mapping[str, Any], inst_id: str) -> Request:
        """``POST /api/v5/trade/amend-order``."""
        return self.post("/api/v5/trade/amend-order", body, write=True, inst_id=inst_id)

    def cancel_order(self, body: Mapping[str, Any], inst_id: str) -> Request:
        """``POST /api/v5/trade/cancel-order``."""
        return self.post("/api/v5/trade/cancel-order", body, write=True, inst_id=inst_id)

    def cancel_batch(self, items: Sequence[Mapping[str, Any]]) -> Request:
        """``POST /api/v5/trade/cancel-batch-orders`` (at most 20 orders, weighed per order)."""
        return self.post(
            "/api/v5/trade/cancel-batch-orders", items, write=True, weight=max(1, len(items))
        )

    def order(self, inst_id: str, ids: Mapping[str, str], role: Role = "read") -> Request:
        """``GET /api/v5/trade/order`` by ``ordId`` or ``clOrdId``."""
        return self.get("/api/v5/trade/order", {"instId": inst_id, **ids}, signed=True, role=role)

    def listing(self, path: str, params: Mapping[str, Any]) -> Request:
        """A signed GET of a listing endpoint (orders-pending, orders-history, fills)."""
        return self.get(path, params, signed=True)
