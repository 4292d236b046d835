"""How a transport call ends: the response as read, or the error it is reported as.

Shared by the three transports, so a failure reads the same whichever one is in use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from exchanges.errors import ExchangeError, NetworkError, RequestTimeout
from exchanges.transport.limits import decoded
from exchanges.wire import Prepared, Response

__all__ = [
    "PIECE",
    "SendsAttempts",
    "network_error",
    "no_connection_within",
    "no_response_within",
    "read_pieces",
    "response",
]

# A body of unknown length (chunked, or read to the close) is read in pieces this large, so
# counting it against the cap never allocates more than one piece ahead.
PIECE = 64 * 1024


class SendsAttempts:
    """``send`` for a sync transport whose ``_attempt`` returns its failure instead of raising."""

    __slots__ = ()

    def _attempt(self, prepared: Prepared) -> Response | ExchangeError:
        raise NotImplementedError

    def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        outcome = self._attempt(prepared)
        if isinstance(outcome, Response):
            return outcome
        # Raised here, outside any except block, so nothing low-level is chained to it; and this
        # frame keeps no secret for a traceback printed with its locals (pytest --showlocals,
        # Sentry): the I/O ran in helpers that have returned, and Prepared's repr shows the URL,
        # query string included, where Binance puts its signature.
        del prepared
        raise outcome


def network_error(
    message: str, prepared: Prepared, exchange: str | None, *, sent: bool
) -> NetworkError:
    """The error for a call that failed below HTTP, with whether the request may have left."""
    return NetworkError(
        message, exchange=exchange, endpoint=prepared.request.endpoint, request_sent=sent
    )


def no_connection_within(
    seconds: float, prepared: Prepared, exchange: str | None
) -> RequestTimeout:
    """The error for a connection not opened in time (nothing was sent)."""
    return RequestTimeout(
        f"could not connect within {seconds} s",
        exchange=exchange,
        endpoint=prepared.request.endpoint,
        request_sent=False,
    )


def no_response_within(
    seconds: float, started: float, prepared: Prepared, exchange: str | None, *, sent: bool
) -> RequestTimeout:
    """The error for a call whose deadline passed before its response was complete."""
    return RequestTimeout(
        f"no complete response within {seconds} s (waited {time.perf_counter() - started:.1f} s)",
        exchange=exchange,
        endpoint=prepared.request.endpoint,
        request_sent=sent,
    )


def read_pieces(read: Callable[[int], bytes], limit: int) -> bytes | None:
    """A body of unknown length read to its end, or None once it grows past ``limit`` bytes."""
    pieces: list[bytes] = []
    size = 0
    while piece := read(PIECE):
        size += len(piece)
        if size > limit:
            return None
        pieces.append(piece)
    return b"".join(pieces)


def response(
    status: int,
    headers: Mapping[str, str],
    coding: str | None,
    body: bytes,
    prepared: Prepared,
    started: float,
    limit: int,
    exchange: str | None,
) -> Response | ExchangeError:
    """The ``Response`` for a body read whole, inflated first per its ``coding`` (if any)."""
    if coding is not None:
        inflated = decoded(
            body,
            coding,
            limit,
            exchange=exchange,
            endpoint=prepared.request.endpoint,
            status=status,
        )
        if not isinstance(inflated, bytes):
            return inflated
        body = inflated
    return Response(status, headers, body, prepared.request, time.perf_counter() - started)
