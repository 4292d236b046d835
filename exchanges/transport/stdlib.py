"""The default sync transport, on the standard library's ``http.client``.

urllib3 costs 1.4-1.8x the bare ``http.client`` round trip on loopback (measured in
``benchmarks/``: 196 vs 139 us), more than this library's whole budget over that floor. This
transport keeps what a client needs from a pool (keep-alive per origin, verified TLS, one
deadline per call, a cap on the body, dropped-connection detection) and nothing else.
``connect(..., transport="urllib3")`` selects the urllib3 transport instead.
"""

from __future__ import annotations

import http.client
import select
import threading
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from exchanges.errors import ExchangeError, NetworkError, RequestTimeout
from exchanges.transport.base import describe
from exchanges.transport.limits import MAX_BODY_BYTES, ResponseWithin, too_large, wait_at_most
from exchanges.transport.outcomes import (
    SendsAttempts,
    network_error,
    no_connection_within,
    no_response_within,
    read_pieces,
    response,
)
from exchanges.wire import Prepared, Response

__all__ = ["StdlibTransport"]

# A pooled connection idle longer than this is not trusted with a request: servers close idle
# keep-alive connections, and a write that meets a closed connection has an unknown outcome.
_MAX_IDLE = 30.0


class _Origin:
    __slots__ = ("host", "idle", "lock", "port", "tls")

    def __init__(self, origin: str) -> None:
        parts = urlsplit(origin)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.tls else 80)
        self.idle: deque[tuple[http.client.HTTPConnection, float]] = deque()
        self.lock = threading.Lock()


