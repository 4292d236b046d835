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

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from adapters.bybit.stream import BOOK_DEPTHS
from exchanges.decimals import to_wire
from exchanges.emulator.engine import (
    CandleView,
    Engine,
    EngineError,
    FillView,
    InstrumentSpec,
    OrderView,
    PositionView,
)
from exchanges.emulator.inputs import BadInput, json_body
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd

__all__ = ["BybitWebSockets", "sockets_of"]

log = logging.getLogger("exchanges.emulator.bybit.ws")

_CATEGORIES = ("spot", "linear", "inverse", "option")
_INTERVALS = {
    "1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240,
    "360": 360, "720": 720, "D": 1440, "W": 10080, "M": 43200,
}  # fmt: skip
_PRIVATE_TOPICS = ("order", "execution", "position", "wallet")
_MAX_ARGS_CHARS = 21_000
_FIRST_UPDATE_ID = 100  # u=1 means "a snapshot after a restart" on Bybit: start elsewhere
_DROP_KINDS = frozenset({"drop_before", "drop_after"})
# Fault kinds the stream endpoints act on: drops (at the handshake and on publisher ticks), and
# a refused handshake (``html_403``).
_STREAM_KINDS = frozenset({*_DROP_KINDS, "html_403"})

_REGISTRY: weakref.WeakKeyDictionary[EmulatorState, BybitWebSockets] = weakref.WeakKeyDictionary()


def sockets_of(state: EmulatorState) -> BybitWebSockets:
    """The WebSocket front-end serving ``state`` (an ``Emulator``'s ``.state``)."""
    sockets = _REGISTRY.get(state)
    if sockets is None:
        raise LookupError("this emulator serves no Bybit WebSockets (is it a bybit emulator?)")
    return sockets


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _w(value: Decimal | None) -> str:
    return "" if value is None else to_wire(value)


class _Conn:
    """One client connection."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, conn_id: str) -> None:
        self.ws = ws
        self.request = request
        self.path = request.path
        self.private = self.path == "/v5/private"
        self.category = None if self.private else self.path.rsplit("/", 1)[1]
        self.conn_id = conn_id
        self.key: ApiKey | None = None
        self.topics: set[str] = set()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.gaps = 0
        self.silent_until = 0.0

    @property
    def silent(self) -> bool:
        return time.monotonic() < self.silent_until

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


# -- public topics -------------------------------------------------------------------------------


class _Topic:
    """A public topic's published state; ``poll`` returns the frames of what changed."""

    def __init__(self, topic: str, spec: InstrumentSpec) -> None:
        self.topic = topic
        self.spec = spec
        self.subscribers: set[_Conn] = set()

    def initial(self, now: int) -> list[dict[str, Any]]:
        return []

    def poll(self, now: int) -> list[dict[str, Any]]:
        raise NotImplementedError


