"""Account bookkeeping: balances, positions, order reservations and fill settlement.

Positions are one-way (one signed position per instrument) unless the instrument is in the
account's ``hedged`` set: then it holds two legs, ``"long"`` (size >= 0) and ``"short"``
(size <= 0), each settled like a one-way position that only its own orders touch.

Money rules, chosen so the conservation checks are exact:

* notional values of spot and linear fills (``price * qty``) are exact Decimals, never rounded;
* fees, margins, inverse (coin) values and realised PnL are rounded to 8 decimals
  (``MONEY``), always toward zero, so a fill never charges more than was reserved for it;
* an order's reservation is rounded up, so the fills it funds always fit inside it.

Wallets: an account holds one wallet (its ``balances``) unless the exchange keeps separate
ones, as Binance does for spot and USD-M futures. Then ``routing`` names the wallet of each
category that does not use the main one, and that category's fills, fees, margin and order
reservations touch only its own wallet.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal

import attrs

from exchanges.emulator.instruments import InstrumentKey, InstrumentSpec, PositionView

__all__ = [
    "DEFAULT_LEVERAGE",
    "MAINTENANCE_MARGIN_RATE",
    "MONEY",
    "ZERO",
    "Account",
    "Balance",
    "FillOutcome",
    "Position",
    "apply_fill",
    "div",
    "liquidation_price",
    "money_down",
    "position_view",
    "quote_value",
    "reservation",
    "settle_value",
    "unrealized_pnl",
]

ZERO = Decimal(0)
MONEY = Decimal("0.00000001")
DEFAULT_LEVERAGE = Decimal(10)
MAINTENANCE_MARGIN_RATE = Decimal("0.005")

# Divisions (1/price, 1/leverage) do not terminate; 50 digits keep their error far below MONEY.
_CTX = Context(prec=50)


def div(a: Decimal, b: Decimal) -> Decimal:
    """``a / b`` at 50 significant digits, independent of the caller's decimal context."""
    return _CTX.divide(a, b)


def money_down(value: Decimal) -> Decimal:
    """Round an amount of money to 8 decimals toward zero."""
    return value.quantize(MONEY, rounding=ROUND_DOWN, context=_CTX)


def money_up(value: Decimal) -> Decimal:
    """Round an amount of money to 8 decimals toward +infinity (for reservations)."""
    return value.quantize(MONEY, rounding=ROUND_CEILING, context=_CTX)


def price_round(spec: InstrumentSpec, value: Decimal, *, extra_digits: int = 4) -> Decimal:
    """Round a derived price (average, entry, liquidation) to the tick's precision plus extras."""
    exponent = int(spec.tick_size.as_tuple().exponent) - extra_digits
    return value.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_EVEN, context=_CTX)


def quote_value(spec: InstrumentSpec, qty: Decimal, price: Decimal) -> Decimal:
    """Value in quote units: ``price * qty`` (spot, linear) or the contracts' USD face (inverse)."""
    if spec.category == "inverse":
        return qty * spec.contract_size
    return qty * price * spec.contract_size


def settle_value(spec: InstrumentSpec, qty: Decimal, price: Decimal) -> Decimal:
    """A derivatives notional in the settle coin (exact for linear, 50 digits for inverse)."""
    if spec.category == "inverse":
        return div(qty * spec.contract_size, price)
    return qty * price * spec.contract_size


@attrs.define
class Balance:
    """One coin of an account; ``locked`` covers open orders and position margin."""

    total: Decimal = ZERO
    locked: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        """What can still be spent or locked."""
        return self.total - self.locked


@attrs.define
class Position:
    """A one-way position: signed ``size`` (> 0 long), margin locked in the settle coin."""

    created_ms: int
    updated_ms: int
    size: Decimal = ZERO
    entry: Decimal | None = None
    margin: Decimal = ZERO
    realized: Decimal = ZERO  # every settle-coin change caused by this position: PnL minus fees


