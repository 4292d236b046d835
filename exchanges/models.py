"""The data every adapter returns: frozen, slotted attrs classes with Decimal amounts.

Times are int milliseconds since the epoch (UTC). Each model keeps ``raw``, the exchange's own
JSON for that item, as an escape hatch; ``raw`` takes no part in equality or repr, so models from
two sources that mean the same thing compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

import attrs

__all__ = [
    "Balance",
    "Balances",
    "Candle",
    "Fill",
    "Finding",
    "FundingRate",
    "FundingRecord",
    "KeyAudit",
    "KeyInfo",
    "LeverageSetting",
    "MarginMode",
    "MarginModeSetting",
    "Market",
    "MarketType",
    "ModeScope",
    "Order",
    "OrderBook",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionModeSetting",
    "Raw",
    "Severity",
    "StopSpec",
    "Ticker",
    "Trade",
    "TradingFee",
    "TradingStop",
    "TriggerBy",
    "TriggerDirection",
]

Raw = Any
MarketType = Literal["spot", "swap", "future", "option"]
OrderSide = Literal["buy", "sell"]
#: How a position's margin is held: shared by the account (cross) or set aside (isolated).
MarginMode = Literal["cross", "isolated"]
#: What one margin-mode or position-mode change applies to on the exchange: the account, the
#: symbol, or every contract settled in one coin (Bybit's coin-level position-mode switch).
ModeScope = Literal["account", "symbol", "coin"]
OrderType = Literal["limit", "market"]
OrderStatus = Literal["open", "closed", "canceled", "rejected", "expired"]
Severity = Literal["critical", "warning", "info"]
#: The price a trigger watches: the last traded price, the mark price or the index price.
TriggerBy = Literal["last", "mark", "index"]
#: Which way the watched price must move to reach a trigger: up to it, or down to it.
TriggerDirection = Literal["rise", "fall"]


def _to_step(value: Decimal, step: Decimal | None, rounding: str) -> Decimal:
    if not step:
        return value
    # Multiples of the step, not of its exponent: a step of 0.5 or 0.01000000 both work.
    return (value / step).to_integral_value(rounding=rounding) * step


def _raw() -> Any:
    return attrs.field(default=None, eq=False, repr=False, kw_only=True)


@attrs.frozen
class Market:
    """A tradable instrument with its precision and limits, all in unified units.

    Amounts (``amount_step``, ``min_amount``, ``max_amount``) are in the base currency for spot
    and linear contracts and in the quote currency (USD) for inverse contracts;
    ``contract_size`` is one contract's worth in that unit.
    """

    symbol: str
    id: str
    type: MarketType
    base: str
    quote: str
    settle: str | None
    linear: bool | None
    inverse: bool | None
    contract_size: Decimal | None
    price_step: Decimal | None
    amount_step: Decimal | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    min_notional: Decimal | None
    active: bool
    expiry: int | None = None
    strike: Decimal | None = None
    option_type: Literal["call", "put"] | None = None
    category: str | None = None
    #: True when the exchange's API counts this market's amounts in contracts of
    #: ``contract_size`` (OKX swaps and futures). Every amount the library takes or returns is
    #: still unified (``exchanges.units``): base currency, quote for inverse contracts.
    counts_contracts: bool = False
    raw: Raw = _raw()

    @property
    def spot(self) -> bool:
        """True for a spot market."""
        return self.type == "spot"

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
        """``price`` as a whole number of ``price_step`` (unchanged when the step is unknown)."""
        return _to_step(price, self.price_step, rounding)

    def round_amount(self, amount: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
        """``amount`` as a whole number of ``amount_step``, rounded down by default."""
        return _to_step(amount, self.amount_step, rounding)

    @property
    def contract(self) -> bool:
        """True for swaps, futures and options."""
        return self.type != "spot"


@attrs.frozen
class Ticker:
    """Best prices and 24-hour statistics of one market."""

    symbol: str
    timestamp: int | None
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    high: Decimal | None
    low: Decimal | None
    base_volume: Decimal | None
    quote_volume: Decimal | None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    open: Decimal | None = None
    mark_price: Decimal | None = None
    index_price: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_time: int | None = None
    raw: Raw = _raw()


@attrs.frozen
class FundingRate:
    """A perpetual swap's funding rate for its next settlement, with mark and index prices."""

    symbol: str
    #: Charged at ``funding_time``; until then the exchange's estimate (OKX: its forecast).
    rate: Decimal
    timestamp: int | None
    #: The next settlement, the one ``rate`` is charged at (``Ticker.next_funding_time``).
    funding_time: int | None
    #: The settlement after ``funding_time``.
    next_funding_time: int | None
    mark_price: Decimal | None
    index_price: Decimal | None
    #: The time between two settlements.
    interval_ms: int | None = None
    raw: Raw = _raw()


