"""The emulator's HTTP server: an exchange front-end over the shared state, faults, admin API.

The server is exchange-agnostic: it parses nothing of an exchange's API. It hands each request
(raw request line, raw body bytes, headers, peer address) to the exchange's front-end, injects
faults around it, and serves ``/_emulator/`` admin endpoints to loopback callers that are not
web pages (see ``Server``). A failure inside a front-end is logged and answered as a JSON 500.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import attrs
from aiohttp import web

from exchanges.emulator.engine import Engine, EngineError, InstrumentSpec, OrderView
from exchanges.emulator.faults import AFTER_KINDS, FaultInjector, FaultRule, parse_faults
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey, KeyStore
from exchanges.emulator.limits import WindowCounter
from exchanges.errors import NotSupported

__all__ = [
    "DEFAULT_BALANCES",
    "DEFAULT_UID",
    "TOKEN_HEADER",
    "AdminError",
    "EmulatorState",
    "FrontEnd",
    "Incoming",
    "Outgoing",
    "Server",
    "front_end_class",
]

DEFAULT_UID = 1001
DEFAULT_BALANCES: Mapping[str, Decimal] = {
    "USDT": Decimal("100000"),
    "BTC": Decimal("2"),
    "ETH": Decimal("20"),
    "SOL": Decimal("200"),
}

_FRONT_ENDS = {
    "bybit": "adapters.bybit.emulator:BybitFrontEnd",
    "binance": "adapters.binance.emulator:BinanceFrontEnd",
    "okx": "adapters.okx.emulator:OkxFrontEnd",
}

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
#: The header that carries the admin token when the server has one.
TOKEN_HEADER = "X-Emulator-Token"

log = logging.getLogger("exchanges.emulator")


@attrs.frozen
class Incoming:
    """A request as received: raw path and query string, raw body bytes, headers, peer IP."""

    method: str
    path: str
    query: str
    body: bytes
    headers: Mapping[str, str]
    remote: str


@attrs.frozen
class Outgoing:
    """A response to send."""

    status: int
    body: bytes
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content_type: str = "application/json"


class FrontEnd(Protocol):
    """What an exchange front-end provides to the server."""

    name: str

    def handle(self, request: Incoming) -> Outgoing | None:
        """Answer a request of the exchange's API, or None if the path is not one."""
        ...

    def fault_response(self, kind: str, request: Incoming) -> Outgoing:
        """The exchange's own envelope for ``server_error`` and ``rate_limit`` faults."""
        ...


def front_end_class(exchange: str) -> Callable[[EmulatorState], FrontEnd]:
    """The front-end class of an exchange (imported on demand)."""
    target = _FRONT_ENDS.get(exchange)
    if target is None:
        raise NotSupported(
            f"no emulator front-end for {exchange!r}",
            exchange=exchange,
            hint=f"The emulator speaks {', '.join(_FRONT_ENDS)}.",
        )
    module, _, name = target.partition(":")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("adapters."):
            raise
        raise NotSupported(
            f"the {exchange} emulator front-end is not available in this version",
            exchange=exchange,
        ) from None
    cls: Callable[[EmulatorState], FrontEnd] = getattr(loaded, name)
    return cls


