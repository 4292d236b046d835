"""The three transports against hostile loopback servers.

One deadline bounds each call, however slowly the answer trickles in; no body grows past
``max_body_bytes``, as sent or once inflated; and a failure's traceback, printed with its
locals (pytest --showlocals, Sentry), shows no API key, signature, passphrase or body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import traceback
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import pytest

from exchanges.errors import BadResponse, ExchangeError, NetworkError, RequestTimeout
from exchanges.transport.aio import AioTransport
from exchanges.transport.base import describe
from exchanges.transport.limits import MAX_BODY_BYTES, decoded
from exchanges.transport.stdlib import StdlibTransport
from exchanges.transport.sync import SyncTransport
from exchanges.wire import Prepared, Request, Response

TRANSPORTS = ("stdlib", "urllib3", "aiohttp")

API_KEY = "FAKEKEYxxxxxxxxxxxxxxxxx"
SIGNATURE = "FAKESIGyyyyyyyy"
QUERY_SIGNATURE = "FAKESIGzzzz"
PASSPHRASE = "FAKEPASS-not-real"
SECRET = "FAKESECRET-never-sent"
BODY_MARKER = "FAKEBODY-order-payload"
SECRETS = (API_KEY, SIGNATURE, QUERY_SIGNATURE, PASSPHRASE, SECRET, BODY_MARKER)

TIMEOUT = 0.5
# Short enough that the tests stay cheap, large enough to tell a cap from a whole answer.
CAP = 4 * 1024 * 1024
HUGE = 300_000_000
# A drip-fed answer: one byte every DRIP seconds, DRIP_BYTES of them (20x the timeout).
DRIP = 0.1
DRIP_BYTES = 100
ANSWER = b'{"retCode":0,"retMsg":"OK","result":{"list":[1,2,3]}}'


# -- the hostile server ---------------------------------------------------------------------


@cache
def gzip_bomb() -> bytes:
    """400 MB of zeros as one gzip member of about 400 KB, built once and only when needed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(400)]
    parts.append(packer.flush())
    return b"".join(parts)


