"""Transports, the only code that touches sockets: http.client or urllib3, and aiohttp."""

from exchanges.transport.base import AsyncTransport, Transport

__all__ = ["AsyncTransport", "Transport"]
