"""Margin and position modes through ccxt: ``set_margin_mode``, ``set_position_mode`` and the
margin mode of Bybit positions.

What ccxt does per family (ccxt 4.5, its ``set_margin_mode`` / ``set_position_mode``):

* Bybit (unified account): ``set_margin_mode`` calls ``/v5/account/set-margin-mode``, which
  switches the **whole account** whatever the symbol ("Set Margin Mode",
  https://bybit-exchange.github.io/docs/v5/account/set-margin-mode): the answer says
  ``scope="account"``. ``set_position_mode`` switches the symbol, or ``coin=USDT`` without one.
  Bybit positions' ``tradeMode`` is deprecated, so ccxt reports no margin mode: it is read from
  ``/v5/account/info`` (``marginMode``) as the native adapter does.
* Binance USD-M: ``/fapi/v1/marginType`` per symbol (ccxt swallows -4046 "No need to change
  margin type."), ``/fapi/v1/positionSide/dual`` for the account.
* OKX: the margin mode is each order's ``tdMode``; ccxt's ``set_margin_mode`` is set-leverage
  under that mode and needs the leverage (``lever``), read first with ``fetch_leverage`` under the
  mode in force. The bridge then passes ``marginMode`` on its later orders of the symbol.
  ``set_position_mode`` sets ``posMode`` for the account.

"Already in force" answers are success: Bybit 110025/110026, Binance -4046/-4059 ("Error
Codes" pages: https://bybit-exchange.github.io/docs/v5/error,
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from adapters.ccxt_bridge.runner import ccxt_request
from exchanges.errors import ExchangeError
from exchanges.models import MarginMode, MarginModeSetting, ModeScope, Position, PositionModeSetting

if TYPE_CHECKING:
    from adapters.ccxt_bridge.adapter import CcxtAdapter
    from exchanges.flow import Flow
    from exchanges.symbols import Symbol

__all__ = ["NOT_MODIFIED", "set_margin_mode", "set_position_mode", "with_margin_modes"]

#: Native codes that mean "already in force", per ccxt family.
NOT_MODIFIED: Mapping[str, frozenset[str]] = {
    "bybit": frozenset({"110025", "110026"}),
    "binance": frozenset({"-4046", "-4059"}),
}
_BYBIT_MODES: Mapping[str, MarginMode] = {"REGULAR_MARGIN": "cross", "ISOLATED_MARGIN": "isolated"}


def _tolerating(adapter: CcxtAdapter, method: str, *args: Any) -> Flow[Any]:
    """ccxt's answer, or a note of the native code when it says nothing changed."""
    try:
        response = yield ccxt_request(method, *args)
    except ExchangeError as err:
        if str(err.code) not in NOT_MODIFIED.get(adapter.family or "", frozenset()):
            raise
        return {"code": err.code, "message": err.message}
    return response.data


def set_margin_mode(
    adapter: CcxtAdapter, mode: MarginMode, symbol: Symbol
) -> Flow[MarginModeSetting]:
    """ccxt's ``set_margin_mode`` (OKX: with the leverage in force, read first)."""
    adapter.require_mode("set_margin_mode", symbol)
    market = yield from adapter.market(symbol)
    adapter._require("setMarginMode", "Setting the margin mode")
    params: dict[str, Any] = {}
    if adapter.family == "okx":
        current = adapter.margin_modes.get(market.symbol, "cross")
        response = yield ccxt_request("fetch_leverage", market.symbol, {"marginMode": current})
        data = response.data if isinstance(response.data, Mapping) else {}
        lever = data.get("longLeverage") or data.get("shortLeverage")
        # ccxt takes OKX's lever as an int from 1 to 125.
        params["lever"] = int(lever) if lever else 1
    raw = yield from _tolerating(adapter, "set_margin_mode", mode, market.symbol, params)
    adapter.margin_modes[market.symbol] = mode
    scope: ModeScope = "account" if adapter.family == "bybit" else "symbol"
    return MarginModeSetting(symbol=market.symbol, margin_mode=mode, scope=scope, raw=raw)


def set_position_mode(
    adapter: CcxtAdapter, hedged: bool, symbol: Symbol | None
) -> Flow[PositionModeSetting]:
    """ccxt's ``set_position_mode`` (Bybit: the symbol, or every USDT perpetual without one)."""
    adapter.require_mode("set_position_mode", symbol)
    adapter._require("setPositionMode", "Setting the position mode")
    name = None if symbol is None else (yield from adapter.market(symbol)).symbol
    if symbol is None:
        yield from adapter.load_markets()
    # Without a symbol ccxt's binance picks the API by subType: USD-M is the linear one.
    params = {"subType": "linear"} if adapter.family == "binance" and name is None else {}
    raw = yield from _tolerating(adapter, "set_position_mode", hedged, name, params)
    scope: ModeScope = "account"
    if adapter.family == "bybit":
        scope = "symbol" if name is not None else "coin"
    return PositionModeSetting(hedged=hedged, symbol=name, scope=scope, raw=raw)


def with_margin_modes(adapter: CcxtAdapter, positions: list[Position]) -> Flow[list[Position]]:
    """Bybit positions with the account's margin mode (``/v5/account/info``), which ccxt's
    positions lack; others as they are."""
    if adapter.family != "bybit" or not positions:
        return positions
    response = yield ccxt_request("private_get_v5_account_info", {})
    data = response.data if isinstance(response.data, Mapping) else {}
    result = data.get("result")
    native = result.get("marginMode") if isinstance(result, Mapping) else None
    mode = _BYBIT_MODES.get(str(native))
    return [attrs.evolve(p, margin_mode=mode) if p.margin_mode is None else p for p in positions]
