"""cProfile of our sync ``fetch_balance`` and ``create_order`` loops against the canned server.

    python -m benchmarks --profile [--n 2000]
    python -m benchmarks --profile-async [--n 2000]

Prints the top 25 entries by cumulative time (and the top 15 by own time) for each loop, and
saves them to ``benchmarks/results/profile-<time>.txt``. Profiler overhead inflates absolute
times, so read the shares, not the microseconds.

``--profile-async`` profiles the async section's calls instead (``fetch_time`` and
``fetch_balance``, 32 in flight), ours and raw aiohttp one after the other, with the own time
of each call grouped by area: what raw aiohttp pays too (aiohttp, asyncio, json, sockets) and
what only ours does. cProfile costs a coroutine more than a plain call, so our extra layers look
dearer here than they are; the benchmark's ``ours_transport`` row measures them without it.

(Not named ``profile.py``: run as a script from this directory, that name would shadow the
stdlib ``profile`` module that ``cProfile`` itself imports.)
"""

from __future__ import annotations

import cProfile
import datetime as dt
import io
import os
import pstats
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import fixtures
from benchmarks.bench_sync import SYMBOL, UNTHROTTLED
from benchmarks.server import CannedServer

HERE = Path(__file__).resolve().parent


def _area(filename: str, function: str) -> str:
    """Where a function's own time belongs: one of our files, or a library/stdlib area."""
    path = filename.replace("\\", "/")
    for ours in ("/exchanges/", "/adapters/"):
        if ours in path and "site-packages" not in path.split(ours)[0][-14:]:
            return ours.strip("/") + "/" + path.split(ours, 1)[1]
    if filename == "~":  # C functions: name them by what they are
        if "recv_into" in function or "sendall" in function or "socket" in function:
            return "socket I/O (includes waiting for the server)"
        if "hmac" in function or "_hashlib" in function or "openssl" in function:
            return "hmac/hashlib (C)"
        if "decimal" in function.lower():
            return "decimal (C)"
        return "other C builtins (dict, str, isinstance, ...)"
    for marker, area in (
        ("/aiohttp/", "aiohttp"),
        ("/asyncio/", "asyncio (stdlib)"),
        ("/yarl/", "yarl"),
        ("/urllib3/", "urllib3"),
        ("/http/client.py", "http.client (stdlib)"),
        ("/email/", "email.* header parsing (stdlib, via http.client)"),
        ("/json/", "json (stdlib)"),
        ("/socket.py", "socket.py (stdlib)"),
    ):
        if marker in path:
            return area
    return "other stdlib/libs: " + path.rsplit("/", 1)[-1]


def _by_area(stats: pstats.Stats, out: io.StringIO, n: int) -> None:
    totals: dict[str, float] = {}
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, tottime, _ct, _callers) in raw.items():
        area = _area(filename, function)
        totals[area] = totals.get(area, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    out.write("  own time   per call   share  area\n")
    for area, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        per_call = seconds / n * 1e6
        out.write(f"  {seconds:8.3f} s {per_call:7.1f} µs {seconds / whole:6.1%}  {area}\n")
    out.write("\n")


def _profile(label: str, fn: Callable[[], Any], n: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    out = io.StringIO()
    out.write(f"==== {label}: {n} calls, own time by area (profiler overhead included) ====\n")
    _by_area(pstats.Stats(profiler), out, n)
    out.write(f"==== {label}: our code only (exchanges/, adapters/), top 25 by cumulative ====\n")
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(
        r"/(exchanges|adapters)/", 25
    )
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(f"==== {label}: top 25 by cumulative time ====\n")
    stats.sort_stats("cumulative").print_stats(25)
    out.write(f"==== {label}: top 15 by own time (tottime) ====\n")
    stats.sort_stats("tottime").print_stats(15)
    return out.getvalue()


def main(n: int = 2000, pin: bool = True) -> str:
    import exchanges

    pinned = False
    if pin and hasattr(os, "sched_setaffinity") and {0, 1} <= os.sched_getaffinity(0):
        os.sched_setaffinity(0, {0})
        pinned = True
    with CannedServer(cpu=1 if pinned else None) as server:
        creds = exchanges.Credentials(fixtures.API_KEY, fixtures.API_SECRET)
        with exchanges.connect(
            "bybit", base_url=server.base_url, credentials=creds, rate_limits=UNTHROTTLED
        ) as ex:
            amount, price = Decimal("0.001"), Decimal("65000.5")

            def create() -> Any:
                return ex.create_order(SYMBOL, "limit", "buy", amount, price)

            # Warm up outside the profile: clock sync, markets, the trading key check.
            for _ in range(max(10, n // 20)):
                ex.fetch_balance()
                create()
            text = _profile("fetch_balance", ex.fetch_balance, n)
            text += _profile("create_order", create, n)
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = HERE / "results" / f"profile-{stamp}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"saved {path}")
    return text


async def _profile_async(label: str, call: Callable[[], Any], n: int) -> str:
    from benchmarks.bench_async import drive

    await drive(call, max(64, n // 10))  # warm: the pool's connections are open
    profiler = cProfile.Profile()
    profiler.enable()
    await drive(call, n)
    profiler.disable()
    out = io.StringIO()
    out.write(f"==== {label}: {n} calls, 32 in flight, own time by area ====\n")
    _by_area(pstats.Stats(profiler), out, n)
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs()
    out.write(f"==== {label}: top 20 by own time (tottime) ====\n")
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


async def _async_profiles(base_url: str, n: int) -> str:
    from benchmarks.bench_async import OursAsync, RawAiohttp

    raw, ours = RawAiohttp(base_url), OursAsync(base_url)
    text = ""
    try:
        await ours.warm()
        for op, name in (("time", "fetch_time"), ("wallet", "fetch_balance")):
            text += await _profile_async(f"raw aiohttp {name}", raw.call(op), n)
            text += await _profile_async(f"ours {name}", ours.call(op), n)
    finally:
        await raw.close()
        await ours.close()
    return text


def main_async(n: int = 2000, pin: bool = True) -> str:
    """``--profile-async``: ours and raw aiohttp, ``fetch_time`` and ``fetch_balance``."""
    import asyncio

    pinned = False
    if pin and hasattr(os, "sched_setaffinity") and {0, 1} <= os.sched_getaffinity(0):
        os.sched_setaffinity(0, {0})
        pinned = True
    with CannedServer(cpu=1 if pinned else None) as server:
        text = asyncio.run(_async_profiles(server.base_url, n))
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = HERE / "results" / f"profile-async-{stamp}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"saved {path}")
    return text
