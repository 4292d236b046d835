"""The demo's bracket order: an entry with a stop-loss and a take-profit on the linear perpetual,
then the market falls through the stop and the position is closed.

Where the exchange attaches stops to an order (Bybit ``takeProfit``/``stopLoss``, OKX
``attachAlgoOrds``) they ride on the entry; where it does not (Binance) the entry is followed by
``set_trading_stop``, its position stops. The fall is the emulator's: its admin API moves the
price (``Emulator.move_price``), as a market sweep would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from exchanges.cli.render import short_id
from exchanges.cli.sizing import amount_for, price_below
from exchanges.models import Order, StopSpec

if TYPE_CHECKING:
    from exchanges.cli.demo import Tour

__all__ = ["PERPETUAL", "step_bracket"]

PERPETUAL = "BTC/USDT:USDT"


def _stops(orders: list[Order]) -> list[Order]:
    return [o for o in orders if o.conditional]


def _show_stops(tour: Tour, orders: list[Order], entry: Decimal | None, title: str) -> None:
    rows = []
    for order in orders:
        legs = [(order.stop_loss, "stop-loss"), (order.take_profit, "take-profit")]
        prices = [(leg.trigger_price, name) for leg, name in legs if leg is not None]
        if order.trigger_price is not None and not prices:
            # A position stop of its own: below a long's entry it stops, above it takes profit.
            below = entry is not None and order.trigger_price < entry
            prices = [(order.trigger_price, "stop-loss" if below else "take-profit")]
        for price, name in prices:
            rows.append((short_id(order.id), order.side, name, price, order.trigger_by or "last"))
    tour.out.table(["order", "side", "kind", "trigger", "watches"], rows, title=title, right=(3,))


def step_bracket(tour: Tour) -> None:
    """A market entry guarded by a stop-loss and a take-profit; the price falls through the
    stop, which closes the position and takes the take-profit with it."""
    from exchanges.cli.demo import NotOffered, StepFailed

    ex = tour.ex
    caps = ex.capabilities
    attached = caps.supports("order.stop_loss", market="swap")
    if not attached and not caps.supports("position.trading_stop", market="swap"):
        raise NotOffered(caps.error("order.stop_loss", market="swap").message)
    market = ex.market(PERPETUAL)
    last = ex.fetch_ticker(PERPETUAL).last
    if last is None:
        raise StepFailed(f"{PERPETUAL} has no last price")
    stop = price_below(market, last, Decimal("0.99"))
    profit = price_below(market, last, Decimal("1.01"))
    amount = amount_for(market, Decimal(1000), last)
    if attached:
        entry = ex.create_order(
            PERPETUAL, "market", "buy", amount, stop_loss=stop, take_profit=StopSpec(profit)
        )
        tour.out.note(
            f'create_order("{PERPETUAL}", "market", "buy", {amount}, stop_loss={stop}, '
            f"take_profit=StopSpec({profit}))"
        )
    else:
        why = caps.error("order.stop_loss", market="swap").message
        tour.out.note(f"{why}: the entry is followed by set_trading_stop")
        entry = ex.create_order(PERPETUAL, "market", "buy", amount)
        ex.set_trading_stop(PERPETUAL, stop_loss=stop, take_profit=profit)
        tour.out.note(f'set_trading_stop("{PERPETUAL}", stop_loss={stop}, take_profit={profit})')
    [position] = ex.fetch_positions([PERPETUAL])
    guards = _stops(ex.fetch_open_orders(PERPETUAL))
    tour.out.line(
        f"entry {short_id(entry.id)}: long {position.size} {market.base} at {position.entry_price}"
    )
    title = "the position's stops, listed by fetch_open_orders()"
    _show_stops(tour, guards, position.entry_price, title)
    if not guards:
        raise StepFailed("no stop-loss or take-profit is listed")
    fall = price_below(market, stop, Decimal("0.998"))
    native = f"{market.base}{market.quote}"
    tour.emu.move_price(native, last=fall, category="linear")
    tour.out.line(f"the emulator's market falls to {fall}, through the stop at {stop}")
    left = ex.fetch_positions([PERPETUAL])
    remaining = _stops(ex.fetch_open_orders(PERPETUAL))
    sold = [f for f in ex.fetch_my_trades(PERPETUAL) if f.side == "sell"]
    if left or remaining:
        raise StepFailed(f"expected the position and its stops gone, saw {left} and {remaining}")
    if not sold:
        raise StepFailed("the stop's fill is not in fetch_my_trades()")
    tour.out.ok(
        f"the stop-loss sold {sum((f.amount for f in sold), Decimal(0))} at "
        f"{sold[0].price}: the position is closed and the take-profit went with it"
    )
