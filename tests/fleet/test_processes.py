"""Many processes on one account: the fleet shares one budget and one client-id space."""

from __future__ import annotations

import multiprocessing

from benchmarks import bench_fleet
from exchanges.emulator import Emulator
from tests.fleet import workers

DOCUMENTED = bench_fleet.DOCUMENTED
WORKERS = 6
SECONDS = 3.0
CREATE_KEY = bench_fleet.CREATE_KEY


def test_six_processes_share_one_budget_and_draw_no_rejections(redis_url: str) -> None:
    with Emulator("bybit", seed=7) as emu:
        shared = bench_fleet.load(emu, redis_url, WORKERS, SECONDS)
        emu.reset()
        alone = bench_fleet.load(emu, None, WORKERS, SECONDS)

    rate = shared["orders_per_s"]
    print(
        f"\nfleet of {WORKERS}: {rate:.2f} orders/s placed ({rate / DOCUMENTED:.0%} of the "
        f"documented {DOCUMENTED}/s), {shared['rejections']} rate-limit rejections, at most "
        f"{shared['most_in_window']} creates in one 1 s window; without fleet=: "
        f"{alone['rejections']} rejections, at most {alone['most_in_window']} in one window"
    )
    assert shared["errors"] == []
    assert shared["rejections"] == 0
    assert shared["most_in_window"] <= DOCUMENTED
    assert rate >= 0.9 * DOCUMENTED
    # The same load without a fleet: each process paces itself alone, together they break it.
    assert alone["rejections"] > 0


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
