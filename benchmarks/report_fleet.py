"""The fleet section's targets and Markdown (``benchmarks.bench_fleet``'s results)."""

from __future__ import annotations

from typing import Any

from benchmarks.bench_fleet import OPS

#: Issue 19's goals: Redis adds at most this much per call over the in-process limiter, and six
#: processes place at least this share of the documented order rate with no rejection.
OVERHEAD_LIMIT_S = 150e-6
SHARE_FLOOR = 0.9


def targets(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One overhead target per operation (sync client) and the six-process share and rejections."""
    out: list[dict[str, Any]] = []
    overhead = (section or {}).get("overhead", {}).get("sync", {})
    for op in OPS:
        got = overhead.get(op, {}).get("overhead")
        out.append(
            _target(f"fleet_{op}", f"fleet: Redis cost per call, {OP_SHORT[op]} (sync)",
                    got, OVERHEAD_LIMIT_S, "<=", "µs")
        )  # fmt: skip
    six = (section or {}).get("six")
    share = rejections = None
    if six:
        rate = six["fleet"]["orders_per_s"] / six["documented"]
        share = {"median": rate, "min": rate, "max": rate}
        count = float(six["fleet"]["rejections"])
        rejections = {"median": count, "min": count, "max": count}
    out.append(
        _target("fleet_share", "fleet: 6 processes, share of the documented order rate",
                share, SHARE_FLOOR, ">=", "%")
    )  # fmt: skip
    out.append(
        _target("fleet_rejections", "fleet: 6 processes, rate-limit rejections",
                rejections, 0, "<=", "")
    )  # fmt: skip
    return out


OP_SHORT = {"time": "public read", "wallet": "signed read", "order": "order"}


def _target(
    tid: str, title: str, value: dict[str, float] | None, limit: float, op: str, unit: str
) -> dict[str, Any]:
    base = {"id": tid, "title": title, "limit": limit, "op": op, "unit": unit}
    if value is None:
        return {**base, "pass": None}
    median = value["median"]
    ok = median <= limit if op == "<=" else median >= limit
    return {**base, "measured": median, "min": value["min"], "max": value["max"], "pass": ok}


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def section(results: dict[str, Any], verdicts: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown for the fleet section, or nothing when it did not run."""
    fleet = results["sections"].get("fleet")
    if not fleet:
        return []
    lines = ["## 7. Fleets (`fleet=`, a real redis-server on loopback)", ""]
    if fleet.get("skipped"):
        return [*lines, f"Skipped: {fleet['skipped']}."]
    overhead = fleet["overhead"]
    lines += [
        f"Per-call latency on the canned server, {overhead['n']} sequential calls per run after "
        f"{overhead['warmup']} warm-up, {overhead['repeats']} run(s): the same client pacing "
        "itself in process and booking every request in Redis (`fleet=`), limits raised so "
        "neither waits. Medians over runs (min–max); the overhead is per run.",
        "",
        "| client | operation | in process | with fleet= | overhead | target |",
        "|---|---|---|---|---|---|",
    ]
    for mode in ("sync", "async"):
        for op, row in overhead[mode].items():
            cost = row["overhead"]
            target = verdicts.get(f"fleet_{op}") if mode == "sync" else None
            verdict = ""
            if target and target.get("pass") is not None:
                verdict = f"≤ 150 µs: {'**PASS**' if target['pass'] else '**MISS**'}"
            lines.append(
                f"| {mode} | {row['title']} | {_us(row['local']['median'])} | "
                f"{_us(row['fleet']['median'])} | {_us(cost['median'])} "
                f"({_us(cost['min'])}–{_us(cost['max'])}) | {verdict} |"
            )
    six = fleet.get("six")
    if six:
        lines += [
            "",
            f"{six['workers']} processes placing and cancelling linear orders on one Bybit "
            f"emulator account for {six['seconds']:g} s, each pacing itself to the documented "
            f"{six['documented']} creates/s per UID; the emulator counts creates per 1 s window "
            "and its own rate-limit rejections.",
            "",
            "| run | orders/s placed | share of documented | most creates in 1 s | rejections |",
            "|---|---|---|---|---|",
        ]
        for name, label in (("fleet", "with fleet="), ("alone", "without fleet=")):
            got = six[name]
            lines.append(
                f"| {label} | {got['orders_per_s']:.2f} | "
                f"{got['orders_per_s'] / six['documented']:.0%} | {got['most_in_window']} | "
                f"{got['rejections']} |"
            )
    return lines
