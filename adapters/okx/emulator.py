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
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import attrs

from adapters.okx.limits import RULES, limit_for, route_key
from adapters.okx.signer import EXPIRING_PATHS
from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError, InstrumentSpec, OrderView
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import TRADE_SCOPES, ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing

__all__ = ["CONTRACT_VALUES", "OkxFrontEnd"]

#: ctVal per (category, base): OKX's own contract sizes for these swaps.
CONTRACT_VALUES: Mapping[tuple[str, str], Decimal] = {
    ("linear", "BTC"): Decimal("0.01"),
    ("linear", "ETH"): Decimal("0.1"),
    ("linear", "SOL"): Decimal("1"),
    ("inverse", "BTC"): Decimal("100"),
    ("inverse", "ETH"): Decimal("10"),
}

_WINDOW_S = 30  # OKX rejects timestamps more than 30 s from its clock (50102)
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_EXP_TIME = re.compile(r"[0-9]{1,19}")  # Unix ms; ASCII digits only, as ``integer`` reads them
_CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_TYPES = ("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN")
_SCOPE = {"SPOT": "spot_trade", "SWAP": "derivatives_trade", "FUTURES": "derivatives_trade"}
_ORD_TYPES = {
    "limit": ("limit", "GTC"),
    "post_only": ("limit", "PostOnly"),
    "ioc": ("limit", "IOC"),
    "fok": ("limit", "FOK"),
    "market": ("market", "IOC"),
    "optimal_limit_ioc": ("market", "IOC"),
}
# Why OKX cancelled an order itself (cancelSource, "Get order details"; the FOK one has no
# documented number the emulator relies on, so it stays empty).
_CANCEL_SOURCES = {"post_only_would_take": "31"}
_STATES = {
    "new": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "cancelled": "canceled",
    "partially_filled_cancelled": "canceled",
    "rejected": "canceled",
}
_BARS = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30,
    "1H": 60, "2H": 120, "4H": 240, "6H": 360, "12H": 720,
    "1D": 1440, "2D": 2880, "3D": 4320, "1W": 10080, "1M": 43200, "3M": 129600,
    "6Hutc": 360, "12Hutc": 720, "1Dutc": 1440, "2Dutc": 2880, "3Dutc": 4320,
    "1Wutc": 10080, "1Mutc": 43200, "3Mutc": 129600,
}  # fmt: skip
# HTTP statuses of top-level codes in OKX's error table; business errors come with 200.
_HTTP = {
    "50000": 400, "50001": 503, "50002": 400, "50004": 400, "50006": 400, "50011": 429,
    "50014": 400, "50015": 400, "50101": 401, "50102": 401, "50103": 401, "50104": 401,
    "50105": 401, "50106": 401, "50107": 401, "50110": 401, "50111": 401, "50112": 401,
    "50113": 401, "51000": 400,
}  # fmt: skip


class OkxError(Exception):
    """A top-level OKX error: ``code``, ``msg`` and the HTTP status OKX's error table gives."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = _HTTP.get(code, 200)


class ItemError(Exception):
    """A failed item of an order write: ``sCode``, ``sMsg`` and ``subCode``."""

    def __init__(self, code: str, message: str, sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sub_code = sub_code


@attrs.frozen
class Instrument:
    """One emulated OKX instrument over an engine instrument."""

    inst_id: str
    inst_type: str
    spec: InstrumentSpec
    ct_val: Decimal | None

    @property
    def family(self) -> str:
        """``BTC-USDT``: the instrument family (``uly``) of a contract."""
        return f"{self.spec.base}-{self.spec.quote}"

    def to_engine(self, size: Decimal) -> Decimal:
        """An OKX size (contracts for swaps) as the engine's quantity."""
        return size * self.ct_val if self.ct_val is not None else size

    def from_engine(self, qty: Decimal) -> Decimal:
        """An engine quantity as an OKX size (contracts without trailing zeros, like OKX's)."""
        return (qty / self.ct_val).normalize() if self.ct_val is not None else qty


