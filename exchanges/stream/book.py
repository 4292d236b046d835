"""A local order book kept from a snapshot and deltas: the state machine, with no I/O.

Every exchange streams books the same way (a full snapshot, then deltas of changed levels, a
size of 0 removing a level) and differs only in how a delta proves it follows the last one:

* Bybit: each delta's update id ``u`` is the previous one plus one (``consecutive``);
* OKX and Binance futures: a delta names the id it follows (``chained``);
* Binance spot: a delta covers a range of ids ``[U, u]`` that must include last + 1, and deltas
  older than the snapshot are skipped (``spanning``).

The adapter supplies that check; this module applies messages, and refuses to show a book it
cannot vouch for. A new snapshot replaces the book at any time. A delta that does not follow,
a sequence that goes backwards, or a delta that leaves the book crossed (best bid >= best ask)
invalidates the book: ``apply`` answers ``"gap"`` and the caller resubscribes to get a fresh
snapshot. Until then ``valid`` is False and deltas are ignored. A snapshot the exchange sends
is shown as it is, crossed or not: that is the exchange's word.

Levels come from the decoders, which read them with ``exchanges.parsing.levels`` (prices > 0,
sizes >= 0, finite, below 1e30). The book checks them again as it applies them, whatever
decoder built the message: a level no market has (NaN, an infinity, a negative size, a price
of 0 or less) raises ``ValueError`` or ``ArithmeticError`` and leaves the book invalid, never
half-applied, so the feed treats the message as undecodable and resyncs.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Sequence
from decimal import Decimal
from types import FunctionType
from typing import Any, Literal

import attrs

from exchanges.decimals import MAX_MAGNITUDE
from exchanges.models import OrderBook

__all__ = [
    "BookMessage",
    "Continuity",
    "Level",
    "OrderBookState",
    "Verdict",
    "chained",
    "consecutive",
    "spanning",
]

Level = tuple[Decimal, Decimal]
#: What a continuity check says of a delta: apply it, skip it (older than the book), or gap.
Verdict = Literal["apply", "skip", "gap"]
#: What ``apply`` did: loaded a snapshot, applied or skipped a delta, ignored it (no valid
#: book yet), or found a gap (the book is now invalid and needs a snapshot).
Outcome = Literal["snapshot", "applied", "skipped", "ignored", "gap"]


@attrs.define(slots=True)
class BookMessage:
    """One book message in common terms: a snapshot or a delta of (price, size) levels.

    ``sequence`` is the update id after this message; ``first`` the first id it covers (when
    the exchange sends a range); ``prev`` the id it follows (when the exchange names it);
    ``cross`` an exchange-wide sequence that must never go backwards (Bybit's ``seq``).

    Not frozen: one is built for every frame of a book stream, and a frozen class's
    ``__init__`` (one ``object.__setattr__`` call per field) costs twice a plain one's, about
    0.5 µs a delta. Nothing changes a message once it is built.
    """

    snapshot: bool
    bids: Sequence[Level]
    asks: Sequence[Level]
    sequence: int
    timestamp: int | None = None
    first: int | None = None
    prev: int | None = None
    cross: int | None = None
    raw: Any = attrs.field(default=None, eq=False, repr=False)


Continuity = Callable[["OrderBookState", BookMessage], Verdict]

_ZERO = Decimal(0)


def _refuse(price: Decimal, amount: Decimal) -> ValueError:
    return ValueError(
        f"a book level no market has: price {price}, size {amount} (prices must be above zero, "
        "sizes not negative, both finite and below 1e30)"
    )


def consecutive(book: OrderBookState, message: BookMessage) -> Verdict:
    """Each delta's id is exactly the last one plus one (Bybit ``u``)."""
    return "apply" if message.sequence == book.sequence + 1 else "gap"


def chained(book: OrderBookState, message: BookMessage) -> Verdict:
    """Each delta names the id of the one before it (OKX ``prevSeqId``, Binance futures ``pu``)."""
    return "apply" if message.prev == book.sequence else "gap"


def spanning(book: OrderBookState, message: BookMessage) -> Verdict:
    """Each delta covers ``[first, sequence]``; it must contain last + 1 (Binance spot)."""
    if message.sequence <= book.sequence:
        return "skip"
    first = message.first if message.first is not None else message.sequence
    return "apply" if first <= book.sequence + 1 else "gap"


class _Side:
    """One side of the book: amounts by price, plus the prices kept sorted ascending."""

    __slots__ = ("amounts", "prices")

    def __init__(self) -> None:
        self.amounts: dict[Decimal, Decimal] = {}
        self.prices: list[Decimal] = []

    def load(self, levels: Sequence[Level]) -> None:
        for price, amount in levels:
            # NaN raises here (InvalidOperation) under the default context, and fails otherwise.
            if not (_ZERO < price < MAX_MAGNITUDE and _ZERO <= amount < MAX_MAGNITUDE):
                raise _refuse(price, amount)
        amounts = {price: amount for price, amount in levels if amount}
        self.amounts = amounts
        self.prices = sorted(amounts)

    def update(self, levels: Sequence[Level]) -> None:
        amounts, prices = self.amounts, self.prices
        for price, amount in levels:
            if not (_ZERO < price < MAX_MAGNITUDE and _ZERO <= amount < MAX_MAGNITUDE):
                raise _refuse(price, amount)
            if amount:
                if price not in amounts:
                    insort(prices, price)
                amounts[price] = amount
            elif price in amounts:
                del amounts[price]
                del prices[bisect_left(prices, price)]

    def clear(self) -> None:
        self.amounts = {}
        self.prices = []

    def trim(self, keep: int, from_low: bool) -> None:
        """Drop the worst levels beyond ``keep`` (memory stays bounded whatever is sent)."""
        extra = len(self.prices) - keep
        if extra <= 0:
            return
        dropped = self.prices[:extra] if from_low else self.prices[-extra:]
        self.prices = self.prices[extra:] if from_low else self.prices[:-extra]
        for price in dropped:
            del self.amounts[price]


class OrderBookState:
    """The local book of one symbol: apply snapshots and deltas, hand out consistent views."""

    __slots__ = (
        "_asks",
        "_bids",
        "_cache",
        "continuity",
        "cross",
        "gaps",
        "max_levels",
        "sequence",
        "snapshots",
        "symbol",
        "timestamp",
        "valid",
        "version",
    )

    def __init__(
        self, symbol: str, continuity: Continuity = consecutive, *, max_levels: int = 1000
    ) -> None:
        self.symbol = symbol
        # A check kept as an object (OKX's chain): its bound __call__ is called about 0.1 µs
        # faster than the object, on every delta. (Not a callable() test: the method is kept.)
        call = getattr(type(continuity), "__call__", None)  # noqa: B004
        self.continuity = call.__get__(continuity) if isinstance(call, FunctionType) else continuity
        #: Levels kept per side at most; the worst ones beyond it are dropped.
        self.max_levels = max_levels
        self._bids = _Side()
        self._asks = _Side()
        self.sequence = 0
        self.cross: int | None = None
        self.timestamp: int | None = None
        self.valid = False
        #: Bumped on every change, so views can be cached per version.
        self.version = 0
        self._cache: tuple[int, int | None, OrderBook] | None = None
        self.snapshots = 0
        self.gaps = 0

    def apply(self, message: BookMessage) -> Outcome:
        """Apply one message; ``"gap"`` means the book is now invalid until a snapshot.

        A level no market has raises ``ValueError`` (or ``ArithmeticError`` for NaN, or
        ``TypeError`` for a level that is no Decimal) with the book invalidated: the message is
        undecodable, not a gap.
        """
        if message.snapshot:
            try:
                self._bids.load(message.bids)
                self._asks.load(message.asks)
            except (ArithmeticError, ValueError, TypeError):
                self.invalidate()
                raise
            self._bids.trim(self.max_levels, from_low=True)
            self._asks.trim(self.max_levels, from_low=False)
            self._stamp(message)
            self.valid = True
            self.snapshots += 1
            return "snapshot"
        if not self.valid:
            return "ignored"
        cross = message.cross
        if cross is not None and self.cross is not None and cross < self.cross:
            return self._gap()
        verdict = self.continuity(self, message)
        if verdict != "apply":
            if verdict == "skip":
                return "skipped"
            if verdict == "gap":
                return self._gap()
        bids, asks = self._bids, self._asks
        try:
            # Most deltas change one side only: no call for the other.
            if message.bids:
                bids.update(message.bids)
            if message.asks:
                asks.update(message.asks)
        except (ArithmeticError, ValueError, TypeError):
            # Applied in part: the book is unknown until the next snapshot.
            self.invalidate()
            raise
        # A correct stream never crosses; a crossed book means a message was lost or misread.
        bid_prices, ask_prices = bids.prices, asks.prices
        if bid_prices and ask_prices and bid_prices[-1] >= ask_prices[0]:
            return self._gap()
        keep = self.max_levels
        if len(bid_prices) > keep:
            bids.trim(keep, from_low=True)
        if len(ask_prices) > keep:
            asks.trim(keep, from_low=False)
        # _stamp, inline: this is every delta's path.
        self.sequence = message.sequence
        if cross is not None:
            self.cross = cross
        timestamp = message.timestamp
        if timestamp is not None:
            self.timestamp = timestamp
        self.version += 1
        return "applied"

    def _stamp(self, message: BookMessage) -> None:
        self.sequence = message.sequence
        if message.cross is not None:
            self.cross = message.cross
        if message.timestamp is not None:
            self.timestamp = message.timestamp
        self.version += 1

    def _gap(self) -> Outcome:
        self.invalidate()
        self.gaps += 1
        return "gap"

    def invalidate(self) -> None:
        """Forget the book (connection lost, gap): nothing is shown until the next snapshot."""
        self.valid = False
        self._bids.clear()
        self._asks.clear()
        self.cross = None
        self._cache = None
        self.version += 1

    def view(self, limit: int | None = None) -> OrderBook:
        """The book as an ``OrderBook`` model (best levels first, ``limit`` per side)."""
        if not self.valid:
            raise RuntimeError("the order book is not synchronised (waiting for a snapshot)")
        cache = self._cache
        if cache is not None and cache[0] == self.version and cache[1] == limit:
            return cache[2]
        bids, asks = self._bids, self._asks
        bid_prices = bids.prices[::-1] if limit is None else bids.prices[: -limit - 1 : -1]
        ask_prices = asks.prices if limit is None else asks.prices[:limit]
        bid_amounts, ask_amounts = bids.amounts, asks.amounts
        book = OrderBook(
            symbol=self.symbol,
            timestamp=self.timestamp,
            bids=tuple([(p, bid_amounts[p]) for p in bid_prices]),
            asks=tuple([(p, ask_amounts[p]) for p in ask_prices]),
            sequence=self.sequence,
        )
        self._cache = (self.version, limit, book)
        return book

    @property
    def best_bid(self) -> Decimal | None:
        """The highest bid price, or None."""
        prices = self._bids.prices
        return prices[-1] if self.valid and prices else None

    @property
    def best_ask(self) -> Decimal | None:
        """The lowest ask price, or None."""
        prices = self._asks.prices
        return prices[0] if self.valid and prices else None
