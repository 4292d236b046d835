"""``StateFeed``: a value fetched over REST on every confirmed (re)subscription and kept up to
date by the stream's messages (``fetch_balance`` under ``watch_balance``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from exchanges.errors import ExchangeError, StreamOverflow
from exchanges.stream.channels import Latest
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feed_base import DECODE_ERRORS, Feed, Sink

__all__ = ["StateFeed"]


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
