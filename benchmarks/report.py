"""Targets, the Markdown report, and the README block, all from one results dict."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import report_fleet, report_venues
from benchmarks.harness import fmt_ratio, fmt_summary, fmt_time, summary

START = "<!-- bench:start -->"
END = "<!-- bench:end -->"
STREAM_OURS = "ours: decode + apply"
STREAM_PYBIT = "pybit: on_message"


def _per_run(a: Sequence[float], b: Sequence[float]) -> dict[str, float] | None:
    pairs = [x / y for x, y in zip(a, b, strict=False) if y > 0]
    return summary(pairs) if pairs else None


def _target(
    tid: str, title: str, value: dict[str, float] | None, limit: float, op: str, unit: str
) -> dict[str, Any]:
    if value is None:
        return {"id": tid, "title": title, "limit": limit, "op": op, "unit": unit, "pass": None}
    median = value["median"]
    ok = median <= limit if op == "<=" else median >= limit
    return {
        "id": tid,
        "title": title,
        "measured": median,
        "min": value["min"],
        "max": value["max"],
        "limit": limit,
        "op": op,
        "unit": unit,
        "pass": ok,
    }


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target (issue 10's and the stream one), judged on medians (ratios per run)."""
    sections = results.get("sections", {})
    out: list[dict[str, Any]] = []

    sign = sections.get("sign", {}).get("cases", {})
    for ours, floor, label in (
        ("ours_sign_post", "floor_raw_sign_post", "POST"),
        ("ours_sign_get", "floor_raw_sign_get", "GET"),
    ):
        value = None
        if ours in sign and floor in sign:
            value = _per_run(sign[ours]["runs"], sign[floor]["runs"])
        out.append(
            _target(f"sign_{label.lower()}", f"signing ({label}) ÷ hand-written floor",
                    value, 1.2, "<=", "×")
        )  # fmt: skip

    sync = sections.get("sync", {})
    for op in ("wallet", "order"):
        rows = sync.get(op, {}).get("rows", {})
        name = {"wallet": "fetch_balance", "order": "create_order"}[op]
        ours, hc, ccxt = rows.get("ours"), rows.get("hc"), rows.get("ccxt")
        out.append(
            _target(f"sync_{op}_vs_floor", f"sync {name} ÷ http.client floor",
                    _per_run(ours["runs"], hc["runs"]) if ours and hc else None, 1.5, "<=", "×")
        )  # fmt: skip
        out.append(
            _target(f"sync_{op}_vs_ccxt", f"sync {name}: ccxt ÷ ours (× faster)",
                    _per_run(ccxt["runs"], ours["runs"]) if ours and ccxt else None,
                    2.3, ">=", "×")
        )  # fmt: skip

    aio = sections.get("async", {})
    for op, rows in ((op, data.get("rows", {})) for op, data in aio.items()):
        ours, raw = rows.get("ours"), rows.get("aiohttp")
        out.append(
            _target(f"async_{op}", f"async {aio[op]['title']}: ours ÷ raw aiohttp req/s (32 in "
                    "flight)", _per_run(ours["runs"], raw["runs"]) if ours and raw else None,
                    0.85, ">=", "×")
        )  # fmt: skip

    parse = sections.get("parse", {}).get("cases", {})
    for ours, floor, limit, label in (
        ("ob_ours", "ob_floor_json_decimal", 1.25, "order book 200×2"),
        ("tk_ours", "tk_floor_json_decimal", 1.5, "500 tickers"),
        ("mk_ours", "mk_floor_json_decimal", 2.2, "1,000 markets"),
    ):
        value = None
        if ours in parse and floor in parse:
            value = _per_run(parse[ours]["runs"], parse[floor]["runs"])
        out.append(_target(f"parse_{ours[:2]}", f"parse {label} ÷ floor", value, limit, "<=", "×"))

    rows = sections.get("import", {}).get("rows", {})
    ours = rows.get("ours")
    out.append(
        _target("import_time", "import + connect, wall minus bare interpreter",
                ours.get("wall_added") if ours else None, 0.120, "<=", "s")
    )  # fmt: skip
    out.append(
        _target("import_rss", "import + connect, peak RSS minus bare interpreter",
                ours.get("rss_added") if ours else None, 15.0, "<=", "MiB")
    )  # fmt: skip

    # The stream cases time whole feeds: their rate ratio is the inverse of their time ratio.
    stream = sections.get("stream", {}).get("cases", {})
    ours, pybit = stream.get(STREAM_OURS), stream.get(STREAM_PYBIT)
    out.append(
        _target("stream_book", "stream: order book deltas decoded+applied, ours ÷ pybit "
                "on_message (msg/s)", _per_run(pybit["runs"], ours["runs"]) if ours and pybit
                else None, 1.0, ">=", "×")
    )  # fmt: skip
    out += report_fleet.targets(sections.get("fleet"))
    out += report_venues.targets(sections.get("venues"))
    return out


