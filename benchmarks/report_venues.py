"""The venues section's targets and Markdown (``benchmarks.bench_stream_venues``'s results)."""

from __future__ import annotations

from typing import Any

from benchmarks.bench_stream_venues import CCXT, GOAL, GOAL_VENUES, OURS, VENUES, case_name
from benchmarks.harness import fmt_ratio, summary

LABELS = {
    "binance_spot": "Binance spot `depthUpdate` (U/u)",
    "binance_usdm": "Binance USD-M `depthUpdate` (pu)",
    "okx": "OKX `books` (seqId/prevSeqId)",
    "bybit": "Bybit `orderbook.50` (u)",
}


def _per_run(a: list[float], b: list[float]) -> dict[str, float] | None:
    pairs = [x / y for x, y in zip(a, b, strict=False) if y > 0]
    return summary(pairs) if pairs else None


def _vs_ccxt(cases: dict[str, Any], venue: str, who: str = OURS) -> dict[str, float] | None:
    """Per run, ccxt.pro's pass time over this case's: how many times its msg/s."""
    mine, ccxt = cases.get(case_name(venue, who)), cases.get(case_name(venue, CCXT))
    return _per_run(ccxt["runs"], mine["runs"]) if mine and ccxt else None


def targets(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Issue 18's goal: ours at least 2x ccxt.pro's msg/s on each exchange (Bybit is shown)."""
    cases = (section or {}).get("cases", {})
    out = []
    for venue in GOAL_VENUES:
        value = _vs_ccxt(cases, venue)
        base = {
            "id": f"venues_{venue}",
            "title": f"stream: {venue} book deltas decoded+applied, ours ÷ ccxt.pro (msg/s)",
            "limit": GOAL,
            "op": ">=",
            "unit": "×",
        }
        if value is None:
            out.append({**base, "pass": None})
            continue
        out.append(
            {**base, "measured": value["median"], "min": value["min"], "max": value["max"],
             "pass": value["median"] >= GOAL}
        )  # fmt: skip
    return out


def section(results: dict[str, Any], verdicts: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown for the venues section, or nothing when it did not run."""
    data = results["sections"].get("venues")
    if not data:
        return []
    messages, cases = data["messages"], data["cases"]
    low, high = data["changes"]
    depths = data["depths"]
    lines = [
        "## 8. Order book streams per exchange, ours vs ccxt.pro",
        "",
        f"One generated feed per exchange in its wire format: the REST snapshot (Binance "
        f"{depths['binance_spot']:,} levels a side, OKX {depths['okx']}) then {data['deltas']:,} "
        f"diff messages of {low}–{high} level changes (Bybit: section 6's feed, a pushed snapshot "
        f"of {depths['bybit']} levels). A pass bootstraps a fresh book and handles every message; "
        f"msg/s counts {messages:,} messages a pass. Both clients' final books are checked "
        "against the generator's (same levels, same last update id, no resync, no ccxt.pro "
        "rejection) before timing. Medians over runs (min–max); the ratio is per run "
        "(this msg/s ÷ ccxt.pro msg/s on the same frames). Method: "
        "`benchmarks/bench_stream_venues.py`.",
        "",
        "| exchange | approach | what is timed | passes × runs | msg/s median (min–max) | "
        "vs ccxt.pro | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for venue in VENUES:
        for name, c in cases.items():
            if not name.startswith(venue + ": "):
                continue
            who = name.partition(": ")[2]
            rate = summary([messages / t for t in c["runs"] if t > 0])
            vs = _vs_ccxt(cases, venue, who) if who != CCXT else None
            target = verdicts.get(f"venues_{venue}") if who == OURS else None
            verdict = ""
            if target and target.get("pass") is not None:
                verdict = f">= {GOAL:g}×: {'**PASS**' if target['pass'] else '**MISS**'}"
            lines.append(
                f"| {LABELS[venue]} | `{who}` | {c['what']} | {c['iterations']} × "
                f"{len(c['runs'])} | {rate['median']:,.0f} ({rate['min']:,.0f}–"
                f"{rate['max']:,.0f}) | {fmt_ratio(vs) if vs else '— (reference)'} | {verdict} |"
            )
    return lines
