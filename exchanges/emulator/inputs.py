"""Decoding what a request sends, for the front-ends and the admin API: refusals, never crashes.

``json.loads`` recurses once per nesting level, so ``'[' * 100000`` raises ``RecursionError``
(not a ``ValueError``), ``1e999`` decodes to ``inf`` and a 5000-digit integer raises a
``ValueError`` about Python's digit limit. Every front-end decodes untrusted bodies, so they all
go through :func:`json_body`, which turns each of these into one :class:`BadInput` whose message
can be shown to the caller.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "BadInput", "integer", "json_body"]

#: Deepest nesting accepted; the deepest request any front-end takes (a batch) is 3 levels.
MAX_DEPTH = 32
#: Longest integer literal accepted in JSON; ids and timestamps are at most 19 digits.
MAX_DIGITS = 64

_INTEGER = re.compile(r"-?[0-9]+")


class BadInput(ValueError):
    """Input a request may not carry; the message says what is wrong, for the caller."""


def _too_deep(value: Any, limit: int) -> bool:
    # Iterative: the point is not to recurse over what the caller sent.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def _constant(name: str) -> Any:
    raise BadInput(f"{name} is not a JSON number; send a finite number (or a decimal string)")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadInput(f"the number {text[:40]} is out of range; send a decimal string")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise BadInput(f"an integer of {len(text)} digits is too long (at most {MAX_DIGITS})")
    return int(text)


def json_body(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode UTF-8 JSON from a request, or raise BadInput (too deep, not JSON, not finite)."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadInput("not UTF-8 text; send UTF-8 encoded JSON") from None
    else:
        text = raw
    too_deep = BadInput(f"the JSON is nested more than {max_depth} levels deep")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except BadInput:
        raise
    except RecursionError:
        # The C decoder gives up cleanly near the interpreter's recursion limit.
        raise too_deep from None
    except ValueError as exc:
        raise BadInput(f"not valid JSON ({exc})") from None
    if isinstance(value, dict | list) and _too_deep(value, max_depth):
        raise too_deep
    return value


def integer(value: object, *, digits: int = 19) -> int | None:
    """The int a decimal string (or an int) stands for, with at most ``digits`` digits, else None.

    Only ASCII digits count: ``str.isdigit`` accepts "²" and "١", which ``int`` then refuses or
    reads differently from what the exchange would.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**digits else None
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        return None
    if len(value.lstrip("-")) > digits:
        return None
    return int(value)
