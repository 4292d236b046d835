"""The sync transport on urllib3: keep-alive pools, timeouts, TLS verified, no re-encoding."""

from __future__ import annotations

import http.client
import logging
import re
import time

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from exchanges.errors import NetworkError, RequestTimeout
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


class SyncTransport:
    """Sends ``Prepared`` requests over pooled urllib3 connections."""

    def __init__(self, *, timeout: float = 10.0, pool_size: int = 10, exchange: str | None = None):
        self._timeout = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        self._manager = urllib3.PoolManager(
            num_pools=8,
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=self._timeout,
            cert_reqs="CERT_REQUIRED",
        )
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._exchange = exchange

    def _pool(self, url: str) -> tuple[urllib3.HTTPConnectionPool, str]:
        # Split scheme://host once per base; the rest of the URL is the exact request target.
        slash = url.find("/", url.find("//") + 2)
        origin, target = (url, "/") if slash < 0 else (url[:slash], url[slash:])
        pool = self._pools.get(origin)
        if pool is None:
            pool = self._manager.connection_from_url(origin)
            self._pools[origin] = pool
        return pool, target

    def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        pool, target = self._pool(prepared.url)
        started = time.perf_counter()
        try:
            raw = pool.urlopen(
                prepared.method,
                target,
                body=prepared.body,
                headers=prepared.headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                timeout=self._timeout,
            )
        except (ConnectTimeoutError, NewConnectionError) as exc:
            raise self._error(prepared, exc, sent=False) from None
        except MaxRetryError as exc:
            reason = exc.reason if exc.reason is not None else exc
            sent = not isinstance(reason, ConnectTimeoutError | NewConnectionError)
            raise self._error(prepared, reason, sent=sent) from None
        except (TimeoutError, ReadTimeoutError) as exc:
            raise RequestTimeout(
                f"no response within {self._timeout.read_timeout} s",
                exchange=self._exchange,
                endpoint=prepared.request.endpoint,
                request_sent=True,
            ) from exc
        except (ProtocolError, SSLError, HTTPError, OSError, http.client.HTTPException) as exc:
            raise self._error(prepared, exc, sent=True) from None
        return Response(
            raw.status, raw.headers, raw.data, prepared.request, time.perf_counter() - started
        )

    def _error(self, prepared: Prepared, exc: BaseException, *, sent: bool) -> NetworkError:
        cls = (
            RequestTimeout if isinstance(exc, TimeoutError | ConnectTimeoutError) else NetworkError
        )
        where = (
            "before the request was sent" if not sent else "after the request may have been sent"
        )
        return cls(
            f"{type(exc).__name__} {where}: {exc}",
            exchange=self._exchange,
            endpoint=prepared.request.endpoint,
            request_sent=sent,
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._manager.clear()
        self._pools.clear()