class _BookTopic(_Topic):
    def __init__(self, topic: str, spec: InstrumentSpec, engine: Engine, depth: int) -> None:
        super().__init__(topic, spec)
        self.engine = engine
        self.depth = depth
        view = engine.book(spec.symbol, depth, category=spec.category)
        self.update_id = view.update_id
        self.bids = dict(view.bids)
        self.asks = dict(view.asks)
        self.u = _FIRST_UPDATE_ID
        self.seq = view.seq

    def _price(self, price: Decimal) -> str:
        # One spelling per level, whatever spelling the order that made it used.
        return to_wire(price.quantize(self.spec.tick_size))

    def _levels(self, levels: Mapping[Decimal, Decimal], descending: bool) -> list[list[str]]:
        return [[self._price(p), _w(levels[p])] for p in sorted(levels, reverse=descending)]

    def _frame(self, kind: str, bids: list[list[str]], asks: list[list[str]], now: int) -> Any:
        return {
            "topic": self.topic,
            "type": kind,
            "ts": now,
            "data": {"s": self.spec.symbol, "b": bids, "a": asks, "u": self.u, "seq": self.seq},
            "cts": now,
        }

    def initial(self, now: int) -> list[dict[str, Any]]:
        return [
            self._frame(
                "snapshot", self._levels(self.bids, True), self._levels(self.asks, False), now
            )
        ]

    def _diff(self, old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[list[str]]:
        changed = [[self._price(p), _w(q)] for p, q in new.items() if old.get(p) != q]
        changed += [[self._price(p), "0"] for p in old if p not in new]
        return changed

    def poll(self, now: int) -> list[dict[str, Any]]:
        spec = self.spec
        view = self.engine.book(spec.symbol, self.depth, category=spec.category)
        if view.update_id == self.update_id:
            return []
        self.update_id = view.update_id
        bids, asks = dict(view.bids), dict(view.asks)
        bid_changes, ask_changes = self._diff(self.bids, bids), self._diff(self.asks, asks)
        self.bids, self.asks = bids, asks
        if not bid_changes and not ask_changes:
            return []
        self.u += 1
        self.seq = view.seq
        return [self._frame("delta", bid_changes, ask_changes, now)]


class _TickerTopic(_Topic):
    def __init__(self, topic: str, spec: InstrumentSpec, front: BybitFrontEnd) -> None:
        super().__init__(topic, spec)
        self.front = front
        self.cs = 0
        self.fields = self._fields()

    def _fields(self) -> dict[str, Any]:
        item = self.front._ticker_json(self.spec)
        if self.spec.category == "spot":
            # The spot ticker stream carries no best bid/ask (docs v5/websocket/public/ticker).
            for name in ("bid1Price", "bid1Size", "ask1Price", "ask1Size"):
                item.pop(name, None)
        return item

    def _frame(self, kind: str, data: dict[str, Any], now: int) -> Any:
        return {"topic": self.topic, "type": kind, "ts": now, "cs": self.cs, "data": data}

    def initial(self, now: int) -> list[dict[str, Any]]:
        return [self._frame("snapshot", dict(self.fields), now)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        fields = self._fields()
        if fields == self.fields:
            return []
        self.cs += 1
        old, self.fields = self.fields, fields
        if self.spec.category == "spot":
            return [self._frame("snapshot", dict(fields), now)]
        changed = {k: v for k, v in fields.items() if old.get(k) != v}
        changed["symbol"] = self.spec.symbol
        return [self._frame("delta", changed, now)]


class _KlineTopic(_Topic):
    def __init__(
        self, topic: str, spec: InstrumentSpec, engine: Engine, interval: str, now: int
    ) -> None:
        super().__init__(topic, spec)
        self.engine = engine
        self.interval = interval
        self.interval_ms = _INTERVALS[interval] * 60_000
        self.last = self._current()

    def _current(self) -> CandleView:
        spec = self.spec
        return self.engine.klines(spec.symbol, self.interval_ms, limit=1, category=spec.category)[
            -1
        ]

    def _item(self, candle: CandleView, confirm: bool, now: int) -> dict[str, Any]:
        return {
            "start": candle.start_ms,
            "end": candle.start_ms + self.interval_ms - 1,
            "interval": self.interval,
            "open": _w(candle.open),
            "close": _w(candle.close),
            "high": _w(candle.high),
            "low": _w(candle.low),
            "volume": _w(candle.volume),
            "turnover": _w(candle.turnover),
            "confirm": confirm,
            "timestamp": now,
        }

    def _frame(self, items: list[dict[str, Any]], now: int) -> Any:
        return {"topic": self.topic, "data": items, "ts": now, "type": "snapshot"}

    def initial(self, now: int) -> list[dict[str, Any]]:
        return [self._frame([self._item(self.last, False, now)], now)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        current = self._current()
        last = self.last
        if current == last:
            return []
        items = []
        if current.start_ms != last.start_ms:
            spec = self.spec
            closed = self.engine.klines(
                spec.symbol,
                self.interval_ms,
                start_ms=last.start_ms,
                end_ms=last.start_ms,
                category=spec.category,
            )
            items.append(self._item(closed[-1] if closed else last, True, now))
        items.append(self._item(current, False, now))
        self.last = current
        return [self._frame(items, now)]


class _TradeTopic(_Topic):
    def __init__(self, topic: str, spec: InstrumentSpec, engine: Engine) -> None:
        super().__init__(topic, spec)
        self.engine = engine
        recent = engine.public_trades(spec.symbol, 1, category=spec.category)
        self.last_id = recent[0].trade_id if recent else None
        self.seq = 0

    def poll(self, now: int) -> list[dict[str, Any]]:
        spec = self.spec
        limit = 50
        while True:
            recent = self.engine.public_trades(spec.symbol, limit, category=spec.category)
            ids = [t.trade_id for t in recent]
            if self.last_id in ids:
                fresh = recent[: ids.index(self.last_id)]
                break
            if len(recent) < limit or limit >= 100_000:
                fresh = recent
                break
            limit *= 4
        if not fresh:
            return []
        self.last_id = fresh[0].trade_id
        items = []
        for trade in reversed(fresh):
            self.seq += 1
            item = {
                "T": trade.time_ms,
                "s": spec.symbol,
                "S": "Buy" if trade.side == "buy" else "Sell",
                "v": _w(trade.qty),
                "p": to_wire(trade.price.quantize(spec.tick_size)),
                "i": trade.trade_id,
                "BT": False,
                "RPI": False,
                "seq": self.seq,
            }
            if spec.category != "spot":
                item["L"] = "PlusTick"
            items.append(item)
        return [{"topic": self.topic, "type": "snapshot", "ts": now, "data": items}]


# -- private topics ------------------------------------------------------------------------------


def _order_fingerprint(order: OrderView) -> tuple[Any, ...]:
    return (order.status, order.filled, order.qty, order.price, order.updated_ms)


def _position_fingerprint(position: PositionView) -> tuple[Any, ...]:
    # Mark price and unrealised PnL move with the book; Bybit pushes positions on trades and
    # settings, not on every mark-price tick.
    return (
        position.side,
        position.size,
        position.entry_price,
        position.leverage,
        position.position_margin,
        position.realized_pnl,
    )


class _Account:
    """What one account's subscribers have been told; ``poll`` returns what changed since."""

    def __init__(self, front: BybitFrontEnd, key: ApiKey) -> None:
        self.front = front
        self.engine = front.engine
        self.key = key
        self.uid = key.uid
        self.subscribers: set[_Conn] = set()
        self.orders = {o.order_id: _order_fingerprint(o) for o in self._orders()}
        self.fills = len(self.engine.fills(self.uid))
        self.positions = {
            (p.category, p.symbol): _position_fingerprint(p)
            for p in self.engine.positions(self.uid)
        }
        self.wallet = self._wallet()
        self.ids = itertools.count(1)

    def _orders(self) -> list[OrderView]:
        return self.engine.open_orders(self.uid) + self.engine.closed_orders(self.uid)

    def _wallet(self) -> tuple[Any, ...]:
        return tuple(
            (coin, b.total, b.locked) for coin, b in self.engine.balances(self.uid).items()
        )

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """Items per topic (``order``, ``execution``, ``position``, ``wallet``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        orders = []
        for order in sorted(self._orders(), key=lambda o: o.updated_ms):
            fingerprint = _order_fingerprint(order)
            if self.orders.get(order.order_id) != fingerprint:
                self.orders[order.order_id] = fingerprint
                orders.append(self._order_item(order))
        if orders:
            out["order"] = orders
        fills = self.engine.fills(self.uid)
        if len(fills) > self.fills:
            fresh = fills[: len(fills) - self.fills]
            self.fills = len(fills)
            out["execution"] = [self._fill_item(f) for f in reversed(fresh)]
        positions = []
        current = {(p.category, p.symbol): p for p in self.engine.positions(self.uid)}
        for key in sorted(set(current) | set(self.positions)):
            view = current.get(key)
            if view is None:
                category, symbol = key
                view = self.engine.positions(self.uid, symbol=symbol, category=category)[0]
            fingerprint = _position_fingerprint(view)
            if self.positions.get(key) != fingerprint:
                self.positions[key] = fingerprint
                positions.append(self._position_item(view))
            if view.size == 0:
                self.positions.pop(key, None)
        if positions:
            out["position"] = positions
        wallet = self._wallet()
        if wallet != self.wallet:
            self.wallet = wallet
            result = self.front.wallet_balance({"accountType": "UNIFIED"}, self.key)
            out["wallet"] = list(result["list"])
        return out

    def frame(self, topic: str, items: list[dict[str, Any]], now: int) -> str:
        return _dumps(
            {
                "id": f"{self.uid}-{next(self.ids)}",
                "topic": topic,
                "creationTime": now,
                "data": items,
            }
        )

    def _order_item(self, order: OrderView) -> dict[str, Any]:
        item = self.front._order_json(order)
        item["category"] = order.category
        item["closedPnl"] = "0"
        item["feeCurrency"] = (order.fee_currency or "") if order.category == "spot" else ""
        return item

    def _fill_item(self, fill: FillView) -> dict[str, Any]:
        try:
            order = self.engine.get_order(self.uid, order_id=fill.order_id)
        except EngineError:
            order = None
        return {
            "category": fill.category,
            "symbol": fill.symbol,
            "isLeverage": "0",
            "orderId": fill.order_id,
            "orderLinkId": fill.client_order_id or "",
            "side": "Buy" if fill.side == "buy" else "Sell",
            "orderPrice": _w(order.price if order and order.price is not None else fill.price),
            "orderQty": _w(order.qty if order else fill.qty),
            "leavesQty": _w(order.remaining if order else Decimal(0)),
            "createType": "CreateByUser",
            "orderType": "Limit" if order is not None and order.type == "limit" else "Market",
            "stopOrderType": "",
            "execFee": _w(fill.fee),
            "execId": fill.exec_id,
            "execPrice": _w(fill.price),
            "execQty": _w(fill.qty),
            "execPnl": "0",
            "execType": "Trade",
            "execValue": _w(fill.value),
            "execTime": str(fill.time_ms),
            "isMaker": fill.is_maker,
            "feeRate": _w(fill.fee_rate),
            "feeCurrency": fill.fee_currency,
            "tradeIv": "",
            "markIv": "",
            "markPrice": _w(fill.price),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "extraFees": "",
            "seq": 0,
        }

    def _position_item(self, p: PositionView) -> dict[str, Any]:
        value = (p.entry_price or Decimal(0)) * p.size
        return {
            "category": p.category,
            "symbol": p.symbol,
            "side": {"buy": "Buy", "sell": "Sell"}.get(p.side, ""),
            "size": _w(p.size),
            "positionIdx": 0,
            "tradeMode": 0,
            "positionValue": _w(value),
            "riskId": 1,
            "riskLimitValue": "2000000",
            "entryPrice": _w(p.entry_price) if p.entry_price is not None else "0",
            "markPrice": _w(p.mark_price),
            "leverage": _w(p.leverage),
            "positionBalance": _w(p.position_margin),
            "autoAddMargin": 0,
            "positionIM": _w(p.position_margin),
            "positionMM": "0",
            "liqPrice": _w(p.liquidation_price) if p.liquidation_price else "",
            "bustPrice": "",
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": _w(p.unrealized_pnl),
            "curRealisedPnl": _w(p.realized_pnl),
            "cumRealisedPnl": _w(p.realized_pnl),
            "sessionAvgPrice": "",
            "positionStatus": "Normal",
            "adlRankIndicator": 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(p.created_ms),
            "updatedTime": str(p.updated_ms),
            "seq": 0,
        }


# -- the front-end ---------------------------------------------------------------------------------


class BybitWebSockets:
    """Bybit's public and private WebSocket endpoints over the emulator's state."""

    def __init__(self, front: BybitFrontEnd, *, interval: float = 0.05) -> None:
        self.front = front
        self.state = front.state
        self.engine = front.engine
        self.interval = interval
        self._conns: set[_Conn] = set()
        self._public: dict[tuple[str, str], _Topic] = {}
        self._accounts: dict[int, _Account] = {}
        self._ids = itertools.count(1)
        self._controls: list[tuple[str, str, float]] = []
        self._controls_lock = threading.Lock()
        self._ticker: asyncio.Task[None] | None = None
        #: Seconds every frame waits before it is sent, like a network's latency. Clients that
        #: race their own bookkeeping against the answer (pybit registers a subscription after
        #: sending it) need some, as they have on a real network.
        self.latency = 0.0
        #: Counters for tests: connections, auth refusals, deltas skipped, connections dropped.
        self.stats: dict[str, int] = {
            "connections": 0,
            "auth_failures": 0,
            "gaps_injected": 0,
            "drops": 0,
            "subscribes": 0,
        }
        _REGISTRY[self.state] = self

    def register(self, app: web.Application) -> None:
        """Add the routes and the publisher's lifecycle to ``app``."""
        for category in _CATEGORIES:
            app.router.add_get(f"/v5/public/{category}", self._handle)
        app.router.add_get("/v5/private", self._handle)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._shutdown)

    # -- fault controls (thread-safe: applied by the publisher on its next tick) -----------

    def _control(self, kind: str, path: str, value: float) -> None:
        with self._controls_lock:
            self._controls.append((kind, path, value))

    def drop(self, path: str = "/v5") -> None:
        """Reset every connection under ``path``."""
        self._control("drop", path, 0)

    def inject_gap(self, path: str = "/v5/public", count: int = 1) -> None:
        """Skip the next ``count`` book deltas to each connection under ``path``."""
        self._control("gap", path, count)

    def silence(self, path: str = "/v5", seconds: float = 3600.0) -> None:
        """Send nothing (not even pongs) to connections under ``path`` for ``seconds``."""
        self._control("silence", path, seconds)

    def connections(self, path: str = "/v5") -> int:
        """How many connections under ``path`` are open."""
        return sum(1 for conn in list(self._conns) if conn.path.startswith(path))

    # -- lifecycle ---------------------------------------------------------------------------

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

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        if not ws.can_prepare(request).ok:
            return await self._rest(request)
        fault = self._stream_fault(request.path)
        if fault in _DROP_KINDS:
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=599)
        if fault == "html_403":
            # What a WAF or a geo-block answers the handshake with.
            return web.Response(
                status=403, text="<html><body>403 Forbidden</body></html>", content_type="text/html"
            )
        await ws.prepare(request)
        conn = _Conn(ws, request, f"emu-{next(self._ids)}")
        self.stats["connections"] += 1
        self._conns.add(conn)
        writer = asyncio.get_running_loop().create_task(self._write(conn))
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    with self.state.lock:
                        self._on_frame(conn, message.data)
        finally:
            self._conns.discard(conn)
            with self.state.lock:
                self._forget(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await writer
        return ws

    async def _rest(self, request: web.Request) -> web.Response:
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

    async def _write(self, conn: _Conn) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                return
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def _send(self, conn: _Conn, frame: Any) -> None:
        if not conn.silent:
            conn.queue.put_nowait(frame if isinstance(frame, str) else _dumps(frame))

    # -- requests -----------------------------------------------------------------------------

    def _reply(
        self, conn: _Conn, op: str, ok: bool, text: str, req_id: Any, extra: Any = None
    ) -> None:
        reply: dict[str, Any] = {"success": ok, "ret_msg": text, "conn_id": conn.conn_id}
        if req_id is not None:
            reply["req_id"] = req_id
        reply["op"] = op
        if extra:
            reply.update(extra)
        self._send(conn, reply)

    def _on_frame(self, conn: _Conn, text: str) -> None:
        try:
            self._on_text(conn, text)
        except Exception:
            # A bug here must not end the connection silently: logged, and the client told.
            log.exception("the Bybit WebSocket emulator failed on a frame of %s", conn.conn_id)
            self._reply(conn, "", False, "error:internal emulator error", None)

    def _on_text(self, conn: _Conn, text: str) -> None:
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
                self._send(conn, {"req_id": req_id, **pong} if req_id is not None else pong)
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

    def _auth(self, conn: _Conn, args: Any, req_id: Any) -> None:
        if not conn.private:
            self._reply(conn, "auth", False, "error:public channels need no auth", req_id)
            return
        refusal = self._check_auth(conn, args)
        if refusal is not None:
            self.stats["auth_failures"] += 1
            self._reply(conn, "auth", False, refusal, req_id)
            return
        self._reply(conn, "auth", True, "", req_id)

    def _check_auth(self, conn: _Conn, args: Any) -> str | None:
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

    def _subscribe(self, conn: _Conn, args: list[str], req_id: Any) -> None:
        if conn.private:
            self._subscribe_private(conn, args, req_id)
            return
        assert conn.category is not None
        if conn.category == "spot" and len(args) > 10:
            self._reply(conn, "subscribe", False, "args size >10", req_id)
            return
        if len(_dumps(sorted(conn.topics | set(args)))) > _MAX_ARGS_CHARS:
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
                self._send(conn, frame)

    def _public_topic(self, category: str, topic: str, *, create: bool) -> _Topic | None:
        found = self._public.get((category, topic))
        if found is not None:
            return found
        parts = topic.split(".")
        name, symbol = parts[0], parts[-1]
        spec = self.engine.instruments.get((category, symbol))
        if spec is None:
            return None
        state: _Topic | None = None
        if name == "orderbook" and len(parts) == 3 and parts[1].isdigit():
            if int(parts[1]) in BOOK_DEPTHS[category]:
                state = (
                    _BookTopic(topic, spec, self.engine, int(parts[1]))
                    if create
                    else _Topic(topic, spec)
                )
        elif name == "tickers" and len(parts) == 2:
            state = _TickerTopic(topic, spec, self.front) if create else _Topic(topic, spec)
        elif name == "publicTrade" and len(parts) == 2:
            state = _TradeTopic(topic, spec, self.engine) if create else _Topic(topic, spec)
        elif name == "kline" and len(parts) == 3 and parts[1] in _INTERVALS:
            state = (
                _KlineTopic(topic, spec, self.engine, parts[1], self.state.now_ms())
                if create
                else _Topic(topic, spec)
            )
        if state is not None and create:
            self._public[(category, topic)] = state
        return state

    def _subscribe_private(self, conn: _Conn, args: list[str], req_id: Any) -> None:
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
            account = self._accounts[key.uid] = _Account(self.front, key)
        account.subscribers.add(conn)
        conn.topics.update(args)
        self.stats["subscribes"] += 1
        self._reply(conn, "subscribe", True, "", req_id)

    def _unsubscribe(self, conn: _Conn, args: list[str], req_id: Any) -> None:
        for topic in args:
            conn.topics.discard(topic)
        self._release(conn)
        self._reply(conn, "unsubscribe", True, "", req_id)

    def _forget(self, conn: _Conn) -> None:
        conn.topics.clear()
        self._release(conn)

    def _release(self, conn: _Conn) -> None:
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

    async def _publish(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self._tick()
            except Exception:
                # The publisher must outlive a bad tick; the next one diffs from where it was.
                log.exception("the WebSocket publisher failed a tick")

    def _stream_fault(self, path: str, kinds: frozenset[str] = _STREAM_KINDS) -> str | None:
        faults = self.state.faults
        paths = ("/v5/public", "/v5/private")
        if not any(r.kind in kinds and r.path.startswith(paths) for r in faults.rules):
            return None
        rule = faults.choose("GET", path)
        return rule.kind if rule is not None and rule.kind in kinds else None

    def _drop_fault(self, path: str) -> bool:
        return self._stream_fault(path, _DROP_KINDS) is not None

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
                elif kind == "silence":
                    conn.silent_until = time.monotonic() + value

    def _tick(self) -> None:
        self._apply_controls()
        for conn in list(self._conns):
            if self._drop_fault(conn.path):
                self.stats["drops"] += 1
                conn.abort()
        if not self._public and not self._accounts:
            return
        with self.state.lock:
            now = self.state.now_ms()
            for state in list(self._public.values()):
                for frame in state.poll(now):
                    text = _dumps(frame)
                    delta = frame.get("type") == "delta" and isinstance(state, _BookTopic)
                    for conn in list(state.subscribers):
                        if delta and conn.gaps > 0:
                            conn.gaps -= 1
                            self.stats["gaps_injected"] += 1
                            continue
                        self._send(conn, text)
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
        self, conn: _Conn, account: _Account, topic: str, items: list[dict[str, Any]], now: int
    ) -> None:
        if topic in conn.topics:
            self._send(conn, account.frame(topic, items, now))
        for category in _CATEGORIES:
            name = f"{topic}.{category}"
            if name in conn.topics:
                chosen = [i for i in items if i.get("category") == category]
                if chosen:
                    self._send(conn, account.frame(name, chosen, now))
