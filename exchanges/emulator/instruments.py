"""The matching engine's public vocabulary: instrument specs, the error type and read-only views.

Nothing here knows an exchange: symbols are opaque ids chosen by the front-ends, and error
``kind`` strings are the engine's own, which each front-end maps to its exchange's codes.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = [
    "CATEGORIES",
    "ERROR_KINDS",
    "ORDER_TYPES",
    "SIDES",
    "TIME_IN_FORCE",
    "BalanceView",
    "BookView",
    "CandleView",
    "EngineError",
    "FillView",
    "InstrumentKey",
    "InstrumentSpec",
    "OrderView",
    "PositionView",
    "PublicTradeView",
    "TickerView",
    "check_order",
    "check_price",
    "check_qty",
    "default_instruments",
    "to_amount",
]

SIDES = ("buy", "sell")
ORDER_TYPES = ("limit", "market")
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PostOnly")
CATEGORIES = ("spot", "linear", "inverse")

ERROR_KINDS = frozenset(
    {
        "unknown_symbol",
        "invalid_qty",
        "invalid_price",
        "min_notional",
        "insufficient_funds",
        "duplicate_client_order_id",
        "order_not_found",
        "order_closed",
        "post_only_would_take",
        "fok_unfillable",
        "reduce_only_rejected",
        "no_liquidity",
        "unknown_account",
        "invalid_request",
        # margin and position modes (exchanges.emulator.modes)
        "position_exists",
        "open_orders_exist",
        "position_side_required",
        # conditional orders and stops (exchanges.emulator.triggers)
        "trigger_would_fire",
        "no_position",
    }
)

InstrumentKey = tuple[str, str]
"""(category, symbol): symbols alone are not unique (spot and linear can both be "BTCUSDT")."""


class EngineError(Exception):
    """A rejected engine call; the engine's state is exactly as it was before the call."""

    def __init__(self, kind: str, message: str) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown engine error kind {kind!r}")
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@attrs.frozen
class InstrumentSpec:
    """One tradable instrument as the engine sees it; all amounts are Decimal."""

    symbol: str
    category: str
    base: str
    quote: str
    settle: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    contract_size: Decimal
    reference_price: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    max_leverage: Decimal = Decimal(100)

    def __attrs_post_init__(self) -> None:
        # A bad spec is a programming error of the front-end, not a request error.
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.symbol}: unknown category {self.category!r}")
        for name in ("tick_size", "lot_size", "min_qty", "max_qty", "contract_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"{self.symbol}: {name} must be a positive Decimal")
        if self.reference_price <= 0 or self.reference_price % self.tick_size != 0:
            raise ValueError(f"{self.symbol}: reference_price must be a positive tick multiple")
        if self.min_notional < 0 or self.max_leverage < 1 or self.min_qty > self.max_qty:
            raise ValueError(f"{self.symbol}: inconsistent min_notional/max_leverage/min_qty")
        if self.category == "spot" and self.settle != self.quote:
            raise ValueError(f"{self.symbol}: a spot instrument settles in its quote coin")

    @property
    def key(self) -> InstrumentKey:
        """The engine's unique id for this instrument: (category, symbol)."""
        return (self.category, self.symbol)

    @property
    def is_derivative(self) -> bool:
        """True for linear and inverse contracts (positions and margin instead of coin swaps)."""
        return self.category != "spot"


def to_amount(value: object, kind: str, name: str) -> Decimal:
    """A request amount as a finite Decimal (ints accepted), else EngineError(``kind``)."""
    # Floats are refused outright: an amount that went through binary floating point is a bug.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise EngineError(kind, f"{name} must be a Decimal, got {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite() or result.adjusted() > 18:
        raise EngineError(kind, f"{name} is not a usable number: {value}")
    return result


def check_qty(spec: InstrumentSpec, qty: object) -> Decimal:
    """A valid order qty for the instrument, at the lot's precision, else invalid_qty."""
    value = to_amount(qty, "invalid_qty", "qty")
    if value <= 0 or value > spec.max_qty or value < spec.min_qty:
        raise EngineError("invalid_qty", f"qty {value} outside [{spec.min_qty}, {spec.max_qty}]")
    if value % spec.lot_size:
        raise EngineError("invalid_qty", f"qty {value} is not a multiple of {spec.lot_size}")
    return value.quantize(spec.lot_size)


def check_price(spec: InstrumentSpec, price: object) -> Decimal:
    """A valid limit price for the instrument, at the tick's precision, else invalid_price."""
    if price is None:
        raise EngineError("invalid_price", "a limit order needs a price")
    value = to_amount(price, "invalid_price", "price")
    if value <= 0:
        raise EngineError("invalid_price", f"price {value} must be > 0")
    if value % spec.tick_size:
        raise EngineError("invalid_price", f"price {value} is not a multiple of {spec.tick_size}")
    return value.quantize(spec.tick_size)


def check_order(
    spec: InstrumentSpec,
    side: str,
    type: str,
    qty: object,
    price: object,
    time_in_force: str,
    *,
    reduce_only: bool,
    quote_qty: bool,
) -> tuple[str, Decimal, Decimal | None]:
    """Validate a new order's own fields; return its effective (tif, qty, limit price).

    Market orders never rest: their tif becomes "IOC" (or stays "FOK") and their price None.
    """
    if side not in SIDES or type not in ORDER_TYPES or time_in_force not in TIME_IN_FORCE:
        raise EngineError("invalid_request", f"bad side/type/tif {side}/{type}/{time_in_force}")
    tif = time_in_force
    if type == "market":
        if tif == "PostOnly":
            raise EngineError("invalid_request", "a market order cannot be post-only")
        tif = "FOK" if tif == "FOK" else "IOC"
    if quote_qty and (spec.category != "spot" or type != "market" or side != "buy"):
        raise EngineError("invalid_request", "quote_qty is only for spot market buys")
    if reduce_only and not spec.is_derivative:
        raise EngineError("invalid_request", "reduce_only is only for derivatives")
    if quote_qty:
        amount = to_amount(qty, "invalid_qty", "qty")
        if amount <= 0:
            raise EngineError("invalid_qty", "qty must be > 0")
    else:
        amount = check_qty(spec, qty)
    limit = check_price(spec, price) if type == "limit" else None
    return tif, amount, limit


def default_instruments() -> list[InstrumentSpec]:
    """A few realistic instruments: three spot pairs, two linear and one inverse contract."""
    d = Decimal
    spot_fee = d("0.001")
    maker, taker = d("0.0002"), d("0.00055")

    def spot(
        symbol: str, base: str, tick: str, lot: str, min_qty: str, max_qty: str, ref: str
    ) -> InstrumentSpec:
        return InstrumentSpec(
            symbol=symbol,
            category="spot",
            base=base,
            quote="USDT",
            settle="USDT",
            tick_size=d(tick),
            lot_size=d(lot),
            min_qty=d(min_qty),
            max_qty=d(max_qty),
            min_notional=d(1),
            contract_size=d(1),
            reference_price=d(ref),
            maker_fee=spot_fee,
            taker_fee=spot_fee,
            max_leverage=d(1),
        )

    def linear(
        symbol: str, base: str, tick: str, lot: str, max_qty: str, ref: str
    ) -> InstrumentSpec:
        return InstrumentSpec(
            symbol=symbol,
            category="linear",
            base=base,
            quote="USDT",
            settle="USDT",
            tick_size=d(tick),
            lot_size=d(lot),
            min_qty=d(lot),
            max_qty=d(max_qty),
            min_notional=d(5),
            contract_size=d(1),
            reference_price=d(ref),
            maker_fee=maker,
            taker_fee=taker,
            max_leverage=d(100),
        )

    return [
        spot("BTCUSDT", "BTC", "0.01", "0.000001", "0.000048", "100", "65000.00"),
        spot("ETHUSDT", "ETH", "0.01", "0.00001", "0.0001", "5000", "3500.00"),
        spot("SOLUSDT", "SOL", "0.01", "0.001", "0.01", "50000", "150.00"),
        linear("BTCUSDT", "BTC", "0.10", "0.001", "1190", "65000.00"),
        linear("ETHUSDT", "ETH", "0.01", "0.01", "7240", "3500.00"),
        InstrumentSpec(
            symbol="BTCUSD",
            category="inverse",
            base="BTC",
            quote="USD",
            settle="BTC",
            tick_size=d("0.50"),
            lot_size=d(1),
            min_qty=d(1),
            max_qty=d(1_000_000),
            min_notional=d(0),
            contract_size=d(1),
            reference_price=d("65000.00"),
            maker_fee=maker,
            taker_fee=taker,
            max_leverage=d(100),
        ),
    ]


@attrs.frozen
class OrderView:
    """A snapshot of one user order. For quote_qty orders ``qty`` is quote currency."""

    order_id: str
    client_order_id: str | None
    uid: int
    symbol: str
    category: str
    side: str
    type: str
    price: Decimal | None
    qty: Decimal
    filled: Decimal
    remaining: Decimal
    cum_quote: Decimal
    avg_price: Decimal | None
    fee_total: Decimal
    fee_currency: str | None
    status: str
    time_in_force: str
    reduce_only: bool
    post_only: bool
    created_ms: int
    updated_ms: int
    cancel_reason: str | None
    quote_qty: bool


@attrs.frozen
class FillView:
    """One execution seen by one account; maker and taker of a trade share ``exec_id``."""

    exec_id: str
    order_id: str
    client_order_id: str | None
    uid: int
    symbol: str
    category: str
    side: str
    price: Decimal
    qty: Decimal
    value: Decimal
    fee: Decimal
    fee_currency: str
    fee_rate: Decimal
    is_maker: bool
    time_ms: int


@attrs.frozen
class BalanceView:
    """One coin of one account: ``total == locked + free``, all three >= 0."""

    coin: str
    total: Decimal
    locked: Decimal
    free: Decimal


@attrs.frozen
class PositionView:
    """A derivatives position; ``side`` is "buy" (long), "sell" (short) or "" (flat).

    ``leg`` is "" in one-way mode, "long" or "short" for a hedge-mode leg."""

    symbol: str
    category: str
    side: str
    size: Decimal
    entry_price: Decimal | None
    mark_price: Decimal
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    leverage: Decimal
    position_margin: Decimal
    created_ms: int
    updated_ms: int
    leg: str = ""
    margin_mode: str = "cross"


@attrs.frozen
class BookView:
    """Aggregated price levels, best first; ``update_id`` is per book, ``seq`` engine-wide."""

    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    update_id: int
    seq: int
    time_ms: int


@attrs.frozen
class PublicTradeView:
    """One trade on the public tape; ``side`` is the taker's side."""

    trade_id: str
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    time_ms: int


@attrs.frozen
class TickerView:
    """Top of book, last price and rolling 24h statistics of one instrument."""

    symbol: str
    bid: Decimal | None
    bid_size: Decimal
    ask: Decimal | None
    ask_size: Decimal
    last: Decimal
    high_24h: Decimal
    low_24h: Decimal
    open_24h: Decimal
    volume_24h: Decimal
    turnover_24h: Decimal
    mark: Decimal
    index: Decimal
    time_ms: int


@attrs.frozen
class CandleView:
    """One OHLCV candle starting at ``start_ms``."""

    start_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    turnover: Decimal
