"""The unified symbol grammar.

=================================  ==========================
``BTC/USDT``                       spot
``BTC/USDT:USDT``                  linear perpetual
``BTC/USD:BTC``                    inverse perpetual
``BTC/USDT:USDT-251226``           dated future (YYMMDD)
``BTC/USDC:USDC-251226-100000-C``  option (strike, C or P)
=================================  ==========================
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

import attrs

from exchanges.decimals import to_wire
from exchanges.errors import BadSymbol

__all__ = ["Symbol", "parse_symbol"]

_CODE = r"[A-Za-z0-9]+"
_PATTERN = re.compile(
    rf"^(?P<base>{_CODE})/(?P<quote>{_CODE})"
    rf"(?::(?P<settle>{_CODE})"
    r"(?:-(?P<expiry>\d{6})"
    r"(?:-(?P<strike>\d+(?:\.\d+)?)-(?P<right>[CP]))?)?)?$"
)


@attrs.frozen
class Symbol:
    """A parsed unified symbol."""

    base: str
    quote: str
    settle: str | None = None
    expiry: str | None = None
    strike: Decimal | None = None
    right: str | None = None

    @property
    def kind(self) -> str:
        """``spot``, ``swap``, ``future`` or ``option``."""
        if self.settle is None:
            return "spot"
        if self.expiry is None:
            return "swap"
        return "option" if self.strike is not None else "future"

    @property
    def linear(self) -> bool | None:
        """True when settled in the quote currency; None for spot."""
        return None if self.settle is None else self.settle == self.quote

    @property
    def inverse(self) -> bool | None:
        """True when settled in the base currency; None for spot."""
        return None if self.settle is None else self.settle == self.base

    @property
    def expiry_date(self) -> date | None:
        """The expiry as a date (UTC), if any."""
        if self.expiry is None:
            return None
        return datetime.strptime(self.expiry, "%y%m%d").replace(tzinfo=UTC).date()

    def __str__(self) -> str:
        return _text(self)

    def _format(self) -> str:
        text = f"{self.base}/{self.quote}"
        if self.settle is not None:
            text += f":{self.settle}"
            if self.expiry is not None:
                text += f"-{self.expiry}"
                if self.strike is not None:
                    text += f"-{to_wire(self.strike)}-{self.right}"
        return text


@functools.lru_cache(maxsize=4096)
def _text(symbol: Symbol) -> str:
    return symbol._format()


def parse_symbol(text: str) -> Symbol:
    """Parse a unified symbol; raise ``BadSymbol`` saying what is wrong."""
    if not isinstance(text, str):
        raise TypeError(f"symbol must be a str, not {type(text).__name__}")
    return _parse(text)


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Symbol:
    # Symbols are immutable and a bot repeats the same few: parse each text once.
    match = _PATTERN.match(text)
    if match is None:
        raise BadSymbol(
            f"{text!r} is not a unified symbol",
            hint="Use BASE/QUOTE (spot), BASE/QUOTE:SETTLE (perpetual), "
            "BASE/QUOTE:SETTLE-YYMMDD (future) or BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P (option).",
        )
    expiry = match["expiry"]
    if expiry is not None:
        try:
            datetime.strptime(expiry, "%y%m%d")
        except ValueError:
            raise BadSymbol(f"{text!r} has an invalid expiry date {expiry!r} (YYMMDD)") from None
    strike = None
    if match["strike"] is not None:
        try:
            strike = Decimal(match["strike"])
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            raise BadSymbol(f"{text!r} has an invalid strike") from None
    return Symbol(
        base=match["base"].upper(),
        quote=match["quote"].upper(),
        settle=match["settle"].upper() if match["settle"] else None,
        expiry=expiry,
        strike=strike,
        right=match["right"],
    )
