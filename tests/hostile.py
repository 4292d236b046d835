"""A hostile proxy on loopback: forwards to an emulator untouched, then tampers with answers.

The exchange (the emulator behind it) really acts on each request; what comes back can be
replaced (garbage after an order was placed), delayed, or given headers the exchange never sent
(rate-limit headers that lie). Requests are forwarded byte for byte (raw target, headers,
body), so signatures still verify.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from aiohttp import web

#: ``tamper(method, path, status, headers, body)`` returns a replacement
#: ``(status, headers, body)`` or ``None`` to pass the answer through.
Tamper = Callable[[str, str, int, dict[str, str], bytes], tuple[int, dict[str, str], bytes] | None]

_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}


class HostileProxy:
    """Forwards to ``target`` and lets ``tamper`` rewrite what comes back."""

    def __init__(self, target: str, tamper: Tamper) -> None:
        self.target = target.rstrip("/")
        self.tamper = tamper
        self.port = 0
        self.seen: list[tuple[str, str]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=1 << 24)

        async def forward(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            path = request.raw_path.partition("?")[0]
            self.seen.append((request.method, path))
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            async with session.request(
                request.method,
                aiohttp.client.URL(self.target + request.raw_path, encoded=True),
                data=body,
                headers=headers,
                allow_redirects=False,
            ) as upstream:
                answer = await upstream.read()
                status = upstream.status
                out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            replaced = self.tamper(request.method, path, status, out, answer)
            if replaced is not None:
                status, out, answer = replaced
            return web.Response(status=status, body=answer, headers=out)

        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await session.close()

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile proxy did not start")

    def stop(self) -> None:
        """Stop serving."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> HostileProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def hostile(target: str, tamper: Tamper) -> Iterator[HostileProxy]:
    """A started ``HostileProxy`` for the duration of the block."""
    with HostileProxy(target, tamper) as proxy:
        yield proxy


def once(
    match: Callable[[str, str], bool], replace: Callable[[int, dict[str, str], bytes], Any]
) -> Tamper:
    """A tamper that rewrites the first answer whose (method, path) ``match`` accepts."""
    done = threading.Event()

    def tamper(
        method: str, path: str, status: int, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes] | None:
        if done.is_set() or not match(method, path):
            return None
        done.set()
        result: tuple[int, dict[str, str], bytes] = replace(status, headers, body)
        return result

    return tamper
