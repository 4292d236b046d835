"""The emulator's Binance WebSockets: market streams, USD-M user data, the spot WebSocket API.

Endpoints (one host, as the emulator serves REST; Binance's own hosts in brackets):

* spot streams (``stream.binance.com``): ``/ws``, ``/ws/<s1>/<s2>`` (raw frames) and
  ``/stream?streams=<s1>/<s2>`` (``{"stream","data"}``), "WebSocket Streams",
  https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams;
* USD-M streams (``fstream.binance.com``) split by kind since 2026-04-23 ("Important WebSocket
  Change Notice", https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Important-WebSocket-Change-Notice):
  ``/public/{ws,stream}`` (books, book tickers), ``/market/{ws,stream}`` (the rest),
  ``/private/{ws,stream}?listenKey=<k>&events=<E1>/<E2>`` (user data; ``events`` is an
  allow-list, every event without it). A stream subscribed on the wrong path is acked and never
  sends, as is an unknown stream name;
* the spot WebSocket API (``ws-api.binance.com``): ``/ws-api/v3`` (``ping``,
  ``userDataStream.subscribe.signature``, ``userDataStream.unsubscribe``,
  ``session.subscriptions``), https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api.

Control frames: ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS``/``SET_PROPERTY``/
``GET_PROPERTY`` answered ``{"result":…,"id":…}``; errors ``{"code":0..3,"msg":…}`` (unknown
property, invalid value type, invalid request, invalid JSON), some without ``id``. The server
pings every ``ping_interval`` (spot 20 s, USD-M 3 min) and closes a connection that has not
ponged within ``pong_timeout`` (1 min, 10 min); more than 5 (spot) or 10 (USD-M) incoming
frames a second, pings and pongs included, close it with 1008; ``max_lifetime`` (24 h) closes
it. All timers are attributes, so tests can shrink them.

Faults, for tests (``sockets_of(emulator.state)``), each for connections whose path starts with
``path``: ``drop``, ``silence``, ``inject_gap`` (depth events not sent), ``duplicate`` (a depth
event sent twice), ``reorder`` (a depth event held back and sent after the next),
``shutdown`` (``serverShutdown`` then a close), ``expire_listen_keys``; and the emulator's
``FaultInjector`` rules ``drop_before``/``drop_after`` (handshake and every tick),
``html_403`` (the handshake refused) and ``http_5xx`` (the handshake answered with an HTML error
page, status ``param``, 502 by default) on these paths (a rule's path must start with one of
them, e.g. ``/private/``, not ``/private``).
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections import deque
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import WSMessage, WSMsgType, web

from adapters.binance.emulator_base import BinanceError
from adapters.binance.emulator_ws_topics import Topic, make_topic, stream_kind
from exchanges.emulator.inputs import BadInput, json_body
from exchanges.emulator.server import EmulatorState
from exchanges.emulator.ws_server import DROP_KINDS, Connection, ReorderingServer, dumps

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd

__all__ = ["BinanceWebSockets", "sockets_of"]

log = logging.getLogger("exchanges.emulator.binance.ws")

_METHODS = "SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY"
_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_MAX_STREAMS = 1024


def sockets_of(state: EmulatorState) -> BinanceWebSockets:
    """The WebSocket front-end serving ``state`` (an ``Emulator``'s ``.state``)."""
    return BinanceWebSockets.serving(state)


class _Conn(Connection):
    """One client connection: its kind, streams, timers and user data besides the shared record."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        super().__init__(ws, request)
        head = self.path.split("/")[1]
        #: "spot", "public", "market", "private" (USD-M kinds) or "api" (spot WS API).
        self.kind = {"ws": "spot", "stream": "spot", "ws-api": "api"}.get(head, head)
        self.category = "spot" if self.kind in ("spot", "api") else "linear"
        self.combined = self.path.endswith("/stream") or "/stream/" in self.path
        self.streams: set[str] = set()
        self.opened = time.monotonic()
        self.last_ping = self.opened
        #: When the oldest ping still unanswered was sent (None: all answered).
        self.unanswered: float | None = None
        self.arrivals: deque[float] = deque()
        self.listen_key: str | None = None
        self.events: set[str] | None = None
        self.subscriptions: dict[int, int] = {}  # WS API: subscription id -> uid
        self.next_subscription = itertools.count()


class BinanceWebSockets(ReorderingServer[_Conn]):
    """Binance's WebSocket endpoints over the emulator's state."""

    fault_prefixes = ("/ws", "/stream", "/public/", "/market/", "/private/", "/ws-api/")
    stream_kinds = frozenset({*DROP_KINDS, "html_403", "http_5xx"})
    # Binance answers pings itself here: the pongs the client sends are counted by hand.
    autoping = False
    not_websocket = "not a WebSocket request"
    missing = "this emulator serves no Binance WebSockets (is it a binance one?)"
    log: ClassVar[logging.Logger] = log

    def __init__(self, front: BinanceFrontEnd, *, interval: float = 0.05) -> None:
        super().__init__(front.state, interval=interval)
        self.front = front
        self.user = front.user_data
        self._topics: dict[tuple[str, str], Topic] = {}
        #: Timers per kind of endpoint, in seconds (Binance's documented values).
        self.ping_interval = {"spot": 20.0, "api": 20.0, "usdm": 180.0}
        self.pong_timeout = {"spot": 60.0, "api": 60.0, "usdm": 600.0}
        self.max_rate = {"spot": 5, "api": 1000, "usdm": 10}
        self.max_lifetime = 86_400.0
        self.stats.update(pongs=0, rate_closes=0)

    def register(self, app: web.Application) -> None:
        """Add the routes and the publisher's lifecycle to ``app``."""
        for path in ("/ws", "/ws/{streams:.*}", "/stream", "/ws-api/v3"):
            app.router.add_get(path, self._handle)
        for kind in ("public", "market", "private"):
            for mode in ("ws", "stream"):
                app.router.add_get(f"/{kind}/{mode}", self._handle)
                app.router.add_get(f"/{kind}/{mode}/{{streams:.*}}", self._handle)
        app.router.add_route("*", "/api/v3/userDataStream", self._gone)
        self.add_lifecycle(app)

    # -- fault controls (thread-safe: applied by the publisher on its next tick) -------------

    def shutdown(self, path: str = "/") -> None:
        """``serverShutdown``, then close (Binance's notice before maintenance)."""
        self._control("shutdown", path)

    def expire_listen_keys(self) -> None:
        """Let every listenKey expire now (as if no keepalive came for 60 minutes)."""
        with self.state.lock:
            self.user.expire_all()

    def _control_kind(self, conn: _Conn, kind: str, value: float) -> None:
        if kind == "shutdown":
            event = {"e": "serverShutdown", "E": self.state.now_ms()}
            if conn.kind == "api":
                conn.send({"event": event})
            elif conn.combined:
                conn.send({"stream": "!serverShutdown", "data": event})
            else:
                conn.send(event)
            conn.close(1000, "server shutdown")

    # -- connections ------------------------------------------------------------------------------

    @staticmethod
    async def _gone(request: web.Request) -> web.Response:
        # Spot listenKeys were switched off on 2026-02-20: an nginx 410 page (spot CHANGELOG).
        body = "<html><head><title>410 Gone</title></head><body><h1>410 Gone</h1></body></html>"
        return web.Response(status=410, text=body, content_type="text/html")

    def _connect(self, ws: web.WebSocketResponse, request: web.Request) -> _Conn:
        return _Conn(ws, request)

    async def _on_message(self, conn: _Conn, message: WSMessage) -> bool:
        if self._over_rate(conn):
            self.stats["rate_closes"] += 1
            await conn.ws.close(code=1008, message=b"Too many requests")
            return False
        if message.type is WSMsgType.TEXT:
            with self.state.lock:
                self._on_frame(conn, message.data)
        elif message.type is WSMsgType.PING:
            await conn.ws.pong(message.data)
        elif message.type is WSMsgType.PONG:
            conn.unanswered = None
            self.stats["pongs"] += 1
        return True

    def _forget(self, conn: _Conn) -> None:
        self._release(conn)

    def _opened(self, conn: _Conn) -> None:
        """Streams named in the URL; the listenKey and ``events`` of a private connection."""
        request = conn.request
        tail = request.match_info.get("streams", "")
        names = [n for n in tail.split("/") if n] if conn.kind != "private" else []
        if conn.combined:
            names += [n for n in request.query.get("streams", "").split("/") if n]
        if conn.kind == "private":
            conn.listen_key = request.query.get("listenKey") or (tail or None)
            events = request.query.get("events")
            conn.events = set(events.split("/")) if events else None
            if conn.listen_key in self.user.keys:
                self.user.track(self.user.keys[conn.listen_key].uid)
        self._add_streams(conn, names)

    def _over_rate(self, conn: _Conn) -> bool:
        now = time.monotonic()
        arrivals = conn.arrivals
        arrivals.append(now)
        while arrivals and now - arrivals[0] > 1.0:
            arrivals.popleft()
        limit = self.max_rate["usdm" if conn.category == "linear" else conn.kind]
        return len(arrivals) > limit

    # -- requests --------------------------------------------------------------------------------

    def _on_frame(self, conn: _Conn, text: str) -> None:
        try:
            if conn.kind == "api":
                self._on_api(conn, text)
            else:
                self._on_control(conn, text)
        except Exception:
            log.exception("the Binance WebSocket emulator failed on a frame")
            conn.send({"code": 2, "msg": "Invalid request: internal emulator error"})

    def _on_control(self, conn: _Conn, text: str) -> None:
        try:
            message = json_body(text)
        except BadInput:
            conn.send({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"})
            return
        if not isinstance(message, dict):
            conn.send({"code": 2, "msg": "Invalid request: expected an object"})
            return
        req_id = message.get("id")
        if not (
            req_id is None
            or (isinstance(req_id, int) and not isinstance(req_id, bool))
            or (isinstance(req_id, str) and _ID.match(req_id))
        ):
            conn.send({"code": 2, "msg": "Invalid request: request ID must be an integer"})
            return
        method, params = message.get("method"), message.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                conn.send({"code": 1, "msg": "Invalid value type: expected array", "id": req_id})
                return
            if method == "SUBSCRIBE":
                if len(conn.streams | set(params)) > _MAX_STREAMS:
                    conn.send({"code": 2, "msg": "Invalid request: too many streams", "id": req_id})
                    return
                self.stats["subscribes"] += 1
                # The ack first: data of a new stream follows it.
                conn.send({"result": None, "id": req_id})
                self._add_streams(conn, params)
            else:
                conn.streams.difference_update(params)
                self._release(conn)
                conn.send({"result": None, "id": req_id})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.streams), "id": req_id})
        elif method in ("SET_PROPERTY", "GET_PROPERTY"):
            if not isinstance(params, list) or not params or params[0] != "combined":
                conn.send({"code": 0, "msg": "Unknown property", "id": req_id})
            elif method == "GET_PROPERTY":
                conn.send({"result": conn.combined, "id": req_id})
            elif len(params) != 2 or not isinstance(params[1], bool):
                conn.send({"code": 1, "msg": "Invalid value type: expected Boolean"})
            else:
                conn.combined = params[1]
                conn.send({"result": None, "id": req_id})
        else:
            conn.send(
                {
                    "code": 2,
                    "msg": f"Invalid request: unknown variant {method}, expected one of "
                    f"{_METHODS} at line 1 column 1",
                    "id": req_id,
                }
            )

    def _add_streams(self, conn: _Conn, names: list[str]) -> None:
        for name in names:
            conn.streams.add(name)
            if conn.kind == "private":
                continue  # user data comes from the listenKey, not from stream names
            if conn.kind in ("public", "market") and stream_kind(name) != conn.kind:
                continue  # acked, and never sends: the wrong path for this stream
            key = (conn.category, name)
            topic = self._topics.get(key)
            if topic is None:
                topic = make_topic(name, conn.category, self.front)
                if topic is None:
                    continue  # an unknown stream is acked too, and never sends
                self._topics[key] = topic
            topic.subscribers.add(conn)

    def _release(self, conn: _Conn) -> None:
        for key, topic in list(self._topics.items()):
            if conn not in self._conns or topic.name not in conn.streams:
                topic.subscribers.discard(conn)
            if not topic.subscribers:
                del self._topics[key]

    def _on_api(self, conn: _Conn, text: str) -> None:
        try:
            message = json_body(text)
        except BadInput:
            self._api_error(conn, None, BinanceError(-1100, "Malformed JSON request."))
            return
        if not isinstance(message, dict):
            self._api_error(conn, None, BinanceError(-1100, "Malformed request."))
            return
        req_id, method = message.get("id"), message.get("method")
        method = method[3:] if isinstance(method, str) and method.startswith("v3/") else method
        if method == "ping":
            conn.send({"id": req_id, "status": 200, "result": {}, "rateLimits": []})
        elif method == "session.subscriptions":
            result = [{"subscriptionId": s} for s in sorted(conn.subscriptions)]
            conn.send({"id": req_id, "status": 200, "result": result})
        elif method == "userDataStream.subscribe.signature":
            try:
                uid = self.user.subscribe_signature(
                    message.get("params"), conn.request.remote or "", conn.subscriptions
                )
            except BinanceError as err:
                self._api_error(conn, req_id, err)
                return
            sub_id = next(conn.next_subscription)
            conn.subscriptions[sub_id] = uid
            self.user.track(uid)
            conn.send({"id": req_id, "status": 200, "result": {"subscriptionId": sub_id}})
        elif method == "userDataStream.unsubscribe":
            params = message.get("params") or {}
            wanted = params.get("subscriptionId") if isinstance(params, dict) else None
            ended = [s for s in conn.subscriptions if wanted is None or s == wanted]
            if wanted is not None and not ended:
                self._api_error(
                    conn, req_id, BinanceError(-2036, "User Data Stream subscription not active.")
                )
                return
            conn.send({"id": req_id, "status": 200, "result": {}})
            now = self.state.now_ms()
            for sub_id in ended:
                del conn.subscriptions[sub_id]
                event = {"e": "eventStreamTerminated", "E": now}
                conn.send({"subscriptionId": sub_id, "event": event})
        else:
            refusal = BinanceError(-1020, "This operation is not supported.")
            self._api_error(conn, req_id, refusal)

    @staticmethod
    def _api_error(conn: _Conn, req_id: Any, err: BinanceError) -> None:
        error = {"code": err.code, "msg": err.message}
        conn.send({"id": req_id, "status": err.status, "error": error, "rateLimits": []})

    # -- publishing -------------------------------------------------------------------------------

    def _liveness(self, conn: _Conn) -> None:
        """Server pings, the pong deadline, the connection's lifetime."""
        now = time.monotonic()
        kind = "usdm" if conn.category == "linear" else conn.kind
        if now - conn.opened >= self.max_lifetime:
            conn.close(1000, "max lifetime reached")
        elif conn.unanswered is not None and now - conn.unanswered >= self.pong_timeout[kind]:
            conn.close(1000, "no pong")
        elif now - conn.last_ping >= self.ping_interval[kind]:
            conn.last_ping = now
            if conn.unanswered is None:
                conn.unanswered = now
            conn.ping(str(self.state.now_ms()).encode())

    def _poll(self) -> None:
        with self.state.lock:
            now = self.state.now_ms()
            for topic in list(self._topics.values()):
                for event in topic.poll(now):
                    depth = getattr(topic, "is_depth", False)
                    for conn in list(topic.subscribers):
                        self._deliver(conn, topic.name, event, depth)
            self._user_events(now)

    def _deliver(self, conn: _Conn, name: str, event: Any, depth: bool) -> None:
        text = dumps({"stream": name, "data": event} if conn.combined else event)
        if depth and self._skip_gap(conn):
            return
        if depth and conn.reorders > 0 and conn.held is None:
            conn.reorders -= 1
            conn.held = text
            return
        conn.send(text)
        if depth and conn.duplicates > 0:
            conn.duplicates -= 1
            conn.send(text)
        if conn.held is not None and conn.held != text:
            held, conn.held = conn.held, None
            conn.send(held)

    def _user_events(self, now: int) -> None:
        user = self.user
        for entry in user.expired(now):
            expiry = {"e": "listenKeyExpired", "E": str(now), "listenKey": entry.key}
            for conn in self._conns:
                if conn.listen_key == entry.key:
                    self._push_private(conn, expiry)
        watched = {uid for conn in self._conns for uid in conn.subscriptions.values()}
        watched |= {
            user.keys[c.listen_key].uid
            for c in self._conns
            if c.listen_key in user.keys and user.keys[c.listen_key].alive
        }
        for uid, events in user.poll(now, watched).items():
            for conn in list(self._conns):
                for market, event in events:
                    if market == "spot" and conn.kind == "api":
                        for sub_id, owner in conn.subscriptions.items():
                            if owner == uid:
                                conn.send({"subscriptionId": sub_id, "event": event})
                    elif market == "usdm" and conn.kind == "private":
                        key = user.keys.get(conn.listen_key or "")
                        if key is not None and key.alive and key.uid == uid:
                            self._push_private(conn, event)

    @staticmethod
    def _push_private(conn: _Conn, event: dict[str, Any]) -> None:
        if conn.events is not None and event["e"] not in conn.events:
            return  # the ``events`` allow-list does not name it
        if conn.combined:
            conn.send({"stream": conn.listen_key, "data": event})
        else:
            conn.send(event)
