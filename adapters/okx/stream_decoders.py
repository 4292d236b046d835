"""OKX stream pushes into the unified models: the same parsers, fields and units as REST.

Amounts are Decimal and in unified units: contracts become base (or quote) units through
``exchanges.units`` with the market's ``ctVal``, as the REST side does. The channels and their
sources are listed in ``stream.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs

from adapters.okx import parse
from adapters.okx.algo import parse_algo
from adapters.okx.base import unified_order
from exchanges import parsing
from exchanges.errors import BadResponse
from exchanges.models import Balances, Candle, Fill, Order, Position, Ticker, Trade
from exchanges.stream.account_state import BalancesState, PositionsState
from exchanges.stream.book import BookMessage
from exchanges.stream.dialect import Stateless
from exchanges.stream.levels import LevelReader
from exchanges.units import unified

if TYPE_CHECKING:
    from adapters.okx.stream import OkxDialect
    from exchanges.models import Market

__all__ = [
    "AlgoDecoder",
    "BalanceDecoder",
    "BookDecoder",
    "CandleDecoder",
    "FillDecoder",
    "OrderDecoder",
    "PositionDecoder",
    "TickerDecoder",
    "TradeDecoder",
]

_EX = "okx"


class TickerDecoder(Stateless):
    """``tickers`` items as ``Ticker``s."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def decode(self, message: Any) -> Iterable[Ticker]:
        """One ticker per item."""
        return [unified(parse.parse_ticker(self.market, i), self.market) for i in message["data"]]


class BookDecoder(Stateless):
    """``books`` pushes as ``BookMessage``s (sizes in unified units; checksum ignored)."""

    def __init__(self, market: Market) -> None:
        self.size = market.contract_size if market.counts_contracts else None
        self.levels = LevelReader(_EX).read

    def decode(self, message: Any) -> BookMessage:
        """``action`` snapshot or update; ``seqId`` the sequence, ``prevSeqId`` the link."""
        item = message["data"][0]
        bids = self.levels(item["bids"])
        asks = self.levels(item["asks"])
        size = self.size
        if size is not None:
            bids = tuple([(p, q * size) for p, q in bids])
            asks = tuple([(p, q * size) for p, q in asks])
        seq, prev = item["seqId"], item.get("prevSeqId")
        if seq.__class__ is not int or (prev is not None and prev.__class__ is not int):
            raise BadResponse("an OKX book push without integer seqIds", exchange=_EX)
        snapshot = message.get("action") == "snapshot"
        return BookMessage(
            snapshot=snapshot,
            bids=bids,
            asks=asks,
            sequence=seq,
            timestamp=parsing.ms(item.get("ts")),
            prev=None if snapshot or prev == -1 else prev,
            raw=message,
        )


class TradeDecoder(Stateless):
    """``trades`` items as ``Trade``s."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def decode(self, message: Any) -> Iterable[Trade]:
        """Every trade of the message."""
        market = self.market
        return [unified(parse.parse_trade(market.symbol, i), market) for i in message["data"]]


class CandleDecoder(Stateless):
    """``candle<bar>`` rows as ``Candle``s (base volume, as over REST)."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def decode(self, message: Any) -> Iterable[Candle]:
        """Every candle of the message."""
        return parse.parse_candles(self.market, message["data"])


class OrderDecoder(Stateless):
    """``orders`` items as ``Order``s (every state change, fills included)."""

    def __init__(self, dialect: OkxDialect) -> None:
        self.dialect = dialect

    def decode(self, message: Any) -> Iterable[Order]:
        """Every order update of the message."""
        orders = []
        for item in message["data"]:
            inst_id = item.get("instId")
            order = self._parse(self.dialect._symbol(inst_id), item)
            market = self.dialect.market_of(inst_id)
            orders.append(order if market is None else unified_order(order, market))
        return orders

    def _parse(self, symbol: str, item: Any) -> Order:
        return parse.parse_order(symbol, item, spot=item.get("instType") == "SPOT")


class AlgoDecoder(OrderDecoder):
    """``orders-algo`` and ``algo-advance`` items as conditional ``Order``s, read by the REST
    algo parse (the same fields, states and units as ``fetch_order``).

    ``algo-advance`` pushes iceberg and TWAP orders too, which this library does not place;
    they are conditional orders without a trigger here.
    """

    def _parse(self, symbol: str, item: Any) -> Order:
        return parse_algo(symbol, item)


class FillDecoder(Stateless):
    """The fills ``orders`` items carry (``tradeId``, ``fillSz``, ``fillPx``, ``fillFee``)."""

    def __init__(self, dialect: OkxDialect) -> None:
        self.dialect = dialect

    def decode(self, message: Any) -> Iterable[Fill]:
        """One fill per item that reports one; other order updates are skipped."""
        fills = []
        for item in message["data"]:
            if not item.get("tradeId") or not item.get("fillSz"):
                continue
            # The fill fields of an orders item describe this update only.
            row = {**item, "fee": item.get("fillFee", ""), "feeCcy": item.get("fillFeeCcy", "")}
            fill = parse.parse_fill(self.dialect._symbol(item.get("instId")), row)
            fills.append(self.dialect._unified(fill, item.get("instId")))
        return fills


class PositionDecoder(PositionsState[str]):
    """``positions`` pushes merged into the open positions (a paged snapshot replaces them)."""

    def __init__(self, dialect: OkxDialect) -> None:
        super().__init__()
        self.dialect = dialect
        self._pages: dict[str, Position] | None = None

    def _key(self, position: Position) -> str:
        return position.symbol

    def decode(self, message: Any) -> Iterable[list[Position]]:
        """The open positions after this message (after the last page of a snapshot)."""
        snapshot = message.get("eventType") == "snapshot"
        target = self.positions
        if snapshot:
            if self._pages is None or message.get("curPage") in (1, None):
                self._pages = {}
            target = self._pages
        for item in message["data"]:
            symbol = self.dialect._symbol(item.get("instId"))
            position = parse.parse_position(symbol, item)
            if position is None:
                target.pop(symbol, None)
            else:
                target[symbol] = self.dialect._unified(position, item.get("instId"))
        if snapshot:
            if message.get("lastPage") is False:
                return ()
            self.positions, self._pages = target, None
        return (self.open_positions(),)

    def reset(self) -> None:
        """Forget: the next subscription starts from REST again."""
        super().reset()
        self._pages = None


class BalanceDecoder(BalancesState):
    """``account`` pushes merged into the balances (currencies not pushed keep their value)."""

    def decode(self, message: Any) -> Iterable[Balances]:
        """The balances after this message."""
        out = []
        for item in message["data"]:
            pushed = parse.parse_balances(item)
            merged = self.known()
            merged.update(pushed.by_currency)
            self.balances = attrs.evolve(pushed, by_currency=merged)
            out.append(self.balances)
        return out
