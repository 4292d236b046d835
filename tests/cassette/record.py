"""Re-record the emulator cassettes of Bybit, Binance and OKX, deterministically.

    python -m tests.cassette.record                          # every exchange, every scenario
    python -m tests.cassette.record --exchange binance       # cassettes/binance/emulator/
    python -m tests.cassette.record --exchange okx fetch_time error_50113_invalid_signature
    python -m tests.cassette.record fetch_ticker             # that scenario of every exchange
    python -m tests.cassette.record bybit/fetch_ticker       # one exchange's scenario
    python -m tests.cassette.record --out /tmp/x             # /tmp/x/<exchange>/emulator/

Every scenario gets a fresh emulator of its exchange (seed ``SEED``, its clock frozen at
``FROZEN_MS``), a client with the published test key on a clock frozen at the same instant, and
explicit client order ids, so two runs write byte-identical files (whatever Python's hash salt:
nothing in the emulators' answers depends on it).
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

from tests.cassette.scenarios import (
    EXCHANGES,
    SCENARIOS,
    Scenario,
    ScriptedClock,
    close,
    connect,
    play,
    start_emulator,
)
from tests.cassette.vcrkit import CASSETTES, SEED, profile_of, redact_logs, register


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


def cassette_path(item: Scenario, root: Path = CASSETTES) -> Path:
    """Where ``item`` is recorded under ``root``: ``<root>/<exchange>/emulator/<name>.yaml``."""
    return root / item.exchange / "emulator" / f"{item.name}.yaml"


def record_one(item: Scenario, root: Path = CASSETTES, recorder: vcr.VCR | None = None) -> Path:
    """Record one scenario (replacing its file)."""
    recorder = recorder or _recorder()
    path = cassette_path(item, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    clock = ScriptedClock()
    with start_emulator(item, clock, SEED) as emu:
        if item.setup is not None:
            item.setup(emu)
        config = profile_of(item.exchange).emulator_config(emu.base_url)
        with recorder.use_cassette(str(path), record_on_exception=False, **config):
            asyncio.run(_drive(item, emu.base_url, clock))
    if not path.exists():
        raise RuntimeError(f"{item.id}: nothing was recorded")
    return path


def select(exchanges: Iterable[str] = (), names: Iterable[str] = ()) -> list[Scenario]:
    """The scenarios of ``exchanges`` (all when none) called ``names`` (all when none); a name
    may be qualified (``okx/fetch_time``)."""
    chosen = set(exchanges) or set(EXCHANGES)
    wanted = set(names)
    picked = [
        s
        for s in SCENARIOS
        if s.exchange in chosen and (not wanted or s.name in wanted or s.id in wanted)
    ]
    known = {s.name for s in picked} | {s.id for s in picked}
    unknown = wanted - known
    if unknown:
        raise SystemExit(
            f"unknown scenario(s) for {', '.join(sorted(chosen))}: {', '.join(sorted(unknown))}"
        )
    return picked


def record(
    root: Path = CASSETTES, names: Iterable[str] = (), exchanges: Iterable[str] = ()
) -> list[Path]:
    """Record the chosen scenarios under ``root``."""
    remove = redact_logs()
    try:
        recorder = _recorder()
        return [record_one(s, root, recorder) for s in select(exchanges, names)]
    finally:
        remove()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument(
        "--exchange",
        action="append",
        choices=EXCHANGES,
        default=[],
        help="only this exchange (repeatable; default: all)",
    )
    parser.add_argument(
        "--out", type=Path, default=CASSETTES, help="root folder (default: cassettes/)"
    )
    args = parser.parse_args(argv)
    for path in record(args.out, args.names, args.exchange):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