class EmulatorState:
    """Everything the emulator knows; one lock serialises every change to it."""

    def __init__(
        self,
        *,
        seed: int = 0,
        instruments: list[InstrumentSpec] | None = None,
        ip_limit: bool = True,
        wall_ms: Callable[[], int] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.clock_offset_ms = 0
        # Injectable so recordings can run on a frozen clock.
        self._wall_ms = wall_ms or (lambda: time.time_ns() // 1_000_000)
        self.engine = Engine(instruments=instruments, seed=seed, now_ms=self.now_ms)
        self.keys = KeyStore()
        self.faults = FaultInjector(seed)
        self.limits = WindowCounter()
        self.ip_limit = ip_limit
        self.requests = 0
        self.started_ms = self.now_ms()

    def now_ms(self) -> int:
        """The emulator's clock: wall time plus the configured offset."""
        return self._wall_ms() + self.clock_offset_ms

    def add_key(self, key: ApiKey, balances: Mapping[str, Decimal] | None = None) -> None:
        """Register a key, creating its account (with ``balances``) if it is new."""
        with self.lock:
            if not self.engine.has_account(key.uid):
                self.engine.create_account(key.uid, dict(balances or DEFAULT_BALANCES))
            elif balances:
                for coin, amount in balances.items():
                    self.engine.deposit(key.uid, coin, Decimal(amount))
            if not key.created_at:
                key = attrs.evolve(key, created_at=self.now_ms())
            self.keys.add(key)

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial state, keeping keys (and re-creating their accounts)."""
        with self.lock:
            if seed is not None:
                self.seed = seed
            self.engine.reset(self.seed)
            self.limits.reset()
            self.faults.clear()
            self.clock_offset_ms = 0
            for key in self.keys.all():
                if not self.engine.has_account(key.uid):
                    self.engine.create_account(key.uid, dict(DEFAULT_BALANCES))

    def stats(self) -> dict[str, Any]:
        """Counts for tests and reports: requests, faults injected, most requests per window."""
        return {
            "requests": self.requests,
            "faults_injected": dict(self.faults.injected),
            "max_in_window": dict(self.limits.max_in_window),
            "max_arrivals_in_window": dict(self.limits.max_arrivals),
            "rate_limited": dict(self.limits.rejected),
            "clock_offset_ms": self.clock_offset_ms,
        }


def order_json(order: OrderView) -> dict[str, Any]:
    """An engine order as plain JSON (Decimals as strings)."""
    out: dict[str, Any] = {}
    for field, value in attrs.asdict(order).items():
        out[field] = str(value) if isinstance(value, Decimal) else value
    return out


def _html(status: int, title: str) -> bytes:
    return (
        f"<html><head><title>{status} {title}</title></head><body><center><h1>{status} "
        f"{title}</h1></center><hr><center>emulator</center></body></html>"
    ).encode()


_HTML_TITLES = {
    403: "Forbidden",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


@web.middleware
async def _internal_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """A failure inside the emulator: logged with its traceback, answered as a JSON 500."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            raise  # the WebSocket may be open already: no HTTP answer can follow
        # The path only: a query can carry a signature.
        log.exception("emulator: %s %s failed", request.method, request.path)
        return web.json_response(
            {
                "error": f"internal emulator error ({type(exc).__name__}): a bug in the emulator",
                "hint": "the traceback is in the emulator's log (logger 'exchanges.emulator')",
            },
            status=500,
        )
    return response


class Server:
    """Runs one exchange front-end on aiohttp, in the current or a background thread.

    The admin API (``/_emulator/``) answers only what a web page in the user's browser cannot
    send: a loopback peer, a loopback ``Host`` (no DNS rebinding), no foreign ``Origin``, JSON
    content for anything that writes, and, when ``admin_token`` is set, that token in the
    ``X-Emulator-Token`` header.
    """

    def __init__(
        self,
        exchange: str,
        state: EmulatorState,
        *,
        host: str = "127.0.0.1",
        admin_token: str | None = None,
    ) -> None:
        if admin_token is not None and not _header_safe(admin_token):
            raise ValueError("admin_token must be non-empty printable ASCII, without spaces")
        self.exchange = exchange
        self.state = state
        self.front = front_end_class(exchange)(state)
        self.host = host
        self.admin_token = admin_token
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._extra_routes: list[Callable[[web.Application], None]] = []

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        return f"http://{self.host}:{self.port}"

    def application(self) -> web.Application:
        """The aiohttp application: admin routes, extra routes (WebSockets), then the API."""
        app = web.Application(client_max_size=1 << 20, middlewares=[_internal_errors])
        app.router.add_route("*", "/_emulator/{name:.*}", self._admin)
        for add in self._extra_routes:
            add(app)
        register = getattr(self.front, "register_routes", None)
        if register is not None:
            register(app)
        app.router.add_route("*", "/{tail:.*}", self._api)
        return app

    async def start(self, port: int = 0) -> None:
        """Bind and start serving."""
        self._runner = web.AppRunner(self.application(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port, reuse_address=True)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])

    async def stop(self) -> None:
        """Stop serving and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- the exchange's API ---------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        raw = request.raw_path
        path, _, query = raw.partition("?")
        body = await request.read()
        incoming = Incoming(
            request.method, path, query, body, request.headers, request.remote or ""
        )
        state = self.state
        state.requests += 1
        rule = state.faults.choose(request.method, path)
        if rule is not None and rule.kind == "latency":
            await asyncio.sleep((rule.param or 500) / 1000)
            rule = None
        if rule is not None and rule.kind not in AFTER_KINDS:
            return self._before(rule, incoming, request)
        with state.lock:
            out = self.front.handle(incoming)
        if out is None:
            out = Outgoing(404, _html(404, "Not Found"), content_type="text/html")
        if rule is not None:
            return self._after(rule, incoming, request, out)
        return self._response(out)

    def _response(self, out: Outgoing) -> web.Response:
        return web.Response(
            status=out.status, body=out.body, headers=out.headers, content_type=out.content_type
        )

    def _before(self, rule: FaultRule, incoming: Incoming, request: web.Request) -> web.Response:
        kind = rule.kind
        if kind == "drop_before":
            return self._drop(request)
        if kind == "http_5xx":
            status = rule.param or 502
            return web.Response(
                status=status,
                body=_html(status, _HTML_TITLES.get(status, "Error")),
                content_type="text/html",
            )
        if kind == "html_403":
            return web.Response(status=403, body=_html(403, "Forbidden"), content_type="text/html")
        if kind == "malformed":
            return web.Response(
                status=200, body=b"<html>maintenance</html>", content_type="text/html"
            )
        if kind == "empty":
            return web.Response(status=200, body=b"", content_type="application/json")
        with self.state.lock:
            return self._response(self.front.fault_response(kind, incoming))

    def _after(
        self, rule: FaultRule, incoming: Incoming, request: web.Request, out: Outgoing
    ) -> web.Response:
        kind = rule.kind
        if kind == "drop_after":
            return self._drop(request)
        if kind == "http_5xx_after":
            status = rule.param or 502
            return web.Response(
                status=status,
                body=_html(status, _HTML_TITLES.get(status, "Error")),
                content_type="text/html",
            )
        if kind == "truncated":
            return web.Response(
                status=out.status,
                body=out.body[: len(out.body) // 2],
                content_type=out.content_type,
            )
        with self.state.lock:
            return self._response(self.front.fault_response("server_error", incoming))

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=599)

    # -- admin ----------------------------------------------------------------------------

    async def _admin(self, request: web.Request) -> web.Response:
        refusal = self._guard(request)
        if refusal is not None:
            return refusal
        raw = await request.read()
        body: Any = dict(request.query) if request.method == "GET" and not raw else {}
        if raw:
            try:
                body = json_body(raw)
            except BadInput as exc:
                return _refusal(400, f"the body is refused: {exc}", _BODY_HINT)
        try:
            result = self.admin(request.method, request.match_info["name"], body)
        except AdminError as err:
            return _refusal(err.status, str(err), err.hint)
        return web.json_response(result)

    def _guard(self, request: web.Request) -> web.Response | None:
        """Why a web page, or any caller without the token, may not use the admin API."""
        if (request.remote or "") not in _LOOPBACK:
            return _refusal(
                403, "the admin API answers loopback peers only", "call it from this machine"
            )
        host = request.headers.get("Host", "")
        if not self._loopback_host(host):
            # A page whose own name was made to resolve to 127.0.0.1 (DNS rebinding) sends it.
            return _refusal(
                421,
                f"the admin API answers Host 127.0.0.1, localhost or [::1] only, not {host[:80]!r}",
                f"call http://127.0.0.1:{self.port}/_emulator/... directly, not through another "
                "name",
            )
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self._loopback_origins():
            # Browsers send Origin on every cross-site POST; programs and curl send none.
            return _refusal(
                403,
                f"the admin API refuses calls from web pages (Origin {origin[:80]!r})",
                "call it from a program, a test or curl, not from a browser",
            )
        if self.admin_token is not None:
            given = request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self.admin_token.encode()):
                return _refusal(
                    403,
                    f"the admin API needs this emulator's token in header {TOKEN_HEADER}",
                    f"send '{TOKEN_HEADER}: <token>' with the token printed when the emulator "
                    "started (or the one given with --admin-token)",
                )
        if (request.method != "GET" or request.body_exists) and (
            request.content_type != "application/json"
        ):
            # A page can POST text/plain or a form cross-site without asking; JSON it cannot.
            return _refusal(
                415,
                "admin calls that send a body or change something need "
                "'Content-Type: application/json'",
                "send the JSON body with that header, e.g. curl -H 'Content-Type: "
                "application/json' -d '{...}'",
            )
        return None

    def _loopback_host(self, host: str) -> bool:
        host = host.lower()
        if host.startswith("["):
            name, _, port = host[1:].partition("]")
            if port and not port.startswith(":"):
                return False
            port = port[1:]
            loopback = name == "::1"
        else:
            name, _, port = host.partition(":")
            loopback = name in ("127.0.0.1", "localhost")
        return loopback and port in ("", str(self.port))

    def _loopback_origins(self) -> set[str]:
        ports = [f":{self.port}"] + ([""] if self.port == 80 else [])
        names = ("127.0.0.1", "localhost", "[::1]")
        return {f"http://{name}{port}" for name in names for port in ports}

    def admin(self, method: str, name: str, body: Mapping[str, Any]) -> Any:
        """Serve one admin call (also used directly by ``Emulator``); AdminError when refused."""
        routes: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
            ("GET", "ledger"): self._ledger,
            ("GET", "faults"): self._faults,
            ("POST", "faults"): self._set_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "clock"): self._clock,
            ("POST", "clock"): self._set_clock,
            ("GET", "keys"): self._keys,
            ("POST", "keys"): self._add_key,
            ("POST", "reset"): self._reset,
            ("GET", "stats"): self._stats,
            ("GET", "balances"): self._balances,
        }
        route = routes.get((method, name))
        if route is None:
            known = ", ".join(f"{m} /_emulator/{n}" for m, n in routes)
            raise AdminError(
                f"no admin endpoint {method} /_emulator/{name}", 404, f"known: {known}"
            )
        example = _EXAMPLES.get((method, name), "")
        if not isinstance(body, Mapping):
            raise AdminError(
                f"the body must be a JSON object, not {type(body).__name__}", 400, example
            )
        with self.state.lock:
            try:
                return route(body)
            except AdminError as err:
                raise AdminError(str(err), err.status, err.hint or example) from None
            except ValueError as exc:
                raise AdminError(str(exc), 400, example) from None
            except EngineError as err:
                raise AdminError(err.message, 400, example) from None

    def _ledger(self, body: Mapping[str, Any]) -> Any:
        return [order_json(o) for o in self.state.engine.ledger()]

    def _faults(self, body: Mapping[str, Any]) -> Any:
        faults = self.state.faults
        return {"rules": [r.to_json() for r in faults.rules], "injected": dict(faults.injected)}

    def _set_faults(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"rules", "seed"})
        rules = body.get("rules", [])
        if isinstance(rules, str):
            parsed = parse_faults(rules)
        elif isinstance(rules, list):
            parsed = [FaultRule.from_json(rule) for rule in rules]
        else:
            raise AdminError(
                "rules must be a spec string or a list of rule objects",
                hint='e.g. {"rules": "latency:0.1=300@/v5/order/create"}',
            )
        self.state.faults.set(parsed, _whole(body, "seed"))
        return {"rules": [r.to_json() for r in self.state.faults.rules]}

    def _clear_faults(self, body: Mapping[str, Any]) -> Any:
        self.state.faults.clear()
        return {"rules": []}

    def _clock(self, body: Mapping[str, Any]) -> Any:
        return {"offset_ms": self.state.clock_offset_ms, "now_ms": self.state.now_ms()}

    def _set_clock(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"offset_ms"})
        offset = _whole(body, "offset_ms", required=True, low=-_MAX_OFFSET_MS, high=_MAX_OFFSET_MS)
        assert offset is not None
        self.state.clock_offset_ms = offset
        return {"offset_ms": offset}

    def _keys(self, body: Mapping[str, Any]) -> Any:
        return [
            {
                "api_key": k.api_key,
                "uid": k.uid,
                "permissions": sorted(k.permissions),
                "ips": list(k.ips),
                "expires_at": k.expires_at,
            }
            for k in self.state.keys.all()
        ]

    def _add_key(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {*_KEY_TEXTS, *_KEY_LISTS, "uid", "expires_at", "created_at", "balances"})
        fields: dict[str, Any] = {}
        for name in _KEY_TEXTS:
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                raise AdminError(f"{name} must be a string")
            if value is not None:
                fields[name] = value
        if not fields.get("api_key"):
            raise AdminError("api_key is required", hint=_KEY_HINT)
        for name in _KEY_LISTS:
            value = body.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AdminError(f"{name} must be a list of strings", hint=_KEY_HINT)
            fields[name] = value
        if "permissions" not in body:
            del fields["permissions"]
        uid = _whole(body, "uid", low=1)
        fields["uid"] = DEFAULT_UID if uid is None else uid
        fields["expires_at"] = _whole(body, "expires_at", low=0, high=_MAX_STAMP_MS)
        fields["created_at"] = _whole(body, "created_at", low=0, high=_MAX_STAMP_MS) or 0
        if fields.get("public_key") is not None:
            _check_public_key(fields["public_key"])
        balances = _balances(body.get("balances"))
        self.state.add_key(ApiKey(**fields), balances or None)
        return {"api_key": fields["api_key"], "uid": fields["uid"]}

    def _reset(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"seed"})
        self.state.reset(_whole(body, "seed"))
        return {"seed": self.state.seed}

    def _stats(self, body: Mapping[str, Any]) -> Any:
        return self.state.stats()

    def _balances(self, body: Mapping[str, Any]) -> Any:
        uid = _whole(body, "uid")
        return {
            c: {"total": str(b.total), "locked": str(b.locked), "free": str(b.free)}
            for c, b in self.state.engine.balances(DEFAULT_UID if uid is None else uid).items()
        }


class AdminError(ValueError):
    """A refused admin call: its HTTP status, what is wrong, and what to do instead."""

    def __init__(self, message: str, status: int = 400, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


_BODY_HINT = 'send a JSON object, e.g. {"offset_ms": 1000} to /_emulator/clock'
_KEY_HINT = (
    'e.g. {"api_key": "k", "secret": "s", "permissions": ["read", "spot_trade"], '
    '"balances": {"USDT": "1000"}}'
)
_EXAMPLES = {
    ("POST", "keys"): _KEY_HINT,
    ("POST", "faults"): 'e.g. {"rules": "latency:0.1@/v5/order/create=300", "seed": 1}',
    ("POST", "clock"): 'e.g. {"offset_ms": -1500}',
    ("POST", "reset"): 'e.g. {"seed": 7} or {}',
    ("GET", "balances"): "e.g. GET /_emulator/balances?uid=1001, a uid from GET /_emulator/keys",
}
_KEY_TEXTS = ("api_key", "secret", "public_key", "passphrase", "label", "environment")
_KEY_LISTS = ("permissions", "ips")
_MAX_OFFSET_MS = 10 * 365 * 86_400_000  # ten years: now_ms stays a positive, datable instant
_MAX_UID = 2**63 - 1
_MAX_STAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime has


def _header_safe(token: str) -> bool:
    return bool(token) and token.isascii() and token.isprintable() and " " not in token


def _refusal(status: int, error: str, hint: str = "") -> web.Response:
    body = {"error": error, "hint": hint} if hint else {"error": error}
    return web.json_response(body, status=status)


def _fields(body: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(body) - known
    if unknown:
        raise AdminError(f"unknown field(s) {sorted(unknown)[:10]}; known: {sorted(known)}")


def _whole(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    low: int = -_MAX_UID,
    high: int = _MAX_UID,
) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise AdminError(f"{name} is required (a whole number)")
        return None
    number = integer(value)
    if number is None or not low <= number <= high:
        raise AdminError(f"{name} must be a whole number from {low} to {high}")
    return number


def _balances(value: object) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AdminError('balances must be an object of coin -> amount, e.g. {"USDT": "1000"}')
    out: dict[str, Decimal] = {}
    for coin, amount in value.items():
        number = None
        if isinstance(amount, str | int | float) and not isinstance(amount, bool):
            try:
                number = Decimal(str(amount))
            except ArithmeticError:
                number = None
        # The engine keeps amounts of at most 18 integer digits (``to_amount``).
        if number is None or not number.is_finite() or number < 0 or number.adjusted() > 18:
            raise AdminError(
                f"the balance of {coin[:20]!r} must be a decimal amount >= 0 below 1e18, "
                "as a string"
            )
        out[coin] = number
    return out


def _check_public_key(pem: str) -> None:
    # Checked here: the front-ends load it on every signed request, where a bad PEM would fail.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_public_key(pem.encode("utf-8", "replace"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AdminError("public_key is not a PEM public key (RSA or Ed25519)") from None


def default_key(
    api_key: str = "test-key",
    secret: str | None = "test-secret",
    *,
    public_key: str | None = None,
    permissions: Iterable[str] | None = None,
    ips: Iterable[str] = (),
    uid: int = DEFAULT_UID,
) -> ApiKey:
    """The key an emulator starts with: obviously fake, trading scopes, no withdrawal."""
    scopes = (
        frozenset(permissions)
        if permissions is not None
        else frozenset({"read", "spot_trade", "derivatives_trade", "options_trade"})
    )
    return ApiKey(
        api_key=api_key,
        uid=uid,
        secret=None if public_key else secret,
        public_key=public_key,
        permissions=scopes,
        ips=tuple(ips),
    )