@attrs.frozen
class FundingRecord:
    """One settled funding of a perpetual swap: the rate charged at ``timestamp``."""

    symbol: str
    rate: Decimal
    timestamp: int
    raw: Raw = _raw()


@attrs.frozen
class OrderBook:
    """Price levels, best first: ``bids`` descending, ``asks`` ascending, as (price, amount)."""

    symbol: str
    timestamp: int | None
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    sequence: int | None
    raw: Raw = _raw()

    @property
    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """The highest bid, or None."""
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """The lowest ask, or None."""
        return self.asks[0] if self.asks else None


@attrs.frozen
class Trade:
    """A public trade; ``side`` is the taker's side."""

    id: str
    symbol: str
    timestamp: int
    side: OrderSide | None
    price: Decimal
    amount: Decimal
    raw: Raw = _raw()


@attrs.frozen
class Candle:
    """One OHLCV bar; ``timestamp`` is the bar's start."""

    timestamp: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal | None = None
    raw: Raw = _raw()


@attrs.frozen
class Balance:
    """One currency's balance: ``free + used == total``."""

    currency: str
    free: Decimal
    used: Decimal
    total: Decimal
    raw: Raw = _raw()


def _balance_dict(items: Mapping[str, Balance]) -> dict[str, Balance]:
    return dict(items)


@attrs.frozen
class Balances(Mapping[str, Balance]):
    """A read-only mapping currency → ``Balance``, with the account-level JSON in ``raw``."""

    by_currency: dict[str, Balance] = attrs.field(converter=_balance_dict)
    timestamp: int | None = None
    raw: Raw = _raw()

    def __getitem__(self, currency: str) -> Balance:
        return self.by_currency[currency]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_currency)

    def __len__(self) -> int:
        return len(self.by_currency)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.by_currency.items())))


@attrs.frozen
class TradingFee:
    """The account's maker and taker fee rates for a market (0.001 = 0.1 %)."""

    symbol: str
    maker: Decimal
    taker: Decimal
    raw: Raw = _raw()


@attrs.frozen
class StopSpec:
    """A stop-loss or take-profit: when the ``trigger_by`` price reaches ``trigger_price`` it
    closes at market, or with a limit order at ``price`` when one is given.

    ``create_order(..., stop_loss=..., take_profit=...)`` and ``set_trading_stop`` take one, or
    just a price (``Decimal``) for a market stop on the last price.
    """

    trigger_price: Decimal
    price: Decimal | None = None
    trigger_by: TriggerBy = "last"


@attrs.frozen
class Order:
    """An order as the exchange reports it.

    Fields the exchange did not report are ``None``: an acknowledgement of a new order carries
    ids only on some exchanges, so ``status`` may be ``None`` until the order is fetched.
    """

    id: str | None
    client_order_id: str | None
    symbol: str
    type: OrderType | None
    side: OrderSide | None
    status: OrderStatus | None
    price: Decimal | None
    amount: Decimal | None
    filled: Decimal | None
    remaining: Decimal | None
    average: Decimal | None
    time_in_force: str | None
    post_only: bool | None
    reduce_only: bool | None
    timestamp: int | None
    updated: int | None
    cost: Decimal | None = None
    fee: Decimal | None = None
    fee_currency: str | None = None
    #: True for a conditional order, one that waits for its trigger (a trigger order, a stop,
    #: a take-profit, a trailing stop, a position's stop set by ``set_trading_stop``). It is
    #: ``open`` while it waits; what it places once triggered is an order of its own on
    #: Binance USD-M and OKX (algo orders), the same order on Bybit and Binance spot.
    conditional: bool = False
    #: The price that triggers it (a trailing stop's activation price, when it has one).
    trigger_price: Decimal | None = None
    #: The price the trigger watches.
    trigger_by: TriggerBy | None = None
    #: Stop-loss and take-profit attached to this order: they guard the position it opens.
    stop_loss: StopSpec | None = None
    take_profit: StopSpec | None = None
    #: A trailing stop's distance: a percentage of the price (Binance, OKX) or a price amount
    #: (OKX; Bybit's position trailing stop), whichever the exchange reports.
    trailing_percent: Decimal | None = None
    trailing_amount: Decimal | None = None
    #: When a GTD order lapses (``time_in_force`` ``"GTD"``), ms since the epoch; then its
    #: status is ``expired``. An order ended by its time in force at once (the unfilled part
    #: of an IOC, FOK or market order) is ``canceled`` on every exchange.
    good_till: int | None = None
    raw: Raw = _raw()


