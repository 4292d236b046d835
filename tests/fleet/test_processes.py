"""Many processes on one account: the fleet shares one budget and one client-id space."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from exchanges.emulator import Emulator
from tests.fleet import workers

#: Bybit's documented limit of POST /v5/order/create, linear, per UID per second.
DOCUMENTED = 10
WORKERS = 6
SECONDS = 3.0
CREATE_KEY = "1001:bybit:/v5/order/create:deriv"


def _fleet_load(emu: Emulator, fleet: str | None) -> tuple[list[dict[str, Any]], float, float]:
    """Six workers placing and cancelling for SECONDS: their reports, go and end (wall s)."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(
            target=workers.place_and_cancel,
            args=(emu.base_url, fleet, ready, go, results, SECONDS),
            daemon=True,
        )
        for _ in range(WORKERS)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=60)
        emu.reset()  # the warm-up's requests do not count
        started = time.time()
        go.set()
        reports = [results.get(timeout=SECONDS + 30) for _ in procs]
        ended = started + SECONDS
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    return reports, started, ended


def test_six_processes_share_one_budget_and_draw_no_rejections(redis_url: str) -> None:
    with Emulator("bybit", seed=7) as emu:
        reports, started, ended = _fleet_load(emu, redis_url)
        stats = emu.stats()
        created = [o for o in emu.ledger() if started * 1000 <= o["created_ms"] <= ended * 1000]
        shared_rejections = sum(stats["rate_limited"].values())
        most = stats["max_arrivals_in_window"].get(CREATE_KEY, 0)

        emu.reset()
        _fleet_load(emu, None)
        alone_rejections = sum(emu.stats()["rate_limited"].values())

    rate = len(created) / SECONDS
    print(
        f"\nfleet of {WORKERS}: {rate:.2f} orders/s placed ({rate / DOCUMENTED:.0%} of the "
        f"documented {DOCUMENTED}/s), {shared_rejections} rate-limit rejections, at most {most} "
        f"creates in one 1 s window; without fleet=: {alone_rejections} rejections"
    )
    assert [r["errors"] for r in reports] == [[]] * WORKERS
    assert shared_rejections == 0, stats["rate_limited"]
    assert most <= DOCUMENTED
    assert rate >= 0.9 * DOCUMENTED
    # The same load without a fleet: each process paces itself alone, together they break it.
    assert alone_rejections > 0


def test_two_processes_racing_on_one_client_id_place_one_order(redis_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    with Emulator("bybit", seed=7) as emu:
        procs = [
            ctx.Process(
                target=workers.place_with_id,
                args=(emu.base_url, redis_url, "race-1", ready, go, results),
                daemon=True,
            )
            for _ in range(2)
        ]
        for proc in procs:
            proc.start()
        try:
            for _ in procs:
                ready.get(timeout=60)
            go.set()
            outcomes = sorted(results.get(timeout=60) for _ in procs)
        finally:
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.kill()
        ledger = [o for o in emu.ledger() if o.get("client_order_id") == "race-1"]
        arrivals = emu.stats()["max_arrivals_in_window"].get(CREATE_KEY, 0)
    assert [kind for kind, _ in outcomes] == ["duplicate", "placed"], outcomes
    assert "reserved by a member of the fleet" in outcomes[0][1]
    assert len(ledger) == 1
    # The loser sent nothing: one create reached the exchange.
    assert arrivals == 1
