"""Binance rate limits: request weights per endpoint, IP weight windows, order-count windows.

Binance limits by *weight* per IP (each endpoint costs a documented weight) and by order count
per account, in fixed intervals named like ``1M`` or ``10S`` ("LIMITS":
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits). Every response reports
the weight used (``X-MBX-USED-WEIGHT-1M``) and order responses the orders counted
(``X-MBX-ORDER-COUNT-10S``); ``exchangeInfo.rateLimits`` gives the account's real numbers. The
defaults below are used until exchangeInfo has been read. Spot and USD-M futures are separate
systems with separate budgets, so their keys are separate.

Sources: the weights of spot endpoints are those of their pages under
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/ (market-data-endpoints,
account-endpoints, trading-endpoints); apiRestrictions':
https://developers.binance.com/docs/wallet/account/api-key-permission; positionRisk's: its page
trade/rest-api/Position-Information-V3 under
https://developers.binance.com/docs/derivatives/usds-margined-futures/.
Other USD-M weights are those of Binance's USD-M endpoint pages as published (unverified against
the live API), chosen so as not to undercount.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from exchanges.ratelimit import Limit

__all__ = [
    "DEFAULT_LIMITS",
    "HEADER",
    "INTERVAL_SECONDS",
    "key",
    "limit_for",
    "order_keys",
    "request_weight",
    "weight_key",
]

#: ``X-MBX-USED-WEIGHT-(n)(unit)`` / ``X-MBX-ORDER-COUNT-(n)(unit)``, case-insensitive
#: (the regex of Binance's official SDK, ``parse_rate_limit_headers`` in
#: https://github.com/binance/binance-connector-python, common/src/binance_common/utils.py).
HEADER = re.compile(r"^x-mbx-(used-weight|order-count)-(\d+)([smhd])$", re.IGNORECASE)

#: Interval letters S/M/H/D in seconds.
INTERVAL_SECONDS = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400})


def key(market: str, kind: str, interval: str) -> str:
    """The limiter key of one budget, e.g. ``binance:spot:weight:1m``."""
    return f"binance:{market}:{kind}:{interval.lower()}"


def weight_key(market: str) -> str:
    """The per-minute IP weight key of a market (``spot`` or ``usdm``)."""
    return key(market, "weight", "1m")


#: Defaults until exchangeInfo is read. Spot: the enum doc's REQUEST_WEIGHT 6000 / 1 MINUTE and
#: ORDERS 10 / 1 SECOND ("Rate limiters" in
#: https://developers.binance.com/docs/binance-spot-api-docs/enums). USD-M: 2400 weight / minute,
#: 300 orders / 10 s and 1200 orders / minute (Binance's published USD-M defaults, unverified
#: against exchangeInfo: https://developers.binance.com/docs/derivatives/usds-margined-futures/).
DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        key("spot", "weight", "1m"): Limit(6000, 60.0),
        key("spot", "orders", "1s"): Limit(10, 1.0, 5),
        key("usdm", "weight", "1m"): Limit(2400, 60.0),
        key("usdm", "orders", "10s"): Limit(300, 10.0, 60),
        key("usdm", "orders", "1m"): Limit(1200, 60.0),
    }
)

_ORDER_KEYS = MappingProxyType(
    {
        "spot": (key("spot", "orders", "1s"),),
        "usdm": (key("usdm", "orders", "10s"), key("usdm", "orders", "1m")),
    }
)


def order_keys(market: str) -> tuple[str, ...]:
    """The order-count keys a new order counts towards."""
    return _ORDER_KEYS[market]


def limit_for(name: str) -> Limit | None:
    """The default limit of a key, or None for keys nothing limits."""
    return DEFAULT_LIMITS.get(name)


# -- weights ------------------------------------------------------------------------------


def _spot_depth(limit: int) -> int:
    # "Order book": 5 / 25 / 50 / 250 for limit 1-100 / 101-500 / 501-1000 / 1001-5000.
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _usdm_depth(limit: int) -> int:
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def _usdm_klines(limit: int) -> int:
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def _ticker_spot(params: Mapping[str, str]) -> int:
    # "24hr ticker price change statistics": 2 for one symbol or 1-20 symbols; 40 for 21-100;
    # 80 for 101+ or none.
    if "symbol" in params:
        return 2
    symbols = params.get("symbols")
    if symbols is None:
        return 80
    count = symbols.count(",") + 1
    return 2 if count <= 20 else 40 if count <= 100 else 80


def _int(params: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(params.get(name, default))
    except ValueError:
        return default


_Rule = Callable[[Mapping[str, str]], int]

_SPOT_WEIGHTS: Mapping[tuple[str, str], int | _Rule] = MappingProxyType(
    {
        ("GET", "/api/v3/time"): 1,
        ("GET", "/api/v3/exchangeInfo"): 20,
        ("GET", "/api/v3/ticker/24hr"): _ticker_spot,
        ("GET", "/api/v3/ticker/bookTicker"): lambda p: 2 if "symbol" in p else 4,
        ("GET", "/api/v3/depth"): lambda p: _spot_depth(_int(p, "limit", 100)),
        ("GET", "/api/v3/trades"): 25,
        ("GET", "/api/v3/klines"): 2,
        ("GET", "/api/v3/account"): 20,
        ("GET", "/api/v3/account/commission"): 20,
        ("POST", "/api/v3/order"): 1,
        ("DELETE", "/api/v3/order"): 1,
        ("GET", "/api/v3/order"): 4,
        ("GET", "/api/v3/openOrders"): lambda p: 6 if "symbol" in p else 80,
        ("DELETE", "/api/v3/openOrders"): 1,
        ("GET", "/api/v3/allOrders"): 20,
        ("GET", "/api/v3/myTrades"): lambda p: 5 if "orderId" in p else 20,
        ("GET", "/sapi/v1/account/apiRestrictions"): 1,
    }
)

_USDM_WEIGHTS: Mapping[tuple[str, str], int | _Rule] = MappingProxyType(
    {
        ("GET", "/fapi/v1/time"): 1,
        ("GET", "/fapi/v1/exchangeInfo"): 1,
        ("GET", "/fapi/v1/ticker/24hr"): lambda p: 1 if "symbol" in p else 40,
        ("GET", "/fapi/v1/ticker/bookTicker"): lambda p: 2 if "symbol" in p else 5,
        ("GET", "/fapi/v1/depth"): lambda p: _usdm_depth(_int(p, "limit", 500)),
        ("GET", "/fapi/v1/trades"): 5,
        ("GET", "/fapi/v1/klines"): lambda p: _usdm_klines(_int(p, "limit", 500)),
        ("GET", "/fapi/v3/account"): 5,
        ("GET", "/fapi/v3/balance"): 5,
        ("GET", "/fapi/v1/commissionRate"): 20,
        # An order costs 0 IP weight on USD-M; 1 keeps one weight for all the request's keys.
        ("POST", "/fapi/v1/order"): 1,
        ("PUT", "/fapi/v1/order"): 1,
        ("DELETE", "/fapi/v1/order"): 1,
        ("GET", "/fapi/v1/order"): 1,
        # "Place Multiple Orders": 5 ("Cancel Multiple Orders": 1).
        ("POST", "/fapi/v1/batchOrders"): 5,
        ("DELETE", "/fapi/v1/batchOrders"): 1,
        ("GET", "/fapi/v1/openOrders"): lambda p: 1 if "symbol" in p else 40,
        ("DELETE", "/fapi/v1/allOpenOrders"): 1,
        ("GET", "/fapi/v1/allOrders"): 5,
        ("GET", "/fapi/v1/userTrades"): 5,
        ("GET", "/fapi/v3/positionRisk"): 5,
        # The Algo Order API ("New Algo Order", "Current All Algo Open Orders"): 0 IP weight
        # for writes (1 kept, as for orders), 40 for the open list without a symbol.
        ("POST", "/fapi/v1/algoOrder"): 1,
        ("DELETE", "/fapi/v1/algoOrder"): 1,
        ("GET", "/fapi/v1/algoOrder"): 1,
        ("GET", "/fapi/v1/openAlgoOrders"): lambda p: 1 if "symbol" in p else 40,
        ("DELETE", "/fapi/v1/algoOpenOrders"): 1,
        # "Query All Algo Orders": 5.
        ("GET", "/fapi/v1/allAlgoOrders"): 5,
    }
)


def request_weight(market: str, method: str, path: str, params: Mapping[str, str]) -> int:
    """The IP weight Binance charges for a request (1 for endpoints not in the table)."""
    table = _USDM_WEIGHTS if market == "usdm" else _SPOT_WEIGHTS
    rule = table.get((method, path), 1)
    return rule if isinstance(rule, int) else rule(params)
