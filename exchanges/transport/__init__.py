"""Transports, the only code that touches sockets: sync on urllib3, async on aiohttp."""

from exchanges.transport.base import AsyncTransport, Transport

__all__ = ["AsyncTransport", "Transport"]
