"""Timing loops and statistics shared by every section.

Every case is run once per *run*; a section runs its cases in an order rotated by the run index
(interleaving), so slow drift of a shared machine spreads over all cases instead of biasing the
last one. A figure is the median over runs with (min–max); a ratio is computed per run between
two cases of the same run, then summarised the same way.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Case:
    """One thing timed: ``make()`` returns the zero-argument callable to time (set-up excluded)."""

    name: str
    what: str
    make: Callable[[], Callable[[], Any]]
    group: str = ""
    #: The case whose time is the floor of this one (ratios per run), if any.
    floor: str | None = None
    #: Extra cases this one is ratioed against (e.g. ccxt), name -> label.
    versus: dict[str, str] = field(default_factory=dict)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of per-run values."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def rotated(items: Sequence[Any], run: int) -> list[Any]:
    """``items`` starting at position ``run`` (mod len): the interleaving order of one run."""
    if not items:
        return []
    k = run % len(items)
    return list(items[k:]) + list(items[:k])


def time_loop(fn: Callable[[], Any], iterations: int) -> float:
    """Seconds per call of ``fn`` over a bounded loop (5 % warm-up first, GC collected, left on)."""
    for _ in range(max(1, iterations // 20)):
        fn()
    gc.collect()
    counter = time.perf_counter_ns
    loop = range(iterations)
    started = counter()
    for _ in loop:
        fn()
    return (counter() - started) / 1e9 / iterations


def time_each(fn: Callable[[], Any], iterations: int, warmup: int) -> dict[str, float]:
    """Time every call of ``fn`` separately: median and p99 latency (s), calls per second."""
    for _ in range(warmup):
        fn()
    gc.collect()
    counter = time.perf_counter_ns
    samples = [0] * iterations
    started = counter()
    for i in range(iterations):
        t0 = counter()
        fn()
        samples[i] = counter() - t0
    total = (counter() - started) / 1e9
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return {
        "median": statistics.median(samples) / 1e9,
        "p99": p99 / 1e9,
        "rate": iterations / total,
    }


def ratios(runs_a: Sequence[float], runs_b: Sequence[float]) -> list[float]:
    """Per-run ratios a/b of two cases measured in the same runs."""
    return [a / b for a, b in zip(runs_a, runs_b, strict=True) if b > 0]


def fmt_time(seconds: float) -> str:
    """A duration with a sensible unit: ns, µs or ms, three significant digits."""
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        us = seconds * 1e6
        return f"{us:.2f} µs" if us < 10 else f"{us:.1f} µs"
    ms = seconds * 1e3
    return f"{ms:.2f} ms" if ms < 100 else f"{ms:.0f} ms"


def fmt_summary(s: dict[str, float], fmt: Callable[[float], str] = fmt_time) -> str:
    return f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})"


def fmt_ratio(s: dict[str, float]) -> str:
    return f"{s['median']:.2f}× ({s['min']:.2f}×–{s['max']:.2f}×)"


def run_micro(
    cases: Sequence[Case],
    iterations: Callable[[Case], int] | int,
    repeats: int,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, dict[str, Any]]:
    """Time every case once per run, order rotated per run; returns per-case results.

    Each result has ``what``, ``iterations``, ``runs`` (seconds per call, one per run), the
    summary of those, and ``ratios``: for its floor and every ``versus`` case, the per-run
    ratios and their summary.
    """
    fns = {case.name: case.make() for case in cases}
    runs: dict[str, list[float]] = {case.name: [] for case in cases}
    counts = {
        case.name: (iterations(case) if callable(iterations) else iterations) for case in cases
    }
    for run in range(repeats):
        for case in rotated(cases, run):
            runs[case.name].append(time_loop(fns[case.name], counts[case.name]))
        log(f"  run {run + 1}/{repeats} done")
    return {case.name: _result(case, runs, counts[case.name]) for case in cases}


def _result(case: Case, runs: dict[str, list[float]], n: int) -> dict[str, Any]:
    mine = runs[case.name]
    out: dict[str, Any] = {
        "what": case.what,
        "group": case.group,
        "iterations": n,
        "runs": mine,
        **summary(mine),
        "floor": case.floor,
        "ratios": {},
    }
    for other in ([case.floor] if case.floor else []) + list(case.versus):
        if other in runs and other != case.name:
            per_run = ratios(mine, runs[other])
            out["ratios"][other] = {"runs": per_run, **summary(per_run)}
    return out
