"""A feed is one subscribed topic: it decodes the topic's messages and delivers to its sinks.

Several ``watch_*`` calls on the same topic share one feed (one subscription on the wire); each
call has its own ``Sink``: a channel (``channels.py``), an optional ``select`` (a symbol
filter) and, for books, a depth. The four modes:

* ``LatestFeed``: the newest value wins (tickers, candles per start time);
* ``EventFeed``: every event is buffered up to a bound (trades, orders, fills);
* ``BookFeed``: an ``OrderBookState`` kept from snapshots and deltas; a gap asks the connection
  to resubscribe, and consumers see nothing until the new snapshot is in;
* ``StateFeed``: a value that starts from a REST snapshot (``fetch_balance``) on every
  (re)subscription, with messages that arrived meanwhile replayed on top.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchanges.errors import BadResponse, ExchangeError
from exchanges.stream.book import OrderBookState, consecutive
from exchanges.stream.channels import Buffer, Channel, Latest, StreamOverflow
from exchanges.stream.dialect import FeedSpec

if TYPE_CHECKING:
    from exchanges.stream.connection import WsConnection

__all__ = ["BookFeed", "EventFeed", "Feed", "LatestFeed", "Sink", "StateFeed", "make_feed"]

Select = Callable[[Any], Any]


class Sink:
    """One consumer of a feed: its channel, an optional filter/transform, a book depth."""

    __slots__ = ("channel", "feed", "limit", "make", "select")

    def __init__(self, channel: Channel[Any], select: Select | None, limit: int | None) -> None:
        self.channel = channel
        #: Returns the value to deliver, or None to skip this one (a symbol filter).
        self.select = select
        self.limit = limit
        self.feed: Feed | None = None
        #: Book sinks: builds this sink's view of the book when the consumer takes it.
        self.make: Callable[[], Any] | None = None


class Feed:
    """One subscribed topic and the sinks it delivers to."""

    def __init__(self, spec: FeedSpec, log: logging.Logger, max_buffer: int) -> None:
        self.spec = spec
        self.topic = spec.topic
        self.log = log
        self.max_buffer = max_buffer
        self.sinks: list[Sink] = []
        self.connection: WsConnection | None = None
        self.messages = 0
        self.closed = False
        #: Set once the exchange confirmed the subscription (or the feed failed).
        self.confirmed = asyncio.Event()

    def new_channel(self) -> Channel[Any]:
        """The kind of channel this feed's consumers read from."""
        return Latest(self.max_buffer)

    def attach(self, sink: Sink) -> None:
        """Add a consumer (a late joiner gets the current value at once, where there is one)."""
        sink.feed = self
        self.sinks.append(sink)

    def detach(self, sink: Sink) -> bool:
        """Remove a consumer; True when none is left."""
        if sink in self.sinks:
            self.sinks.remove(sink)
        return not self.sinks

    def on_subscribed(self) -> None:
        """The subscription (re)starts on the wire: state from before no longer applies."""

    def on_interrupted(self) -> None:
        """The connection was lost; it will be re-established."""

    def on_message(self, message: Any) -> None:
        """Decode one data message and deliver what it carries."""
        raise NotImplementedError

    def on_bad_message(self, error: Exception) -> None:
        """A message of this topic could not be decoded."""
        self.log.warning(
            "%s: undecodable message (%s: %s)", self.topic, type(error).__name__, error
        )

    def on_confirmed(self) -> None:
        """The exchange confirmed the subscription."""
        self.confirmed.set()

    def fail(self, error: BaseException) -> None:
        """End every consumer's stream with ``error``."""
        for sink in self.sinks:
            sink.channel.fail(error)
        self.confirmed.set()

    def close(self) -> None:
        """Stop (no consumer left, or the connection gave up)."""
        self.closed = True

    def _select(self, sink: Sink, value: Any) -> Any:
        return value if sink.select is None else sink.select(value)


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
        """Events sent while the connection was down are lost: say so."""
        self.interruptions += 1
        self.decoder.reset()
        if self.sinks:
            self.log.warning(
                "%s: the connection dropped; events sent before it is back are not replayed "
                "(reconcile with fetch_open_orders / fetch_my_trades if that matters)",
                self.topic,
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
        self.fail(
            BadResponse(
                f"an undecodable message on {self.topic}: {type(error).__name__}: {error}",
                hint="An event was lost; reconcile over REST before watching again.",
            )
        )


class BookFeed(Feed):
    """An order book kept from snapshots and deltas; a gap triggers a resubscription."""

    def __init__(self, spec: FeedSpec, log: logging.Logger, max_buffer: int) -> None:
        super().__init__(spec, log, max_buffer)
        self.decoder = spec.decoder()
        depth = spec.depth or 1000
        self.state = OrderBookState(
            spec.symbol or spec.topic,
            spec.continuity or consecutive,
            # The exchange keeps ``depth`` levels itself; twice that only absorbs a bad stream.
            max_levels=2 * depth,
        )
        self.resyncs = 0

    def attach(self, sink: Sink) -> None:
        """Add a consumer; it sees the current book at once when there is a valid one."""
        super().attach(sink)
        sink.make = functools.partial(self.state.view, sink.limit)
        if self.state.valid:
            assert isinstance(sink.channel, Latest)
            sink.channel.offer(sink.make)

    def _withdraw(self) -> None:
        # A book that is no longer valid must not reach a consumer, even one already offered.
        for sink in self.sinks:
            assert isinstance(sink.channel, Latest)
            sink.channel.clear()

    def on_subscribed(self) -> None:
        """Wait for the snapshot the (re)subscription brings."""
        self.state.invalidate()
        self._withdraw()

    def on_interrupted(self) -> None:
        """The book is unknown until the reconnected stream's snapshot."""
        self.state.invalidate()
        self._withdraw()

    def on_message(self, message: Any) -> None:
        """Apply one message; offer the book when it changed, resync on a gap."""
        self.messages += 1
        outcome = self.state.apply(self.decoder.decode(message))
        if outcome == "applied" or outcome == "snapshot":
            for sink in self.sinks:
                sink.channel.offer(sink.make)  # type: ignore[attr-defined]
        elif outcome == "gap":
            self._resync("the update sequence broke (a gap, a step back, or a crossed book)")

    def on_bad_message(self, error: Exception) -> None:
        """A delta that cannot be read leaves the book unknown: resync."""
        super().on_bad_message(error)
        self.state.invalidate()
        self._resync(f"an undecodable message ({type(error).__name__})")

    def _resync(self, why: str) -> None:
        self.resyncs += 1
        self._withdraw()
        self.log.warning("%s: %s; resubscribing for a fresh snapshot", self.topic, why)
        if self.connection is not None:
            self.connection.resubscribe(self.topic)


class StateFeed(Feed):
    """A value fetched over REST on every (re)subscription and updated by messages."""

    def __init__(
        self,
        spec: FeedSpec,
        log: logging.Logger,
        max_buffer: int,
        seed: Callable[[], Any],
    ) -> None:
        super().__init__(spec, log, max_buffer)
        self.decoder = spec.decoder()
        self._seed = seed
        self._task: asyncio.Task[None] | None = None
        # Messages that arrive while the REST snapshot is being fetched: replayed on top of it.
        self._held: list[Any] | None = None
        self.last: Any = None
        self.seeds = 0

    def attach(self, sink: Sink) -> None:
        """Add a consumer; it starts from the current state when there is one."""
        super().attach(sink)
        if self.last is not None and self._held is None:
            self._offer(sink, self.last)

    def on_subscribed(self) -> None:
        """Fetch the starting state; hold messages until it is in."""
        self._cancel()
        self._held = []
        self._task = asyncio.get_running_loop().create_task(self._fetch())

    def on_interrupted(self) -> None:
        """What the state missed meanwhile comes with the next snapshot."""
        self._cancel()
        self._held = None
        self.decoder.reset()

    async def _fetch(self) -> None:
        try:
            value = await self._seed()
        except ExchangeError as err:
            self.fail(err)
            return
        except Exception as exc:  # a failure of ours must still reach the consumer
            self.fail(ExchangeError(f"fetching the state of {self.topic} failed: {exc!r}"))
            return
        self.seeds += 1
        self.decoder.seed(value)
        held, self._held = self._held or [], None
        self._deliver(value)
        for message in held:
            self.on_message(message)

    def _cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    def on_message(self, message: Any) -> None:
        """Update the state (or hold the message while the snapshot is fetched)."""
        self.messages += 1
        held = self._held
        if held is not None:
            if len(held) >= self.max_buffer:
                self.fail(StreamOverflow(f"{self.topic}: too many updates during the snapshot"))
                return
            held.append(message)
            return
        for value in self.decoder.decode(message):
            self._deliver(value)

    def _deliver(self, value: Any) -> None:
        self.last = value
        for sink in self.sinks:
            self._offer(sink, value)

    def _offer(self, sink: Sink, value: Any) -> None:
        chosen = self._select(sink, value)
        if chosen is not None:
            assert isinstance(sink.channel, Latest)
            sink.channel.offer(lambda: chosen)

    def close(self) -> None:
        """Stop fetching."""
        super().close()
        self._cancel()


def make_feed(
    spec: FeedSpec,
    log: logging.Logger,
    max_buffer: int,
    seed: Callable[[], Any] | None = None,
) -> Feed:
    """The feed class of a spec's mode."""
    if spec.mode == "book":
        return BookFeed(spec, log, max_buffer)
    if spec.mode == "events":
        return EventFeed(spec, log, max_buffer)
    if spec.mode == "state":
        if seed is None:
            raise ValueError(f"{spec.topic} is a state feed without a seed")
        return StateFeed(spec, log, max_buffer, seed)
    return LatestFeed(spec, log, max_buffer)
