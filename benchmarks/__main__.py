"""``python -m benchmarks``: every section, one JSON file, one Markdown report.

python -m benchmarks                  # full: a few minutes, writes benchmarks/RESULTS.md
python -m benchmarks --quick          # seconds: checks everything runs (CI)
python -m benchmarks --n 500 --repeats 3
python -m benchmarks --profile        # cProfile of fetch_balance and create_order loops
python -m benchmarks --profile-async  # cProfile of the async calls, ours and raw aiohttp
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.harness import run_micro

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SECTIONS = ("sign", "sync", "async", "parse", "import", "stream", "fleet", "venues")
PACKAGES = ("exchanges", "ccxt", "pybit", "urllib3", "aiohttp", "orjson", "requests")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _config(ns: argparse.Namespace) -> dict[str, Any]:
    if ns.quick:
        cfg = {"mode": "quick", "n": 30, "repeats": 1, "warmup": 5, "import_samples": 1}
    else:
        cfg = {"mode": "full", "n": 2000, "repeats": 5, "warmup": 100, "import_samples": 7}
    if ns.n is not None:
        cfg.update(mode="custom", n=ns.n, warmup=max(5, ns.n // 20))
    if ns.repeats is not None:
        cfg.update(mode="custom" if not ns.quick else "quick", repeats=ns.repeats)
        cfg["import_samples"] = max(1, ns.repeats + 2) if not ns.quick else 1
    n = cfg["n"]
    # Micro loops scale with n as in the baseline: 20000 signing and 2000 order-book iterations
    # at n=2000; async makes 2n calls per run (at least 64 so 32 workers have work).
    cfg["sign_iterations"] = max(100, 10 * n)
    cfg["parse_iterations"] = max(3, n)
    cfg["async_n"] = max(64, 2 * n)
    cfg["async_warmup"] = max(32, cfg["warmup"])
    # The stream section times whole feeds (1 snapshot + N deltas): a few passes per run.
    cfg["stream_deltas"] = 300 if ns.quick else 10_000
    cfg["stream_iterations"] = 1 if ns.quick else 3
    # Fleet: sequential calls per operation, and seconds of six-process load each way.
    cfg["fleet_n"] = 30 if ns.quick else max(200, n // 4)
    cfg["fleet_warmup"] = 5 if ns.quick else 50
    cfg["fleet_seconds"] = 1.0 if ns.quick else 5.0
    return cfg


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    commit = _git_commit()
    if commit and "exchanges" in versions:
        versions["exchanges"] += f" (git {commit})"
    return versions


def _pin_client(enabled: bool) -> bool:
    """Client on CPU 0 and server on CPU 1, as in the baseline, when both CPUs are ours."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return False
    if not {0, 1} <= os.sched_getaffinity(0):
        return False
    os.sched_setaffinity(0, {0})
    return True


