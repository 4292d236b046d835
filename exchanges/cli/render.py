"""What the command prints: rich tables and sections on stdout, progress and errors on stderr, JSON.

Everything printed goes through ``Output.redact`` first. Exchanges echo what was signed in error
messages (Bybit's ``origin_string[...]``); the pipeline already masks the key in the errors it
raises, and the command masks again whatever it prints, so no other path (a ``ValueError``
quoting an argument, a message built elsewhere) can show a key unmasked or any secret.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs
from rich import box
from rich.console import Console
from rich.live import Live
from rich.padding import Padding
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from exchanges.cli.layout import WIDE_GAP, plan
from exchanges.credentials import Credentials
from exchanges.decimals import to_wire

__all__ = ["Output", "cell", "fmt_time", "short_id", "to_jsonable"]

_MISSING = "—"


def to_jsonable(value: Any) -> Any:
    """Models, Decimals and containers as plain JSON values; Decimals become exact strings."""
    if isinstance(value, Decimal):
        return to_wire(value)
    if attrs.has(type(value)):
        # ``raw`` is the exchange's own JSON: an escape hatch, not part of the normalised output.
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if f.name != "raw" and not f.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def fmt_time(ms: int | None) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DD HH:MM:SS.mmm`` (UTC)."""
    if ms is None:
        return _MISSING
    stamp = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


def short_id(value: str | None, keep: int = 8) -> str:
    """An order or fill id shortened for a table (full ids are in ``--json``)."""
    if value is None:
        return _MISSING
    return value if len(value) <= keep + 1 else f"{value[:keep]}…"


def cell(value: Any) -> str:
    """One table cell: Decimals exact without exponent, None as a dash, bools as yes/no."""
    if value is None:
        return _MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(str(v) for v in value)) or _MISSING
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or _MISSING
    return str(value)


class Output:
    """The command's two streams: results on stdout (tables or JSON), the rest on stderr."""

    def __init__(self) -> None:
        # markup=False: exchange messages contain brackets ("[POST /v5/order/create]") that
        # rich would otherwise swallow as style tags.
        self.console = Console(highlight=False, markup=False, emoji=False)
        self.err = Console(stderr=True, highlight=False, markup=False, emoji=False)
        self._replacements: dict[str, str] = {}

    # -- secrets ---------------------------------------------------------------------------

    def protect(self, credentials: Credentials | None) -> None:
        """Remember a key pair so that any text printed later shows the key masked, no secret."""
        if credentials is None:
            return
        self._add(credentials.api_key, credentials.masked_key)
        for secret in (credentials.secret, credentials.private_key, credentials.passphrase):
            if secret is not None:
                self._add(secret.reveal(), "<redacted>")

    def _add(self, raw: str, replacement: str) -> None:
        # A 1-3 character "secret" would mangle every word that contains it; such values are
        # not real keys, and the exchange refuses them anyway.
        if len(raw) >= 4:
            self._replacements[raw] = replacement

    def redact(self, text: str) -> str:
        """``text`` with every protected key masked and every protected secret removed."""
        # Longest first, so a key that contains another protected string is replaced whole.
        for raw in sorted(self._replacements, key=len, reverse=True):
            text = text.replace(raw, self._replacements[raw])
        return text

    # -- stdout ----------------------------------------------------------------------------

    def json(self, payload: Any) -> None:
        """Write ``payload`` as JSON on stdout (and nothing else)."""
        text = json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False)
        sys.stdout.write(self.redact(text) + "\n")
        sys.stdout.flush()

    def line(self, text: str = "", style: str | None = None, indent: int = 0) -> None:
        """A paragraph on stdout, wrapped at word boundaries to the terminal's width."""
        body = Text(self.redact(text), style=style or "")
        self.console.print(Padding(body, (0, 0, 0, indent)) if indent else body)

    def section(self, title: str) -> None:
        """A heading rule that starts a section."""
        self.console.print()
        self.console.rule(Text(self.redact(title), style="bold"), align="left")

    def ok(self, text: str) -> None:
        """A line marking something that went as expected."""
        self.line(f"✓ {text}", style="green")

    def bad(self, text: str) -> None:
        """A line marking something that did not go as expected."""
        self.line(f"✗ {text}", style="red")

    def note(self, text: str) -> None:
        """A dim explanatory line."""
        self.line(text, style="dim")

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        right: Iterable[int] = (),
        text: Iterable[int] = (),
    ) -> None:
        """A table fitted to the terminal; ``right`` columns align right, ``text`` ones may wrap.

        Cells go through ``cell`` and ``redact``. Only the ``text`` columns (prose) and headers
        wrap, between words: symbols, ids and numbers are never split (see ``layout``).
        """
        if title is not None:
            self.console.print(Text(self.redact(title), style="table.title"))
        for index, renderable in enumerate(self.make_tables(headers, rows, right=right, text=text)):
            if index:
                self.console.print()
            self.console.print(renderable)

    def make_tables(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        right: Iterable[int] = (),
        text: Iterable[int] = (),
        width: int | None = None,
    ) -> list[Table]:
        """The table as printed: one part, or several when it is too wide (see ``layout``)."""
        cells = [[self.redact(cell(value)) for value in row] for row in rows]
        layout = plan(
            headers, cells, width=self.console.width if width is None else width, text=text
        )
        aligned = set(right)
        tables = []
        for part in layout.parts:
            table = Table(
                box=box.SIMPLE_HEAD,
                show_edge=False,
                pad_edge=False,
                padding=(0, 1) if layout.gap == WIDE_GAP else (0, 1, 0, 0),
            )
            for index, column_width in zip(part.columns, part.widths, strict=True):
                table.add_column(
                    headers[index],
                    justify="right" if index in aligned else "left",
                    overflow="fold",
                    width=column_width,
                )
            for row in layout.rows:
                table.add_row(*(Text(row[index]) for index in part.columns))
            tables.append(table)
        return tables

    # -- stderr ----------------------------------------------------------------------------

    def error(self, text: str) -> None:
        """One readable error line on stderr."""
        self.err.print(Text(self.redact(text), style="red"), soft_wrap=True)

    def info(self, text: str) -> None:
        """A line on stderr (what is happening, not a result)."""
        self.err.print(Text(self.redact(text), style="dim"), soft_wrap=True)

    @contextlib.contextmanager
    def progress(self, text: str) -> Iterator[None]:
        """A spinner on stderr while the block runs (only on a terminal, never on stdout)."""
        if not self.err.is_terminal:
            yield
            return
        spinner = Spinner("dots", Text(self.redact(text)))
        # No redirection: rich would otherwise route stdout through stderr while spinning, and
        # results must stay on stdout even when it is a file and stderr a terminal.
        with Live(
            spinner,
            console=self.err,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
            refresh_per_second=12.5,
        ):
            yield
