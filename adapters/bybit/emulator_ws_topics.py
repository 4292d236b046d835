"""The emulator's Bybit v5 public topics: book, ticker, kline and trade frames from the engine.

Shapes as on Bybit (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook "Orderbook",
.../public/ticker "Ticker", .../public/kline "Kline", .../public/trade "Trade"). Each topic keeps
what it last sent and, polled, returns the frames that bring a subscriber up to date.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from exchanges.decimals import to_wire
from exchanges.emulator.engine import (
    CandleView,
    Engine,
    InstrumentSpec,
    OrderView,
)
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming, Outgoing
from exchanges.emulator.stream_cursors import CandleCursor, TradeCursor
from exchanges.emulator.ws_server import Connection, dumps

if TYPE_CHECKING:
    from adapters.bybit.emulator_triggers import BybitTriggers

__all__ = [
    "INTERVALS",
    "BookTopic",
    "KlineTopic",
    "RestSide",
    "Subscriber",
    "TickerTopic",
    "Topic",
    "TradeTopic",
    "dumps",
    "wire",
]

_FIRST_UPDATE_ID = 100  # u=1 means "a snapshot after a restart" on Bybit: start elsewhere
#: Kline intervals Bybit streams, in minutes.
INTERVALS = {
    "1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240,
    "360": 360, "720": 720, "D": 1440, "W": 10080, "M": 43200,
}  # fmt: skip


class RestSide(Protocol):
    """What the WebSocket side reads from the REST front-end (``BybitFrontEnd``).

    Named here so that the WebSocket modules never import the front-end, which imports them.
    """

    state: EmulatorState
    engine: Engine
    trigger_api: BybitTriggers

    def handle(self, request: Incoming) -> Outgoing | None:
        """Answer one REST request (the WebSocket side serves REST on the same port)."""

    def _verify(self, key: ApiKey, message: bytes, sign: str) -> bool: ...

    def _ticker_json(self, spec: InstrumentSpec) -> dict[str, Any]: ...

    def _order_json(self, order: OrderView) -> dict[str, Any]: ...

    def wallet_balance(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/wallet-balance``'s result."""


def wire(value: Decimal | None) -> str:
    """A decimal as Bybit writes it (plain digits), ``""`` for none."""
    return "" if value is None else to_wire(value)


class Subscriber(Connection):
    """One client's WebSocket connection: its key and topics besides the shared record."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, conn_id: str) -> None:
        super().__init__(ws, request)
        self.private = self.path == "/v5/private"
        self.category = None if self.private else self.path.rsplit("/", 1)[1]
        self.conn_id = conn_id
        self.key: ApiKey | None = None
        self.topics: set[str] = set()


class Topic:
    """A public topic's published state; ``poll`` returns the frames of what changed."""

    def __init__(self, topic: str, spec: InstrumentSpec) -> None:
        self.topic = topic
        self.spec = spec
        self.subscribers: set[Subscriber] = set()

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The frames a new subscriber gets first."""
        return []

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The frames of what changed since the last poll."""
        raise NotImplementedError


class BookTopic(Topic):
    """``orderbook.{depth}.{symbol}``: a snapshot, then deltas with ``u`` one up each time."""

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
        return [[self._price(p), wire(levels[p])] for p in sorted(levels, reverse=descending)]

    def _frame(self, kind: str, bids: list[list[str]], asks: list[list[str]], now: int) -> Any:
        return {
            "topic": self.topic,
            "type": kind,
            "ts": now,
            "data": {"s": self.spec.symbol, "b": bids, "a": asks, "u": self.u, "seq": self.seq},
            "cts": now,
        }

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The frames a new subscriber gets first."""
        return [
            self._frame(
                "snapshot", self._levels(self.bids, True), self._levels(self.asks, False), now
            )
        ]

    def _diff(self, old: dict[Decimal, Decimal], new: dict[Decimal, Decimal]) -> list[list[str]]:
        changed = [[self._price(p), wire(q)] for p, q in new.items() if old.get(p) != q]
        changed += [[self._price(p), "0"] for p in old if p not in new]
        return changed

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The frames of what changed since the last poll."""
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


class TickerTopic(Topic):
    """``tickers.{symbol}``: a snapshot, then the changed fields (derivatives) or snapshots."""

    def __init__(self, topic: str, spec: InstrumentSpec, front: RestSide) -> None:
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
        """The frames a new subscriber gets first."""
        return [self._frame("snapshot", dict(self.fields), now)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The frames of what changed since the last poll."""
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


class KlineTopic(Topic):
    """``kline.{interval}.{symbol}``: the open candle, and the closed one with ``confirm``."""

    def __init__(
        self, topic: str, spec: InstrumentSpec, engine: Engine, interval: str, now: int
    ) -> None:
        super().__init__(topic, spec)
        self.engine = engine
        self.interval = interval
        self.interval_ms = INTERVALS[interval] * 60_000
        self.candles = CandleCursor(engine, spec, self.interval_ms)
        self.last = self.candles.current()

    def _item(self, candle: CandleView, confirm: bool, now: int) -> dict[str, Any]:
        return {
            "start": candle.start_ms,
            "end": candle.start_ms + self.interval_ms - 1,
            "interval": self.interval,
            "open": wire(candle.open),
            "close": wire(candle.close),
            "high": wire(candle.high),
            "low": wire(candle.low),
            "volume": wire(candle.volume),
            "turnover": wire(candle.turnover),
            "confirm": confirm,
            "timestamp": now,
        }

    def _frame(self, items: list[dict[str, Any]], now: int) -> Any:
        return {"topic": self.topic, "data": items, "ts": now, "type": "snapshot"}

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The frames a new subscriber gets first."""
        return [self._frame([self._item(self.last, False, now)], now)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The frames of what changed since the last poll."""
        current = self.candles.current()
        last = self.last
        if current == last:
            return []
        items = []
        if current.start_ms != last.start_ms:
            items.append(self._item(self.candles.final(last), True, now))
        items.append(self._item(current, False, now))
        self.last = current
        return [self._frame(items, now)]


class TradeTopic(Topic):
    """``publicTrade.{symbol}``: new public trades, oldest first."""

    def __init__(self, topic: str, spec: InstrumentSpec, engine: Engine) -> None:
        super().__init__(topic, spec)
        self.engine = engine
        self.trades = TradeCursor(engine, spec)
        self.seq = 0

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The frames of what changed since the last poll."""
        spec = self.spec
        fresh = self.trades.fresh()
        if not fresh:
            return []
        items = []
        for trade in fresh:
            self.seq += 1
            item = {
                "T": trade.time_ms,
                "s": spec.symbol,
                "S": "Buy" if trade.side == "buy" else "Sell",
                "v": wire(trade.qty),
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
