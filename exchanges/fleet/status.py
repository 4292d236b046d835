"""What a fleet's Redis holds, read for people: each budget's use and the orders in doubt.

``exchanges fleet status`` prints it. Reading never changes the fleet's state. Budgets are read
on Redis's own clock (``TIME``), as the fleet books them, so the figures do not depend on this
machine's clock.
"""

from __future__ import annotations

from typing import Any

import attrs

from exchanges.fleet.keys import PREFIX
from exchanges.fleet.ledger import InDoubt

__all__ = ["AccountStatus", "BudgetUse", "read_status"]

#: At most this many keys are read: a status is a glance, not an export.
MAX_KEYS = 10_000


@attrs.frozen
class BudgetUse:
    """One shared limit: what it allows and how much of its current window is booked."""

    key: str
    limit: int | None
    period_ms: float | None
    #: Bookings in the rolling window ending now (sent, or booked to be sent shortly).
    used: int
    #: Milliseconds until an exchange-ordered block ends (0: none).
    blocked_ms: int

    @property
    def share(self) -> float | None:
        """``used / limit``, or None when the limit is not recorded."""
        return None if not self.limit else self.used / self.limit


@attrs.frozen
class AccountStatus:
    """One account of the fleet (named by its hash, never by its key)."""

    account: str
    budgets: tuple[BudgetUse, ...]
    in_doubt: tuple[InDoubt, ...]
    reserved_ids: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _number(value: Any) -> float | None:
    try:
        return float(_text(value))
    except (TypeError, ValueError):
        return None


def _scan(client: Any, pattern: str) -> list[str]:
    found: list[str] = []
    for key in client.scan_iter(match=pattern, count=1000):
        found.append(_text(key))
        if len(found) >= MAX_KEYS:
            break
    return found


def _budget(client: Any, root: str, state_key: str, now_ms: float) -> BudgetUse:
    name = state_key[len(f"{root}:rl:") : -len(":s")]
    state = {_text(k): v for k, v in (client.hgetall(state_key) or {}).items()}
    limit = _number(state.get("limit"))
    period = _number(state.get("period"))
    blocked = _number(state.get("blocked")) or 0.0
    stamps = [_number(s) for s in client.lrange(f"{root}:rl:{name}:l", 0, -1)]
    window_start = now_ms - (period or 0.0)
    used = sum(1 for s in stamps if s is not None and s > window_start)
    return BudgetUse(
        key=name,
        limit=int(limit) if limit is not None else None,
        period_ms=period,
        used=used,
        blocked_ms=max(0, round(blocked - now_ms)),
    )


def _in_doubt(client: Any, root: str) -> tuple[InDoubt, ...]:
    found: list[InDoubt] = []
    for field, value in (client.hgetall(f"{root}:doubt") or {}).items():
        try:
            found.append(InDoubt.from_json(_text(field), value))
        except (ValueError, TypeError):
            continue
    return tuple(sorted(found, key=lambda e: e.recorded_ms))


def read_status(client: Any, account: str | None = None) -> list[AccountStatus]:
    """Every account in this Redis (or just ``account``), read with a blocking redis client."""
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros / 1000
    tag = account if account is not None else "*"
    accounts: dict[str, list[str]] = {}
    for key in _scan(client, f"{PREFIX}:{{{tag}}}:*"):
        acct = key[len(PREFIX) + 2 : key.index("}", len(PREFIX) + 2)]
        accounts.setdefault(acct, []).append(key)
    result: list[AccountStatus] = []
    for acct in sorted(accounts):
        root = f"{PREFIX}:{{{acct}}}"
        keys = accounts[acct]
        states = sorted(k for k in keys if k.startswith(f"{root}:rl:") and k.endswith(":s"))
        result.append(
            AccountStatus(
                account=acct,
                budgets=tuple(_budget(client, root, k, now_ms) for k in states),
                in_doubt=_in_doubt(client, root),
                reserved_ids=sum(1 for k in keys if k.startswith(f"{root}:cid:")),
            )
        )
    return result
