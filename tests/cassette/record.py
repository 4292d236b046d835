"""Re-record the emulator cassettes, deterministically.

    python -m tests.cassette.record                 # rewrites cassettes/bybit/emulator/
    python -m tests.cassette.record --out /tmp/x    # somewhere else (the determinism test)
    python -m tests.cassette.record fetch_ticker error_10004_invalid_signature

Every scenario gets a fresh emulator (seed ``SEED``, its clock frozen at ``FROZEN_MS``), a
client with the published test key on a clock frozen at the same instant, and explicit client
order ids, so two runs write byte-identical files (whatever Python's hash salt: nothing in
the emulator's answers depends on it).
Recording uses the urllib3 transport; the replay tests play the same files through the stdlib,
urllib3 and aiohttp transports.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path

import vcr

from exchanges.emulator import Emulator
from tests.cassette.scenarios import SCENARIOS, Scenario, ScriptedClock, close, connect, play
from tests.cassette.vcrkit import EMULATOR_CASSETTES, SEED, emulator_config, register


def _recorder() -> vcr.VCR:
    recorder = vcr.VCR(record_mode="all")
    register(recorder)
    return recorder


async def _drive(item: Scenario, base_url: str, clock: ScriptedClock) -> None:
    ex = connect(item, "urllib3", base_url, clock)
    try:
        await play(item, ex, clock)
    finally:
        await close(ex)


def record_one(item: Scenario, out: Path, recorder: vcr.VCR | None = None) -> Path:
    """Record one scenario into ``out/<name>.yaml`` (replacing it)."""
    recorder = recorder or _recorder()
    path = out / f"{item.name}.yaml"
    path.unlink(missing_ok=True)
    clock = ScriptedClock()
    options = {"seed": SEED, "wall_ms": clock, **item.emulator}
    with Emulator("bybit", **options) as emu:
        if item.setup is not None:
            item.setup(emu)
        config = emulator_config(emu.base_url)
        with recorder.use_cassette(str(path), record_on_exception=False, **config):
            asyncio.run(_drive(item, emu.base_url, clock))
    if not path.exists():
        raise RuntimeError(f"{item.name}: nothing was recorded")
    return path


def record(out: Path = EMULATOR_CASSETTES, names: Iterable[str] = ()) -> list[Path]:
    """Record the named scenarios (all when none are named) into ``out``."""
    wanted = set(names)
    unknown = wanted - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    out.mkdir(parents=True, exist_ok=True)
    recorder = _recorder()
    return [record_one(s, out, recorder) for s in SCENARIOS if not wanted or s.name in wanted]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--out", type=Path, default=EMULATOR_CASSETTES, help="target folder")
    args = parser.parse_args(argv)
    for path in record(args.out, args.names):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
