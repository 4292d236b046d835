"""The async transport on aiohttp: one pooled session, one deadline per call, a cap on the body,
TLS verified, no re-encoding."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from yarl import URL

from exchanges.errors import ExchangeError, NetworkError, RequestTimeout
from exchanges.transport.base import describe
from exchanges.transport.limits import MAX_BODY_BYTES, decoded, too_large
from exchanges.wire import Prepared, Response

__all__ = ["AioTransport"]

# A body of unknown length (chunked, or read to the close) is read in pieces of at most this
# size, so counting it against the cap never holds more than one piece ahead.
_PIECE = 64 * 1024
# Compressed answers save bandwidth; these two are the ones the body cap can inflate safely
# (aiohttp would also offer br and zstd whenever their modules happen to be installed).
_ACCEPT_ENCODING = "gzip, deflate"


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
        # total bounds the whole call, body included, however slowly it arrives.
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._exchange = exchange
        self._max_body = max_body_bytes

    def _session_for_loop(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            # No cookie jar and no environment proxies: nothing may add to a signed request.
            # Bodies are inflated here, under the cap, not by aiohttp.
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=False,
                headers={"Accept-Encoding": _ACCEPT_ENCODING},
            )
            self._session = session
        return session

    async def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        outcome = await self._attempt(prepared)
        if isinstance(outcome, Response):
            return outcome
        # Raised here, outside any except block, so nothing low-level is chained to it; and this
        # frame keeps no secret for a traceback printed with its locals (pytest --showlocals,
        # Sentry): the I/O ran in helpers that have returned, and Prepared's repr shows the URL,
        # query string included, where Binance puts its signature.
        del prepared
        raise outcome

    async def _attempt(self, prepared: Prepared) -> Response | ExchangeError:
        session = self._session_for_loop()
        started = time.perf_counter()
        # encoded=True: yarl must not normalise the signed query string.
        url = URL(prepared.url, encoded=True)
        # Failures come back as values, built from the low-level exception but never chained to
        # it: its frames hold the headers, and its text may hold the URL.
        try:
            async with session.request(
                prepared.method,
                url,
                data=prepared.body,
                headers=prepared.headers,
                allow_redirects=False,
            ) as raw:
                length = raw.content_length
                if length is not None and length <= self._max_body:
                    body: bytes | ExchangeError = await raw.read()
                else:
                    body = await self._read(raw, prepared, length)
                status, headers = raw.status, raw.headers
        except aiohttp.ConnectionTimeoutError:
            return RequestTimeout(
                f"could not connect within {self._timeout.connect} s",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=False,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return RequestTimeout(
                f"no complete response within {self._timeout.total} s "
                f"(waited {time.perf_counter() - started:.1f} s)",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            )
        except aiohttp.ClientConnectorError as exc:
            return NetworkError(
                describe(exc, prepared, "before it was sent"),
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=False,
            )
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            return NetworkError(
                describe(exc, prepared, "after the request may have been sent"),
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            )
        if not isinstance(body, bytes):
            return body
        coding = headers.get("Content-Encoding")
        if coding is not None:
            inflated = decoded(
                body,
                coding,
                self._max_body,
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                status=status,
            )
            if not isinstance(inflated, bytes):
                return inflated
            body = inflated
        return Response(status, headers, body, prepared.request, time.perf_counter() - started)

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
        while piece := await raw.content.read(_PIECE):
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
        self._session = None
