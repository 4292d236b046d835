"""OKX v5 rate limits of the endpoints the adapter uses.

Limits are per 2 seconds. Public endpoints count per IP, private ones per user ID, and the
trading endpoints (place, amend, cancel) per user ID *and* instrument ID: each instrument has its
own budget, shared between REST and WebSocket
(https://www.okx.com/docs-v5/en/#overview-rate-limits-trading-related-apis). The values of the
order book, order history (archive), fills history, positions and account configuration come from
each endpoint's page in OKX's docs, the others from ccxt's cost table (cost 1 = 20 requests per
2 s), which agreed with every docs value checked. Rejections are code 50011
(https://www.okx.com/docs-v5/en/#overview-rate-limits).
"""

from __future__ import annotations

from types import MappingProxyType

from exchanges.ratelimit import Limit

__all__ = ["PERIOD", "RULES", "limit_for", "route_key"]

#: OKX counts every limit over 2 seconds.
PERIOD = 2.0

# "METHOD path" -> (requests per 2 s, rule): rule "ip", "uid", or "inst" (user ID + instrument).
RULES: MappingProxyType[str, tuple[int, str]] = MappingProxyType(
    {
        "GET /api/v5/public/time": (10, "ip"),
        # Algo orders ("Algo trading" section): 20 per 2 s per user and instrument.
        "POST /api/v5/trade/order-algo": (20, "inst"),
        "POST /api/v5/trade/cancel-algos": (20, "uid"),
        # Paced per user (not per instrument): the stricter of the two rules OKX uses here.
        "POST /api/v5/trade/amend-algos": (20, "uid"),
        "GET /api/v5/trade/order-algo": (20, "uid"),
        "GET /api/v5/trade/orders-algo-pending": (20, "uid"),
        "GET /api/v5/public/mark-price": (10, "ip"),
        "GET /api/v5/market/index-tickers": (20, "ip"),
        "GET /api/v5/public/instruments": (20, "ip"),
        "GET /api/v5/market/ticker": (20, "ip"),
        "GET /api/v5/market/tickers": (20, "ip"),
        "GET /api/v5/market/books": (40, "ip"),  # ✓
        "GET /api/v5/market/trades": (100, "ip"),
        "GET /api/v5/market/candles": (40, "ip"),
        "GET /api/v5/market/history-candles": (20, "ip"),
        # 10 per 2 s per IP and instrument (the funding-rate sections of OKX's public data).
        "GET /api/v5/public/funding-rate": (10, "inst"),
        "GET /api/v5/public/funding-rate-history": (10, "inst"),
        "GET /api/v5/account/balance": (10, "uid"),
        "GET /api/v5/account/positions": (10, "uid"),  # ✓
        "GET /api/v5/account/config": (5, "uid"),  # ✓
        "GET /api/v5/account/trade-fee": (5, "uid"),  # ccxt cost 4
        # "Set leverage": 20 requests per 2 s per user ID.
        "POST /api/v5/account/set-leverage": (20, "uid"),
        # "Get leverage": 20 requests per 2 s; "Set position mode": 5 requests per 2 s (user ID).
        "GET /api/v5/account/leverage-info": (20, "uid"),
        "POST /api/v5/account/set-position-mode": (5, "uid"),
        "POST /api/v5/trade/order": (60, "inst"),
        "POST /api/v5/trade/amend-order": (60, "inst"),
        "POST /api/v5/trade/cancel-order": (60, "inst"),
        # Counted in orders, not requests: a batch weighs as many orders as it holds.
        "POST /api/v5/trade/batch-orders": (300, "uid"),
        "POST /api/v5/trade/cancel-batch-orders": (300, "uid"),
        "GET /api/v5/trade/order": (60, "uid"),
        "GET /api/v5/trade/orders-pending": (60, "uid"),
        "GET /api/v5/trade/orders-history": (40, "uid"),
        "GET /api/v5/trade/fills": (60, "uid"),
    }
)


def route_key(endpoint: str, inst_id: str | None = None) -> str:
    """The limiter key of ``"METHOD path"``; per-instrument rules append the instrument ID."""
    rule = RULES.get(endpoint)
    if rule is not None and rule[1] == "inst" and inst_id:
        return f"okx:{endpoint}:{inst_id}"
    return f"okx:{endpoint}"


def limit_for(key: str) -> Limit | None:
    """The documented limit of a limiter key (None for endpoints without a known limit)."""
    endpoint, _, _ = key.removeprefix("okx:").partition(":")
    rule = RULES.get(endpoint)
    if rule is None:
        return None
    per_period = rule[0]
    # A quarter (at least two) back to back, the rest paced, over a window 10 % longer than
    # OKX's: OKX counts arrivals, and a request that leaves later than its booked time (a busy
    # event loop or thread) narrows the gap to the next ones; measured under CPU load, 2 %
    # was not enough.
    return Limit(per_period, PERIOD * 1.1, max(2, per_period // 4))