class Hostile:
    """A loopback HTTP/1.1 server that misbehaves as the request path says."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def close(self) -> None:
        self.stop.set()
        for thread in list(self.threads):
            thread.join(timeout=5)
        self.listener.close()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buffer = b""
        with conn, contextlib.suppress(OSError):
            while not self.stop.is_set():
                head, buffer = self._request(conn, buffer)
                if head is None:
                    return
                path = head.split(b" ", 2)[1].split(b"?")[0].decode()
                if not getattr(self, "_" + path.strip("/").replace("-", "_"))(conn):
                    return

    def _request(self, conn: socket.socket, buffer: bytes) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = self._recv(conn)
            if not chunk:
                return None, b""
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = self._recv(conn)
            if not chunk:
                return None, b""
            rest += chunk
        return head, rest[length:]

    def _recv(self, conn: socket.socket) -> bytes:
        while not self.stop.is_set():
            try:
                return conn.recv(65536)
            except TimeoutError:
                continue
        return b""

    def _send(self, conn: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.stop.is_set():
            try:
                sent = conn.send(view)
            except TimeoutError:
                continue
            view = view[sent:]
        if view:
            raise ConnectionAbortedError("server stopping")

    def _answer(self, conn: socket.socket, body: bytes, *extra: str) -> bool:
        head = ["HTTP/1.1 200 OK", "Content-Type: application/json", *extra]
        if not any(h.startswith("Transfer-Encoding") for h in extra):
            head.append(f"Content-Length: {len(body)}")
        self._send(conn, ("\r\n".join(head) + "\r\n\r\n").encode() + body)
        return True

    # Each handler returns whether the connection may serve another request.

    def _ok(self, conn: socket.socket) -> bool:
        return self._answer(conn, ANSWER)

    def _ok_gzip(self, conn: socket.socket) -> bool:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        body = packer.compress(ANSWER) + packer.flush()
        return self._answer(conn, body, "Content-Encoding: gzip")

    def _ok_deflate(self, conn: socket.socket) -> bool:
        return self._answer(conn, zlib.compress(ANSWER), "Content-Encoding: deflate")

    def _ok_chunked(self, conn: socket.socket) -> bool:
        half = len(ANSWER) // 2
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (ANSWER[:half], ANSWER[half:]))
        return self._answer(conn, chunks + b"0\r\n\r\n", "Transfer-Encoding: chunked")

    def _silent(self, conn: socket.socket) -> bool:
        while self._recv(conn):
            pass
        return False

    def _drip(self, conn: socket.socket) -> bool:
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % DRIP_BYTES)
        for _ in range(DRIP_BYTES):
            if self.stop.wait(DRIP):
                break
            self._send(conn, b" ")
        return False

    def _drip_headers(self, conn: socket.socket) -> bool:
        self._send(conn, b"HTTP/1.1 200 OK\r\nX-Slow: ")
        for _ in range(DRIP_BYTES):
            if self.stop.wait(DRIP):
                break
            self._send(conn, b"a")
        return False

    def _huge(self, conn: socket.socket) -> bool:
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % HUGE)
        piece = bytes(1 << 16)
        for _ in range(HUGE // len(piece)):
            self._send(conn, piece)
        return False

    def _huge_chunked(self, conn: socket.socket) -> bool:
        self._send(conn, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"%x\r\n%s\r\n" % (1 << 16, bytes(1 << 16))
        for _ in range(HUGE >> 16):
            self._send(conn, piece)
        return False

    def _bomb(self, conn: socket.socket) -> bool:
        self._answer(conn, gzip_bomb(), "Content-Encoding: gzip")
        return False

    def _drop(self, conn: socket.socket) -> bool:
        self._send(conn, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        return False


@pytest.fixture(scope="module")
def server() -> Iterator[Hostile]:
    hostile = Hostile()
    yield hostile
    hostile.close()


def refused_port() -> int:
    # Bound and closed at once: nothing listens there, so a connect is refused.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


# -- calling a transport --------------------------------------------------------------------


def signed(port: int, path: str) -> Prepared:
    """A request signed every way the adapters sign: keys and signatures in headers, a
    signature in the query string (Binance), a passphrase (OKX) and a body."""
    query = f"symbol=BTCUSDT&timestamp=1700000000000&signature={QUERY_SIGNATURE}"
    body = f'{{"symbol":"BTCUSDT","note":"{BODY_MARKER}"}}'.encode()
    request = Request(
        "POST", f"http://127.0.0.1:{port}", path, query="symbol=BTCUSDT", body=body, signed=True
    )
    headers = {
        "Content-Type": "application/json",
        "X-BAPI-API-KEY": API_KEY,
        "X-BAPI-SIGN": SIGNATURE,
        "OK-ACCESS-KEY": API_KEY,
        "OK-ACCESS-SIGN": SIGNATURE,
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
        "X-MBX-APIKEY": API_KEY,
    }
    return Prepared("POST", f"http://127.0.0.1:{port}{path}?{query}", headers, body, request)


def call(kind: str, port: int, path: str, **options: Any) -> tuple[Response | ExchangeError, float]:
    """One send through a fresh transport: its response or its error, and the time it took.

    The request is built inside the call expression: this frame, the first of the error's
    traceback, holds no secret of its own, so whatever the traceback shows is the transport's.
    """
    options.setdefault("timeout", TIMEOUT)
    options.setdefault("max_body_bytes", CAP)
    started = time.perf_counter()
    if kind == "aiohttp":

        async def run() -> Response | ExchangeError:
            transport = AioTransport(**options)
            try:
                return await transport.send(signed(port, path))
            except ExchangeError as exc:
                return exc
            finally:
                await transport.close()

        outcome = asyncio.run(run())
    else:
        transport = (StdlibTransport if kind == "stdlib" else SyncTransport)(**options)
        try:
            outcome = transport.send(signed(port, path))
        except ExchangeError as exc:
            outcome = exc
        finally:
            transport.close()
    return outcome, time.perf_counter() - started


def failure(kind: str, port: int, path: str, **options: Any) -> tuple[ExchangeError, float]:
    outcome, elapsed = call(kind, port, path, **options)
    assert isinstance(outcome, ExchangeError), f"expected an error, got {outcome!r}"
    return outcome, elapsed


def peak_bytes(run: Callable[[], Any]) -> tuple[Any, int]:
    """What ``run`` returned, and the peak of Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        result = run()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- one deadline per call ------------------------------------------------------------------


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_drip_fed_body_ends_at_the_deadline(server: Hostile, kind: str) -> None:
    err, elapsed = failure(kind, server.port, "/drip")
    # Unbounded, the drip takes DRIP * DRIP_BYTES = 10 s: 20 timeouts.
    assert elapsed < TIMEOUT + 1.0
    assert isinstance(err, RequestTimeout)
    assert err.request_sent is True
    assert f"no complete response within {TIMEOUT} s (waited " in err.message


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_drip_fed_headers_end_at_the_deadline(server: Hostile, kind: str) -> None:
    err, elapsed = failure(kind, server.port, "/drip-headers")
    assert elapsed < TIMEOUT + 1.0
    assert isinstance(err, RequestTimeout)
    assert err.request_sent is True


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_server_that_never_answers_times_out_once(server: Hostile, kind: str) -> None:
    err, elapsed = failure(kind, server.port, "/silent")
    assert elapsed < TIMEOUT + 1.0
    assert isinstance(err, RequestTimeout)
    assert err.request_sent is True
    assert "waited" in err.message


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_refused_connection_was_not_sent(kind: str) -> None:
    err, _ = failure(kind, refused_port(), "/ok")
    assert type(err) is NetworkError
    assert err.request_sent is False
    assert "Connect" in err.message or "connect" in err.message


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_connection_dropped_mid_body_may_have_been_sent(server: Hostile, kind: str) -> None:
    err, elapsed = failure(kind, server.port, "/drop")
    assert type(err) is NetworkError
    assert err.request_sent is True
    assert elapsed < TIMEOUT + 1.0