def _verdict(t: dict[str, Any] | None) -> str:
    if t is None:
        return ""
    if t["pass"] is None:
        return "n/a"
    return "**PASS**" if t["pass"] else "**MISS**"


def _fmt_value(t: dict[str, Any]) -> str:
    if t.get("measured") is None:
        return "—"
    unit = t["unit"]
    if unit == "s":
        return f"{t['measured'] * 1e3:.0f} ms ({t['min'] * 1e3:.0f}–{t['max'] * 1e3:.0f})"
    if unit == "MiB":
        return f"{t['measured']:.1f} MiB ({t['min']:.1f}–{t['max']:.1f})"
    if unit == "µs":
        return f"{t['measured'] * 1e6:.0f} µs ({t['min'] * 1e6:.0f}–{t['max'] * 1e6:.0f})"
    if unit == "%":
        return f"{t['measured']:.0%}"
    if unit == "":
        return f"{t['measured']:g}"
    return f"{t['measured']:.2f}× ({t['min']:.2f}×–{t['max']:.2f}×)"


def _fmt_limit(t: dict[str, Any]) -> str:
    unit = t["unit"]
    if unit == "s":
        return f"{t['op']} {t['limit'] * 1e3:.0f} ms"
    if unit == "MiB":
        return f"{t['op']} {t['limit']:.0f} MiB"
    if unit == "µs":
        return f"{t['op']} {t['limit'] * 1e6:.0f} µs"
    if unit == "%":
        return f"{t['op']} {t['limit']:.0%}"
    if unit == "":
        return f"{t['op']} {t['limit']:g}"
    return f"{t['op']} {t['limit']}×"


def _short_target(t: dict[str, Any] | None) -> str:
    if t is None:
        return ""
    return f"{_fmt_limit(t)}: {_verdict(t)}"


def _header(results: dict[str, Any]) -> list[str]:
    meta = results["meta"]
    cfg = results["config"]
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    pinned = "client CPU 0, server CPU 1" if meta.get("pinned") else "not pinned (needs 2 CPUs)"
    lines = [
        f"Generated {meta['date']} by `{meta['command']}` "
        f"(mode **{cfg['mode']}**: {cfg['repeats']} run(s); HTTP n={cfg['n']} timed calls per "
        f"approach after {cfg['warmup']} warm-up; async n={cfg['async_n']}; signing "
        f"{cfg['sign_iterations']} iterations; import {cfg['import_samples']} sample(s)"
        + (
            f"; stream {cfg['stream_deltas']} deltas, {cfg['stream_iterations']} pass(es)"
            if "stream_deltas" in cfg
            else ""
        )
        + ").",
        "",
        f"**Machine:** {meta['cpu']}, {meta['cores']} cores, {meta['platform']}, "
        f"{meta['python']}; {pinned}; load average {meta['load_start']} at start, "
        f"{meta['load_end']} at end.",
        "",
        f"**Versions:** {versions}.",
    ]
    if cfg["mode"] == "quick":
        lines += [
            "",
            "> Quick mode checks that everything runs; its numbers are too small to judge.",
        ]
    return lines


