"""Where stream values wait for their consumer: conflating slots and bounded buffers.

A slow consumer must never make memory grow without bound. Two policies, one per kind of data:

* ``Latest`` (tickers, order books, candles, balances, positions): only the newest value is
  kept, so a consumer that falls behind skips straight to the present. Values are offered as
  zero-argument factories and built when the consumer takes them, so a book that changes
  10,000 times between two reads is materialised once, not 10,000 times. With a key (a candle's
  start time) the newest value *per key* is kept, in first-seen order, up to a bound.
* ``Buffer`` (trades, orders, fills): every event counts, so nothing is dropped silently. Up to
  ``bound`` events wait; one more fails the channel with ``StreamOverflow`` and the consumer's
  next read raises it, so it knows to resynchronise (e.g. ``fetch_open_orders``). A reconnect
  queues a ``StreamInterrupted`` in line with the events (``interrupt``): it is raised by the
  read that reaches it, once, and the reads after it go on with the events that follow.

``StreamOverflow`` is defined in ``exchanges.errors`` (re-exported here for older imports).

Everything runs on one event loop: producers are the connection's read loop, the consumer is
whoever iterates the stream.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from exchanges.errors import StreamInterrupted, StreamOverflow

__all__ = ["Buffer", "Channel", "Latest", "StreamClosed", "StreamOverflow", "merged"]

T = TypeVar("T")


class StreamClosed(Exception):
    """Raised inside the library when a channel was closed; iteration ends quietly."""


class Channel(Generic[T]):
    """A single-consumer mailbox: producers put without waiting, the consumer awaits ``get``."""

    __slots__ = ("_closed", "_error", "_waiter")

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._closed = False

    # -- what subclasses provide ----------------------------------------------------------

    def _ready(self) -> bool:
        raise NotImplementedError

    def _take(self) -> T:
        raise NotImplementedError

    def _drop_pending(self) -> None:
        raise NotImplementedError

    # -- the consumer side ----------------------------------------------------------------

    async def get(self) -> T:
        """The next value; raises the channel's error, or ``StreamClosed`` once closed."""
        while True:
            if self._error is not None:
                raise self._error
            if self._ready():
                return self._take()
            if self._closed:
                raise StreamClosed
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None

    def pending(self) -> int:
        """How many values wait (for tests and stats)."""
        raise NotImplementedError

    # -- the producer side ----------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def fail(self, error: BaseException) -> None:
        """End the channel with ``error``: the consumer's next ``get`` raises it."""
        if self._error is None and not self._closed:
            self._error = error
            self._drop_pending()
            self._wake()

    def close(self) -> None:
        """End the channel quietly once what is pending has been taken."""
        self._closed = True
        self._wake()

    @property
    def error(self) -> BaseException | None:
        """The error the channel ended with, if any."""
        return self._error


class Latest(Channel[T]):
    """Keeps only the newest value (per key, when a key is given), built on demand."""

    __slots__ = ("_bound", "_slot", "_slots")

    def __init__(self, bound: int = 1000) -> None:
        super().__init__()
        self._slot: Callable[[], T] | None = None
        self._slots: OrderedDict[Hashable, Callable[[], T]] = OrderedDict()
        self._bound = bound

    def offer(self, make: Callable[[], T], key: Hashable | None = None) -> None:
        """Replace the pending value (of ``key``) with ``make``, called when it is taken."""
        if self._error is not None or self._closed:
            return
        if key is None:
            self._slot = make
        else:
            slots = self._slots
            if key not in slots and len(slots) >= self._bound:
                self.fail(
                    StreamOverflow(
                        f"more than {self._bound} distinct values waited for the consumer",
                        bound=self._bound,
                    )
                )
                return
            slots[key] = make
        waiter = self._waiter  # _wake, inline: a book offers itself on every delta
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Forget what is pending (the data it would show is no longer valid)."""
        self._drop_pending()

    def _drop_pending(self) -> None:
        self._slot = None
        self._slots.clear()

    def _ready(self) -> bool:
        return self._slot is not None or bool(self._slots)

    def _take(self) -> T:
        if self._slots:
            _, make = self._slots.popitem(last=False)
        else:
            make = self._slot  # type: ignore[assignment]
            self._slot = None
        return make()

    def pending(self) -> int:
        """1 when a value waits (or the number of keys waiting)."""
        return len(self._slots) + (self._slot is not None)


class _Interruption:
    """A ``StreamInterrupted`` waiting in line with a buffer's events."""

    __slots__ = ("error",)

    def __init__(self, error: StreamInterrupted) -> None:
        self.error = error


class Buffer(Channel[T]):
    """Keeps every event up to ``bound``; one more fails the channel with ``StreamOverflow``."""

    __slots__ = ("_bound", "_items")

    def __init__(self, bound: int = 1000) -> None:
        super().__init__()
        if bound < 1:
            raise ValueError("a buffer holds at least one event")
        self._items: deque[T | _Interruption] = deque()
        self._bound = bound

    def push(self, item: T) -> None:
        """Queue one event, or fail the channel when ``bound`` events already wait."""
        self._append(item)

    def interrupt(self, error: StreamInterrupted) -> None:
        """Queue ``error`` after the events already waiting: the read that reaches it raises it.

        Two interruptions with no event between them become one spanning both windows, so the
        consumer reconciles once.
        """
        items = self._items
        if items and self._error is None and not self._closed:
            last = items[-1]
            if isinstance(last, _Interruption):
                items[-1] = _Interruption(_merged(last.error, error))
                self._wake()
                return
        self._append(_Interruption(error))

    def _append(self, item: T | _Interruption) -> None:
        if self._error is not None or self._closed:
            return
        if len(self._items) >= self._bound:
            self.fail(
                StreamOverflow(
                    f"{self._bound} events were waiting for the consumer when another arrived",
                    bound=self._bound,
                )
            )
            return
        self._items.append(item)
        self._wake()

    def _drop_pending(self) -> None:
        self._items.clear()

    def _ready(self) -> bool:
        return bool(self._items)

    def _take(self) -> T:
        item = self._items.popleft()
        if isinstance(item, _Interruption):
            raise item.error
        return item

    def pending(self) -> int:
        """How many events (and interruptions) wait."""
        return len(self._items)

    def pull_interruptions(self) -> list[StreamInterrupted]:
        """Take out every interruption waiting, wherever it is in line: a stream reading several
        topics reports their reconnects as one (the events stay, in order)."""
        found = [item.error for item in self._items if isinstance(item, _Interruption)]
        if found:
            self._items = deque(i for i in self._items if not isinstance(i, _Interruption))
        return found


def merged(first: StreamInterrupted, second: StreamInterrupted) -> StreamInterrupted:
    """One interruption spanning both windows."""
    return _merged(first, second)


def _merged(first: StreamInterrupted, second: StreamInterrupted) -> StreamInterrupted:
    if first.down_from is None or second.down_until is None:
        return second
    return StreamInterrupted(
        f"{first.message}; and again: {second.message}",
        exchange=second.exchange,
        down_from=first.down_from,
        down_until=second.down_until,
    )