# -- the body cap ---------------------------------------------------------------------------


def _is_cap_error(err: ExchangeError, path: str) -> None:
    assert isinstance(err, BadResponse)
    assert err.http_status == 200
    assert err.endpoint == f"POST {path}"
    assert f"max_body_bytes={CAP}" in err.message
    assert "connect(..., max_body_bytes=...)" in err.hint


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_declared_oversized_body_is_refused_unread(server: Hostile, kind: str) -> None:
    (err, elapsed), peak = peak_bytes(lambda: failure(kind, server.port, "/huge"))
    _is_cap_error(err, "/huge")
    assert f"declares {HUGE} bytes" in err.message
    assert peak < 3 * CAP
    assert elapsed < TIMEOUT + 1.0


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_an_endless_chunked_body_stops_at_the_cap(server: Hostile, kind: str) -> None:
    (err, _), peak = peak_bytes(lambda: failure(kind, server.port, "/huge-chunked"))
    _is_cap_error(err, "/huge-chunked")
    assert "reading stopped there" in err.message
    assert peak < 3 * CAP


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_gzip_bomb_inflates_no_further_than_the_cap(server: Hostile, kind: str) -> None:
    gzip_bomb()  # built before the measurement
    (err, _), peak = peak_bytes(lambda: failure(kind, server.port, "/bomb"))
    _is_cap_error(err, "/bomb")
    assert "inflates (gzip)" in err.message
    assert peak < 3 * CAP


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("path", ["/ok", "/ok-gzip", "/ok-deflate", "/ok-chunked"])
def test_answers_within_the_cap_arrive_whole_and_inflated(
    server: Hostile, kind: str, path: str
) -> None:
    response, _ = call(kind, server.port, path)
    assert isinstance(response, Response), response
    assert response.status == 200
    assert response.body == ANSWER


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_cap_below_the_answer_refuses_it(server: Hostile, kind: str) -> None:
    err, _ = failure(kind, server.port, "/ok", max_body_bytes=len(ANSWER) - 1)
    assert isinstance(err, BadResponse)
    response, _ = call(kind, server.port, "/ok", max_body_bytes=len(ANSWER))
    assert isinstance(response, Response)


