"""The ``exchanges`` command: demo, emulator, data, key audit, comparison, capabilities.

``rich`` (the ``cli`` extra) is imported only here, when the command runs, so ``import exchanges``
never pays for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]

_EPILOG = """\
examples:
  exchanges demo                                  a guided tour, offline, on the emulator
  exchanges emulate bybit --port 8080             a local Bybit for your own bot
  exchanges ticker bybit BTC/USDT --env testnet   market data
  exchanges balance bybit --env testnet --json    account data (keys from BYBIT_TESTNET_API_KEY)
  exchanges key audit bybit                       exit status 3 when the key can withdraw
  exchanges compare --env local                   one scenario on every exchange, side by side
  exchanges capabilities                          what each exchange offers, and why not
  exchanges fleet status --fleet redis://host/0   shared budgets and orders in doubt

Run 'exchanges COMMAND --help' for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from exchanges import __version__
    from exchanges.cli import capabilities, compare, data, demo, emulate, fleet, keys
    from exchanges.cli.options import formatter
    from exchanges.cli.values import Parser

    parser = Parser(
        prog="exchanges",
        description="One interface for crypto exchanges, exact on the wire.",
        epilog=_EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"exchanges {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo.add_parser(commands)
    emulate.add_parser(commands)
    data.add_parsers(commands)
    keys.add_parser(commands)
    compare.add_parser(commands)
    capabilities.add_parser(commands)
    fleet.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 exchange error, 2 usage, 3 audit)."""
    try:
        import rich  # noqa: F401
    except ImportError:
        print(
            'exchanges: the command needs the "cli" extra: pip install "exchanges[cli]"',
            file=sys.stderr,
        )
        return 2
    from exchanges.cli.render import Output
    from exchanges.cli.values import UsageError
    from exchanges.errors import ExchangeError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    out = Output()
    try:
        status: int = args.handler(args, out)
    except UsageError as err:
        out.error(f"exchanges {args.command}: {err}")
        return 2
    except ExchangeError as err:
        out.error(str(err))
        return 1
    except ValueError as err:
        # Bad user input that the library rejects before any request (environment, faults...).
        out.error(f"exchanges {args.command}: {err}")
        return 2
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    return status
