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
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from exchanges.errors import BadResponse, ExchangeError, StreamInterrupted, StreamOverflow
from exchanges.stream.book import BookMessage, OrderBookState, consecutive
from exchanges.stream.channels import Buffer, Channel, Latest
from exchanges.stream.dialect import FeedSpec

if TYPE_CHECKING:
    from exchanges.stream.connection import WsConnection

__all__ = [
    "DECODE_ERRORS",
    "RESYNC_LIMIT",
    "RESYNC_WINDOW",
    "BookFeed",
    "EventFeed",
    "Feed",
    "LatestFeed",
    "Sink",
    "StateFeed",
    "make_feed",
]

Select = Callable[[Any], Any]

#: What a decoder raises on a message it cannot read (a bug of ours raises something else):
#: the shared readers' ``BadResponse`` for numbers no market has, the shape errors of a message
#: that is not what the exchange documents, and ``RecursionError`` for one nested deep enough
#: to make a repr or a walk through it recurse.
DECODE_ERRORS = (
    ExchangeError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
#: A book that needs more resyncs than this within ``RESYNC_WINDOW`` seconds fails.
RESYNC_LIMIT = 5
RESYNC_WINDOW = 60.0
#: Book feeds with a seed: REST snapshots fetched in a row before a resync is asked for.
SEED_ATTEMPTS = 3


class Sink:
    """One consumer of a feed: its channel, an optional filter/transform, a book depth."""

    __slots__ = ("channel", "down_since", "feed", "limit", "live", "make", "ready", "select")

    def __init__(self, channel: Channel[Any], select: Select | None, limit: int | None) -> None:
        self.channel = channel
        #: Returns the value to deliver, or None to skip this one (a symbol filter).
        self.select = select
        self.limit = limit
        self.feed: Feed | None = None
        #: Book sinks: builds this sink's view of the book when the consumer takes it.
        self.make: Callable[[], Any] | None = None
        #: True once the exchange confirmed the subscription this consumer reads from.
        self.live = False
        #: Resolved when the consumer's start may stop waiting (confirmed, failed, or left).
        self.ready: asyncio.Future[None] | None = None
        #: Event feeds: when the connection dropped under this (live) consumer, until it is back.
        self.down_since: float | None = None

    def wake(self) -> None:
        """Let a start that waits for the confirmation look again."""
        ready = self.ready
        if ready is not None and not ready.done():
            ready.set_result(None)


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
        #: Set while the exchange's confirmation of the current subscription stands (cleared when
        #: the connection drops: a consumer joining then waits for the resubscription).
        self.confirmed = asyncio.Event()

    def new_channel(self) -> Channel[Any]:
        """The kind of channel this feed's consumers read from."""
        return Latest(self.max_buffer)

    def attach(self, sink: Sink) -> None:
        """Add a consumer (a late joiner gets the current value at once, where there is one)."""
        sink.feed = self
        sink.live = self.confirmed.is_set()
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
        self.confirmed.clear()

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
        for sink in self.sinks:
            sink.live = True
            sink.wake()

    def fail(self, error: BaseException) -> None:
        """End every consumer's stream with ``error``."""
        for sink in self.sinks:
            sink.channel.fail(error)
            sink.wake()

    @property
    def exchange(self) -> str | None:
        """The exchange named in errors (known once the feed rides a connection)."""
        dialect = getattr(self.connection, "dialect", None)
        return dialect.name if dialect is not None else None

    def _fail_undecodable(self, error: Exception, consequence: str) -> None:
        self.fail(
            BadResponse(
                f"an undecodable message on {self.topic}: {type(error).__name__}: {error}",
                exchange=self.exchange,
                hint=consequence,
            )
        )

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


class BookFeed(Feed):
    """An order book kept from snapshots and deltas; a gap triggers a resubscription."""

    def __init__(
        self,
        spec: FeedSpec,
        log: logging.Logger,
        max_buffer: int,
        *,
        resync_delay: float = 0.5,
        resync_max_delay: float = 30.0,
        seed: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(spec, log, max_buffer)
        self.decoder = spec.decoder()
        # A REST snapshot for streams that push none; deltas are held while it is fetched.
        self._seed = seed
        self._held: list[BookMessage] | None = None
        self._fetch: asyncio.Task[None] | None = None
        self.seeds = 0
        depth = spec.depth or 1000
        self.state = OrderBookState(
            spec.symbol or spec.topic,
            spec.continuity or consecutive,
            # The exchange keeps ``depth`` levels itself; twice that only absorbs a bad stream.
            max_levels=2 * depth,
        )
        self.resyncs = 0
        self.resync_delay = resync_delay
        self.resync_max_delay = resync_max_delay
        # When the recent resyncs were asked for (monotonic seconds), within RESYNC_WINDOW.
        self._recent: deque[float] = deque()
        self._pending: asyncio.TimerHandle | None = None
        # True after the book was given up on: no resync is on its way.
        self._given_up = False

    def attach(self, sink: Sink) -> None:
        """Add a consumer; it sees the current book at once when there is a valid one."""
        super().attach(sink)
        sink.make = functools.partial(self.state.view, sink.limit)
        if self.state.valid:
            assert isinstance(sink.channel, Latest)
            sink.channel.offer(sink.make)
        elif self._given_up:
            # The consumers before were told; a newcomer gets a fresh try.
            self._given_up = False
            self._resubscribe()

    def _withdraw(self) -> None:
        # A book that is no longer valid must not reach a consumer, even one already offered.
        for sink in self.sinks:
            assert isinstance(sink.channel, Latest)
            sink.channel.clear()

    def on_subscribed(self) -> None:
        """Wait for the snapshot the (re)subscription brings."""
        self._given_up = False
        self._stop_seeding()
        self.state.invalidate()
        self._withdraw()

    def on_interrupted(self) -> None:
        """The book is unknown until the reconnected stream's snapshot."""
        super().on_interrupted()
        self._cancel_resync()  # the reconnect subscribes afresh anyway
        self._stop_seeding()
        self.state.invalidate()
        self._withdraw()

    def on_message(self, message: Any) -> None:
        """Apply one message; offer the book when it changed, resync on a gap."""
        self.messages += 1
        decoded = self.decoder.decode(message)
        if self._seed is not None:
            if decoded.snapshot:
                self._stop_seeding()  # the stream's own snapshot supersedes the REST one
            elif not self.state.valid:
                self._hold(decoded)
                return
        outcome = self.state.apply(decoded)
        if outcome == "applied":  # every delta: _outcome's first case, inline
            for sink in self.sinks:
                sink.channel.offer(sink.make)  # type: ignore[attr-defined]
        else:
            self._outcome(outcome)

    def _outcome(self, outcome: str) -> None:
        if outcome == "applied" or outcome == "snapshot":
            for sink in self.sinks:
                sink.channel.offer(sink.make)  # type: ignore[attr-defined]
        elif outcome == "gap":
            self._resync("the update sequence broke (a gap, a step back, or a crossed book)")

    # -- REST snapshots (feeds with a seed) ------------------------------------------------

    def _hold(self, message: BookMessage) -> None:
        if self._given_up or self._pending is not None:
            return  # a resubscription is on its way (or the book was given up on)
        held = self._held
        if held is None:
            held = self._held = []
            self._start_seed(0)
        if len(held) >= self.max_buffer:
            self._stop_seeding()
            self._resync(f"more than {self.max_buffer} updates arrived during the REST snapshot")
            return
        held.append(message)

    def _start_seed(self, attempt: int) -> None:
        self._fetch = asyncio.get_running_loop().create_task(self._seed_book(attempt))

    async def _seed_book(self, attempt: int) -> None:
        assert self._seed is not None
        try:
            snapshot: BookMessage = await self._seed()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fetch = None
            self._stop_seeding()
            self._resync(f"the REST snapshot failed ({type(exc).__name__}: {exc})")
            return
        self._fetch = None
        held = self._held
        if held is None or self.closed or self.state.valid:
            return  # superseded meanwhile (a pushed snapshot, a resubscription)
        self.seeds += 1
        state = self.state
        try:
            state.apply(snapshot)
            outcome = "snapshot"
            for message in held:
                result = state.apply(message)
                if result == "gap":
                    outcome = "gap"
                    break
                if result == "applied":
                    outcome = result
        except DECODE_ERRORS as exc:
            self._held = None
            self.on_bad_message(exc)
            return
        if outcome == "gap":
            if attempt + 1 < SEED_ATTEMPTS:
                # Likely a snapshot older than the held updates (a REST cache): fetch again.
                self._start_seed(attempt + 1)
                return
            self._held = None
            self._resync("the REST snapshot never joined the update sequence")
            return
        self._held = None
        self._outcome("snapshot")

    def on_confirmed(self) -> None:
        """Confirmed: a feed seeded at start fetches its REST snapshot now."""
        super().on_confirmed()
        if (
            self._seed is not None
            and self.spec.seed_at_start
            and self._held is None
            and not self.state.valid
            and not self._given_up
            and self._pending is None
        ):
            self._held = []
            self._start_seed(0)

    def _stop_seeding(self) -> None:
        self._held = None
        fetch, self._fetch = self._fetch, None
        if fetch is not None and not fetch.done():
            fetch.cancel()

    def on_bad_message(self, error: Exception) -> None:
        """A delta that cannot be read leaves the book unknown: resync."""
        super().on_bad_message(error)
        self.state.invalidate()
        self._resync(f"an undecodable message ({type(error).__name__})")

    def _resync(self, why: str) -> None:
        self._withdraw()
        if self._pending is not None:
            return  # a resubscription is already on its way; it brings a snapshot
        now = time.monotonic()
        recent = self._recent
        while recent and now - recent[0] > RESYNC_WINDOW:
            recent.popleft()
        if len(recent) >= RESYNC_LIMIT:
            recent.clear()
            self._given_up = True
            self.log.error("%s: %s again; giving up on this book", self.topic, why)
            self.fail(
                BadResponse(
                    f"the order book {self.topic} needed more than {RESYNC_LIMIT} resyncs within "
                    f"{RESYNC_WINDOW:g} s (last: {why})",
                    exchange=self.exchange,
                    hint="The exchange's book updates do not chain as its documentation says, "
                    "so the book cannot be kept; please report it (with the log). "
                    "fetch_order_book still works meanwhile.",
                )
            )
            return
        self.resyncs += 1
        # The first resync is immediate; more in a row back off, so that a systematic mismatch
        # does not turn into a subscribe/unsubscribe storm.
        delay = (
            min(self.resync_max_delay, self.resync_delay * 2 ** (len(recent) - 1))
            if recent
            else 0.0
        )
        recent.append(now)
        self.log.warning(
            "%s: %s; resubscribing for a fresh snapshot in %.2f s", self.topic, why, delay
        )
        if delay <= 0:
            self._resubscribe()
        else:
            self._pending = asyncio.get_running_loop().call_later(delay, self._resubscribe)

    def _resubscribe(self) -> None:
        self._pending = None
        if not self.closed and self.connection is not None:
            self.connection.resubscribe(self.topic)

    def _cancel_resync(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()

    def close(self) -> None:
        """Stop (no resync is sent any more)."""
        super().close()
        self._cancel_resync()
        self._stop_seeding()


class StateFeed(Feed):
    """A value fetched over REST on every confirmed (re)subscription and updated by messages.

    The snapshot is fetched once the exchange confirms the subscription, and every message from
    the subscribe request on is held meanwhile and replayed on top: a change made while the
    snapshot is taken shows either in it or in a replayed message, never in neither.
    """

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
        # Messages since the (re)subscription, held until the REST snapshot is in (None: not
        # holding).
        self._held: list[Any] | None = None
        # True while the state follows a snapshot; messages without one are not delivered.
        self._seeded = False
        self.last: Any = None
        self.seeds = 0

    def attach(self, sink: Sink) -> None:
        """Add a consumer; it starts from the current state, or from a new snapshot."""
        super().attach(sink)
        if self._seeded:
            if self.last is not None:
                self._offer(sink, self.last)
        elif self._held is None and self.confirmed.is_set() and not self.closed:
            # The last snapshot failed (its consumers were told): the newcomer gets a new one.
            self._held = []
            self._start_fetch()

    def on_subscribed(self) -> None:
        """Hold messages from now on; the snapshot is fetched once the exchange confirms."""
        self._cancel()
        self._held = []
        self._seeded = False

    def on_confirmed(self) -> None:
        """The subscription is live: take the snapshot now (changes from here on are held)."""
        super().on_confirmed()
        if self._held is not None and (self._task is None or self._task.done()):
            self._start_fetch()

    def on_interrupted(self) -> None:
        """What the state missed meanwhile comes with the next snapshot."""
        super().on_interrupted()
        self._cancel()
        self._held = None
        self._seeded = False
        self.decoder.reset()

    def _start_fetch(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._fetch())

    async def _fetch(self) -> None:
        try:
            value = await self._seed()
        except ExchangeError as err:
            self._give_up(err)
            return
        except Exception as exc:  # a failure of ours must still reach the consumer
            self._give_up(ExchangeError(f"fetching the state of {self.topic} failed: {exc!r}"))
            return
        self.seeds += 1
        held, self._held = self._held or [], None
        try:
            self.decoder.seed(value)
            self._seeded = True
            self._deliver(value)
            for message in held:
                self._apply(message)
        except DECODE_ERRORS as exc:
            self.on_bad_message(exc)

    def _give_up(self, error: ExchangeError) -> None:
        # Not holding any more: messages are dropped until a newcomer asks for a snapshot.
        self._held = None
        self._seeded = False
        self.fail(error)

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
                self._give_up(
                    StreamOverflow(
                        f"{self.topic}: more than {self.max_buffer} updates arrived while its "
                        "snapshot was fetched",
                        bound=self.max_buffer,
                    )
                )
                return
            held.append(message)
            return
        if self._seeded:
            self._apply(message)

    def on_bad_message(self, error: Exception) -> None:
        """An update that cannot be read leaves the state unknown: the consumers must know."""
        super().on_bad_message(error)
        self._held = None
        self._seeded = False
        self.last = None
        self.decoder.reset()
        self._fail_undecodable(
            error,
            "The state can no longer be kept from the stream: watch again (it starts from a "
            "fresh snapshot), or use the fetch_* call meanwhile.",
        )

    def _apply(self, message: Any) -> None:
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
