"""Column widths that fit a table into the terminal without splitting a value across lines.

A cell of a *value* column (a symbol, an id, a number, a time) is never broken: its column is as
wide as its widest cell. Only *text* columns (findings, messages, descriptions) and headers wrap,
and only between words. When that is not enough, in this order: the gaps between columns narrow,
numbers lose the trailing zeros of their fraction (the same value, shorter), and then the
table is printed in parts, each repeating the key column (the symbol) so every row stays readable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs
from rich.cells import cell_len

__all__ = ["WIDE_GAP", "Part", "Plan", "plan", "trim_number"]

#: Columns apart by a space, a separator and a space; the narrow layout drops one space.
WIDE_GAP = 3
_NARROW_GAP = 2

_TRAILING_ZEROS = re.compile(r"[+-]?\d+\.\d*0")


@attrs.frozen
class Part:
    """Some of the table's columns (by index) with the width of each, printed as one table."""

    columns: tuple[int, ...]
    widths: tuple[int, ...]


@attrs.frozen
class Plan:
    """How to print a table: its parts, the gap between columns and the cells to print."""

    parts: tuple[Part, ...]
    gap: int
    rows: tuple[tuple[str, ...], ...]


def trim_number(word: str) -> str:
    """``"0.01000000"`` → ``"0.01"``, ``"5.0"`` → ``"5"``; anything else unchanged."""
    if not _TRAILING_ZEROS.fullmatch(word):
        return word
    return word.rstrip("0").rstrip(".")


def _trim_cell(text: str) -> str:
    # Word by word, so "0.00001538 BTC" and "64999.98000000 / 65000.02000000" shrink too.
    return "\n".join(
        " ".join(trim_number(word) for word in line.split(" ")) for line in text.split("\n")
    )


def _line_width(text: str) -> int:
    return max((cell_len(line) for line in text.split("\n")), default=0)


def _word_width(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


@attrs.frozen
class _Column:
    natural: int
    minimum: int


def _measure(header: str, cells: Iterable[str], text: bool) -> _Column:
    cells = list(cells)
    natural = max([_line_width(header), *(_line_width(c) for c in cells)])
    measure = _word_width if text else _line_width
    minimum = max([_word_width(header), *(measure(c) for c in cells)])
    return _Column(natural, minimum)


def _fit(columns: Sequence[_Column], gap: int, width: int) -> tuple[int, ...] | None:
    """Widths within ``width`` (natural when they fit, else the widest shrunk first)."""
    room = width - gap * (len(columns) - 1)
    widths = [c.natural for c in columns]
    if sum(c.minimum for c in columns) > room:
        return None
    excess = sum(widths) - room
    while excess > 0:
        # Narrow the widest column that can still give a character up.
        index = max(
            (i for i, c in enumerate(columns) if widths[i] > c.minimum), key=lambda i: widths[i]
        )
        widths[index] -= 1
        excess -= 1
    return tuple(widths)


def plan(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    width: int,
    text: Iterable[int] = (),
    keys: Iterable[int] = (0,),
) -> Plan:
    """Lay the table out in ``width`` columns; ``text`` columns may wrap between words."""
    wrapping = set(text)
    key_columns = [k for k in keys if k < len(headers)]
    given = tuple(tuple(row) for row in rows)
    trimmed = tuple(tuple(_trim_cell(value) for value in row) for row in given)
    every = tuple(range(len(headers)))
    for gap, cells in ((WIDE_GAP, given), (_NARROW_GAP, given), (_NARROW_GAP, trimmed)):
        measured = [_measure(headers[i], (row[i] for row in cells), i in wrapping) for i in every]
        widths = _fit(measured, gap, width)
        if widths is not None:
            return Plan((Part(every, widths),), gap, cells)
    # Too wide even so: print it in parts, the key column(s) first in each.
    parts: list[Part] = []
    current: list[int] = list(key_columns)
    for index in every:
        if index in key_columns:
            continue
        if _fit([measured[i] for i in [*current, index]], _NARROW_GAP, width) is not None:
            current.append(index)
            continue
        if len(current) > len(key_columns):
            parts.append(_part(current, measured, width))
        current = [*key_columns, index]
        if _fit([measured[i] for i in current], _NARROW_GAP, width) is None:
            # Not even beside the key: alone (a single value wider than the screen folds).
            current = [index]
    if current:
        parts.append(_part(current, measured, width))
    return Plan(tuple(parts), _NARROW_GAP, trimmed)


def _part(columns: Sequence[int], measured: Sequence[_Column], width: int) -> Part:
    chosen = [measured[i] for i in columns]
    widths = _fit(chosen, _NARROW_GAP, width) or tuple(min(c.natural, width) for c in chosen)
    return Part(tuple(columns), widths)
