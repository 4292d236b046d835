"""Order prices and amounts that a market accepts: on its grid, above its minimums."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Decimal

from exchanges.models import Market

__all__ = ["amount_for", "price_below"]


def price_below(market: Market, reference: Decimal, factor: Decimal) -> Decimal:
    """``factor`` × ``reference`` rounded down to the market's price step."""
    step = market.price_step or Decimal("0.01")
    return (reference * factor / step).to_integral_value(ROUND_DOWN) * step


def amount_for(market: Market, notional: Decimal, price: Decimal) -> Decimal:
    """An amount worth at least ``notional`` (in quote) at ``price``, valid for the market."""
    step = market.amount_step or Decimal("0.000001")
    if market.min_notional is not None:
        notional = max(notional, market.min_notional * 2)
    amount = (notional / price / step).to_integral_value(ROUND_UP) * step
    if market.min_amount is not None:
        amount = max(amount, market.min_amount)
    return amount
