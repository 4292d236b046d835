"""Section 3: async throughput with 32 calls in flight, ours against raw aiohttp and ccxt.

Per operation and run, each approach first makes ``warmup`` calls (which also opens the pool's
connections), then ``n`` calls by 32 workers sharing a counter; the figure is n / wall time.
All approaches run in one event loop, one after the other, order rotated per run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from benchmarks import fixtures
from benchmarks.bench_sync import KEY, OB_QUERY, WALLET_QUERY, _signed_headers, new_ccxt, unthrottle
from benchmarks.harness import rotated, summary

CONCURRENCY = 32
OPS = ("time", "wallet")
OP_TITLES = {
    "time": "fetch_time (public)",
    "wallet": "fetch_balance (signed, 2.2 KB response)",
}
APPROACHES = ("aiohttp", "ours", "ccxt")
APPROACH_TITLES = {
    "aiohttp": "raw aiohttp ClientSession.get(str url) + json.loads (signed by hand) — floor",
    "ours": "exchanges.connect_async('bybit') unified call",
    "ccxt": "ccxt.async_support.bybit unified call",
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

    async def close(self) -> None:
        await self.session.close()


class OursAsync:
    def __init__(self, base_url: str) -> None:
        import exchanges

        self.ex = exchanges.connect_async(
            "bybit", base_url=base_url, credentials=exchanges.Credentials(KEY, fixtures.API_SECRET)
        )
        unthrottle(self.ex)

    async def warm(self) -> None:
        await self.ex.fetch_time()
        await self.ex.fetch_balance()

    def call(self, op: str) -> Call:
        return self.ex.fetch_time if op == "time" else self.ex.fetch_balance

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
    names = [a for a in APPROACHES if a in clients]
    rates: dict[str, dict[str, list[float]]] = {op: {a: [] for a in names} for op in OPS}
    try:
        for run_index in range(repeats):
            for op in OPS:
                for name in rotated(names, run_index):
                    call = clients[name].call(op)
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
