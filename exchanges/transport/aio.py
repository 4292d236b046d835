"""The async transport on aiohttp: one pooled session, timeouts, TLS verified, no re-encoding."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from yarl import URL

from exchanges.errors import NetworkError, RequestTimeout
from exchanges.wire import Prepared, Response

__all__ = ["AioTransport"]


class AioTransport:
    """Sends ``Prepared`` requests over one aiohttp session, created in the running loop."""

    def __init__(self, *, timeout: float = 10.0, pool_size: int = 100, exchange: str | None = None):
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0))
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._exchange = exchange

    def _session_for_loop(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            # No cookie jar and no environment proxies: nothing may add to a signed request.
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=True,
            )
            self._session = session
        return session

    async def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        session = self._session_for_loop()
        started = time.perf_counter()
        # encoded=True: yarl must not normalise the signed query string.
        url = URL(prepared.url, encoded=True)
        try:
            async with session.request(
                prepared.method,
                url,
                data=prepared.body,
                headers=prepared.headers,
                allow_redirects=False,
            ) as raw:
                body = await raw.read()
                return Response(
                    raw.status, raw.headers, body, prepared.request, time.perf_counter() - started
                )
        except aiohttp.ConnectionTimeoutError as exc:
            raise RequestTimeout(
                f"could not connect within {self._timeout.connect} s",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=False,
            ) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise RequestTimeout(
                f"no response within {self._timeout.total} s",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            ) from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(
                f"{type(exc).__name__} before the request was sent: {exc}",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=False,
            ) from None
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(
                f"{type(exc).__name__} after the request may have been sent: {exc}",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            ) from None

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
