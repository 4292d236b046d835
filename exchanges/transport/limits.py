"""What bounds one transport call: one deadline for the whole exchange, a cap on the body.

Shared by the three transports, so a hostile or broken server meets the same limits whichever
one is in use: a response that trickles in ends at the deadline, and no body (as sent, or
inflated from gzip or deflate) grows past ``max_body_bytes``.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from typing import Any

from exchanges.errors import BadResponse

__all__ = ["MAX_BODY_BYTES", "ResponseWithin", "decoded", "too_large", "wait_at_most"]

# The largest answer any adapter asks for is Binance's full spot exchangeInfo (every symbol with
# its filters and permission sets): megabytes, not tens of them. 64 MiB leaves it room to grow
# several times over, while a server that sends (or inflates to) hundreds of MiB no longer
# takes the client's memory with it.
MAX_BODY_BYTES = 64 * 1024 * 1024

_HINT = (
    "No answer this library asks for comes near this size: a proxy or the server is "
    "misbehaving. If such an answer is expected, raise the cap with "
    "connect(..., max_body_bytes=...) (or connect_async)."
)

# Content-Encodings inflated here, with zlib's window bits for each (31: gzip wrapper,
# 15: zlib wrapper; HTTP's "deflate" is zlib-wrapped, though some servers send it raw).
_WBITS = {"gzip": 31, "x-gzip": 31, "deflate": 15}
_GZIP_MAGIC = b"\x1f\x8b"
_STEP = 1024 * 1024
_SLACK = 0.01


def wait_at_most(sock: Any, left: float) -> None:
    """Bound each wait on ``sock`` (a send, a recv) to ``left`` seconds, give or take 10 ms."""
    # Setting a timeout is a system call: a fast answer would pay several per call, so one
    # already within the slack of the time left is kept. A call may end that much late.
    current = sock.gettimeout()
    if current is None or abs(current - left) > _SLACK:
        sock.settimeout(left)


class _DeadlineIO(socket.SocketIO):
    """A socket's raw reader that waits no later than a deadline (``time.perf_counter``)."""

    _deadline = 0.0
    _sock: socket.socket  # SocketIO's own, set by its __init__

    def readinto(self, b: Any) -> int | None:
        left = self._deadline - time.perf_counter()
        if left <= 0:
            raise TimeoutError("the call's deadline passed")
        # The socket timeout bounds one recv; kept to the time left, the recvs add up to the
        # deadline instead of each waiting the full timeout.
        wait_at_most(self._sock, left)
        return super().readinto(b)


class ResponseWithin:
    """An ``http.client`` ``response_class``: status, headers and body read by one deadline."""

    __slots__ = ("_sock", "deadline")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self._sock: Any = None

    def __call__(
        self, sock: socket.socket, debuglevel: int = 0, method: str | None = None, url: Any = None
    ) -> http.client.HTTPResponse:
        """Build the response; it takes its reader from ``makefile`` below, its only use of sock."""
        self._sock = sock
        stands_in: Any = self
        return http.client.HTTPResponse(stands_in, debuglevel, method, url)

    def makefile(self, mode: str) -> io.BufferedReader:
        """The socket's own raw reader, made to wait no later than the deadline, buffered."""
        # makefile() counts the reader as a user of the socket, so the socket stays open for the
        # response after http.client closes the connection (as on "Connection: close"); the
        # class swap bounds that very reader, with no wrapper to pay for on every read.
        raw = self._sock.makefile("rb", buffering=0)
        raw.__class__ = _DeadlineIO
        raw._deadline = self.deadline
        return io.BufferedReader(raw)


def too_large(
    limit: int,
    *,
    exchange: str | None,
    endpoint: str,
    status: int,
    declared: int | None = None,
    coding: str | None = None,
) -> BadResponse:
    """The error for a body over the cap: declared too large, grown too large, or inflated so."""
    if declared is not None:
        what = f"declares {declared} bytes (Content-Length); it was not read"
    elif coding is not None:
        what = f"inflates ({coding}) to more than {limit} bytes; inflating stopped there"
    else:
        what = f"grew past {limit} bytes; reading stopped there"
    return BadResponse(
        f"the response body {what} (max_body_bytes={limit})",
        exchange=exchange,
        endpoint=endpoint,
        http_status=status,
        hint=_HINT,
    )


def decoded(
    body: bytes, coding: str, limit: int, *, exchange: str | None, endpoint: str, status: int
) -> bytes | BadResponse:
    """``body`` inflated per its Content-Encoding, never past ``limit`` bytes, or the error.

    Codings other than gzip and deflate (we never ask for them) are left as they are.
    """
    codings = [c for c in (part.strip().lower() for part in coding.split(",")) if c]
    codings = [c for c in codings if c != "identity"]
    # An empty body (a 204, an error page's nothing) is passed on even when marked compressed.
    if not body or not codings or any(c not in _WBITS for c in codings):
        return body
    import zlib  # only compressed answers need it

    try:
        for name in reversed(codings):
            inflated = _inflate(zlib, body, _WBITS[name], limit)
            if inflated is None:
                return too_large(
                    limit, exchange=exchange, endpoint=endpoint, status=status, coding=coding
                )
            body = inflated
    except zlib.error as exc:
        return BadResponse(
            f"the {coding} response body could not be inflated: {exc}",
            exchange=exchange,
            endpoint=endpoint,
            http_status=status,
        )
    return body


def _inflate(zlib: Any, data: bytes, wbits: int, limit: int) -> bytes | None:
    if wbits == 15 and len(data) >= 2 and (data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31):
        wbits = -15  # raw deflate, without the zlib header
    parts: list[bytes] = []
    # One byte past the cap is all it takes to know the cap is exceeded: max_length stops
    # zlib there, so a small bomb never inflates further.
    room = limit + 1
    while True:
        inflater = zlib.decompressobj(wbits)
        pending = data
        while True:
            # In steps, so a bomb stopped at the cap has held the cap once, not twice over.
            step = min(room, _STEP)
            chunk = inflater.decompress(pending, step)
            room -= len(chunk)
            if room <= 0:
                return None
            parts.append(chunk)
            pending = inflater.unconsumed_tail
            # A full step may leave output inside zlib even when all input is taken.
            if inflater.eof or (not pending and len(chunk) < step):
                break
        if not inflater.eof:
            raise zlib.error("the compressed body ends early (truncated)")
        data = inflater.unused_data
        # gzip allows several members one after the other; anything else after the end is
        # ignored, as urllib3 and browsers do.
        if wbits != 31 or not data.startswith(_GZIP_MAGIC):
            return b"".join(parts)
