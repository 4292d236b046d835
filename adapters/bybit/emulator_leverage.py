"""Bybit v5 leverage route of the emulator, over the engine's leverage per (account,
instrument) (``Engine.set_leverage``: the margin of the position and open orders is re-locked).

``POST /v5/position/set-leverage`` ("Set Leverage",
https://bybit-exchange.github.io/docs/v5/position/leverage): ``category`` linear or inverse,
``symbol``, ``buyLeverage`` and ``sellLeverage`` strings in [1, max leverage], equal in
one-way mode and under cross margin (the engine keeps one leverage per instrument, so hedge
mode asks them equal too); ``result`` is empty. Refusals ("Error Codes",
https://bybit-exchange.github.io/docs/v5/error): 110043 "Set leverage has not been modified"
for the value in force; 110013 (cannot set leverage due to the risk limit level) above the
instrument's ``leverageFilter.maxLeverage``. The 110013 message, "cannot set leverage [N] gt
maxLeverage [M] by risk limit" with both values times 100, is as captured from Bybit by users
(the docs give the code, not the message): UNVERIFIED against Bybit's own pages. Below 1 or off
the 0.01 ``leverageStep`` is 10001.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.bybit.emulator_base import BybitError

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["BybitLeverage"]

_STEP = Decimal("0.01")


class BybitLeverage:
    """The set-leverage endpoint, over a Bybit front-end's state."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {("POST", "/v5/position/set-leverage"): (self.set_leverage, "trade")}

    def set_leverage(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/position/set-leverage``: one value for both sides (one-way mode)."""

        front = self.front
        category = front._category(params)
        if category not in ("linear", "inverse"):
            raise BybitError(10001, f"params error: category invalid [{category}]")
        spec = front._spec(params, category)
        buy, sell = front._decimal(params, "buyLeverage"), front._decimal(params, "sellLeverage")
        if buy is None or sell is None:
            raise BybitError(10001, "params error: buyLeverage and sellLeverage are required")
        if buy != sell:
            raise BybitError(10001, "params error: buyLeverage must equal sellLeverage")
        if buy < 1 or buy % _STEP != 0:
            raise BybitError(10001, f"params error: leverage invalid [{params['buyLeverage']}]")
        if buy > spec.max_leverage:
            raise BybitError(
                110013,
                f"cannot set leverage [{int(buy * 100)}] gt maxLeverage "
                f"[{int(spec.max_leverage * 100)}] by risk limit",
            )
        engine = front.engine
        if engine.leverage(key.uid, spec.symbol, category=category) == buy:
            raise BybitError(110043, "leverage not modified")
        engine.set_leverage(key.uid, spec.symbol, buy, category=category)
        return {}
