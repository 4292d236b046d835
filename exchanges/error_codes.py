"""Errors built from an adapter's table of native result codes.

Each adapter keeps its own table (code -> class, hint, retryable); what is built from an entry,
or from a code the table lacks, is the same for every exchange.
"""

from __future__ import annotations

from typing import Any

from exchanges.errors import ExchangeError, RateLimitExceeded

__all__ = ["Entry", "listed_code", "unlisted_code"]

#: A table entry: the class, its hint (None: the class default), retryable (None: the default).
Entry = tuple[type[ExchangeError], str | None, bool | None]


def unlisted_code(
    message: str,
    *,
    exchange: str,
    venue: str,
    code: str | int,
    http_status: int | None,
    endpoint: str | None,
) -> ExchangeError:
    """The error for a code the adapter's table lacks: the exchange's own code and message."""
    return ExchangeError(
        message,
        exchange=exchange,
        code=code,
        http_status=http_status,
        endpoint=endpoint,
        hint=f"This {venue} code is not in the library's table; the message is {venue}'s own.",
    )


def listed_code(
    cls: type[ExchangeError],
    message: str,
    *,
    exchange: str,
    code: str | int,
    hint: str | None,
    retryable: bool | None,
    http_status: int | None,
    endpoint: str | None,
    retry_after: float | None,
) -> ExchangeError:
    """The error of a table entry's class; a rate limit also carries ``retry_after``."""
    kwargs: dict[str, Any] = {
        "exchange": exchange,
        "code": code,
        "hint": hint,
        "retryable": retryable,
        "http_status": http_status,
        "endpoint": endpoint,
    }
    if issubclass(cls, RateLimitExceeded):
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)
