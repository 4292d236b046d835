"""The Bybit adapter's account: balance, fees, key, positions, leverage, margin and position
modes, and a position's stops."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from adapters.bybit import leverage as leverage_api
from adapters.bybit import modes as modes_api
from adapters.bybit import parse
from adapters.bybit import triggers as triggers_api
from adapters.bybit.base import BybitBase, category_of
from exchanges.arguments import TradingStopArgs
from exchanges.errors import BadRequest, BadSymbol
from exchanges.flow import Flow
from exchanges.models import (
    Balances,
    KeyInfo,
    LeverageSetting,
    MarginMode,
    MarginModeSetting,
    Position,
    PositionModeSetting,
    TradingFee,
    TradingStop,
)
from exchanges.symbols import Symbol
from exchanges.wire import PreEncoded, Request, Role

__all__ = ["BybitAccount"]


class BybitAccount(BybitBase):
    """The unified account over ``/v5/account`` and ``/v5/position``, and its positions' stops
    (``triggers.py``)."""

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """``/v5/account/wallet-balance`` of the unified account, which backs every type."""
        response = yield self.build.wallet_balance()
        return parse.parse_balances(parse.result_list(response), parse.envelope_time(response))

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/v5/account/fee-rate`` for one symbol (not offered by demo trading)."""
        self.capabilities.require("fetch_trading_fee", env=self.env)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.fee_rate(category, market.id)
        items = parse.result_list(response)
        if not items:
            raise BadSymbol(f"Bybit returned no fee rate for {market.symbol}", exchange=self.name)
        return parse.parse_trading_fee(market.symbol, items[0])

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/v5/user/query-api`` for the key of ``role``."""
        response = yield self.build.query_api(role)
        return parse.parse_key_info(parse.result(response))

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/v5/position/list``, non-empty positions only."""
        pairs: list[tuple[str, Any]] = []
        if symbols:
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(f"{symbol} is spot: positions are for derivatives only")
                pairs.extend((yield from self._positions_of(symbol)))
        else:
            targets = yield from self._scan_targets()
            for category, scope in targets:
                if category == "spot":
                    continue

                def make(
                    cursor: PreEncoded | None, c: str = category, s: dict[str, str] = scope
                ) -> Request:
                    params = {"category": c, **s, "limit": 200, "cursor": cursor}
                    return self.build.positions(params, c)

                items = yield from self._pages(make, None)
                pairs.extend((category, item) for item in items)
        positions = []
        for category, item in pairs:
            position = parse.parse_position(self._symbol(category, item.get("symbol")), item)
            if position is not None:
                positions.append(position)
        if positions:
            # Positions' tradeMode is deprecated: the margin mode is the account's (modes.py).
            info = yield modes_api.account_info(self.build)
            mode = modes_api.margin_mode_of(parse.result(info))
            positions = [attrs.evolve(p, margin_mode=mode) for p in positions]
        return positions

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/v5/position/set-leverage`` of a linear or inverse contract (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        return (yield from leverage_api.set_leverage(self.build, market, category, leverage))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """``/v5/account/set-margin-mode``: account-wide on Bybit (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        return (yield from modes_api.set_margin_mode(self.build, market, mode))

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/v5/position/switch-mode`` of a USDT perpetual, or of all of them (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        market = None if symbol is None else (yield from self.market(symbol))
        return (yield from modes_api.set_position_mode(self.build, market, hedged))

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """``/v5/position/trading-stop`` of the open position (``triggers.py``)."""
        market = yield from self.market(args.symbol)
        category = market.category or category_of(args.symbol)
        side = args.side
        if side is None:
            held = [
                p
                for c, item in (yield from self._positions_of(args.symbol))
                if (p := parse.parse_position(market.symbol, item)) is not None
            ]
            if not held:
                raise triggers_api.no_position(market.symbol)
            side = held[0].side
        return (yield from triggers_api.set_trading_stop(self.build, market, category, args, side))

    def _positions_of(self, symbol: Symbol) -> Flow[list[tuple[str, Any]]]:
        market = yield from self.market(symbol)
        category = market.category or category_of(symbol)
        response = yield self.build.positions({"category": category, "symbol": market.id}, category)
        return [(category, item) for item in parse.result_list(response)]
