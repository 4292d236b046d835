"""Section 3: async throughput with 32 calls in flight, ours against raw aiohttp and ccxt.

Per operation and run, each approach first makes ``warmup`` calls (which also opens the pool's
connections), then ``n`` calls by 32 workers sharing a counter; the figure is n / wall time.
All approaches run in one event loop, one after the other, order rotated per run.

Two more rows split the gap between ours and raw aiohttp in the same run: ``aiohttp_nojson`` is
raw aiohttp without ``json.loads`` (what the floor pays for HTTP alone), and ``ours_transport``
is our ``AioTransport`` alone, resending one request our client prepared (and signed) during the
warm-up. ``ours`` minus ``ours_transport`` is then what the pipeline costs at 32 in flight:
limiter, clock, signing, JSON decoding and the Decimal models.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks import fixtures
from benchmarks.bench_sync import (
    KEY,
    OB_QUERY,
    UNTHROTTLED,
    WALLET_QUERY,
    _signed_headers,
    new_ccxt,
)
from benchmarks.harness import rotated, summary

CONCURRENCY = 32
OPS = ("time", "wallet")
OP_TITLES = {
    "time": "fetch_time (public)",
    "wallet": "fetch_balance (signed, 2.2 KB response)",
}
APPROACHES = ("aiohttp", "ours", "ccxt", "aiohttp_nojson", "ours_transport")
APPROACH_TITLES = {
    "aiohttp": "raw aiohttp ClientSession.get(str url) + json.loads (signed by hand) — floor",
    "ours": "exchanges.connect_async('bybit') unified call",
    "ccxt": "ccxt.async_support.bybit unified call",
    "aiohttp_nojson": "part: raw aiohttp as above, body read but not decoded",
    "ours_transport": "part: our AioTransport alone, resending one prepared (signed) request",
}

Call = Callable[[], Awaitable[Any]]


async def drive(call: Call, total: int, concurrency: int = CONCURRENCY) -> float:
    """Make ``total`` calls with ``concurrency`` in flight; return calls per second."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return total / (time.perf_counter() - started)


class RawAiohttp:
    def __init__(self, base_url: str) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        # Plain str URLs, as a hand-written client passes them (aiohttp parses each one).
        self.urls = {
            "time": base_url + "/v5/market/time",
            "ob": base_url + "/v5/market/orderbook?" + OB_QUERY,
            "wallet": base_url + "/v5/account/wallet-balance?" + WALLET_QUERY,
        }

    def call(self, op: str) -> Call:
        session, url = self.session, self.urls[op]
        signed = op == "wallet"

        async def get() -> Any:
            headers = _signed_headers(WALLET_QUERY, post=False) if signed else None
            async with session.get(url, headers=headers) as raw:
                data = json.loads(await raw.read())
            if data.get("retCode") != 0:
                raise RuntimeError(f"refused: {data}")
            return data

        return get

    def body_only(self, op: str) -> Call:
        """The same request, its body read but not decoded: HTTP alone."""
        session, url = self.session, self.urls[op]
        signed = op == "wallet"

        async def get() -> Any:
            headers = _signed_headers(WALLET_QUERY, post=False) if signed else None
            async with session.get(url, headers=headers) as raw:
                body = await raw.read()
            if raw.status != 200:
                raise RuntimeError(f"refused: HTTP {raw.status}")
            return body

        return get

    async def close(self) -> None:
        await self.session.close()


class OursAsync:
    def __init__(self, base_url: str) -> None:
        import exchanges

        self.ex = exchanges.connect_async(
            "bybit",
            base_url=base_url,
            credentials=exchanges.Credentials(KEY, fixtures.API_SECRET),
            rate_limits=UNTHROTTLED,
        )
        self.prepared: dict[str, Any] = {}

    async def warm(self) -> None:
        # The warm-up also keeps one prepared request of each kind for ``transport_only``.
        transport = self.ex.transport
        attempt = transport.attempt

        async def keep(prepared: Any) -> Any:
            self.prepared[prepared.request.path] = prepared
            return await attempt(prepared)

        transport.attempt = keep
        try:
            await self.ex.fetch_time()
            await self.ex.fetch_balance()
        finally:
            del transport.attempt

    def call(self, op: str) -> Call:
        return self.ex.fetch_time if op == "time" else self.ex.fetch_balance

    def transport_only(self, op: str) -> Call:
        """Our transport alone: the request the client prepared in the warm-up, sent again."""
        path = "/v5/market/time" if op == "time" else "/v5/account/wallet-balance"
        prepared, send = self.prepared[path], self.ex.transport.send

        async def call() -> Any:
            response = await send(prepared)
            if response.status != 200:
                raise RuntimeError(f"refused: HTTP {response.status}")
            return response

        return call

    async def close(self) -> None:
        await self.ex.close()


class CcxtAsync:
    def __init__(self, base_url: str) -> None:
        import ccxt.async_support as ccxt_async

        self.ex = new_ccxt(ccxt_async, base_url)

    async def warm(self) -> None:
        await self.ex.load_markets()
        await self.ex.fetch_time()
        await self.ex.fetch_balance()

    def call(self, op: str) -> Call:
        return self.ex.fetch_time if op == "time" else self.ex.fetch_balance

    async def close(self) -> None:
        await self.ex.close()


async def _run(
    base_url: str, n: int, warmup: int, repeats: int, notes: list[str], log: Callable[[str], Any]
) -> dict[str, Any]:
    clients: dict[str, Any] = {}
    for name, cls in (("aiohttp", RawAiohttp), ("ours", OursAsync), ("ccxt", CcxtAsync)):
        try:
            client = cls(base_url)
        except ImportError as exc:
            notes.append(f"async: {name} is not installed ({exc}): rows skipped")
            continue
        clients[name] = client
        if hasattr(client, "warm"):
            await client.warm()
    parts = {
        "aiohttp_nojson": ("aiohttp", "body_only"),
        "ours_transport": ("ours", "transport_only"),
    }
    names = [a for a in APPROACHES if parts.get(a, (a,))[0] in clients]
    rates: dict[str, dict[str, list[float]]] = {op: {a: [] for a in names} for op in OPS}

    def call_of(name: str, op: str) -> Call:
        owner, method = parts.get(name, (name, "call"))
        made: Call = getattr(clients[owner], method)(op)
        return made

    try:
        for run_index in range(repeats):
            for op in OPS:
                for name in rotated(names, run_index):
                    call = call_of(name, op)
                    await drive(call, warmup)
                    rates[op][name].append(await drive(call, n))
            log(f"  run {run_index + 1}/{repeats} done")
    finally:
        for client in clients.values():
            await client.close()
    out: dict[str, Any] = {}
    for op in OPS:
        rows = {}
        for name in names:
            mine = rates[op][name]
            row: dict[str, Any] = {
                "what": APPROACH_TITLES[name],
                "runs": mine,
                **summary(mine),
                "ratios": {},
            }
            for other in ("aiohttp", "ccxt"):
                if other in rates[op] and other != name:
                    rs = [a / b for a, b in zip(mine, rates[op][other], strict=True)]
                    row["ratios"][other] = {"runs": rs, **summary(rs)}
            rows[name] = row
        out[op] = {
            "title": OP_TITLES[op],
            "n": n,
            "warmup": warmup,
            "concurrency": CONCURRENCY,
            "rows": rows,
        }
    return out


def run(
    base_url: str, n: int, warmup: int, repeats: int, notes: list[str], log: Callable[[str], Any]
) -> dict[str, Any]:
    return asyncio.run(_run(base_url, n, warmup, repeats, notes, log))
