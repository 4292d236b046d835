"""The emulator's Bybit v5 WebSocket side: public topics from the engine, private from accounts.

Endpoints (as on Bybit, docs v5/ws/connect): ``/v5/public/{spot,linear,inverse,option}`` and
``/v5/private``. Frames and checks follow Bybit:

* ``{"op":"ping"}`` is answered with the public or the private pong shape;
* ``{"op":"auth","args":[key, expires, sign]}``: an unknown key, an ``expires`` not after the
  emulator's clock, a signature that is not HMAC-SHA256 (or RSA) of ``GET/realtime{expires}``,
  an expired key or an IP off the key's whitelist each get ``{"success":false,...}`` and stay
  unauthenticated. ``expires`` in the past answers ``Params Error`` as Bybit does (pybit
  issues #152, #300); the wording of the other refusals is the REST one (Bybit documents none);
* ``subscribe``/``unsubscribe`` with Bybit's limits: at most 10 args per spot request, the
  args of one public connection under 21,000 characters; unknown topics answer
  ``error:handler not found,topic:...``; private topics need auth first.

The engine has no event hooks, so a publisher diffs engine state every ``interval`` seconds
(50 ms) and pushes what changed: book deltas (``u`` + 1 each, ``seq`` the engine's sequence),
ticker snapshots or deltas of changed fields (derivatives), kline updates (the closed candle
with ``confirm: true`` when a new one starts), new public trades; per account new or changed
orders (``order``), new fills (``execution``), changed positions (``position``) and balances
(``wallet``). A subscription starts from the state at that moment: book and ticker topics send
their snapshot, private topics send only later changes (Bybit sends no private snapshot).

Faults, for tests (``sockets_of(emulator.state)``):

* ``drop(path)`` resets matching connections; so does a ``drop_before``/``drop_after`` rule of
  the emulator's ``FaultInjector`` whose path is under ``/v5/public`` or ``/v5/private``
  (checked at the handshake and on every publisher tick); an ``html_403`` rule there answers
  the handshake with an HTML 403 (a WAF, a geo-block);
* ``inject_gap(path, count)`` skips the next ``count`` book deltas to matching connections
  (their ``u`` jumps), which a client must notice and resync;
* ``silence(path, seconds)`` stops every frame (pongs included) to matching connections;
* ``latency`` delays every frame, as a network would.

A FaultInjector rule is written ``drop_before@/v5/public/linear*1`` (path before count).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
from typing import Any, ClassVar

from aiohttp import web

from adapters.bybit.emulator_ws_account import Account
from adapters.bybit.emulator_ws_topics import (
    INTERVALS,
    BookTopic,
    KlineTopic,
    RestSide,
    Subscriber,
    TickerTopic,
    Topic,
    TradeTopic,
    dumps,
)
from adapters.bybit.stream import BOOK_DEPTHS
from exchanges.emulator.engine import (
    EngineError,
)
from exchanges.emulator.inputs import BadInput, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming
from exchanges.emulator.ws_server import WebSocketServer

__all__ = ["BybitWebSockets", "sockets_of"]

log = logging.getLogger("exchanges.emulator.bybit.ws")

_CATEGORIES = ("spot", "linear", "inverse", "option")
_PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
_MAX_ARGS_CHARS = 21_000


def sockets_of(state: EmulatorState) -> BybitWebSockets:
    """The WebSocket front-end serving ``state`` (an ``Emulator``'s ``.state``)."""
    return BybitWebSockets.serving(state)


class BybitWebSockets(WebSocketServer[Subscriber]):
    """Bybit's public and private WebSocket endpoints over the emulator's state."""

    fault_prefixes = ("/v5/public", "/v5/private")
    missing = "this emulator serves no Bybit WebSockets (is it a bybit emulator?)"
    log: ClassVar[logging.Logger] = log

    def __init__(self, front: RestSide, *, interval: float = 0.05) -> None:
        super().__init__(front.state, interval=interval)
        self.front = front
        self.engine = front.engine
        self._public: dict[tuple[str, str], Topic] = {}
        self._accounts: dict[int, Account] = {}
        self._ids = itertools.count(1)
        self.stats["auth_failures"] = 0

    def register(self, app: web.Application) -> None:
        """Add the routes and the publisher's lifecycle to ``app``."""
        for category in _CATEGORIES:
            app.router.add_get(f"/v5/public/{category}", self._handle)
        app.router.add_get("/v5/private", self._handle)
        self.add_lifecycle(app)

    def _connect(self, ws: web.WebSocketResponse, request: web.Request) -> Subscriber:
        return Subscriber(ws, request, f"emu-{next(self._ids)}")

    async def _plain_http(self, request: web.Request) -> web.StreamResponse:
        # A plain HTTP request to a stream path is answered as the REST API answers it.
        raw = request.raw_path
        path, _, query = raw.partition("?")
        incoming = Incoming(
            request.method, path, query, await request.read(), request.headers, request.remote or ""
        )
        with self.state.lock:
            out = self.front.handle(incoming)
        assert out is not None  # every /v5/ path gets Bybit's envelope
        return web.Response(
            status=out.status, body=out.body, headers=out.headers, content_type=out.content_type
        )

    # -- requests -----------------------------------------------------------------------------

    def _reply(
        self, conn: Subscriber, op: str, ok: bool, text: str, req_id: Any, extra: Any = None
    ) -> None:
        reply: dict[str, Any] = {"success": ok, "ret_msg": text, "conn_id": conn.conn_id}
        if req_id is not None:
            reply["req_id"] = req_id
        reply["op"] = op
        if extra:
            reply.update(extra)
        conn.send(reply)

    def _on_frame(self, conn: Subscriber, text: str) -> None:
        try:
            self._on_text(conn, text)
        except Exception:
            # A bug here must not end the connection silently: logged, and the client told.
            log.exception("the Bybit WebSocket emulator failed on a frame of %s", conn.conn_id)
            self._reply(conn, "", False, "error:internal emulator error", None)

    def _on_text(self, conn: Subscriber, text: str) -> None:
        try:
            message = json_body(text)
        except BadInput:
            self._reply(conn, "", False, "error:request is not JSON", None)
            return
        if not isinstance(message, dict):
            self._reply(conn, "", False, "error:request is not a JSON object", None)
            return
        op, req_id = message.get("op"), message.get("req_id")
        if op == "ping":
            if conn.private:
                pong = {"op": "pong", "args": [str(self.state.now_ms())], "conn_id": conn.conn_id}
                conn.send({"req_id": req_id, **pong} if req_id is not None else pong)
            else:
                self._reply(conn, "ping", True, "pong", req_id)
        elif op == "auth":
            self._auth(conn, message.get("args"), req_id)
        elif op in ("subscribe", "unsubscribe"):
            args = message.get("args")
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                self._reply(conn, op, False, "error:args must be a list of topics", req_id)
            elif op == "subscribe":
                self._subscribe(conn, args, req_id)
            else:
                self._unsubscribe(conn, args, req_id)
        else:
            self._reply(conn, str(op), False, f"error:invalid op {op}", req_id)

    def _auth(self, conn: Subscriber, args: Any, req_id: Any) -> None:
        if not conn.private:
            self._reply(conn, "auth", False, "error:public channels need no auth", req_id)
            return
        refusal = self._check_auth(conn, args)
        if refusal is not None:
            self.stats["auth_failures"] += 1
            self._reply(conn, "auth", False, refusal, req_id)
            return
        self._reply(conn, "auth", True, "", req_id)

    def _check_auth(self, conn: Subscriber, args: Any) -> str | None:
        if not isinstance(args, list) or len(args) != 3:
            return "Params Error"
        api_key, expires, sign = args
        if not isinstance(api_key, str) or not isinstance(sign, str):
            return "Params Error"
        if isinstance(expires, str) and expires.isdigit():
            expires = int(expires)
        if isinstance(expires, bool) or not isinstance(expires, int):
            return "Params Error"
        key = self.state.keys.get(api_key)
        if key is None:
            return "API key is invalid."
        now = self.state.now_ms()
        if expires <= now:
            return "Params Error"
        if not self._verify(key, b"GET/realtime%d" % expires, sign):
            return "Error sign, please check your signature generation algorithm."
        if key.expires_at is not None and key.expires_at <= now:
            return "Your api key has expired."
        if not key.ip_allowed(conn.request.remote or ""):
            return "Unmatched IP, please check your API key's bound IP addresses."
        conn.key = key
        return None

    def _verify(self, key: ApiKey, message: bytes, sign: str) -> bool:
        if key.secret is not None:
            expected = hmac.new(key.secret.encode(), message, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, sign.lower())
        return self.front._verify(key, message, sign)

    def _subscribe(self, conn: Subscriber, args: list[str], req_id: Any) -> None:
        if conn.private:
            self._subscribe_private(conn, args, req_id)
            return
        assert conn.category is not None
        if conn.category == "spot" and len(args) > 10:
            self._reply(conn, "subscribe", False, "args size >10", req_id)
            return
        if len(dumps(sorted(conn.topics | set(args)))) > _MAX_ARGS_CHARS:
            self._reply(conn, "subscribe", False, "args length exceeds 21000", req_id)
            return
        for topic in args:
            if topic in conn.topics:
                self._reply(
                    conn, "subscribe", False, f"error:already subscribed,topic:{topic}", req_id
                )
                return
            if self._public_topic(conn.category, topic, create=False) is None:
                self._reply(
                    conn, "subscribe", False, f"error:handler not found,topic:{topic}", req_id
                )
                return
        self.stats["subscribes"] += 1
        now = self.state.now_ms()
        text = "subscribe" if conn.category == "spot" else ""
        self._reply(conn, "subscribe", True, text, req_id)
        for topic in args:
            state = self._public_topic(conn.category, topic, create=True)
            assert state is not None
            state.subscribers.add(conn)
            conn.topics.add(topic)
            for frame in state.initial(now):
                conn.send(frame)

    def _public_topic(self, category: str, topic: str, *, create: bool) -> Topic | None:
        found = self._public.get((category, topic))
        if found is not None:
            return found
        parts = topic.split(".")
        name, symbol = parts[0], parts[-1]
        spec = self.engine.instruments.get((category, symbol))
        if spec is None:
            return None
        state: Topic | None = None
        if name == "orderbook" and len(parts) == 3 and parts[1].isdigit():
            if int(parts[1]) in BOOK_DEPTHS[category]:
                state = (
                    BookTopic(topic, spec, self.engine, int(parts[1]))
                    if create
                    else Topic(topic, spec)
                )
        elif name == "tickers" and len(parts) == 2:
            state = TickerTopic(topic, spec, self.front) if create else Topic(topic, spec)
        elif name == "publicTrade" and len(parts) == 2:
            state = TradeTopic(topic, spec, self.engine) if create else Topic(topic, spec)
        elif name == "kline" and len(parts) == 3 and parts[1] in INTERVALS:
            state = (
                KlineTopic(topic, spec, self.engine, parts[1], self.state.now_ms())
                if create
                else Topic(topic, spec)
            )
        if state is not None and create:
            self._public[(category, topic)] = state
        return state

    def _subscribe_private(self, conn: Subscriber, args: list[str], req_id: Any) -> None:
        key = conn.key
        if key is None:
            self._reply(conn, "subscribe", False, "Request not authorized", req_id)
            return
        for topic in args:
            base, _, category = topic.partition(".")
            if base not in _PRIVATE_TOPICS or (category and category not in _CATEGORIES):
                self._reply(
                    conn, "subscribe", False, f"error:handler not found,topic:{topic}", req_id
                )
                return
        account = self._accounts.get(key.uid)
        if account is None:
            account = self._accounts[key.uid] = Account(self.front, key)
        account.subscribers.add(conn)
        conn.topics.update(args)
        self.stats["subscribes"] += 1
        self._reply(conn, "subscribe", True, "", req_id)

    def _unsubscribe(self, conn: Subscriber, args: list[str], req_id: Any) -> None:
        for topic in args:
            conn.topics.discard(topic)
        self._release(conn)
        self._reply(conn, "unsubscribe", True, "", req_id)

    def _forget(self, conn: Subscriber) -> None:
        conn.topics.clear()
        self._release(conn)

    def _release(self, conn: Subscriber) -> None:
        for key, state in list(self._public.items()):
            if conn in state.subscribers and state.topic not in conn.topics:
                state.subscribers.discard(conn)
            if not state.subscribers:
                del self._public[key]
        for uid, account in list(self._accounts.items()):
            if conn in account.subscribers and not conn.topics:
                account.subscribers.discard(conn)
            if not account.subscribers:
                del self._accounts[uid]

    # -- publishing -----------------------------------------------------------------------------

    def _poll(self) -> None:
        if not self._public and not self._accounts:
            return
        with self.state.lock:
            now = self.state.now_ms()
            for state in list(self._public.values()):
                for frame in state.poll(now):
                    text = dumps(frame)
                    delta = frame.get("type") == "delta" and isinstance(state, BookTopic)
                    for conn in list(state.subscribers):
                        if delta and self._skip_gap(conn):
                            continue
                        conn.send(text)
            for uid, account in list(self._accounts.items()):
                try:
                    changes = account.poll()
                except EngineError:
                    # The account is gone (a reset without its key): nothing more to tell.
                    del self._accounts[uid]
                    continue
                for topic, items in changes.items():
                    for conn in list(account.subscribers):
                        self._push_private(conn, account, topic, items, now)

    def _push_private(
        self, conn: Subscriber, account: Account, topic: str, items: list[dict[str, Any]], now: int
    ) -> None:
        if topic in conn.topics:
            conn.send(account.frame(topic, items, now))
        for category in _CATEGORIES:
            name = f"{topic}.{category}"
            if name in conn.topics:
                chosen = [i for i in items if i.get("category") == category]
                if chosen:
                    conn.send(account.frame(name, chosen, now))
