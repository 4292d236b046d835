"""Binance emulator front-end: spot ``/api/v3``, ``/sapi/v1`` and USD-M ``/fapi`` on one host.

The routes live in files by area behind this front-end, which keeps the route table and the
checks every request goes through: ``emulator_market.py`` (market data), ``emulator_account.py``
(balances, fees, positions), ``emulator_trading.py`` (orders and fills, with spot's stop types
in ``emulator_spot_stops.py``), ``emulator_assets.py``,
``emulator_funding.py``, ``emulator_leverage.py``, over ``emulator_base.py`` (errors, checks).

Requests are checked as Binance's docs say they are checked (spot: "Request Security"
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security, "Error codes"
https://developers.binance.com/docs/binance-spot-api-docs/errors and "LIMITS"
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits; USD-M: "General Info"
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info):

* the key must be known (``-2015`` "Invalid API-key, IP, or permissions for action.", HTTP 401);
  an IP outside the key's whitelist and a missing permission get the same ``-2015``;
* the signature is recomputed over the raw percent-encoded query string concatenated with the raw
  body, minus the ``signature`` parameter (HMAC hex compared case-insensitively; RSA and Ed25519
  base64 after percent-decoding), else ``-1022``;
* ``timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow``, else ``-1021``;
  ``recvWindow`` is milliseconds with at most three decimals, else ``-1100`` (so ``nan``,
  ``inf``, ``1e4`` or ``-5000`` never switch the check off), and above zero, else ``-1131``;
  spot refuses ``recvWindow`` above 60000 (``-1131``); the futures docs state no maximum;
* request weights per endpoint (``adapters.binance.limits``) count per IP in fixed one-minute
  windows; every answer carries ``X-MBX-USED-WEIGHT-1M``; beyond the limit, HTTP 429 with
  ``-1003`` and ``Retry-After`` (seconds). Orders count per account (spot 10 per second, USD-M 300
  per 10 s and 1200 per minute) with ``X-MBX-ORDER-COUNT-*`` headers, else ``-1015``;
* ``newClientOrderId`` must be unique among the account's *open* orders ("A unique id among open
  orders"): spot answers ``-2010`` "Duplicate order sent.", USD-M ``-4116`` "ClientOrderId is
  duplicated." (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
  Once the first order is closed the id may be used again, and a query by ``origClientOrderId``
  finds the latest order with it.

Faults: ``server_error`` is Binance's backend timeout ``-1007`` "Timeout waiting for response from
backend server. Send status unknown; execution status unknown.", with HTTP 500 on spot (a
5XX: "execution status is UNKNOWN") and HTTP 408 on USD-M (its documented backend-timeout status);
``rate_limit`` is HTTP 429 ``-1003`` with ``Retry-After: 1``.

Simplifications (documented, not Binance's behaviour): the engine keeps one wallet per account, so
the spot and USD-M views show the same balances; a FOK order that cannot fill is refused (spot
``-2010``, USD-M ``-5021``) instead of being accepted and expired; "1s" klines are not emulated;
USD-M runs in one-way mode (positionSide BOTH).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.binance.emulator_account import BinanceAccount
from adapters.binance.emulator_base import (
    _MSG_TIMEOUT,
    _ORDER_LIMITS,
    _WEIGHT_LIMIT,
    BinanceBase,
    BinanceError,
    mandatory,
)
from adapters.binance.emulator_gtd import GoodTill
from adapters.binance.emulator_market import BinanceMarket
from adapters.binance.emulator_trading import BinanceTrading
from adapters.binance.limits import request_weight
from exchanges.emulator.engine import EngineError
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["BinanceError", "BinanceFrontEnd", "mandatory"]
# Kept importable from here: tests tune the limits through this module.
_LIMITS = (_ORDER_LIMITS, _WEIGHT_LIMIT)


class BinanceFrontEnd(BinanceTrading, BinanceAccount, BinanceMarket, BinanceBase):
    """Binance spot and USD-M over the emulator's shared engine."""

    name = "binance"

    def __init__(self, state: EmulatorState) -> None:
        super().__init__(state)
        self.good_till = GoodTill(state.engine)
        G, P, D, U = "GET", "POST", "DELETE", "PUT"
        spot, usdm = "spot", "usdm"
        route = tuple[Callable[..., Any], str | None, str]
        self.routes: dict[tuple[str, str], route] = {
            (G, "/api/v3/time"): (self.time, None, spot),
            (G, "/api/v3/exchangeInfo"): (self.exchange_info_spot, None, spot),
            (G, "/api/v3/ticker/24hr"): (self.ticker_24h_spot, None, spot),
            (G, "/api/v3/ticker/bookTicker"): (self.book_ticker_spot, None, spot),
            (G, "/api/v3/depth"): (self.depth_spot, None, spot),
            (G, "/api/v3/trades"): (self.trades_spot, None, spot),
            (G, "/api/v3/aggTrades"): (self.agg_trades_spot, None, spot),
            (G, "/api/v3/klines"): (self.klines_spot, None, spot),
            (G, "/api/v3/account"): (self.account_spot, "USER_DATA", spot),
            (G, "/api/v3/account/commission"): (self.commission_spot, "USER_DATA", spot),
            (P, "/api/v3/order"): (self.new_order_spot, "TRADE", spot),
            (G, "/api/v3/order"): (self.query_order_spot, "USER_DATA", spot),
            (D, "/api/v3/order"): (self.cancel_order_spot, "TRADE", spot),
            (G, "/api/v3/openOrders"): (self.open_orders_spot, "USER_DATA", spot),
            (D, "/api/v3/openOrders"): (self.cancel_open_spot, "TRADE", spot),
            (G, "/api/v3/allOrders"): (self.all_orders_spot, "USER_DATA", spot),
            (G, "/api/v3/myTrades"): (self.my_trades_spot, "USER_DATA", spot),
            (G, "/sapi/v1/account/apiRestrictions"): (self.api_restrictions, "USER_DATA", spot),
            (G, "/fapi/v1/time"): (self.time, None, usdm),
            (G, "/fapi/v1/exchangeInfo"): (self.exchange_info_usdm, None, usdm),
            (G, "/fapi/v1/ticker/24hr"): (self.ticker_24h_usdm, None, usdm),
            (G, "/fapi/v1/ticker/bookTicker"): (self.book_ticker_usdm, None, usdm),
            (G, "/fapi/v1/depth"): (self.depth_usdm, None, usdm),
            (G, "/fapi/v1/trades"): (self.trades_usdm, None, usdm),
            (G, "/fapi/v1/aggTrades"): (self.agg_trades_usdm, None, usdm),
            (G, "/fapi/v1/klines"): (self.klines_usdm, None, usdm),
            (G, "/fapi/v3/account"): (self.account_usdm, "USER_DATA", usdm),
            (G, "/fapi/v3/balance"): (self.balance_usdm, "USER_DATA", usdm),
            (G, "/fapi/v1/commissionRate"): (self.commission_usdm, "USER_DATA", usdm),
            (P, "/fapi/v1/order"): (self.new_order_usdm, "TRADE", usdm),
            (U, "/fapi/v1/order"): (self.modify_order_usdm, "TRADE", usdm),
            (G, "/fapi/v1/order"): (self.query_order_usdm, "USER_DATA", usdm),
            (D, "/fapi/v1/order"): (self.cancel_order_usdm, "TRADE", usdm),
            (G, "/fapi/v1/openOrders"): (self.open_orders_usdm, "USER_DATA", usdm),
            (D, "/fapi/v1/allOpenOrders"): (self.cancel_open_usdm, "TRADE", usdm),
            (G, "/fapi/v1/allOrders"): (self.all_orders_usdm, "USER_DATA", usdm),
            (G, "/fapi/v1/userTrades"): (self.user_trades_usdm, "USER_DATA", usdm),
            (G, "/fapi/v3/positionRisk"): (self.position_risk, "USER_DATA", usdm),
        }
        from adapters.binance.emulator_assets import BinanceAssets
        from adapters.binance.emulator_batch import BinanceBatch
        from adapters.binance.emulator_funding import BinanceFunding
        from adapters.binance.emulator_leverage import BinanceLeverage
        from adapters.binance.emulator_modes import BinanceModes

        self.routes.update(BinanceAssets(self).routes())
        self.routes.update(BinanceFunding(self).routes())
        self.routes.update(BinanceLeverage(self).routes())
        from adapters.binance.emulator_algo import BinanceAlgo

        #: The Algo Order API (conditional orders), whose rows the user stream also sends.
        self.algo = BinanceAlgo(self)
        self.routes.update(self.algo.routes())  # before the modes' wrappers
        from adapters.binance.emulator_spot_stops import BinanceSpotStops

        # Spot stop types on the spot order endpoints (conditional orders of spot).
        self.routes.update(BinanceSpotStops(self).routes())
        self.routes.update(BinanceModes(self).routes())  # last: it wraps the order handlers
        # Each order of a batch through the single-order handlers as wrapped above.
        self.routes.update(BinanceBatch(self).routes())
        from adapters.binance.emulator_ws_user import UserData

        #: listenKeys and user-data subscriptions, shared by REST and the WebSockets.
        self.user_data = UserData(self)
        self.routes.update(self.user_data.routes())

    def register_routes(self, app: Any) -> None:
        """Add Binance's WebSocket endpoints (``emulator_ws``)."""
        from adapters.binance.emulator_ws import BinanceWebSockets

        BinanceWebSockets(self).register(app)

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """HTTP 429 ``-1003`` for ``rate_limit``; the backend timeout ``-1007`` otherwise."""
        futures = request.path.startswith("/fapi")
        if kind == "rate_limit":
            limit = _WEIGHT_LIMIT["usdm" if futures else "spot"]
            message = (
                f"Too much request weight used; current limit is {limit} request weight per 1 "
                "MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
            )
            return self._json(429, {"code": -1003, "msg": message}, {"Retry-After": "1"})
        return self._json(408 if futures else 500, {"code": -1007, "msg": _MSG_TIMEOUT})

    def handle(self, request: Incoming) -> Outgoing | None:
        """Weigh, authenticate and answer one request of Binance's API."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return None
        handler, security, market = route
        headers: dict[str, str] = {}
        try:
            params = self._params(request)
            weight = request_weight(market, request.method, request.path, params)
            headers.update(self._weigh(market, request.remote, weight))
            if security is None:
                result = handler(params)
            else:
                key = self._authenticate(request, params, market, security)
                if market == "usdm":
                    self.good_till.expire_due(self.state.now_ms())
                if request.method in ("POST", "PUT") and request.path.endswith("/order"):
                    headers.update(self._count_order(market, key.uid))
                result = handler(params, key)
        except BinanceError as err:
            return self._error(err, headers)
        except EngineError as err:
            return self._error(self._engine_error(err, request, market), headers)
        return self._json(200, result, headers)

    # -- checks ---------------------------------------------------------------------------
