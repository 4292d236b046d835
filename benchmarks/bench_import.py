"""Section 5: import time and memory, a fresh ``python -c STMT`` per sample.

Wall time is measured by the parent around spawn-to-exit; peak RSS is the child's ``ru_maxrss``
from ``os.wait4`` (nothing is added to the child). Each target is run once untimed first, so
``.pyc`` files and the file cache are warm; samples are interleaved, order rotated per sample.
Figures "minus bare interpreter" subtract the median of ``pass`` of the same samples.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import rotated, summary

_REPO = Path(__file__).resolve().parent.parent

TARGETS: dict[str, str] = {
    "bare": "pass",
    "ours_import": "import exchanges",
    "ours": "import exchanges; exchanges.connect('bybit')",
    "ours_async": "import exchanges; exchanges.connect_async('bybit')",
    "ccxt": "import ccxt; ccxt.bybit({'apiKey': 'k', 'secret': 's'})",
    "ccxt_async": "import ccxt.async_support",
    "pybit": "from pybit.unified_trading import HTTP; HTTP(api_key='k', api_secret='s')",
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # No keys from the environment: connect() must not find any (and nothing leaks into logs).
    for name in list(env):
        if name.startswith("BYBIT_"):
            del env[name]
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def sample(stmt: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one ``python -c stmt``."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", stmt],
        cwd=_REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr is not None else b""
    if proc.stderr is not None:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"`python -c {stmt!r}` failed: {err.decode(errors='replace')[-500:]}")
    return wall, usage.ru_maxrss / 1024


def run(samples: int, notes: list[str], log: Callable[[str], Any]) -> dict[str, Any]:
    env = _env()
    names = []
    for name, stmt in TARGETS.items():
        try:
            sample(stmt, env)  # warm .pyc and file cache, and check it runs at all
            names.append(name)
        except RuntimeError as exc:
            notes.append(f"import: {name} skipped ({exc})")
    walls: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[float]] = {n: [] for n in names}
    for i in range(samples):
        for name in rotated(names, i):
            wall, mib = sample(TARGETS[name], env)
            walls[name].append(wall)
            rss[name].append(mib)
    log(f"  {samples} sample(s) of {len(names)} targets done")
    out: dict[str, Any] = {}
    bare_walls, bare_rss = walls.get("bare"), rss.get("bare")
    for name in names:
        row: dict[str, Any] = {
            "stmt": TARGETS[name],
            "wall_runs": walls[name],
            "rss_runs": rss[name],
            "wall": summary(walls[name]),
            "rss": summary(rss[name]),
        }
        if bare_walls and bare_rss:
            # Per sample index: the bare interpreter measured in the same round.
            row["wall_added"] = summary([a - b for a, b in zip(walls[name], bare_walls, strict=True)])
            row["rss_added"] = summary([a - b for a, b in zip(rss[name], bare_rss, strict=True)])
        out[name] = row
    return {"samples": samples, "rows": out}
