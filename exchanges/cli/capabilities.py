"""``exchanges capabilities``: what each exchange offers, from the adapters' own declarations.

``--markdown`` prints the README's table of differences and ``--readme`` writes it into README.md
between the ``capabilities`` markers; ``tests/unit/test_capabilities.py`` fails when the README's
copy differs from it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exchanges.capabilities import capabilities_of, markdown, table
from exchanges.cli import values
from exchanges.cli.local import EXCHANGES
from exchanges.cli.options import formatter
from exchanges.cli.render import Output
from exchanges.cli.values import UsageError
from exchanges.errors import NotSupported

__all__ = ["END", "START", "add_parser", "replace_block", "run"]

START = "<!-- capabilities:start -->"
END = "<!-- capabilities:end -->"


def replace_block(text: str, block: str) -> str:
    """``text`` with what stands between ``START`` and ``END`` replaced by ``block``."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise UsageError(f"the file has no {START} ... {END} block to replace")
    return f"{head}{START}\n\n{block}\n{END}{tail}"


def run(args: argparse.Namespace, out: Output) -> int:
    """Print the table (or Markdown, or JSON) of the exchanges asked for."""
    names: list[str] = args.exchanges or list(EXCHANGES)
    try:
        columns = [capabilities_of(name) for name in names]
    except NotSupported as err:
        # Nothing was asked of an exchange: an adapter or ccxt missing here is a usage error.
        raise UsageError(str(err)) from None
    if args.json:
        out.json([caps.as_dict() for caps in columns])
        return 0
    if args.markdown:
        # Written as is: the text goes into README.md and must not depend on the terminal.
        sys.stdout.write(markdown(columns))
        return 0
    if args.readme is not None:
        path = Path(args.readme)
        try:
            path.write_text(replace_block(path.read_text("utf-8"), markdown(columns)), "utf-8")
        except OSError as err:
            raise UsageError(f"--readme: {err}") from None
        out.info(f"wrote the capabilities table into {path}")
        return 0
    data = table(columns)
    for title, rows in data.sections:
        out.section(title)
        out.table(["capability", *data.exchanges], rows)
    out.section("Notes and reasons")
    for number, text in enumerate(data.notes, 1):
        out.line(f"[{number}] {text}")
    return 0


def add_parser(commands: Any) -> None:
    """Register ``exchanges capabilities``."""
    parser = commands.add_parser(
        "capabilities",
        help="what each exchange offers (markets, orders, operations, streams, environments)",
        description="What each exchange offers through this library, from the adapters' own "
        "declarations (the same ones that make unsupported calls raise NotSupported): ✓ "
        "offered, — not offered, [n] a note or the reason below the table.",
        epilog="examples:\n"
        "  exchanges capabilities\n"
        "  exchanges capabilities binance ccxt:kraken\n"
        "  exchanges capabilities --readme        refresh the README's table",
        formatter_class=formatter,
    )
    parser.add_argument(
        "exchanges",
        metavar="EXCHANGE",
        nargs="*",
        type=values.exchange_name,
        help=f"bybit, binance, okx or ccxt:<id> (default: {' '.join(EXCHANGES)})",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    shape.add_argument("--json", action="store_true", help="print every entry as JSON")
    shape.add_argument(
        "--readme",
        nargs="?",
        const="README.md",
        metavar="PATH",
        help=f"write the Markdown table into PATH (default README.md) between {START} and {END}",
    )
    parser.set_defaults(handler=run)