@attrs.define
class Account:
    """One user account: balances per coin, positions and leverage per derivatives instrument."""

    uid: int
    balances: dict[str, Balance] = attrs.Factory(dict)  # the main wallet
    positions: dict[InstrumentKey, Position] = attrs.Factory(dict)
    leverage: dict[InstrumentKey, Decimal] = attrs.Factory(dict)
    #: Hedge mode: the instruments that hold a long and a short leg, and those legs.
    hedged: set[InstrumentKey] = attrs.Factory(set)
    legs: dict[tuple[InstrumentKey, str], Position] = attrs.Factory(dict)
    #: Margin mode of the whole account, and of instruments that have their own.
    margin_mode: str = "cross"
    margin_modes: dict[InstrumentKey, str] = attrs.Factory(dict)
    #: The other wallets by name, and the categories that use them (category -> wallet name).
    wallets: dict[str, dict[str, Balance]] = attrs.Factory(dict)
    routing: dict[str, str] = attrs.Factory(dict)

    def wallet(self, category: str | None = None) -> dict[str, Balance]:
        """The coins of the wallet that ``category`` uses (the main wallet for None)."""
        name = self.routing.get(category) if category is not None else None
        return self.balances if name is None else self.wallets[name]

    def balance(self, coin: str, category: str | None = None) -> Balance:
        """The coin's balance in the wallet of ``category``, created empty on first use."""
        coins = self.wallet(category)
        found = coins.get(coin)
        if found is None:
            found = coins[coin] = Balance()
        return found

    def all_wallets(self) -> list[dict[str, Balance]]:
        """The main wallet, then the others."""
        return [self.balances, *self.wallets.values()]

    def position(self, key: InstrumentKey, now: int) -> Position:
        """The instrument's position, created flat on first use."""
        found = self.positions.get(key)
        if found is None:
            found = self.positions[key] = Position(created_ms=now, updated_ms=now)
        return found

    def position_of(self, key: InstrumentKey, leg: str, now: int) -> Position:
        """The one-way position (``leg`` "") or a hedge leg, created flat on first use."""
        if not leg:
            return self.position(key, now)
        found = self.legs.get((key, leg))
        if found is None:
            found = self.legs[(key, leg)] = Position(created_ms=now, updated_ms=now)
        return found

    def current(self, key: InstrumentKey, leg: str) -> Position | None:
        """The one-way position or hedge leg if it was ever opened."""
        return self.positions.get(key) if not leg else self.legs.get((key, leg))

    def margin_mode_of(self, key: InstrumentKey) -> str:
        """The instrument's own margin mode, else the account's."""
        return self.margin_modes.get(key, self.margin_mode)

    def leverage_for(self, spec: InstrumentSpec) -> Decimal:
        """The leverage set for the instrument, else the default capped by its maximum."""
        return self.leverage.get(spec.key, min(DEFAULT_LEVERAGE, spec.max_leverage))

    def clone(self) -> Account:
        """A deep copy to try an operation on before committing it."""
        return Account(
            uid=self.uid,
            balances={coin: attrs.evolve(b) for coin, b in self.balances.items()},
            positions={key: attrs.evolve(p) for key, p in self.positions.items()},
            leverage=dict(self.leverage),
            hedged=set(self.hedged),
            legs={key: attrs.evolve(p) for key, p in self.legs.items()},
            margin_mode=self.margin_mode,
            margin_modes=dict(self.margin_modes),
            wallets={
                name: {coin: attrs.evolve(b) for coin, b in coins.items()}
                for name, coins in self.wallets.items()
            },
            routing=dict(self.routing),
        )

    def solvent(self) -> bool:
        """True when no coin of any wallet is overdrawn (free >= 0 and locked >= 0)."""
        return all(
            b.free >= 0 and b.locked >= 0 for coins in self.all_wallets() for b in coins.values()
        )


def reservation(
    spec: InstrumentSpec,
    side: str,
    qty: Decimal,
    price: Decimal,
    leverage: Decimal,
    *,
    reduce_only: bool,
) -> tuple[str, Decimal]:
    """The coin and amount a resting order locks for ``qty`` still open at ``price``.

    Spot buys lock the exact notional (the buyer's fee is paid in the base coin received),
    spot sells the base quantity. Derivatives orders lock initial margin plus a fee at the
    higher of the two rates, as if they all opened exposure (closing limit orders should be
    reduce-only, which lock nothing).
    """
    if spec.category == "spot":
        return (spec.quote, qty * price) if side == "buy" else (spec.base, qty)
    if reduce_only:
        return spec.settle, ZERO
    value = settle_value(spec, qty, price)
    fee_rate = max(spec.maker_fee, spec.taker_fee, ZERO)
    return spec.settle, money_up(div(value, leverage) + value * fee_rate)


@attrs.frozen
class FillOutcome:
    """What one fill did to one account."""

    fee: Decimal
    fee_coin: str
    lock_used: Decimal  # taken from the order's own reservation (makers only)


def apply_fill(
    account: Account,
    spec: InstrumentSpec,
    side: str,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    *,
    order_lock: Decimal | None,
    now: int,
    leg: str = "",
) -> FillOutcome:
    """Settle one fill on one account (on a hedge ``leg`` when given).

    ``order_lock`` is the filling order's remaining reservation when it rests in the book (a
    maker): the fill is paid from it. A taker (``None``) pays from its free balance, and the
    caller checks solvency afterwards on a clone.
    """
    if spec.category == "spot":
        return _spot_fill(account, spec, side, qty, price, fee_rate, order_lock)
    return _derivative_fill(account, spec, side, qty, price, fee_rate, order_lock, now, leg)


def _spot_fill(
    account: Account,
    spec: InstrumentSpec,
    side: str,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    order_lock: Decimal | None,
) -> FillOutcome:
    base, quote = (
        account.balance(spec.base, spec.category),
        account.balance(spec.quote, spec.category),
    )
    value = qty * price
    if side == "buy":
        fee = money_down(qty * fee_rate)
        used = ZERO if order_lock is None else min(order_lock, value)
        quote.total -= value
        quote.locked -= used
        base.total += qty - fee
        return FillOutcome(fee=fee, fee_coin=spec.base, lock_used=used)
    fee = money_down(value * fee_rate)
    used = ZERO if order_lock is None else min(order_lock, qty)
    base.total -= qty
    base.locked -= used
    quote.total += value - fee
    return FillOutcome(fee=fee, fee_coin=spec.quote, lock_used=used)


