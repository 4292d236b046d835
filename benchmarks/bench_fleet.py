"""Section fleet: what ``fleet=`` costs per call, and six processes sharing one account's budget.

* **Overhead.** The same client twice on the canned server, once pacing itself in process and
  once booking every request in a real ``redis-server`` on loopback (``fleet=``), both with
  limits scaled far out of the way (``UNTHROTTLED``) so neither ever waits: per operation the
  median latency of ``n`` sequential calls, per run, and their difference. A public read books
  the IP budget; a signed read the IP and the endpoint's budget; an order's booking also claims
  its client order id and writes it ahead to the ledger, in the same round trip, and the
  entry's removal rides on the next booking. Sync with redis-py's blocking client, async with
  ``redis.asyncio``.
* **Six processes.** Six processes place and cancel linear orders on one Bybit emulator account
  for a few seconds, each pacing itself to Bybit's documented 10 creates/s per UID: with
  ``fleet=`` (one budget) and without (each alone). The emulator counts creates per 1 s window
  and its own rate-limit rejections.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks import fixtures
from benchmarks.bench_sync import UNTHROTTLED
from benchmarks.harness import rotated, summary, time_each

SYMBOL = "BTC/USDT:USDT"
OPS = ("time", "wallet", "order")
OP_TITLES = {
    "time": "fetch_time (public: IP budget)",
    "wallet": "fetch_balance (signed: IP and endpoint budgets)",
    "order": "create_order (budgets, id claimed and written ahead: one trip)",
}
#: Bybit: POST /v5/order/create, linear, 10 per second per UID
#: (https://bybit-exchange.github.io/docs/v5/rate-limit, "Institutional / default limits").
DOCUMENTED = 10
CREATE_KEY = "1001:bybit:/v5/order/create:deriv"
EMULATOR_KEY, EMULATOR_SECRET = "test-key", "test-secret"


def _connect(base_url: str, fleet: str | None, asynchronous: bool) -> Any:
    import exchanges

    connect = exchanges.connect_async if asynchronous else exchanges.connect
    return connect(
        "bybit",
        base_url=base_url,
        credentials=exchanges.Credentials(fixtures.API_KEY, fixtures.API_SECRET),
        rate_limits=UNTHROTTLED,
        fleet=fleet,
    )


def _sync_call(ex: Any, op: str) -> Callable[[], Any]:
    if op == "time":
        return ex.fetch_time  # type: ignore[no-any-return]
    if op == "wallet":
        return ex.fetch_balance  # type: ignore[no-any-return]
    amount, price = Decimal("0.001"), Decimal("65000.5")
    return lambda: ex.create_order(SYMBOL, "limit", "buy", amount, price)


async def _async_median(ex: Any, op: str, n: int, warmup: int) -> float:
    if op == "time":
        call: Callable[[], Any] = ex.fetch_time
    elif op == "wallet":
        call = ex.fetch_balance
    else:
        amount, price = Decimal("0.001"), Decimal("65000.5")

        def call() -> Any:
            return ex.create_order(SYMBOL, "limit", "buy", amount, price)

    for _ in range(warmup):
        await call()
    samples = []
    counter = time.perf_counter_ns
    for _ in range(n):
        t0 = counter()
        await call()
        samples.append(counter() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1e9


def _rows(per: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for op, got in per.items():
        diffs = [f - local for f, local in zip(got["fleet"], got["local"], strict=True)]
        out[op] = {
            "title": OP_TITLES[op],
            "local": {"runs": got["local"], **summary(got["local"])},
            "fleet": {"runs": got["fleet"], **summary(got["fleet"])},
            "overhead": {"runs": diffs, **summary(diffs)},
        }
    return out


def overhead(
    base_url: str, redis_url: str, n: int, warmup: int, repeats: int, log: Callable[[str], Any]
) -> dict[str, Any]:
    """Per-call latency with and without ``fleet=``, sync and async, and the difference."""
    sync: dict[str, dict[str, list[float]]] = {op: {"local": [], "fleet": []} for op in OPS}
    clients = {
        "local": _connect(base_url, None, False),
        "fleet": _connect(base_url, redis_url, False),
    }
    try:
        for run_index in range(repeats):
            for op in OPS:
                for name in rotated(["local", "fleet"], run_index):
                    timed = time_each(_sync_call(clients[name], op), n, warmup)
                    sync[op][name].append(timed["median"])
            log(f"  sync run {run_index + 1}/{repeats} done")
    finally:
        for client in clients.values():
            client.close()

    async def measure() -> dict[str, dict[str, list[float]]]:
        per: dict[str, dict[str, list[float]]] = {op: {"local": [], "fleet": []} for op in OPS}
        local = _connect(base_url, None, True)
        shared = _connect(base_url, redis_url, True)
        try:
            for run_index in range(repeats):
                for op in OPS:
                    for name in rotated(["local", "fleet"], run_index):
                        ex = local if name == "local" else shared
                        per[op][name].append(await _async_median(ex, op, n, warmup))
                log(f"  async run {run_index + 1}/{repeats} done")
        finally:
            await local.close()
            await shared.close()
        return per

    return {"sync": _rows(sync), "async": _rows(asyncio.run(measure()))}


def place_and_cancel(
    base_url: str, fleet: str | None, ready: Any, go: Any, results: Any, seconds: float
) -> None:
    """One worker: warm up, say ready, then place and cancel linear orders for ``seconds``."""
    import exchanges

    placed = failed = 0
    errors: list[str] = []
    with exchanges.connect(
        "bybit",
        base_url=base_url,
        credentials=exchanges.Credentials(EMULATOR_KEY, EMULATOR_SECRET),
        allow_withdrawal_keys=True,  # no key check: every worker's first write is timed alike
        fleet=fleet,
    ) as ex:
        ex.load_markets()
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        ready.put(1)
        if not go.wait(60):
            results.put({"placed": 0, "failed": 0, "errors": ["no go"]})
            return
        end = time.time() + seconds
        while time.time() < end:
            try:
                order = ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
                placed += 1
                ex.cancel_order(order.id, SYMBOL)
            except exchanges.ExchangeError as err:
                failed += 1
                if len(errors) < 5:
                    errors.append(f"{type(err).__name__}: {err.message}")
    results.put({"placed": placed, "failed": failed, "errors": errors})


def load(emu: Any, fleet: str | None, workers: int, seconds: float) -> dict[str, Any]:
    """``workers`` processes placing and cancelling for ``seconds`` on ``emu``'s account."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=place_and_cancel,
            args=(emu.base_url, fleet, ready, go, results, seconds),
            daemon=True,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        emu.reset()  # the warm-up's requests do not count
        started = time.time()
        go.set()
        reports = [results.get(timeout=seconds + 30) for _ in procs]
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    stats = emu.stats()
    ended_ms = (started + seconds) * 1000
    created = [o for o in emu.ledger() if started * 1000 <= o["created_ms"] <= ended_ms]
    return {
        "reports": reports,
        "orders_per_s": len(created) / seconds,
        "rejections": sum(stats["rate_limited"].values()),
        "most_in_window": stats["max_arrivals_in_window"].get(CREATE_KEY, 0),
        "errors": [e for r in reports for e in r["errors"]],
    }


