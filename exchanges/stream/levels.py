"""Book levels of stream messages, with the prices seen recently kept as ready ``Decimal``s.

A book delta mostly touches prices it touched before (the levels near the top change again and
again), and a price is a dict key in the book: a ``Decimal`` made from text costs about 0.16 µs
and its first hash about 0.5 µs more (a non-integral ``Decimal`` hashes through a modular
inverse; CPython caches the result on the object). ``LevelReader`` keeps the ``Decimal`` of each
price text it has read, so a price seen before costs one dict lookup of its text, and its hash is
already known when the book looks it up. Sizes are read every time.

What it returns is what ``exchanges.parsing.levels`` returns for the same rows, value for value,
and what it refuses it refuses with the same error: a row whose price was seen before and whose
size is plain text (no sign, no ``n``: no NaN, infinity or negative) is read here; any other row
is read by ``parsing.levels``, and when that refuses the row, ``parsing.levels`` reads the
whole message to raise its error (naming the level's index). A price enters the cache only after
``parsing.levels`` accepted it (above zero, finite, below 1e30). The cache is bounded: when full,
it starts over.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchanges.decimals import exact
from exchanges.errors import ExchangeError
from exchanges.parsing import levels as read_levels
from exchanges.stream.book import Level

__all__ = ["PRICE_CACHE", "LevelReader"]

#: Price texts remembered per reader (one per book feed): a few times a deep book's two sides.
PRICE_CACHE = 8192
# Longer lists (snapshots) take the shared reader's one-pass path.
_BULK = 64


class LevelReader:
    """``parsing.levels`` for one book's messages, remembering the prices it read."""

    __slots__ = ("_prices", "exchange", "limit")

    def __init__(self, exchange: str, limit: int = PRICE_CACHE) -> None:
        self.exchange = exchange
        self.limit = limit
        self._prices: dict[str, Decimal] = {}

    def read(self, rows: Any) -> tuple[Level, ...]:
        """The (price, size) pairs of ``rows`` (``[price, size, ...]`` lists), order kept.

        Decoders keep the bound method (``self.levels = LevelReader(name).read``): calling an
        instance costs about 0.1 µs more, twice a delta.
        """
        if rows.__class__ is not list:
            return read_levels(rows, self.exchange)
        if not rows:  # one side of most deltas
            return ()
        prices = self._prices
        if len(rows) > _BULK:
            # A snapshot: the shared reader's one-pass path, then its prices are remembered.
            levels = read_levels(rows, self.exchange)
            if len(prices) + len(levels) > self.limit:
                prices.clear()
            for row, (known, _) in zip(rows, levels, strict=True):
                if row[0].__class__ is str:
                    prices[row[0]] = known
            return levels
        out: list[Level] = []
        append = out.append
        for row in rows:
            text: Any = None
            if row.__class__ is list and len(row) >= 2:
                text, size_text = row[0], row[1]
                if text.__class__ is str and size_text.__class__ is str:
                    seen = prices.get(text)
                    if (
                        seen is not None
                        and "-" not in size_text
                        and "n" not in size_text
                        and "N" not in size_text
                    ):
                        try:
                            append((seen, exact(size_text)))
                            continue
                        except ArithmeticError:
                            pass  # malformed, or 1e30 and above: the reader below says which
            # A price not seen yet, or anything unusual: the shared reader decides.
            try:
                ((price, size),) = read_levels([row], self.exchange)
            except (ExchangeError, ArithmeticError, ValueError, TypeError):
                # Refused: the whole message is read again for the error it stands for (the
                # same one, naming the level's index).
                return read_levels(rows, self.exchange)
            append((price, size))
            if text.__class__ is str:
                if len(prices) >= self.limit:
                    prices.clear()
                prices[text] = price
        return tuple(out)

    def clear(self) -> None:
        """Forget the prices (nothing depends on them: they are only read faster)."""
        self._prices.clear()
