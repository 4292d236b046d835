"""Section 6: order book stream handling, our book state machine next to pybit's, same feed.

    python -m benchmarks --only stream          # in the harness: interleaved runs, the report
    python -m benchmarks.bench_stream [--deltas 10000] [--depth 50] [--repeat 7] [--seed 1]

The feed is a Bybit ``orderbook.50`` stream generated from a seed: one snapshot of 50 levels a
side, then ``--deltas`` delta messages of 1-6 level changes each (size updates, deletions,
insertions; never crossing; consecutive ``u``), as JSON text, the form both clients receive.

Rows (messages per second; higher is better):

* ``ours: decode + apply``: ``json.loads`` then our ``BookFeed`` (Bybit decoder to Decimals,
  continuity check, ``OrderBookState``), offering the book to a conflating consumer that does
  not read (what a stream costs while the consumer is busy);
* ``ours: decode + apply + view``: the same plus an ``OrderBook`` model (50 levels a side,
  sorted, Decimal) after every message, as if the consumer read every update;
* ``ours: apply only``: the state machine on pre-decoded messages;
* ``pybit: on_message``: pybit 5.17's ``_V5WebSocketManager._on_message`` with a callback on
  the topic: ``json.loads``, its list-based delta handling, and the ``copy.deepcopy`` of the
  whole book it hands every callback (strings, unsorted inserts, no sequence check);
* ``pybit: delta handling only``: ``_process_delta_orderbook`` on pre-decoded messages.

Both books are compared before timing (same levels, no resync; ``check_same_levels``), so the
numbers are for the same work done and a wrong book fails the benchmark. Standalone, each row is
the best of ``--repeat`` passes over the feed; in the harness (``cases``), every pass is timed
and rates and ratios are medians over interleaved runs.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from adapters.bybit.stream import BookDecoder
from benchmarks.harness import Case
from exchanges.stream.book import OrderBookState, consecutive
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import BookFeed, Sink

TOPIC = "orderbook.50.BTCUSDT"


def generate(deltas: int, depth: int, seed: int) -> list[str]:
    """A snapshot and ``deltas`` consistent delta messages, as JSON text."""
    rng = random.Random(seed)
    tick = Decimal("0.1")
    mid = 650_000  # in ticks: 65,000.0
    bids = {mid - 1 - i: rng.randint(1, 5000) for i in range(depth)}
    asks = {mid + 1 + i: rng.randint(1, 5000) for i in range(depth)}

    def text(ticks: int) -> str:
        return str(ticks * tick)

    def size(lots: int) -> str:
        return f"{lots / 1000:.3f}"

    u, seq, ts = 1_000_000, 7_000_000_000, 1_700_000_000_000
    messages = [
        {
            "topic": TOPIC,
            "type": "snapshot",
            "ts": ts,
            "data": {
                "s": "BTCUSDT",
                "b": [[text(p), size(bids[p])] for p in sorted(bids, reverse=True)],
                "a": [[text(p), size(asks[p])] for p in sorted(asks)],
                "u": u,
                "seq": seq,
            },
            "cts": ts,
        }
    ]
    for _ in range(deltas):
        changes: dict[str, list[list[str]]] = {"b": [], "a": []}
        touched: set[tuple[str, int]] = set()
        for _ in range(rng.randint(1, 6)):
            side_name = rng.choice("ba")
            side = bids if side_name == "b" else asks
            other = asks if side_name == "b" else bids
            roll = rng.random()
            if roll < 0.6 and side:
                price = rng.choice(list(side))
                if (side_name, price) in touched:
                    continue
                side[price] = rng.randint(1, 5000)
                changes[side_name].append([text(price), size(side[price])])
            elif roll < 0.8 and len(side) > depth // 2:
                price = rng.choice(list(side))
                if (side_name, price) in touched:
                    continue
                del side[price]
                changes[side_name].append([text(price), "0"])
            else:
                # A new level somewhere between the best and the worst, never crossing.
                best_other = min(other) if side_name == "b" else max(other)
                if side_name == "b":
                    price = rng.randint(min(side) - 5, best_other - 1)
                else:
                    price = rng.randint(best_other + 1, max(side) + 5)
                if price in side or (side_name, price) in touched:
                    continue
                side[price] = rng.randint(1, 5000)
                changes[side_name].append([text(price), size(side[price])])
            touched.add((side_name, price))
        u += 1
        seq += rng.randint(1, 50)
        ts += rng.randint(1, 40)
        messages.append(
            {
                "topic": TOPIC,
                "type": "delta",
                "ts": ts,
                "data": {"s": "BTCUSDT", "b": changes["b"], "a": changes["a"], "u": u, "seq": seq},
                "cts": ts,
            }
        )
    return [json.dumps(m, separators=(",", ":")) for m in messages]


def message_count(deltas: int) -> int:
    """Messages in the feed of ``deltas`` deltas (the snapshot first): what one case processes."""
    return deltas + 1


def best_rate(run: Callable[[], None], count: int, repeat: int) -> float:
    """Messages per second of the fastest of ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def ours_feed() -> tuple[BookFeed, Sink]:
    spec = FeedSpec(
        group="public/linear",
        topic=TOPIC,
        mode="book",
        decoder=BookDecoder,
        continuity=consecutive,
        depth=50,
        symbol="BTC/USDT:USDT",
    )
    feed = BookFeed(spec, logging.getLogger("bench"), 1000)
    sink = Sink(feed.new_channel(), None, 50)
    feed.attach(sink)
    return feed, sink


