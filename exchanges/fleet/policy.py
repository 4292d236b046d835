"""What a fleet member does when Redis is away: the error it raises, the fallbacks it allows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from exchanges.errors import ExchangeNotAvailable

if TYPE_CHECKING:
    from exchanges.fleet.link import Link

__all__ = ["FALLBACKS", "Fallback", "FleetUnavailable", "check_fallback", "unavailable"]

#: ``fleet_fallback=``: ``"refuse"`` new orders while Redis is away, or place them with a
#: reservation of their client order id in this process only (``"local"``).
Fallback = Literal["refuse", "local"]
FALLBACKS = ("refuse", "local")


class FleetUnavailable(ExchangeNotAvailable):
    """The fleet's Redis cannot be reached, and the call needs it; nothing was sent."""

    # Refused before anything was sent: the pipeline must not turn it into OutcomeUnknown.
    default_retryable = False
    default_hint = (
        "Nothing was sent. New orders need the fleet's Redis to reserve their client order id "
        "across processes; call again once it answers, or connect with fleet_fallback='local' "
        "to place orders with a reservation in this process only."
    )


def unavailable(link: Link, what: str) -> FleetUnavailable:
    """The error for ``what`` failing because Redis is away."""
    cause = f" ({link.outage})" if link.outage else ""
    return FleetUnavailable(f"{what}: the fleet's Redis {link.where} is unreachable{cause}")


def check_fallback(value: object) -> Fallback:
    """``fleet_fallback=`` checked: ``"refuse"`` or ``"local"``."""
    if value == "refuse":
        return "refuse"
    if value == "local":
        return "local"
    raise ValueError(f"fleet_fallback={value!r}: pass 'refuse' (the default) or 'local'")
