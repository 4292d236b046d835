"""Streams of one client: which feed rides which connection, and the ``Stream`` iterators.

Each ``AsyncExchange`` gets one ``StreamManager`` on its first ``watch_*`` call. The manager
keeps one feed per topic (shared by every consumer of that topic) and packs feeds onto
connections per group (``public/linear``, ``private``), opening another connection when the
dialect says one is full. A connection, and finally the manager's aiohttp session, closes when
its last consumer leaves, so closing every stream (``async with``, ``aclose()``, or
``close_streams(client)``) leaves no socket behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import aiohttp

from exchanges.errors import AuthenticationError, ExchangeError, NetworkError, StreamInterrupted
from exchanges.stream.channels import Buffer, Channel, StreamClosed, merged
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feed_base import Feed, Select, Sink
from exchanges.stream.feeds import make_feed
from exchanges.stream.options import StreamOptions

if TYPE_CHECKING:
    from exchanges.async_client import AsyncExchange
    from exchanges.credentials import Credentials

__all__ = ["Opener", "Stream", "StreamManager", "close_streams", "streams_of"]

T = TypeVar("T")

#: Resolves a watch call (market lookups over REST) into its spec, filter and book depth.
Opener = Callable[[], Awaitable[tuple[FeedSpec, Select | None, int | None]]]


class Stream(Generic[T]):
    """The values of one ``watch_*`` call: an async iterator, and an async context manager.

    The subscription starts on the first ``__anext__`` (or on ``__aenter__``), which returns
    once the exchange has confirmed it (so what the caller does next, e.g. place an order, is
    seen), and ends with ``aclose()``; ``async with ex.watch_ticker("BTC/USDT") as ticks:
    async for t in ticks: ...`` closes it however the block is left. A stream that cannot
    start (auth refused, no connection within ``ws_connect_timeout + ws_auth_timeout``) raises
    an ``ExchangeError``; so does one that fails later (overflow, an undecodable message): the
    error is raised once, then the stream is finished. One consumer per stream; call
    ``watch_*`` again for another.

    Event streams (orders, fills, trades) are the exception: a reconnect makes the next read
    raise ``StreamInterrupted`` once, in order (after the events received before the drop),
    saying when the stream was down; events of that window may be missing. The stream stays
    subscribed and the read after it continues with the events after the reconnect::

        async with ex.watch_orders() as orders:
            while True:
                try:
                    async for order in orders:
                        handle(order)
                    break  # the stream was closed
                except StreamInterrupted:
                    await reconcile()  # fetch_open_orders / fetch_closed_orders / ...
    """

    def __init__(self, manager: StreamManager, opener: Opener, what: str) -> None:
        self._manager = manager
        self._opener = opener
        self._what = what
        self._sink: Sink | None = None
        #: The sinks of the spec's companion topics, sharing the first sink's channel.
        self._extras: list[Sink] = []
        self._done = False

    def __repr__(self) -> str:
        state = "closed" if self._done else "open" if self._sink is not None else "not started"
        return f"<Stream {self._what} {state}>"

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        sink = self._sink
        if sink is None:
            if self._done:
                raise StopAsyncIteration
            sink = await self._start()
        try:
            value: T = await sink.channel.get()
        except StreamClosed:
            await self.aclose()
            raise StopAsyncIteration from None
        except StreamInterrupted as interrupted:
            # Not an end: the next read goes on after the reconnect.
            if self._extras:
                raise await self._one_interruption(interrupted) from None
            raise
        except ExchangeError:
            await self.aclose()
            raise
        return value

    async def _start(self) -> Sink:
        manager = self._manager
        try:
            spec, select, limit = await self._opener()
            if self._done:  # closed while the opener ran
                raise StopAsyncIteration
            # Known to aclose() from now on, which ends the wait below.
            sink = self._sink = manager.join(spec, select, limit)
            await manager.confirm(sink)
            # Companion topics deliver into the same channel: one stream, in arrival order.
            # Joined once the first topic stands, so that a refused login is tried once.
            self._extras = [
                manager.join(other, select, limit, channel=sink.channel)
                for other in spec.companions
            ]
            for extra in self._extras:
                await manager.confirm(extra)
        except ExchangeError:
            self._done = True  # a stream that could not start is finished, not retried
            self._let_go()
            raise
        except BaseException:
            # Cancelled while starting: confirm() let go of the subscription; a later read may
            # start again.
            self._let_go()
            raise
        if self._done or any(s.feed is None for s in (sink, *self._extras)):
            # Closed meanwhile: aclose() let go of it.
            self._let_go()
            raise StopAsyncIteration
        return sink

    async def _one_interruption(self, first: StreamInterrupted) -> StreamInterrupted:
        """A stream of several topics (companions) reports one reconnect once: it waits until
        every topic is back (at most the confirmation timeout), then merges the interruptions
        the other topics queued meanwhile into this one."""
        sinks = [s for s in (self._sink, *self._extras) if s is not None]
        feeds = [s.feed for s in sinks if s.feed is not None and not s.feed.closed]
        if feeds:
            waits = asyncio.gather(*(feed.confirmed.wait() for feed in feeds))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waits, self._manager._confirm_timeout())
        channel = sinks[0].channel if sinks else None
        if isinstance(channel, Buffer):
            for later in channel.pull_interruptions():
                first = merged(first, later)
        return first

    def _let_go(self) -> None:
        """Detach every sink of this stream now (idempotent)."""
        sinks = [s for s in (self._sink, *self._extras) if s is not None]
        self._sink, self._extras = None, []
        for sink in sinks:
            self._manager.detach(sink)

    async def __aenter__(self) -> Stream[T]:
        if self._sink is None and not self._done:
            # Closed while starting: the stream is simply over.
            with contextlib.suppress(StopAsyncIteration):
                await self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the subscription (the connection closes when nothing else uses it)."""
        self._done = True
        if self._sink is not None or self._extras:
            self._let_go()
            await self._manager.settle()

    def __del__(self) -> None:
        # A stream dropped without aclose(): free its subscription as far as can be done now.
        if self._sink is not None or self._extras:
            # Nothing can be reported from a finaliser.
            with contextlib.suppress(Exception):
                self._let_go()

    @property
    def pending(self) -> int:
        """Values waiting for this consumer (0 before the stream starts)."""
        return self._sink.channel.pending() if self._sink is not None else 0

    @property
    def error(self) -> BaseException | None:
        """The error this stream has ended with and will raise on the next read, if any."""
        return self._sink.channel.error if self._sink is not None else None


