"""Small readers every adapter's parsers share: required fields, numbers, times, book levels.

Each raises ``BadResponse`` naming the exchange when an answer lacks what its API documents,
so a malformed answer never surfaces as ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchanges.decimals import opt_dec
from exchanges.errors import BadResponse

__all__ = ["iso_ms", "levels", "ms", "need", "need_decimal", "yymmdd"]


def need(item: Mapping[str, Any], name: str, exchange: str) -> Any:
    """A field that must be present and non-empty."""
    value = item.get(name)
    if value is None or value == "":
        raise BadResponse(f"a {exchange} item lacks {name!r}", exchange=exchange)
    return value


def need_decimal(item: Mapping[str, Any], name: str, exchange: str) -> Decimal:
    """A numeric field that must be present."""
    value = opt_dec(item.get(name))
    if value is None:
        raise BadResponse(f"a {exchange} item lacks the number {name!r}", exchange=exchange)
    return value


def ms(value: Any) -> int | None:
    """A time in ms, or None for absent, empty or zero values (exchanges' way of saying none)."""
    if isinstance(value, bool) or value in (None, "", 0, "0"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def iso_ms(value: Any) -> int | None:
    """An ISO-8601 time as ms; None when absent, unparsable or at the epoch."""
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    result = int(stamp.timestamp() * 1000)
    return result if result > 0 else None


def yymmdd(stamp_ms: int) -> str:
    """The UTC date of a time in ms, as unified symbols write expiries."""
    return datetime.fromtimestamp(stamp_ms / 1000, tz=UTC).strftime("%y%m%d")


def levels(rows: Any, exchange: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """Order book rows ``[price, size, ...]`` as (price, size) Decimal pairs, order kept."""
    if not isinstance(rows, list):
        raise BadResponse("order book levels are not a list", exchange=exchange)
    try:
        return tuple([(Decimal(row[0]), Decimal(row[1])) for row in rows])
    except (ValueError, TypeError, IndexError, ArithmeticError):
        raise BadResponse(
            "order book levels are not [price, size, …] strings", exchange=exchange
        ) from None
