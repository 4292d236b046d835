"""What every emulated exchange's WebSocket server shares, over aiohttp.

A server (``WebSocketServer``) keeps its open connections (``Connection``), a writer task per
connection that sends its queue in order, and a publisher task that every ``interval`` seconds
applies the tests' fault controls, checks the emulator's fault rules and asks the exchange's
side for what changed (``_poll``). The exchange's subclass answers frames (``_on_frame``),
builds its connection records (``_connect``), forgets a closed one (``_forget``) and may add
its own control kinds (``_control_kind``) and per-connection timers (``_liveness``).

Faults for tests, each for the connections whose path starts with ``path`` and applied on the
publisher's next tick (the calls are thread-safe): ``drop`` resets them, ``inject_gap`` skips
book updates, ``silence`` stops every frame; ``ReorderingServer`` adds ``duplicate`` and
``reorder``. A ``drop_before``/``drop_after`` rule of the emulator's ``FaultInjector`` under
one of the server's ``fault_prefixes`` resets connections (at the handshake and on every
tick); ``html_403`` answers the handshake with an HTML 403 and ``http_5xx`` with an HTML error
page (status ``param``, 502 by default), where the subclass lists them in ``stream_kinds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import weakref
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from aiohttp import WSMessage, WSMsgType, web

from exchanges.emulator.faults import FaultRule
from exchanges.emulator.server import EmulatorState

__all__ = [
    "DROP_KINDS",
    "Close",
    "Connection",
    "Ping",
    "ReorderingServer",
    "WebSocketServer",
    "dumps",
]

#: Fault rule kinds that reset a connection (at the handshake and on every publisher tick).
DROP_KINDS = frozenset({"drop_before", "drop_after"})


def dumps(value: Any) -> str:
    """Compact JSON text, as the exchanges send it."""
    return json.dumps(value, separators=(",", ":"))


class Close(NamedTuple):
    """A queued close frame: the writer sends it after what was queued before, then stops."""

    code: int
    reason: str


class Ping(NamedTuple):
    """A queued WebSocket ping frame."""

    data: bytes


#: What a connection's writer sends: a text frame, a ping, a close; None ends the writer.
Outgoing = str | Ping | Close


class Connection:
    """One client connection: its socket, its outgoing queue and the faults applied to it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.path = request.path
        self.queue: asyncio.Queue[Outgoing | None] = asyncio.Queue()
        #: Book updates still to skip, to send twice, to hold back (``inject_gap`` and co.).
        self.gaps = 0
        self.duplicates = 0
        self.reorders = 0
        #: A book update held back, to be sent after the next one.
        self.held: str | None = None
        self.silent_until = 0.0

    @property
    def silent(self) -> bool:
        """True while a ``silence`` fault holds this connection's frames."""
        return time.monotonic() < self.silent_until

    def send(self, frame: Any) -> bool:
        """Queue a text frame (JSON unless already text); False, and nothing sent, if silenced."""
        if self.silent:
            return False
        self.queue.put_nowait(frame if isinstance(frame, str) else dumps(frame))
        return True

    def ping(self, data: bytes) -> None:
        """Queue a ping frame (nothing while silenced)."""
        if not self.silent:
            self.queue.put_nowait(Ping(data))

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued (a close frame goes out even while silenced)."""
        self.queue.put_nowait(Close(code, reason))

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (a dropped network)."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


C = TypeVar("C", bound=Connection)
S = TypeVar("S", bound="WebSocketServer[Any]")


class WebSocketServer(Generic[C]):
    """An emulated exchange's WebSocket endpoints: connections, writers, publisher, faults."""

    #: Rules of the emulator's FaultInjector act on streams only under these paths.
    fault_prefixes: ClassVar[tuple[str, ...]] = ("/",)
    #: The fault rule kinds the stream endpoints act on.
    stream_kinds: ClassVar[frozenset[str]] = frozenset({*DROP_KINDS, "html_403"})
    #: False where the exchange's side answers (and counts) WebSocket pings itself.
    autoping: ClassVar[bool] = True
    #: The answer to a plain HTTP request on a stream path.
    not_websocket: ClassVar[str] = "WebSocket only"
    #: What ``serving`` says for an emulator without this server.
    missing: ClassVar[str] = "this emulator serves no such WebSockets"
    log: ClassVar[logging.Logger] = logging.getLogger("exchanges.emulator.ws")
    _registry: ClassVar[weakref.WeakKeyDictionary[EmulatorState, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._registry = weakref.WeakKeyDictionary()

    def __init__(self, state: EmulatorState, *, interval: float = 0.05) -> None:
        self.state = state
        self.interval = interval
        self._conns: set[C] = set()
        self._controls: list[tuple[str, str, float]] = []
        self._controls_lock = threading.Lock()
        self._ticker: asyncio.Task[None] | None = None
        #: Seconds every frame waits before it is sent, like a network's latency. Clients that
        #: race their own bookkeeping against the answer (registering a subscription after
        #: sending it) need some, as they have on a real network.
        self.latency = 0.0
        #: Counters for tests; the exchange's side adds its own.
        self.stats: dict[str, int] = dict.fromkeys(
            ("connections", "drops", "gaps_injected", "subscribes"), 0
        )
        type(self)._registry[state] = self

    @classmethod
    def serving(cls: type[S], state: EmulatorState) -> S:
        """The server of this kind serving ``state`` (an ``Emulator``'s ``.state``)."""
        server = cls._registry.get(state)
        if server is None:
            raise LookupError(cls.missing)
        assert isinstance(server, cls)
        return server

    def add_lifecycle(self, app: web.Application) -> None:
        """Start the publisher with ``app`` and stop it, closing every connection, at its end."""
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._shutdown)

    # -- fault controls (thread-safe: applied by the publisher on its next tick) -------------

    def _control(self, kind: str, path: str, value: float = 0) -> None:
        with self._controls_lock:
            self._controls.append((kind, path, value))

    def drop(self, path: str = "/") -> None:
        """Reset every connection under ``path``."""
        self._control("drop", path)

    def inject_gap(self, path: str = "/", count: int = 1) -> None:
        """Skip the next ``count`` book updates to each connection under ``path``."""
        self._control("gap", path, count)

    def silence(self, path: str = "/", seconds: float = 3600.0) -> None:
        """Send nothing (no data, no answers, no pings or pongs) under ``path`` for ``seconds``."""
        self._control("silence", path, seconds)

    def connections(self, path: str = "/") -> int:
        """How many connections under ``path`` are open."""
        return sum(1 for conn in list(self._conns) if conn.path.startswith(path))

    def _apply_controls(self) -> None:
        with self._controls_lock:
            controls, self._controls = self._controls, []
        for kind, path, value in controls:
            for conn in list(self._conns):
                if not conn.path.startswith(path):
                    continue
                if kind == "drop":
                    self.stats["drops"] += 1
                    conn.abort()
                elif kind == "gap":
                    conn.gaps += int(value)
                elif kind == "duplicate":
                    conn.duplicates += int(value)
                elif kind == "reorder":
                    conn.reorders += int(value)
                elif kind == "silence":
                    conn.silent_until = time.monotonic() + value
                else:
                    self._control_kind(conn, kind, value)

    def _control_kind(self, conn: C, kind: str, value: float) -> None:
        """Apply a control kind of the exchange's own (a shutdown notice, say) to ``conn``."""

    def _skip_gap(self, conn: C) -> bool:
        """True (and one gap used) if ``conn`` is to miss this book update."""
        if conn.gaps <= 0:
            return False
        conn.gaps -= 1
        self.stats["gaps_injected"] += 1
        return True

    def _stream_fault(self, path: str, kinds: frozenset[str] | None = None) -> FaultRule | None:
        kinds = self.stream_kinds if kinds is None else kinds
        faults = self.state.faults
        prefixes = self.fault_prefixes
        if not any(r.kind in kinds and r.path.startswith(prefixes) for r in faults.rules):
            return None
        rule = faults.choose("GET", path)
        return rule if rule is not None and rule.kind in kinds else None

    def _drop_fault(self, path: str) -> bool:
        return self._stream_fault(path, DROP_KINDS) is not None

    # -- lifecycle ------------------------------------------------------------------------------

    async def _start(self, app: web.Application) -> None:
        self._ticker = asyncio.get_running_loop().create_task(self._publish())

    async def _shutdown(self, app: web.Application) -> None:
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        for conn in list(self._conns):
            await conn.ws.close(code=1001, message=b"server shutdown")

    def _handshake_refusal(self, request: web.Request) -> web.StreamResponse | None:
        """The answer to a handshake a fault rule refuses, or None to accept it."""
        rule = self._stream_fault(request.path)
        if rule is None:
            return None
        if rule.kind in DROP_KINDS:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=599)
        if rule.kind == "html_403":
            # What a WAF or a geo-block answers the handshake with.
            return web.Response(
                status=403, text="<html><body>403 Forbidden</body></html>", content_type="text/html"
            )
        if rule.kind == "http_5xx":  # a gateway in front, not the exchange
            status = rule.param or 502
            page = f"<html><body><h1>{status}</h1>upstream unavailable</body></html>"
            return web.Response(status=status, text=page, content_type="text/html")
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=self.autoping, max_msg_size=1 << 20)
        if not ws.can_prepare(request).ok:
            return await self._plain_http(request)
        refused = self._handshake_refusal(request)
        if refused is not None:
            return refused
        await ws.prepare(request)
        conn = self._connect(ws, request)
        self.stats["connections"] += 1
        with self.state.lock:
            self._opened(conn)
        self._conns.add(conn)
        writer = asyncio.get_running_loop().create_task(self._write(conn))
        try:
            async for message in ws:
                if not await self._on_message(conn, message):
                    break
        finally:
            self._conns.discard(conn)
            with self.state.lock:
                self._forget(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws

    async def _plain_http(self, request: web.Request) -> web.StreamResponse:
        """The answer to a plain HTTP request on a stream path."""
        return web.Response(status=400, text=self.not_websocket)

    async def _on_message(self, conn: C, message: WSMessage) -> bool:
        """Handle one incoming message; False closes the connection's read loop."""
        if message.type is WSMsgType.TEXT:
            with self.state.lock:
                self._on_frame(conn, message.data)
        return True

    async def _write(self, conn: C) -> None:
        while True:
            item = await conn.queue.get()
            if item is None:
                return
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            try:
                if isinstance(item, str):
                    await conn.ws.send_str(item)
                elif isinstance(item, Ping):
                    await conn.ws.ping(item.data)
                else:
                    await conn.ws.close(code=item.code, message=item.reason.encode())
                    return
            except (ConnectionError, RuntimeError):
                return

    # -- what the exchange's side adds ------------------------------------------------------

    def _connect(self, ws: web.WebSocketResponse, request: web.Request) -> C:
        """The record of a new connection."""
        raise NotImplementedError

    def _opened(self, conn: C) -> None:
        """Set up a new connection (under the state's lock), before it is served."""

    def _on_frame(self, conn: C, text: str) -> None:
        """Answer one text frame (under the state's lock)."""
        raise NotImplementedError

    def _forget(self, conn: C) -> None:
        """Drop a closed connection's subscriptions (under the state's lock)."""
        raise NotImplementedError

    def _liveness(self, conn: C) -> None:
        """Per-tick timers of one connection (server pings, idle closes) not dropped this tick."""

    def _poll(self) -> None:
        """Send what changed since the last tick."""
        raise NotImplementedError

    # -- publishing -----------------------------------------------------------------------------

    async def _publish(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self._tick()
            except Exception:
                # The publisher must outlive a bad tick; the next one diffs from where it was.
                self.log.exception("the WebSocket publisher failed a tick")

    def _tick(self) -> None:
        self._apply_controls()
        for conn in list(self._conns):
            if self._drop_fault(conn.path):
                self.stats["drops"] += 1
                conn.abort()
            else:
                self._liveness(conn)
        self._poll()


class ReorderingServer(WebSocketServer[C]):
    """A server whose tests may also repeat and reorder book updates."""

    def duplicate(self, path: str = "/", count: int = 1) -> None:
        """Send each of the next ``count`` book updates to connections under ``path`` twice."""
        self._control("duplicate", path, count)

    def reorder(self, path: str = "/", count: int = 1) -> None:
        """Hold each of the next ``count`` book updates back and send it after the next one."""
        self._control("reorder", path, count)
