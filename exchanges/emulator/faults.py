"""Fault injection: which request gets which failure, decided by rules and a seeded RNG.

Kinds (front-ends render the exchange-specific ones in their own envelopes):

===================  ==========================================================================
``latency``          wait ``param`` ms, then answer normally
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

import json
import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["KINDS", "FaultInjector", "FaultRule", "parse_faults"]

KINDS = frozenset(
    {
        "latency",
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
AFTER_KINDS = frozenset({"drop_after", "http_5xx_after", "server_error_after", "truncated"})


def _kind(_: Any, __: Any, value: str) -> None:
    if value not in KINDS:
        raise ValueError(f"unknown fault kind {value!r}; known: {', '.join(sorted(KINDS))}")


@attrs.frozen
class FaultRule:
    """Inject ``kind`` into requests under ``path`` with ``probability``, up to ``count`` times."""

    kind: str = attrs.field(validator=_kind)
    probability: float = 1.0
    path: str = ""
    method: str | None = None
    count: int | None = None
    param: int | None = None

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
        return [FaultRule(**item) for item in json.loads(spec)]
    rules = []
    for part in spec.split(","):
        text = part.strip()
        fields: dict[str, Any] = {}
        if "=" in text:
            text, param = text.split("=", 1)
            fields["param"] = int(param)
        if "*" in text:
            text, count = text.split("*", 1)
            fields["count"] = int(count)
        if "@" in text:
            text, path = text.split("@", 1)
            fields["path"] = path
        if ":" in text:
            text, probability = text.split(":", 1)
            fields["probability"] = float(probability)
        rules.append(FaultRule(kind=text, **fields))
    return rules


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
        parsed = [r if isinstance(r, FaultRule) else FaultRule(**r) for r in rules]
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
