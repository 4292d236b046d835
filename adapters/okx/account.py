"""The OKX adapter's account: balance, fees, key, leverage, margin and position modes, positions
and a position's stops."""

from __future__ import annotations

from decimal import Decimal

from adapters.okx import algo as algo_api
from adapters.okx import leverage as leverage_api
from adapters.okx import modes as modes_api
from adapters.okx import parse
from adapters.okx.base import OkxBase
from exchanges.arguments import TradingStopArgs
from exchanges.errors import BadRequest
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
from exchanges.units import unified
from exchanges.wire import Role

__all__ = ["OkxAccount"]


class OkxAccount(OkxBase):
    """The trading account over ``/api/v5/account``, and stops on its positions (``algo.py``)."""

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """``/api/v5/account/balance``: the trading account, which backs every market type."""
        response = yield self.build.balance()
        items = parse.data_list(response)
        return parse.parse_balances(items[0] if items else {})

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/api/v5/account/trade-fee`` (``instId`` for spot, ``instFamily`` for contracts)."""
        market = yield from self.market(symbol)
        inst_type = market.category or parse.inst_type_of(symbol)
        family = None if market.spot else f"{market.base}-{market.quote}"
        inst_id = market.id if market.spot else None
        response = yield self.build.trade_fee(inst_type, inst_id, family)
        return parse.parse_trading_fee(market, parse.first(response))

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/api/v5/account/config`` for the key of ``role`` (``perm``, ``ip``, ``label``)."""
        response = yield self.build.config(role)
        return parse.parse_key_info(parse.first(response))

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/api/v5/account/set-leverage`` under cross margin (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        mode = self._margin_modes.get(market.symbol, leverage_api.MARGIN_MODE)
        return (yield from leverage_api.set_leverage(self.build, market, leverage, mode))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """Set-leverage under ``mode``; later orders on the symbol trade it (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        current = self._margin_modes.get(market.symbol, "cross")
        setting = yield from modes_api.set_margin_mode(
            self.build, market, mode, current, self._hedged
        )
        self._margin_modes[market.symbol] = mode
        return setting

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/api/v5/account/set-position-mode``: every swap and future (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        if symbol is not None:
            yield from self.market(symbol)  # an unknown symbol is refused before the switch
        name = None if symbol is None else str(symbol)
        setting = yield from modes_api.set_position_mode(self.build, name, hedged)
        self._hedged = hedged
        return setting

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """A ``closeFraction`` conditional/oco algo order on the position (``algo.py``)."""
        market, position = yield from self.position_to_stop(args)
        mode = self._margin_modes.get(market.symbol, "cross")
        return (
            yield from algo_api.set_trading_stop(
                self.build, market, args, position.side, position.hedged, mode
            )
        )

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/api/v5/account/positions``, non-empty positions only."""
        wanted: set[str] | None = None
        if symbols:
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(
                        f"{symbol} is spot: positions are for derivatives only", exchange=self.name
                    )
            wanted = {str(s) for s in symbols}
            yield from self._ensure_groups(sorted({self.market_group(s) for s in symbols}))
        response = yield self.build.positions()
        positions = []
        for item in parse.data_list(response):
            name = self._symbol(item.get("instId"))
            if wanted is not None and name not in wanted:
                continue
            position = parse.parse_position(name, item)
            if position is not None:
                market = yield from self._market_of(item)
                positions.append(position if market is None else unified(position, market))
        return positions
