"""An order's state in the emulator's book (``Order``), the resting orders of one side
(``BookSide``), and what a taker would do against them (``Plan`` of ``Match``es)."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from decimal import Decimal

import attrs

from exchanges.emulator.accounts import ZERO, div, price_round, quote_value, settle_value
from exchanges.emulator.instruments import FillView, InstrumentSpec, OrderView

__all__ = ["MARKET_MAKER_UID", "BookSide", "Match", "Order", "Plan"]

MARKET_MAKER_UID = 0


@attrs.define(eq=False)
class Order:
    """One order's mutable state: a user's, or a resting order of the market maker (uid 0)."""

    order_id: str
    uid: int
    spec: InstrumentSpec
    side: str
    type: str
    price: Decimal | None
    qty: Decimal
    time_in_force: str
    reduce_only: bool
    client_order_id: str | None
    quote_qty: bool
    created_ms: int
    updated_ms: int
    seq: int  # acceptance order, the "newest first" sort key
    filled: Decimal = ZERO
    cum_quote: Decimal = ZERO
    cum_settle: Decimal = ZERO  # inverse: the fills' coin value, for the (harmonic) average price
    fee_total: Decimal = ZERO
    status: str = "new"
    cancel_reason: str | None = None
    lock: Decimal = ZERO
    lock_coin: str = ""
    leg: str = ""  # the hedge-mode leg it opens or closes ("long"/"short"); "" in one-way mode

    @property
    def remaining(self) -> Decimal:
        """Quantity still open (meaningless for quote_qty market orders, which never rest)."""
        return self.qty - self.filled

    @property
    def is_open(self) -> bool:
        """True while the order can still fill (it rests in the book)."""
        return self.status in ("new", "partially_filled")

    def cancelled_status(self) -> str:
        """The status a cancel gives this order."""
        return "partially_filled_cancelled" if self.filled > 0 else "cancelled"

    def add_fill(self, match: Match, fee: Decimal) -> None:
        """Account one fill in the order's running totals."""
        self.filled += match.qty
        self.cum_quote += quote_value(self.spec, match.qty, match.price)
        if self.spec.category == "inverse":
            self.cum_settle += settle_value(self.spec, match.qty, match.price)
        self.fee_total += fee

    def finish(self, plan: Plan) -> None:
        """Set the status a taker ends with after its ``plan``: resting, filled or cancelled."""
        if self.quote_qty:
            done = plan.stop == "budget" and self.filled > 0
            self.status = "filled" if done else self.cancelled_status()
        elif self.filled == self.qty:
            self.status = "filled"
        elif plan.stop == "self_trade":
            self.status = self.cancelled_status()
        elif self.time_in_force in ("GTC", "PostOnly"):
            self.status = "partially_filled" if self.filled > 0 else "new"
            return
        else:
            self.status = self.cancelled_status()
        if self.status != "filled":
            self.cancel_reason = "self_trade" if plan.stop == "self_trade" else "ioc_remainder"

    def view(self) -> OrderView:
        """The public snapshot of this order."""
        spec = self.spec
        avg = None
        if self.filled > 0:
            if spec.category == "inverse":
                raw = div(self.filled * spec.contract_size, self.cum_settle)
            else:
                raw = div(self.cum_quote, self.filled * spec.contract_size)
            avg = price_round(spec, raw)
            on_tick = avg.quantize(spec.tick_size)
            avg = on_tick if on_tick == avg else avg
        if spec.is_derivative:
            fee_currency = spec.settle
        else:
            fee_currency = spec.base if self.side == "buy" else spec.quote
        return OrderView(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            uid=self.uid,
            symbol=spec.symbol,
            category=spec.category,
            side=self.side,
            type=self.type,
            price=self.price,
            qty=self.qty,
            filled=self.filled,
            remaining=self.remaining if self.is_open else ZERO,
            cum_quote=self.cum_quote,
            avg_price=avg,
            fee_total=self.fee_total,
            fee_currency=fee_currency,
            status=self.status,
            time_in_force=self.time_in_force,
            reduce_only=self.reduce_only,
            post_only=self.time_in_force == "PostOnly",
            created_ms=self.created_ms,
            updated_ms=self.updated_ms,
            cancel_reason=self.cancel_reason,
            quote_qty=self.quote_qty,
        )

    def fill_view(
        self, trade_id: str, match: Match, fee: Decimal, fee_coin: str, *, maker: bool, now: int
    ) -> FillView:
        """The public record of one of this order's fills."""
        spec = self.spec
        return FillView(
            exec_id=trade_id,
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            uid=self.uid,
            symbol=spec.symbol,
            category=spec.category,
            side=self.side,
            price=match.price,
            qty=match.qty,
            value=quote_value(spec, match.qty, match.price),
            fee=fee,
            fee_currency=fee_coin,
            fee_rate=spec.maker_fee if maker else spec.taker_fee,
            is_maker=maker,
            time_ms=now,
        )


@attrs.define
class BookSide:
    """The resting orders of one side, FIFO per price level."""

    is_bid: bool
    prices: list[Decimal] = attrs.Factory(list)  # ascending, whatever the side
    levels: dict[Decimal, deque[Order]] = attrs.Factory(dict)

    def __len__(self) -> int:
        return len(self.prices)

    def add(self, order: Order) -> None:
        """Queue the order at the back of its price level."""
        assert order.price is not None
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = deque()
            insort(self.prices, order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        """Take the order out of its level, dropping the level when it empties."""
        assert order.price is not None
        level = self.levels[order.price]
        level.remove(order)
        if not level:
            del self.levels[order.price]
            del self.prices[bisect_left(self.prices, order.price)]

    def best_first(self) -> Iterator[tuple[Decimal, deque[Order]]]:
        """Levels from the best price outward."""
        prices = reversed(self.prices) if self.is_bid else iter(self.prices)
        for price in prices:
            yield price, self.levels[price]

    def best(self) -> Decimal | None:
        """The best price, or None when the side is empty."""
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def worst(self) -> Decimal | None:
        """The price furthest from the spread, or None when the side is empty."""
        if not self.prices:
            return None
        return self.prices[0] if self.is_bid else self.prices[-1]

    def depth(self, levels: int) -> tuple[tuple[Decimal, Decimal], ...]:
        """Up to ``levels`` aggregated (price, qty) pairs, best first."""
        result: list[tuple[Decimal, Decimal]] = []
        for price, orders in self.best_first():
            if len(result) >= levels:
                break
            result.append((price, sum((o.remaining for o in orders), ZERO)))
        return tuple(result)


@attrs.frozen
class Match:
    """A planned fill of ``qty`` against the resting ``maker`` at its price."""

    maker: Order
    qty: Decimal
    price: Decimal


@attrs.frozen
class Plan:
    """What a taker would do against the book, computed without touching it.

    ``stop`` says why the walk ended: "filled", "price" (limit reached), "exhausted" (no more
    liquidity), "budget" (quote amount spent) or "self_trade" (next maker is the taker's own).
    """

    matches: tuple[Match, ...]
    stop: str

    @property
    def qty(self) -> Decimal:
        """Total quantity the plan fills."""
        return sum((m.qty for m in self.matches), ZERO)
