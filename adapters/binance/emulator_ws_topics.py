"""Binance emulator WebSocket: the public streams, each diffing the engine on every publisher tick.

Stream names and payloads as Binance documents them (spot "WebSocket Streams",
https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams; USD-M "Websocket
Market Streams",
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams):

* ``<s>@depth[@100ms|@500ms]``: ``depthUpdate`` with ``U`` (first update id of the event) and
  ``u`` (last); USD-M adds ``T`` and ``pu`` (the previous event's ``u``). Update ids are the
  engine book's ``update_id``, the same number ``GET /api/v3/depth`` and ``/fapi/v1/depth``
  answer as ``lastUpdateId``, so a client can bootstrap from REST as Binance's "How to manage
  a local order book correctly" says. Ticks that change nothing send nothing; the next event's
  ``U`` then still follows the last one sent, so no id goes missing;
* ``<s>@trade`` (``t`` an integer id), ``<s>@aggTrade`` (each engine trade its own aggregate, as
  over REST), ``<s>@kline_<i>`` (``k.x`` true on the closing update of a candle), ``<s>@ticker``
  (``24hrTicker``) and ``<s>@bookTicker`` (spot: no ``e``/``E``; USD-M: ``e:"bookTicker"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import _INTERVALS, _f8, _w
from exchanges.emulator.engine import CandleView, InstrumentSpec
from exchanges.emulator.stream_cursors import CandleCursor, TradeCursor

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd

__all__ = ["KINDS", "Topic", "make_topic", "stream_kind"]

#: How often the 24 h ticker and the current candle are pushed when nothing changed (spot docs:
#: "Update Speed: 1000ms" and "2000ms").
_TICKER_EVERY_MS, _KLINE_EVERY_MS = 1000, 2000
#: Depth levels tracked per side (spot's REST snapshot goes up to 5000).
_TRACKED = 5000
#: USD-M stream kinds by path since the 2026 split ("Important WebSocket Change Notice",
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Important-WebSocket-Change-Notice):
#: books and book tickers on ``/public``, the rest of market data on ``/market``. ``@trade``
#: is served on ``/public`` (undocumented for USD-M; where it is seen to deliver).
KINDS = {"depth": "public", "bookTicker": "public", "trade": "public"}


def stream_kind(name: str) -> str:
    """The USD-M path (``public``/``market``) a stream name belongs to."""
    channel = name.partition("@")[2].partition("@")[0].partition("_")[0]
    return KINDS.get(channel, "market")


class Topic:
    """One stream's published state; ``poll`` returns the payloads of what changed."""

    def __init__(self, name: str, spec: InstrumentSpec, front: BinanceFrontEnd) -> None:
        self.name = name
        self.spec = spec
        self.front = front
        self.engine = front.engine
        self.usdm = spec.category == "linear"
        self.fmt = _w if self.usdm else _f8
        self.subscribers: set[Any] = set()

    def poll(self, now: int) -> list[dict[str, Any]]:
        """Payloads of what changed since the last poll."""
        return []


class DepthTopic(Topic):
    """``<s>@depth``: diff depth events over the engine's book update ids."""

    is_depth = True

    def __init__(self, name: str, spec: InstrumentSpec, front: BinanceFrontEnd) -> None:
        super().__init__(name, spec, front)
        view = self.engine.book(spec.symbol, _TRACKED, category=spec.category)
        self.last_u = view.update_id
        self.bids, self.asks = dict(view.bids), dict(view.asks)

    def _diff(self, old: Mapping[Decimal, Decimal], new: Mapping[Decimal, Decimal]) -> list[Any]:
        fmt = self.fmt
        changed = [[fmt(p), fmt(q)] for p, q in sorted(new.items()) if old.get(p) != q]
        return changed + [[fmt(p), fmt(Decimal(0))] for p in sorted(old) if p not in new]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """One ``depthUpdate`` covering ``[last u + 1, update_id]`` when a level changed."""
        spec = self.spec
        view = self.engine.book(spec.symbol, _TRACKED, category=spec.category)
        if view.update_id == self.last_u:
            return []
        bids, asks = dict(view.bids), dict(view.asks)
        b, a = self._diff(self.bids, bids), self._diff(self.asks, asks)
        if not b and not a:
            return []
        event: dict[str, Any] = {"e": "depthUpdate", "E": now}
        if self.usdm:
            event["T"] = now
        event.update({"s": spec.symbol, "U": self.last_u + 1, "u": view.update_id})
        if self.usdm:
            event["pu"] = self.last_u
        event.update({"b": b, "a": a})
        self.last_u, self.bids, self.asks = view.update_id, bids, asks
        return [event]


class TradeTopic(Topic):
    """``<s>@trade`` and ``<s>@aggTrade``: the engine's new public trades."""

    def __init__(
        self, name: str, spec: InstrumentSpec, front: BinanceFrontEnd, aggregate: bool
    ) -> None:
        super().__init__(name, spec, front)
        self.aggregate = aggregate
        self.trades = TradeCursor(self.engine, spec)

    def poll(self, now: int) -> list[dict[str, Any]]:
        """One event per new trade, oldest first."""
        spec = self.spec
        fresh = self.trades.fresh()
        if not fresh:
            return []
        events, fmt = [], self.fmt
        for trade in fresh:
            number = self.front._trade_ids.of(trade.trade_id)
            price, qty = fmt(trade.price.quantize(spec.tick_size)), fmt(trade.qty)
            maker = trade.side == "sell"  # the buyer was the maker: the taker sold
            if self.aggregate:
                event: dict[str, Any] = {"e": "aggTrade", "E": now, "s": spec.symbol, "a": number}
                event.update({"p": price, "q": qty})
                if self.usdm:
                    event["nq"] = qty
                event.update({"f": number, "l": number, "T": trade.time_ms, "m": maker})
            else:
                event = {"e": "trade", "E": now, "s": spec.symbol, "t": number, "p": price}
                event.update({"q": qty, "T": trade.time_ms, "m": maker})
            if not self.usdm:
                event["M"] = True
            events.append(event)
        return events


