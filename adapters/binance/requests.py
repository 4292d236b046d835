"""Binance request builders: arguments in, exact bytes out, serialised once.

Every parameter goes through one percent-encoder (RFC 3986 unreserved characters kept, UTF-8,
uppercase hex: ``exchanges.wire.encode_query``), in the order given. GET and DELETE carry them
in the query string, POST and PUT in an ``application/x-www-form-urlencoded`` body
("General Information on Endpoints" in Binance's spot REST docs). The signer then appends
``recvWindow``, ``timestamp`` and ``signature`` to exactly these bytes (the payload must be
percent-encoded before signing: "SIGNED Endpoint security" in
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security). Endpoints:
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints (and the
account-endpoints and trading-endpoints pages beside it),
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info (USD-M) and
https://developers.binance.com/docs/wallet/account/api-key-permission (apiRestrictions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.binance.hosts import Hosts
from adapters.binance.limits import order_keys, request_weight, weight_key
from exchanges.decimals import to_wire
from exchanges.wire import Request, Role, encode_query

__all__ = ["RequestBuilder", "wire_value"]

_BODY_METHODS = frozenset({"POST", "PUT"})


def wire_value(value: Any) -> str:
    """One parameter as Binance reads it: Decimals plain (never exponents), bools lowercase."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return to_wire(value)
    raise TypeError(
        f"cannot send a {type(value).__name__} to Binance: {value!r} "
        "(pass Decimal or str so no digits are lost)"
    )


