"""Decimal conversion at the edges: one way in (``to_decimal``), one way out (``to_wire``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["ZERO", "dec", "opt_dec", "to_decimal", "to_wire"]

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


def dec(text: str) -> Decimal:
    """Parse an exchange's numeric string (the parsers' hot path: no checks beyond Decimal's)."""
    return Decimal(text)


def opt_dec(text: Any) -> Decimal | None:
    """Parse an optional numeric field: ``""``, ``None`` and non-numbers become ``None``."""
    # The parsers' hot path: non-empty strings first, without the general type checks.
    if text.__class__ is str:
        if not text:
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
        return result if result.is_finite() else None
    if text is None or isinstance(text, bool):
        return None
    try:
        result = Decimal(text) if isinstance(text, int) else Decimal(str(text))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return result if result.is_finite() else None
