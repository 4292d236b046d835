"""Section 5: import time and memory, a fresh ``python -c STMT`` per sample.

Wall time is measured by the parent around spawn-to-exit. Peak RSS is the child's ``VmHWM``
(its own high-water mark) printed after the statement: ``ru_maxrss`` would not do, because
Linux carries the forking parent's peak (this process, with ccxt loaded) across ``exec``.
Each target is run once untimed first, so
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


# Appended to every statement: the child's own peak RSS in KiB (VmHWM, else ru_maxrss).
_REPORT = (
    "\nimport sys as _s\n"
    "try:\n"
    "    _h = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "except (OSError, IndexError):\n"
    "    import resource as _r\n"
    "    _h = _r.getrusage(_r.RUSAGE_SELF).ru_maxrss\n"
    "_s.stdout.write(f'RSS_KIB {_h}')\n"
)


def sample(stmt: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one ``python -c stmt``."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", stmt + _REPORT],
        cwd=_REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0 or "RSS_KIB" not in proc.stdout:
        raise RuntimeError(f"`python -c {stmt!r}` failed: {proc.stderr[-500:]}")
    kib = int(proc.stdout.rsplit("RSS_KIB", 1)[1].split()[0])
    return wall, kib / 1024


def run(
    samples: int, notes: list[str], log: Callable[[str], Any], *, warm: bool = True
) -> dict[str, Any]:
    env = _env()
    names = []
    for name, stmt in TARGETS.items():
        try:
            if warm:
                sample(stmt, env)  # warm .pyc and file cache, and check it runs at all
            names.append(name)
        except RuntimeError as exc:
            notes.append(f"import: {name} skipped ({exc})")
    walls: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[float]] = {n: [] for n in names}
    for i in range(samples):
        for name in rotated(names, i):
            try:
                wall, mib = sample(TARGETS[name], env)
            except RuntimeError as exc:
                notes.append(f"import: {name} skipped ({exc})")
                names.remove(name)
                continue
            walls[name].append(wall)
            rss[name].append(mib)
    log(f"  {samples} sample(s) of {len(names)} targets done")
    out: dict[str, Any] = {}
    bare_walls = walls["bare"] if "bare" in names else None
    bare_rss = rss["bare"] if "bare" in names else None
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
            row["wall_added"] = summary(
                [a - b for a, b in zip(walls[name], bare_walls, strict=False)]
            )
            row["rss_added"] = summary([a - b for a, b in zip(rss[name], bare_rss, strict=False)])
        out[name] = row
    return {"samples": samples, "rows": out}
