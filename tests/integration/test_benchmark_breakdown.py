"""``python -m benchmarks --breakdown-async --quick`` runs and names every step it times.

No timing assertions (the machine is shared): the steps must have been seen, and the client left
as it was (the timers are undone) so the figures describe the real pipeline.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_breakdown_names_each_step_with_a_figure() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--breakdown-async", "--quick", "--no-pin"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for op in ("fetch_time", "fetch_balance"):
        assert f"==== {op}: client CPU per call" in out
    for step in ("limiter.reserve", "adapter.prepare", "adapter.sign", "adapter.decode", "parse"):
        line = next(line for line in out.splitlines() if line.endswith(f"µs    {step}"))
        assert float(line.split("µs")[0]) > 0, line
    assert out.count("rest: coroutine layers") == 2