class KlineTopic(Topic):
    """``<s>@kline_<i>``: the current candle when it changes; the closed one when a new starts."""

    def __init__(
        self, name: str, spec: InstrumentSpec, front: BinanceFrontEnd, interval: str
    ) -> None:
        super().__init__(name, spec, front)
        self.interval = interval
        self.interval_ms = _INTERVALS[interval] * 60_000
        self.candles = CandleCursor(self.engine, spec, self.interval_ms)
        self.last: CandleView | None = None
        self.sent_ms = 0

    def _event(self, c: CandleView, closed: bool, now: int) -> dict[str, Any]:
        fmt, zero = self.fmt, Decimal(0)
        k = {"t": c.start_ms, "T": c.start_ms + self.interval_ms - 1, "s": self.spec.symbol}
        k.update({"i": self.interval, "f": -1, "L": -1, "o": fmt(c.open), "c": fmt(c.close)})
        k.update({"h": fmt(c.high), "l": fmt(c.low), "v": fmt(c.volume), "n": 0, "x": closed})
        k.update({"q": fmt(c.turnover), "V": fmt(zero), "Q": fmt(zero), "B": "0"})
        return {"e": "kline", "E": now, "s": self.spec.symbol, "k": k}

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The current candle on the first poll and whenever it changes."""
        current, last = self.candles.current(), self.last
        # Binance pushes the current candle every 2 s, changed or not (a new subscriber of a
        # quiet market still gets one).
        if current == last and now - self.sent_ms < _KLINE_EVERY_MS:
            return []
        self.sent_ms = now
        events = []
        if last is not None and current.start_ms != last.start_ms:
            events.append(self._event(self.candles.final(last), True, now))
        events.append(self._event(current, False, now))
        self.last = current
        return events


class TickerTopic(Topic):
    """``<s>@ticker`` (24hr rolling) and ``<s>@bookTicker``, sent when their fields change."""

    def __init__(self, name: str, spec: InstrumentSpec, front: BinanceFrontEnd, book: bool) -> None:
        super().__init__(name, spec, front)
        self.book = book
        self.last: tuple[Any, ...] | None = None
        self.book_id = 0
        self.sent_ms = 0

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The ticker when a field changed (the first poll always sends one)."""
        spec, fmt = self.spec, self.fmt
        t = self.engine.ticker(spec.symbol, category=spec.category)
        if self.book:
            state: tuple[Any, ...] = (t.bid, t.bid_size, t.ask, t.ask_size)
        else:
            state = (t.last, t.bid, t.ask, t.high_24h, t.low_24h, t.volume_24h, t.open_24h)
        # The 24 h ticker is pushed every second, changed or not; the book ticker on changes.
        if state == self.last and (self.book or now - self.sent_ms < _TICKER_EVERY_MS):
            return []
        self.last, self.sent_ms = state, now
        if self.book:
            self.book_id += 1
            event: dict[str, Any] = {"u": self.book_id, "s": spec.symbol}
            if self.usdm:
                event = {"e": "bookTicker", "u": self.book_id, "E": now, "T": now, **event}
            event.update({"b": fmt(t.bid), "B": fmt(t.bid_size), "a": fmt(t.ask)})
            event["A"] = fmt(t.ask_size)
            return [event]
        rest = self.front._ticker(spec, "usdm" if self.usdm else "spot")
        event = {"e": "24hrTicker", "E": now, "s": spec.symbol, "p": rest["priceChange"]}
        event.update({"P": rest["priceChangePercent"], "w": rest["weightedAvgPrice"]})
        if not self.usdm:
            event["x"] = rest["prevClosePrice"]
        event.update({"c": fmt(t.last), "Q": fmt(Decimal(0))})
        if not self.usdm:
            event.update({"b": fmt(t.bid), "B": fmt(t.bid_size)})
            event.update({"a": fmt(t.ask), "A": fmt(t.ask_size)})
        event.update({"o": fmt(t.open_24h), "h": fmt(t.high_24h), "l": fmt(t.low_24h)})
        event.update({"v": fmt(t.volume_24h), "q": fmt(t.turnover_24h)})
        event.update({"O": rest["openTime"], "C": rest["closeTime"], "F": -1, "L": -1, "n": 0})
        return [event]


def make_topic(name: str, category: str, front: BinanceFrontEnd) -> Topic | None:
    """The topic a stream name denotes, or None when no such stream exists (Binance then acks
    and sends nothing)."""
    symbol, _, channel = name.partition("@")
    spec = front.engine.instruments.get((category, symbol.upper()))
    if spec is None or symbol != symbol.lower():
        return None
    # Spot documents @depth and @depth@100ms; the official SDK also sends @depth@1000ms (its
    # default), which Binance serves. USD-M: @100ms, @250ms (the default), @500ms.
    speeds = ("", "@100ms", "@1000ms") if category == "spot" else ("", "@100ms", "@250ms", "@500ms")
    if channel.startswith("depth") and channel[5:] in speeds:
        return DepthTopic(name, spec, front)
    if channel in ("trade", "aggTrade"):
        return TradeTopic(name, spec, front, aggregate=channel == "aggTrade")
    if channel.startswith("kline_") and channel[6:] in _INTERVALS:
        return KlineTopic(name, spec, front, channel[6:])
    if channel in ("ticker", "bookTicker"):
        return TickerTopic(name, spec, front, book=channel == "bookTicker")
    return None
