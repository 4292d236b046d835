"""Fault injection: which request gets which failure, decided by rules and a seeded RNG.

Kinds (front-ends render the exchange-specific ones in their own envelopes):

===================  ==========================================================================
``latency``          wait ``param`` ms, then answer normally
``latency_after``    process the request, then wait ``param`` ms before answering (a slow
                     answer to an order already committed)
``drop_before``      reset the connection without processing the request
``drop_after``       process the request (an order is committed), then reset the connection
``http_5xx``         answer an HTML error page with status ``param`` (default 502), unprocessed
``http_5xx_after``   process the request, then answer the HTML error page
``server_error``     the exchange's "internal error" envelope (Bybit 10016), unprocessed
``server_error_after``  process, then answer that envelope
``rate_limit``       the exchange's rate-limit envelope (Bybit 10006), unprocessed
``html_403``         an HTML 403 page (what a WAF or an IP ban sends), unprocessed
``truncated``        process, then send only the first half of the JSON body
``malformed``        answer 200 with a body that is not JSON, unprocessed
``empty``            answer 200 with an empty body, unprocessed
===================  ==========================================================================

A rule matches a request by path prefix (and optionally method), fires with ``probability``
and at most ``count`` times. The first rule that fires wins. The same seed and the same
sequence of requests give the same faults.
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from exchanges.emulator.inputs import integer, json_body

__all__ = ["KINDS", "FaultInjector", "FaultRule", "parse_faults"]

KINDS = frozenset(
    {
        "latency",
        "latency_after",
        "drop_before",
        "drop_after",
        "http_5xx",
        "http_5xx_after",
        "server_error",
        "server_error_after",
        "rate_limit",
        "html_403",
        "truncated",
        "malformed",
        "empty",
    }
)
#: Kinds that let the request be processed before the failure shows.
AFTER_KINDS = frozenset(
    {"drop_after", "http_5xx_after", "latency_after", "server_error_after", "truncated"}
)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(_: Any, __: Any, value: str) -> None:
    if not isinstance(value, str) or value not in KINDS:
        raise ValueError(
            f"unknown fault kind {_show(value)}; known: {', '.join(sorted(KINDS))}, "
            "e.g. latency:0.1=300"
        )


def _probability(_: Any, __: Any, value: float) -> None:
    # ``not 0 <= value <= 1`` also refuses NaN.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"probability must be a number from 0 to 1, got {_show(value)}")


def _count(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(
            f"{attribute.name} must be a whole number >= 0 or null, got {_show(value)}"
        )


def _text(_: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if not isinstance(value, str) and (value is not None or attribute.name == "path"):
        raise ValueError(f"{attribute.name} must be a string, got {_show(value)}")


@attrs.frozen
class FaultRule:
    """Inject ``kind`` into requests under ``path`` with ``probability``, up to ``count`` times."""

    kind: str = attrs.field(validator=_kind)
    probability: float = attrs.field(default=1.0, validator=_probability)
    path: str = attrs.field(default="", validator=_text)
    method: str | None = attrs.field(default=None, validator=_text)
    count: int | None = attrs.field(default=None, validator=_count)
    param: int | None = attrs.field(default=None, validator=_count)

    @classmethod
    def from_json(cls, item: object) -> FaultRule:
        """A rule from its JSON object (as ``to_json`` writes it); ValueError says what is wrong."""
        if not isinstance(item, Mapping):
            raise ValueError(f"a fault rule must be a JSON object, got {_show(item)}")
        unknown = set(item) - set(attrs.fields_dict(cls))
        if unknown:
            known = ", ".join(attrs.fields_dict(cls))
            raise ValueError(f"unknown fault rule field(s) {sorted(unknown)}; known: {known}")
        if "kind" not in item:
            raise ValueError("a fault rule needs a kind")
        return cls(**item)

    def __attrs_post_init__(self) -> None:
        # The param is the answer's HTTP status; aiohttp cannot send anything else.
        if (
            self.kind.startswith("http_5xx")
            and self.param is not None
            and not 100 <= self.param <= 599
        ):
            raise ValueError(f"{self.kind}'s param is an HTTP status, got {self.param}")

    def matches(self, method: str, path: str) -> bool:
        """True when the rule applies to this request line."""
        return path.startswith(self.path) and (self.method is None or self.method == method)

    def to_json(self) -> dict[str, Any]:
        """The rule as JSON for the admin API."""
        return attrs.asdict(self)


def parse_faults(spec: str) -> list[FaultRule]:
    """Parse ``kind[:probability][@path][*count][=param]`` rules separated by commas, or JSON.

    Example: ``latency:0.1=300,drop_after:0.05@/v5/order/create*10``.
    """
    spec = spec.strip()
    if not spec:
        return []
    if spec.startswith("["):
        example = 'e.g. [{"kind": "latency", "probability": 0.1, "param": 300}]'
        try:
            items = json_body(spec)
        except ValueError as exc:
            raise ValueError(
                f"{exc}; a JSON fault spec is a list of rule objects, {example}"
            ) from None
        if not isinstance(items, list):
            raise ValueError(f"a JSON fault spec must be a list of rule objects, {example}")
        return [FaultRule.from_json(item) for item in items]
    return [_parse_rule(part.strip()) for part in spec.split(",")]


def _parse_rule(text: str) -> FaultRule:
    rule = text
    fields: dict[str, Any] = {}
    try:
        if "=" in text:
            text, param = text.split("=", 1)
            fields["param"] = _whole(
                param,
                "the param after '=' (milliseconds for latency, an HTTP status for http_5xx)",
                "latency:0.1=300",
            )
        if "*" in text:
            text, count = text.split("*", 1)
            fields["count"] = _whole(count, "the count after '*'", "drop_after@/v5/order/create*3")
        if "@" in text:
            text, path = text.split("@", 1)
            fields["path"] = path
        if ":" in text:
            text, probability = text.split(":", 1)
            try:
                chance = float(probability)
            except ValueError:
                chance = math.nan
            fields["probability"] = chance
            # ``not 0 <= chance <= 1`` also refuses NaN, what a non-number becomes above.
            if not 0 <= chance <= 1:
                raise ValueError(
                    "the probability after ':' must be a number between 0 and 1, "
                    "e.g. latency:0.1=300"
                )
        return FaultRule(kind=text, **fields)
    except ValueError as exc:
        shape = "" if "e.g." in str(exc) else " (format: kind[:probability][@path][*count][=param])"
        raise ValueError(f"fault rule {_show(rule)}: {exc}{shape}") from None


def _whole(text: str, name: str, example: str) -> int:
    value = integer(text.strip(), digits=18)
    if value is None or value < 0:
        raise ValueError(f"{name} must be a whole number, got {_show(text)}, e.g. {example}")
    return value


class FaultInjector:
    """Decides, per request, which fault (if any) to inject; counts what it injected."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._fired: Counter[int] = Counter()
        self._rng = random.Random(seed)
        self._seed = seed
        self.injected: Counter[str] = Counter()

    def set(self, rules: Iterable[FaultRule | Mapping[str, Any]], seed: int | None = None) -> None:
        """Replace the rules (and reseed when ``seed`` is given)."""
        parsed = [r if isinstance(r, FaultRule) else FaultRule.from_json(r) for r in rules]
        with self._lock:
            self._rules = parsed
            self._fired.clear()
            if seed is not None:
                self._seed = seed
            self._rng = random.Random(self._seed)

    def clear(self) -> None:
        """Remove every rule (the counts of what was injected stay)."""
        with self._lock:
            self._rules = []
            self._fired.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """The current rules."""
        return list(self._rules)

    def choose(self, method: str, path: str) -> FaultRule | None:
        """The fault for this request, or None."""
        if not self._rules:
            return None
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.matches(method, path):
                    continue
                if rule.count is not None and self._fired[index] >= rule.count:
                    continue
                # Draw for every matching rule so the sequence depends only on the requests.
                if self._rng.random() < rule.probability:
                    self._fired[index] += 1
                    self.injected[rule.kind] += 1
                    return rule
        return None
