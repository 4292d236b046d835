"""Moving an instrument's price on purpose (a mixin of ``Engine``, served by the admin API's
``POST /_emulator/price``): what tests and the demo use to make a stop or a trigger fire.

``move_price(symbol, last=...)`` is a market sweep by someone outside the emulator's accounts:
every user order the move crosses fills at its own price (as a maker), a trade at ``last`` is
printed on the tape, and the market maker's synthetic liquidity is rebuilt around ``last``, so
the book, the ticker, klines, the mark and index prices (the mid) all follow. ``mark`` and
``index`` set those prices apart from the book (Bybit, Binance and OKX each publish them
separately); a call that does not give them lets them follow the mid again. Triggers are then
evaluated (``exchanges.emulator.triggers``).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from exchanges.emulator.accounts import Account, apply_fill
from exchanges.emulator.book import Market
from exchanges.emulator.instruments import (
    EngineError,
    FillView,
    InstrumentKey,
    InstrumentSpec,
    PublicTradeView,
    check_price,
)
from exchanges.emulator.orders import MARKET_MAKER_UID, Order

__all__ = ["PricesMixin"]


class PricesMixin:
    """``move_price``; ``Engine`` provides the state and the execution helpers."""

    _markets: dict[InstrumentKey, Market]
    _accounts: dict[int, Account]
    _fills: dict[int, list[FillView]]

    if TYPE_CHECKING:  # provided by Engine and its other mixins

        def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
            """The instrument of ``symbol`` (``Engine.instrument``)."""
            raise NotImplementedError

        def _now(self) -> int:
            raise NotImplementedError

        def _new_id(self) -> str:
            raise NotImplementedError

        def _touch(self, market: Market) -> None:
            raise NotImplementedError

        def _close(self, order: Order, status: str, reason: str | None, now: int) -> None:
            raise NotImplementedError

        def _enforce_reduce_only(self, spec: InstrumentSpec, uid: int, now: int) -> None:
            raise NotImplementedError

        evaluate_triggers: Callable[..., None]

    def move_price(
        self,
        symbol: str,
        *,
        last: Decimal | None = None,
        mark: Decimal | None = None,
        index: Decimal | None = None,
        category: str | None = None,
    ) -> None:
        """Move the last price to ``last`` (a sweep through the book) and/or set the mark and
        index prices; then fire what the new prices trigger."""
        spec = self.instrument(symbol, category)
        market = self._markets[spec.key]
        if last is None and mark is None and index is None:
            raise EngineError("invalid_request", "give last, mark and/or index")
        checked = {
            name: None if value is None else check_price(spec, value)
            for name, value in (("last", last), ("mark", mark), ("index", index))
        }
        now = self._now()
        if checked["last"] is not None:
            self._sweep(market, checked["last"], now)
        market.mark_override = checked["mark"]
        market.index_override = checked["index"]
        self._touch(market)
        self.evaluate_triggers([spec.key])

    def _sweep(self, market: Market, price: Decimal, now: int) -> None:
        spec = market.spec
        up = price >= market.mid()
        taker_side = "buy" if up else "sell"
        crossed = [
            order
            for level, orders in market.opposite_of(taker_side).best_first()
            if (level <= price if up else level >= price)
            for order in list(orders)
        ]
        touched: set[int] = set()
        for maker in crossed:
            if maker.uid == MARKET_MAKER_UID:
                continue
            self._fill_maker(market, maker, taker_side, now)
            touched.add(maker.uid)
        # The market maker's quotes are rebuilt around the new price.
        for side in (market.bids, market.asks):
            for _, orders in list(side.best_first()):
                for order in list(orders):
                    if order.uid == MARKET_MAKER_UID:
                        side.remove(order)
        market.record_trade(
            PublicTradeView(
                trade_id=self._new_id(),
                symbol=spec.symbol,
                side=taker_side,
                price=price,
                qty=spec.min_qty,
                time_ms=now,
            )
        )
        ticks = int(price / spec.tick_size)
        market._extend(market.bids, ticks - 1, now)
        market._extend(market.asks, ticks + 1, now)
        if spec.is_derivative:
            for uid in sorted(touched):
                self._enforce_reduce_only(spec, uid, now)

    def _fill_maker(self, market: Market, maker: Order, taker_side: str, now: int) -> None:
        """Fill a crossed user order in full at its own price, as the sweep's maker."""
        from exchanges.emulator.orders import Match

        spec = market.spec
        assert maker.price is not None
        qty = maker.remaining
        outcome = apply_fill(
            self._accounts[maker.uid], spec, maker.side, qty, maker.price, spec.maker_fee,
            order_lock=maker.lock, now=now, leg=maker.leg,
        )  # fmt: skip
        maker.lock -= outcome.lock_used
        maker.updated_ms = now
        match = Match(maker=maker, qty=qty, price=maker.price)
        maker.add_fill(match, outcome.fee)
        trade_id = self._new_id()
        self._fills[maker.uid].append(
            maker.fill_view(trade_id, match, outcome.fee, outcome.fee_coin, maker=True, now=now)
        )
        market.record_trade(
            PublicTradeView(
                trade_id=trade_id,
                symbol=spec.symbol,
                side=taker_side,
                price=maker.price,
                qty=qty,
                time_ms=now,
            )
        )
        market.side_of(maker.side).remove(maker)
        self._close(maker, "filled", None, now)