def targets_table(results: dict[str, Any]) -> list[str]:
    lines = ["| target | measured median (min–max) | limit | result |", "|---|---|---|---|"]
    for t in results.get("targets", []):
        lines.append(f"| {t['title']} | {_fmt_value(t)} | {_fmt_limit(t)} | {_verdict(t)} |")
    return lines


def _ratio(row: dict[str, Any], other: str) -> str:
    got = row.get("ratios", {}).get(other)
    return fmt_ratio(got) if got else ""


def _sign_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    sign = results["sections"].get("sign")
    if not sign:
        return []
    lines = [
        "## 1. Signing step",
        "",
        "Time per call of a complete signing step (timestamp, body/query encoding, HMAC-SHA256, "
        "headers, URL). Ratios are per run against the case named in *floor*.",
        "",
        "| case | what is timed | iterations × runs | time per op, median (min–max) | "
        "vs floor | floor | vs ccxt | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    target_of = {"ours_sign_post": "sign_post", "ours_sign_get": "sign_get"}
    for name, c in sign["cases"].items():
        versus = next((o for o in c["ratios"] if o.startswith("ccxt")), None)
        lines.append(
            f"| `{name}` | {c['what']} | {c['iterations']} × {len(c['runs'])} | "
            f"{fmt_summary(c)} | {_ratio(c, c['floor']) if c['floor'] else '— (floor)'} | "
            f"{c['floor'] or ''} | {_ratio(c, versus) if versus else ''} | "
            f"{_short_target(targets.get(target_of.get(name, '')))} |"
        )
    return lines


def _sync_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    sync = results["sections"].get("sync")
    if not sync:
        return []
    lines = [
        "## 2. Sync calls over loopback (one keep-alive connection)",
        "",
        "Each call timed on its own; latency is the median of the per-run medians (min–max). "
        "Ratios are per run (this ÷ other); *ccxt ÷ this* is how many times faster than ccxt. "
        "The µs in brackets is the median per-run latency added over the http.client floor.",
    ]
    for op, data in sync.items():
        rows = data["rows"]
        lines += [
            "",
            f"### {data['title']}",
            "",
            "| approach | latency median (min–max) | p99 (median) | req/s median | "
            "vs http.client | vs raw urllib3 | ccxt ÷ this | target |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, row in rows.items():
            vs_hc = ""
            if "hc" in row["ratios"]:
                diff = row["ratios"]["hc"]["diff"]["median"]
                vs_hc = f"{fmt_ratio(row['ratios']['hc'])} ({diff * 1e6:+.0f} µs)"
            faster = ""
            if "ccxt" in rows and name != "ccxt":
                s = _per_run(rows["ccxt"]["runs"], row["runs"])
                faster = fmt_ratio(s) if s else ""
            target = ""
            if name == "ours" and op in ("wallet", "order"):
                target = (
                    f"{_short_target(targets.get(f'sync_{op}_vs_floor'))}; "
                    f"ccxt ÷ ours ≥ 2.3×: {_verdict(targets.get(f'sync_{op}_vs_ccxt'))}"
                )
            lines.append(
                f"| `{name}` {row['what']} | {fmt_summary(row)} | {fmt_time(row['p99']['median'])}"
                f" | {row['rate']['median']:.0f} | {vs_hc or '— (floor)'} | "
                f"{_ratio(row, 'urllib3')} | {faster} | {target} |"
            )
    return lines


def _async_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    aio = results["sections"].get("async")
    if not aio:
        return []
    lines = [
        "## 3. Async throughput, 32 calls in flight",
        "",
        "Requests per second over the whole batch (median of runs, min–max); ratios per run.",
    ]
    for op, data in aio.items():
        lines += [
            "",
            f"### {data['title']} — {data['n']} calls per run",
            "",
            "| approach | req/s median (min–max) | vs raw aiohttp | vs ccxt | target |",
            "|---|---|---|---|---|",
        ]
        for name, row in data["rows"].items():
            s = row
            lines.append(
                f"| `{name}` {row['what']} | {s['median']:.0f} ({s['min']:.0f}–{s['max']:.0f}) "
                f"| {_ratio(row, 'aiohttp') or '— (floor)'} | {_ratio(row, 'ccxt')} | "
                f"{_short_target(targets.get(f'async_{op}')) if name == 'ours' else ''} |"
            )
    return lines


def _parse_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    parse = results["sections"].get("parse")
    if not parse:
        return []
    lines = [
        "## 4. Parsing canned responses (JSON decoding included)",
        "",
        "| case | what is timed | iterations × runs | time per op, median (min–max) | vs floor | "
        "vs ccxt | target |",
        "|---|---|---|---|---|---|---|",
    ]
    target_of = {"ob_ours": "parse_ob", "tk_ours": "parse_tk", "mk_ours": "parse_mk"}
    for name, c in parse["cases"].items():
        versus = next((o for o in c["ratios"] if o.endswith("ccxt")), None)
        lines.append(
            f"| `{name}` | {c['what']} | {c['iterations']} × {len(c['runs'])} | {fmt_summary(c)}"
            f" | {_ratio(c, c['floor']) if c['floor'] else '— (floor)'} | "
            f"{_ratio(c, versus) if versus else ''} | "
            f"{_short_target(targets.get(target_of.get(name, '')))} |"
        )
    return lines


def _import_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    imp = results["sections"].get("import")
    if not imp:
        return []
    lines = [
        "## 5. Import time and memory (fresh `python -c` per sample)",
        "",
        "| target | statement | wall median (min–max) | minus bare interpreter | peak RSS | "
        "RSS minus bare | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in imp["rows"].items():
        w, r = row["wall"], row["rss"]
        wa, ra = row.get("wall_added"), row.get("rss_added")
        target = ""
        if name == "ours":
            target = (
                f"{_short_target(targets.get('import_time'))}; "
                f"{_short_target(targets.get('import_rss'))}"
            )
        lines.append(
            f"| `{name}` | `{row['stmt']}` | {w['median'] * 1e3:.0f} ms "
            f"({w['min'] * 1e3:.0f}–{w['max'] * 1e3:.0f}) | "
            f"{wa['median'] * 1e3:.0f} ms | {r['median']:.1f} MiB | {ra['median']:+.1f} MiB | "
            f"{target} |"
            if wa and ra
            else f"| `{name}` | `{row['stmt']}` | {w['median'] * 1e3:.0f} ms | | "
            f"{r['median']:.1f} MiB | | |"
        )
    return lines


def _stream_section(results: dict[str, Any], targets: dict[str, dict[str, Any]]) -> list[str]:
    stream = results["sections"].get("stream")
    if not stream:
        return []
    messages, cases = stream["messages"], stream["cases"]
    lines = [
        "## 6. Order book stream (Bybit orderbook.50 deltas)",
        "",
        f"One generated feed, 1 snapshot of {stream['depth']} levels a side + "
        f"{stream['deltas']:,} deltas of 1–6 level changes ({messages:,} messages, JSON text); "
        "every pass processes the whole feed from a fresh book. Both books are checked to end "
        "with the same levels before timing. Messages per second, median over runs (min–max); "
        "the ratio is per run (this msg/s ÷ pybit on_message msg/s; higher is better).",
        "",
        "| approach | what is timed | passes × runs | msg/s median (min–max) | "
        "vs pybit on_message | target |",
        "|---|---|---|---|---|---|",
    ]
    pybit = cases.get(STREAM_PYBIT)
    for name, c in cases.items():
        rate = summary([messages / t for t in c["runs"] if t > 0])
        vs = ""
        if pybit and name != STREAM_PYBIT:
            s = _per_run(pybit["runs"], c["runs"])
            vs = fmt_ratio(s) if s else ""
        lines.append(
            f"| `{name}` | {c['what']} | {c['iterations']} × {len(c['runs'])} | "
            f"{rate['median']:,.0f} ({rate['min']:,.0f}–{rate['max']:,.0f}) | "
            f"{vs or '— (reference)'} | "
            f"{_short_target(targets.get('stream_book')) if name == STREAM_OURS else ''} |"
        )
    return lines


def markdown(results: dict[str, Any]) -> str:
    targets = {t["id"]: t for t in results.get("targets", [])}
    lines = ["# Benchmarks: client cost against a canned Bybit server", ""]
    lines += _header(results)
    lines += ["", "## Targets", "", *targets_table(results)]
    for section in (
        _sign_section,
        _sync_section,
        _async_section,
        _parse_section,
        _import_section,
        _stream_section,
        report_fleet.section,
        report_venues.section,
    ):
        part = section(results, targets)
        if part:
            lines += ["", *part]
    notes = results.get("notes") or []
    lines += ["", "## Notes", ""]
    lines += [f"- {note}" for note in notes] or ["- none"]
    lines += ["", "## Method", "", *_method()]
    return "\n".join(lines) + "\n"


def _method() -> list[str]:
    return [
        "- Server: `benchmarks/server.py`, a bare asyncio HTTP/1.1 keep-alive server on "
        "127.0.0.1 in its own process, returning canned Bybit v5 envelopes (synthetic, "
        "shape-correct: 500 spot + 500 linear instruments, 50- and 200-level books, 2.2 KB "
        "wallet, 500 linear tickers) and checking every private call's `X-BAPI-SIGN` over the "
        "bytes received. No TLS: these are CPU costs per call.",
        "- Interleaving: every run times every approach once, order rotated per run; figures are "
        "medians over runs with (min–max), ratios are computed per run between approaches of "
        "the same run and then summarised the same way.",
        "- ccxt runs with `enableRateLimit=False`, `fetchCurrencies` off, markets (spot+linear) "
        "loaded from the canned server and the unified-account options preset, so no call makes "
        "hidden extra requests. Our limiter keeps its bookkeeping with its limits raised "
        "(`connect(..., rate_limits=benchmarks.bench_sync.UNTHROTTLED)`), so it never waits "
        "either.",
        "- Our clients are warmed up before timing: clock synced, linear markets loaded, the "
        "trading key checked (`/v5/user/query-api`, a key without withdrawal permission).",
        "- Micro benchmarks: `perf_counter_ns` around a loop of N calls after a 5 % warm-up, "
        "`gc.collect()` first, GC left on.",
        "- Import: a fresh `python -c STMT` per sample (warm `.pyc`), samples interleaved; wall "
        "time spawn-to-exit as seen by the parent. Peak RSS is the child's own `VmHWM`, which "
        "for a bare interpreter is ~10.6 MiB; `ru_maxrss` (the baseline's method) reads ~17.5 "
        "MiB there because Linux carries the launching process's peak across `exec`, so the "
        'baseline\'s "minus bare" figures are ~7 MiB lower than these for the same process.',
    ]


def update_readme(path: Path, results: dict[str, Any]) -> bool:
    """Replace the block between the bench markers in ``path``; False (and a warning) if absent."""
    if not path.exists():
        print(f"warning: {path} does not exist; --readme did nothing", file=sys.stderr)
        return False
    text = path.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < 0 or end < start:
        print(
            f"warning: {path} has no {START} … {END} block; --readme did nothing", file=sys.stderr
        )
        return False
    meta = results["meta"]
    block = [
        START,
        "",
        f"Measured {meta['date'][:10]} on {meta['cpu']} ({meta['cores']} cores), "
        f"{meta['python']}, by `python -m benchmarks` (mode {results['config']['mode']}); "
        "full tables in [benchmarks/RESULTS.md](benchmarks/RESULTS.md).",
        "",
        *targets_table(results),
        "",
        END,
    ]
    path.write_text(text[:start] + "\n".join(block) + text[end + len(END) :], encoding="utf-8")
    return True
