"""Bybit margin mode (account-wide) and position mode (per symbol or per settle coin).

Margin mode: "Set Margin Mode" (https://bybit-exchange.github.io/docs/v5/account/set-margin-mode),
``POST /v5/account/set-margin-mode`` with ``setMarginMode`` ``ISOLATED_MARGIN`` or
``REGULAR_MARGIN`` (cross; ``PORTFOLIO_MARGIN`` is not offered here). It is **account-wide** on a
unified trading account: the per-symbol ``/v5/position/switch-isolated`` is "not supported" on
UTA 2.0 and was moved to the abandoned pages in 2025-11. So ``set_margin_mode(mode, symbol)``
switches every contract of the account, and says so (``scope="account"``); the symbol only
picks the market type. The answer's ``result.reasons`` lists why a switch failed (empty on
success). The mode in force is read from ``GET /v5/account/info`` ``marginMode`` ("Get Account
Info", https://bybit-exchange.github.io/docs/v5/account/account-info); positions' ``tradeMode``
is deprecated (always 0), so ``fetch_positions`` reads the account's mode.

Position mode: "Switch Position Mode"
(https://bybit-exchange.github.io/docs/v5/position/position-mode), ``POST
/v5/position/switch-mode``, ``category`` linear, ``symbol`` or ``coin`` (the symbol wins),
``mode`` 0 (one-way, "Merged Single") or 3 (hedge, "Both Sides"). Only USDT perpetuals hedge.
Without a symbol the coin-level switch (``coin=USDT``, as ccxt does) converts every USDT
perpetual with no position and no open orders and becomes the default of new ones.

"Error Codes" (https://bybit-exchange.github.io/docs/v5/error): 110025 "Position mode is not
modified" and 110026 "Cross/isolated margin mode is not modified" mean the mode is already in
force and are success here; 110024 (a position exists), 110028 (open orders exist), 110029
(hedge mode not supported for this symbol) are refusals (``errors.py``). Whether
set-margin-mode answers 110026 for the mode in force (rather than success) is UNVERIFIED: both
are success here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from exchanges.errors import BadRequest
from exchanges.models import MarginMode, MarginModeSetting, Market, PositionModeSetting

if TYPE_CHECKING:
    from adapters.bybit.requests import RequestBuilder
    from exchanges.flow import Flow
    from exchanges.wire import Request

__all__ = [
    "ACCOUNT_INFO",
    "MARGIN_PATH",
    "POSITION_PATH",
    "margin_mode_of",
    "set_margin_mode",
    "set_position_mode",
]

MARGIN_PATH = "/v5/account/set-margin-mode"
POSITION_PATH = "/v5/position/switch-mode"
ACCOUNT_INFO = "/v5/account/info"
#: "Position mode is not modified" / "Cross/isolated margin mode is not modified".
POSITION_NOT_MODIFIED = 110025
MARGIN_NOT_MODIFIED = 110026
_NATIVE = {"cross": "REGULAR_MARGIN", "isolated": "ISOLATED_MARGIN"}
#: The settle coin of the coin-level switch: USDT perpetuals are the only ones that hedge.
HEDGE_COIN = "USDT"


def margin_mode_of(account_info: Any) -> MarginMode | None:
    """The margin mode of ``/v5/account/info``'s ``marginMode`` (portfolio margin: None)."""
    native = account_info.get("marginMode") if isinstance(account_info, Mapping) else None
    if native == "ISOLATED_MARGIN":
        return "isolated"
    if native == "REGULAR_MARGIN":
        return "cross"
    return None


def account_info(build: RequestBuilder) -> Request:
    """``GET /v5/account/info`` (the account's margin mode)."""
    return build.get(ACCOUNT_INFO, signed=True)


def _tolerating(request: Request, code: int) -> Flow[Any]:
    """The answer's data, or a note of ``code`` when the exchange says nothing changed."""
    try:
        response = yield request
    except BadRequest as err:
        if err.code != code:
            raise
        return {"retCode": code, "retMsg": err.message}
    return response.data


def set_margin_mode(
    build: RequestBuilder, market: Market, mode: MarginMode
) -> Flow[MarginModeSetting]:
    """Switch the whole account's margin mode; 110026 (already that mode) is success."""
    # Setting the mode in force changes nothing, so a lost answer may be resent.
    request = build.post(MARGIN_PATH, {"setMarginMode": _NATIVE[mode]}, category=None, write=False)
    raw = yield from _tolerating(request, MARGIN_NOT_MODIFIED)
    return MarginModeSetting(symbol=market.symbol, margin_mode=mode, scope="account", raw=raw)


def set_position_mode(
    build: RequestBuilder, market: Market | None, hedged: bool
) -> Flow[PositionModeSetting]:
    """Switch one linear symbol (or, without one, the USDT perpetuals) to hedge or one-way
    mode; 110025 (already that mode) is success."""
    body: dict[str, Any] = {"category": "linear", "mode": 3 if hedged else 0}
    if market is not None:
        body["symbol"] = market.id
    else:
        body["coin"] = HEDGE_COIN
    request = build.post(POSITION_PATH, body, category="linear", write=False)
    raw = yield from _tolerating(request, POSITION_NOT_MODIFIED)
    return PositionModeSetting(
        hedged=hedged,
        symbol=market.symbol if market is not None else None,
        scope="symbol" if market is not None else "coin",
        raw=raw,
    )
