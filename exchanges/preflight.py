"""The checks an order passes before anything is sent, from its market's filters, for every adapter.

Minimum and maximum amount, the amount step, the price tick and the minimum notional are the
same mistakes on every exchange; the exchanges answer them with different codes (and some with a
generic "params error"). Checked here once, from ``Market``, they give the same ``InvalidOrder``
with the same message on every adapter, naming the nearest valid values, and nothing is rounded
silently. Amounts are in the unified unit (see ``exchanges.units``).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext

from exchanges.errors import InvalidOrder
from exchanges.models import Market

__all__ = ["check_amount", "check_order", "check_price", "check_trigger_ahead"]


def _plain(value: Decimal) -> str:
    return f"{value:f}"


# Amounts and prices are below 1e18 with at most 18 places (exchanges.arguments): quotients of
# up to 36 digits, beyond the default context's 28.
_PRECISION = 60


def _neighbours(value: Decimal, step: Decimal) -> tuple[Decimal, Decimal]:
    """The multiples of ``step`` just below and just above ``value``."""
    with localcontext(prec=_PRECISION):
        units = value / step
        return (
            units.to_integral_value(rounding=ROUND_FLOOR) * step,
            units.to_integral_value(rounding=ROUND_CEILING) * step,
        )


def _off_step(value: Decimal, step: Decimal) -> bool:
    with localcontext(prec=_PRECISION):
        return value % step != 0


def _check_step(
    what: str,
    value: Decimal,
    step: Decimal | None,
    symbol: str,
    rounder: str,
    exchange: str | None,
) -> None:
    """``InvalidOrder`` naming the nearest valid values when ``value`` is off ``step``."""
    if not step or not _off_step(value, step):
        return
    below, above = _neighbours(value, step)
    valid = " or ".join(_plain(v) for v in (below, above) if v > 0)
    raise InvalidOrder(
        f"{what} {_plain(value)} is not a multiple of {symbol}'s {what} step "
        f"{_plain(step)}: the nearest valid {what}s are {valid}",
        exchange=exchange,
        hint=f"Round the {what} to the step yourself (Market.{rounder}): nothing is rounded "
        "for you.",
    )


def check_amount(market: Market, amount: Decimal, *, exchange: str | None = None) -> None:
    """``amount`` within the market's limits and a whole number of its step."""
    symbol = market.symbol
    if market.min_amount is not None and amount < market.min_amount:
        raise InvalidOrder(
            f"amount {_plain(amount)} is below {symbol}'s minimum {_plain(market.min_amount)}",
            exchange=exchange,
            hint=f"Order at least {_plain(market.min_amount)} (Market.min_amount).",
        )
    if market.max_amount is not None and amount > market.max_amount:
        raise InvalidOrder(
            f"amount {_plain(amount)} is above {symbol}'s maximum {_plain(market.max_amount)}",
            exchange=exchange,
            hint=f"Split the order: at most {_plain(market.max_amount)} each (Market.max_amount).",
        )
    _check_step("amount", amount, market.amount_step, symbol, "round_amount", exchange)


def check_price(market: Market, price: Decimal, *, exchange: str | None = None) -> None:
    """``price`` a whole number of the market's tick."""
    _check_step("price", price, market.price_step, market.symbol, "round_price", exchange)


def check_order(
    market: Market,
    amount: Decimal | None,
    price: Decimal | None,
    *,
    exchange: str | None = None,
) -> None:
    """Amount and price of a new or amended order against ``market``'s filters.

    The minimum notional is checked when the price is known (limit orders); for a market
    order the exchange judges it against its own price.
    """
    if amount is not None:
        check_amount(market, amount, exchange=exchange)
    if price is not None:
        check_price(market, price, exchange=exchange)
    if amount is not None and price is not None and market.min_notional is not None:
        notional = _notional(market, amount, price)
        if notional is not None and notional < market.min_notional:
            raise InvalidOrder(
                f"the order's value {_plain(notional)} (amount × price) is below "
                f"{market.symbol}'s minimum {_plain(market.min_notional)}",
                exchange=exchange,
                hint="Raise the amount (or the price) so that amount × price reaches "
                "Market.min_notional.",
            )


def _notional(market: Market, amount: Decimal, price: Decimal) -> Decimal | None:
    # Inverse contracts count amounts in the quote currency already: their value is the amount.
    if market.inverse:
        return None
    return amount * price


def check_trigger_ahead(
    trigger_price: Decimal,
    direction: str | None,
    watched: Decimal | None,
    *,
    trigger_by: str,
    exchange: str,
) -> None:
    """``InvalidOrder`` when the watched price has already reached a trigger expected to come
    by ``direction`` (``rise`` or ``fall``), for an exchange that takes no direction and would
    fire it at once; nothing when the price is unknown (None)."""
    if watched is None:
        return
    if watched >= trigger_price if direction == "rise" else watched <= trigger_price:
        raise InvalidOrder(
            f"the {trigger_by} price {watched} has already reached the trigger "
            f"{trigger_price} ({direction} expected); {exchange} would trigger it at once",
            exchange=exchange,
            hint="Put a rising trigger above the price and a falling one below it.",
        )