def _dropped(conn: http.client.HTTPConnection) -> bool:
    sock = conn.sock
    if sock is None:
        return True
    try:
        # An idle keep-alive socket that is readable has been closed (or sent garbage).
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class StdlibTransport(SendsAttempts):
    """Sends ``Prepared`` requests over pooled ``http.client`` connections."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        pool_size: int = 10,
        exchange: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self._timeout = timeout
        self._connect_timeout = min(timeout, 5.0)
        self._pool_size = pool_size
        self._exchange = exchange
        self._max_body = max_body_bytes
        self._origins: dict[str, _Origin] = {}
        self._tls: Any = None
        self._lock = threading.Lock()

    def _origin(self, url: str) -> tuple[_Origin, str]:
        slash = url.find("/", url.find("//") + 2)
        origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        found = self._origins.get(origin)
        if found is None:
            with self._lock:
                found = self._origins.setdefault(origin, _Origin(origin))
        return found, target

    def _connect(self, origin: _Origin) -> http.client.HTTPConnection:
        # Looked up on the module at call time, so recorders that patch http.client see it.
        if origin.tls:
            if self._tls is None:
                import ssl  # only https needs it; plain-HTTP clients (the emulator) skip the cost

                self._tls = ssl.create_default_context()
            return http.client.HTTPSConnection(
                origin.host, origin.port, timeout=self._connect_timeout, context=self._tls
            )
        return http.client.HTTPConnection(origin.host, origin.port, timeout=self._connect_timeout)

    def _checkout(self, origin: _Origin) -> tuple[http.client.HTTPConnection, bool]:
        now = time.monotonic()
        with origin.lock:
            while origin.idle:
                conn, since = origin.idle.pop()
                if now - since < _MAX_IDLE and not _dropped(conn):
                    return conn, True
                conn.close()
        return self._connect(origin), False

    def _checkin(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with origin.lock:
            if len(origin.idle) < self._pool_size:
                origin.idle.append((conn, time.monotonic()))
                return
        conn.close()

    def _attempt(self, prepared: Prepared) -> Response | ExchangeError:
        started = time.perf_counter()
        # One deadline for the whole call: connect, send, status line, headers and body.
        deadline = started + self._timeout
        origin, target = self._origin(prepared.url)
        conn, reused = self._checkout(origin)
        outcome = self._exchange_once(conn, origin, target, prepared, started, deadline)
        if not isinstance(outcome, _Stale):
            return outcome
        # The pooled connection was closed under us before the response was complete. A read
        # is repeated on a fresh connection; a write reports that it may have been sent.
        if reused and not prepared.request.write:
            conn = self._connect(origin)
            outcome = self._exchange_once(conn, origin, target, prepared, started, deadline)
            if not isinstance(outcome, _Stale):
                return outcome
        return self._error(prepared, "the connection closed", sent=True)

    def _exchange_once(
        self,
        conn: http.client.HTTPConnection,
        origin: _Origin,
        target: str,
        prepared: Prepared,
        started: float,
        deadline: float,
    ) -> Response | ExchangeError | _Stale:
        # Failures come back as values, built from the low-level exception but never chained to
        # it: its frames hold the headers, and its text may hold the URL.
        stage = "connect"
        try:
            if conn.sock is None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return self._timed_out(prepared, started, sent=False)
                # A second connect (a stale pooled connection's replacement) gets what is left.
                if isinstance(conn.timeout, float) and left < conn.timeout:
                    conn.timeout = left
                conn.connect()
            # A recorder's stand-in connection may have no socket: it keeps its own timing.
            sock: Any = conn.sock
            if sock is not None:
                left = deadline - time.perf_counter()
                if left <= 0:
                    conn.close()
                    return self._timed_out(prepared, started, sent=False)
                # sendall honours the socket timeout as a total (http.client sends the headers,
                # then the body; the headers fit the idle socket's empty buffer at once), and
                # the response's reader keeps it to the time left before each recv.
                wait_at_most(sock, left)
                response_class: Any = ResponseWithin(deadline)
                conn.response_class = response_class
            stage = "send"
            conn.request(prepared.method, target, prepared.body, prepared.headers)
            stage = "receive"
            raw = conn.getresponse()
            body = self._read(raw, prepared)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            conn.close()
            if stage == "connect":
                return self._error(
                    prepared, describe(exc, prepared, "while connecting"), sent=False
                )
            return _Stale()
        except TimeoutError:
            conn.close()
            if stage == "connect":
                return no_connection_within(self._connect_timeout, prepared, self._exchange)
            return self._timed_out(prepared, started, sent=True)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            sent = stage != "connect"
            where = "after the request may have been sent" if sent else "before it was sent"
            return self._error(prepared, describe(exc, prepared, where), sent=sent)
        if not isinstance(body, bytes):
            conn.close()  # the rest of the body is still on the wire
            return body
        if getattr(raw, "will_close", True):
            conn.close()
        else:
            self._checkin(origin, conn)
        # http.client never asks for a compressed body, but a server may send one anyway.
        headers = cast("Mapping[str, str]", raw.headers)
        coding = headers.get("Content-Encoding")
        return response(
            raw.status, headers, coding, body, prepared, started, self._max_body, self._exchange
        )

    def _read(self, raw: http.client.HTTPResponse, prepared: Prepared) -> bytes | ExchangeError:
        limit = self._max_body
        # A recorder's stand-in response may give the length as text.
        length = raw.length
        if length is not None:
            if int(length) > limit and prepared.method != "HEAD":
                return too_large(
                    limit,
                    exchange=self._exchange,
                    endpoint=prepared.request.endpoint,
                    status=raw.status,
                    declared=int(length),
                )
            return raw.read()
        # Chunked, or delimited by the close: counted as it arrives, and dropped at the cap.
        body = read_pieces(raw.read, limit)
        if body is None:
            return too_large(
                limit,
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                status=raw.status,
            )
        return body

    def _timed_out(self, prepared: Prepared, started: float, *, sent: bool) -> RequestTimeout:
        return no_response_within(self._timeout, started, prepared, self._exchange, sent=sent)

    def _error(self, prepared: Prepared, message: str, *, sent: bool) -> NetworkError:
        return network_error(message, prepared, self._exchange, sent=sent)

    def __del__(self) -> None:
        # A client dropped without close() still releases its sockets, quietly.
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        for origin in list(self._origins.values()):
            with origin.lock:
                while origin.idle:
                    origin.idle.pop()[0].close()


class _Stale:
    """A connection closed by the peer before a response arrived."""

    __slots__ = ()
