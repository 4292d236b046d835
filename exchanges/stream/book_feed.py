"""``BookFeed``: an order book kept from snapshots and deltas, seeded from REST where the
stream pushes no snapshot, resynced on a gap, given up on after ``RESYNC_LIMIT`` resyncs."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from exchanges.errors import BadResponse
from exchanges.stream.book import BookMessage, OrderBookState, consecutive
from exchanges.stream.channels import Latest
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feed_base import DECODE_ERRORS, Feed, Sink

__all__ = ["RESYNC_LIMIT", "RESYNC_WINDOW", "SEED_ATTEMPTS", "BookFeed", "rest_book_seed"]

#: A book that needs more resyncs than this within ``RESYNC_WINDOW`` seconds fails.
RESYNC_LIMIT = 5
RESYNC_WINDOW = 60.0
#: Book feeds with a seed: REST snapshots fetched in a row before a resync is asked for.
SEED_ATTEMPTS = 3


def rest_book_seed(
    symbol: str, depth: int, *, exchange: str, unsequenced: str
) -> Callable[[Any], Awaitable[BookMessage]]:
    """A book ``FeedSpec.seed``: the client's REST book of ``depth`` levels as a snapshot.

    Deltas are chained to the snapshot by its sequence, so a REST book without one is a
    ``BadResponse`` (``unsequenced`` says so in the exchange's terms).
    """

    async def seed(client: Any) -> BookMessage:
        book = await client.fetch_order_book(symbol, depth)
        if book.sequence is None:
            raise BadResponse(unsequenced, exchange=exchange)
        return BookMessage(True, book.bids, book.asks, book.sequence, book.timestamp)

    return seed


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
