"""The repository's documents stand on their own: a clone has nothing beside it to point at.

Sources are cited as the exchanges' own documentation (URL and section title), never as files
outside the repository or as section numbers of notes a user does not have; and the links of the
README and of ``docs/`` lead to files that exist.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Built from parts so that this file does not match itself.
OUTSIDE = ("../" + "shared").encode()
SECTION_SIGN = "\N{SECTION SIGN}"

_FENCED = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _tracked_files() -> list[Path]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [
        ROOT / name for name in listed.split("\0") if name and not name.startswith("cassettes/")
    ]


def test_no_tracked_file_points_outside_the_repository() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in _tracked_files()
        if path.is_file() and OUTSIDE in path.read_bytes()
    ]
    assert offenders == [], f"these files cite {OUTSIDE.decode()}: {offenders}"


def test_no_section_numbers_in_library_code() -> None:
    # Comments included: a section sign here cites notes that ship with no clone, and the
    # simplest rule that keeps error messages and hints free of them is none at all.
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("exchanges", "adapters")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SECTION_SIGN in line
    ]
    assert offenders == [], "cite the exchange's docs by URL and section title:\n" + "\n".join(
        offenders
    )


def _links(markdown: str) -> list[str]:
    text = _CODE_SPAN.sub("", _FENCED.sub("", markdown))
    return _INLINE_LINK.findall(text) + _REFERENCE_LINK.findall(text)


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_documents_exist() -> None:
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert (ROOT / "docs" / "guarantees.md").is_file()


@pytest.mark.parametrize("document", _documents(), ids=lambda path: path.name)
def test_relative_links_lead_to_files(document: Path) -> None:
    broken = []
    for target in _links(document.read_text(encoding="utf-8")):
        if _SCHEME.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if not (document.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{document.relative_to(ROOT)} links to missing files: {broken}"


def test_the_link_reader_finds_links() -> None:
    # Guards the checks above against a pattern that silently matches nothing.
    sample = (
        'See [a](docs/a.md#part) and ![b](<img/b.png> "title").\n'
        "```\n[not](a-link.md)\n```\n"
        "Code `[nor](this.md)`.\n"
        "[ref]: other.md\n"
    )
    assert _links(sample) == ["docs/a.md#part", "img/b.png", "other.md"]
