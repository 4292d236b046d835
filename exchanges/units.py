"""One unit rule for amounts, stated once and applied in one place for every adapter.

Amounts, sizes, fills, positions, order book and ticker sizes and trade amounts are in the base
currency for spot and linear (USDT/USDC-margined) contracts, and in the quote currency (USD) for
inverse contracts. An exchange whose API counts a market in contracts (OKX swaps and futures:
``ctVal`` each) marks that ``Market`` with ``counts_contracts=True``, its ``contract_size`` and
steps already in the unified unit; the adapter then converts what it sends with
``native_amount`` and what it reads with ``unified``.
Nothing is rounded: an amount that is no exact number of the exchange's units is refused (the
market's step, checked first by ``exchanges.preflight``, normally rules that out already).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import singledispatch
from typing import Any, TypeVar

import attrs

from exchanges.decimals import ZERO
from exchanges.errors import InvalidOrder
from exchanges.models import Fill, Market, Order, OrderBook, Position, Ticker, Trade

__all__ = ["native_amount", "unified"]

M = TypeVar("M")

# Amounts are below 1e18 with at most 18 places (exchanges.arguments).
_PRECISION = 60


def _factor(market: Market) -> Decimal | None:
    if not market.counts_contracts or not market.contract_size:
        return None
    return market.contract_size


def native_amount(market: Market, amount: Decimal, *, exchange: str | None = None) -> Decimal:
    """``amount`` (unified) as the exchange counts it: contracts where it counts contracts."""
    size = _factor(market)
    if size is None:
        return amount
    with localcontext(prec=_PRECISION):
        contracts = amount / size
        exact = contracts * size == amount
    if not exact:
        raise InvalidOrder(
            f"amount {amount:f} is no exact number of {market.symbol}'s contracts of {size:f}",
            exchange=exchange,
            hint="Amounts are in the base currency (quote for inverse contracts): pass a "
            "multiple of Market.amount_step.",
        )
    return contracts.normalize() if contracts == contracts.to_integral_value() else contracts


def _times(value: Decimal, size: Decimal) -> Decimal:
    # 0 contracts is 0, not 0.00: a zero reads the same on every exchange.
    product = value * size
    return product if product else ZERO


def _opt_times(value: Decimal | None, size: Decimal) -> Decimal | None:
    return None if value is None else _times(value, size)


def _levels(
    levels: tuple[tuple[Decimal, Decimal], ...], size: Decimal
) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple([(price, _times(amount, size)) for price, amount in levels])


@singledispatch
def _convert(model: Any, size: Decimal) -> Any:
    raise TypeError(f"no unit rule for {type(model).__name__}")


@_convert.register
def _(model: Order, size: Decimal) -> Order:
    return attrs.evolve(
        model,
        amount=_opt_times(model.amount, size),
        filled=_opt_times(model.filled, size),
        remaining=_opt_times(model.remaining, size),
    )


@_convert.register
def _(model: Fill, size: Decimal) -> Fill:
    return attrs.evolve(model, amount=_times(model.amount, size))


@_convert.register
def _(model: Trade, size: Decimal) -> Trade:
    return attrs.evolve(model, amount=_times(model.amount, size))


@_convert.register
def _(model: Position, size: Decimal) -> Position:
    return attrs.evolve(model, size=_times(model.size, size))


@_convert.register
def _(model: OrderBook, size: Decimal) -> OrderBook:
    return attrs.evolve(model, bids=_levels(model.bids, size), asks=_levels(model.asks, size))


@_convert.register
def _(model: Ticker, size: Decimal) -> Ticker:
    return attrs.evolve(
        model,
        bid_size=_opt_times(model.bid_size, size),
        ask_size=_opt_times(model.ask_size, size),
    )


def unified(model: M, market: Market) -> M:
    """``model`` (an order, fill, trade, position, book or ticker of ``market``) in unified
    amounts; unchanged when the exchange already counts in them.
    """
    size = _factor(market)
    if size is None:
        return model
    result: M = _convert(model, size)
    return result
