"""An exchange-agnostic matching engine for the local exchange emulator.

Exchange front-ends translate REST requests into calls on :class:`Engine` and its results and
:class:`EngineError` kinds back into their exchange's envelopes and codes. The engine is pure
in-memory state: no I/O, no threads, no wall clock (time comes from ``now_ms``), and every
operation is atomic: it either fully applies or raises before changing anything (ids drawn
from the seeded RNG included, so a failed call does not shift later ids).

Choices the engine makes for every exchange:

* instruments are identified by ``(category, symbol)``; methods taking a ``symbol`` also take
  ``category=`` to disambiguate a symbol listed in several categories (spot and linear
  "BTCUSDT"); without it an ambiguous symbol is an ``invalid_request``;
* self-trade prevention "cancel taker": a taker never fills against its own account's resting
  order; its remainder is cancelled with ``cancel_reason="self_trade"`` (even a GTC order);
* reduce-only orders are rejected (``reduce_only_rejected``) unless the position is on the
  other side and ``qty <= |size|``; one that may rest must also fit together with the
  account's other open reduce-only orders. When a position later shrinks, resting
  reduce-only orders that no longer fit (newest last) are cancelled with reason
  "reduce_only";
* market orders are IOC (or FOK when asked) and their stored ``time_in_force`` says so;
* the market maker (uid 0) owns the synthetic liquidity, has unlimited funds and no fills
  of its own; its side of a trade shows only on the public tape;
* money rules (exact notionals, 8-decimal fees and margins rounded toward zero) are in
  :mod:`exchanges.emulator.accounts`;
* an account has one wallet unless ``set_wallets`` splits it (Binance's spot and USD-M
  wallets): each category then pays and is paid in its own wallet only, and ``transfer``
  moves coins between wallets.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import attrs

from exchanges.emulator.accounts import (
    ZERO,
    Account,
    Position,
    position_view,
    quote_value,
)
from exchanges.emulator.book import MARKET_MAKER_UID, Market, Order, Plan
from exchanges.emulator.execution import ExecutionMixin
from exchanges.emulator.funds import MAIN_WALLET, AccountsMixin
from exchanges.emulator.instruments import (
    CATEGORIES,
    BalanceView,
    BookView,
    CandleView,
    EngineError,
    FillView,
    InstrumentKey,
    InstrumentSpec,
    OrderView,
    PositionView,
    PublicTradeView,
    TickerView,
    check_order,
    check_price,
    check_qty,
    default_instruments,
)
from exchanges.emulator.market_data import MarketDataMixin
from exchanges.emulator.modes import LEGS, ModesMixin
from exchanges.emulator.prices import PricesMixin
from exchanges.emulator.stops import StopsMixin
from exchanges.emulator.triggers import TriggersMixin

__all__ = [
    "BalanceView",
    "BookView",
    "CandleView",
    "Engine",
    "EngineError",
    "FillView",
    "InstrumentKey",
    "InstrumentSpec",
    "OrderView",
    "PositionView",
    "PublicTradeView",
    "TickerView",
    "default_instruments",
]

_NO_MATCH = Plan((), "price")


class Engine(
    TriggersMixin,
    StopsMixin,
    PricesMixin,
    ExecutionMixin,
    MarketDataMixin,
    AccountsMixin,
    ModesMixin,
):
    """In-memory matching engine: books, accounts, orders, fills, and synthetic market data.

    Margin and hedge (position) modes are in ``exchanges.emulator.modes``, market data in
    ``exchanges.emulator.market_data``, matching and settlement in
    ``exchanges.emulator.execution``, accounts, wallets and leverage in
    ``exchanges.emulator.funds``."""

    instruments: dict[InstrumentKey, InstrumentSpec]
    _rng: random.Random
    _markets: dict[InstrumentKey, Market]
    _accounts: dict[int, Account]
    _orders: dict[str, Order]
    _user_orders: dict[int, list[Order]]
    _open: dict[int, dict[str, Order]]
    _client_ids: dict[int, dict[str, Order]]
    _ledger: list[Order]
    _fills: dict[int, list[FillView]]
    _seq: int
    _order_seq: int

    def __init__(
        self,
        *,
        instruments: Sequence[InstrumentSpec] | None = None,
        seed: int = 0,
        now_ms: Callable[[], int],
        levels: int = 50,
    ) -> None:
        specs = default_instruments() if instruments is None else list(instruments)
        self.instruments = {}
        self._by_symbol: dict[str, list[InstrumentSpec]] = {}
        for spec in specs:
            if spec.key in self.instruments:
                raise ValueError(f"instrument {spec.key} listed twice")
            self.instruments[spec.key] = spec
            self._by_symbol.setdefault(spec.symbol, []).append(spec)
        if levels < 0:
            raise ValueError("levels must be >= 0")
        self._now_ms = now_ms
        self._levels = levels
        self._seed = seed
        self._main_wallet = MAIN_WALLET
        self._routing: dict[str, str] = {}
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial state: books re-seeded, accounts, orders, fills and ledger empty."""
        if seed is not None:
            self._seed = seed
        now = self._now()
        self._rng = random.Random(self._seed)
        self._markets = {
            key: Market.create(spec, seed=self._seed, levels=self._levels, now=now)
            for key, spec in self.instruments.items()
        }
        self._accounts = {}
        self._orders = {}
        self._user_orders = {}
        self._open = {}
        self._client_ids = {}
        self._ledger = []
        self._fills = {}
        self._seq = 0
        self._order_seq = 0
        self._reset_triggers()

    # -- instruments ---------------------------------------------------------------------------

    def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
        """Resolve a symbol (and optional category) to its instrument, or raise."""
        if category is not None:
            if category not in CATEGORIES:
                raise EngineError("invalid_request", f"unknown category {category!r}")
            spec = self.instruments.get((category, symbol))
            if spec is None:
                raise EngineError("unknown_symbol", f"no {category} instrument {symbol!r}")
            return spec
        found = self._by_symbol.get(symbol, [])
        if not found:
            raise EngineError("unknown_symbol", f"no instrument {symbol!r}")
        if len(found) > 1:
            raise EngineError("invalid_request", f"{symbol!r} is in several categories: pass one")
        return found[0]

    # -- orders --------------------------------------------------------------------------------

    def place_order(
        self,
        uid: int,
        symbol: str,
        side: str,
        type: str,
        qty: Decimal,
        *,
        price: Decimal | None = None,
        time_in_force: str = "GTC",
        reduce_only: bool = False,
        client_order_id: str | None = None,
        quote_qty: bool = False,
        category: str | None = None,
        kill_unfillable: bool = False,
    ) -> OrderView:
        """Accept and execute an order, or raise EngineError having changed nothing.

        A post-only order that would take, or a FOK order that cannot fill in full, is refused
        with an EngineError; with ``kill_unfillable`` it is accepted and cancelled at once
        instead, unfilled, its ``cancel_reason`` saying why (how Bybit and OKX treat them).
        """
        account = self._account(uid)
        spec = self.instrument(symbol, category)
        market = self._markets[spec.key]
        tif, amount, limit = check_order(
            spec,
            side,
            type,
            qty,
            price,
            time_in_force,
            reduce_only=reduce_only,
            quote_qty=quote_qty,
        )
        leg, reduce_only = self._order_leg(account, spec, side, reduce_only)
        if client_order_id is not None:
            if not isinstance(client_order_id, str) or not client_order_id:
                raise EngineError("invalid_request", "client_order_id must be a non-empty str")
            if client_order_id in self._client_ids[uid]:
                raise EngineError("duplicate_client_order_id", f"{client_order_id!r} was used")
        best_opposite = market.opposite_of(side).best()
        if spec.min_notional > 0:
            at = limit if limit is not None else best_opposite
            notional = amount if quote_qty or at is None else quote_value(spec, amount, at)
            if (quote_qty or at is not None) and notional < spec.min_notional:
                raise EngineError("min_notional", f"order value {notional} < {spec.min_notional}")
        if reduce_only:
            self._check_reduce_only(
                account, spec, side, amount, may_rest=tif in ("GTC", "PostOnly"), leg=leg
            )
        if type == "market" and best_opposite is None:
            raise EngineError("no_liquidity", f"no {spec.symbol} liquidity to {side} against")
        killed: str | None = None
        if tif == "PostOnly" and limit is not None and market.would_take(side, limit):
            if not kill_unfillable:
                raise EngineError("post_only_would_take", f"{side} at {limit} would take liquidity")
            killed = "post_only_would_take"
        if tif == "PostOnly":
            plan = _NO_MATCH
        elif quote_qty:
            plan = market.plan(side, uid, qty=None, limit=None, budget=amount)
        else:
            plan = market.plan(side, uid, qty=amount, limit=limit)
        if tif == "FOK" and (plan.stop != "budget" if quote_qty else plan.qty < amount):
            if not kill_unfillable:
                raise EngineError("fok_unfillable", f"only {plan.qty} of {amount} is available")
            killed = "fok_unfillable"
        now = self._now()
        order = Order(
            order_id="",
            uid=uid,
            spec=spec,
            side=side,
            type=type,
            price=limit,
            qty=amount,
            time_in_force=tif,
            reduce_only=reduce_only,
            client_order_id=client_order_id,
            quote_qty=quote_qty,
            created_ms=now,
            updated_ms=now,
            seq=self._order_seq + 1,
            leg=leg,
        )
        if killed is not None:
            self._register(order)
            order.status, order.cancel_reason = order.cancelled_status(), killed
            return order.view()
        trial, outcomes = self._try(account, order, plan, now)
        # Committing from here on: nothing below raises.
        self._register(order)
        self._commit(market, trial, order, plan, outcomes, now, requeue=True)
        return order.view()

    def _register(self, order: Order) -> None:
        """Give an accepted order its id and record it (lists, ledger, client id)."""
        self._order_seq += 1
        order.order_id = self._claim_order_id()
        self._orders[order.order_id] = order
        self._user_orders[order.uid].append(order)
        self._ledger.append(order)
        if order.client_order_id is not None:
            self._client_ids[order.uid][order.client_order_id] = order

    def amend_order(
        self,
        uid: int,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        category: str | None = None,
    ) -> OrderView:
        """Change an open limit order's total qty and/or price.

        A price change or a qty increase sends the order to the back of its (new) level; a
        pure qty decrease keeps its place. A new price that crosses trades at once (as taker).
        """
        account = self._account(uid)
        spec = self.instrument(symbol, category)
        order = self._find(uid, order_id, client_order_id, spec)
        if not order.is_open:
            raise EngineError("order_closed", f"order {order.order_id} is {order.status}")
        if qty is None and price is None:
            raise EngineError("invalid_request", "nothing to amend: give qty and/or price")
        assert order.price is not None
        new_qty = order.qty if qty is None else check_qty(spec, qty)
        new_price = order.price if price is None else check_price(spec, price)
        if new_qty <= order.filled:
            raise EngineError("invalid_qty", f"qty {new_qty} must exceed filled {order.filled}")
        if new_qty == order.qty and new_price == order.price:
            raise EngineError("invalid_request", "the amendment changes nothing")
        if quote_value(spec, new_qty, new_price) < spec.min_notional:
            raise EngineError("min_notional", f"order value below {spec.min_notional}")
        if order.reduce_only:
            self._check_reduce_only(
                account, spec, order.side, new_qty - order.filled, may_rest=True, besides=order,
                leg=order.leg,
            )  # fmt: skip
        market = self._markets[spec.key]
        crosses = market.would_take(order.side, new_price)
        if crosses and order.time_in_force == "PostOnly":
            raise EngineError("post_only_would_take", f"amending to {new_price} would take")
        now = self._now()
        work = attrs.evolve(order, qty=new_qty, price=new_price, updated_ms=now)
        plan = _NO_MATCH
        if crosses:
            plan = market.plan(order.side, uid, qty=work.remaining, limit=new_price)
        trial, outcomes = self._try(account, work, plan, now)
        requeue = new_price != order.price or new_qty > order.qty
        if requeue:
            market.side_of(order.side).remove(order)
        for field in attrs.fields(Order):
            setattr(order, field.name, getattr(work, field.name))
        self._commit(market, trial, order, plan, outcomes, now, requeue=requeue)
        return order.view()

    def cancel_order(
        self,
        uid: int,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        category: str | None = None,
    ) -> OrderView:
        """Cancel one open order, releasing what it locked."""
        self._account(uid)
        spec = self.instrument(symbol, category)
        order = self._find(uid, order_id, client_order_id, spec)
        if not order.is_open:
            raise EngineError("order_closed", f"order {order.order_id} is {order.status}")
        self._cancel(order, "user", self._now())
        self._touch(self._markets[spec.key])
        return order.view()

    def cancel_all(
        self, uid: int, *, symbol: str | None = None, category: str | None = None
    ) -> list[OrderView]:
        """Cancel every open order of the account (optionally of one symbol/category)."""
        self._account(uid)
        if category is not None and category not in CATEGORIES:
            raise EngineError("invalid_request", f"unknown category {category!r}")
        if symbol is not None and not any(
            spec.symbol == symbol for spec in self.instruments.values()
        ):
            raise EngineError("unknown_symbol", f"no instrument {symbol!r}")
        now = self._now()
        targets = self._filter(self._open[uid].values(), symbol, category)
        touched: dict[InstrumentKey, Market] = {}
        for order in targets:
            self._cancel(order, "user", now)
            touched[order.spec.key] = self._markets[order.spec.key]
        for market in touched.values():
            self._touch(market)
        return [order.view() for order in targets]

    def get_order(
        self, uid: int, *, order_id: str | None = None, client_order_id: str | None = None
    ) -> OrderView:
        """One order of the account, open or closed."""
        self._account(uid)
        return self._find(uid, order_id, client_order_id, None).view()

    def open_orders(
        self, uid: int, *, symbol: str | None = None, category: str | None = None
    ) -> list[OrderView]:
        """The account's open orders, newest first."""
        self._account(uid)
        orders = self._filter(self._open[uid].values(), symbol, category)
        return [order.view() for order in orders]

    def closed_orders(
        self, uid: int, *, symbol: str | None = None, category: str | None = None
    ) -> list[OrderView]:
        """The account's filled and cancelled orders, newest first."""
        self._account(uid)
        orders = (o for o in self._user_orders[uid] if not o.is_open)
        return [order.view() for order in self._filter(orders, symbol, category)]

    def fills(
        self,
        uid: int,
        *,
        symbol: str | None = None,
        category: str | None = None,
        order_id: str | None = None,
    ) -> list[FillView]:
        """The account's executions, newest first."""
        self._account(uid)
        return [
            fill
            for fill in reversed(self._fills[uid])
            if (symbol is None or fill.symbol == symbol)
            and (category is None or fill.category == category)
            and (order_id is None or fill.order_id == order_id)
        ]

    def ledger(self) -> list[OrderView]:
        """Every order accepted since the reset, in acceptance order."""
        return [order.view() for order in self._ledger]

    # -- account views -------------------------------------------------------------------------

    def balances(self, uid: int, *, wallet: str | None = None) -> dict[str, BalanceView]:
        """Coin -> (total, locked, free) of one wallet of the account (None: the main one)."""
        coins = self._coins(self._account(uid), wallet)
        return {
            coin: BalanceView(coin=coin, total=b.total, locked=b.locked, free=b.free)
            for coin, b in sorted(coins.items())
        }

    def positions(
        self, uid: int, *, symbol: str | None = None, category: str | None = None
    ) -> list[PositionView]:
        """The account's derivatives positions; a named symbol always yields one (maybe flat)."""
        account = self._account(uid)
        views = []
        for spec in self.instruments.values():
            if not spec.is_derivative or (category is not None and spec.category != category):
                continue
            if symbol is not None and spec.symbol != symbol:
                continue
            mark = self._markets[spec.key].mid()
            mode = account.margin_mode_of(spec.key)
            for leg in LEGS if spec.key in account.hedged else ("",):
                position = account.current(spec.key, leg)
                if position is None:
                    if symbol is None:
                        continue
                    position = Position(created_ms=0, updated_ms=0)
                leverage = account.leverage_for(spec)
                views.append(
                    position_view(spec, position, leverage, mark, leg=leg, margin_mode=mode)
                )
        return views

    def audit(self) -> list[str]:
        """Internal consistency problems, for tests; empty when the state is sound."""
        problems: list[str] = []
        for uid, account in self._accounts.items():
            expected: dict[tuple[str, str], Decimal] = {}
            for order in self._open[uid].values():
                slot = (self.wallet_of(order.spec.category), order.lock_coin)
                expected[slot] = expected.get(slot, ZERO) + order.lock
                if order.remaining <= 0 or order.lock < 0:
                    problems.append(f"open order {order.order_id} has {order.remaining} left")
            held = [*account.positions.items(), *((k, p) for (k, _), p in account.legs.items())]
            for key, position in held:
                spec = self.instruments[key]
                slot = (self.wallet_of(spec.category), spec.settle)
                expected[slot] = expected.get(slot, ZERO) + position.margin
                if (position.size == 0) != (position.entry is None) or position.margin < 0:
                    problems.append(f"uid {uid} position {key} is inconsistent")
            for wallet in self.wallet_names:
                for coin, balance in self._coins(account, wallet).items():
                    lock = expected.get((wallet, coin), ZERO)
                    if balance.locked != lock or balance.free < 0:
                        problems.append(f"uid {uid} {wallet} {coin}: {balance} vs locks {lock}")
        for key, market in self._markets.items():
            bid, ask = market.bids.best(), market.asks.best()
            if bid is not None and ask is not None and bid >= ask:
                problems.append(f"{key} book is crossed: {bid} >= {ask}")
            for side in (market.bids, market.asks):
                for _, orders in side.best_first():
                    for order in orders:
                        if order.remaining <= 0 or (order.uid and not order.is_open):
                            problems.append(f"{key} book holds a dead order {order.order_id}")
        resting = sum(len(orders) for orders in self._open.values())
        booked = sum(
            1
            for market in self._markets.values()
            for side in (market.bids, market.asks)
            for _, orders in side.best_first()
            for order in orders
            if order.uid != MARKET_MAKER_UID
        )
        if resting != booked:
            problems.append(f"{resting} open user orders but {booked} in the books")
        return problems

    # -- internals: lookups, validation, views ---------------------------------------------------

    def _now(self) -> int:
        return int(self._now_ms())

    def _open_orders_of(self, uid: int) -> Iterable[Order]:
        return self._open[uid].values()

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _touch(self, market: Market) -> None:
        self._seq += 1
        market.update_id += 1
        market.seq = self._seq

    def _account(self, uid: int) -> Account:
        account = self._accounts.get(uid)
        if account is None:
            raise EngineError("unknown_account", f"no account {uid!r}")
        return account

    def _find(
        self,
        uid: int,
        order_id: str | None,
        client_order_id: str | None,
        spec: InstrumentSpec | None,
    ) -> Order:
        if order_id is None and client_order_id is None:
            raise EngineError("invalid_request", "give order_id or client_order_id")
        by_id = self._orders.get(order_id) if order_id is not None else None
        by_client = (
            self._client_ids[uid].get(client_order_id) if client_order_id is not None else None
        )
        order = by_id if order_id is not None else by_client
        if (
            order is None
            or order.uid != uid
            or (client_order_id is not None and by_client is not order)
            or (spec is not None and order.spec.key != spec.key)
        ):
            raise EngineError("order_not_found", f"no order {order_id or client_order_id!r}")
        return order

    @staticmethod
    def _filter(orders: Iterable[Order], symbol: str | None, category: str | None) -> list[Order]:
        chosen = [
            o
            for o in orders
            if (symbol is None or o.spec.symbol == symbol)
            and (category is None or o.spec.category == category)
        ]
        return sorted(chosen, key=lambda o: o.seq, reverse=True)
