"""The Binance adapter's base: connecting, the pipeline hooks (signing, decoding, rate-limit
headers), markets and the routing of unified symbols to spot or USD-M.

``BinanceAdapter`` (``adapters.binance.adapter``) builds on it with its operations by area:
market data (``market_data.py``), orders (``orders.py``) and the account (``account.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from adapters.binance import parse
from adapters.binance.capabilities import CAPABILITIES
from adapters.binance.hosts import hosts_for
from adapters.binance.limits import DEFAULT_LIMITS, HEADER, INTERVAL_SECONDS, key, weight_key
from adapters.binance.requests import RequestBuilder
from adapters.binance.signer import BinanceSigner
from exchanges.adapter import Adapter
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.errors import BadResponse
from exchanges.flow import Flow
from exchanges.models import Market
from exchanges.ratelimit import Limit, RateLimiter
from exchanges.symbols import Symbol
from exchanges.wire import Prepared, Request, Response

__all__ = ["BinanceBase", "market_kind"]


def market_kind(symbol: Symbol) -> str:
    """``spot`` or ``usdm`` for a unified symbol; COIN-M and options are not offered here."""
    kind = symbol.kind
    if kind == "spot":
        return "spot"
    if kind == "option":
        raise CAPABILITIES.error("market.option", subject=str(symbol))
    if symbol.inverse or not symbol.linear:
        raise CAPABILITIES.error("market.inverse", subject=str(symbol))
    return "usdm"


class BinanceBase(Adapter):
    """What every Binance operation shares: hosts, signer, request builder, limits, markets."""

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
        self.signer = BinanceSigner(recv_window_ms)
        #: An alternate spot mainnet host by name ("api-gcp", "api1" … "api4", see SPOT_HOSTS).
        host = self.options.pop("host", None)
        #: Which wallet ``fetch_balance`` reads: spot and USD-M are separate on Binance.
        self.wallet = self.options.pop("wallet", "spot")
        if self.wallet not in ("spot", "usdm"):
            raise ValueError("wallet must be 'spot' or 'usdm'")
        self.hosts = hosts_for(env, host, self.base_url_override)
        self.build = RequestBuilder(self.hosts)
        self._by_id: dict[tuple[str, str], Market] = {}
        # The limits currently in force per key: defaults until exchangeInfo says otherwise.
        self._limits = {name: spec.limit for name, spec in DEFAULT_LIMITS.items()}

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """``recvWindow``, ``timestamp`` and ``signature`` over the exact query or body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def decode(self, response: Response) -> None:
        """Raise the normalised error of a ``{code, msg}`` body or failed status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /api/v3/time`` (one clock serves spot and USD-M)."""
        return self.build.server_time("spot")

    def parse_time(self, response: Response) -> int:
        """``serverTime`` in ms."""
        data = response.data
        stamp = data.get("serverTime") if isinstance(data, dict) else None
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise BadResponse("no serverTime in the response", exchange=self.name)
        return stamp

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """IP weight and order-count windows per market."""
        return dict(DEFAULT_LIMITS), None

    def observe(self, response: Response, limiter: RateLimiter, clock: ServerClock) -> None:
        """Feed ``X-MBX-USED-WEIGHT-*``/``X-MBX-ORDER-COUNT-*``, Retry-After and rateLimits."""
        request = response.request
        if request is None:
            return
        market = parse.market_of_path(request.path)
        if response.status in (418, 429):
            retry_after = response.headers.get("Retry-After")
            if retry_after is not None and retry_after.isdigit():
                limiter.block_until(weight_key(market), float(retry_after))
        if response.status == 200 and request.path.endswith("/exchangeInfo"):
            self._learn_limits(market, response.body, limiter)
        server_now: int | None = None
        for name, value in response.headers.items():
            match = HEADER.match(name)
            if match is None:
                continue
            kind = "weight" if match[1].lower() == "used-weight" else "orders"
            name_key = key(market, kind, f"{match[2]}{match[3]}")
            limit = self._limits.get(name_key)
            if limit is None or not value.isdigit():
                continue
            remaining = limit - int(value)
            reset_in = None
            if remaining <= 0:
                # Binance's intervals are fixed (1M resets each minute): wait for the next one.
                if server_now is None:
                    server_now = clock.now_ms() + clock.offset_ms
                period_ms = int(match[2]) * INTERVAL_SECONDS[match[3].lower()] * 1000
                reset_in = (period_ms - server_now % period_ms) / 1000
            limiter.update(name_key, remaining=remaining, reset_in=reset_in)

    def _learn_limits(self, market: str, body: bytes, limiter: RateLimiter) -> None:
        # The limits in force are those exchangeInfo.rateLimits reports; the defaults are examples
        # ("LIMITS": https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
        try:
            entries = json.loads(body).get("rateLimits") or []
        except (ValueError, AttributeError):
            return
        kinds = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("rateLimitType") not in kinds:
                continue
            interval = str(entry.get("interval", ""))[:1].lower()
            name_key = key(
                market, kinds[entry["rateLimitType"]], f"{entry.get('intervalNum')}{interval}"
            )
            limit = entry.get("limit")
            if name_key in self._limits and isinstance(limit, int) and limit > 0:
                self._limits[name_key] = limit
                limiter.update(name_key, limit=limit)

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """``spot`` or ``usdm`` (NotSupported for COIN-M and options)."""
        return market_kind(symbol)

    def market_groups(self) -> tuple[str, ...]:
        """Spot and USD-M markets."""
        return ("spot", "usdm")

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """Every symbol of ``/api/v3/exchangeInfo`` or ``/fapi/v1/exchangeInfo``."""
        response = yield self.build.exchange_info(group)
        items = response.data.get("symbols") if isinstance(response.data, dict) else None
        if not isinstance(items, list):
            raise BadResponse("exchangeInfo has no symbols list", exchange=self.name)
        parser = parse.parse_market_usdm if group == "usdm" else parse.parse_market_spot
        return [parser(item) for item in items]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep (market, native id) → market for parsing lists."""
        for market in markets:
            self._by_id[(group, market.id)] = market

    def _symbol(self, group: str, native: Any) -> str:
        market = self._by_id.get((group, str(native)))
        return market.symbol if market is not None else str(native)

    def _ensure(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))

    @staticmethod
    def _group(market: Market) -> str:
        return market.category or ("spot" if market.spot else "usdm")
