"""The sync transport on urllib3: keep-alive pools, one deadline per call, a cap on the body,
TLS verified, no re-encoding."""

from __future__ import annotations

import http.client
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import urllib3
import urllib3.connection
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from exchanges.errors import ExchangeError, NetworkError
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

__all__ = ["SyncTransport"]

# urllib3 logs each request line at DEBUG, query string included: a signature carried in the
# query (Binance) would reach the logs. The filter shortens it before any handler sees it.
_SIGNATURE_IN_QUERY = re.compile(r"((?:^|[?&])signature=)[^&\s\"]+")


class _RedactSignatures(logging.Filter):
    """Shortens ``signature=...`` in urllib3's log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "signature=" in message:
            record.msg, record.args = _SIGNATURE_IN_QUERY.sub(r"\1<redacted>", message), ()
        return True


_POOL_LOGGER = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactSignatures) for f in _POOL_LOGGER.filters):
    _POOL_LOGGER.addFilter(_RedactSignatures())

# urllib3 builds, sends on and reads from its connections deep inside urlopen; the send running
# on this thread leaves its deadline here for them, and they note when a byte may have left.
_CALL = threading.local()


def _left() -> float | None:
    """Seconds left before this thread's send must end; None outside a send."""
    deadline: float | None = getattr(_CALL, "deadline", None)
    if deadline is None:
        return None
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError("the call's deadline passed")
    return left


def _nothing_sent_yet() -> None:
    # One of our connections is at work: whether the request left is now known exactly.
    if getattr(_CALL, "sent", None) is None:
        _CALL.sent = False


def _connect_timeout(timeout: Any) -> Any:
    _nothing_sent_yet()
    left = _left()
    return left if left is not None and (timeout is None or left < timeout) else timeout


def _before_sending(sock: Any) -> None:
    _nothing_sent_yet()
    left = _left()
    if left is not None and sock is not None:
        # sendall honours the socket timeout as a total.
        wait_at_most(sock, left)
    _CALL.sent = True


def _response_class() -> Any:
    deadline: float | None = getattr(_CALL, "deadline", None)
    return http.client.HTTPResponse if deadline is None else ResponseWithin(deadline)


if TYPE_CHECKING:
    _Connection = urllib3.connection.HTTPConnection
else:
    _Connection = object


class _WithinDeadline(_Connection):
    """Mixed into urllib3's connection classes: every wait ends by this thread's send's deadline."""

    def connect(self) -> None:
        self.timeout = _connect_timeout(self.timeout)
        super().connect()

    def send(self, data: Any) -> None:
        if self.sock is None:
            self.connect()  # as http.client would, but before the socket's timeout is set
        _before_sending(self.sock)
        super().send(data)

    def getresponse(self) -> Any:
        self.response_class = _response_class()
        return super().getresponse()


_BOUNDED: dict[Any, Any] = {}


def _bounded(cls: Any) -> Any:
    # Built on whatever class the pool would use, when it is urllib3's own; a recorder's
    # stand-in (vcrpy swaps urllib3's classes for socketless ones) is left as it is.
    if getattr(cls, "__module__", None) != "urllib3.connection":
        return cls
    bounded = _BOUNDED.get(cls)
    if bounded is None:
        bounded = _BOUNDED[cls] = type(f"Bounded{cls.__name__}", (_WithinDeadline, cls), {})
    return bounded


class _HTTPPool(urllib3.HTTPConnectionPool):
    """A pool of deadline-bound connections."""

    @property
    def ConnectionCls(self) -> Any:  # type: ignore[override]
        """Looked up for each new connection, so a recorder's patch of urllib3 still applies."""
        return _bounded(urllib3.HTTPConnectionPool.ConnectionCls)


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    """A pool of deadline-bound TLS connections."""

    @property
    def ConnectionCls(self) -> Any:  # type: ignore[override]
        """Looked up for each new connection, so a recorder's patch of urllib3 still applies."""
        return _bounded(urllib3.HTTPSConnectionPool.ConnectionCls)


