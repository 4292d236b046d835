"""What ``ours`` minus ``ours_transport`` is made of, per call, at 32 calls in flight.

    python -m benchmarks --breakdown-async [--n 2000]

``--profile-async`` (cProfile) charges every Python call and coroutine step, so small functions
look dearer than they are. Here nothing is profiled. First the client's CPU time per call is
taken for ``ours`` and ``ours_transport`` (the async section's rows, same workload: 32 in flight
against the canned server); their difference is what our pipeline costs. Then ``ours`` runs again
with ``perf_counter_ns`` timers around the pipeline's synchronous steps: the whole of it up to
the send and after the response (around the ``Session.execute`` generator), and inside those the
adapter hooks and limiter (``reserve``, ``sign`` or ``prepare``, ``observe``, ``decode``) and the
parser. Medians per call are shown; each timer adds a few tenths of a microsecond to the step it
wraps. What the timers do not see (coroutine layers, task switches, garbage collection, caches
shared with aiohttp's work) is the rest. On a 2-core machine, expect every step to cost two to
three times its figure in a tight loop: the server runs on the other core, and 32 calls in
flight keep far more code and data hot than one call does.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Generator
from typing import Any

from benchmarks.bench_async import OursAsync, drive
from benchmarks.server import CannedServer

_ns = time.perf_counter_ns
BEFORE = "up to the send: flow start, limiter, clock, signing, Send"
AFTER = "after the response: observe, decode, parse, flows end"
STEPS = {
    "time": ("limiter.reserve", "adapter.prepare", "adapter.observe", "adapter.decode", "parse"),
    "wallet": ("limiter.reserve", "adapter.sign", "adapter.observe", "adapter.decode", "parse"),
}


class Timers:
    """Samples in nanoseconds per named step."""

    def __init__(self) -> None:
        self.samples: dict[str, list[int]] = {}

    def add(self, name: str, elapsed: int) -> None:
        self.samples.setdefault(name, []).append(elapsed)

    def wrap(self, owner: Any, attr: str, name: str) -> Callable[[], None]:
        """Time ``owner.attr`` under ``name``; returns what undoes it."""
        inner = getattr(owner, attr)
        had_own = attr in getattr(owner, "__dict__", {})

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = _ns()
            try:
                return inner(*args, **kwargs)
            finally:
                self.add(name, _ns() - started)

        setattr(owner, attr, timed)
        return lambda: setattr(owner, attr, inner) if had_own else delattr(owner, attr)

    def effects(self, effects: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
        """``effects`` (a ``Session.execute`` pipeline), its synchronous steps timed."""
        started = _ns()
        effect = next(effects)
        self.add(BEFORE, _ns() - started)
        while True:
            try:
                outcome = yield effect
            except Exception as exc:  # an error from the transport, passed on
                effect = effects.throw(exc)
                continue
            started = _ns()
            try:
                effect = effects.send(outcome)
            except StopIteration as done:
                self.add(AFTER, _ns() - started)
                return done.value
            self.add(AFTER, _ns() - started)


async def _cpu_per_call(call: Callable[[], Any], n: int, repeats: int) -> float:
    """Client CPU µs per call (median of ``repeats`` runs of ``n`` calls, 32 in flight)."""
    runs = []
    for _ in range(repeats):
        await drive(call, max(64, n // 10))
        started = time.process_time()
        await drive(call, n)
        runs.append((time.process_time() - started) / n * 1e6)
    return statistics.median(runs)


async def _timed(ours: OursAsync, op: str, n: int) -> Timers:
    import adapters.bybit.parse as parse

    timers = Timers()
    ex = ours.ex
    adapter, session = ex.adapter, ex.session
    undo = [
        timers.wrap(session.limiter, "reserve", "limiter.reserve"),
        timers.wrap(adapter, "sign", "adapter.sign"),
        timers.wrap(adapter, "prepare", "adapter.prepare"),
        timers.wrap(adapter, "observe", "adapter.observe"),
        timers.wrap(adapter, "decode", "adapter.decode"),
        timers.wrap(adapter, "parse_time", "parse"),
    ]
    parse_balances = parse.parse_balances
    execute = session.execute
    try:
        parse.parse_balances = _timed_call(timers, parse_balances, "parse")
        session.execute = lambda flow: timers.effects(execute(flow))  # type: ignore[method-assign]
        await drive(ours.call(op), max(64, n // 10))
        timers.samples.clear()
        await drive(ours.call(op), n)
    finally:
        parse.parse_balances = parse_balances
        del session.execute
        for step in undo:
            step()
    return timers


def _timed_call(timers: Timers, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = _ns()
        try:
            return fn(*args, **kwargs)
        finally:
            timers.add(name, _ns() - started)

    return timed


def _median_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000 if samples else 0.0


async def _breakdown(base_url: str, n: int, repeats: int) -> str:
    ours = OursAsync(base_url)
    lines: list[str] = []
    try:
        await ours.warm()
        for op, name in (("time", "fetch_time"), ("wallet", "fetch_balance")):
            whole = await _cpu_per_call(ours.call(op), n, repeats)
            transport = await _cpu_per_call(ours.transport_only(op), n, repeats)
            timers = await _timed(ours, op, n)
            lines.append(
                f"==== {name}: client CPU per call, 32 in flight: ours {whole:.1f} µs, "
                f"ours_transport {transport:.1f} µs; pipeline {whole - transport:.1f} µs ===="
            )
            for step in STEPS[op]:
                lines.append(f"  {_median_us(timers.samples.get(step, [])):6.2f} µs    {step}")
            before = _median_us(timers.samples.get(BEFORE, []))
            after = _median_us(timers.samples.get(AFTER, []))
            lines.append(f"  {before:6.2f} µs  {BEFORE} (includes the steps above it)")
            lines.append(f"  {after:6.2f} µs  {AFTER} (includes the steps above it)")
            rest = whole - transport - before - after
            lines.append(
                f"  {rest:6.2f} µs  rest: coroutine layers, task switches, GC, shared caches"
            )
            lines.append("")
    finally:
        await ours.close()
    return "\n".join(lines)


def main(n: int = 2000, pin: bool = True, repeats: int = 5) -> str:
    """``--breakdown-async``: per-call CPU of our pipeline and its steps, 32 in flight."""
    pinned = False
    if pin and hasattr(os, "sched_setaffinity") and {0, 1} <= os.sched_getaffinity(0):
        os.sched_setaffinity(0, {0})
        pinned = True
    with CannedServer(cpu=1 if pinned else None) as server:
        text = asyncio.run(_breakdown(server.base_url, n, repeats))
    print(text)
    return text
