"""The transport seam: send one prepared request, return one response, or raise ``NetworkError``."""

from __future__ import annotations

import re
from typing import Protocol

from exchanges.wire import Prepared, Response

__all__ = ["AsyncTransport", "Transport", "describe"]

# Low-level messages may quote the request URL (urllib3's MaxRetryError, aiohttp's
# ClientResponseError): the query string goes (Binance signs there), and any signature left
# over elsewhere is blanked.
_QUERY = re.compile(r"(?<=[^\s'\"(\[{<])\?[^\s'\")\]}>]*")
_SIGNATURE = re.compile(r"(signature=)[^&\s'\"]+", re.IGNORECASE)
_MAX_TEXT = 300


class Transport(Protocol):
    """Sends prepared requests synchronously."""

    def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class AsyncTransport(Protocol):
    """Sends prepared requests from asyncio."""

    async def send(self, prepared: Prepared) -> Response:
        """Send the exact bytes of ``prepared``; raise ``NetworkError`` when no response came."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def describe(exc: BaseException, prepared: Prepared, where: str) -> str:
    """A low-level failure as ``<class> <where>: <message>``, without query, headers or body."""
    text = _QUERY.sub("?<query>", _SIGNATURE.sub(r"\1<redacted>", str(exc)))
    secrets = [value for value in prepared.headers.values() if len(value) >= 8]
    if prepared.body:
        secrets.append(prepared.body.decode("latin-1"))
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "<redacted>")
    if len(text) > _MAX_TEXT:
        text = text[:_MAX_TEXT] + "..."
    name = type(exc).__name__
    return f"{name} {where}: {text}" if text else f"{name} {where}"
