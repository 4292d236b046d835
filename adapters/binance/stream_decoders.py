"""Binance stream messages into models: the same models, and fields, as REST and Bybit's streams.

Every number goes through the shared readers (``exchanges.parsing``) or the REST parsers of
``parse.py``, fed the stream's short keys under their REST names, so a NaN, an infinity, a
negative size or a zero price makes a push undecodable (the feed reports it or resyncs) rather
than a model. Payload fields: spot "WebSocket Streams" and "User Data Stream"
(https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams,
https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream), USD-M "Websocket
Market Streams" and "User Data Streams"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams,
https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from adapters.binance import parse
from adapters.binance.algo import parse_algo
from exchanges import parsing
from exchanges.decimals import shown
from exchanges.errors import BadResponse
from exchanges.models import Balance, Balances, Candle, Fill, Order, Position, Ticker, Trade
from exchanges.stream.account_state import BalancesState, PositionsState
from exchanges.stream.book import BookMessage
from exchanges.stream.dialect import Stateless
from exchanges.stream.levels import LevelReader

__all__ = [
    "BalanceDecoder",
    "BookDecoder",
    "CandleDecoder",
    "FillDecoder",
    "OrderDecoder",
    "PositionDecoder",
    "TickerDecoder",
    "TradeDecoder",
    "payload",
]

_EX = "binance"
#: Native symbol -> unified symbol (the adapter's market index).
Namer = Callable[[str], str]


def payload(message: Any) -> Any:
    """The event inside a frame: combined streams wrap it in ``data``, the WS API in ``event``."""
    if message.__class__ is dict:
        if "data" in message:
            return message["data"]
        if "event" in message:
            return message["event"]
    return message


def _id(value: Any) -> int:
    if value.__class__ is int and value >= 0:
        number: int = value
        return number
    raise BadResponse(f"a Binance depth event's update id is not one: {shown(value)}", exchange=_EX)


class TickerDecoder(Stateless):
    """``24hrTicker`` events as ``Ticker``s (USD-M's carry no best bid/ask)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol

    def decode(self, message: Any) -> Iterable[Ticker]:
        """One ticker per event."""
        d = payload(message)
        item = {
            "lastPrice": d["c"], "highPrice": d["h"], "lowPrice": d["l"], "volume": d["v"],
            "quoteVolume": d["q"], "openPrice": d["o"], "closeTime": d.get("C") or d.get("E"),
        }  # fmt: skip
        if "b" in d:
            item.update({"bidPrice": d["b"], "bidQty": d["B"], "askPrice": d["a"]})
            item["askQty"] = d["A"]
        ticker = parse.parse_ticker(self.symbol, item)
        return (attrs.evolve(ticker, raw=d),)


class BookDecoder(Stateless):
    """``depthUpdate`` events as deltas: ``[U, u]`` the ids covered, ``pu`` (USD-M) the last."""

    def __init__(self) -> None:
        self.levels = LevelReader(_EX).read

    def decode(self, message: Any) -> BookMessage:
        """A delta (Binance's diff depth stream pushes no snapshot: it comes over REST)."""
        d = payload(message)
        pu = d.get("pu")
        levels = self.levels
        return BookMessage(
            snapshot=False,
            bids=levels(d["b"]),
            asks=levels(d["a"]),
            sequence=_id(d["u"]),
            first=_id(d["U"]),
            prev=None if pu is None else _id(pu),
            timestamp=parsing.ms(d.get("T") or d.get("E")),
            raw=message,
        )


class TradeDecoder(Stateless):
    """``trade`` (spot) and ``aggTrade`` (USD-M) events as ``Trade``s."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol

    def decode(self, message: Any) -> Iterable[Trade]:
        """One trade per event; ``m`` (the buyer was the maker) means the taker sold."""
        d = payload(message)
        maker = d.get("m")
        return (
            Trade(
                id=str(d["t"] if "t" in d else parsing.need_str(d, "a", _EX)),
                symbol=self.symbol,
                timestamp=parsing.need_ms(d, "T", _EX),
                side=None if not isinstance(maker, bool) else "sell" if maker else "buy",
                price=parsing.need_price(d, "p", _EX),
                amount=parsing.need_amount(d, "q", _EX),
                raw=d,
            ),
        )


class CandleDecoder(Stateless):
    """``kline`` events as ``Candle``s (the newest value per start time is kept)."""

    def decode(self, message: Any) -> Iterable[Candle]:
        """The event's candle."""
        k = payload(message)["k"]
        prices = (k["o"], k["h"], k["l"], k["c"])
        return (parsing.candle(k["t"], prices, k["v"], k["q"], exchange=_EX, raw=k),)


def _order_item(event: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A spot ``executionReport`` or USD-M ``ORDER_TRADE_UPDATE`` under REST's names."""
    if event.get("e") == "ORDER_TRADE_UPDATE":
        o = event["o"]
        filled, average = o["z"], o.get("ap", "0")
        cost = str(Decimal(str(filled)) * Decimal(str(average)))
        return o["s"], {
            "orderId": o["i"], "clientOrderId": o["c"], "side": o["S"], "type": o["o"],
            "timeInForce": o["f"], "origQty": o["q"], "price": o["p"], "executedQty": filled,
            "avgPrice": average, "cumQuote": cost, "status": o["X"],
            "reduceOnly": o.get("R"), "time": o.get("T"), "updateTime": event.get("E"),
        }  # fmt: skip
    # A cancel's ``c`` is the cancel request's id; the order's own is then ``C``.
    return event["s"], {
        "orderId": event["i"], "clientOrderId": event.get("C") or event["c"],
        "side": event["S"], "type": event["o"], "timeInForce": event["f"],
        "origQty": event["q"], "price": event["p"], "executedQty": event["z"],
        "cummulativeQuoteQty": event["Z"], "status": event["X"], "time": event.get("O"),
        "updateTime": event.get("E"),
        # A stop type's ``P`` makes it conditional, as REST's stopPrice does (spot_stops.py).
        "stopPrice": event.get("P"),
    }  # fmt: skip


#: ``ALGO_UPDATE``'s short keys under the REST algo order's names ("Event: Algo Order Update",
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update).
#: The example there shows no trailing fields: ``cr`` for ``callbackRate`` follows third-party
#: clients, and a trailing order's ``tp`` is read as its activation price, as REST's
#: ``triggerPrice`` is (UNVERIFIED).
_ALGO_KEYS = {
    "caid": "clientAlgoId", "aid": "algoId", "at": "algoType", "o": "orderType", "s": "symbol",
    "S": "side", "ps": "positionSide", "f": "timeInForce", "q": "quantity", "X": "algoStatus",
    "ai": "actualOrderId", "tp": "triggerPrice", "p": "price", "wt": "workingType",
    "cp": "closePosition", "pP": "priceProtect", "R": "reduceOnly", "tt": "triggerTime",
    "gtd": "goodTillDate", "cr": "callbackRate", "rm": "rejectReason",
}  # fmt: skip


def _algo_order(name: Namer, event: Mapping[str, Any]) -> Order:
    """A USD-M ``ALGO_UPDATE`` (a conditional order's new status) as the REST algo parse reads
    it: one status table, one set of fields."""
    o = event["o"]
    item = {rest: o[short] for short, rest in _ALGO_KEYS.items() if short in o}
    if item.get("orderType") == "TRAILING_STOP_MARKET" and "triggerPrice" in item:
        item["activatePrice"] = item["triggerPrice"]
    item["updateTime"] = event.get("E")
    return attrs.evolve(parse_algo(name(parsing.need_str(o, "s", _EX)), item), raw=event)


class OrderDecoder(Stateless):
    """Order updates as ``Order``s (every execution type: new, trade, cancel, expiry...), and
    USD-M conditional orders' ``ALGO_UPDATE`` (``conditional`` set, as ``fetch_order`` has them;
    spot stops are ``executionReport``s of a stop type)."""

    def __init__(self, name: Namer) -> None:
        self.name = name

    def decode(self, message: Any) -> Iterable[Order]:
        """The order after this update."""
        event = payload(message)
        if event.get("e") == "ALGO_UPDATE":
            return (_algo_order(self.name, event),)
        native, item = _order_item(event)
        return (attrs.evolve(parse.parse_order(self.name(native), item), raw=event),)


class FillDecoder(Stateless):
    """The fills of order updates (execution type ``TRADE``) as ``Fill``s."""

    def __init__(self, name: Namer) -> None:
        self.name = name

    def decode(self, message: Any) -> Iterable[Fill]:
        """The fill this update reports, if it reports one."""
        event = payload(message)
        d = event["o"] if event.get("e") == "ORDER_TRADE_UPDATE" else event
        if d.get("x") != "TRADE":
            return ()
        item = {
            "id": d["t"], "orderId": d["i"], "isBuyer": d["S"] == "BUY", "isMaker": d.get("m"),
            "price": d["L"], "qty": d["l"], "commission": d.get("n"),
            "commissionAsset": d.get("N"), "time": d["T"],
        }  # fmt: skip
        fill = parse.parse_fill(self.name(parsing.need_str(d, "s", _EX)), item)
        client_id = d.get("c")
        return (attrs.evolve(fill, client_order_id=client_id or None, raw=event),)


class BalanceDecoder(BalancesState):
    """Balance pushes merged into the REST snapshot (assets not pushed keep their value).

    Spot ``outboundAccountPosition`` carries free and locked; USD-M ``ACCOUNT_UPDATE`` carries
    the wallet balance only, so what open orders hold stays as last read and the rest is free.
    """

    def decode(self, message: Any) -> Iterable[Balances]:
        """The balances after this push."""
        event = payload(message)
        merged = self.known()
        if event.get("e") == "ACCOUNT_UPDATE":
            for entry in event["a"]["B"]:
                asset = parsing.need_str(entry, "a", _EX)
                total = parsing.need_decimal(entry, "wb", _EX)
                before = merged.get(asset)
                used = min(before.used, total) if before is not None else Decimal(0)
                merged[asset] = Balance(asset, total - used, used, total, raw=entry)
        else:
            pushed = parse.parse_balances_spot(
                {
                    "balances": [
                        {"asset": b["a"], "free": b["f"], "locked": b["l"]} for b in event["B"]
                    ]
                }
            )
            merged.update(pushed.by_currency)
        self.balances = Balances(merged, timestamp=parsing.ms(event.get("E")), raw=event)
        return (self.balances,)


class PositionDecoder(PositionsState[tuple[str, str]]):
    """USD-M ``ACCOUNT_UPDATE`` positions merged into the REST snapshot (by symbol and side)."""

    def __init__(self, name: Namer) -> None:
        super().__init__()
        self.name = name

    def _key(self, position: Position) -> tuple[str, str]:
        raw = position.raw if isinstance(position.raw, dict) else {}
        side = raw.get("positionSide", raw.get("ps", "BOTH"))
        return position.symbol, side if isinstance(side, str) else "BOTH"

    def decode(self, message: Any) -> Iterable[list[Position]]:
        """The open positions after this push (none pushed: unchanged)."""
        event = payload(message)
        for p in event["a"].get("P") or ():
            symbol = self.name(parsing.need_str(p, "s", _EX))
            side = p.get("ps", "BOTH")
            key = (symbol, side if isinstance(side, str) else "BOTH")
            item = {
                "positionAmt": p["pa"], "entryPrice": p["ep"], "unRealizedProfit": p.get("up"),
                "positionSide": side, "updateTime": event.get("E"),
            }  # fmt: skip
            fresh = parse.parse_position(symbol, item)
            before = self.positions.get(key)
            if fresh is None:
                self.positions.pop(key, None)
            elif before is not None:
                # The push has no mark price or leverage: those of the last read stand.
                self.positions[key] = attrs.evolve(
                    before,
                    side=fresh.side,
                    size=fresh.size,
                    entry_price=fresh.entry_price,
                    unrealized_pnl=fresh.unrealized_pnl,
                    timestamp=fresh.timestamp,
                    raw=p,
                )
            else:
                self.positions[key] = attrs.evolve(fresh, raw=p)
        return (self.open_positions(),)