class RequestBuilder:
    """Builds ``Request``s for Binance spot (``/api``, ``/sapi``) and USD-M (``/fapi``)."""

    __slots__ = ("hosts",)

    def __init__(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def call(
        self,
        market: str,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        signed: bool = False,
        write: bool = False,
        role: Role = "read",
        order: bool = False,
        context: Any = None,
    ) -> Request:
        """One request; ``None`` values are dropped, the rest serialised once in order."""
        pairs = [(k, wire_value(v)) for k, v in (params or {}).items() if v is not None]
        encoded = encode_query(pairs)
        keys = (weight_key(market), *order_keys(market)) if order else (weight_key(market),)
        in_body = method in _BODY_METHODS
        return Request(
            method,
            self.hosts.usdm if market == "usdm" else self.hosts.spot,
            path,
            query="" if in_body else encoded,
            body=encoded.encode() if in_body else None,
            signed=signed,
            write=write,
            role=role,
            rate_keys=keys,
            weight=request_weight(market, method, path, dict(pairs)),
            context=context,
        )

    # -- market data ----------------------------------------------------------------------

    def server_time(self, market: str = "spot") -> Request:
        """``GET /api/v3/time`` or ``/fapi/v1/time``."""
        return self.call(market, "GET", "/fapi/v1/time" if market == "usdm" else "/api/v3/time")

    def exchange_info(self, market: str) -> Request:
        """``GET /api/v3/exchangeInfo`` or ``/fapi/v1/exchangeInfo``."""
        path = "/fapi/v1/exchangeInfo" if market == "usdm" else "/api/v3/exchangeInfo"
        return self.call(market, "GET", path, context=market)

    def ticker_24h(
        self, market: str, symbol: str | None = None, symbols: Sequence[str] | None = None
    ) -> Request:
        """``GET .../ticker/24hr`` for one symbol, a list (spot only), or every symbol."""
        path = "/fapi/v1/ticker/24hr" if market == "usdm" else "/api/v3/ticker/24hr"
        params: dict[str, Any] = {"symbol": symbol}
        if symbols is not None:
            # Spot takes a compact JSON array, e.g. ["BTCUSDT","BNBUSDT"] ("24hr ticker price
            # change statistics").
            params["symbols"] = json.dumps(list(symbols), separators=(",", ":"))
        return self.call(market, "GET", path, params)

    def book_ticker(self, market: str, symbol: str | None = None) -> Request:
        """``GET .../ticker/bookTicker``: best bid/ask (USD-M's 24hr ticker has none)."""
        path = "/fapi/v1/ticker/bookTicker" if market == "usdm" else "/api/v3/ticker/bookTicker"
        return self.call(market, "GET", path, {"symbol": symbol})

    def depth(self, market: str, symbol: str, limit: int | None) -> Request:
        """``GET .../depth``."""
        path = "/fapi/v1/depth" if market == "usdm" else "/api/v3/depth"
        return self.call(market, "GET", path, {"symbol": symbol, "limit": limit})

    def trades(self, market: str, symbol: str, limit: int | None) -> Request:
        """``GET .../trades``: recent public trades, oldest first."""
        path = "/fapi/v1/trades" if market == "usdm" else "/api/v3/trades"
        return self.call(market, "GET", path, {"symbol": symbol, "limit": limit})

    def klines(
        self,
        market: str,
        symbol: str,
        interval: str,
        start: int | None,
        end: int | None,
        limit: int | None,
    ) -> Request:
        """``GET .../klines``: candles oldest first."""
        path = "/fapi/v1/klines" if market == "usdm" else "/api/v3/klines"
        params = {
            "symbol": symbol,
            "interval": interval,
            "startTime": start,
            "endTime": end,
            "limit": limit,
        }
        return self.call(market, "GET", path, params)

    # -- account --------------------------------------------------------------------------

    def spot_account(self) -> Request:
        """``GET /api/v3/account`` (balances, commission rates, permissions)."""
        return self.call("spot", "GET", "/api/v3/account", {"omitZeroBalances": True}, signed=True)

    def usdm_account(self) -> Request:
        """``GET /fapi/v3/account`` (assets with wallet and margin balances)."""
        return self.call("usdm", "GET", "/fapi/v3/account", signed=True)

    def commission(self, market: str, symbol: str) -> Request:
        """``GET /api/v3/account/commission`` or ``/fapi/v1/commissionRate``."""
        path = "/fapi/v1/commissionRate" if market == "usdm" else "/api/v3/account/commission"
        return self.call(market, "GET", path, {"symbol": symbol}, signed=True)

    def api_restrictions(self, role: Role) -> Request:
        """``GET /sapi/v1/account/apiRestrictions`` for the key of ``role``."""
        return self.call("spot", "GET", "/sapi/v1/account/apiRestrictions", signed=True, role=role)

    def position_risk(self, symbol: str | None) -> Request:
        """``GET /fapi/v3/positionRisk`` (symbols with positions or open orders only)."""
        return self.call("usdm", "GET", "/fapi/v3/positionRisk", {"symbol": symbol}, signed=True)

    # -- orders ---------------------------------------------------------------------------

    @staticmethod
    def _order_path(market: str) -> str:
        return "/fapi/v1/order" if market == "usdm" else "/api/v3/order"

    def new_order(self, market: str, params: Mapping[str, Any]) -> Request:
        """``POST .../order``: a write, never resent blindly; counts towards order limits."""
        return self.call(
            market,
            "POST",
            self._order_path(market),
            params,
            signed=True,
            write=True,
            role="trade",
            order=True,
        )

    def modify_order(self, params: Mapping[str, Any]) -> Request:
        """``PUT /fapi/v1/order`` (USD-M only: price and quantity in place)."""
        return self.call(
            "usdm",
            "PUT",
            "/fapi/v1/order",
            params,
            signed=True,
            write=True,
            role="trade",
            order=True,
        )

    def cancel_order(self, market: str, params: Mapping[str, Any]) -> Request:
        """``DELETE .../order`` by ``orderId`` or ``origClientOrderId``."""
        return self.call(
            market,
            "DELETE",
            self._order_path(market),
            params,
            signed=True,
            write=True,
            role="trade",
        )

    def cancel_open_orders(self, market: str, symbol: str) -> Request:
        """``DELETE /api/v3/openOrders`` or ``/fapi/v1/allOpenOrders`` (idempotent)."""
        path = "/fapi/v1/allOpenOrders" if market == "usdm" else "/api/v3/openOrders"
        return self.call(market, "DELETE", path, {"symbol": symbol}, signed=True, role="trade")

    def query_order(self, market: str, params: Mapping[str, Any], role: Role = "read") -> Request:
        """``GET .../order`` by ``orderId`` or ``origClientOrderId``."""
        return self.call(market, "GET", self._order_path(market), params, signed=True, role=role)

    def open_orders(self, market: str, symbol: str | None) -> Request:
        """``GET .../openOrders`` of one symbol or all."""
        path = "/fapi/v1/openOrders" if market == "usdm" else "/api/v3/openOrders"
        return self.call(market, "GET", path, {"symbol": symbol}, signed=True)

    def all_orders(self, market: str, symbol: str, start: int | None, limit: int | None) -> Request:
        """``GET .../allOrders`` of one symbol (the symbol is required)."""
        path = "/fapi/v1/allOrders" if market == "usdm" else "/api/v3/allOrders"
        params = {"symbol": symbol, "startTime": start, "limit": limit}
        return self.call(market, "GET", path, params, signed=True)

    def my_trades(self, market: str, symbol: str, start: int | None, limit: int | None) -> Request:
        """``GET /api/v3/myTrades`` or ``/fapi/v1/userTrades`` of one symbol."""
        path = "/fapi/v1/userTrades" if market == "usdm" else "/api/v3/myTrades"
        params = {"symbol": symbol, "startTime": start, "limit": limit}
        return self.call(market, "GET", path, params, signed=True)
