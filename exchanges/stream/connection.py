"""One WebSocket connection carrying many subscriptions, kept alive for as long as it is needed.

The connection's task loops: connect (aiohttp ``ws_connect``), authenticate when private,
subscribe every topic it carries, then read. While connected it sends the dialect's ping every
``ping_interval`` seconds. It reconnects when:

* the server closes or resets the connection;
* nothing at all arrives for ``silence_timeout`` seconds (pongs count, so a healthy
  connection is never silent for longer than a ping interval plus a round trip);
* a frame cannot be sent;
* the server announces that it will close the connection (the dialect's ``Control("reconnect")``,
  e.g. a service-upgrade notice): it reconnects at once instead of waiting for the close.

Reconnects wait an exponential backoff with jitter (``reconnect_delay`` doubling up to
``reconnect_max_delay``, each wait drawn from [half, all] of it so that many clients do not
reconnect in lockstep); the wait resets once a connection carried data. After a reconnect
every topic is subscribed again and every feed is told (books wait for their new snapshot,
states are fetched again, event consumers get ``StreamInterrupted``). A transient REST failure
while preparing the auth frame (the clock resync) is retried like a lost connection.

What is final: an auth refusal (except once after a clock resync when the dialect says the
clock may be to blame); and, for a connection that never worked (no subscription confirmed, no
data), a handshake answered with HTTP 4xx (403: ``AccountRestricted``, else
``ExchangeNotAvailable``) or ``GIVE_UP_AFTER`` failed attempts in a row (``NetworkError``), so
that a wrong or blocked host is an error, not a silent wait. A connection that worked keeps
reconnecting for as long as it is needed, and says so at WARNING. A refused topic fails its
own feed only: the others of its subscribe batch are subscribed again. Auth frames carry a
signature: they are never logged.

A URL can carry a credential (a Binance listenKey in the query, a password in a proxy URL):
errors, log lines and the repr show URLs through ``redact.scrub``/``shown_url`` (no query, no
userinfo, no token-like path segment, and the values the opened URL carried blanked wherever
they are quoted), and an error raised to consumers is never chained to the low-level exception
(whose text and whose frames' locals hold the URL opened).
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp

from exchanges.errors import (
    AccountRestricted,
    AuthenticationError,
    BadResponse,
    ExchangeError,
    ExchangeNotAvailable,
    NetworkError,
    RateLimitExceeded,
)
from exchanges.stream.dialect import StreamDialect, is_private
from exchanges.stream.feeds import DECODE_ERRORS, Feed
from exchanges.stream.options import StreamOptions
from exchanges.stream.redact import scrub, secrets_of, shown_url

__all__ = ["GIVE_UP_AFTER", "ConnectionHost", "WsConnection"]

#: Failed attempts in a row after which a connection that never worked gives up.
GIVE_UP_AFTER = 5
# The credentials of the last URLs opened, blanked in every text (a key renewed on expiry may
# still be quoted by a late failure of the connection it opened).
_OPENED_KEPT = 4

_CONNECTION_ERRORS = (aiohttp.ClientError, OSError, TimeoutError, ConnectionError)
# Failures of the REST call behind an auth frame (a clock resync) that a later try may not meet.
_TRANSIENT_REST = (NetworkError, ExchangeNotAvailable, RateLimitExceeded, BadResponse)
# Handshake statuses that are worth another try even on a first connection.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})


class ConnectionHost(Protocol):
    """What a connection asks of its manager."""

    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session connections are opened with."""
        ...

    def auth_frame(self) -> Awaitable[str]:
        """A fresh auth frame (stamped by the server clock)."""
        ...

    def connect_url(self, group: str, url: str) -> Awaitable[str]:
        """The URL to open now (the dialect may add what it fetched over REST)."""
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
        self.private = is_private(group)
        self._fanout = dialect.fanout
        self.feeds: dict[str, Feed] = {}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._outbox: asyncio.Queue[str] | None = None
        self._pending: dict[str, list[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._ids = 0
        #: True once a subscription was confirmed or data came: from then on, reconnect forever.
        self.worked = False
        #: Counters for tests and diagnostics.
        self.connects = 0
        self.reconnects = 0
        self.silences = 0
        self.failures = 0  # failed attempts in a row while the connection never worked
        self.notices = 0  # announced closes (``Control("reconnect")``) acted upon
        self._leave = False  # set by such an announcement: end the session and reconnect
        # What the URLs opened carried (a listenKey...): blanked in every text shown.
        self._opened: deque[tuple[str, ...]] = deque(maxlen=_OPENED_KEPT)

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed" if self._closing else "connecting"
        return f"<WsConnection {self.group} {self.shown_url} {state}, {len(self.feeds)} topic(s)>"

    @property
    def shown_url(self) -> str:
        """The connection's URL as errors and logs show it (``redact.shown_url``)."""
        return shown_url(self.url)

    def _scrub(self, text: str) -> str:
        secrets = [*secrets_of(self.url)]
        for carried in self._opened:
            secrets += carried
        return scrub(text, secrets)

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

    def _subscribe(self, topics: Sequence[str], *, fresh: bool = True) -> None:
        """Send the subscribe frames; ``fresh=False`` retries topics whose feeds were told."""
        for batch in self.dialect.batches(self.group, topics):
            req_id = self._next_id()
            self._pending[req_id] = list(batch)
            self._send(self.dialect.subscribe(batch, req_id))
            self.log.debug("%s: subscribing to %s", self.group, ", ".join(batch))
        if not fresh:
            return
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
            try:
                await task
            except asyncio.CancelledError:
                if _being_cancelled():
                    raise

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
                except aiohttp.WSServerHandshakeError as exc:
                    refusal = self._handshake_refusal(exc)
                    if refusal is not None and not self.worked:
                        self._fail(refusal)
                        return
                    attempt += 1
                    why = f"the handshake was answered with HTTP {exc.status}"
                    if not await self._retry(attempt, why, exc):
                        return
                    continue
                except (*_CONNECTION_ERRORS, *_TRANSIENT_REST) as exc:
                    # A REST call behind the URL (a listen key) fails like a connection.
                    attempt += 1
                    if not await self._retry(attempt, f"connecting failed ({_name(exc)})", exc):
                        return
                    continue
                self.connects += 1
                carried = False
                opened = loop.time()
                why = "the connection ended"
                cause: BaseException | None = None
                wait = 0.0
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
                    why, cause = f"connection lost ({_name(exc)})", exc
                except _TRANSIENT_REST as err:
                    # The clock resync behind the auth frame failed: transient, so retried like
                    # a lost connection rather than ending every private stream.
                    why = f"preparing the auth failed ({_name(err)}: {err.message[:200]})"
                    cause = err
                    if isinstance(err, RateLimitExceeded) and err.retry_after:
                        wait = err.retry_after
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
                if not await self._retry(attempt, why, cause, at_least=wait):
                    return
        except asyncio.CancelledError:
            raise
        except ExchangeError as err:
            self._fail(err)
        except Exception as exc:
            # A bug must not leave consumers waiting forever. Its traceback is logged as text,
            # scrubbed: an exception raised while opening may quote the URL opened.
            shown = self._scrub("".join(traceback.format_exception(exc)).rstrip())
            self.log.error("%s: the connection task failed\n%s", self.group, shown)
            failure = f"{type(exc).__name__}: {self._scrub(str(exc))}"
            self._fail(NetworkError(f"the stream connection failed: {failure}"))

    async def _retry(
        self, attempt: int, why: str, cause: BaseException | None, *, at_least: float = 0.0
    ) -> bool:
        """Wait before the next attempt; False when a connection that never worked gives up."""
        if not self.worked:
            self.failures += 1
            if self.failures >= GIVE_UP_AFTER:
                self._fail(self._unreachable(why, cause))
                return False
        delay = max(self._delay(attempt), at_least)
        # Before it ever worked, the consumers get an error if it never does; after, a
        # reconnect that does not come is worth the operator's attention.
        level = logging.WARNING if self.worked else logging.INFO
        self.log.log(level, "%s: %s; retrying in %.2f s", self.group, self._scrub(why), delay)
        await asyncio.sleep(delay)
        return True

    def _unreachable(self, why: str, cause: BaseException | None) -> NetworkError:
        detail = f": {cause}" if cause is not None and str(cause) else ""
        # Not chained to ``cause``: its text and its frames' locals hold the URL opened, with
        # what it carried (a listenKey); what it said is quoted here, scrubbed.
        return NetworkError(
            f"could not open the {self.group} stream at {self.shown_url}: {GIVE_UP_AFTER} "
            f"attempts in a row failed (the last: {self._scrub(why + detail)})",
            exchange=self.dialect.name,
            endpoint=self._endpoint(),
            hint="The stream host could not be reached or did not keep the connection. Check "
            "connectivity to it (DNS, firewall, a proxy that blocks WebSockets) and that the "
            "client's environment and base_url point at the exchange's stream host; then watch "
            "again.",
        )

    def _handshake_refusal(self, exc: aiohttp.WSServerHandshakeError) -> ExchangeError | None:
        """The final error a handshake answered with HTTP 4xx (or 2xx, no upgrade) is."""
        status = exc.status
        if not 200 <= status < 500 or status in _RETRYABLE_STATUSES:
            return None
        name, endpoint = self.dialect.name, self._endpoint()
        if status == 403:
            return AccountRestricted(
                f"{self.shown_url} refused the WebSocket handshake with HTTP 403",
                exchange=name,
                http_status=status,
                endpoint=endpoint,
                hint="The exchange (or a firewall in front of it) blocks this IP address: "
                "exchanges geo-block some countries and cloud regions, on streams as on REST. "
                "Check that the host is the right one for your account (env, region, base_url) "
                "and that this machine may reach it, e.g. by opening the URL from it.",
            )
        return ExchangeNotAvailable(
            f"{self.shown_url} answered the WebSocket handshake with HTTP {status} instead of "
            "switching to a WebSocket",
            exchange=name,
            http_status=status,
            endpoint=endpoint,
            retryable=False,
            hint="This URL is not one of the exchange's stream endpoints: check the client's "
            "environment, region and base_url (a REST host is not a stream host).",
        )

    def _endpoint(self) -> str:
        return f"WS {urlsplit(self.shown_url).path or '/'}"

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        timeout = aiohttp.ClientWSTimeout(ws_close=self.options.close_timeout)
        url = await self.host.connect_url(self.group, self.url)
        carried = secrets_of(url) if url != self.url else ()
        if carried and (not self._opened or self._opened[-1] != carried):
            self._opened.append(carried)
        ws = await asyncio.wait_for(
            self.host.http().ws_connect(
                url, timeout=timeout, autoping=True, max_msg_size=16 * 1024 * 1024
            ),
            self.options.connect_timeout,
        )
        self.log.debug("%s: connected to %s", self.group, self.shown_url)
        return ws

    @staticmethod
    async def _close_ws(ws: aiohttp.ClientWebSocketResponse) -> None:
        # Shielded: a cancelled close would leave the socket for the garbage collector. The
        # close goes on; the cancellation of whoever waited for it must not be lost.
        try:
            await asyncio.shield(ws.close())
        except _CONNECTION_ERRORS:
            pass
        except asyncio.CancelledError:
            if _being_cancelled():
                raise

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
            self._leave = False
            while not self._leave:
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
            self.log.info("%s: the server announced a close; reconnecting now", self.group)
            return carried
        finally:
            for task in (writer, pinger):
                task.cancel()
            await asyncio.gather(writer, pinger, return_exceptions=True)

    async def _write(self, ws: aiohttp.ClientWebSocketResponse, outbox: asyncio.Queue[str]) -> None:
        rate = self.dialect.frame_rate(self.group)
        loop = asyncio.get_running_loop()
        sent: deque[float] = deque()  # when the frames of the last second went out
        try:
            while True:
                frame = await outbox.get()
                if rate is not None:
                    # Exchanges that close a connection sending too fast: frames wait instead.
                    while len(sent) >= rate:
                        wait = sent[0] + 1.0 - loop.time()
                        if wait > 0:
                            await asyncio.sleep(wait)
                        sent.popleft()
                    sent.append(loop.time())
                await ws.send_str(frame)
        except _CONNECTION_ERRORS as exc:
            # The reader notices the close and reconnects.
            self.log.info("%s: sending failed (%s)", self.group, type(exc).__name__)
            await self._close_ws(ws)

    async def _ping(self, outbox: asyncio.Queue[str]) -> None:
        interval = self.options.ping_interval or self.dialect.ping_interval
        frame = self.dialect.ping_for(self.group)
        while True:
            await asyncio.sleep(interval)
            # A ping behind frames still waiting (a rate-limited writer) would only add to them.
            if outbox.empty():
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
                data = self.dialect.loads(message.data)
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
            message: Any = self.dialect.loads(text)
        except ValueError:
            self.log.warning("%s: a frame that is not JSON (%d bytes)", self.group, len(text))
            return False
        topic = self.dialect.topic_of(message)
        if topic is not None:
            self.worked = True
            feed = self.feeds.get(topic)
            if feed is not None:
                try:
                    feed.on_message(message)
                except DECODE_ERRORS as exc:
                    feed.on_bad_message(exc)
            also = self._fanout.get(topic) if self._fanout else None
            if also:
                for other in also:
                    feed = self.feeds.get(other)
                    if feed is not None:
                        try:
                            feed.on_message(message)
                        except DECODE_ERRORS as exc:
                            feed.on_bad_message(exc)
            return True
        control = self.dialect.control(message)
        if control.op == "subscribe":
            topics = self._pending.pop(control.req_id or "", [])
            if control.ok:
                if topics:
                    self.worked = True
                self._confirm(topics)
            else:
                self._rejected(topics, control.text)
        elif control.op == "error":
            self.log.warning("%s: the exchange reported an error: %s", self.group, control.text)
        elif control.op == "reconnect":
            self.notices += 1
            self._leave = True
        return False

    def _confirm(self, topics: Sequence[str]) -> None:
        for topic in topics:
            feed = self.feeds.get(topic)
            if feed is not None:
                feed.on_confirmed()

    def _rejected(self, topics: list[str], text: str) -> None:
        """Fail the topics a refusal names; subscribe the rest of its batch again."""
        if not topics:
            return
        named = self.dialect.refused_topics(text, topics)
        if not named and len(topics) > 1:
            # The refusal names no topic: one request per topic tells the bad one apart.
            self.log.info(
                "%s: a subscribe batch was refused (%s); subscribing its topics one by one",
                self.group,
                text,
            )
            for topic in topics:
                if topic in self.feeds:
                    self._subscribe([topic], fresh=False)
            return
        named = named or topics
        if self.dialect.already_subscribed(text):
            self._confirm(named)
        else:
            for topic in named:
                feed = self.feeds.pop(topic, None)
                if feed is not None:
                    feed.fail(self.dialect.subscribe_error(text, [topic]))
                    self.host.feed_rejected(feed)
        rest = [topic for topic in topics if topic not in named and topic in self.feeds]
        if rest:
            self._subscribe(rest, fresh=False)


def _name(exc: BaseException) -> str:
    return type(exc).__name__


def _being_cancelled() -> bool:
    # A CancelledError of an awaited task is not ours to swallow when we are cancelled too.
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
