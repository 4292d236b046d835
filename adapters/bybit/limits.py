"""Bybit v5 rate limits: per-UID limits of the endpoints the adapter uses, and the IP budget.

Source: Bybit v5 docs, https://bybit-exchange.github.io/docs/v5/rate-limit "Rate Limit Rules",
default tier. The ``X-Bapi-Limit*`` headers of every response adjust these at run time (higher VIP
tiers).
"""

from __future__ import annotations

import functools

from exchanges.ratelimit import Limit

__all__ = ["IP_KEY", "limit_for", "route_key"]

#: 600 requests per 5-second window per IP, across all traffic (HTTP 403 beyond it).
IP_KEY = "bybit:ip"
_IP_LIMIT = Limit(600, 5.0, 120)

# path -> {category group: requests per second}; groups are spot, option and deriv (linear+inverse)
_PER_SECOND: dict[str, dict[str, int]] = {
    "/v5/order/create": {"deriv": 10, "option": 10, "spot": 20},
    "/v5/order/amend": {"deriv": 10, "option": 10, "spot": 10},
    "/v5/order/cancel": {"deriv": 10, "option": 10, "spot": 20},
    "/v5/order/cancel-all": {"deriv": 10, "option": 1, "spot": 20},
    "/v5/order/create-batch": {"deriv": 10, "option": 10, "spot": 20},
    "/v5/order/cancel-batch": {"deriv": 10, "option": 10, "spot": 20},
    "/v5/order/realtime": {"*": 50},
    "/v5/order/history": {"*": 50},
    "/v5/execution/list": {"*": 50},
    "/v5/position/list": {"*": 50},
    "/v5/position/set-leverage": {"deriv": 10},
    "/v5/position/switch-mode": {"deriv": 10},
    "/v5/position/trading-stop": {"deriv": 10},
    "/v5/account/set-margin-mode": {"*": 5},
    "/v5/account/wallet-balance": {"*": 50},
    "/v5/account/fee-rate": {"*": 5},
    "/v5/account/info": {"*": 50},
    "/v5/user/query-api": {"*": 10},
}


def group_of(category: str | None) -> str:
    """The limit group of a category."""
    if category == "spot":
        return "spot"
    if category == "option":
        return "option"
    return "deriv"


@functools.lru_cache(maxsize=256)
def route_key(path: str, category: str | None) -> str:
    """The limiter key of an endpoint for a category (limits differ by category)."""
    table = _PER_SECOND.get(path)
    if table is not None and "*" not in table:
        return f"bybit:{path}:{group_of(category)}"
    return f"bybit:{path}"


def limit_for(key: str) -> Limit | None:
    """The documented limit of a limiter key, or None for keys only the IP budget covers."""
    if key == IP_KEY:
        return _IP_LIMIT
    _, _, rest = key.partition(":")
    path, _, group = rest.partition(":")
    table = _PER_SECOND.get(path)
    if table is None:
        return None
    per_second = table.get(group or "*")
    # A fifth of the limit back to back, the rest paced: bursts measured against the emulator
    # under CPU load arrived spread out enough to exceed Bybit's window with larger bursts.
    return None if per_second is None else Limit(per_second, 1.0, max(1, per_second // 5))
