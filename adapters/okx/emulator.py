"""OKX v5 front-end of the emulator: OKX's endpoints, envelopes, string codes and ``sCode``s.

Requests are checked as OKX's docs say (https://www.okx.com/docs-v5/en/: "REST Authentication",
"Demo Trading Services", "Rate Limits", each endpoint's page and the REST error codes): the four
``OK-ACCESS-*`` headers must be present (50103/50104/50106/50107); the key must exist (50111);
the timestamp must be ISO-8601 with milliseconds (50112) and within 30 s of the server's clock
either way (50102, stated in the EEA edition of the docs,
https://my.okx.com/docs-v5/en/#overview-rest-authentication-making-requests); a key of the other
environment is refused (50101: a request with ``x-simulated-trading: 1`` is demo trading, any
other is live, and a key's ``environment`` is ``"live"``, ``"demo"`` or None for both); the
passphrase must match (50105); the signature is recomputed over the raw path and query and the
raw body received (50113); an expired key is unknown (50119, "API key doesn't exist"); the peer
IP must be on the key's whitelist (50110); writes need the trade scope of the instrument type
(50120); each endpoint's rate limit (per IP, user, or user and instrument) answers
50011 with HTTP 429, like the ``rate_limit`` fault below (no ``Retry-After``: OKX documents none).
A place or amend request whose ``expTime`` header (Unix ms) has passed on the emulator's clock
when it is handled, after any injected latency, is not processed
(https://www.okx.com/docs-v5/en/#overview-general-info-transaction-timeouts); it answers 51149.

Answers use OKX's envelope ``{"code", "msg", "data"}`` with string codes and the HTTP statuses of
OKX's error table (https://www.okx.com/docs-v5/en/#error-code-rest-api-public); order writes report
per item (``sCode``/``sMsg``/``subCode``) under ``code "1"`` (all failed) or ``"2"`` (a batch partly
succeeded).

Swaps trade in contracts of ``ctVal`` (0.01 BTC for BTC-USDT-SWAP, 0.1 ETH for ETH-USDT-SWAP,
100 USD for BTC-USD-SWAP); the engine counts base coin (linear) or USD (inverse), so sizes are
converted here, and ``lotSz``/``minSz`` are the engine's lot and minimum in contracts.

Faults: ``rate_limit`` answers 50011 with HTTP 429 (OKX documents 50011 under both 200 and
429; 429 is what a REST client meets first and what generic HTTP tooling recognises).
``server_error`` answers 50001 with HTTP 503 ("Service temporarily unavailable") when the request
was not processed, and 50004 (HTTP 400, "API endpoint request timeout ... does not mean that
the request was successful or failed") when it was: the two codes OKX uses for exactly these
two situations.

A post-only order that would take and a FOK order that cannot fill are accepted and cancelled
at once, as on OKX (``state`` canceled; ``cancelSource`` 31 for the post-only one, "Get order
details": https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-details); a
reduce-only order with no position to reduce is refused with 51169.

Simplifications (not OKX's behaviour): the emulator lists no futures or options (their
instrument lists are valid and empty); bars of 6H and longer open on UTC like the ``utc`` bars.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from adapters.okx.emulator_account import OkxAccount
from adapters.okx.emulator_common import (
    _EXP_TIME,
    _SCOPE,
    _STAMP,
    _WINDOW_S,
    CONTRACT_VALUES,
    Instrument,
    ItemError,
    OkxError,
)
from adapters.okx.emulator_common import _text as _text  # re-exported: route modules use it
from adapters.okx.emulator_market import OkxMarket
from adapters.okx.emulator_trading import OkxTrading
from adapters.okx.limits import RULES, limit_for, route_key
from adapters.okx.signer import EXPIRING_PATHS
from exchanges.emulator.engine import EngineError
from exchanges.emulator.inputs import BadInput, json_body
from exchanges.emulator.keys import TRADE_SCOPES, ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["CONTRACT_VALUES", "Instrument", "ItemError", "OkxError", "OkxFrontEnd"]


class OkxFrontEnd(OkxMarket, OkxAccount, OkxTrading):
    """OKX v5 over the emulator's shared state."""

    name = "okx"

    def __init__(self, state: EmulatorState) -> None:
        super().__init__(state)
        self._engine_ids: dict[str, str] = {}
        # Requests already processed, so a later "server_error" fault on them is a timeout.
        self._processed: OrderedDict[int, Incoming] = OrderedDict()
        get, post = "GET", "POST"
        self.routes: dict[tuple[str, str], tuple[Callable[..., Any], str | None]] = {
            (get, "/api/v5/public/time"): (self.public_time, None),
            (get, "/api/v5/public/instruments"): (self.public_instruments, None),
            (get, "/api/v5/market/ticker"): (self.market_ticker, None),
            (get, "/api/v5/market/tickers"): (self.market_tickers, None),
            (get, "/api/v5/market/books"): (self.market_books, None),
            (get, "/api/v5/market/trades"): (self.market_trades, None),
            (get, "/api/v5/market/candles"): (self.market_candles, None),
            (get, "/api/v5/market/history-candles"): (self.market_history_candles, None),
            (get, "/api/v5/account/balance"): (self.account_balance, "read"),
            (get, "/api/v5/account/positions"): (self.account_positions, "read"),
            (get, "/api/v5/account/config"): (self.account_config, "read"),
            (get, "/api/v5/account/trade-fee"): (self.account_trade_fee, "read"),
            (post, "/api/v5/trade/order"): (self.trade_order, "trade"),
            (post, "/api/v5/trade/amend-order"): (self.trade_amend, "trade"),
            (post, "/api/v5/trade/cancel-order"): (self.trade_cancel, "trade"),
            (post, "/api/v5/trade/cancel-batch-orders"): (self.trade_cancel_batch, "trade"),
            (get, "/api/v5/trade/order"): (self.trade_order_details, "read"),
            (get, "/api/v5/trade/orders-pending"): (self.trade_orders_pending, "read"),
            (get, "/api/v5/trade/orders-history"): (self.trade_orders_history, "read"),
            (get, "/api/v5/trade/fills"): (self.trade_fills, "read"),
            (get, "/api/v5/trade/fills-history"): (self.trade_fills_history, "read"),
            (post, "/api/v5/trade/batch-orders"): (self.trade_batch_orders, "trade"),
        }
        from adapters.okx.emulator_assets import OkxAssets
        from adapters.okx.emulator_funding import OkxFunding
        from adapters.okx.emulator_leverage import OkxLeverage
        from adapters.okx.emulator_modes import OkxModes

        self.routes.update(OkxAssets(self).routes())
        self.routes.update(OkxFunding(self).routes())
        self.routes.update(OkxLeverage(self).routes())
        from adapters.okx.emulator_algo import OkxAlgo

        #: The algo order endpoints, whose rows the orders-algo/algo-advance channels also push.
        self.algo = OkxAlgo(self)
        self.routes.update(self.algo.routes())  # before the modes: they wrap its hook
        self.routes.update(OkxModes(self).routes())  # last: it hooks order placement

    def register_routes(self, app: Any) -> None:
        """Add OKX's WebSocket endpoints (``/ws/v5/public``, ``/business``, ``/private``)."""
        from adapters.okx.emulator_ws import OkxWebSockets

        OkxWebSockets(self).register(app)

    # -- envelope -------------------------------------------------------------------------

    @staticmethod
    def _body(code: str, message: str, data: Any, **extra: Any) -> bytes:
        envelope = {"code": code, "msg": message, "data": data, **extra}
        return json.dumps(envelope, separators=(",", ":")).encode()

    def _times(self) -> dict[str, str]:
        now_us = str(self.state.now_ms() * 1000)
        return {"inTime": now_us, "outTime": now_us}

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """50011 (HTTP 429) for ``rate_limit``; 50001 (503) or, once processed, 50004 (400)."""
        if kind == "rate_limit":
            return Outgoing(429, self._body("50011", "Too Many Requests", []))
        if self._processed.pop(id(request), None) is request:
            message = (
                "API endpoint request timeout (does not mean that the request was successful "
                "or failed, please check the request result)."
            )
            return Outgoing(400, self._body("50004", message, []))
        return Outgoing(
            503, self._body("50001", "Service temporarily unavailable. Please try again later.", [])
        )

    def handle(self, request: Incoming) -> Outgoing | None:
        """Authenticate, rate-limit and answer one request of OKX's v5 REST API."""
        route = self.routes.get((request.method, request.path))
        if route is None:
            return None
        self._processed[id(request)] = request
        while len(self._processed) > 256:
            self._processed.popitem(last=False)
        handler, access = route
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            params = self._params(request, headers)
            if access is None:
                self._rate_limit(f"ip:{request.remote}", request, params)
                result = handler(params)
            else:
                key = self._authenticate(request, headers)
                if request.method == "POST" and request.path in EXPIRING_PATHS:
                    self._check_deadline(headers)
                if access == "trade":
                    self._authorise(key, params)
                self._rate_limit(str(key.uid), request, params)
                result = handler(params, key)
        except OkxError as err:
            return Outgoing(err.status, self._body(err.code, err.message, []))
        except EngineError as err:
            return Outgoing(400, self._body("51000", f"Parameter error: {err.message}", []))
        if isinstance(result, tuple):
            code, message, data = result
            return Outgoing(200, self._body(code, message, data, **self._times()))
        return Outgoing(200, self._body("0", "", result))

    # -- checks ---------------------------------------------------------------------------

    @staticmethod
    def _params(request: Incoming, headers: Mapping[str, str]) -> Any:
        if request.method == "GET":
            return dict(parse_qsl(request.query, keep_blank_values=True))
        if not request.body:
            raise OkxError("50000", "Body for POST request cannot be empty.")
        if not headers.get("content-type", "").lower().startswith("application/json"):
            raise OkxError("50006", 'Invalid Content-Type. Please use "application/JSON".')
        try:
            body = json_body(request.body)
        except BadInput:
            raise OkxError("50002", "JSON syntax error") from None
        if not isinstance(body, dict | list):
            raise OkxError("50002", "JSON syntax error")
        return body

    def _authenticate(self, request: Incoming, headers: Mapping[str, str]) -> ApiKey:
        api_key = headers.get("ok-access-key", "")
        sign = headers.get("ok-access-sign", "")
        stamp = headers.get("ok-access-timestamp", "")
        passphrase = headers.get("ok-access-passphrase", "")
        if not api_key:
            raise OkxError("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.')
        if not passphrase:
            raise OkxError("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.')
        if not sign:
            raise OkxError("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.')
        if not stamp:
            raise OkxError("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.')
        key = self.state.keys.get(api_key)
        if key is None:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.")
        if not _STAMP.match(stamp):
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.")
        try:
            moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.") from None
        stamp_ms = int(moment.timestamp()) * 1000 + moment.microsecond // 1000
        if abs(stamp_ms - self.state.now_ms()) > _WINDOW_S * 1000:
            raise OkxError("50102", "Timestamp request expired.")
        environment = "demo" if headers.get("x-simulated-trading") == "1" else "live"
        if key.environment is not None and key.environment != environment:
            raise OkxError("50101", "APIKey does not match current environment.")
        if key.passphrase is not None and not hmac.compare_digest(
            key.passphrase.encode(), passphrase.encode()
        ):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.')
        target = f"{request.path}?{request.query}" if request.query else request.path
        message = f"{stamp}{request.method}{target}".encode()
        if request.method != "GET":
            message += request.body
        if key.secret is None:
            raise OkxError("50113", "Invalid signature.")
        digest = hmac.new(key.secret.encode(), message, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), sign.encode()):
            raise OkxError("50113", "Invalid signature.")
        if key.expires_at is not None and key.expires_at <= self.state.now_ms():
            raise OkxError("50119", "API key doesn't exist")
        if not key.ip_allowed(request.remote):
            raise OkxError(
                "50110", f"Your IP {request.remote} is not included in your API key's IP whitelist."
            )
        return key

    def _check_deadline(self, headers: Mapping[str, str]) -> None:
        # Runs inside handle(), which the server calls after a latency fault's sleep: a request
        # held inside the exchange past its deadline is refused, as the docs describe.
        text = headers.get("exptime")
        if text is None:
            return
        if not _EXP_TIME.fullmatch(text):
            raise OkxError("51000", "Parameter expTime error")
        if self.state.now_ms() > int(text):
            # The docs say such a request "will not be processed" and name no code. 51149
            # ("Order timed out") is the code of OKX's error list for an order request that
            # timed out; 50102 is the OK-ACCESS-TIMESTAMP check and 50004 says the outcome is
            # unknown, while here it is known: nothing was done.
            raise OkxError("51149", "Order timed out, please try again.")

    def _authorise(self, key: ApiKey, params: Any) -> None:
        items = params if isinstance(params, list) else [params]
        denied = not (key.permissions & TRADE_SCOPES)
        for item in items:
            inst = (
                self.instruments.get(_text(item.get("instId"))) if isinstance(item, dict) else None
            )
            if inst is not None and not key.allows(_SCOPE.get(inst.inst_type, "options_trade")):
                denied = True
        if denied:
            raise OkxError("50120", "This API key doesn't have permission to use this function")

    def _rate_limit(self, who: str, request: Incoming, params: Any) -> None:
        endpoint = f"{request.method} {request.path}"
        if endpoint not in RULES:
            return
        inst_id = _text(params.get("instId")) if isinstance(params, dict) else None
        route = route_key(endpoint, inst_id or None)
        limit = limit_for(route)
        if limit is None:
            return
        weight = len(params) if isinstance(params, list) else 1
        now = self.state.now_ms()
        for _ in range(max(weight, 1)):
            verdict = self.state.limits.hit(
                f"{who}:{route}", limit.limit, int(limit.period * 1000), now
            )
            if not verdict.allowed:
                raise OkxError("50011", "Too Many Requests")
