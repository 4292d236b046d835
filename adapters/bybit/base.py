"""The Bybit adapter's base: connecting, the pipeline hooks, markets by category and the
cursor pages every listing follows.

``BybitAdapter`` (``adapters.bybit.adapter``) builds on it with its operations by area: market
data (``market_data.py``), orders (``orders.py``) and the account (``account.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from adapters.bybit import parse
from adapters.bybit.hosts import rest_host
from adapters.bybit.limits import limit_for
from adapters.bybit.requests import RequestBuilder
from adapters.bybit.signer import BybitSigner
from exchanges.adapter import Adapter
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.errors import BadResponse
from exchanges.flow import Flow
from exchanges.models import Market
from exchanges.ratelimit import Limit, RateLimiter
from exchanges.symbols import Symbol
from exchanges.wire import PreEncoded, Prepared, Request, Response

__all__ = ["MAX_PAGES", "BybitBase", "category_of"]

#: The most pages a listing follows.
MAX_PAGES = 200


def category_of(symbol: Symbol) -> str:
    """Bybit's category of a unified symbol."""
    kind = symbol.kind
    if kind == "spot":
        return "spot"
    if kind == "option":
        return "option"
    return "linear" if symbol.linear else "inverse"


class BybitBase(Adapter):
    """What every Bybit operation shares: host, signer, request builder, markets, pages."""

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
        if not 0 < recv_window_ms <= 60_000:
            raise ValueError("recv_window_ms must be in (0, 60000]")
        #: The regional site (``"nl"``, ``"tr"``, ...), or None for the global one.
        self.region: str | None = self.options.pop("region", None)
        self.base_url = self.base_url_override or rest_host(env, self.region)
        self.build = RequestBuilder(self.base_url)
        self.signer = BybitSigner(recv_window_ms)
        self._by_id: dict[tuple[str, str], Market] = {}

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Bybit's ``X-BAPI-*`` headers over the exact query or body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def decode(self, response: Response) -> None:
        """Check Bybit's envelope (retCode) or HTTP status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /v5/market/time``."""
        return self.build.server_time()

    def parse_time(self, response: Response) -> int:
        """Server time in ms: ``timeNano`` when present, else the envelope's ``time``."""
        res = parse.result(response)
        nano = res.get("timeNano")
        if isinstance(nano, str) and nano.isascii() and nano.isdigit():
            return int(nano) // 1_000_000
        stamp = parse.envelope_time(response)
        if stamp is None:
            raise BadResponse("no server time in the response", exchange=self.name)
        return stamp

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """Documented per-UID limits per route, plus the IP budget."""
        return {}, limit_for

    def observe(self, response: Response, limiter: RateLimiter, clock: ServerClock) -> None:
        """Apply ``X-Bapi-Limit``/``-Status``/``-Reset-Timestamp`` to the route's window."""
        headers = response.headers
        status = headers.get("X-Bapi-Limit-Status")
        request = response.request
        if status is None or request is None or not request.rate_keys:
            return
        try:
            remaining = int(status)
            limit_text = headers.get("X-Bapi-Limit")
            limit = int(limit_text) if limit_text else None
            reset_in = None
            if remaining <= 0:
                # The reset time matters only once the quota is spent.
                reset_text = headers.get("X-Bapi-Limit-Reset-Timestamp")
                if reset_text:
                    server_now = clock.now_ms() + clock.offset_ms
                    reset_in = (int(reset_text) - server_now) / 1000
        except ValueError:
            return
        limiter.update(request.rate_keys[0], limit=limit, remaining=remaining, reset_in=reset_in)

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """Markets load per category; options per base coin (Bybit lists them that way)."""
        category = category_of(symbol)
        return f"option:{symbol.base}" if category == "option" else category

    def market_groups(self) -> tuple[str, ...]:
        """``load_markets`` loads spot, linear and inverse; options load on first use."""
        return ("spot", "linear", "inverse")

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """All pages of ``/v5/market/instruments-info`` for one category."""
        category, _, base_coin = group.partition(":")
        extra = {"baseCoin": base_coin} if base_coin else {}
        items = yield from self._pages(
            lambda cursor: self.build.instruments(category, cursor, **extra), None
        )
        return [parse.parse_market(category, item) for item in items]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep (category, native id) → market for parsing responses."""
        for market in markets:
            self._by_id[(market.category or group, market.id)] = market

    def _symbol(self, category: str, native: Any) -> str:
        market = self._by_id.get((category, str(native)))
        return market.symbol if market is not None else str(native)

    def _ensure_groups(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))

    def _scan_targets(self) -> Flow[list[tuple[str, dict[str, str]]]]:
        """Every (category, filter) that together covers all of an account's orders/positions.

        Linear and inverse queries need a symbol, base coin or settle coin: the settle coins
        come from the loaded markets.
        """
        yield from self._ensure_groups(("spot", "linear", "inverse"))
        targets: list[tuple[str, dict[str, str]]] = [("spot", {})]
        for category in ("linear", "inverse"):
            settles = sorted(
                {m.settle for (c, _), m in self._by_id.items() if c == category and m.settle}
            )
            targets.extend((category, {"settleCoin": coin}) for coin in settles)
        return targets

    def _pages(
        self, make: Callable[[PreEncoded | None], Request], want: int | None
    ) -> Flow[list[Any]]:
        """Follow ``nextPageCursor`` until the end or until ``want`` items are collected."""
        items: list[Any] = []
        cursor: PreEncoded | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            response = yield make(cursor)
            res = parse.result(response)
            page = res.get("list")
            if not isinstance(page, list):
                raise BadResponse("result.list is missing", exchange=self.name)
            items.extend(page)
            received = res.get("nextPageCursor") or None
            if received is not None and not isinstance(received, str):
                raise BadResponse("result.nextPageCursor is not a string", exchange=self.name)
            if not received or received in seen or (want is not None and len(items) >= want):
                break
            seen.add(received)
            # The cursor comes percent-encoded and goes back as received ("cursor: Use the
            # nextPageCursor token from the response", Request Parameters of
            # https://bybit-exchange.github.io/docs/v5/order/open-order): encoded once more,
            # its "%3A" would reach Bybit as "%253A", a cursor it never issued.
            cursor = PreEncoded(received)
        return items
