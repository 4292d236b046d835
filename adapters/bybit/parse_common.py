"""What Bybit's parsers share: reading a JSON value as text."""

from __future__ import annotations

from typing import Any

__all__ = ["text"]


def text(value: Any) -> str | None:
    """The value when it is text, else None."""
    # Never str() of a container: a hostile body nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else None
