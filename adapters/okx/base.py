"""The OKX adapter's base: connecting, the pipeline hooks, markets and shared helpers.

``OkxAdapter`` (``adapters.okx.adapter``) builds on it with its operations by area: market data
(``market_data.py``), orders (``orders.py``) and the account (``account.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from adapters.okx import parse
from adapters.okx.hosts import check_environment, rest_host
from adapters.okx.limits import limit_for
from adapters.okx.requests import RequestBuilder
from adapters.okx.signer import EXPIRING_PATHS, OkxSigner
from exchanges.adapter import Adapter
from exchanges.credentials import Credentials
from exchanges.decimals import ZERO
from exchanges.errors import BadResponse
from exchanges.flow import Flow
from exchanges.models import MarginMode, Market, Order
from exchanges.ratelimit import Limit
from exchanges.symbols import Symbol, parse_symbol
from exchanges.units import unified
from exchanges.wire import Prepared, Request, Response

__all__ = ["MARKET_GROUPS", "MAX_PAGES", "OkxBase", "unified_order"]

#: The instrument types ``load_markets`` loads (options load per family on first use).
MARKET_GROUPS = ("SPOT", "SWAP", "FUTURES")
#: The most pages a listing follows.
MAX_PAGES = 200
# How far OKX accepts a request's stamp from its clock (the REST authentication section).
_STAMP_TOLERANCE_MS = 30_000


class OkxBase(Adapter):
    """What every OKX operation shares: hosts, signer, request builder, markets by id."""

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        check_environment(env)
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
        region = self.options.pop("region", None)
        #: The region named at connect (None: global); the stream dialect picks its host by it.
        self.region: str | None = region
        self.base_url = self.base_url_override or rest_host(region)
        self.build = RequestBuilder(self.base_url, demo=env == "demo")
        # OKX has no receive window; orders get one through the expTime header.
        self.signer = OkxSigner(self.env_prefix(), recv_window_ms)
        self._by_id: dict[str, Market] = {}
        # OKX picks the margin mode per order (tdMode): set_margin_mode's choice per symbol, and
        # the position mode this client last set (modes.py).
        self._margin_modes: dict[str, MarginMode] = {}
        self._hedged = False

    # -- pipeline hooks -------------------------------------------------------------------

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """OKX's ``OK-ACCESS-*`` headers over the exact target and body."""
        return self.signer.sign(request, timestamp_ms, credentials)

    def acts_until_ms(self, request: Request, timestamp_ms: int) -> int | None:
        """Orders until their ``expTime``; other signed requests while the stamp is accepted.

        OKX refuses a stamp more than 30 s away from its clock (50102,
        https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests).
        """
        if not request.signed:
            return None
        if request.write and request.path in EXPIRING_PATHS:
            return timestamp_ms + self.recv_window_ms
        return timestamp_ms + _STAMP_TOLERANCE_MS

    def decode(self, response: Response) -> None:
        """Check OKX's envelope (``code``, then ``data[].sCode``) or the HTTP status."""
        parse.decode(response, self.env)

    def time_request(self) -> Request:
        """``GET /api/v5/public/time``."""
        return self.build.server_time()

    def parse_time(self, response: Response) -> int:
        """Server time in ms from ``data[0].ts``."""
        stamp = parse.first(response).get("ts")
        if not isinstance(stamp, str) or not (stamp.isascii() and stamp.isdigit()):
            raise BadResponse("no server time in the response", exchange=self.name)
        return int(stamp)

    def rate_limits(self) -> tuple[dict[str, Limit], Callable[[str], Limit | None] | None]:
        """OKX's documented per-endpoint limits (per IP, user, or user and instrument)."""
        return {}, limit_for

    # -- markets --------------------------------------------------------------------------

    def market_group(self, symbol: Symbol) -> str:
        """Markets load per ``instType``; options per instrument family (``OPTION:BTC-USD``)."""
        inst_type = parse.inst_type_of(symbol)
        return f"OPTION:{symbol.base}-{symbol.quote}" if inst_type == "OPTION" else inst_type

    def market_groups(self) -> tuple[str, ...]:
        """``load_markets`` loads spot, swaps and futures; options load on first use."""
        return MARKET_GROUPS

    def fetch_market_group(self, group: str) -> Flow[list[Market]]:
        """``/api/v5/public/instruments`` of one instrument type (or option family)."""
        inst_type, _, family = group.partition(":")
        response = yield self.build.instruments(inst_type, family or None)
        return [parse.parse_market(item) for item in parse.data_list(response)]

    def index_markets(self, group: str, markets: list[Market]) -> None:
        """Keep instrument id → market for parsing responses."""
        for market in markets:
            self._by_id[market.id] = market

    def _symbol(self, inst_id: Any) -> str:
        market = self._by_id.get(str(inst_id))
        return market.symbol if market is not None else parse.symbol_of(str(inst_id))

    def _market_of(self, item: Mapping[str, Any]) -> Flow[Market | None]:
        """The market of a listed item (loading its group), None for spot: its unit is exact.

        A contract's amounts cannot be read without its ``ctVal``; an instrument OKX lists
        but does not describe is a ``BadResponse``, never a count passed off as an amount.
        """
        inst_id = str(item.get("instId"))
        market = self._by_id.get(inst_id)
        if market is not None or item.get("instType") == "SPOT":
            return market
        group = self.market_group(parse_symbol(parse.symbol_of(inst_id)))
        if group not in self._loaded_groups:
            self._store(group, (yield from self.fetch_market_group(group)))
        market = self._by_id.get(inst_id)
        if market is None:
            raise BadResponse(
                f"OKX returned {inst_id}, which its instrument list does not describe",
                exchange=self.name,
            )
        return market

    def _ensure_groups(self, groups: Iterable[str]) -> Flow[None]:
        for group in groups:
            if group not in self._loaded_groups:
                self._store(group, (yield from self.fetch_market_group(group)))


def unified_order(order: Order, market: Market) -> Order:
    """An order of ``market`` in unified amounts, with the cost OKX leaves to the reader.

    OKX reports no cumulative value for contracts; a linear contract's is its filled base
    amount times the average price, as on spot.
    """
    order = unified(order, market)
    if order.cost is None and market.linear and order.filled is not None:
        if order.filled == 0:
            return attrs.evolve(order, cost=ZERO)
        if order.average is not None:
            return attrs.evolve(order, cost=order.filled * order.average)
    return order