def fleet_of_six(redis_url: str, seconds: float, log: Callable[[str], Any]) -> dict[str, Any]:
    """Six processes with ``fleet=`` and then without, on one Bybit emulator account."""
    from exchanges.emulator import Emulator

    with Emulator("bybit", seed=7) as emu:
        log(f"  6 processes with fleet= for {seconds:g} s")
        shared = load(emu, redis_url, 6, seconds)
        emu.reset()
        log(f"  6 processes without fleet= for {seconds:g} s")
        alone = load(emu, None, 6, seconds)
    for result in (shared, alone):
        result.pop("reports")
    return {
        "workers": 6,
        "seconds": seconds,
        "documented": DOCUMENTED,
        "fleet": shared,
        "alone": alone,
    }


def run(cfg: dict[str, Any], notes: list[str], log: Callable[[str], Any]) -> dict[str, Any]:
    """The whole section: a throwaway redis-server, the overhead on the canned server, six."""
    from benchmarks.server import CannedServer
    from exchanges.fleet.local_redis import RedisServer, find_binary

    if find_binary() is None:
        why = "redis-server is not installed (apt-get install -y redis-server)"
        notes.append(f"fleet: skipped, {why}")
        return {"skipped": why}
    n, warmup, repeats = cfg["fleet_n"], cfg["fleet_warmup"], cfg["repeats"]
    with RedisServer() as redis_server, CannedServer(cpu=None) as server:
        log(f"[fleet] overhead: {n} calls (+{warmup} warm-up) × {repeats} run(s)")
        measured = overhead(server.base_url, redis_server.url, n, warmup, repeats, log)
        log(f"[fleet] six processes, {cfg['fleet_seconds']:g} s each way")
        six = fleet_of_six(redis_server.url, cfg["fleet_seconds"], log)
    return {
        "overhead": {"n": n, "warmup": warmup, "repeats": repeats, **measured},
        "six": six,
    }
