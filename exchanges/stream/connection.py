"""One WebSocket connection carrying many subscriptions, kept alive for as long as it is needed.

The connection's task loops: connect (aiohttp ``ws_connect``), authenticate when private,
subscribe every topic it carries, then read. While connected it sends the dialect's ping every
``ping_interval`` seconds. It reconnects when:

* the server closes or resets the connection;
* nothing at all arrives for ``silence_timeout`` seconds (pongs count, so a healthy
  connection is never silent for longer than a ping interval plus a round trip);
* a frame cannot be sent.

Reconnects wait an exponential backoff with jitter (``reconnect_delay`` doubling up to
``reconnect_max_delay``, each wait drawn from [half, all] of it so that many clients do not
reconnect in lockstep); the wait resets once a connection carried data. After a reconnect
every topic is subscribed again and every feed is told (books wait for their new snapshot,
states are fetched again). An auth refusal is final, except once after a clock resync when the
dialect says the clock may be to blame. Auth frames carry a signature: they are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable
from typing import Any, Protocol

import aiohttp

from exchanges.errors import AuthenticationError, ExchangeError, NetworkError
from exchanges.stream.dialect import StreamDialect
from exchanges.stream.feeds import Feed
from exchanges.stream.options import StreamOptions

__all__ = ["ConnectionHost", "WsConnection"]

_DECODE_ERRORS = (
    ExchangeError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
    ArithmeticError,
)
_CONNECTION_ERRORS = (aiohttp.ClientError, OSError, TimeoutError, ConnectionError)


class ConnectionHost(Protocol):
    """What a connection asks of its manager."""

    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session connections are opened with."""
        ...

    def auth_frame(self) -> Awaitable[str]:
        """A fresh auth frame (stamped by the server clock)."""
        ...

    def auth_refused(self, text: str) -> tuple[AuthenticationError, bool]:
        """The error an auth refusal is, and whether a clock resync may cure it."""
        ...

    def invalidate_clock(self) -> None:
        """Forget the clock offset: the next auth frame resyncs first."""
        ...

    def connection_failed(self, connection: WsConnection, error: BaseException) -> None:
        """The connection gave up: its feeds have failed with ``error``."""
        ...

    def feed_rejected(self, feed: Feed) -> None:
        """The exchange refused a feed's subscription; it has failed."""
        ...


