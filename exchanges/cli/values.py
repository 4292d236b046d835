"""Option values checked while the command line is parsed: one line naming the option, exit 2.

Each parser raises ``argparse.ArgumentTypeError`` with what is wrong and an example of what to
pass; ``Parser.error`` prints argparse's message as one line (no usage block), so a bad value
never reaches the library as a Python error and never shows a traceback.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from exchanges.emulator.faults import FaultRule

__all__ = [
    "Parser",
    "UsageError",
    "admin_token",
    "api_key",
    "api_secret",
    "base_url",
    "exchange_list",
    "exchange_name",
    "faults",
    "host",
    "limit",
    "permissions",
    "port",
    "seed",
    "symbol",
    "timeframe",
]


class UsageError(Exception):
    """A value the command cannot use, found after parsing (exit status 2, one line)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: the command, the option, what to pass."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` as one line on stderr and exit with status 2."""
        text = message.removeprefix("argument ")
        if "e.g." not in text and "choose from" not in text:
            text += f" (see '{self.prog} --help')"
        self.exit(2, f"{self.prog}: {' '.join(text.split())}\n")


def _bad(value: str, problem: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(f"{_quote(value)}: {problem}")


def _quote(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _whole(value: str) -> int | None:
    text = value.strip()
    if not re.fullmatch(r"[+-]?\d{1,18}", text):
        return None
    return int(text)


def port(value: str) -> int:
    """A TCP port: 0 (any free one) to 65535."""
    number = _whole(value)
    if number is None or not 0 <= number <= 65535:
        raise _bad(value, "must be a whole number from 0 to 65535 (0: any free port), e.g. 8080")
    return number


def seed(value: str) -> int:
    """A random seed: any whole number."""
    number = _whole(value)
    if number is None:
        raise _bad(value, "must be a whole number, e.g. --seed 42")
    return number


def limit(value: str) -> int:
    """How many items to fetch: a whole number of at least 1."""
    number = _whole(value)
    if number is None or number < 1:
        raise _bad(value, "must be a whole number of at least 1, e.g. --limit 20")
    return number


def symbol(value: str) -> str:
    """A unified symbol (``BTC/USDT``, ``BTC/USDT:USDT``...), checked against the grammar only."""
    from exchanges.errors import BadSymbol
    from exchanges.symbols import parse_symbol

    try:
        parse_symbol(value)
    except BadSymbol:
        raise _bad(
            value,
            "not a unified symbol: BASE/QUOTE (spot), BASE/QUOTE:SETTLE (perpetual), "
            "BASE/QUOTE:SETTLE-YYMMDD (future), e.g. BTC/USDT or BTC/USDT:USDT",
        ) from None
    return value


_TIMEFRAME = re.compile(r"[1-9]\d{0,3}[smhdwM]")


def timeframe(value: str) -> str:
    """A timeframe: a count and a unit (s m h d w M), e.g. ``1m`` or ``4h``."""
    if not _TIMEFRAME.fullmatch(value):
        raise _bad(
            value,
            "a timeframe is a number and a unit (s, m, h, d, w, M for months), "
            "e.g. --timeframe 1m or 4h",
        )
    return value


def base_url(value: str) -> str:
    """An ``http://`` or ``https://`` URL with a host."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError as exc:
        raise _bad(value, f"{exc}, e.g. --base-url http://127.0.0.1:8080") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(
            value,
            "needs http:// or https:// and a host, e.g. --base-url http://127.0.0.1:8080",
        )
    return value


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")


def host(value: str) -> str:
    """An IP address or host name to listen on."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.fullmatch(value):
            raise _bad(value, "not an IP address or host name, e.g. --host 127.0.0.1") from None
    return value


def _token(option: str, example: str, *, secret: bool = False) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not value or not value.isprintable() or not value.isascii() or " " in value:
            # A secret is not echoed, even a malformed one: it may be a real secret mistyped.
            problem = f"must be non-empty printable ASCII without spaces, e.g. {option} {example}"
            if secret:
                raise argparse.ArgumentTypeError(problem)
            raise _bad(value, problem)
        return value

    parse.__doc__ = f"A value for {option}: printable ASCII, no spaces."
    return parse


#: ``--api-key`` of ``exchanges emulate``.
api_key = _token("--api-key", "my-test-key")
#: ``--api-secret`` of ``exchanges emulate``.
api_secret = _token("--api-secret", "my-test-secret", secret=True)
#: ``--admin-token`` of ``exchanges emulate``.
admin_token = _token("--admin-token", "my-admin-token", secret=True)


def permissions(value: str) -> str:
    """Comma-separated key scopes the emulator knows."""
    from exchanges.emulator.keys import SCOPES

    names = [p.strip() for p in value.split(",") if p.strip()]
    unknown = sorted(set(names) - SCOPES)
    if unknown or not names:
        what = f"unknown permission {', '.join(unknown)}" if unknown else "no permission"
        raise _bad(
            value, f"{what}; known: {', '.join(sorted(SCOPES))}, e.g. --permissions read,spot_trade"
        )
    return ",".join(names)


def faults(value: str) -> list[FaultRule]:
    """Fault rules (``kind[:probability][@path][*count][=param]``, comma-separated, or JSON)."""
    from exchanges.emulator.faults import parse_faults

    try:
        return parse_faults(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _known_exchange(name: str) -> bool:
    from exchanges.registry import known_exchanges

    return name in known_exchanges() or (name.startswith("ccxt:") and len(name) > len("ccxt:"))


def exchange_name(value: str) -> str:
    """An exchange the library knows: an adapter's name or ``ccxt:<id>``."""
    from exchanges.registry import known_exchanges

    name = value.strip().lower()
    if not _known_exchange(name):
        raise _bad(
            value,
            f"unknown exchange; use one of {', '.join(known_exchanges())} or ccxt:<id>, e.g. bybit",
        )
    return name


def exchange_list(value: str) -> list[str]:
    """Comma-separated exchange names, each known to the library."""
    from exchanges.registry import known_exchanges

    names = [n.strip().lower() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if not _known_exchange(n)]
    if unknown or not names:
        what = f"unknown exchange {', '.join(map(repr, unknown))}" if unknown else "no exchange"
        raise _bad(
            value,
            f"{what}; use {', '.join(known_exchanges())} or ccxt:<id>, comma-separated, "
            "e.g. --exchanges bybit,okx",
        )
    return list(dict.fromkeys(names))