@attrs.frozen
class Fill:
    """One execution of one of the account's orders."""

    id: str
    order_id: str | None
    client_order_id: str | None
    symbol: str
    side: OrderSide | None
    price: Decimal
    amount: Decimal
    fee: Decimal | None
    fee_currency: str | None
    is_maker: bool | None
    timestamp: int
    raw: Raw = _raw()


@attrs.frozen
class Position:
    """An open derivatives position; ``size`` is positive for both sides."""

    symbol: str
    side: Literal["long", "short"]
    size: Decimal
    entry_price: Decimal | None
    mark_price: Decimal | None
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal | None
    leverage: Decimal | None
    timestamp: int | None = None
    #: Cross or isolated, as the exchange reports it (None where it says neither).
    margin_mode: MarginMode | None = None
    #: True for one side of a hedge-mode pair (``side`` says which); False in one-way mode.
    hedged: bool = False
    raw: Raw = _raw()


@attrs.frozen
class LeverageSetting:
    """The leverage a derivatives market is set to, as the exchange confirmed it."""

    symbol: str
    leverage: Decimal
    raw: Raw = _raw()


@attrs.frozen
class MarginModeSetting:
    """The margin mode now in force for ``symbol``; ``scope`` says what else it covers (Bybit's
    is the whole account)."""

    symbol: str
    margin_mode: MarginMode
    scope: ModeScope
    raw: Raw = _raw()


@attrs.frozen
class PositionModeSetting:
    """Hedge (two positions per symbol) or one-way mode, as now in force; ``scope`` says whether
    it covers one symbol, a settle coin's contracts or the account (``symbol`` is the one asked
    about, or None)."""

    hedged: bool
    symbol: str | None
    scope: ModeScope
    raw: Raw = _raw()


@attrs.frozen
class TradingStop:
    """The stop-loss, take-profit and trailing stop now guarding an open position, as set by
    ``set_trading_stop`` (each None when not set by that call)."""

    symbol: str
    #: The side of the position guarded.
    side: Literal["long", "short"]
    stop_loss: StopSpec | None = None
    take_profit: StopSpec | None = None
    trailing_amount: Decimal | None = None
    #: The price a trailing stop starts trailing from (None: at once).
    activation_price: Decimal | None = None
    raw: Raw = _raw()


@attrs.frozen
class KeyInfo:
    """What an API key may do, in normalised scopes.

    Scopes: ``read``, ``spot_trade``, ``derivatives_trade``, ``options_trade``, ``transfer``,
    ``withdraw``, plus exchange-specific ones prefixed by the exchange's name.
    """

    read_only: bool
    permissions: frozenset[str]
    ip_whitelist: tuple[str, ...]
    expires_at: int | None
    created_at: int | None
    label: str | None = None
    #: True when the exchange says the key is bound to IPs without listing them (Binance).
    ip_restricted: bool | None = None
    raw: Raw = _raw()

    @property
    def bound_to_ips(self) -> bool:
        """True if the key only works from whitelisted IP addresses."""
        return bool(self.ip_whitelist) or bool(self.ip_restricted)

    @property
    def can_withdraw(self) -> bool:
        """True if the key may withdraw funds."""
        return "withdraw" in self.permissions

    @property
    def can_trade(self) -> bool:
        """True if the key may place orders of any kind."""
        return not self.read_only and bool(
            self.permissions & {"spot_trade", "derivatives_trade", "options_trade"}
        )


@attrs.frozen
class Finding:
    """One observation of a key audit, with what to do about it."""

    severity: Severity
    code: str
    message: str
    advice: str


@attrs.frozen
class KeyAudit:
    """The findings of auditing one API key, most severe first."""

    exchange: str
    key: str
    info: KeyInfo
    findings: tuple[Finding, ...]

    @property
    def critical(self) -> bool:
        """True when any finding is critical."""
        return any(f.severity == "critical" for f in self.findings)
