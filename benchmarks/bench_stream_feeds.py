"""Generated order book feeds in each exchange's wire format, for ``bench_stream_venues``.

One book evolution (``evolve``) is drawn from a seed: a starting book of ``depth`` levels a side
(sparse prices, as on a real book) and ``deltas`` steps of ``changes`` level changes each (size
updates, deletions, insertions, mostly near the top of the book; never crossing; the book stays
within 10 % of ``depth`` levels a side). Each venue renders it the way the exchange sends it,
as text: the REST snapshot a client bootstraps from, then the stream's diff messages.

* Binance spot: ``GET /api/v3/depth`` (``lastUpdateId``, 8-decimal strings), then
  ``depthUpdate`` events covering ``[U, u]``; the first spans ``lastUpdateId + 1``, each next
  ``U`` is the last ``u`` + 1 ("How to manage a local order book correctly",
  https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams).
* Binance USD-M: ``GET /fapi/v1/depth`` (``lastUpdateId``, ``E``, ``T``), then ``depthUpdate``
  events with ``pu`` (the last event's ``u``); ids are not contiguous between events; the first
  has ``U <= lastUpdateId <= u`` (USD-M "How to manage a local order book correctly").
* OKX: ``GET /api/v5/market/books`` (``data[0]`` with ``seqId``), then ``books`` pushes with
  ``action: update``, ``prevSeqId`` = the last ``seqId`` (steps of 1-100, not +1), ``checksum``
  0, levels ``[px, sz, "0", orders]`` (the REST bootstrap of
  https://www.okx.com/docs-v5/log_en, "How to manage a local order book correctly").

Binance frames come in two envelopes of the same event bytes: the combined stream's
``{"stream", "data"}`` (``/stream``, what our client subscribes to) and the raw event (``/ws``,
what ccxt.pro subscribes to). ``Feed.bids``/``asks`` are the final book, best first, as text:
both clients' books are checked against it.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_left, insort
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Evolution", "Feed", "binance_spot", "binance_usdm", "evolve", "fixed", "okx", "plain"]

Step = tuple[dict[int, int], dict[int, int]]  # bid and ask changes: price tick -> lots (0: gone)


@dataclass
class Evolution:
    """A starting book and the steps applied to it, in ticks and lots."""

    bids: dict[int, int]
    asks: dict[int, int]
    steps: list[Step]
    final_bids: dict[int, int]
    final_asks: dict[int, int]


@dataclass
class Feed:
    """One venue's rendering: the REST snapshot text and the diff messages, as sent."""

    venue: str
    symbol: str
    rest: str
    messages: list[str]
    #: Binance: the same events without the combined stream's envelope (ccxt.pro's ``/ws``).
    raw_messages: list[str] = field(default_factory=list)
    bids: list[tuple[str, str]] = field(default_factory=list)
    asks: list[tuple[str, str]] = field(default_factory=list)


def _top(rng: random.Random, prices: list[int], best_last: bool) -> int:
    # Most changes land near the best price, as on a real book.
    k = min(int(rng.expovariate(1 / 12)), len(prices) - 1)
    return prices[-1 - k] if best_last else prices[k]


def evolve(depth: int, deltas: int, seed: int, changes: tuple[int, int] = (1, 6)) -> Evolution:
    """A book of ``depth`` levels a side and ``deltas`` steps of ``changes`` level changes."""
    rng = random.Random(seed)
    mid = 6_500_000  # in ticks of 0.01: 65,000.00
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    price = mid - 1
    for _ in range(depth):
        bids[price] = rng.randint(1, 50_000)
        price -= rng.randint(1, 4)
    price = mid + 1
    for _ in range(depth):
        asks[price] = rng.randint(1, 50_000)
        price += rng.randint(1, 4)
    start_bids, start_asks = dict(bids), dict(asks)
    bid_prices, ask_prices = sorted(bids), sorted(asks)
    low, high = int(depth * 0.9), int(depth * 1.1)
    steps: list[Step] = []
    for _ in range(deltas):
        step: Step = ({}, {})
        for _ in range(rng.randint(*changes)):
            is_bid = rng.random() < 0.5
            side, prices = (bids, bid_prices) if is_bid else (asks, ask_prices)
            touched = step[0] if is_bid else step[1]
            roll = rng.random()
            if roll < 0.2 and len(prices) > low:
                level = _top(rng, prices, is_bid)
                if level in touched:
                    continue
                del side[level]
                del prices[bisect_left(prices, level)]
                touched[level] = 0
            elif roll < 0.4 and len(prices) < high:
                if is_bid:
                    level = bid_prices[-1] + rng.randint(-40, 2)
                    fits = level < ask_prices[0]
                else:
                    level = ask_prices[0] + rng.randint(-2, 40)
                    fits = level > bid_prices[-1]
                if not fits or level in side or level in touched:
                    continue
                side[level] = touched[level] = rng.randint(1, 50_000)
                insort(prices, level)
            else:
                level = _top(rng, prices, is_bid)
                if level in touched:
                    continue
                side[level] = touched[level] = rng.randint(1, 50_000)
        steps.append(step)
    return Evolution(start_bids, start_asks, steps, bids, asks)


Format = Callable[[int, int], str]  # (integer, decimals) -> the exchange's text


