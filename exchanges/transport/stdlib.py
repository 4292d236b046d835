"""The default sync transport, on the standard library's ``http.client``.

urllib3 costs 1.4-1.8x the bare ``http.client`` round trip on loopback (measured in
``benchmarks/`` and ../shared/reference/perf-baseline.md: 196 vs 139 us), more than this
library's whole budget over that floor. This transport keeps what a client needs from a pool
(keep-alive per origin, verified TLS, timeouts, dropped-connection detection) and nothing else.
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

from exchanges.errors import NetworkError, RequestTimeout
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


class StdlibTransport:
    """Sends ``Prepared`` requests over pooled ``http.client`` connections."""

    def __init__(self, *, timeout: float = 10.0, pool_size: int = 10, exchange: str | None = None):
        self._timeout = timeout
        self._connect_timeout = min(timeout, 5.0)
        self._pool_size = pool_size
        self._exchange = exchange
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

    def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        origin, target = self._origin(prepared.url)
        started = time.perf_counter()
        conn, reused = self._checkout(origin)
        try:
            return self._exchange_once(conn, origin, target, prepared, started)
        except _Stale:
            # The pooled connection was closed under us before anything was read back. A read
            # is repeated on a fresh connection; a write reports that it may have been sent.
            if not reused or prepared.request.write:
                raise self._error(prepared, "the connection closed", sent=True) from None
            conn = self._connect(origin)
            try:
                return self._exchange_once(conn, origin, target, prepared, started)
            except _Stale:
                raise self._error(prepared, "the connection closed", sent=True) from None

    def _exchange_once(
        self,
        conn: http.client.HTTPConnection,
        origin: _Origin,
        target: str,
        prepared: Prepared,
        started: float,
    ) -> Response:
        stage = "connect"
        try:
            if conn.sock is None:
                self._open(conn)
            stage = "send"
            conn.request(prepared.method, target, prepared.body, prepared.headers)
            stage = "receive"
            raw = conn.getresponse()
            body = raw.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
            conn.close()
            if stage == "connect":
                raise self._error(
                    prepared, f"{type(exc).__name__} while connecting", sent=False
                ) from None
            raise _Stale from exc
        except TimeoutError as exc:
            conn.close()
            if stage == "connect":
                raise RequestTimeout(
                    f"could not connect within {self._connect_timeout} s",
                    exchange=self._exchange,
                    endpoint=prepared.request.endpoint,
                    request_sent=False,
                ) from exc
            raise RequestTimeout(
                f"no response within {self._timeout} s",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            sent = stage != "connect"
            where = "after the request may have been sent" if sent else "before it was sent"
            raise self._error(prepared, f"{type(exc).__name__} {where}: {exc}", sent=sent) from None
        if getattr(raw, "will_close", True):
            conn.close()
        else:
            self._checkin(origin, conn)
        headers = cast("Mapping[str, str]", raw.headers)
        return Response(raw.status, headers, body, prepared.request, time.perf_counter() - started)

    def _open(self, conn: http.client.HTTPConnection) -> None:
        conn.connect()
        # Connected under the connect timeout; from here on reads wait up to the full timeout.
        # (A recorder's stand-in connection may have no socket at this point.)
        sock: Any = conn.sock
        if sock is not None:
            sock.settimeout(self._timeout)

    def _error(self, prepared: Prepared, message: str, *, sent: bool) -> NetworkError:
        return NetworkError(
            message,
            exchange=self._exchange,
            endpoint=prepared.request.endpoint,
            request_sent=sent,
        )

    def __del__(self) -> None:
        # A client dropped without close() still releases its sockets, quietly.
        self.close()

    def close(self) -> None:
        """Close every pooled connection."""
        for origin in list(self._origins.values()):
            with origin.lock:
                while origin.idle:
                    origin.idle.pop()[0].close()


class _Stale(Exception):
    """A connection closed by the peer before a response arrived."""