def _numeric(engine_id: str) -> str:
    """An engine id (a UUID) as an OKX-style numeric id: 18 digits, stable across resets."""
    return str(int(engine_id.replace("-", ""), 16) % 10**18).rjust(18, "1")


def _w(value: Decimal | None) -> str:
    return "" if value is None else to_wire(value)


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


class OkxFrontEnd:
    """OKX v5 over the emulator's shared state."""

    name = "okx"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.engine = state.engine
        self.instruments: dict[str, Instrument] = {}
        self._inst_of: dict[tuple[str, str], Instrument] = {}
        for (category, symbol), spec in sorted(state.engine.instruments.items()):
            if category == "spot":
                inst = Instrument(f"{spec.base}-{spec.quote}", "SPOT", spec, None)
            else:
                ct_val = CONTRACT_VALUES.get((category, spec.base), spec.lot_size)
                inst = Instrument(f"{spec.base}-{spec.quote}-SWAP", "SWAP", spec, ct_val)
            self.instruments[inst.inst_id] = inst
            self._inst_of[(category, symbol)] = inst
        # OKX's ids are numeric strings: engine UUIDs are shown as numbers, mapped back here.
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

        self.routes.update(OkxAssets(self).routes())
        self.routes.update(OkxFunding(self).routes())
        self.routes.update(OkxLeverage(self).routes())

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

    # -- helpers --------------------------------------------------------------------------

    def _inst(self, params: Mapping[str, Any], *, item: bool = False) -> Instrument:
        inst_id = _text(params.get("instId"))
        if not inst_id:
            raise OkxError("50014", "Parameter instId can not be empty.")
        inst = self.instruments.get(inst_id)
        if inst is None:
            text = "Instrument ID, Instrument ID code or Spread ID doesn't exist."
            if item:
                raise ItemError("51001", text)
            raise OkxError("51001", text)
        return inst

    def _ord_id(self, engine_id: str) -> str:
        number = _numeric(engine_id)
        self._engine_ids[number] = engine_id
        return number

    def _of(self, view: Any) -> Instrument:
        return self._inst_of[(view.category, view.symbol)]

    @staticmethod
    def _decimal(params: Mapping[str, Any], name: str) -> Decimal | None:
        value = params.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise OkxError("51000", f"Parameter {name} error")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise OkxError("51000", f"Parameter {name} error") from None
        if not number.is_finite():
            raise OkxError("51000", f"Parameter {name} error")
        return number

    @staticmethod
    def _limit(params: Mapping[str, Any], default: int, maximum: int, name: str = "limit") -> int:
        text = _text(params.get(name))
        if not text:
            return default
        value = integer(text)
        if value is None or not 1 <= value <= maximum:
            raise OkxError("51000", f"Parameter {name} error")
        return value

    @staticmethod
    def _ms(params: Mapping[str, Any], name: str) -> int | None:
        text = _text(params.get(name))
        if not text:
            return None
        value = integer(text)
        if value is None or value < 0:
            raise OkxError("51000", f"Parameter {name} error")
        return value

    def _types(self, params: Mapping[str, Any], *, required: bool) -> list[str]:
        inst_type = _text(params.get("instType"))
        if not inst_type:
            if required:
                raise OkxError("50014", "Parameter instType can not be empty.")
            return list(_TYPES)
        if inst_type not in _TYPES:
            raise OkxError("51000", "Parameter instType error")
        return [inst_type]

    def _selected(self, params: Mapping[str, Any], *, type_required: bool) -> list[Instrument]:
        types = self._types(params, required=type_required)
        family = _text(params.get("instFamily") or params.get("uly"))
        inst_id = _text(params.get("instId"))
        ids = set(inst_id.split(",")) if inst_id else None
        return [
            i
            for i in self.instruments.values()
            if i.inst_type in types
            and (not family or (i.ct_val is not None and i.family == family))
            and (ids is None or i.inst_id in ids)
        ]

    def _engine_item_error(self, err: EngineError, inst: Instrument) -> ItemError:
        kind = err.kind
        if kind == "insufficient_funds":
            coin = inst.spec.quote if inst.inst_type == "SPOT" else inst.spec.settle
            if inst.inst_type == "SPOT":
                return ItemError(
                    "51008", f"Order failed. Insufficient {coin} balance in account.", "1000"
                )
            return ItemError(
                "51008", f"Order failed. Insufficient {coin} margin in account.", "1001"
            )
        if kind == "duplicate_client_order_id":
            return ItemError("51016", "Duplicated clOrdId")
        if kind in ("min_notional",):
            return ItemError("51020", "Your order should meet or exceed the minimum order amount.")
        if kind == "invalid_qty":
            if "outside" in err.message:
                return ItemError(
                    "51020", "Your order should meet or exceed the minimum order amount."
                )
            return ItemError("51121", "Order quantity must be a multiple of the lot size.")
        if kind == "invalid_price":
            return ItemError("51000", "Parameter px error")
        if kind == "unknown_symbol":
            return ItemError(
                "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist."
            )
        if kind == "reduce_only_rejected":
            # 51169: no position in this direction to reduce or close (OKX's error table).
            return ItemError(
                "51169",
                "Order failed because you don't have any positions in this direction for this "
                "contract to reduce or close.",
            )
        return ItemError("51000", f"Parameter error: {err.message}")

    # -- public ---------------------------------------------------------------------------

    def public_time(self, params: Mapping[str, Any]) -> list[dict[str, str]]:
        """``/api/v5/public/time``."""
        return [{"ts": str(self.state.now_ms())}]

    def _instrument_json(self, inst: Instrument) -> dict[str, Any]:
        spec = inst.spec
        spot = inst.ct_val is None
        linear = spec.category == "linear"
        size = inst.from_engine
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": spec.base if spot else "",
            "category": "1",
            "ctMult": "" if spot else "1",
            "ctType": "" if spot else "linear" if linear else "inverse",
            "ctVal": _w(inst.ct_val),
            "ctValCcy": "" if spot else spec.base if linear else spec.quote,
            "expTime": "",
            "instFamily": "" if spot else inst.family,
            "instId": inst.inst_id,
            "instType": inst.inst_type,
            "lever": _w(spec.max_leverage) if not spot else "10",
            "listTime": "1606468572000",
            "lotSz": _w(size(spec.lot_size)),
            "maxIcebergSz": _w(size(spec.max_qty)),
            "maxLmtAmt": "20000000",
            "maxLmtSz": _w(size(spec.max_qty)),
            "maxMktAmt": "1000000",
            "maxMktSz": _w(size(spec.max_qty)),
            "maxStopSz": _w(size(spec.max_qty)),
            "maxTriggerSz": _w(size(spec.max_qty)),
            "maxTwapSz": _w(size(spec.max_qty)),
            "minSz": _w(size(spec.min_qty)),
            "optType": "",
            "quoteCcy": spec.quote if spot else "",
            "ruleType": "normal",
            "settleCcy": "" if spot else spec.settle,
            "state": "live",
            "stk": "",
            "tickSz": _w(spec.tick_size),
            "uly": "" if spot else inst.family,
        }

    def public_instruments(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/public/instruments`` (``instType`` required; options need a family)."""
        types = self._types(params, required=True)
        if types == ["OPTION"] and not (params.get("instFamily") or params.get("uly")):
            raise OkxError("50015", "Either parameter uly or instFamily is required")
        return [self._instrument_json(i) for i in self._selected(params, type_required=True)]

    def _ticker_json(self, inst: Instrument) -> dict[str, Any]:
        spec = inst.spec
        t = self.engine.ticker(spec.symbol, category=spec.category)
        if inst.ct_val is None:
            vol, vol_ccy = t.volume_24h, t.turnover_24h
        elif spec.category == "linear":
            vol, vol_ccy = inst.from_engine(t.volume_24h), t.volume_24h
        else:
            vol, vol_ccy = inst.from_engine(t.volume_24h), t.turnover_24h
        return {
            "instType": inst.inst_type,
            "instId": inst.inst_id,
            "last": _w(t.last),
            "lastSz": "0",
            "askPx": _w(t.ask),
            "askSz": _w(inst.from_engine(t.ask_size)),
            "bidPx": _w(t.bid),
            "bidSz": _w(inst.from_engine(t.bid_size)),
            "open24h": _w(t.open_24h),
            "high24h": _w(t.high_24h),
            "low24h": _w(t.low_24h),
            "volCcy24h": _w(vol_ccy),
            "vol24h": _w(vol),
            "ts": str(t.time_ms),
            "sodUtc0": _w(t.open_24h),
            "sodUtc8": _w(t.open_24h),
        }

    def market_ticker(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/ticker``."""
        return [self._ticker_json(self._inst(params))]

    def market_tickers(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/tickers`` of one instrument type."""
        return [self._ticker_json(i) for i in self._selected(params, type_required=True)]

    def market_books(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/books``: ``[px, sz, "0", orders]`` levels (sz in contracts)."""
        inst = self._inst(params)
        depth = self._limit(params, 1, 400, "sz")
        book = self.engine.book(inst.spec.symbol, depth, category=inst.spec.category)

        def rows(levels: tuple[tuple[Decimal, Decimal], ...]) -> list[list[str]]:
            return [[_w(p), _w(inst.from_engine(q)), "0", "1"] for p, q in levels]

        return [{"asks": rows(book.asks), "bids": rows(book.bids), "ts": str(book.time_ms)}]

    def market_trades(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/market/trades``, newest first."""
        inst = self._inst(params)
        limit = self._limit(params, 100, 500)
        trades = self.engine.public_trades(inst.spec.symbol, limit, category=inst.spec.category)
        return [
            {
                "instId": inst.inst_id,
                "side": t.side,
                "sz": _w(inst.from_engine(t.qty)),
                "px": _w(t.price),
                "source": "0",
                "tradeId": _numeric(t.trade_id),
                "ts": str(t.time_ms),
            }
            for t in trades
        ]

    def _candles(self, params: Mapping[str, Any], maximum: int) -> list[list[str]]:
        inst = self._inst(params)
        minutes = _BARS.get(_text(params.get("bar")) or "1m")
        if minutes is None:
            raise OkxError("51000", "Parameter bar error")
        limit = self._limit(params, 100, maximum)
        after, before = self._ms(params, "after"), self._ms(params, "before")
        spec = inst.spec
        interval = minutes * 60_000
        candles = self.engine.klines(
            spec.symbol,
            interval,
            start_ms=None if before is None else before + 1,
            end_ms=None if after is None else after - 1,
            limit=1000,
            category=spec.category,
        )
        now = self.state.now_ms()
        rows = []
        for c in reversed(candles[-limit:]):
            if spec.category == "spot":
                vol, vol_ccy, vol_quote = c.volume, c.turnover, c.turnover
            elif spec.category == "linear":
                vol, vol_ccy, vol_quote = inst.from_engine(c.volume), c.volume, c.turnover
            else:
                vol, vol_ccy, vol_quote = inst.from_engine(c.volume), c.turnover, c.volume
            rows.append(
                [
                    str(c.start_ms),
                    _w(c.open),
                    _w(c.high),
                    _w(c.low),
                    _w(c.close),
                    _w(vol),
                    _w(vol_ccy),
                    _w(vol_quote),
                    "0" if c.start_ms + interval > now else "1",
                ]
            )
        return rows

    def market_candles(self, params: Mapping[str, Any]) -> list[list[str]]:
        """``/api/v5/market/candles`` (newest first, at most 300)."""
        return self._candles(params, 300)

    def market_history_candles(self, params: Mapping[str, Any]) -> list[list[str]]:
        """``/api/v5/market/history-candles`` (newest first, at most 100)."""
        return self._candles(params, 100)

    # -- account --------------------------------------------------------------------------

    def account_balance(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/balance``: cash, frozen and available per currency."""
        wanted = set(_text(params.get("ccy")).split(",")) - {""}
        positions = self.engine.positions(key.uid)
        now = str(self.state.now_ms())
        details = []
        for coin, bal in self.engine.balances(key.uid).items():
            if (wanted and coin not in wanted) or (not wanted and bal.total == 0):
                continue
            upl = sum(
                (p.unrealized_pnl for p in positions if self._of(p).spec.settle == coin),
                Decimal(0),
            )
            details.append(
                {
                    "ccy": coin,
                    "eq": _w(bal.total + upl),
                    "cashBal": _w(bal.total),
                    "availBal": _w(bal.free),
                    "availEq": _w(bal.free),
                    "frozenBal": _w(bal.locked),
                    "ordFrozen": "0",
                    "upl": _w(upl),
                    "disEq": "",
                    "eqUsd": "",
                    "uTime": now,
                }
            )
        return [
            {"adjEq": "", "imr": "", "mmr": "", "totalEq": "", "uTime": now, "details": details}
        ]

    def account_positions(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/positions``: open positions, net mode (``pos`` signed contracts)."""
        chosen = {i.inst_id for i in self._selected(params, type_required=False)}
        items = []
        for p in self.engine.positions(key.uid):
            inst = self._of(p)
            if inst.inst_id not in chosen or p.size == 0:
                continue
            contracts = inst.from_engine(p.size)
            digest = hashlib.sha256(f"{key.uid}:{inst.inst_id}".encode()).digest()
            items.append(
                {
                    "adl": "1",
                    "availPos": "",
                    "avgPx": _w(p.entry_price),
                    "cTime": str(p.created_ms),
                    "ccy": inst.spec.settle,
                    "imr": "",
                    "instId": inst.inst_id,
                    "instType": inst.inst_type,
                    "last": _w(p.mark_price),
                    "lever": _w(p.leverage),
                    "liqPx": _w(p.liquidation_price),
                    "margin": _w(p.position_margin),
                    "markPx": _w(p.mark_price),
                    "mgnMode": "cross",
                    "notionalUsd": "",
                    "pos": _w(contracts if p.side == "buy" else -contracts),
                    "posCcy": "",
                    "posId": str(int.from_bytes(digest[:6], "big")),
                    "posSide": "net",
                    "realizedPnl": _w(p.realized_pnl),
                    "upl": _w(p.unrealized_pnl),
                    "uTime": str(p.updated_ms),
                }
            )
        return items

    def account_config(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/config``: the calling key's ``perm``, ``ip`` and ``label``.

        https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration
        """
        perm = ["read_only"]
        if key.allows("withdraw"):
            perm.append("withdraw")
        if key.permissions & TRADE_SCOPES:
            perm.append("trade")
        uid = str(key.uid)
        return [
            {
                "acctLv": "2",
                "acctStpMode": "cancel_maker",
                "autoLoan": False,
                "ctIsoMode": "automatic",
                "enableSpotBorrow": False,
                "greeksType": "PA",
                "feeType": "0",
                "ip": ",".join(key.ips),
                "type": "0",
                "kycLv": "2",
                "label": key.label,
                "level": "Lv1",
                "levelTmp": "",
                "liquidationGear": "-1",
                "mainUid": uid,
                "mgnIsoMode": "automatic",
                "opAuth": "0",
                "perm": ",".join(perm),
                "posMode": "net_mode",
                "roleType": "0",
                "spotBorrowAutoRepay": False,
                "spotOffsetType": "",
                "spotRoleType": "0",
                "spotTraderInsts": [],
                "stgyType": "0",
                "traderInsts": [],
                "uid": uid,
                "settleCcy": "USDT",
                "settleCcyList": ["USD", "USDC", "USDG"],
            }
        ]

    def account_trade_fee(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/trade-fee``: charged fees as negative rates (``instId`` for spot)."""
        inst_type = self._types(params, required=True)[0]
        chosen = self._selected(params, type_required=True)
        if not chosen:
            if inst_type in ("FUTURES", "OPTION"):
                return []
            raise OkxError("51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.")
        spec = chosen[0].spec
        maker, taker = _w(-spec.maker_fee), _w(-spec.taker_fee)
        usdt = spec.settle == "USDT" and spec.category == "linear"
        return [
            {
                "category": "1",
                "delivery": "",
                "exercise": "",
                "instType": inst_type,
                "level": "Lv1",
                "maker": maker,
                "makerU": maker if usdt else "",
                "makerUSDC": "",
                "taker": taker,
                "takerU": taker if usdt else "",
                "takerUSDC": "",
                "ruleType": "normal",
                "ts": str(self.state.now_ms()),
                "fiat": [],
            }
        ]

    # -- orders ---------------------------------------------------------------------------

    def _order_json(self, order: OrderView) -> dict[str, Any]:
        inst = self._of(order)
        spot = inst.ct_val is None
        if order.type == "market":
            ord_type = "market"
        elif order.post_only:
            ord_type = "post_only"
        else:
            ord_type = {"IOC": "ioc", "FOK": "fok"}.get(order.time_in_force, "limit")
        tgt = ""
        if spot and order.type == "market":
            tgt = "quote_ccy" if order.quote_qty else "base_ccy"
        size = order.qty if order.quote_qty else inst.from_engine(order.qty)
        fee = -order.fee_total
        return {
            "accFillSz": _w(inst.from_engine(order.filled)),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": _w(order.avg_price),
            "cTime": str(order.created_ms),
            "cancelSource": _CANCEL_SOURCES.get(order.cancel_reason or "", ""),
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": order.client_order_id or "",
            "fee": _w(fee) if order.fee_total else "0",
            "feeCcy": order.fee_currency or "",
            "fillPx": "",
            "fillSz": "",
            "fillTime": "",
            "instId": inst.inst_id,
            "instType": inst.inst_type,
            "isTpLimit": "false",
            "lever": "" if spot else "10",
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": self._ord_id(order.order_id),
            "ordType": ord_type,
            "pnl": "0",
            "posSide": "" if spot else "net",
            "px": _w(order.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": inst.spec.quote,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side,
            "source": "",
            "state": _STATES.get(order.status, "canceled"),
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": _w(size),
            "tag": "",
            "tdMode": "cash" if spot else "cross",
            "tgtCcy": tgt,
            "tradeId": "",
            "uTime": str(order.updated_ms),
        }

    def _item(
        self,
        handler: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]],
        params: Mapping[str, Any],
        key: ApiKey,
    ) -> dict[str, Any]:
        ts = str(self.state.now_ms())
        try:
            result = handler(params, key)
        except ItemError as err:
            return {
                "clOrdId": _text(params.get("clOrdId")),
                "ordId": _text(params.get("ordId")),
                "tag": "",
                "ts": ts,
                "sCode": err.code,
                "sMsg": err.message,
                "subCode": err.sub_code,
            }
        return {**result, "ts": ts, "sCode": "0", "subCode": ""}

    def _single(
        self,
        handler: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]],
        params: Any,
        key: ApiKey,
    ) -> tuple[str, str, list[dict[str, Any]]]:
        if not isinstance(params, dict):
            raise OkxError("50002", "JSON syntax error")
        item = self._item(handler, params, key)
        if item["sCode"] != "0":
            return "1", "All operations failed", [item]
        return "0", "", [item]

    def _ids(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        order_id = _text(params.get("ordId")) or None
        client_id = _text(params.get("clOrdId")) or None
        if order_id is None and client_id is None:
            raise OkxError("50015", "Either parameter ordId or clOrdId is required.")
        if order_id is not None:
            # An id never issued here cannot match any order.
            return {"order_id": self._engine_ids.get(order_id, f"unknown:{order_id}")}
        return {"order_id": None, "client_order_id": client_id}

    def _place(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        spot = inst.ct_val is None
        td_mode = _text(params.get("tdMode"))
        if not td_mode:
            raise OkxError("50014", "Parameter tdMode can not be empty.")
        if td_mode not in (("cash",) if spot else ("cross", "isolated")):
            raise ItemError("51000", "Parameter tdMode error")
        side = _text(params.get("side"))
        if side not in ("buy", "sell"):
            raise ItemError("51000", "Parameter side error")
        mapped = _ORD_TYPES.get(_text(params.get("ordType")))
        if mapped is None:
            raise ItemError("51000", "Parameter ordType error")
        order_type, tif = mapped
        size = self._decimal(params, "sz")
        if size is None:
            raise OkxError("50014", "Parameter sz can not be empty.")
        price = self._decimal(params, "px") if order_type == "limit" else None
        if order_type == "limit" and price is None:
            raise OkxError("50014", "Parameter px can not be empty.")
        client_id = _text(params.get("clOrdId")) or None
        if client_id is not None and not _CL_ORD_ID.match(client_id):
            raise ItemError("51000", "Parameter clOrdId error")
        if _text(params.get("posSide")) not in ("", "net"):
            raise ItemError("51000", "Parameter posSide error")
        tgt = _text(params.get("tgtCcy"))
        # tgtCcy matters only for spot market orders; elsewhere it is ignored (ccxt sends it on
        # every spot order), but a value outside the documented two is refused.
        if tgt not in ("", "base_ccy", "quote_ccy"):
            raise ItemError("51000", "Parameter tgtCcy error")
        # Spot market buys spend the quote currency unless tgtCcy says base (OKX's default).
        quote_qty = spot and order_type == "market" and side == "buy" and tgt != "base_ccy"
        reduce_only = params.get("reduceOnly") in (True, "true")
        qty = size if quote_qty else inst.to_engine(size)
        try:
            order = self.engine.place_order(
                key.uid,
                inst.spec.symbol,
                side,
                order_type,
                qty,
                price=price,
                time_in_force=tif,
                reduce_only=reduce_only,
                client_order_id=client_id,
                quote_qty=quote_qty,
                category=inst.spec.category,
                # OKX accepts these and cancels them at once (state canceled, cancelSource).
                kill_unfillable=True,
            )
        except EngineError as err:
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "tag": "",
            "sMsg": "Order placed",
        }

    def trade_order(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/order``."""
        return self._single(self._place, params, key)

    def _amend(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        ids = self._ids(params)
        size, price = self._decimal(params, "newSz"), self._decimal(params, "newPx")
        if size is None and price is None:
            raise OkxError("50015", "Either parameter newSz or newPx is required.")
        try:
            order = self.engine.amend_order(
                key.uid,
                inst.spec.symbol,
                **ids,
                qty=None if size is None else inst.to_engine(size),
                price=price,
                category=inst.spec.category,
            )
        except EngineError as err:
            if err.kind in ("order_not_found", "order_closed"):
                raise ItemError(
                    "51503", "Your order has already been filled or canceled."
                ) from None
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "reqId": _text(params.get("reqId")),
            "sMsg": "",
        }

    def trade_amend(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/amend-order`` (``newSz`` counts the filled part too)."""
        return self._single(self._amend, params, key)

    def _cancel(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        try:
            order = self.engine.cancel_order(
                key.uid, inst.spec.symbol, **self._ids(params), category=inst.spec.category
            )
        except EngineError as err:
            if err.kind in ("order_not_found", "order_closed"):
                raise ItemError(
                    "51400",
                    "Order cancellation failed as the order has been filled, canceled or does "
                    "not exist.",
                ) from None
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "sMsg": "",
        }

    def trade_cancel(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/cancel-order``."""
        return self._single(self._cancel, params, key)

    def trade_cancel_batch(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/cancel-batch-orders``: up to 20 orders, each with its sCode."""
        return self._batch(self._cancel, params, key)

    def trade_batch_orders(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/batch-orders``: up to 20 orders placed one by one, each sCode.

        "Place multiple orders" (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-multiple-orders):
        an array of the single order's parameters; ccxt places every order through it.
        """
        return self._batch(self._place, params, key)

    def _batch(
        self, action: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]], params: Any,
        key: ApiKey,
    ) -> tuple[str, str, list[dict[str, Any]]]:  # fmt: skip
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            raise OkxError("50002", "JSON syntax error")
        if not 1 <= len(params) <= 20:
            raise OkxError("51000", "Parameter data error: 1 to 20 orders per request")
        items = [self._item(action, p, key) for p in params]
        failed = sum(1 for i in items if i["sCode"] != "0")
        if failed == 0:
            return "0", "", items
        if failed == len(items):
            return "1", "All operations failed", items
        return "2", "Bulk operation partially succeeded.", items

    def trade_order_details(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``GET /api/v5/trade/order``: 51603 when there is no such order."""
        inst = self._inst(params)
        ids = self._ids(params)
        try:
            order = self.engine.get_order(key.uid, **ids)
        except EngineError:
            order = None
        if order is None or self._of(order) is not inst:
            raise OkxError("51603", "Order does not exist")
        return [self._order_json(order)]

    def _page(self, items: list[dict[str, Any]], params: Mapping[str, Any], field: str) -> Any:
        limit = self._limit(params, 100, 100)
        after, before = _text(params.get("after")), _text(params.get("before"))
        ids = [i[field] for i in items]
        if after:
            items = items[ids.index(after) + 1 :] if after in ids else []
        elif before:
            items = items[: ids.index(before)] if before in ids else []
        return items[:limit]

    def _window(self, items: list[Any], params: Mapping[str, Any], stamp: str) -> list[Any]:
        begin, end = self._ms(params, "begin"), self._ms(params, "end")
        return [
            i
            for i in items
            if (begin is None or int(i[stamp]) >= begin) and (end is None or int(i[stamp]) <= end)
        ]

    def _order_list(self, orders: list[OrderView], params: Mapping[str, Any]) -> list[Any]:
        chosen = {i.inst_id for i in self._selected(params, type_required=False)}
        items = [self._order_json(o) for o in orders if self._of(o).inst_id in chosen]
        state = _text(params.get("state"))
        order_type = _text(params.get("ordType"))
        return [
            i
            for i in items
            if (not state or i["state"] == state) and (not order_type or i["ordType"] == order_type)
        ]

    def trade_orders_pending(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/orders-pending``, newest first, ``after``/``before`` by ``ordId``."""
        items = self._order_list(self.engine.open_orders(key.uid), params)
        return self._page(items, params, "ordId")

    def trade_orders_history(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/orders-history`` (``instType`` required), newest first."""
        self._types(params, required=True)
        items = self._order_list(self.engine.closed_orders(key.uid), params)
        return self._page(self._window(items, params, "cTime"), params, "ordId")

    def trade_fills_history(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/fills-history`` (3 months; ``instType`` required), like ``fills``.

        "Get transaction details (last 3 months)",
        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-transaction-details-last-3-months;
        the emulator keeps every fill since its reset, so both answer the same fills.
        """
        return self._fills(params, key, type_required=True)

    def trade_fills(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/fills``, newest first, ``after``/``before`` by ``billId``."""
        return self._fills(params, key, type_required=False)

    def _fills(self, params: Mapping[str, Any], key: ApiKey, *, type_required: bool) -> Any:
        chosen = {i.inst_id for i in self._selected(params, type_required=type_required)}
        order_id = _text(params.get("ordId"))
        engine_id = self._engine_ids.get(order_id) if order_id else None
        items = []
        for f in self.engine.fills(key.uid):
            inst = self._of(f)
            if inst.inst_id not in chosen or (order_id and f.order_id != engine_id):
                continue
            items.append(
                {
                    "instType": inst.inst_type,
                    "instId": inst.inst_id,
                    "tradeId": _numeric(f.exec_id),
                    "ordId": self._ord_id(f.order_id),
                    "clOrdId": f.client_order_id or "",
                    "billId": _numeric(f.exec_id),
                    "subType": "1" if f.side == "buy" else "2",
                    "tag": "",
                    "side": f.side,
                    "posSide": "" if inst.ct_val is None else "net",
                    "fillPx": _w(f.price),
                    "fillSz": _w(inst.from_engine(f.qty)),
                    "fillIdxPx": "",
                    "fillPnl": "0",
                    "fillPxVol": "",
                    "fillPxUsd": "",
                    "fillMarkVol": "",
                    "fillFwdPx": "",
                    "fillMarkPx": "",
                    "execType": "M" if f.is_maker else "T",
                    "feeCcy": f.fee_currency,
                    "fee": _w(-f.fee) if f.fee else "0",
                    "ts": str(f.time_ms),
                    "fillTime": str(f.time_ms),
                }
            )
        return self._page(self._window(items, params, "ts"), params, "billId")