def fixed(places: int) -> Format:
    """Numbers with ``places`` decimals, trailing zeros kept (Binance: "65000.01000000")."""

    def text(value: int, decimals: int) -> str:
        whole, part = divmod(value, 10**decimals)
        digits = f"{part:0{decimals}d}".ljust(places, "0")[:places]
        return f"{whole}.{digits}" if places else str(whole)

    return text


def plain(value: int, decimals: int) -> str:
    """The shortest decimal text (OKX: "65000.1", "0.02", "3")."""
    whole, part = divmod(value, 10**decimals)
    digits = f"{part:0{decimals}d}".rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def _levels(side: dict[int, int], price: Format, size: Format, bids: bool) -> list[list[str]]:
    return [[price(p, 2), size(side[p], 3)] for p in sorted(side, reverse=bids)]


def _changes(changes: dict[int, int], price: Format, size: Format) -> list[list[str]]:
    return [[price(p, 2), size(q, 3)] for p, q in changes.items()]


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _final(feed: Feed, evolution: Evolution, price: Format, size: Format) -> Feed:
    feed.bids = [(a, b) for a, b in _levels(evolution.final_bids, price, size, True)]
    feed.asks = [(a, b) for a, b in _levels(evolution.final_asks, price, size, False)]
    return feed


def _binance(evolution: Evolution, usdm: bool, seed: int) -> Feed:
    rng = random.Random(seed + 1)
    # Spot sends 8 decimals ("65000.01000000"); USD-M the market's own (2 and 3 here).
    price, size = (fixed(2), fixed(3)) if usdm else (fixed(8), fixed(8))
    last = 71_234_567_890
    ts = 1_700_000_000_000
    snapshot: dict[str, object] = {"lastUpdateId": last}
    if usdm:
        snapshot.update(E=ts, T=ts - 3)
    snapshot["bids"] = _levels(evolution.bids, price, size, True)
    snapshot["asks"] = _levels(evolution.asks, price, size, False)
    combined, raw = [], []
    first_u = last
    prev: int | None
    for index, (bid_changes, ask_changes) in enumerate(evolution.steps):
        ts += rng.randint(90, 110)
        if index == 0:
            # The first event covers the snapshot's id (spot: lastUpdateId + 1).
            first = last - rng.randint(0, 3)
            u = last + (0 if usdm else 1) + rng.randint(0, 5)
            prev = first - rng.randint(1, 50)
        elif usdm:
            prev = first_u
            first = prev + rng.randint(1, 30)
            u = first + rng.randint(0, 12)
        else:
            prev = None
            first = first_u + 1
            u = first + rng.randint(0, 8)
        event: dict[str, object] = {"e": "depthUpdate", "E": ts}
        if usdm:
            event["T"] = ts - rng.randint(1, 5)
        event.update(s="BTCUSDT", U=first, u=u)
        if usdm:
            event["pu"] = prev
        event["b"] = _changes(bid_changes, price, size)
        event["a"] = _changes(ask_changes, price, size)
        first_u = u
        text = _dumps(event)
        raw.append(text)
        combined.append('{"stream":"btcusdt@depth@100ms","data":' + text + "}")
    symbol = "BTC/USDT:USDT" if usdm else "BTC/USDT"
    feed = Feed("binance_usdm" if usdm else "binance_spot", symbol, _dumps(snapshot), combined, raw)
    return _final(feed, evolution, price, size)


def binance_spot(evolution: Evolution, seed: int) -> Feed:
    """Binance spot: ``/api/v3/depth`` then combined-stream ``depthUpdate`` events (U/u)."""
    return _binance(evolution, False, seed)


def binance_usdm(evolution: Evolution, seed: int) -> Feed:
    """Binance USD-M: ``/fapi/v1/depth`` then ``depthUpdate`` events chained by ``pu``."""
    return _binance(evolution, True, seed)


def okx(evolution: Evolution, seed: int) -> Feed:
    """OKX spot BTC-USDT: ``/api/v5/market/books`` then ``books`` updates chained by seqId."""
    rng = random.Random(seed + 2)
    price = size = plain
    seq = 30_123_456_789
    ts = 1_700_000_000_000

    def rows(levels: list[list[str]]) -> list[list[str]]:
        return [[p, q, "0", str(rng.randint(1, 30)) if q != "0" else "0"] for p, q in levels]

    item = {
        "asks": rows(_levels(evolution.asks, price, size, False)),
        "bids": rows(_levels(evolution.bids, price, size, True)),
        "ts": str(ts),
        "seqId": seq,
    }
    rest = _dumps({"code": "0", "msg": "", "data": [item]})
    messages = []
    for bid_changes, ask_changes in evolution.steps:
        ts += rng.randint(90, 110)
        prev, seq = seq, seq + rng.randint(1, 100)
        data = {
            "asks": rows(_changes(ask_changes, price, size)),
            "bids": rows(_changes(bid_changes, price, size)),
            "ts": str(ts),
            "checksum": 0,
            "prevSeqId": prev,
            "seqId": seq,
        }
        push = {
            "arg": {"channel": "books", "instId": "BTC-USDT"},
            "action": "update",
            "data": [data],
        }
        messages.append(_dumps(push))
    return _final(Feed("okx", "BTC/USDT", rest, messages), evolution, price, size)