class SyncTransport(SendsAttempts):
    """Sends ``Prepared`` requests over pooled urllib3 connections."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        pool_size: int = 10,
        exchange: str | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        self._total = timeout
        self._timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        self._manager = urllib3.PoolManager(
            num_pools=8,
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=self._timeout,
            cert_reqs="CERT_REQUIRED",
        )
        self._manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._exchange = exchange
        self._max_body = max_body_bytes

    def _pool(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        # Split scheme://host once per base; the rest of the URL is the exact request target.
        slash = url.find("/", url.find("//") + 2)
        origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._manager.connection_from_url(origin)
            self._pools[origin] = pool
        return pool, target

    def _attempt(self, prepared: Prepared) -> Response | ExchangeError:
        pool, target = self._pool(prepared.url)
        started = time.perf_counter()
        call = _CALL
        # One deadline for the whole call: connect, send, status line, headers and body.
        call.deadline = started + self._total
        # Unknown until one of our connections sends (a recorder's stand-in never says).
        call.sent = None
        try:
            raw: Any = pool.urlopen(
                prepared.method,
                target,
                body=prepared.body,
                headers=prepared.headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=False,
                timeout=self._timeout,
            )
            body = self._read(raw, prepared)
        except Exception as exc:
            # Built from the low-level exception, never chained to it: its frames hold the
            # headers, and its text may hold the URL.
            failure = self._failure(exc, prepared, started)
            if failure is None:
                raise
            return failure
        finally:
            call.deadline = None
        if not isinstance(body, bytes):
            return body
        # Asked for "identity"; a server may compress anyway, and urllib3 would inflate it
        # without a bound (decode_content=False): inflated here, under the cap.
        headers = raw.headers
        coding = headers.get("Content-Encoding")
        return response(
            raw.status, headers, coding, body, prepared, started, self._max_body, self._exchange
        )

    def _read(self, raw: Any, prepared: Prepared) -> bytes | ExchangeError:
        limit = self._max_body
        length: int | None = raw.length_remaining
        if length is not None:
            if length > limit and prepared.method != "HEAD":
                raw.close()  # the rest of the body is still on the wire
                raw.release_conn()
                return too_large(
                    limit,
                    exchange=self._exchange,
                    endpoint=prepared.request.endpoint,
                    status=raw.status,
                    declared=length,
                )
            data: bytes = raw.read()
            raw.release_conn()  # urllib3 does when it sees the end; an empty body it may not
            return data
        # Chunked, or delimited by the close: counted as it arrives, and dropped at the cap.
        body = read_pieces(raw.read, limit)
        if body is None:
            raw.close()
            raw.release_conn()
            return too_large(
                limit,
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                status=raw.status,
            )
        raw.release_conn()
        return body

    def _failure(self, exc: Exception, prepared: Prepared, started: float) -> NetworkError | None:
        if isinstance(exc, MaxRetryError) and exc.reason is not None:
            exc = exc.reason
        if isinstance(exc, NewConnectionError):
            # urllib3 counts a refused connection as a connect timeout; it is neither sent
            # nor timed out.
            return self._error(prepared, describe(exc, prepared, "before it was sent"), sent=False)
        sent: bool | None = _CALL.sent
        if _timed_out(exc):
            if sent is None:
                sent = not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)
            if not sent and isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
                seconds: Any = self._timeout.connect_timeout
                return no_connection_within(seconds, prepared, self._exchange)
            return no_response_within(self._total, started, prepared, self._exchange, sent=sent)
        if isinstance(
            exc, ProtocolError | SSLError | HTTPError | OSError | http.client.HTTPException
        ):
            sent = True if sent is None else sent
            where = "after the request may have been sent" if sent else "before it was sent"
            return self._error(prepared, describe(exc, prepared, where), sent=sent)
        return None

    def _error(self, prepared: Prepared, message: str, *, sent: bool) -> NetworkError:
        return network_error(message, prepared, self._exchange, sent=sent)

    def close(self) -> None:
        """Close every pooled connection."""
        self._manager.clear()
        self._pools.clear()


def _timed_out(exc: BaseException) -> bool:
    # urllib3 wraps a socket timeout in its own classes, or in ProtocolError's arguments.
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError | Urllib3Timeout):
            return True
        inner = next((a for a in seen.args if isinstance(a, BaseException)), None)
        seen = inner or seen.__cause__ or seen.__context__
    return False
