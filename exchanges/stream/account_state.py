"""What the balance and position decoders keep between pushes: a REST snapshot, merged into.

Account streams push changes, not the whole account, so their decoders start from REST
(``fetch_balance``, ``fetch_positions``: the feed's ``seed``), merge every push into that and
forget it all on ``reset`` (the next subscription starts from REST again). How a push merges
is the exchange's; these bases hold the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from exchanges.models import Balance, Balances, Position

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["BalancesState", "PositionsState"]

K = TypeVar("K", bound="SupportsRichComparison")


class BalancesState:
    """The balances a decoder keeps: ``fetch_balance``'s, with every push merged in."""

    def __init__(self) -> None:
        self.balances: Balances | None = None

    def seed(self, value: Balances) -> None:
        """Start from ``fetch_balance``."""
        self.balances = value

    def reset(self) -> None:
        """Forget: the next subscription starts from REST again."""
        self.balances = None

    def known(self) -> dict[str, Balance]:
        """The balances so far by currency: a copy, to merge a push into."""
        return dict(self.balances.by_currency) if self.balances is not None else {}


class PositionsState(Generic[K]):
    """The open positions a decoder keeps by the exchange's key (``_key``): ``fetch_positions``'s,
    with every push merged in."""

    def __init__(self) -> None:
        self.positions: dict[K, Position] = {}

    def _key(self, position: Position) -> K:
        """Where ``position`` is kept (a symbol, or a symbol and the exchange's side or index)."""
        raise NotImplementedError

    def seed(self, value: list[Position]) -> None:
        """Start from ``fetch_positions``."""
        self.positions = {self._key(p): p for p in value}

    def reset(self) -> None:
        """Forget: the next subscription starts from REST again."""
        self.positions = {}

    def open_positions(self) -> list[Position]:
        """The positions kept, in key order."""
        return [self.positions[k] for k in sorted(self.positions)]
