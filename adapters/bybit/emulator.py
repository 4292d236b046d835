"""Bybit v5 front-end of the emulator: Bybit's endpoints, envelopes, field names and codes.

Requests are checked as Bybit's docs say (https://bybit-exchange.github.io/docs/v5/guide
"Authentication", https://bybit-exchange.github.io/docs/v5/error "Error Codes" and
https://bybit-exchange.github.io/docs/v5/rate-limit "Rate Limit Rules"): the key must exist (10003)
and not be expired (33004); the timestamp must satisfy
``server_time - recv_window <= timestamp < server_time + 1000`` (10002), where the timestamp and
the ``X-BAPI-RECV-WINDOW`` header are whole numbers of at most 19 ASCII digits and the window is
above zero, else 10001 (the guide states no maximum window,
https://bybit-exchange.github.io/docs/v5/guide#parameters-for-authenticated-endpoints); the
signature is recomputed over the raw query string or raw body bytes received (10004, with Bybit's
``origin_string[...]`` message); the peer IP must be on the key's whitelist (10010); the key needs
the scope of the endpoint and category (10005); per-UID rate limits answer 10006 with the
``X-Bapi-Limit*`` headers, and the 600-per-5-s IP budget an HTML 403.

A post-only order that would take, or a FOK order that cannot fill, is accepted and cancelled
at once, its ``rejectReason`` EC_PostOnlyWillTakeLiquidity or EC_CancelForNoFullFill ("Enums
Definitions", https://bybit-exchange.github.io/docs/v5/enum#rejectreason), as on Bybit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.bybit.emulator_account import BybitAccount
from adapters.bybit.emulator_base import BybitBase, BybitError
from adapters.bybit.emulator_market import BybitMarket
from adapters.bybit.emulator_trading import BybitTrading
from adapters.bybit.limits import IP_KEY
from exchanges.emulator.engine import EngineError
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["BybitFrontEnd"]


class BybitFrontEnd(BybitTrading, BybitAccount, BybitMarket, BybitBase):
    """Bybit v5 over the emulator's shared state."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.engine = state.engine
        get, post = "GET", "POST"
        self.routes: dict[tuple[str, str], tuple[Callable[..., Any], str | None]] = {
            (get, "/v5/market/time"): (self.market_time, None),
            (get, "/v5/market/instruments-info"): (self.instruments, None),
            (get, "/v5/market/tickers"): (self.tickers, None),
            (get, "/v5/market/orderbook"): (self.orderbook, None),
            (get, "/v5/market/recent-trade"): (self.recent_trade, None),
            (get, "/v5/market/kline"): (self.kline, None),
            (get, "/v5/account/wallet-balance"): (self.wallet_balance, "read"),
            (get, "/v5/account/fee-rate"): (self.fee_rate, "read"),
            (get, "/v5/account/info"): (self.account_info, "read"),
            (get, "/v5/user/query-api"): (self.query_api, "read"),
            (post, "/v5/order/create"): (self.order_create, "trade"),
            (post, "/v5/order/amend"): (self.order_amend, "trade"),
            (post, "/v5/order/cancel"): (self.order_cancel, "trade"),
            (post, "/v5/order/cancel-all"): (self.order_cancel_all, "trade"),
            (get, "/v5/order/realtime"): (self.order_realtime, "read"),
            (get, "/v5/order/history"): (self.order_history, "read"),
            (get, "/v5/execution/list"): (self.execution_list, "read"),
            (get, "/v5/position/list"): (self.position_list, "read"),
        }
        from adapters.bybit.emulator_assets import BybitAssets
        from adapters.bybit.emulator_batch import BybitBatch
        from adapters.bybit.emulator_funding import BybitFunding
        from adapters.bybit.emulator_leverage import BybitLeverage
        from adapters.bybit.emulator_modes import BybitModes
        from adapters.bybit.emulator_triggers import BybitTriggers

        self.routes.update(BybitAssets(self).routes())
        self.funding = BybitFunding(self)
        self.routes.update(self.funding.routes())
        self.routes.update(BybitLeverage(self).routes())
        #: Conditional orders, whose rows the private ``order`` topic also pushes.
        self.trigger_api = BybitTriggers(self)
        self.routes.update(self.trigger_api.routes())  # before the modes' wrappers
        self.routes.update(BybitModes(self).routes())  # last: it wraps the order handlers
        # Each order of a batch through the single-order handlers as wrapped above.
        self.routes.update(BybitBatch(self).routes())

    def register_routes(self, app: Any) -> None:
        """Add Bybit's WebSocket endpoints (``/v5/public/{category}``, ``/v5/private``)."""
        from adapters.bybit.emulator_ws import BybitWebSockets

        BybitWebSockets(self).register(app)

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """10016 for ``server_error``, 10006 for ``rate_limit``."""
        if kind == "rate_limit":
            now = self.state.now_ms()
            headers = {
                "X-Bapi-Limit": "10",
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit-Reset-Timestamp": str(now + 200),
            }
            return Outgoing(200, self._envelope(10006, "Too many visits!", {}), headers)
        return Outgoing(200, self._envelope(10016, "Server error.", {}))

    def handle(self, request: Incoming) -> Outgoing | None:
        """Authenticate, rate-limit and answer one request of Bybit's v5 API."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            if request.path.startswith("/v5/"):
                return Outgoing(200, self._envelope(10017, "Route not found.", {}))
            return None
        handler, access = route
        if self.state.ip_limit:
            verdict = self.state.limits.hit(
                f"{IP_KEY}:{request.remote}", 600, 5000, self.state.now_ms()
            )
            if not verdict.allowed:
                page = b"<html><body><h1>403 Forbidden</h1>access too frequent</body></html>"
                return Outgoing(403, page, content_type="text/html")
        category: Any = None
        try:
            params = self._params(request)
            headers: dict[str, str] = {}
            key = None
            category = params.get("category")
            if access is not None:
                key = self._authenticate(request)
                self._authorise(key, request.path, category, access)
                headers = self._rate_limit(key, request.path, category)
            result = handler(params, key) if access is not None else handler(params)
        except BybitError as err:
            return self._error(err)
        except EngineError as err:
            return self._error(self._engine_error(err, request.path, category == "spot"))
        ext = None
        if isinstance(result, tuple):
            result, ext = result
        return Outgoing(200, self._envelope(0, "OK", result, ext), headers)
