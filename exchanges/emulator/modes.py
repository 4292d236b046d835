"""Margin and position modes of the emulator's engine (a mixin of ``Engine``).

The engine keeps, per account:

* a margin mode, ``"cross"`` or ``"isolated"``, for the whole account (Bybit's is account-wide)
  and optionally per instrument (Binance and OKX set it per symbol). It is reported with each
  position; margin and liquidation are computed the same way in both (the engine has no
  cross-margin liquidation engine: its liquidation price is always the isolated estimate);
* hedge mode per instrument: a hedged instrument holds a ``"long"`` and a ``"short"`` leg
  (``accounts.Position`` each). Every order on it names its leg (Bybit ``positionIdx`` 1/2,
  Binance ``positionSide`` LONG/SHORT, OKX ``posSide`` long/short); buying on the long leg or
  selling on the short one opens, the other side closes and is reduce-only on that leg.

Front-ends say which leg an order is for with ``order_leg`` around their usual order handler,
so the one-way order path stays exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from exchanges.emulator.instruments import EngineError, InstrumentKey, InstrumentSpec

if TYPE_CHECKING:
    from exchanges.emulator.accounts import Account
    from exchanges.emulator.orders import Order

__all__ = ["LEGS", "MARGIN_MODES", "ModesMixin"]

MARGIN_MODES = ("cross", "isolated")
LEGS = ("long", "short")


class ModesMixin:
    """Margin mode and hedge mode of accounts; ``Engine`` provides the lookups used here."""

    _leg_hint: str | None = None

    # Provided by Engine.
    def _account(self, uid: int) -> Account:
        raise NotImplementedError

    def instrument(self, symbol: str, category: str | None = None) -> InstrumentSpec:
        """The instrument of ``symbol`` (``Engine.instrument``)."""
        raise NotImplementedError

    def _open_orders_of(self, uid: int) -> Iterable[Order]:
        raise NotImplementedError

    # -- margin mode -------------------------------------------------------------------------

    def margin_mode(
        self, uid: int, symbol: str | None = None, *, category: str | None = None
    ) -> str:
        """The margin mode in force: the instrument's own, else the account's."""
        account = self._account(uid)
        if symbol is None:
            return account.margin_mode
        return account.margin_mode_of(self._derivative(symbol, category).key)

    def set_margin_mode(
        self,
        uid: int,
        mode: str,
        symbol: str | None = None,
        *,
        category: str | None = None,
        refuse_busy: bool = False,
    ) -> None:
        """Set the account's margin mode (``symbol`` None) or one instrument's.

        With ``refuse_busy`` an instrument with a position (``position_exists``) or open
        orders (``open_orders_exist``) keeps its mode, as Binance refuses (-4048, -4047).
        """
        if mode not in MARGIN_MODES:
            raise EngineError("invalid_request", f"margin mode must be cross or isolated: {mode!r}")
        account = self._account(uid)
        if symbol is None:
            account.margin_mode = mode
            return
        spec = self._derivative(symbol, category)
        if refuse_busy and account.margin_mode_of(spec.key) != mode:
            self._refuse_busy(account, [spec.key])
        account.margin_modes[spec.key] = mode

    # -- position (hedge) mode ---------------------------------------------------------------

    def hedged(self, uid: int, symbol: str, *, category: str | None = None) -> bool:
        """True when the instrument is in hedge mode (a long and a short leg)."""
        return self._derivative(symbol, category).key in self._account(uid).hedged

    def set_hedged(self, uid: int, specs: Iterable[InstrumentSpec], hedged: bool) -> None:
        """Put instruments in hedge (``True``) or one-way mode, all or none.

        Refused with ``position_exists`` or ``open_orders_exist`` when any instrument that
        would change holds a position or open orders (every exchange refuses that switch).
        """
        account = self._account(uid)
        changing = [s.key for s in specs if (s.key in account.hedged) != hedged]
        self._refuse_busy(account, changing)
        for key in changing:
            if hedged:
                account.hedged.add(key)
                account.positions.pop(key, None)
            else:
                account.hedged.discard(key)
                for leg in LEGS:
                    account.legs.pop((key, leg), None)

    def busy(self, uid: int, spec: InstrumentSpec) -> str | None:
        """``position_exists`` or ``open_orders_exist`` for a busy instrument, else None."""
        try:
            self._refuse_busy(self._account(uid), [spec.key])
        except EngineError as err:
            return err.kind
        return None

    @contextmanager
    def order_leg(self, leg: str | None) -> Iterator[None]:
        """Orders placed inside go to hedge leg ``leg`` ("long"/"short") of hedged instruments."""
        if leg is not None and leg not in LEGS:
            raise EngineError("invalid_request", f"leg must be long or short: {leg!r}")
        previous, self._leg_hint = self._leg_hint, leg
        try:
            yield
        finally:
            self._leg_hint = previous

    def _order_leg(
        self, account: Account, spec: InstrumentSpec, side: str, reduce_only: bool
    ) -> tuple[str, bool]:
        """(leg, reduce_only) of a new order: ("", as asked) in one-way mode; in hedge mode the
        leg the front-end named, closing orders made reduce-only on it."""
        if spec.key not in account.hedged:
            return "", reduce_only
        leg = self._leg_hint
        if leg is None:
            raise EngineError("position_side_required", f"{spec.symbol} is in hedge mode")
        closing = (leg == "long") == (side == "sell")
        return leg, reduce_only or closing

    # -- internals -----------------------------------------------------------------------------

    def _derivative(self, symbol: str, category: str | None) -> InstrumentSpec:
        spec = self.instrument(symbol, category)
        if not spec.is_derivative:
            raise EngineError(
                "invalid_request", f"{spec.symbol} is spot: no margin or position mode"
            )
        return spec

    def _refuse_busy(self, account: Account, keys: Iterable[InstrumentKey]) -> None:
        wanted = set(keys)
        if not wanted:
            return
        for key in wanted:
            sizes = [account.positions.get(key)] + [account.legs.get((key, leg)) for leg in LEGS]
            if any(p is not None and p.size != 0 for p in sizes):
                raise EngineError("position_exists", f"{key[1]} has an open position")
        if any(o.spec.key in wanted for o in self._open_orders_of(account.uid)):
            raise EngineError("open_orders_exist", "there are open orders")
