"""The transport seam: send one prepared request, return one response, or raise ``NetworkError``."""

from __future__ import annotations

from typing import Protocol

from exchanges.wire import Prepared, Response

__all__ = ["AsyncTransport", "Transport"]


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