def _pybit_manager() -> Any:
    from pybit._websocket_stream import _V5WebSocketManager

    manager = _V5WebSocketManager("bench", testnet=False)
    manager._set_callback(TOPIC, lambda message: None)
    return manager


def check_same_levels(raw: list[str]) -> None:
    """Feed ``raw`` to our book and to pybit's; raise unless both end with the same levels."""
    feed, _ = ours_feed()
    for message in raw:
        feed.on_message(json.loads(message))
    manager = _pybit_manager()
    for message in raw:
        manager._on_message(message)
    theirs = manager.data[TOPIC]
    ours = feed.state.view()
    sides = (
        ("bids", ours.bids, theirs["b"], lambda level: -Decimal(level[0])),
        ("asks", ours.asks, theirs["a"], lambda level: Decimal(level[0])),
    )
    for side, mine, other, key in sides:
        got = [(str(p), str(q)) for p, q in mine]
        expected = sorted(((p, q) for p, q in other), key=key)
        if feed.resyncs or got != expected:
            raise RuntimeError(
                f"order book stream: our {side} differ from pybit's after {len(raw)} messages "
                f"(resyncs {feed.resyncs}; ours {got[:3]}..., pybit {expected[:3]}...)"
            )


PYBIT = "pybit: on_message"


def cases(deltas: int = 10_000, depth: int = 50, seed: int = 1) -> list[Case]:
    """One case per approach; each callable processes the whole feed once, from a fresh book.

    The feed is generated here and both books are checked to end with the same levels first, so
    a wrong book fails the benchmark instead of being timed. Time ratios are per run against
    ``pybit: on_message`` (its rate over ours is the inverse).
    """
    raw = generate(deltas, depth, seed)
    check_same_levels(raw)
    decoded = [json.loads(m) for m in raw]
    book_messages = [BookDecoder().decode(m) for m in decoded]

    def ours_apply() -> Callable[[], None]:
        def run() -> None:
            feed, _ = ours_feed()
            loads, on_message = json.loads, feed.on_message
            for message in raw:
                on_message(loads(message))
            if feed.resyncs:
                raise RuntimeError(f"order book stream: {feed.resyncs} resync(s) on a clean feed")

        return run

    def ours_view() -> Callable[[], None]:
        def run() -> None:
            feed, _ = ours_feed()
            loads, on_message, view = json.loads, feed.on_message, feed.state.view
            for message in raw:
                on_message(loads(message))
                view(50)

        return run

    def ours_state() -> Callable[[], None]:
        def run() -> None:
            state = OrderBookState("BTC/USDT:USDT", consecutive, max_levels=100)
            apply = state.apply
            for message in book_messages:
                apply(message)

        return run

    def pybit_on_message() -> Callable[[], None]:
        def run() -> None:
            on_message = _pybit_manager()._on_message
            for message in raw:
                on_message(message)

        return run

    def pybit_delta_only() -> Callable[[], None]:
        def run() -> None:
            process = _pybit_manager()._process_delta_orderbook
            for message in decoded:
                # pybit keeps the snapshot dict itself and edits it: a fresh copy per run.
                if message["type"] == "snapshot":
                    message = json.loads(json.dumps(message))
                process(message, TOPIC)

        return run

    versus = {PYBIT: "pybit on_message"}
    return [
        Case("ours: decode + apply", "`json.loads` + `BookFeed.on_message` (decode to Decimal, "
             "continuity, book state), conflating consumer not reading", ours_apply, "stream",
             versus=versus),
        Case("ours: decode + apply + view", "the same + `OrderBook` view (50 a side) after every "
             "message", ours_view, "stream", versus=versus),
        Case("ours: apply only", "`OrderBookState.apply` on pre-decoded messages", ours_state,
             "stream", versus=versus),
        Case(PYBIT, "pybit `_V5WebSocketManager._on_message` with a topic callback (`json.loads`, "
             "list-based deltas, deepcopy of the book per callback)", pybit_on_message, "stream"),
        Case("pybit: delta handling only", "pybit `_process_delta_orderbook` on pre-decoded "
             "messages", pybit_delta_only, "stream", versus=versus),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=10_000)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)

    count = message_count(options.deltas)
    rates = {
        case.name: best_rate(case.make(), count, options.repeat)
        for case in cases(options.deltas, options.depth, options.seed)
    }

    print(
        f"order book stream: 1 snapshot + {options.deltas} deltas, {options.depth} levels a side, "
        f"best of {options.repeat}; Python {platform.python_version()} on {platform.machine()}"
    )
    width = max(len(name) for name in rates)
    base = rates[PYBIT]
    for name, rate in rates.items():
        print(f"  {name:<{width}}  {rate:>10,.0f} msg/s  {rate / base:5.2f}x pybit on_message")
    return rates


if __name__ == "__main__":
    main()
