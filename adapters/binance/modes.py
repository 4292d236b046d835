"""Binance USD-M margin type (per symbol) and position mode (the whole account).

"Change Margin Type (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Margin-Type):
``POST /fapi/v1/marginType`` with ``symbol`` and ``marginType`` ``ISOLATED`` or ``CROSSED``;
weight 1; answer ``{"code": 200, "msg": "success"}``. "Change Position Mode (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Change-Position-Mode):
``POST /fapi/v1/positionSide/dual`` with ``dualSidePosition`` "true" (hedge) or "false"
(one-way) for **every symbol** of the account (the SDK's docstring adds that after the COIN-M
migration one call switches USD-M and COIN-M together); weight 1.

"Error Codes" (https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code):
-4046 "No need to change margin type." and -4059 "No need to change position side." mean the
mode is already in force and are success here; -4047 / -4048 (open orders / a position on the
symbol) and -4067 / -4068 (open orders / a position anywhere) refuse a change, -4168 isolated
margin under Multi-Assets mode (``errors.py``).

Positions: ``/fapi/v3/positionRisk`` has no ``marginType``; a position is isolated when its
``isolatedMargin`` or ``isolatedWallet`` is not zero (margin set aside for it), as ccxt reads it
too, and ``positionSide`` LONG/SHORT is a hedge-mode side (BOTH is one-way).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from exchanges.errors import ExchangeError
from exchanges.models import MarginMode, MarginModeSetting, Market, PositionModeSetting

if TYPE_CHECKING:
    from adapters.binance.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = ["MARGIN_PATH", "POSITION_PATH", "margin_mode_of", "set_margin_mode", "set_position_mode"]

MARGIN_PATH = "/fapi/v1/marginType"
POSITION_PATH = "/fapi/v1/positionSide/dual"
#: "No need to change margin type." / "No need to change position side.".
MARGIN_NOT_MODIFIED = -4046
POSITION_NOT_MODIFIED = -4059
_NATIVE = {"cross": "CROSSED", "isolated": "ISOLATED"}


def margin_mode_of(item: Mapping[str, Any]) -> MarginMode | None:
    """Cross or isolated of one positionRisk (or account) position item."""
    native = str(item.get("marginType", "")).lower()
    if native in ("cross", "crossed"):
        return "cross"
    if native == "isolated":
        return "isolated"
    found = [item.get(name) for name in ("isolatedMargin", "isolatedWallet") if name in item]
    if not found:
        return None
    return "isolated" if any(_nonzero(value) for value in found) else "cross"


def _nonzero(value: Any) -> bool:
    try:
        return float(value) != 0
    except (TypeError, ValueError):
        return False


def _tolerating(request: Request, code: int) -> Flow[Any]:
    """The answer's data, or a note of ``code`` when Binance says nothing needs to change."""
    try:
        response = yield request
    except ExchangeError as err:
        if err.code != code:
            raise
        return {"code": code, "msg": err.message}
    return response.data


def set_margin_mode(
    build: RequestBuilder, market: Market, mode: MarginMode
) -> Flow[MarginModeSetting]:
    """Set one USD-M symbol's margin type; -4046 (already that type) is success."""
    # Setting the type in force changes nothing, so a lost answer may be resent.
    body = {"symbol": market.id, "marginType": _NATIVE[mode]}
    request = build.call("usdm", "POST", MARGIN_PATH, body, signed=True, role="trade")
    raw = yield from _tolerating(request, MARGIN_NOT_MODIFIED)
    return MarginModeSetting(symbol=market.symbol, margin_mode=mode, scope="symbol", raw=raw)


def set_position_mode(
    build: RequestBuilder, symbol: str | None, hedged: bool
) -> Flow[PositionModeSetting]:
    """Switch the whole account to hedge or one-way mode; -4059 (already so) is success."""
    body = {"dualSidePosition": "true" if hedged else "false"}
    request = build.call("usdm", "POST", POSITION_PATH, body, signed=True, role="trade")
    raw = yield from _tolerating(request, POSITION_NOT_MODIFIED)
    return PositionModeSetting(hedged=hedged, symbol=symbol, scope="account", raw=raw)
