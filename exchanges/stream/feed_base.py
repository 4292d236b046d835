"""The base of every feed: ``Feed`` (one subscribed topic), ``Sink`` (one consumer of it) and
``DECODE_ERRORS`` (what a decoder raises on a message it cannot read)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchanges.errors import BadResponse, ExchangeError
from exchanges.stream.channels import Channel, Latest
from exchanges.stream.dialect import FeedSpec

if TYPE_CHECKING:
    from exchanges.stream.connection import WsConnection

__all__ = ["DECODE_ERRORS", "Feed", "Select", "Sink"]

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
