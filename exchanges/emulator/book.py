"""One instrument's public market: the order book, its synthetic liquidity, the trade tape and
the synthetic price history behind klines and 24h statistics.

Everything random comes from a ``random.Random`` owned by the market and seeded from the
engine's seed and the instrument, and only integers are drawn from it (no floats), so a seed
always rebuilds the same book and the same history.

Orders and book sides are in ``exchanges.emulator.orders``, the price history in
``exchanges.emulator.history``; their names are re-exported here.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from decimal import ROUND_DOWN, Decimal

import attrs

from exchanges.emulator.accounts import ZERO, div, money_down
from exchanges.emulator.history import DAY_MS, HISTORY_MINUTES, MINUTE_MS, History
from exchanges.emulator.instruments import (
    BookView,
    CandleView,
    InstrumentSpec,
    PublicTradeView,
    TickerView,
)
from exchanges.emulator.orders import MARKET_MAKER_UID, BookSide, Match, Order, Plan

__all__ = [
    "DAY_MS",
    "HISTORY_MINUTES",
    "MARKET_MAKER_UID",
    "MINUTE_MS",
    "BookSide",
    "History",
    "Market",
    "Match",
    "Order",
    "Plan",
]


@attrs.define
class Market:
    """One instrument's book, synthetic liquidity, public trade tape and price history."""

    spec: InstrumentSpec
    levels: int
    rng: random.Random
    history: History
    bids: BookSide = attrs.Factory(lambda: BookSide(is_bid=True))
    asks: BookSide = attrs.Factory(lambda: BookSide(is_bid=False))
    update_id: int = 0
    seq: int = 0  # the engine-wide sequence number of this book's last change
    trades: list[PublicTradeView] = attrs.Factory(list)
    trade_times: list[int] = attrs.Factory(list)
    mm_orders: int = 0
    #: Mark and index prices set by the admin API (``exchanges.emulator.prices``); None: the mid.
    mark_override: Decimal | None = None
    index_override: Decimal | None = None

    @classmethod
    def create(cls, spec: InstrumentSpec, *, seed: int, levels: int, now: int) -> Market:
        """A market seeded with ``levels`` synthetic levels per side around the reference."""
        ref_ticks = int(spec.reference_price / spec.tick_size)
        # Per-minute traded value between 50k and 1.5M quote units looks like a liquid pair.
        unit = spec.contract_size if spec.category == "inverse" else spec.reference_price
        lots_low = max(1, int(Decimal(50_000) / (unit * spec.lot_size)))
        history = History(
            anchor_minute=now // MINUTE_MS,
            ref_ticks=ref_ticks,
            sigma=max(1, ref_ticks // 2500),
            lots_low=lots_low,
            lots_span=lots_low * 29 + 1,
            rng=random.Random(f"history:{seed}:{spec.category}:{spec.symbol}"),
        )
        market = cls(
            spec=spec,
            levels=levels,
            rng=random.Random(f"book:{seed}:{spec.category}:{spec.symbol}"),
            history=history,
        )
        half_spread = market.rng.randint(1, 2)
        market._extend(market.bids, ref_ticks - half_spread, now)
        market._extend(market.asks, ref_ticks + half_spread, now)
        return market

    # -- book -----------------------------------------------------------------------------

    def side_of(self, side: str) -> BookSide:
        """Where orders of ``side`` rest."""
        return self.bids if side == "buy" else self.asks

    def opposite_of(self, side: str) -> BookSide:
        """Where a ``side`` taker finds its makers."""
        return self.asks if side == "buy" else self.bids

    def would_take(self, side: str, price: Decimal) -> bool:
        """True if a ``side`` limit at ``price`` crosses the best opposite price."""
        best = self.opposite_of(side).best()
        if best is None:
            return False
        return price >= best if side == "buy" else price <= best

    def mid(self) -> Decimal:
        """The mark/index price: mid of the best prices, else one side, else the last price."""
        bid, ask = self.bids.best(), self.asks.best()
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        one_side = bid if bid is not None else ask
        return one_side if one_side is not None else self.last_price()

    def mark_price(self) -> Decimal:
        """The mark price: the one set by the admin API, else the mid."""
        return self.mark_override if self.mark_override is not None else self.mid()

    def index_price(self) -> Decimal:
        """The index price: the one set by the admin API, else the mid."""
        return self.index_override if self.index_override is not None else self.mid()

    def last_price(self) -> Decimal:
        """The last trade's price, else the synthetic history's close (the reference)."""
        return self.trades[-1].price if self.trades else self.spec.reference_price

    def plan(
        self,
        side: str,
        uid: int,
        *,
        qty: Decimal | None,
        limit: Decimal | None,
        budget: Decimal | None = None,
    ) -> Plan:
        """Walk the opposite side in price-time priority without changing anything.

        ``qty`` caps the base quantity, ``budget`` the quote spent (quote_qty market buys),
        ``limit`` the worst acceptable price. The walk stops before the taker's own order
        (self-trade prevention: the taker's remainder is then cancelled).
        """
        matches: list[Match] = []
        left_qty, left_budget = qty, budget
        lot = self.spec.lot_size
        for price, orders in self.opposite_of(side).best_first():
            if limit is not None and (price > limit if side == "buy" else price < limit):
                return Plan(tuple(matches), "price")
            for maker in orders:
                if maker.uid == uid:
                    return Plan(tuple(matches), "self_trade")
                take = maker.remaining
                if left_qty is not None:
                    take = min(take, left_qty)
                if left_budget is not None:
                    affordable = div(left_budget, price * lot).to_integral_value(ROUND_DOWN) * lot
                    if affordable * price > left_budget:  # 50-digit division rounded up to a lot
                        affordable -= lot
                    take = min(take, affordable)
                    if take <= 0:
                        return Plan(tuple(matches), "budget")
                    left_budget -= take * price
                matches.append(Match(maker=maker, qty=take, price=price))
                if left_qty is not None:
                    left_qty -= take
                    if left_qty <= 0:
                        return Plan(tuple(matches), "filled")
        return Plan(tuple(matches), "exhausted")

    def refill(self, now: int) -> bool:
        """Top up a side left with fewer than half its levels; True if anything was added."""
        changed = False
        for side in (self.bids, self.asks):
            if len(side) >= self.levels // 2 or self.levels == 0:
                continue
            worst = side.worst()
            if worst is not None:
                start = self._ticks(worst) + (-1 if side.is_bid else 1) * self._gap()
            else:
                # An emptied side restarts next to the last trade, outside the other side.
                anchor = self._ticks(self.last_price())
                other = (self.asks if side.is_bid else self.bids).best()
                if side.is_bid:
                    start = min(anchor, self._ticks(other) if other is not None else anchor) - 1
                else:
                    start = max(anchor, self._ticks(other) if other is not None else anchor) + 1
            changed = self._extend(side, start, now) or changed
        return changed

    def _extend(self, side: BookSide, start_ticks: int, now: int) -> bool:
        ticks, added = start_ticks, False
        while len(side) < self.levels and ticks > 0:
            price = ticks * self.spec.tick_size
            if price not in side.levels:
                self.mm_orders += 1
                side.add(self._mm_order("buy" if side.is_bid else "sell", price, now))
                added = True
            ticks += (-1 if side.is_bid else 1) * self._gap()
        return added

    def _gap(self) -> int:
        # About 0.002% of the price per step, so fifty levels span a realistic ~0.2%.
        return max(1, self.history.ref_ticks // 50_000) * self.rng.randint(1, 3)

    def _ticks(self, price: Decimal) -> int:
        return int(price / self.spec.tick_size)

    def _mm_order(self, side: str, price: Decimal, now: int) -> Order:
        spec = self.spec
        value = Decimal(self.rng.randint(200, 20_000))  # quote units, like real top-of-book sizes
        unit = spec.contract_size if spec.category == "inverse" else price
        qty = (div(value, unit * spec.lot_size)).to_integral_value(ROUND_DOWN) * spec.lot_size
        qty = min(max(qty, spec.min_qty), spec.max_qty)
        return Order(
            order_id=f"mm-{self.mm_orders}",
            uid=MARKET_MAKER_UID,
            spec=spec,
            side=side,
            type="limit",
            price=price,
            qty=qty,
            time_in_force="GTC",
            reduce_only=False,
            client_order_id=None,
            quote_qty=False,
            created_ms=now,
            updated_ms=now,
            seq=self.mm_orders,
        )

    # -- tape and history -------------------------------------------------------------------

    def book_view(self, depth: int, now: int) -> BookView:
        """The aggregated book, ``depth`` levels per side."""
        return BookView(
            symbol=self.spec.symbol,
            bids=self.bids.depth(depth),
            asks=self.asks.depth(depth),
            update_id=self.update_id,
            seq=self.seq,
            time_ms=now,
        )

    def ticker(self, now: int) -> TickerView:
        """Top of book, last price, mark/index (= mid) and rolling 24h statistics."""
        day = self.candle(now - DAY_MS, now + 1)
        assert day is not None  # the synthetic history always covers the last day
        bids, asks = self.bids.depth(1), self.asks.depth(1)
        mid = self.mid()
        return TickerView(
            symbol=self.spec.symbol,
            bid=bids[0][0] if bids else None,
            bid_size=bids[0][1] if bids else ZERO,
            ask=asks[0][0] if asks else None,
            ask_size=asks[0][1] if asks else ZERO,
            last=self.last_price(),
            high_24h=day.high,
            low_24h=day.low,
            open_24h=day.open,
            volume_24h=day.volume,
            turnover_24h=day.turnover,
            mark=self.mark_override if self.mark_override is not None else mid,
            index=self.index_override if self.index_override is not None else mid,
            time_ms=now,
        )

    def klines(
        self, interval_ms: int, start_ms: int | None, end_ms: int | None, limit: int, now: int
    ) -> list[CandleView]:
        """The latest ``limit`` candles starting in ``[start_ms, end_ms]``, oldest first."""
        end = now if end_ms is None else min(end_ms, now)
        last = end - end % interval_ms
        earliest = self.history.anchor_minute * MINUTE_MS - HISTORY_MINUTES * MINUTE_MS
        first = max(earliest - earliest % interval_ms, last - (limit - 1) * interval_ms)
        if start_ms is not None:
            first = max(first, start_ms + (-start_ms) % interval_ms)
        candles = []
        for start in range(first, last + 1, interval_ms):
            candle = self.candle(start, min(start + interval_ms, now + 1))
            if candle is not None:
                candles.append(candle)
        return candles

    def record_trade(self, trade: PublicTradeView) -> None:
        """Append a trade to the public tape."""
        self.trades.append(trade)
        self.trade_times.append(trade.time_ms)

    def candle(self, start_ms: int, end_ms: int) -> CandleView | None:
        """The candle over ``[start_ms, end_ms)``: synthetic minutes before the reset, real
        trades after it (a window without trades is flat at the previous price). None before
        the synthetic history begins.
        """
        spec, history = self.spec, self.history
        anchor_ms = history.anchor_minute * MINUTE_MS
        start = max(start_ms, anchor_ms - HISTORY_MINUTES * MINUTE_MS)
        if start >= end_ms:
            return None
        first_minute = -(-start // MINUTE_MS)
        end_minute = min(-(-end_ms // MINUTE_MS), history.anchor_minute)
        tick, lot = spec.tick_size, spec.lot_size
        volume = turnover = ZERO
        high = low = close = open_ = None
        if first_minute < end_minute:
            # Indices run backward in time: ``lo`` is the newest minute, ``hi - 1`` the oldest.
            lo, hi = history.anchor_minute - end_minute, history.anchor_minute - first_minute
            history.extend(hi)
            open_ = history.opens[hi - 1] * tick
            close = history.closes[lo] * tick
            high = max(history.highs[lo:hi]) * tick
            low = min(history.lows[lo:hi]) * tick
            lots = sum(history.lots[lo:hi])
            volume = lots * lot
            if spec.category == "inverse":
                turnover = money_down(div(volume * spec.contract_size, close))
            else:
                value_ticks = sum(map(int.__mul__, history.lots[lo:hi], history.closes[lo:hi]))
                turnover = value_ticks * lot * tick * spec.contract_size
        first, last = bisect_left(self.trade_times, start), bisect_left(self.trade_times, end_ms)
        if open_ is None:
            open_ = self.trades[first - 1].price if first > 0 else spec.reference_price
            high = low = close = open_
        assert high is not None and low is not None and close is not None
        for trade in self.trades[first:last]:
            high, low, close = max(high, trade.price), min(low, trade.price), trade.price
            volume += trade.qty
            if spec.category == "inverse":
                turnover += money_down(div(trade.qty * spec.contract_size, trade.price))
            else:
                turnover += trade.qty * trade.price * spec.contract_size
        return CandleView(
            start_ms=start_ms,
            open=open_,
            high=high,
            low=low,
            close=close,
            volume=volume,
            turnover=turnover,
        )
