"""Decimal conversion at the edges: user amounts in (``to_decimal``), amounts out (``to_wire``),
and the exchange's numbers in (``dec``, ``opt_dec``: finite, below ``MAX_MAGNITUDE``)."""

from __future__ import annotations

from decimal import (
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    FloatOperation,
    InvalidOperation,
    Overflow,
)
from typing import Any

__all__ = ["MAX_MAGNITUDE", "ZERO", "dec", "exact", "opt_dec", "shown", "to_decimal", "to_wire"]

ZERO = Decimal(0)


def to_wire(value: Decimal | int | str) -> str:
    """Format an amount for the wire: plain digits, never an exponent, no invented zeros.

    ``Decimal("1E-18")`` becomes ``"0.000000000000000001"``, ``Decimal("1.50")`` stays
    ``"1.50"`` (the value's own digits), ``Decimal("1E+3")`` becomes ``"1000"`` and ``-0.0``
    becomes ``"0.0"``.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send a non-finite amount: {value}")
        # A negative zero keeps its digits but not its sign: "-0.00" means nothing to an exchange.
        return format(value.copy_abs() if value.is_zero() else value, "f")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return to_wire(to_decimal(value, "value"))
    raise TypeError(f"amount must be Decimal, int or str, not {type(value).__name__}")


def to_decimal(value: Any, name: str = "amount") -> Decimal:
    """Turn a user-given amount into a finite Decimal, or raise ``ValueError``/``TypeError``.

    Floats are accepted through their shortest repr (``0.1`` is ``Decimal("0.1")``, not the
    binary value), which is what the caller typed.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{name} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{name} must be a Decimal, int, float or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


#: Every number read from an exchange is below this in magnitude: far above any real price,
#: amount or balance, so that only garbage (``1e999``, a runaway exponent) is refused.
MAX_MAGNITUDE = Decimal("1e30")

# Reading exchange numbers: exact (no rounding at any length), malformed text refused whatever
# the caller's thread context says, magnitudes of 1e30 and above overflow (Emax 29), and a
# float handed to it raises instead of turning into its binary expansion.
_READING = Context(
    prec=MAX_PREC,
    Emax=29,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, Overflow, FloatOperation],
)
#: ``Decimal`` from an exchange's numeric string (or int), checked by ``_READING``; the hot
#: path of the readers in ``exchanges.parsing``. NaN and infinities still pass: callers check.
exact = _READING.create_decimal


def shown(value: Any) -> str:
    """A short, safe rendering of a wire value for error messages (never a container's repr)."""
    # A container's repr would recurse through a hostile body's nesting (RecursionError).
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, int) and abs(value) >= 10**40:
        return "a huge int"
    if value is None or isinstance(value, int | float | Decimal):
        return repr(value)
    if isinstance(value, list | dict | tuple):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def dec(value: Any) -> Decimal:
    """An exchange's number as a finite ``Decimal`` below 1e30 in magnitude, or ``ValueError``.

    Strings and ints are taken exactly; a float (a JSON number) through its shortest repr, so
    ``65000.1`` is ``Decimal("65000.1")``, never the binary value. Booleans, ``None``,
    containers, ``NaN``, infinities and magnitudes of 1e30 and above are refused.
    """
    try:
        if value.__class__ is str:
            result = exact(value)
        elif value.__class__ is float:
            result = exact(repr(value))
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            result = exact(value)
        else:
            raise ValueError(f"not a number: {shown(value)}")
    except Overflow:
        raise ValueError(f"a number of 1e30 or more in magnitude: {shown(value)}") from None
    except (ArithmeticError, TypeError):
        raise ValueError(f"not a number: {shown(value)}") from None
    if result.is_finite():
        return result
    raise ValueError(f"not a finite number: {shown(value)}")


def opt_dec(value: Any) -> Decimal | None:
    """An optional number: None for ``None`` and ``""``, else ``dec(value)`` (or ``ValueError``)."""
    # The parsers' hot path: a non-empty string, converted and checked inline.
    if value.__class__ is str:
        if not value:
            return None
        try:
            result = exact(value)
        except ArithmeticError:
            return dec(value)  # raises, with the message
        if result.is_finite():
            return result
        return dec(value)
    if value is None:
        return None
    return dec(value)
