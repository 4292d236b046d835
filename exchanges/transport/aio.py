"""The async transport on aiohttp: one pooled session, one deadline per call, a cap on the body,
TLS verified, no re-encoding."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp import hdrs
from yarl import URL

from exchanges.errors import ExchangeError, RequestTimeout
from exchanges.transport.base import describe
from exchanges.transport.limits import MAX_BODY_BYTES, too_large
from exchanges.transport.outcomes import (
    PIECE,
    network_error,
    no_connection_within,
    no_response_within,
    response,
)
from exchanges.wire import Prepared, Response

__all__ = ["AioTransport"]

# Compressed answers save bandwidth; these two are the ones the body cap can inflate safely
# (aiohttp would also offer br and zstd whenever their modules happen to be installed).
_ACCEPT_ENCODING = "gzip, deflate"
# Deadlines are kept in slots of 1/_SLOTS_PER_SECOND s: a call ends at most one slot late.
_SLOTS_PER_SECOND = 20

_current_task = asyncio.current_task
_perf_counter = time.perf_counter


class _Deadlines:
    """When the calls in flight must end, with one loop timer per 50 ms slot, not one per call.

    aiohttp's own total timeout schedules a timer for every request, plus the context managers
    that arm it: at thousands of calls a second that is a tenth of what a call costs. Here a call
    joins the slot its deadline falls in (a set, kept for the slot), and leaves it when it ends;
    when the slot's time comes, the calls still in it are cancelled, and each, seeing that its
    deadline did it, ends with ``RequestTimeout``, as with ``asyncio.timeout``: a cancellation
    that came from elsewhere is passed on, not turned into a timeout.
    """

    __slots__ = ("_seconds", "_slots", "expired", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
        self.loop = loop
        self._seconds = seconds
        self._slots: dict[int, tuple[set[asyncio.Task[Any]], asyncio.TimerHandle]] = {}
        #: Calls cancelled by their deadline that have not yet seen it.
        self.expired: set[asyncio.Task[Any]] = set()

    def join(self, task: asyncio.Task[Any]) -> set[asyncio.Task[Any]]:
        """Watch ``task`` until it leaves the returned set; past the deadline it is cancelled."""
        # The first slot that ends at or after the deadline.
        slot = int((self.loop.time() + self._seconds) * _SLOTS_PER_SECOND) + 1
        entry = self._slots.get(slot)
        if entry is None:
            members: set[asyncio.Task[Any]] = set()
            timer = self.loop.call_at(slot / _SLOTS_PER_SECOND, self._expire, slot)
            self._slots[slot] = (members, timer)
        else:
            members = entry[0]
        members.add(task)
        return members

    def _expire(self, slot: int) -> None:
        entry = self._slots.pop(slot, None)
        if entry is None:
            return
        for task in entry[0]:
            self.expired.add(task)
            task.cancel()

    def ended(self, task: asyncio.Task[Any], cancelling: int) -> bool:
        """True if the deadline cancelled ``task`` and nothing else did (the cancel is undone)."""
        if task not in self.expired:
            return False
        self.expired.discard(task)
        return task.uncancel() <= cancelling

    def forget(self, task: asyncio.Task[Any]) -> None:
        """After a call: undo a cancel by the deadline that the call never saw (it finished)."""
        if task in self.expired:
            self.expired.discard(task)
            task.uncancel()

    def close(self) -> None:
        """Cancel the slot timers (the session is closing)."""
        for _, timer in self._slots.values():
            timer.cancel()
        self._slots.clear()


class AioTransport:
    """Sends ``Prepared`` requests over one aiohttp session, created in the running loop."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        pool_size: int = 100,
        exchange: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        # The deadline (_Deadlines) bounds the whole call, body included, however slowly it
        # arrives; aiohttp bounds only opening a connection.
        self._total = timeout
        self._connect = min(timeout, 5.0)
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._deadlines: _Deadlines | None = None
        self._exchange = exchange
        self._max_body = max_body_bytes

    def _open(self) -> tuple[aiohttp.ClientSession, _Deadlines]:
        connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
        # No cookie jar and no environment proxies: nothing may add to a signed request.
        # Bodies are inflated here, under the cap, not by aiohttp.
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, connect=self._connect),
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=False,
            headers={"Accept-Encoding": _ACCEPT_ENCODING},
        )
        if self._deadlines is not None:
            self._deadlines.close()
        deadlines = _Deadlines(asyncio.get_running_loop(), self._total)
        self._session, self._deadlines = session, deadlines
        return session, deadlines

    async def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        outcome = await self.attempt(prepared)
        if isinstance(outcome, Response):
            return outcome
        # Raised here, outside any except block, so nothing low-level is chained to it; and this
        # frame keeps no secret for a traceback printed with its locals (pytest --showlocals,
        # Sentry): the I/O ran in a helper that has returned, and Prepared's repr shows the URL,
        # query string included, where Binance puts its signature.
        del prepared
        raise outcome

    async def attempt(self, prepared: Prepared) -> Response | ExchangeError:
        """``send``, with the error returned instead of raised (``run_async`` drives this)."""
        session, deadlines = self._session, self._deadlines
        if session is None or deadlines is None or session.closed:
            session, deadlines = self._open()
        started = _perf_counter()
        task = _current_task(deadlines.loop)
        if task is None:
            raise RuntimeError("AioTransport.send must run in an asyncio task")
        cancelling = task.cancelling()
        watched = deadlines.join(task)
        # Failures come back as values, built from the low-level exception but never chained to
        # it: its frames hold the headers, and its text may hold the URL.
        try:
            # encoded=True: yarl must not normalise the signed query string.
            raw = await session.request(
                prepared.method,
                URL(prepared.url, encoded=True),
                data=prepared.body,
                headers=prepared.headers,
                allow_redirects=False,
            )
            # Awaited rather than entered with `async with`: reading the body to its end gives
            # the connection back to the pool; anything else closes it below.
            try:
                length = raw.content_length
                if length is not None and length <= self._max_body:
                    body: bytes | ExchangeError = await raw.read()
                else:
                    body = await self._read(raw, prepared, length)
            except BaseException:
                raw.close()
                raise
            raw.release()
        except asyncio.CancelledError:
            if not deadlines.ended(task, cancelling):
                raise
            return self._timed_out(prepared, started)
        except aiohttp.ConnectionTimeoutError:
            return no_connection_within(self._connect, prepared, self._exchange)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return self._timed_out(prepared, started)
        except aiohttp.ClientConnectorError as exc:
            message = describe(exc, prepared, "before it was sent")
            return network_error(message, prepared, self._exchange, sent=False)
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            message = describe(exc, prepared, "after the request may have been sent")
            return network_error(message, prepared, self._exchange, sent=True)
        finally:
            watched.discard(task)
            if deadlines.expired:  # rare: only just after some deadline passed
                deadlines.forget(task)
        if not isinstance(body, bytes):
            return body
        headers = raw.headers
        coding = headers.get(hdrs.CONTENT_ENCODING)  # an istr: no case folding per lookup
        return response(
            raw.status, headers, coding, body, prepared, started, self._max_body, self._exchange
        )

    def _timed_out(self, prepared: Prepared, started: float) -> RequestTimeout:
        return no_response_within(self._total, started, prepared, self._exchange, sent=True)

    async def _read(
        self, raw: aiohttp.ClientResponse, prepared: Prepared, length: int | None
    ) -> bytes | ExchangeError:
        limit = self._max_body
        if length is not None:
            if prepared.method == "HEAD":
                return await raw.read()
            raw.close()  # the rest of the body is still on the wire
            return too_large(
                limit,
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                status=raw.status,
                declared=length,
            )
        # Chunked, or delimited by the close: counted as it arrives, and dropped at the cap.
        pieces: list[bytes] = []
        size = 0
        while piece := await raw.content.read(PIECE):
            size += len(piece)
            if size > limit:
                raw.close()
                return too_large(
                    limit,
                    exchange=self._exchange,
                    endpoint=prepared.request.endpoint,
                    status=raw.status,
                )
            pieces.append(piece)
        return b"".join(pieces)

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        if self._deadlines is not None:
            self._deadlines.close()
        self._session = None
        self._deadlines = None

    def abandon(self) -> None:
        """Release the connections without the event loop (the client was dropped open)."""
        session, self._session = self._session, None
        if self._deadlines is not None:
            self._deadlines.close()
            self._deadlines = None
        if session is None or session.closed:
            return
        connector = session.connector
        session.detach()
        # aiohttp closes a connector's sockets synchronously in _close (close() is a coroutine
        # from 3.10 on, which a finaliser cannot await); detached, the session counts as closed
        # and says nothing.
        close_now = getattr(connector, "_close", None)
        if close_now is not None:
            close_now()