class StreamManager:
    """The feeds and connections of one client's streams."""

    def __init__(self, client: AsyncExchange) -> None:
        self._client = weakref.ref(client)
        adapter = client.adapter
        self.name = adapter.name
        self.dialect = adapter.stream_dialect()
        self.options = StreamOptions.from_options(adapter.options)
        ping = self.options.ping_interval or self.dialect.ping_interval
        if self.options.silence_timeout <= ping:
            raise ValueError(
                f"ws_silence_timeout ({self.options.silence_timeout} s) must exceed the ping "
                f"interval ({ping} s)"
            )
        self.log = logging.getLogger(f"exchanges.{self.name}.stream")
        self._http: aiohttp.ClientSession | None = None
        self.connections: list[WsConnection] = []
        self.feeds: dict[tuple[str, str], Feed] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Task[None]] = set()

    @property
    def client(self) -> AsyncExchange:
        """The client these streams belong to."""
        client = self._client()
        if client is None:
            raise RuntimeError("the client of these streams is gone")
        return client

    def stream(self, opener: Opener, what: str) -> Stream[Any]:
        """A stream that subscribes on first use."""
        return Stream(self, opener, what)

    def credentials(self, what: str) -> Credentials:
        """The (read) credentials private streams authenticate with."""
        session = self.client.session
        credentials = session.credentials
        if credentials is None:
            prefix = self.client.adapter.env_prefix()
            raise AuthenticationError(
                f"{what} needs API credentials and none were given",
                exchange=self.name,
                hint=f"Pass credentials= to connect_async(), or set {prefix}_API_KEY and "
                f"{prefix}_API_SECRET.",
            )
        return credentials

    # -- connection host ------------------------------------------------------------------

    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session of this client's WebSockets (created in the running loop)."""
        if self._http is None or self._http.closed:
            # Like the REST transport: no cookies and no environment proxies.
            self._http = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=self.options.connect_timeout),
            )
        return self._http

    async def auth_frame(self) -> str:
        """An auth frame stamped with the server clock (resynced first when due)."""
        from exchanges.drivers import run_async

        client = self.client
        session = client.session
        credentials = self.credentials("a private stream")
        if session.sync_clock and session.clock.needs_sync():
            await run_async(session.resync(), client.transport)
        return self.dialect.auth(credentials, session.clock.timestamp_ms())

    async def connect_url(self, group: str, url: str) -> str:
        """The dialect's URL for a (re)connect, with what it fetches over REST."""
        return await self.dialect.connect_url(group, url, self.client)

    def auth_refused(self, text: str) -> tuple[AuthenticationError, bool]:
        """The dialect's reading of an auth refusal."""
        return self.dialect.auth_error(text, self.credentials("a private stream"))

    def invalidate_clock(self) -> None:
        """Forget the clock offset so the next auth resyncs."""
        self.client.session.clock.invalidate()

    def connection_failed(self, connection: WsConnection, error: BaseException) -> None:
        """Forget a connection that gave up, and its feeds."""
        self.log.warning("%s: the connection gave up: %s", connection.group, error)
        if connection in self.connections:
            self.connections.remove(connection)
        for feed in connection.feeds.values():
            self.feeds.pop((feed.spec.group, feed.topic), None)
            feed.close()
        connection.feeds.clear()

    def feed_rejected(self, feed: Feed) -> None:
        """Forget a feed the exchange refused."""
        self.feeds.pop((feed.spec.group, feed.topic), None)
        feed.close()
        connection = feed.connection
        if connection is not None and not connection.feeds:
            self._retire(connection)

    # -- feeds ----------------------------------------------------------------------------

    async def attach(self, spec: FeedSpec, select: Select | None, limit: int | None) -> Sink:
        """Subscribe a new consumer to ``spec``'s topic (sharing the feed if there is one)."""
        sink = self.join(spec, select, limit)
        await self.confirm(sink)
        return sink

    def join(
        self,
        spec: FeedSpec,
        select: Select | None,
        limit: int | None,
        *,
        channel: Channel[Any] | None = None,
    ) -> Sink:
        """Add a consumer to ``spec``'s feed (subscribing it if new), without waiting; with
        ``channel``, it delivers into that one (a companion topic of another sink's stream)."""
        key = (spec.group, spec.topic)
        feed = self.feeds.get(key)
        if feed is None:
            seed = None
            if spec.seed is not None:
                seeder, client = spec.seed, self.client

                def seed() -> Awaitable[Any]:
                    return seeder(client)

            options = self.options
            feed = make_feed(
                spec,
                self.log,
                options.max_buffer,
                seed,
                resync_delay=options.reconnect_delay,
                resync_max_delay=options.reconnect_max_delay,
            )
            self.feeds[key] = feed
            self._connection_for(spec).add(feed)
        sink = Sink(channel if channel is not None else feed.new_channel(), select, limit)
        feed.attach(sink)
        return sink

    async def confirm(self, sink: Sink) -> None:
        """Wait until the exchange confirmed ``sink``'s subscription; raise why it did not.

        Events count from the confirmation on: waiting for it makes what the caller does next
        (place an order) seen. It is waited for at most ``ws_connect_timeout +
        ws_auth_timeout`` (then ``NetworkError``); it ends early when the sink is let go of.
        Whatever ends the wait other than the confirmation (an error, a cancellation) lets go
        of the sink, so that nothing of a stream that did not start stays subscribed.
        """
        try:
            if not sink.live and sink.channel.error is None and sink.feed is not None:
                ready = sink.ready = asyncio.get_running_loop().create_future()
                timeout = self._confirm_timeout()
                try:
                    await asyncio.wait_for(ready, timeout)
                except TimeoutError:
                    raise self._unconfirmed(sink, timeout) from None
                finally:
                    sink.ready = None
            error = sink.channel.error
            if error is not None:
                raise error
        except BaseException:
            self.detach(sink)
            raise

    def _unconfirmed(self, sink: Sink, timeout: float) -> NetworkError:
        feed = sink.feed
        topic = feed.topic if feed is not None else "the topic"
        connection = feed.connection if feed is not None else None
        where = f" at {connection.shown_url}" if connection is not None else ""
        return NetworkError(
            f"the subscription to {topic} was not confirmed within {timeout:g} s",
            exchange=self.name,
            hint=f"The stream connection{where} did not come up, or the exchange did not "
            "answer the subscription, within ws_connect_timeout + ws_auth_timeout. Check "
            "connectivity to the exchange's stream host (a firewall or proxy may block "
            "WebSockets), then watch again.",
        )

    def _confirm_timeout(self) -> float:
        options = self.options
        return options.connect_timeout + options.auth_timeout

    def _connection_for(self, spec: FeedSpec) -> WsConnection:
        for connection in self.connections:
            if connection.group == spec.group and self.dialect.fits(
                spec.group, list(connection.feeds), spec.topic
            ):
                return connection
        connection = WsConnection(
            self, self.dialect, spec.group, self.dialect.url(spec.group), self.options, self.log
        )
        self.connections.append(connection)
        return connection

    def detach(self, sink: Sink) -> None:
        """Remove a consumer now; an unused feed is unsubscribed, an unused connection closed."""
        sink.channel.close()
        sink.wake()
        feed, sink.feed = sink.feed, None
        if feed is None or not feed.detach(sink):
            return
        key = (feed.spec.group, feed.topic)
        if self.feeds.get(key) is feed:
            del self.feeds[key]
        feed.close()
        connection = feed.connection
        if connection is not None:
            connection.remove(feed.topic)
            if not connection.feeds:
                self._retire(connection)

    def _retire(self, connection: WsConnection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a finaliser at exit): the socket goes with the process
        task = loop.create_task(self._close_connection(connection))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close_connection(self, connection: WsConnection) -> None:
        await connection.close()
        if not self.connections and self._http is not None:
            http, self._http = self._http, None
            await http.close()

    async def release(self, sink: Sink) -> None:
        """Remove a consumer and wait until whatever it alone used is closed."""
        self.detach(sink)
        await self.settle()

    async def settle(self) -> None:
        """Wait for connections being closed (a cancelled wait leaves the closing going on)."""
        task = asyncio.get_running_loop().create_task(self._settle())
        # Held here: a shielded task nobody awaits any more must not be collected midway.
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        await asyncio.shield(task)

    async def _settle(self) -> None:
        while self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
        if not self.connections and self._http is not None:
            http, self._http = self._http, None
            await http.close()

    async def close(self) -> None:
        """End every stream of this client and close every connection."""
        for feed in list(self.feeds.values()):
            for sink in list(feed.sinks):
                self.detach(sink)
        for connection in list(self.connections):
            self._retire(connection)
        await self.settle()


_MANAGERS: weakref.WeakKeyDictionary[AsyncExchange, StreamManager] = weakref.WeakKeyDictionary()


def streams_of(client: AsyncExchange) -> StreamManager:
    """The stream manager of ``client`` (created on first use)."""
    manager = _MANAGERS.get(client)
    if manager is None:
        manager = StreamManager(client)
        _MANAGERS[client] = manager
    return manager


async def close_streams(client: AsyncExchange) -> None:
    """End every stream of ``client`` and close its WebSocket connections."""
    manager = _MANAGERS.get(client)
    if manager is not None:
        await manager.close()
