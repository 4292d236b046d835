"""How many requests per second the emulator serves (it must never dominate a benchmark).

    python -m benchmarks.bench_emulator [--n 4000] [--concurrency 32]

The emulator runs in a child process pinned to CPU 1 (IP limit off, 200 keys so per-UID limits
do not cap the signed case); the load comes from raw aiohttp on CPU 0. Three loads: public
``/v5/market/time``, public ``/v5/market/orderbook`` (50 levels), and signed
``/v5/account/wallet-balance`` (signature, timestamp window and permissions checked, a JSON
wallet built per request).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEYS = 200

CHILD = f"""
import asyncio, os, sys
from decimal import Decimal
try:
    os.sched_setaffinity(0, {{1}})
except (AttributeError, OSError):
    pass
from exchanges.emulator import Emulator
emu = Emulator("bybit", seed=1, ip_limit=False)
for i in range({KEYS}):
    emu.add_key(f"bench-key-{{i}}", f"bench-secret-{{i}}", uid=5000 + i,
                balances={{"USDT": Decimal(1000)}})
async def main():
    await emu.serve_forever(lambda url: print(url, flush=True))
asyncio.run(main())
"""


def signed_headers(i: int, query: str) -> dict[str, str]:
    key, secret = f"bench-key-{i % KEYS}", f"bench-secret-{i % KEYS}"
    ts = str(time.time_ns() // 1_000_000)
    sign = hmac.new(secret.encode(), f"{ts}{key}5000{query}".encode(), hashlib.sha256)
    return {
        "X-BAPI-API-KEY": key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": sign.hexdigest(),
    }


async def load(base: str, path: str, n: int, concurrency: int, signed: bool) -> tuple[float, int]:
    import aiohttp

    query = path.partition("?")[2]
    counter = iter(range(n))
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def worker() -> None:
            nonlocal failures
            for i in counter:
                headers = signed_headers(i, query) if signed else None
                async with s.get(base + path, headers=headers) as response:
                    body = await response.read()
                if response.status != 200 or b'"retCode":0' not in body:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return n / (time.perf_counter() - started), failures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        base = child.stdout.readline().strip()
        with contextlib.suppress(AttributeError, OSError):
            os.sched_setaffinity(0, {0})
        loads = [
            ("public GET /v5/market/time", "/v5/market/time", False),
            ("public GET /v5/market/orderbook (50 levels)",
             "/v5/market/orderbook?category=linear&symbol=BTCUSDT&limit=50", False),
            ("signed GET /v5/account/wallet-balance",
             "/v5/account/wallet-balance?accountType=UNIFIED", True),
        ]  # fmt: skip
        print(f"emulator at {base}; {args.n} requests per load, {args.concurrency} in flight")
        for title, path, signed in loads:
            asyncio.run(load(base, path, min(args.n, 200), args.concurrency, signed))  # warm-up
            rate, failures = asyncio.run(load(base, path, args.n, args.concurrency, signed))
            print(f"  {title:48s} {rate:8.0f} req/s  ({failures} failures)")
    finally:
        child.terminate()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


if __name__ == "__main__":
    main()
