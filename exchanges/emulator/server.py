"""The emulator's HTTP server: an exchange front-end over the shared state, with faults.

The server is exchange-agnostic: it parses nothing of an exchange's API. It hands each request
(raw request line, raw body bytes, headers, peer address) to the exchange's front-end, injects
faults around it, and mounts the ``/_emulator/`` admin API (``exchanges.emulator.admin``). A
failure inside a front-end is logged and answered as a JSON 500.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import attrs
from aiohttp import web

from exchanges.emulator.admin import TOKEN_HEADER, AdminApi, AdminError
from exchanges.emulator.engine import Engine, InstrumentSpec
from exchanges.emulator.faults import AFTER_KINDS, FaultInjector, FaultRule
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

    def add_key(
        self,
        key: ApiKey,
        balances: Mapping[str, Decimal] | None = None,
        *,
        wallet: str | None = None,
    ) -> None:
        """Register a key, creating its account (with ``balances``) if it is new.

        A new account's wallets all start with ``balances`` (or ``DEFAULT_BALANCES``), unless
        ``wallet`` names the one that gets them (the others then get the defaults). For a
        known account, ``balances`` are deposited into ``wallet`` (None: the main one).
        """
        with self.lock:
            if not self.engine.has_account(key.uid):
                seed = dict(balances or DEFAULT_BALANCES)
                own = {wallet: seed} if wallet is not None else None
                self.engine.create_account(key.uid, seed if own is None else DEFAULT_BALANCES, own)
            elif balances:
                for coin, amount in balances.items():
                    self.engine.deposit(key.uid, coin, Decimal(amount), wallet=wallet)
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

    It mounts the admin API (``/_emulator/``, ``exchanges.emulator.admin``), which answers only
    what a web page in the user's browser cannot send and, when ``admin_token`` is set, only
    callers that send that token in the ``X-Emulator-Token`` header.
    """

    def __init__(
        self,
        exchange: str,
        state: EmulatorState,
        *,
        host: str = "127.0.0.1",
        admin_token: str | None = None,
    ) -> None:
        self._admin = AdminApi(
            state, token=admin_token, port=lambda: self.port, default_uid=DEFAULT_UID
        )
        self.exchange = exchange
        self.state = state
        self.front = front_end_class(exchange)(state)
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._extra_routes: list[Callable[[web.Application], None]] = []

    @property
    def admin_token(self) -> str | None:
        """The token admin calls over HTTP must carry, or None."""
        return self._admin.token

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started."""
        return f"http://{self.host}:{self.port}"

    def application(self) -> web.Application:
        """The aiohttp application: admin routes, extra routes (WebSockets), then the API."""
        app = web.Application(client_max_size=1 << 20, middlewares=[_internal_errors])
        app.router.add_route("*", "/_emulator/{name:.*}", self._admin.handle)
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
            if rule.kind == "latency_after":
                await asyncio.sleep((rule.param or 500) / 1000)
                return self._response(out)
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

    def admin(self, method: str, name: str, body: Mapping[str, Any]) -> Any:
        """Serve one admin call (also used directly by ``Emulator``); AdminError when refused."""
        return self._admin.call(method, name, body)


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
