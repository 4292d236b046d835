"""OKX margin mode (chosen per order, remembered per symbol here) and position mode (the
whole account).

OKX has no "set margin mode" endpoint: the margin mode is each order's ``tdMode`` (``cross`` or
``isolated`` for contracts; "Place order",
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order), and leverage is kept
per margin mode ("Set leverage",
https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-leverage). So
``set_margin_mode(mode, symbol)`` reads the symbol's leverage under the mode in force (``GET
/api/v5/account/leverage-info``, "Get leverage",
https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-leverage), sets that leverage under
the new mode (``POST /api/v5/account/set-leverage`` with ``mgnMode``; for isolated margin in
long/short mode once per ``posSide``), which OKX checks, and the adapter's later orders on the
symbol trade with that ``tdMode`` (and ``set_leverage`` sets that mode's leverage). ccxt's
``set_margin_mode`` is the same set-leverage call. The choice lives in the adapter (a new client
starts cross again); positions report OKX's own ``mgnMode``.

Position mode: "Set position mode"
(https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-position-mode), ``POST
/api/v5/account/set-position-mode`` with ``posMode`` ``long_short_mode`` or ``net_mode``, for
every FUTURES and SWAP of the account; refused with 59000 while positions or orders exist
("Error codes", https://www.okx.com/docs-v5/en/#error-code-rest-api-account). OKX documents no
"not modified" code for either call: setting the mode in force answers like any change (what OKX
answers there is UNVERIFIED; the emulator answers success).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.okx import parse
from exchanges import parsing
from exchanges.models import MarginMode, MarginModeSetting, Market, PositionModeSetting

if TYPE_CHECKING:
    from adapters.okx.requests import RequestBuilder
    from exchanges.flow import Flow

__all__ = [
    "LEVERAGE_INFO",
    "POSITION_PATH",
    "SET_LEVERAGE",
    "leverage_of",
    "set_margin_mode",
    "set_position_mode",
]

LEVERAGE_INFO = "/api/v5/account/leverage-info"
SET_LEVERAGE = "/api/v5/account/set-leverage"
POSITION_PATH = "/api/v5/account/set-position-mode"
_EX = "okx"


def leverage_of(build: RequestBuilder, market: Market, mode: MarginMode) -> Flow[Decimal]:
    """The instrument's leverage under ``mode`` (the first item's ``lever``)."""
    response = yield build.get(LEVERAGE_INFO, {"instId": market.id, "mgnMode": mode}, signed=True)
    return parsing.need_decimal(parse.first(response), "lever", _EX)


def set_margin_mode(
    build: RequestBuilder, market: Market, mode: MarginMode, current: MarginMode, hedged: bool
) -> Flow[MarginModeSetting]:
    """Carry the symbol's leverage from ``current`` over to ``mode`` (OKX validates the mode);
    the caller's later orders trade ``tdMode=mode``."""
    lever = yield from leverage_of(build, market, current)
    # Isolated leverage in long/short mode is per side: both get the value.
    sides: tuple[str | None, ...] = ("long", "short") if hedged and mode == "isolated" else (None,)
    raw: list[Any] = []
    for side in sides:
        body = {"instId": market.id, "lever": lever, "mgnMode": mode, "posSide": side}
        # Setting a leverage again changes nothing, so a lost answer may be resent.
        response = yield build.post(SET_LEVERAGE, body, write=False)
        raw.append(parse.first(response))
    return MarginModeSetting(symbol=market.symbol, margin_mode=mode, scope="symbol", raw=raw)


def set_position_mode(
    build: RequestBuilder, symbol: str | None, hedged: bool
) -> Flow[PositionModeSetting]:
    """Switch the whole account to long/short (hedge) or net (one-way) mode."""
    body = {"posMode": "long_short_mode" if hedged else "net_mode"}
    response = yield build.post(POSITION_PATH, body, write=False)
    return PositionModeSetting(
        hedged=hedged, symbol=symbol, scope="account", raw=parse.first(response)
    )
