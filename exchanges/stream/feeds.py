"""A feed is one subscribed topic: it decodes the topic's messages and delivers to its sinks.

Several ``watch_*`` calls on the same topic share one feed (one subscription on the wire); each
call has its own ``Sink``: a channel (``channels.py``), an optional ``select`` (a symbol
filter) and, for books, a depth. The four modes:

* ``LatestFeed``: the newest value wins (tickers, candles per start time);
* ``EventFeed``: every event is buffered up to a bound (trades, orders, fills);
* ``BookFeed``: an ``OrderBookState`` kept from snapshots and deltas; a gap asks the connection
  to resubscribe, and consumers see nothing until the new snapshot is in. With a seed (a REST
  snapshot), deltas that arrive without a pushed snapshot are held, the snapshot is fetched and
  the held deltas are replayed on it through the continuity check (older ones skipped); a
  snapshot older than the held deltas is fetched again (``SEED_ATTEMPTS`` times, then a
  resync);
* ``StateFeed``: a value that starts from a REST snapshot (``fetch_balance``) taken once every
  (re)subscription is confirmed, with the messages held since subscribing replayed on top.

What consumers are told: an event feed that was down (a reconnect) queues a
``StreamInterrupted`` in each consumer's buffer, in line with the events; a message that cannot
be decoded (a wrong shape, or a number no market has: NaN, an infinity, a negative size, a zero
price) fails the consumers of event and state feeds with ``BadResponse`` (what it carried is
lost) and makes a book resync, its state invalidated first so that no consumer sees it; a book
whose updates keep breaking their chain (more than ``RESYNC_LIMIT`` resyncs within
``RESYNC_WINDOW`` seconds, spaced by a backoff) fails its consumers with ``BadResponse``.

This module holds the latest-value and event feeds and ``make_feed``; the base (``Feed``,
``Sink``) is in ``feed_base``, ``BookFeed`` in ``book_feed`` and ``StateFeed`` in
``state_feed``, all re-exported here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from exchanges.errors import StreamInterrupted
from exchanges.stream.book_feed import RESYNC_LIMIT, RESYNC_WINDOW, SEED_ATTEMPTS, BookFeed
from exchanges.stream.channels import Buffer, Channel, Latest
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feed_base import DECODE_ERRORS, Feed, Select, Sink
from exchanges.stream.state_feed import StateFeed

__all__ = [
    "DECODE_ERRORS",
    "RESYNC_LIMIT",
    "RESYNC_WINDOW",
    "SEED_ATTEMPTS",
    "BookFeed",
    "EventFeed",
    "Feed",
    "LatestFeed",
    "Select",
    "Sink",
    "StateFeed",
    "make_feed",
]


class LatestFeed(Feed):
    """The newest value wins; with a key (a candle's start), the newest per key, in order."""

    def __init__(self, spec: FeedSpec, log: logging.Logger, max_buffer: int) -> None:
        super().__init__(spec, log, max_buffer)
        self.decoder = spec.decoder()
        self.last: Any = None

    def attach(self, sink: Sink) -> None:
        """Add a consumer; it starts from the last value seen."""
        super().attach(sink)
        if self.last is not None:
            self._offer(sink, self.last)

    def on_subscribed(self) -> None:
        """Deltas from before the (re)subscription no longer apply."""
        self.decoder.reset()

    def on_interrupted(self) -> None:
        """Deltas from before the reconnect no longer apply."""
        super().on_interrupted()
        self.decoder.reset()

    def on_message(self, message: Any) -> None:
        """Decode and offer each value to every consumer."""
        self.messages += 1
        for value in self.decoder.decode(message):
            self.last = value
            for sink in self.sinks:
                self._offer(sink, value)

    def _offer(self, sink: Sink, value: Any) -> None:
        chosen = self._select(sink, value)
        if chosen is None:
            return
        key = self.spec.key(value) if self.spec.key is not None else None
        assert isinstance(sink.channel, Latest)
        sink.channel.offer(lambda: chosen, key)


class EventFeed(Feed):
    """Every event is buffered for every consumer, up to a bound."""

    def __init__(self, spec: FeedSpec, log: logging.Logger, max_buffer: int) -> None:
        super().__init__(spec, log, max_buffer)
        self.decoder = spec.decoder()
        self.interruptions = 0

    def new_channel(self) -> Channel[Any]:
        """A bounded buffer: events are never dropped silently."""
        return Buffer(self.max_buffer)

    def on_interrupted(self) -> None:
        """Events sent while the connection is down are lost: each consumer is told once back."""
        super().on_interrupted()
        self.interruptions += 1
        self.decoder.reset()
        now = time.time()
        told = False
        for sink in self.sinks:
            # A consumer still waiting for its first confirmation has missed nothing yet.
            if sink.live and sink.down_since is None:
                sink.down_since = now
                told = True
        if told:
            self.log.warning(
                "%s: the connection dropped; events sent before it is back are lost, and the "
                "consumers will be told (StreamInterrupted) when it is",
                self.topic,
            )

    def on_confirmed(self) -> None:
        """Back: queue ``StreamInterrupted`` for each consumer that was live when it dropped."""
        super().on_confirmed()
        now = time.time()
        for sink in self.sinks:
            since = sink.down_since
            if since is None:
                continue
            sink.down_since = None
            assert isinstance(sink.channel, Buffer)
            sink.channel.interrupt(
                StreamInterrupted(
                    f"the {self.topic} stream was down from {_clock(since)} to {_clock(now)} "
                    f"UTC ({now - since:.3g} s)",
                    exchange=self.exchange,
                    down_from=since,
                    down_until=now,
                )
            )

    def on_message(self, message: Any) -> None:
        """Decode and push each event to every consumer."""
        self.messages += 1
        for value in self.decoder.decode(message):
            for sink in self.sinks:
                chosen = self._select(sink, value)
                if chosen is not None:
                    assert isinstance(sink.channel, Buffer)
                    sink.channel.push(chosen)

    def on_bad_message(self, error: Exception) -> None:
        """An event that cannot be read is an event lost: the consumers must know."""
        super().on_bad_message(error)
        self._fail_undecodable(
            error, "An event was lost; reconcile over REST before watching again."
        )


def _clock(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def make_feed(
    spec: FeedSpec,
    log: logging.Logger,
    max_buffer: int,
    seed: Callable[[], Any] | None = None,
    *,
    resync_delay: float = 0.5,
    resync_max_delay: float = 30.0,
) -> Feed:
    """The feed class of a spec's mode."""
    if spec.mode == "book":
        return BookFeed(
            spec,
            log,
            max_buffer,
            resync_delay=resync_delay,
            resync_max_delay=resync_max_delay,
            seed=seed,
        )
    if spec.mode == "events":
        return EventFeed(spec, log, max_buffer)
    if spec.mode == "state":
        if seed is None:
            raise ValueError(f"{spec.topic} is a state feed without a seed")
        return StateFeed(spec, log, max_buffer, seed)
    return LatestFeed(spec, log, max_buffer)
