"""Binance USD-M leverage route of the emulator, over the engine's leverage per (account,
instrument) (``Engine.set_leverage``: the margin of the position and open orders is re-locked).

``POST /fapi/v1/leverage`` ("Change Initial Leverage (TRADE)",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Initial-Leverage):
``symbol`` and ``leverage`` (an int from 1 to 125); the answer is ``{"leverage": int,
"maxNotionalValue": str, "symbol": str}``. Setting the value in force again is answered the
same way. A value outside 1 to the symbol's maximum (its first bracket's ``initialLeverage``,
as ``/fapi/v1/leverageBracket`` of this emulator says) is -4028 "Leverage N is not valid"
("Error Codes",
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code,
INVALID_LEVERAGE); a leverage that is not an integer is -1100 (illegal characters).
``maxNotionalValue`` is the bracket's ``notionalCap``, the engine's only tier.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["BinanceLeverage"]


class BinanceLeverage:
    """The change-leverage endpoint, over a Binance front-end's state."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None, str]]:
        """(method, path) -> (handler, security, market), merged into the front-end's table."""
        return {("POST", "/fapi/v1/leverage"): (self.change_leverage, "TRADE", "usdm")}

    def change_leverage(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v1/leverage``: the leverage now in force."""
        from adapters.binance.emulator import BinanceError, mandatory

        front = self.front
        spec = front._spec(params, "usdm")
        assert spec is not None
        value = front._int(params, "leverage")
        if value is None:
            raise mandatory("leverage")
        if not 1 <= value <= spec.max_leverage:
            raise BinanceError(-4028, f"Leverage {value} is not valid")
        front.engine.set_leverage(key.uid, spec.symbol, Decimal(value), category=spec.category)
        return {
            "leverage": value,
            "maxNotionalValue": str(int(spec.max_qty * spec.reference_price * 2)),
            "symbol": spec.symbol,
        }
