"""Arguments shared by the commands that talk to an exchange, and the connection they describe."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import exchanges
from exchanges.cli import values
from exchanges.cli.local import unavailable
from exchanges.cli.render import Output
from exchanges.cli.values import UsageError
from exchanges.errors import NotSupported

__all__ = ["add_connection_arguments", "connect_from", "formatter"]


class _Formatter(argparse.HelpFormatter):
    """Wraps one-paragraph descriptions; keeps text with line breaks (the examples) as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


formatter = _Formatter


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """``EXCHANGE``, ``--env``, ``--base-url``, ``--region`` and ``--json``."""
    parser.add_argument(
        "exchange",
        metavar="EXCHANGE",
        type=values.exchange_name,
        help="bybit, binance, okx or ccxt:<id>",
    )
    parser.add_argument(
        "--env",
        choices=("mainnet", "testnet", "demo"),
        default="mainnet",
        help="the environment (default: mainnet); keys come from <EXCHANGE>[_TESTNET|_DEMO]"
        "_API_KEY and _API_SECRET",
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        type=values.base_url,
        help="override the host (an emulator, a proxy), e.g. http://127.0.0.1:8080",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="send the keys over a plain http:// --base-url that is not this machine",
    )
    parser.add_argument("--region", help="a regional host by name (e.g. Bybit: nl, eu, tr)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON on stdout (Decimals as strings)"
    )


def connect_from(args: argparse.Namespace, out: Output) -> exchanges.Exchange:
    """Connect as the arguments say, with keys from the environment; register them for redaction."""
    options: dict[str, Any] = {}
    if args.region:
        options["region"] = args.region
    missing = unavailable(args.exchange, emulator=False)
    if missing is not None:
        # Nothing was asked of the exchange: what was asked for cannot run here (exit 2).
        raise UsageError(str(missing))
    if args.allow_insecure_http:
        options["allow_insecure_http"] = True
    with warnings.catch_warnings(record=True) as said:
        # What connect() warns about (a half-set key in the environment) is for this user:
        # one line on stderr, not a Python warning with a file and line number.
        warnings.simplefilter("always")
        try:
            ex = exchanges.connect(args.exchange, env=args.env, base_url=args.base_url, **options)
        except NotSupported as err:
            # connect() sends nothing: an environment or region the exchange lacks is a usage
            # error, not an answer from the exchange.
            where = "--region: " if args.region and "region" in err.message else ""
            raise UsageError(f"{where}{err}") from None
    for warning in said:
        out.info(f"warning: {warning.message}")
    out.protect(ex.session.credentials)
    out.protect(ex.session.trade_credentials)
    return ex
