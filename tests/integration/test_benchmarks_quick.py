"""``python -m benchmarks --quick`` runs end to end and reports every section.

No timing assertions: the machine running CI is shared and slow; this only checks that every
section ran and produced positive numbers, and that the report and README block get written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import report

REPO = Path(__file__).resolve().parents[2]
SECTIONS = ("sign", "sync", "async", "parse", "import", "stream", "fleet", "venues")


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench")
    json_path, md_path = out / "quick.json", out / "quick.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick",
         "--json-out", str(json_path), "--md-out", str(md_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=110,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(json_path.read_text()), md_path


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and value > 0


@pytest.mark.timeout(120)
def test_every_section_has_positive_numbers(quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    assert results["config"]["mode"] == "quick"
    sections = results["sections"]
    assert set(SECTIONS) <= set(sections)

    sign = sections["sign"]["cases"]
    for name in ("floor_raw_sign_post", "ours_sign_post", "ours_sign_get", "ccxt_bybit_sign_post"):
        assert _positive(sign[name]["median"]), name
    assert all(_positive(c["median"]) and c["runs"] for c in sign.values())

    for op in ("time", "ob", "wallet", "order"):
        rows = sections["sync"][op]["rows"]
        assert {"hc", "urllib3", "ours"} <= set(rows), op
        for name, row in rows.items():
            assert _positive(row["median"]) and _positive(row["rate"]["median"]), (op, name)

    for op in ("time", "wallet"):
        rows = sections["async"][op]["rows"]
        assert {"aiohttp", "ours"} <= set(rows), op
        assert all(_positive(row["median"]) for row in rows.values()), op

    parse = sections["parse"]["cases"]
    for name in ("ob_floor_json_decimal", "ob_ours", "tk_floor_json_decimal", "tk_ours",
                 "mk_floor_json_decimal", "mk_ours"):  # fmt: skip
        assert _positive(parse[name]["median"]), name

    rows = sections["import"]["rows"]
    for name in ("bare", "ours"):
        assert _positive(rows[name]["wall"]["median"]), name
        assert _positive(rows[name]["rss"]["median"]), name

    stream = sections["stream"]
    assert stream["messages"] == stream["deltas"] + 1 and stream["deltas"] > 0
    for name in ("ours: decode + apply", "ours: decode + apply + view", "ours: apply only",
                 "pybit: on_message", "pybit: delta handling only"):  # fmt: skip
        case = stream["cases"][name]
        assert _positive(case["median"]) and case["runs"], name
        if name != "pybit: on_message":
            assert _positive(case["ratios"]["pybit: on_message"]["median"]), name
    assert any(t["id"] == "stream_book" for t in results["targets"])

    fleet = sections["fleet"]
    for mode in ("sync", "async"):
        for op in ("time", "wallet", "order"):
            row = fleet["overhead"][mode][op]
            assert _positive(row["local"]["median"]) and _positive(row["fleet"]["median"])
    for run in ("fleet", "alone"):
        assert _positive(fleet["six"][run]["orders_per_s"]), run

    venues = sections["venues"]
    assert venues["messages"] == venues["deltas"] + 1 and venues["deltas"] > 0
    for venue in ("binance_spot", "binance_usdm", "okx", "bybit"):
        for who in ("ours", "ccxt.pro"):
            case = venues["cases"][f"{venue}: {who}"]
            assert _positive(case["median"]) and case["runs"], (venue, who)
        ours = venues["cases"][f"{venue}: ours"]
        assert _positive(ours["ratios"][f"{venue}: ccxt.pro"]["median"]), venue
    targets = {t["id"] for t in results["targets"]}
    assert {"venues_binance_spot", "venues_binance_usdm", "venues_okx"} <= targets

    # Every target got a number (whether it passes is not this test's business).
    assert results["targets"]
    for target in results["targets"]:
        assert isinstance(target.get("measured"), int | float), target["id"]


def test_markdown_report_written(quick: tuple[dict[str, Any], Path]) -> None:
    _, md_path = quick
    text = md_path.read_text()
    assert "## Targets" in text
    assert "PASS" in text or "MISS" in text
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7. Fleets", "## 8."):
        assert heading in text


def test_readme_block_replaced_only_between_markers(
    quick: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    results, _ = quick
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{report.START}\nold\n{report.END}\nafter\n")
    assert report.update_readme(readme, results)
    text = readme.read_text()
    assert text.startswith("# Title\n\nbefore\n") and text.endswith("after\n")
    assert "old" not in text and "| target |" in text

    plain = tmp_path / "PLAIN.md"
    plain.write_text("# no markers\n")
    assert not report.update_readme(plain, results)
    assert plain.read_text() == "# no markers\n"
    assert not report.update_readme(tmp_path / "missing.md", results)
