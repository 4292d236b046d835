"""The Binance adapter's account: balances, fees, key restrictions, leverage, margin and
position modes, positions and a position's stops."""

from __future__ import annotations

from decimal import Decimal

from adapters.binance import algo as algo_api
from adapters.binance import leverage as leverage_api
from adapters.binance import modes as modes_api
from adapters.binance import parse
from adapters.binance.base import BinanceBase
from adapters.binance.hosts import sapi_unsupported_reason
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
from exchanges.wire import Role

__all__ = ["BinanceAccount"]


class BinanceAccount(BinanceBase):
    """The spot and USD-M accounts, and stops on USD-M positions (``algo.py``)."""

    def fetch_balance(self, market_type: str | None = None) -> Flow[Balances]:
        """The spot wallet (``/api/v3/account``) or the USD-M one (``/fapi/v2/account``).

        Binance keeps them apart: ``market_type`` "spot" reads the first, "swap" and "future"
        the second; None reads the one ``connect(..., wallet=)`` chose (spot by default).
        """
        wallet = self.wallet
        if market_type is not None:
            self.capabilities.require(f"market.{market_type}")
            wallet = "spot" if market_type == "spot" else "usdm"
        if wallet == "usdm":
            response = yield self.build.usdm_account()
            return parse.parse_balances_usdm(response.data)
        response = yield self.build.spot_account()
        return parse.parse_balances_spot(response.data)

    def fetch_trading_fee(self, symbol: Symbol) -> Flow[TradingFee]:
        """``/api/v3/account/commission`` or ``/fapi/v1/commissionRate`` for one symbol."""
        market = yield from self.market(symbol)
        response = yield self.build.commission(self._group(market), market.id)
        return parse.parse_trading_fee(market.symbol, response.data)

    def fetch_key_info(self, role: Role = "read") -> Flow[KeyInfo]:
        """``/sapi/v1/account/apiRestrictions`` (not on the spot testnet nor demo mode)."""
        reason = sapi_unsupported_reason(self.env)
        if reason is not None:
            unsupported: KeyInfo = yield from self._nope("fetch_key_info", reason)
            return unsupported
        response = yield self.build.api_restrictions(role)
        return parse.parse_key_info(response.data)

    def set_leverage(self, leverage: Decimal, symbol: Symbol) -> Flow[LeverageSetting]:
        """``/fapi/v1/leverage`` of a USD-M symbol, a whole number (``leverage.py``)."""
        self.require_leverage(symbol)
        market = yield from self.market(symbol)
        return (yield from leverage_api.set_leverage(self.build, market, leverage))

    def set_margin_mode(self, mode: MarginMode, symbol: Symbol) -> Flow[MarginModeSetting]:
        """``/fapi/v1/marginType`` of one USD-M symbol (``modes.py``)."""
        self.require_mode("set_margin_mode", symbol)
        market = yield from self.market(symbol)
        return (yield from modes_api.set_margin_mode(self.build, market, mode))

    def set_position_mode(self, hedged: bool, symbol: Symbol | None) -> Flow[PositionModeSetting]:
        """``/fapi/v1/positionSide/dual``: every USD-M symbol at once (``modes.py``)."""
        self.require_mode("set_position_mode", symbol)
        if symbol is not None:
            yield from self.market(symbol)  # an unknown symbol is refused before the switch
        name = None if symbol is None else str(symbol)
        return (yield from modes_api.set_position_mode(self.build, name, hedged))

    def set_trading_stop(self, args: TradingStopArgs) -> Flow[TradingStop]:
        """Algo STOP_MARKET / TAKE_PROFIT_MARKET orders with ``closePosition`` (``algo.py``)."""
        market, position = yield from self.position_to_stop(args)
        return (
            yield from algo_api.set_trading_stop(
                self.build, market, args, position.side, position.hedged
            )
        )

    def fetch_positions(self, symbols: list[Symbol] | None) -> Flow[list[Position]]:
        """``/fapi/v3/positionRisk``: non-empty USD-M positions (spot has none)."""
        natives: set[str] | None = None
        if symbols:
            natives = set()
            for symbol in symbols:
                if symbol.kind == "spot":
                    raise BadRequest(
                        f"{symbol} is spot: positions are for derivatives only",
                        exchange=self.name,
                        hint="Pass USD-M symbols such as BTC/USDT:USDT.",
                    )
                natives.add((yield from self.market(symbol)).id)
        yield from self._ensure(("usdm",))
        only = next(iter(natives)) if natives and len(natives) == 1 else None
        response = yield self.build.position_risk(only)
        positions = []
        for item in response.data if isinstance(response.data, list) else []:
            native = str(item.get("symbol"))
            if natives is not None and native not in natives:
                continue
            position = parse.parse_position(self._symbol("usdm", native), item)
            if position is not None:
                positions.append(position)
        return positions