def _derivative_fill(
    account: Account,
    spec: InstrumentSpec,
    side: str,
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
    order_lock: Decimal | None,
    now: int,
    leg: str,
) -> FillOutcome:
    position = account.position_of(spec.key, leg, now)
    balance = account.balance(spec.settle, spec.category)
    direction = 1 if side == "buy" else -1
    size = abs(position.size)
    opposite = position.size != 0 and (position.size > 0) != (direction > 0)
    close_qty = min(qty, size) if opposite else ZERO
    open_qty = qty - close_qty
    fee_total = ZERO
    used = ZERO
    if close_qty:
        # Close first, so a loss can never eat what the order reserved for its opening part.
        before = balance.total
        released = position.margin
        if close_qty != size:
            released = money_down(div(position.margin * close_qty, size))
        position.margin -= released
        balance.locked -= released
        fee = money_down(settle_value(spec, close_qty, price) * fee_rate)
        balance.total += _closing_pnl(spec, position, close_qty, price) - fee
        if balance.free < 0:
            # No liquidation engine: a loss beyond what the account holds is written off, as
            # an exchange's insurance fund would after a late liquidation.
            balance.total -= balance.free
        position.size += direction * close_qty
        if position.size == 0:
            position.entry = None
        position.realized += balance.total - before
        fee_total += fee
    if open_qty:
        value = settle_value(spec, open_qty, price)
        margin = money_down(div(value, account.leverage_for(spec)))
        fee = money_down(value * fee_rate)
        if order_lock is not None:
            used = min(order_lock, margin + fee)
            balance.locked -= used
        balance.locked += margin
        balance.total -= fee
        position.margin += margin
        position.realized -= fee
        position.entry = _entry_after(spec, position, open_qty, price)
        position.size += direction * open_qty
        fee_total += fee
    position.updated_ms = now
    return FillOutcome(fee=fee_total, fee_coin=spec.settle, lock_used=used)


def _closing_pnl(spec: InstrumentSpec, position: Position, qty: Decimal, price: Decimal) -> Decimal:
    assert position.entry is not None
    direction = 1 if position.size > 0 else -1
    if spec.category == "inverse":
        pnl = qty * spec.contract_size * (div(Decimal(1), position.entry) - div(Decimal(1), price))
    else:
        pnl = (price - position.entry) * qty * spec.contract_size
    return money_down(direction * pnl)


def _entry_after(spec: InstrumentSpec, position: Position, qty: Decimal, price: Decimal) -> Decimal:
    size = abs(position.size)
    if position.entry is None or size == 0:
        return price
    if spec.category == "inverse":
        # Inverse contracts average in coin terms: the harmonic mean of the prices.
        coins = div(size, position.entry) + div(qty, price)
        return price_round(spec, div(size + qty, coins))
    return price_round(spec, div(size * position.entry + qty * price, size + qty))


def unrealized_pnl(spec: InstrumentSpec, position: Position, mark: Decimal) -> Decimal:
    """The position's PnL at ``mark`` in the settle coin (8 decimals)."""
    if position.entry is None or position.size == 0:
        return ZERO
    direction = 1 if position.size > 0 else -1
    size = abs(position.size)
    if spec.category == "inverse":
        pnl = size * spec.contract_size * (div(Decimal(1), position.entry) - div(Decimal(1), mark))
    else:
        pnl = (mark - position.entry) * size * spec.contract_size
    return money_down(direction * pnl)


def liquidation_price(
    spec: InstrumentSpec, position: Position, leverage: Decimal
) -> Decimal | None:
    """An isolated-margin estimate: where the loss eats the initial minus maintenance margin."""
    if position.entry is None or position.size == 0:
        return None
    buffer = div(Decimal(1), leverage) - MAINTENANCE_MARGIN_RATE
    long = position.size > 0
    if spec.category == "inverse":
        denominator = 1 + buffer if long else 1 - buffer
        if denominator <= 0:
            return None
        value = div(position.entry, denominator)
    else:
        value = position.entry * (1 - buffer if long else 1 + buffer)
    result = price_round(spec, value, extra_digits=0)
    return result if result > 0 else None


def position_view(
    spec: InstrumentSpec,
    position: Position,
    leverage: Decimal,
    mark: Decimal,
    *,
    leg: str = "",
    margin_mode: str = "cross",
) -> PositionView:
    """The public snapshot of a position valued at ``mark``."""
    side = "" if position.size == 0 else ("buy" if position.size > 0 else "sell")
    return PositionView(
        symbol=spec.symbol,
        category=spec.category,
        side=side,
        size=abs(position.size),
        entry_price=position.entry,
        mark_price=mark,
        liquidation_price=liquidation_price(spec, position, leverage),
        unrealized_pnl=unrealized_pnl(spec, position, mark),
        realized_pnl=position.realized,
        leverage=leverage,
        position_margin=position.margin,
        created_ms=position.created_ms,
        updated_ms=position.updated_ms,
        leg=leg,
        margin_mode=margin_mode,
    )