def test_the_default_cap_is_64_mib() -> None:
    assert MAX_BODY_BYTES == 64 * 1024 * 1024
    for cls in (StdlibTransport, SyncTransport, AioTransport):
        assert cls.__init__.__kwdefaults__["max_body_bytes"] == MAX_BODY_BYTES


def _gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _inflated(body: bytes, coding: str, limit: int) -> bytes | ExchangeError:
    return decoded(body, coding, limit, exchange="bybit", endpoint="GET /x", status=200)


def test_inflating_stops_one_byte_past_the_cap_exactly() -> None:
    # Larger than one inflating step, so the steps' bookkeeping is exercised too.
    data = bytes(3 * 1024 * 1024 + 5)
    assert _inflated(_gzip(data), "gzip", len(data)) == data
    refused = _inflated(_gzip(data), "gzip", len(data) - 1)
    assert isinstance(refused, BadResponse)
    assert refused.endpoint == "GET /x" and refused.http_status == 200


def test_inflating_handles_what_servers_send() -> None:
    assert _inflated(_gzip(b"ab") + _gzip(b"cd"), "gzip", 100) == b"abcd"  # two gzip members
    assert _inflated(_gzip(b"ab") + b"\0\0", "x-gzip", 100) == b"ab"  # padding after the end
    assert _inflated(zlib.compress(ANSWER), "deflate", 1000) == ANSWER  # zlib-wrapped
    assert _inflated(_raw_deflate(ANSWER), "Deflate", 1000) == ANSWER  # raw, as some send it
    assert _inflated(_gzip(_gzip(ANSWER)), "gzip, gzip", 1000) == ANSWER
    assert _inflated(b"", "gzip", 1000) == b""  # an empty body marked compressed
    assert _inflated(b"\x0bbrotli", "br", 1000) == b"\x0bbrotli"  # not ours to inflate
    assert _inflated(ANSWER, "identity", 1000) == ANSWER


def test_a_truncated_or_corrupt_compressed_body_is_a_bad_response() -> None:
    for body in (_gzip(ANSWER)[:-10], b"not gzip at all"):
        err = _inflated(body, "gzip", 1000)
        assert isinstance(err, BadResponse)
        assert "could not be inflated" in err.message


# -- no secret in a traceback with locals ---------------------------------------------------

FAILURES = {
    "refused": (None, NetworkError),
    "silent": ("/silent", RequestTimeout),
    "drip": ("/drip", RequestTimeout),
    "drop": ("/drop", NetworkError),
    "huge": ("/huge", BadResponse),
}


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("failing", sorted(FAILURES))
def test_a_failure_shows_no_secret_in_a_traceback_with_locals(
    server: Hostile, kind: str, failing: str
) -> None:
    path, expected = FAILURES[failing]
    port = refused_port() if path is None else server.port
    err, _ = failure(kind, port, path or "/ok")
    assert isinstance(err, expected)
    assert err.__cause__ is None
    assert err.__context__ is None
    shown = "".join(
        traceback.TracebackException(
            type(err), err, err.__traceback__, capture_locals=True
        ).format()
    )
    assert "send" in shown  # the transport's own frame is there, with its locals
    leaked = [secret for secret in SECRETS if secret in shown]
    assert leaked == [], shown
    assert "timestamp=1700000000000" not in shown  # nor the rest of the query string


def test_low_level_messages_lose_query_strings_signatures_and_header_values() -> None:
    prepared = signed(1, "/api/v3/order")
    text = (
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: "
        f"/api/v3/order?symbol=BTCUSDT&timestamp=1700000000000&signature={QUERY_SIGNATURE} "
        f"(Caused by X('key {API_KEY}, sig {SIGNATURE}, pass {PASSPHRASE}, "
        f"signature={QUERY_SIGNATURE}'))"
    )
    message = describe(OSError(text), prepared, "after the request may have been sent")
    assert message.startswith("OSError after the request may have been sent: ")
    assert "/api/v3/order?<query>" in message
    assert not [secret for secret in SECRETS if secret in message]
    assert "timestamp=" not in message
