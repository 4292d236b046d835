"""The emulator's OKX v5 WebSockets: /ws/v5/public, /ws/v5/business and /ws/v5/private.

As OKX documents them (https://www.okx.com/docs-v5/en/#overview-websocket-connect, -login,
-subscribe, -notification, #error-code-websocket-public):

* the text ``ping`` is answered with the text ``pong``; a connection with no subscription, or
  that was sent nothing, for ``idle_timeout`` seconds (30 on OKX) is closed with 4004;
* ``{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}`` where ``sign`` is
  base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")) and ``timestamp`` Unix
  seconds within 30 s of the server's clock. Success ``{"event":"login","code":"0",...}``;
  refusals ``{"event":"error","code":...}`` with 60004 (timestamp not a number), 60006
  (expired), 60005 (unknown key), 60032 (key expired: "doesn't exist"), 60024 (passphrase),
  60007 (sign), 60031 (a second login), 60009 (malformed args), then a close 4001;
* ``subscribe``/``unsubscribe`` with ``args`` of ``{channel, instId | instType}``: one ack
  ``{"id"?,"event":"subscribe","arg":{...},"connId"}`` per arg, ``id`` echoed. Refusals
  ``{"id"?,"event":"error","code","msg","connId"}``: 60011 private channel before login,
  64001 a business channel (candles) off /business, 64002 a public channel on /business,
  60018 an unknown channel or instId, a private channel off /private or an algo order channel
  (``orders-algo``, ``algo-advance``: ``emulator_ws_algo.py``) off /business, 64003 ``fills``
  (VIP4 and above only: emulated accounts are below), 60012 a frame that is not a JSON
  request (no ``id``; the request embedded in ``msg``), 60019 an unknown op;
* ``{"event":"notice","code":"64008",...}`` before a service upgrade closes the connection:
  ``notice(path, close_after)``.

The engine has no event hooks, so a publisher diffs engine state every ``interval`` seconds
(50 ms) and pushes what changed (``emulator_ws_channels.py``); the books channel reads the
instrument's seqId chain that the REST order book also reads (``emulator_books.py``).
``push_snapshot = False`` stops the initial book snapshot (OKX's announced change), so clients
must start from REST.

Faults, for tests (``okx_sockets_of(emulator.state)``), applied by the publisher's next tick:
``drop(path)`` resets connections; ``inject_gap(path, n)`` skips the next n book updates to
matching connections; ``duplicate(path, n)`` sends the next n twice; ``reorder(path, n)`` swaps
the next n pairs of book updates; ``silence(path, s)`` sends nothing (pongs included) for s
seconds; ``notice(path, close_after)``; ``reset_sequence(inst_id)`` a maintenance reset;
``latency`` delays every frame. A ``drop_before``/``drop_after`` rule of the emulator's
``FaultInjector`` under ``/ws/v5`` resets connections (at the handshake and on every tick), and
an ``html_403`` rule answers the handshake with an HTML 403.

Simplifications: one login per connection, no 480/h control-message budget, no
``channel-conn-count`` events, and no environment check on login (OKX chooses demo by host,
wspap.okx.com; its WS error code for a key of the other environment is not documented).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import web

from adapters.okx.emulator_ws_channels import (
    ACCOUNT,
    AccountChannels,
    BookChannel,
    Channel,
    make_channel,
    refusal,
)
from exchanges.emulator.engine import EngineError
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState
from exchanges.emulator.ws_server import Connection, ReorderingServer, dumps

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd

__all__ = ["OkxWebSockets", "okx_sockets_of"]

log = logging.getLogger("exchanges.emulator.okx.ws")

PATHS = ("/ws/v5/public", "/ws/v5/business", "/ws/v5/private")
_LOGIN_WINDOW_S = 30  # "the request will expire 30 seconds after the timestamp"


def okx_sockets_of(state: EmulatorState) -> OkxWebSockets:
    """The OKX WebSocket side serving ``state`` (an ``Emulator``'s ``.state``)."""
    return OkxWebSockets.serving(state)


class _Conn(Connection):
    """One client connection: its kind, login, subscriptions and timers besides the record."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, conn_id: str) -> None:
        super().__init__(ws, request)
        self.kind = self.path.rsplit("/", 1)[1]  # public, business, private
        self.conn_id = conn_id
        self.key: ApiKey | None = None
        self.args: set[tuple[tuple[str, str], ...]] = set()
        self.last_sent = time.monotonic()
        self.close_at: float | None = None

    def send(self, frame: Any) -> bool:
        """Queue a text frame and note when (the idle timer); nothing while silenced."""
        if not super().send(frame):
            return False
        self.last_sent = time.monotonic()
        return True


def _key_of(arg: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(arg.items()))


class OkxWebSockets(ReorderingServer[_Conn]):
    """OKX's public, business and private WebSocket endpoints over the emulator's state."""

    fault_prefixes = ("/ws/v5",)
    missing = "this emulator serves no OKX WebSockets (is it an okx emulator?)"
    log: ClassVar[logging.Logger] = log

    def __init__(self, front: OkxFrontEnd, *, interval: float = 0.05) -> None:
        super().__init__(front.state, interval=interval)
        self.front = front
        self.engine = front.engine
        self._channels: dict[tuple[tuple[str, str], ...], Channel] = {}
        self._accounts: dict[int, AccountChannels] = {}
        self._ids = itertools.count(1)
        #: False: books send no initial snapshot (clients start from the REST book).
        self.push_snapshot = True
        #: Close a connection (4004) after this long with no subscription or nothing sent.
        self.idle_timeout = 30.0
        #: Items per page of the positions snapshot (``curPage``/``lastPage``).
        self.page_size = 50
        self.stats.update(
            login_failures=0, duplicates_sent=0, reordered=0, notices=0, idle_closes=0
        )

    def register(self, app: web.Application) -> None:
        """Add the three endpoints and the publisher's lifecycle to ``app``."""
        for path in PATHS:
            app.router.add_get(path, self._handle)
        self.add_lifecycle(app)

    # -- fault controls (thread-safe: applied by the publisher on its next tick) -----------

    def notice(self, path: str = "/ws/v5", close_after: float = 60.0) -> None:
        """Send the 64008 service-upgrade notice, then close after ``close_after`` seconds."""
        self._control("notice", path, close_after)

    def reset_sequence(self, inst_id: str) -> None:
        """Make the next book update of ``inst_id`` restart its seqId lower (maintenance)."""
        with self.state.lock:
            self.front.book_sequence(self.front.instruments[inst_id]).reset_sequence()

    def _control_kind(self, conn: _Conn, kind: str, value: float) -> None:
        if kind == "notice":
            self.stats["notices"] += 1
            text = "The connection will soon be closed for a service upgrade."
            conn.send({"event": "notice", "code": "64008", "msg": text, "connId": conn.conn_id})
            conn.close_at = time.monotonic() + value

    # -- connections ----------------------------------------------------------------------------

    def _connect(self, ws: web.WebSocketResponse, request: web.Request) -> _Conn:
        return _Conn(ws, request, f"{next(self._ids):08x}")

    def _forget(self, conn: _Conn) -> None:
        conn.args.clear()
        self._release(conn)

    # -- requests -----------------------------------------------------------------------------

    def _error(self, conn: _Conn, code: str, text: str, req_id: Any = None) -> None:
        frame: dict[str, Any] = {"event": "error", "code": code, "msg": text}
        if req_id is not None:
            frame = {"id": req_id, **frame}
        conn.send({**frame, "connId": conn.conn_id})

    def _on_frame(self, conn: _Conn, text: str) -> None:
        if text == "ping":
            conn.send("pong")
            return
        try:
            self._on_text(conn, text)
        except Exception:
            # A bug here must not end the connection silently: logged, and the client told.
            log.exception("the OKX WebSocket emulator failed on a frame of %s", conn.conn_id)
            self._error(conn, "64007", "Internal error, please try again later.")

    def _on_text(self, conn: _Conn, text: str) -> None:
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("op"), str):
            self._error(conn, "60012", f"Invalid request: {text[:200]}")
            return
        op, req_id = message["op"], message.get("id")
        args = message.get("args")
        if op == "login":
            self._login(conn, args)
        elif op in ("subscribe", "unsubscribe"):
            if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
                self._error(conn, "60012", f"Invalid request: {text[:200]}", req_id)
                return
            for arg in args:
                if op == "subscribe":
                    self._subscribe(conn, arg, req_id)
                else:
                    self._unsubscribe(conn, arg, req_id)
        else:
            self._error(conn, "60019", f"Invalid op: op :{op}", req_id)

    def _login(self, conn: _Conn, args: Any) -> None:
        code, text = self._check_login(conn, args)
        if code == "0":
            conn.send({"event": "login", "code": "0", "msg": "", "connId": conn.conn_id})
            return
        self.stats["login_failures"] += 1
        self._error(conn, code, text)
        conn.close(4001, "Login failed.")

    def _check_login(self, conn: _Conn, args: Any) -> tuple[str, str]:
        if conn.key is not None:
            return "60031", "Multiple or repeated logins are not allowed."
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            return "60009", "Login failed."
        arg = args[0]
        api_key, passphrase = arg.get("apiKey"), arg.get("passphrase")
        stamp, sign = arg.get("timestamp"), arg.get("sign")
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            # python-okx 0.4.4 sends the seconds as a JSON number (WsUtils.initLoginParams) and
            # signs their decimal text; OKX accepts that.
            stamp = str(stamp)
        if not all(isinstance(v, str) and v for v in (api_key, passphrase, stamp, sign)):
            return "60009", "Login failed."
        assert isinstance(stamp, str) and isinstance(sign, str)
        try:
            seconds = float(stamp)
        except ValueError:
            return "60004", "Invalid timestamp"
        if abs(seconds * 1000 - self.state.now_ms()) > _LOGIN_WINDOW_S * 1000:
            return "60006", "Timestamp request expired"
        key = self.state.keys.get(str(api_key))
        if key is None:
            return "60005", "Invalid apiKey"
        if key.expires_at is not None and key.expires_at <= self.state.now_ms():
            return "60032", "API key doesn't exist"
        if key.passphrase is not None and not hmac.compare_digest(
            key.passphrase.encode(), str(passphrase).encode()
        ):
            return "60024", "Wrong passphrase"
        if key.secret is None:
            return "60007", "Invalid sign"
        message = f"{stamp}GET/users/self/verify".encode()
        digest = hmac.new(key.secret.encode(), message, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), sign.encode()):
            return "60007", "Invalid sign"
        if not key.ip_allowed(conn.request.remote or ""):
            return "60009", "Login failed."
        conn.key = key
        return "0", ""

    def _refusal(self, conn: _Conn, arg: dict[str, Any]) -> tuple[str, str] | None:
        return refusal(conn.kind, conn.key is not None, arg, self.front.instruments)

    def _ack(self, conn: _Conn, event: str, arg: dict[str, Any], req_id: Any) -> None:
        frame: dict[str, Any] = {"event": event, "arg": arg, "connId": conn.conn_id}
        conn.send({"id": req_id, **frame} if req_id is not None else frame)

    def _subscribe(self, conn: _Conn, raw: dict[str, Any], req_id: Any) -> None:
        refusal = self._refusal(conn, raw)
        if refusal is not None:
            self._error(conn, refusal[0], refusal[1], req_id)
            return
        arg = {k: v for k, v in raw.items() if isinstance(v, str)}
        key = _key_of(arg)
        self.stats["subscribes"] += 1
        if arg["channel"] in ACCOUNT:
            assert conn.key is not None
            self._ack(conn, "subscribe", arg, req_id)
            conn.args.add(key)
            account = self._accounts.get(conn.key.uid)
            if account is None:
                account = self._accounts[conn.key.uid] = AccountChannels(self.front, conn.key)
            account.subscribers.add(conn)
            for frame in account.snapshot(arg, self.page_size):
                conn.send(frame)
            return
        now = self.state.now_ms()
        channel = self._channels.get(key)
        if channel is None:
            channel = make_channel(arg, self.front.instruments[arg["instId"]], self.front)
            self._channels[key] = channel
        elif isinstance(channel, BookChannel):
            # Updates recorded before this subscriber's snapshot go to the others first.
            self._broadcast(channel, channel.poll(now))
        if isinstance(channel, BookChannel):
            channel.push_snapshot = self.push_snapshot
        self._ack(conn, "subscribe", arg, req_id)
        conn.args.add(key)
        channel.subscribers.add(conn)
        for frame in channel.initial(now):
            conn.send(frame)

    def _unsubscribe(self, conn: _Conn, raw: dict[str, Any], req_id: Any) -> None:
        arg = {k: v for k, v in raw.items() if isinstance(v, str)}
        conn.args.discard(_key_of(arg))
        self._release(conn)
        self._ack(conn, "unsubscribe", arg, req_id)

    def _release(self, conn: _Conn) -> None:
        for key, channel in list(self._channels.items()):
            if conn in channel.subscribers and key not in conn.args:
                channel.subscribers.discard(conn)
            if not channel.subscribers:
                channel.close()
                del self._channels[key]
        private = any(dict(k).get("channel") in ACCOUNT for k in conn.args)
        for uid, account in list(self._accounts.items()):
            if conn in account.subscribers and not private:
                account.subscribers.discard(conn)
            if not account.subscribers:
                del self._accounts[uid]

    # -- publishing -----------------------------------------------------------------------------

    def _liveness(self, conn: _Conn) -> None:
        now = time.monotonic()
        if conn.close_at is not None and now >= conn.close_at:
            conn.close_at = None
            conn.close(1001, "service upgrade")
        elif now - conn.last_sent >= self.idle_timeout and not conn.silent:
            # "No data received in 30s": nothing subscribed or nothing pushed for that long.
            self.stats["idle_closes"] += 1
            conn.last_sent = now
            conn.close(4004, "No data received in 30s.")

    def _poll(self) -> None:
        if not self._channels and not self._accounts:
            return
        with self.state.lock:
            now = self.state.now_ms()
            for channel in list(self._channels.values()):
                self._broadcast(channel, channel.poll(now))
            for uid, account in list(self._accounts.items()):
                try:
                    changes = account.poll()
                except EngineError:
                    del self._accounts[uid]  # the account is gone (a reset without its key)
                    continue
                for name, items in changes.items():
                    for conn in list(account.subscribers):
                        self._push_private(conn, account, name, items)

    def _broadcast(self, channel: Channel, frames: list[dict[str, Any]]) -> None:
        book = isinstance(channel, BookChannel)
        for frame in frames:
            text = dumps(frame)
            for conn in list(channel.subscribers):
                if book:
                    self._send_update(conn, text)
                else:
                    conn.send(text)

    def _send_update(self, conn: _Conn, text: str) -> None:
        if self._skip_gap(conn):
            return
        if conn.held is not None:
            held, conn.held = conn.held, None
            conn.send(text)
            conn.send(held)
            return
        if conn.reorders > 0:
            conn.reorders -= 1
            self.stats["reordered"] += 1
            conn.held = text
            return
        conn.send(text)
        if conn.duplicates > 0:
            conn.duplicates -= 1
            self.stats["duplicates_sent"] += 1
            conn.send(text)

    def _push_private(
        self, conn: _Conn, account: AccountChannels, name: str, items: list[dict[str, Any]]
    ) -> None:
        uid = str(account.uid)
        for key in list(conn.args):
            arg = dict(key)
            if arg.get("channel") != name:
                continue
            wanted = arg.get("instType", "ANY")
            chosen = [i for i in items if wanted in ("ANY", i.get("instType"))]
            if name == "account" or chosen:
                frame: dict[str, Any] = {"arg": {**arg, "uid": uid}}
                if name in ("account", "positions"):
                    frame["eventType"] = "event_update"
                frame["data"] = items if name == "account" else chosen
                conn.send(frame)
