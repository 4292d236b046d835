"""Accounts of the emulator's engine (an ``Engine`` mixin): wallets, deposits, transfers, leverage.

An account has one wallet unless ``set_wallets`` splits accounts (Binance's spot and USD-M
wallets): each category then pays and is paid in its own wallet only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from exchanges.emulator.accounts import (
    ZERO,
    Account,
    Balance,
    div,
    money_down,
    reservation,
    settle_value,
)
from exchanges.emulator.instruments import (
    CATEGORIES,
    EngineError,
    FillView,
    InstrumentSpec,
    to_amount,
)
from exchanges.emulator.modes import LEGS
from exchanges.emulator.orders import MARKET_MAKER_UID, Order

__all__ = ["MAIN_WALLET", "AccountsMixin"]

MAIN_WALLET = "main"


class AccountsMixin:
    """Accounts, their wallets and leverage; ``Engine`` provides the state and lookups."""

    _accounts: dict[int, Account]
    _open: dict[int, dict[str, Order]]
    _user_orders: dict[int, list[Order]]
    _client_ids: dict[int, dict[str, Order]]
    _fills: dict[int, list[FillView]]
    _main_wallet: str
    _routing: dict[str, str]

    # Provided by Engine.
    def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
        """The instrument of ``symbol`` (``Engine.instrument``)."""
        raise NotImplementedError

    def _account(self, uid: int) -> Account:
        raise NotImplementedError

    def set_wallets(self, wallets: Mapping[str, Iterable[str]]) -> None:
        """Split accounts into wallets: name -> the categories it pays for; the first is main.

        Only before any account exists (a front-end calls it when it is built).
        """
        if self._accounts:
            raise EngineError("invalid_request", "wallets are set before any account exists")
        names = list(wallets)
        if not names:
            raise EngineError("invalid_request", "at least one wallet")
        routing: dict[str, str] = {}
        for name in names[1:]:
            for category in wallets[name]:
                if category not in CATEGORIES:
                    raise EngineError("invalid_request", f"unknown category {category!r}")
                routing[category] = name
        self._main_wallet = names[0]
        self._routing = routing

    @property
    def wallet_names(self) -> list[str]:
        """The main wallet's name, then the others'."""
        return [self._main_wallet, *dict.fromkeys(self._routing.values())]

    def wallet_of(self, category: str) -> str:
        """The name of the wallet that pays for ``category``."""
        return self._routing.get(category, self._main_wallet)

    def _coins(self, account: Account, wallet: str | None) -> dict[str, Balance]:
        if wallet is None or wallet == self._main_wallet:
            return account.balances
        if wallet not in account.wallets:
            known = ", ".join(self.wallet_names)
            raise EngineError("invalid_request", f"unknown wallet {wallet!r} (known: {known})")
        return account.wallets[wallet]

    def create_account(
        self,
        uid: int,
        balances: Mapping[str, Decimal],
        wallets: Mapping[str, Mapping[str, Decimal]] | None = None,
    ) -> None:
        """Open a new account: every wallet gets ``balances`` unless ``wallets`` names its own."""
        if isinstance(uid, bool) or not isinstance(uid, int) or uid == MARKET_MAKER_UID:
            raise EngineError("invalid_request", f"uid must be a non-zero int, got {uid!r}")
        if uid in self._accounts:
            raise EngineError("invalid_request", f"account {uid} already exists")
        account = Account(uid=uid, routing=dict(self._routing))
        for name in self.wallet_names[1:]:
            account.wallets[name] = {}
        own = dict(wallets or {})
        for name in own:
            self._coins(account, name)  # an unknown wallet name is refused
        for name in self.wallet_names:
            coins = self._coins(account, name)
            for coin, value in own.get(name, balances).items():
                amount = to_amount(value, "invalid_request", f"balance of {coin}")
                if not isinstance(coin, str) or not coin or amount < 0:
                    raise EngineError("invalid_request", f"bad balance {coin!r}: {value}")
                coins[coin] = Balance(total=amount)
        self._accounts[uid] = account
        self._user_orders[uid] = []
        self._open[uid] = {}
        self._client_ids[uid] = {}
        self._fills[uid] = []

    def deposit(self, uid: int, coin: str, amount: Decimal, *, wallet: str | None = None) -> None:
        """Add to (or, with a negative amount, withdraw from) a coin's total in a wallet."""
        account = self._account(uid)
        coins = self._coins(account, wallet)
        value = to_amount(amount, "invalid_request", "amount")
        if not isinstance(coin, str) or not coin:
            raise EngineError("invalid_request", f"bad coin {coin!r}")
        free = coins[coin].free if coin in coins else ZERO
        if free + value < 0:
            raise EngineError("insufficient_funds", f"withdrawing {-value} {coin}, free {free}")
        coins.setdefault(coin, Balance()).total += value

    def transfer(self, uid: int, coin: str, amount: Decimal, source: str, target: str) -> None:
        """Move ``amount`` (> 0) of free ``coin`` from wallet ``source`` to wallet ``target``."""
        account = self._account(uid)
        value = to_amount(amount, "invalid_request", "amount")
        if value <= 0:
            raise EngineError("invalid_request", "amount must be > 0")
        origin, destination = self._coins(account, source), self._coins(account, target)
        if origin is destination:
            raise EngineError("invalid_request", "source and target are the same wallet")
        free = origin[coin].free if coin in origin else ZERO
        if free < value:
            raise EngineError("insufficient_funds", f"moving {value} {coin}, free {free}")
        origin[coin].total -= value
        destination.setdefault(coin, Balance()).total += value

    def has_account(self, uid: int) -> bool:
        """True if the uid has an account (the market maker, uid 0, has none)."""
        return uid in self._accounts

    def leverage(self, uid: int, symbol: str, *, category: str | None = None) -> Decimal:
        """The leverage in force for a derivatives instrument (set, else the default); the
        margin of its position and open orders is their value divided by it."""
        spec = self.instrument(symbol, category)
        if not spec.is_derivative:
            raise EngineError("invalid_request", f"{spec.symbol} is spot: no leverage")
        return self._account(uid).leverage_for(spec)

    def set_leverage(
        self, uid: int, symbol: str, leverage: Decimal, *, category: str | None = None
    ) -> None:
        """Set a derivatives instrument's leverage, re-locking position and order margin."""
        account = self._account(uid)
        spec = self.instrument(symbol, category)
        value = to_amount(leverage, "invalid_request", "leverage")
        if not spec.is_derivative:
            raise EngineError("invalid_request", f"{spec.symbol} is spot: no leverage")
        if not 1 <= value <= spec.max_leverage or value % Decimal("0.01") != 0:
            raise EngineError("invalid_request", f"leverage must be 1..{spec.max_leverage}")
        trial = account.clone()
        trial.leverage[spec.key] = value
        balance = trial.balance(spec.settle, spec.category)
        for leg in ("", *LEGS):
            position = trial.current(spec.key, leg)
            if position is not None and position.entry is not None:
                notional = settle_value(spec, abs(position.size), position.entry)
                margin = money_down(div(notional, value))
                balance.locked += margin - position.margin
                position.margin = margin
        new_locks: list[tuple[Order, Decimal]] = []
        for order in self._open[uid].values():
            if order.spec.key == spec.key:
                assert order.price is not None
                _, lock = reservation(
                    spec, order.side, order.remaining, order.price, value,
                    reduce_only=order.reduce_only,
                )  # fmt: skip
                balance.locked += lock - order.lock
                new_locks.append((order, lock))
        if not trial.solvent():
            raise EngineError("insufficient_funds", "not enough free margin for that leverage")
        self._accounts[uid] = trial
        for order, lock in new_locks:
            order.lock = lock
