"""A canned Bybit v5 HTTP/1.1 server on 127.0.0.1, for measuring client cost (not the emulator).

A bare ``asyncio.Protocol`` with keep-alive and pipelining, serving pre-encoded envelopes so the
server's own cost stays small and constant for every client. It still checks what a real server
would: private calls must carry a valid ``X-BAPI-SIGN`` over the exact bytes received (a wrong
signature answers retCode 10004, so a broken benchmark fails loudly instead of measuring errors).

Run in its own process (``CannedServer`` starts it), pinned to another CPU than the client::

    python -m benchmarks.server --port 0 --cpu 1     # prints "PORT <n>", serves until stdin closes
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from benchmarks import fixtures

_REPO = Path(__file__).resolve().parent.parent

_SIGNED = {
    "/v5/account/wallet-balance",
    "/v5/order/create",
    "/v5/user/query-api",
    "/v5/account/info",
}
_MAX_HEAD = 64 * 1024
_TIME = (
    b'{"retCode":0,"retMsg":"OK","result":{"timeSecond":"%d","timeNano":"%d"},'
    b'"retExtInfo":{},"time":%d}'
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _response(status: int, body: bytes, extra: bytes = b"") -> bytes:
    reason = b"OK" if status == 200 else b"Not Found" if status == 404 else b"Error"
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        reason,
        len(body),
        extra,
        body,
    )


def _error(code: int, message: str) -> bytes:
    return fixtures.dumps(
        {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": _now_ms()}
    )


class Canned:
    """Routes and canned bodies (built once; per-request work is a dict lookup)."""

    def __init__(self) -> None:
        self.bodies = fixtures.Bodies()
        self.secret = fixtures.API_SECRET.encode()
        self._cache: dict[Any, bytes] = {}
        self._order_id = 0
        self.requests = 0

    def _instruments(self, params: dict[str, str]) -> bytes:
        category = params.get("category", "")
        status = params.get("status")
        limit = min(int(params.get("limit") or 500), 1000)
        cursor = params.get("cursor") or ""
        offset = int(cursor.split(",")[0]) if cursor else 0
        key = ("instruments", category, status, limit, offset)
        body = self._cache.get(key)
        if body is None:
            if category == "spot":
                # Spot has no pages and, per the docs, no nextPageCursor key at all.
                body = self.bodies.spot_page
            else:
                if status not in (None, "Trading"):
                    page, nxt = [], None
                else:
                    page, nxt = self.bodies.instruments_page(category, limit, offset)
                cursor_out = f"{nxt},{nxt // limit}" if nxt is not None else ""
                result = {"category": category, "list": page, "nextPageCursor": cursor_out}
                body = fixtures.dumps(fixtures.envelope(result))
            self._cache[key] = body
        return body

    def _order_book(self, params: dict[str, str]) -> bytes:
        limit = int(params.get("limit") or 25)
        if limit == 50:
            return self.bodies.order_book_50
        if limit == 200:
            return self.bodies.order_book_200
        key = ("book", limit)
        body = self._cache.get(key)
        if body is None:
            body = fixtures.dumps(fixtures.envelope(fixtures.order_book(limit)))
            self._cache[key] = body
        return body

    def _tickers(self, params: dict[str, str]) -> bytes:
        symbol = params.get("symbol")
        if params.get("category") != "linear":
            return fixtures.dumps(
                fixtures.envelope({"category": params.get("category"), "list": []})
            )
        if symbol is None:
            return self.bodies.tickers
        key = ("ticker", symbol)
        body = self._cache.get(key)
        if body is None:
            items = [t for t in fixtures.tickers()["list"] if t["symbol"] == symbol]
            body = fixtures.dumps(fixtures.envelope({"category": "linear", "list": items}))
            self._cache[key] = body
        return body

    def _check_sign(self, headers: dict[bytes, bytes], payload: bytes) -> bytes | None:
        key = headers.get(b"x-bapi-api-key")
        sign = headers.get(b"x-bapi-sign")
        ts = headers.get(b"x-bapi-timestamp")
        recv = headers.get(b"x-bapi-recv-window", b"")
        if key is None or sign is None or ts is None:
            return _error(10003, "API key is invalid.")
        if key != fixtures.API_KEY.encode():
            return _error(10003, "API key is invalid.")
        want = hmac.new(self.secret, ts + key + recv + payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want.encode(), sign):
            return _error(10004, "error sign! origin_string[...]")
        return None

    def handle(
        self, method: bytes, target: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> bytes:
        self.requests += 1
        path, _, query = target.partition(b"?")
        route = path.decode("latin-1")
        extra = b""
        if route in _SIGNED:
            failed = self._check_sign(headers, query if method == b"GET" else body)
            if failed is not None:
                return _response(200, failed)
            # Bybit's per-UID quota headers, with a quota so large no client ever waits.
            extra = b"X-Bapi-Limit: 1000000\r\nX-Bapi-Limit-Status: 999999\r\n" + (
                b"X-Bapi-Limit-Reset-Timestamp: %d\r\n" % (_now_ms() + 1000)
            )
        params = dict(parse_qsl(query.decode("latin-1"))) if query else {}
        if route == "/v5/market/time":
            ns = time.time_ns()
            payload = _TIME % (ns // 1_000_000_000, ns, ns // 1_000_000)
        elif route == "/v5/market/orderbook":
            payload = self._order_book(params)
        elif route == "/v5/market/instruments-info":
            payload = self._instruments(params)
        elif route == "/v5/market/tickers":
            payload = self._tickers(params)
        elif route == "/v5/account/wallet-balance":
            payload = self.bodies.wallet
        elif route == "/v5/user/query-api":
            payload = self.bodies.query_api
        elif route == "/v5/account/info":
            payload = self.bodies.account_info
        elif route == "/v5/order/create" and method == b"POST":
            try:
                link = str(json.loads(body).get("orderLinkId") or "")
            except ValueError:
                return _response(200, _error(10001, "params error: body is not JSON"))
            self._order_id += 1
            payload = (
                b'{"retCode":0,"retMsg":"OK","result":{"orderId":"1321003749386327%03d",'
                b'"orderLinkId":%s},"retExtInfo":{},"time":%d}'
                % (self._order_id % 1000, json.dumps(link).encode(), _now_ms())
            )
        else:
            return _response(404, b'{"error":"not found"}')
        return _response(200, payload, extra)


class _Protocol(asyncio.Protocol):
    def __init__(self, canned: Canned) -> None:
        self.canned = canned
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        out = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD:
                    self._close()
                break
            lines = self.buffer[:end].split(b"\r\n")
            try:
                method, target, _ = lines[0].split(b" ", 2)
            except ValueError:
                self._close()
                return
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                break
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            out.append(self.canned.handle(method, target, headers, body))
        if out and self.transport is not None:
            self.transport.write(b"".join(out))

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def serve(port: int, ready: Any = None) -> None:
    loop = asyncio.get_running_loop()
    canned = Canned()
    server = await loop.create_server(lambda: _Protocol(canned), "127.0.0.1", port, backlog=256)
    bound = server.sockets[0].getsockname()[1]
    stop = loop.create_future()
    if ready is not None:
        ready(bound)
    # The parent holds our stdin: when it exits or closes it, we stop (no orphans).
    with contextlib.suppress(ValueError, OSError, NotImplementedError):
        loop.add_reader(sys.stdin.fileno(), lambda: _on_stdin(stop))
    async with server:
        await stop


def _on_stdin(stop: asyncio.Future[None]) -> None:
    if not os.read(sys.stdin.fileno(), 4096) and not stop.done():
        stop.set_result(None)


def pin(cpu: int | None) -> bool:
    """Pin this process to ``cpu`` when the machine offers it; True if pinned."""
    if cpu is None or not hasattr(os, "sched_setaffinity"):
        return False
    # The parent may already be pinned to another CPU (we inherit its mask): widen, not check.
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None)
    ns = parser.parse_args(argv)
    pinned = pin(ns.cpu)

    def ready(port: int) -> None:
        print(f"PORT {port} PINNED {int(pinned)}", flush=True)

    asyncio.run(serve(ns.port, ready))


class CannedServer:
    """The canned server in a child process; ``base_url`` once started. A context manager."""

    def __init__(self, cpu: int | None = 1) -> None:
        self.cpu = cpu
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.pinned = False

    def __enter__(self) -> CannedServer:
        cmd = [sys.executable, "-m", "benchmarks.server", "--port", "0"]
        if self.cpu is not None:
            cmd += ["--cpu", str(self.cpu)]
        env = dict(os.environ, PYTHONPATH=str(_REPO))
        self.proc = subprocess.Popen(
            cmd, cwd=_REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().split()
        if len(line) < 2 or line[0] != "PORT":
            self.__exit__()
            raise RuntimeError("the canned server did not start")
        self.base_url = f"http://127.0.0.1:{line[1]}"
        self.pinned = len(line) >= 4 and line[3] == "1"
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None:
            return
        self.proc = None
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


if __name__ == "__main__":
    main()