class _AuthRefused(Exception):
    def __init__(self, error: AuthenticationError, clock_may_help: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.clock_may_help = clock_may_help


class WsConnection:
    """A WebSocket connection of one group (one URL) multiplexing many topics."""

    def __init__(
        self,
        host: ConnectionHost,
        dialect: StreamDialect,
        group: str,
        url: str,
        options: StreamOptions,
        log: logging.Logger,
    ) -> None:
        self.host = host
        self.dialect = dialect
        self.group = group
        self.url = url
        self.options = options
        self.log = log
        self.private = group == "private"
        self.feeds: dict[str, Feed] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._pending: dict[str, list[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._ids = 0
        #: Counters for tests and diagnostics.
        self.connects = 0
        self.reconnects = 0
        self.silences = 0

    # -- topics ---------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """True while subscribed and reading."""
        return self._outbox is not None

    def add(self, feed: Feed) -> None:
        """Carry ``feed``'s topic: subscribe now if connected, else on connect."""
        self.feeds[feed.topic] = feed
        feed.connection = self
        if self.connected:
            self._subscribe([feed.topic])
        elif self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, topic: str) -> None:
        """Stop carrying ``topic``."""
        feed = self.feeds.pop(topic, None)
        if feed is not None and self.connected:
            self._send(self.dialect.unsubscribe([topic], self._next_id()))

    def resubscribe(self, topic: str) -> None:
        """Unsubscribe and subscribe ``topic`` again (an order book's way to a fresh snapshot)."""
        if topic in self.feeds and self.connected:
            self._send(self.dialect.unsubscribe([topic], self._next_id()))
            self._subscribe([topic])

    def _next_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def _subscribe(self, topics: list[str]) -> None:
        for batch in self.dialect.batches(self.group, topics):
            req_id = self._next_id()
            self._pending[req_id] = list(batch)
            self._send(self.dialect.subscribe(batch, req_id))
            self.log.debug("%s: subscribing to %s", self.group, ", ".join(batch))
        for topic in topics:
            feed = self.feeds.get(topic)
            if feed is not None:
                feed.on_subscribed()

    def _send(self, frame: str) -> None:
        outbox = self._outbox
        if outbox is not None:
            outbox.put_nowait(frame)

    # -- lifecycle ------------------------------------------------------------------------

    async def close(self) -> None:
        """Close the connection and stop reconnecting."""
        self._closing = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _stopped(self) -> bool:
        return self._closing

    def _delay(self, attempt: int) -> float:
        options = self.options
        ceiling = min(options.reconnect_max_delay, options.reconnect_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        clock_retried = False
        try:
            while not self._stopped():
                try:
                    ws = await self._open()
                except _CONNECTION_ERRORS as exc:
                    attempt += 1
                    delay = self._delay(attempt)
                    self.log.info(
                        "%s: connecting failed (%s); retrying in %.2f s",
                        self.group,
                        type(exc).__name__,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                self.connects += 1
                carried = False
                opened = loop.time()
                try:
                    carried = await self._session(ws)
                except _AuthRefused as refused:
                    if refused.clock_may_help and not clock_retried:
                        clock_retried = True
                        self.log.info("%s: auth refused; resyncing the clock once", self.group)
                        self.host.invalidate_clock()
                        continue
                    self._fail(refused.error)
                    return
                except _CONNECTION_ERRORS as exc:
                    self.log.info("%s: connection lost (%s)", self.group, type(exc).__name__)
                finally:
                    self._outbox = None
                    self._ws = None
                    self._pending.clear()
                    await self._close_ws(ws)
                    for feed in list(self.feeds.values()):
                        feed.on_interrupted()
                if self._stopped():
                    return
                # A connection that carried data, or simply lived, was healthy: start over.
                if carried or loop.time() - opened >= self.options.silence_timeout:
                    attempt = 0
                    clock_retried = False
                attempt += 1
                self.reconnects += 1
                delay = self._delay(attempt)
                self.log.info("%s: reconnecting in %.2f s", self.group, delay)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            raise
        except ExchangeError as err:
            self._fail(err)
        except Exception as exc:
            # A bug must not leave consumers waiting forever.
            self.log.exception("%s: the connection task failed", self.group)
            self._fail(NetworkError(f"the stream connection failed: {exc!r}"))

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        timeout = aiohttp.ClientWSTimeout(ws_close=self.options.close_timeout)
        ws = await asyncio.wait_for(
            self.host.http().ws_connect(
                self.url, timeout=timeout, autoping=True, max_msg_size=16 * 1024 * 1024
            ),
            self.options.connect_timeout,
        )
        self.log.debug("%s: connected to %s", self.group, self.url)
        return ws

    @staticmethod
    async def _close_ws(ws: aiohttp.ClientWebSocketResponse) -> None:
        # Shielded: a cancelled close would leave the socket for the garbage collector.
        with contextlib.suppress(*_CONNECTION_ERRORS, asyncio.CancelledError):
            await asyncio.shield(ws.close())

    def _fail(self, error: BaseException) -> None:
        self._closing = True
        for feed in list(self.feeds.values()):
            feed.fail(error)
        self.host.connection_failed(self, error)

    async def _session(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Authenticate, subscribe and read until the connection ends; True if data came."""
        if self.private:
            await self._authenticate(ws)
        outbox: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write(ws, outbox))
        pinger = loop.create_task(self._ping(outbox))
        self._ws, self._outbox = ws, outbox
        carried = False
        try:
            self._subscribe(list(self.feeds))
            silence = self.options.silence_timeout
            while True:
                try:
                    message = await ws.receive(timeout=silence)
                except TimeoutError:
                    self.silences += 1
                    self.log.warning(
                        "%s: nothing received for %.1f s; reconnecting", self.group, silence
                    )
                    return carried
                kind = message.type
                if kind is aiohttp.WSMsgType.TEXT:
                    carried = self._dispatch(message.data) or carried
                elif kind is aiohttp.WSMsgType.BINARY:
                    carried = self._dispatch(message.data.decode("utf-8", "replace")) or carried
                else:
                    self.log.info("%s: connection ended (%s)", self.group, kind.name)
                    return carried
        finally:
            for task in (writer, pinger):
                task.cancel()
            await asyncio.gather(writer, pinger, return_exceptions=True)

    async def _write(self, ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[str]) -> None:
        try:
            while True:
                await ws.send_str(await outbox.get())
        except _CONNECTION_ERRORS as exc:
            # The reader notices the close and reconnects.
            self.log.info("%s: sending failed (%s)", self.group, type(exc).__name__)
            await self._close_ws(ws)

    async def _ping(self, outbox: asyncio.Queue[str]) -> None:
        interval = self.options.ping_interval or self.dialect.ping_interval
        frame = self.dialect.ping()
        while True:
            await asyncio.sleep(interval)
            outbox.put_nowait(frame)

    async def _authenticate(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        await ws.send_str(await self.host.auth_frame())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.auth_timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no answer to the auth request")
            message = await ws.receive(timeout=remaining)
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"the connection ended during auth ({message.type.name})")
            try:
                data = json.loads(message.data)
            except ValueError:
                continue
            if self.dialect.topic_of(data) is not None:
                continue
            control = self.dialect.control(data)
            if control.op != "auth":
                continue
            if control.ok:
                self.log.debug("%s: authenticated", self.group)
                return
            error, clock_may_help = self.host.auth_refused(control.text)
            raise _AuthRefused(error, clock_may_help)

    # -- reading --------------------------------------------------------------------------

    def _dispatch(self, text: str) -> bool:
        """Handle one text frame; True if it was data."""
        try:
            message: Any = json.loads(text)
        except ValueError:
            self.log.warning("%s: a frame that is not JSON (%d bytes)", self.group, len(text))
            return False
        topic = self.dialect.topic_of(message)
        if topic is not None:
            feed = self.feeds.get(topic)
            if feed is not None:
                try:
                    feed.on_message(message)
                except _DECODE_ERRORS as exc:
                    feed.on_bad_message(exc)
            return True
        control = self.dialect.control(message)
        if control.op == "subscribe":
            topics = self._pending.pop(control.req_id or "", [])
            if not control.ok:
                self._rejected(topics, control.text)
            for topic in topics:
                feed = self.feeds.get(topic)
                if feed is not None:
                    feed.on_confirmed()
        elif control.op == "error":
            self.log.warning("%s: the exchange reported an error: %s", self.group, control.text)
        return False

    def _rejected(self, topics: list[str], text: str) -> None:
        error = self.dialect.subscribe_error(text, topics)
        for topic in topics:
            feed = self.feeds.pop(topic, None)
            if feed is not None:
                feed.fail(error)
                self.host.feed_rejected(feed)