def run(ns: argparse.Namespace) -> dict[str, Any]:
    cfg = _config(ns)
    sections = [s.strip() for s in ns.only.split(",")] if ns.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s): {', '.join(sorted(unknown))}")
    pinned = _pin_client(not ns.no_pin)
    notes: list[str] = []
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m benchmarks " + " ".join(shlex.quote(a) for a in ns.argv),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": _versions(),
        "load_start": _load(),
    }
    results: dict[str, Any] = {"meta": meta, "config": cfg, "sections": {}, "notes": notes}
    started = time.perf_counter()
    repeats = cfg["repeats"]

    if "sign" in sections:
        from benchmarks import bench_sign

        _log(f"[sign] {cfg['sign_iterations']} iterations × {repeats} run(s)")
        cases = bench_sign.cases(notes)
        results["sections"]["sign"] = {
            "cases": run_micro(cases, cfg["sign_iterations"], repeats, log=_log)
        }

    if "sync" in sections or "async" in sections:
        from benchmarks.server import CannedServer

        with CannedServer(cpu=1 if pinned else None) as server:
            meta["pinned"] = pinned and server.pinned
            if "sync" in sections:
                from benchmarks import bench_sync

                _log(f"[sync] {cfg['n']} calls (+{cfg['warmup']} warm-up) × {repeats} run(s)")
                results["sections"]["sync"] = bench_sync.run(
                    server.base_url, cfg["n"], cfg["warmup"], repeats, notes, _log
                )
            if "async" in sections:
                from benchmarks import bench_async

                _log(f"[async] {cfg['async_n']} calls, 32 in flight × {repeats} run(s)")
                results["sections"]["async"] = bench_async.run(
                    server.base_url, cfg["async_n"], cfg["async_warmup"], repeats, notes, _log
                )
    else:
        meta["pinned"] = pinned

    if "parse" in sections:
        from benchmarks import bench_parse

        _log(f"[parse] order book {cfg['parse_iterations']} iterations × {repeats} run(s)")
        results["sections"]["parse"] = {
            "cases": run_micro(
                bench_parse.cases(),
                bench_parse.iterations(cfg["parse_iterations"]),
                repeats,
                log=_log,
            )
        }

    if "import" in sections:
        from benchmarks import bench_import

        _log(f"[import] {cfg['import_samples']} sample(s) per target")
        # Quick mode skips the untimed warm-up sample: it only has to show the section runs.
        results["sections"]["import"] = bench_import.run(
            cfg["import_samples"], notes, _log, warm=cfg["mode"] != "quick"
        )

    if "stream" in sections:
        from benchmarks import bench_stream

        deltas, passes = cfg["stream_deltas"], cfg["stream_iterations"]
        messages = bench_stream.message_count(deltas)
        _log(f"[stream] {messages} messages, {passes} pass(es) × {repeats} run(s)")
        results["sections"]["stream"] = {
            "deltas": deltas,
            "depth": 50,
            "messages": messages,
            "cases": run_micro(bench_stream.cases(deltas, 50, 1), passes, repeats, log=_log),
        }

    if "fleet" in sections:
        from benchmarks import bench_fleet

        results["sections"]["fleet"] = bench_fleet.run(cfg, notes, _log)

    if "venues" in sections:
        from benchmarks import bench_stream_venues

        deltas, passes = cfg["stream_deltas"], cfg["stream_iterations"]
        messages = bench_stream_venues.message_count(deltas)
        _log(f"[venues] 4 exchanges × {messages} messages, {passes} pass(es) × {repeats} run(s)")
        results["sections"]["venues"] = bench_stream_venues.run(deltas, passes, repeats, _log)

    meta["load_end"] = _load()
    meta["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = report.evaluate(results)
    return results


def _write(results: dict[str, Any], ns: argparse.Namespace) -> None:
    quick = results["config"]["mode"] == "quick"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path = (
        Path(ns.json_out)
        if ns.json_out
        else HERE / "results" / f"{'quick' if quick else 'run'}-{stamp}.json"
    )
    # Quick runs never overwrite the committed RESULTS.md: their numbers mean nothing.
    md_path = (
        Path(ns.md_out) if ns.md_out else HERE / ("results/quick.md" if quick else "RESULTS.md")
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    md_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    text = report.markdown(results)
    md_path.write_text(text, encoding="utf-8")
    print(text)
    _log(f"wrote {json_path} and {md_path} ({results['meta']['seconds']} s)")
    if ns.readme and report.update_readme(REPO / "README.md", results):
        _log(f"updated the benchmark block of {REPO / 'README.md'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Client-cost benchmarks against a canned loopback Bybit server.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny N, 1 run: checks it all runs")
    parser.add_argument("--n", type=int, help="timed HTTP calls per approach (default 2000)")
    parser.add_argument("--repeats", type=int, help="interleaved runs (default 5)")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--json-out", help="results JSON path (default benchmarks/results/)")
    parser.add_argument("--md-out", help="Markdown path (default benchmarks/RESULTS.md)")
    parser.add_argument(
        "--readme", action="store_true", help="replace the bench block of README.md"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin client/server CPUs")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of benchmarking, cProfile fetch_balance and create_order loops",
    )
    parser.add_argument(
        "--profile-async",
        action="store_true",
        help="instead of benchmarking, cProfile async fetch_time/fetch_balance, ours and aiohttp",
    )
    parser.add_argument(
        "--breakdown-async",
        action="store_true",
        help="instead of benchmarking, time the steps of our async pipeline (32 in flight)",
    )
    args = sys.argv[1:] if argv is None else argv
    ns = parser.parse_args(args)
    ns.argv = args
    if ns.breakdown_async:
        from benchmarks import breakdown

        breakdown.main(n=ns.n or (200 if ns.quick else 2000), pin=not ns.no_pin)
        return
    if ns.profile or ns.profile_async:
        from benchmarks import profiling

        run_profile = profiling.main_async if ns.profile_async else profiling.main
        run_profile(n=ns.n or (200 if ns.quick else 2000), pin=not ns.no_pin)
        return
    _write(run(ns), ns)


if __name__ == "__main__":
    main()
