"""Bybit v5 WebSocket streams: hosts, topics, frames, auth, and messages into models.

Sources (Bybit v5 docs):

* https://bybit-exchange.github.io/docs/v5/ws/connect — hosts per category
  (``/v5/public/{spot,linear,inverse,option}``, ``/v5/private``); auth
  ``{"op":"auth","args":[api_key, expires, signature]}`` with HMAC-SHA256 hex of
  ``"GET/realtime" + expires`` ("expires is greater than your current timestamp"; RSA keys
  sign the same string, base64); ``{"op":"ping"}`` every 20 s; per-connection args limits
  of public channels: the ``args`` array of one connection under 21,000 characters, spot at
  most 10 args per subscribe request, options at most 2,000 args per connection. Pongs:
  ``{"op":"ping","ret_msg":"pong",...}`` (public) and ``{"op":"pong","args":[ms],...}``
  (private).
* https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook — ``orderbook.{depth}.
  {symbol}``: a snapshot after subscribing, then deltas; size "0" deletes; a new snapshot
  resets the book; ``u`` is the update id (``u=1`` marks a snapshot after a service restart),
  ``seq`` the cross sequence. That each delta's ``u`` is the previous one plus one is how the
  feed behaves, not a documented promise: a jump is taken as a possible gap and the book
  resyncs (spaced out, and reported as an error if it keeps happening) rather than risk
  showing a wrong book. Depths: 1, 50, 200,
  1000 (spot, linear, inverse), 25 and 100 (option); level 1 is snapshots only.
* .../v5/websocket/public/ticker — ``tickers.{symbol}``: derivatives send a snapshot then deltas
  of the changed fields only; spot and option send snapshots (spot has no bid/ask fields).
* .../v5/websocket/public/trade — ``publicTrade.{symbol}`` (option: per base coin), items
  ``T s S v p i``; .../v5/websocket/public/kline — ``kline.{interval}.{symbol}``.
* .../v5/websocket/private/{order,execution,position,wallet} — all-in-one topics; items carry
  ``category``; positions name the entry price ``entryPrice``; wallet sends no snapshot on
  subscribing (so balances and positions start from REST here).

Demo trading has private streams only (``stream-demo.bybit.com``); its public data comes from
mainnet's public streams (docs demo.mdx), which ``hosts.stream_base`` encodes, with the
regional stream hosts.

Every number a push carries goes through the shared readers of ``exchanges.parsing`` (book
levels, trades, candles, and the REST parsers for tickers, orders, fills, positions, balances):
a NaN, an infinity, a negative size, a zero price or a magnitude of 1e30 or more makes the push
undecodable, which the feed reports (events, state) or answers with a resync (books).

Observed but not documented: a refused auth answers ``{"success":false,"ret_msg":"Params
Error","op":"auth"}`` when ``expires`` is already past (pybit issues #152, #300); the wording
for a bad key or signature is not documented, so refusals are classified by keywords and the
hint covers every cause.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from adapters.bybit import parse
from adapters.bybit.hosts import rest_origin, stream_base
from adapters.bybit.signer import signature
from exchanges import parsing
from exchanges.decimals import shown
from exchanges.errors import (
    ApiKeyExpired,
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    ExchangeError,
    InvalidApiKey,
    InvalidSignature,
    IpNotAllowed,
    NotSupported,
)
from exchanges.models import Balances, Candle, Fill, Order, Position, Ticker, Trade
from exchanges.signing import KeyCache
from exchanges.stream.account_state import BalancesState, PositionsState
from exchanges.stream.book import BookMessage, consecutive
from exchanges.stream.dialect import Control, FeedSpec, Stateless, StreamDialect
from exchanges.stream.levels import LevelReader
from exchanges.stream.options import StreamOptions

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.models import Market

__all__ = ["AUTH_EXPIRY_MS", "BOOK_DEPTHS", "BybitDialect"]

#: How far past the (server-clock) stamp an auth request stays valid. pybit's 1 s is known to
#: be too tight on slow links (pybit issues #152, #300).
AUTH_EXPIRY_MS = 10_000
#: Order book depths per category (docs v5/websocket/public/orderbook).
BOOK_DEPTHS = {
    "spot": (1, 50, 200, 1000),
    "linear": (1, 50, 200, 1000),
    "inverse": (1, 50, 200, 1000),
    "option": (25, 100),
}
# Unified timeframe -> Bybit kline interval (docs v5/websocket/public/kline).
_INTERVALS = {
    "1m": "1", "3m": "3", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "2h": "120",
    "4h": "240", "6h": "360", "12h": "720", "1d": "D", "1w": "W", "1M": "M",
}  # fmt: skip
_MAX_ARGS_CHARS = 21_000
_SPOT_ARGS_PER_REQUEST = 10
_OPTION_ARGS_PER_CONNECTION = 2_000
_BATCH = 100  # args per frame elsewhere: no documented limit, but frames stay small
_TRADE_EXEC_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade"})
_EX = "bybit"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _text(value: Any) -> str:
    # Never str() of a container: a hostile push nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else ""


def _update_id(value: Any) -> int:
    if value.__class__ is int and value >= 0:
        update: int = value
        return update
    raise BadResponse(f"a Bybit book push's update id is not one: {shown(value)}", exchange=_EX)


def _category(market: Market) -> str:
    category = market.category
    if category is None:
        raise BadSymbol(f"{market.symbol} has no Bybit category", exchange="bybit")
    return category


class BybitDialect(StreamDialect):
    """Bybit v5 public and private streams."""

    name = "bybit"
    ping_interval = 20.0

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self._ws_url = StreamOptions.from_options(adapter.options).url
        self._keys = KeyCache()
        self._index: dict[tuple[str, str], str] = {}
        self._indexed = -1

    # -- connections ----------------------------------------------------------------------

    def url(self, group: str) -> str:
        """``wss://stream...`` per environment and region (``ws_url=`` overrides the host)."""
        kind, _, category = group.partition("/")
        private = kind == "private"
        return self._host(private) + ("/v5/private" if private else f"/v5/public/{category}")

    def _host(self, private: bool) -> str:
        if self._ws_url is not None:
            return self._ws_url.rstrip("/")
        adapter = self.adapter
        base = adapter.base_url_override
        if base is None:
            return stream_base(adapter.env, getattr(adapter, "region", None), private)
        # One of Bybit's own REST hosts names its site; any other base URL (the emulator, a
        # proxy) serves streams itself, on the same origin.
        origin = rest_origin(base)
        if origin is not None:
            return stream_base(origin[0], origin[1], private)
        scheme, sep, rest = base.partition("://")
        return ("wss" if scheme == "https" else "ws") + sep + rest

    def fits(self, group: str, topics: Sequence[str], topic: str) -> bool:
        """Public connections: args under 21,000 characters; options: 2,000 args."""
        if group == "private":
            return True
        if group == "public/option" and len(topics) >= _OPTION_ARGS_PER_CONNECTION:
            return False
        # Counted as the JSON array the args make, the strictest reading of the limit.
        size = sum(len(t) + 3 for t in topics) + len(topic) + 3 + 2
        return size <= _MAX_ARGS_CHARS

    def batches(self, group: str, topics: Sequence[str]) -> list[Sequence[str]]:
        """Spot takes at most 10 args per subscribe request."""
        size = _SPOT_ARGS_PER_REQUEST if group == "public/spot" else _BATCH
        return [topics[i : i + size] for i in range(0, len(topics), size)]

    # -- frames ---------------------------------------------------------------------------

    def subscribe(self, topics: Sequence[str], req_id: str) -> str:
        """``{"req_id":..,"op":"subscribe","args":[...]}``."""
        return _dumps({"req_id": req_id, "op": "subscribe", "args": list(topics)})

    def unsubscribe(self, topics: Sequence[str], req_id: str) -> str:
        """``{"req_id":..,"op":"unsubscribe","args":[...]}``."""
        return _dumps({"req_id": req_id, "op": "unsubscribe", "args": list(topics)})

    def ping(self) -> str:
        """``{"op":"ping"}``."""
        return '{"op":"ping"}'

    def auth(self, credentials: Credentials, timestamp_ms: int) -> str:
        """``{"op":"auth","args":[key, expires, sign]}`` over ``GET/realtime{expires}``."""
        expires = timestamp_ms + AUTH_EXPIRY_MS
        material = self._keys.get(credentials)
        sign = signature(material, b"GET/realtime%d" % expires)
        return _dumps({"op": "auth", "args": [credentials.api_key, expires, sign]})

    # -- reading --------------------------------------------------------------------------

    def topic_of(self, message: Any) -> str | None:
        """Data messages carry ``topic``; acks and pongs do not."""
        if message.__class__ is dict:
            topic = message.get("topic")
            return topic if isinstance(topic, str) else None
        return None

    def control(self, message: Any) -> Control:
        """Pongs, auth replies, (un)subscribe acks."""
        if not isinstance(message, dict):
            return Control("other")
        op = message.get("op")
        text = message.get("ret_msg")
        text = text if isinstance(text, str) else ""
        req_id = message.get("req_id")
        req = str(req_id) if req_id is not None else None
        ok = message.get("success") is not False
        if op == "pong" or text == "pong":
            return Control("pong", req_id=req)
        if op == "auth":
            return Control("auth", ok=message.get("success") is True, req_id=req, text=text)
        if op == "subscribe":
            return Control("subscribe", ok=ok, req_id=req, text=text)
        if op == "unsubscribe":
            return Control("unsubscribe", ok=ok, req_id=req, text=text)
        if not ok:
            return Control("error", ok=False, req_id=req, text=text)
        return Control("other", req_id=req, text=text)

    def auth_error(self, text: str, credentials: Credentials) -> tuple[AuthenticationError, bool]:
        """Classify a refusal by its words (Bybit documents none for the WS auth)."""
        shown = text.replace(credentials.api_key, credentials.masked_key)
        words = shown.lower()
        message = f"Bybit refused the private stream's auth: {shown or '(no reason given)'}"
        env = self.adapter.env
        cls: type[AuthenticationError] = AuthenticationError
        hint: str | None = None
        retry = False
        if "sign" in words:
            cls = InvalidSignature
        elif "expire" in words and "key" in words:
            cls = ApiKeyExpired
        elif "unmatched ip" in words or " ip " in f" {words} ":
            cls = IpNotAllowed
        elif "key" in words:
            cls = InvalidApiKey
            hint = (
                f"Bybit does not know this key on its {env} stream host; mainnet, testnet and "
                "demo keys are separate."
            )
        else:
            retry = True
            hint = (
                "Bybit answers this when the auth's expiry time has passed by its clock (the "
                "client resynced its clock and retried once), or when the key or secret is "
                f"wrong for {env}. Check the key and secret, and the system clock."
            )
        return cls(message, exchange="bybit", endpoint="WS /v5/private", hint=hint), retry

    def subscribe_error(self, text: str, topics: Sequence[str]) -> ExchangeError:
        """``error:handler not found,topic:...`` is an unknown symbol or depth."""
        message = f"Bybit refused the subscription to {', '.join(topics)}: {text}"
        if "not found" in text.lower():
            return BadSymbol(
                message,
                exchange="bybit",
                hint="Bybit has no such topic: check the symbol, depth or interval.",
            )
        return BadRequest(message, exchange="bybit", hint="The message is Bybit's.")

    # -- markets --------------------------------------------------------------------------

    def symbol(self, category: str, native: str) -> str:
        """The unified symbol of a native one (the native one if the market is unknown)."""
        markets = self.adapter.markets
        if len(markets) != self._indexed:
            self._index = {(m.category or "", m.id): m.symbol for m in markets.values()}
            self._indexed = len(markets)
        return self._index.get((category, native), native)

    # -- feeds ----------------------------------------------------------------------------

    def ticker(self, market: Market) -> FeedSpec:
        """``tickers.{symbol}``."""
        category = _category(market)
        return FeedSpec(
            group=f"public/{category}",
            topic=f"tickers.{market.id}",
            mode="latest",
            decoder=lambda: TickerDecoder(market.symbol, category),
        )

    def order_book(self, market: Market, limit: int) -> FeedSpec:
        """``orderbook.{depth}.{symbol}`` with the smallest depth of at least ``limit``."""
        category = _category(market)
        depths = BOOK_DEPTHS[category]
        depth = next((d for d in depths if d >= limit), None)
        if depth is None:
            raise BadRequest(
                f"Bybit streams {category} order books up to {depths[-1]} levels, not {limit}",
                exchange="bybit",
                hint=f"Pass limit <= {depths[-1]}.",
            )
        return FeedSpec(
            group=f"public/{category}",
            topic=f"orderbook.{depth}.{market.id}",
            mode="book",
            decoder=BookDecoder,
            continuity=consecutive,
            depth=depth,
            symbol=market.symbol,
        )

    def trades(self, market: Market) -> FeedSpec:
        """``publicTrade.{symbol}`` (options: ``publicTrade.{baseCoin}``)."""
        category = _category(market)
        native = market.base if category == "option" else market.id
        return FeedSpec(
            group=f"public/{category}",
            topic=f"publicTrade.{native}",
            mode="events",
            decoder=lambda: TradeDecoder(self, category),
        )

    def ohlcv(self, market: Market, timeframe: str) -> FeedSpec:
        """``kline.{interval}.{symbol}``; the newest value per candle start is kept."""
        category = _category(market)
        if category == "option":
            raise NotSupported("Bybit has no klines for options", exchange="bybit")
        interval = _INTERVALS.get(timeframe)
        if interval is None:
            raise BadRequest(
                f"Bybit has no timeframe {timeframe!r}",
                exchange="bybit",
                hint=f"Use one of {', '.join(_INTERVALS)}.",
            )
        return FeedSpec(
            group=f"public/{category}",
            topic=f"kline.{interval}.{market.id}",
            mode="latest",
            decoder=lambda: CandleDecoder(category),
            key=_candle_start,
        )

    def orders(self) -> FeedSpec:
        """``order`` (every category)."""
        return FeedSpec("private", "order", "events", lambda: OrderDecoder(self))

    def my_trades(self) -> FeedSpec:
        """``execution`` (trades only: funding and settlement rows are left out)."""
        return FeedSpec("private", "execution", "events", lambda: FillDecoder(self))

    def positions(self) -> FeedSpec:
        """``position``, starting from ``fetch_positions``."""
        return FeedSpec(
            "private",
            "position",
            "state",
            lambda: PositionDecoder(self),
            seed=lambda client: client.fetch_positions(),
        )

    def balance(self) -> FeedSpec:
        """``wallet``, starting from ``fetch_balance``."""
        return FeedSpec(
            "private",
            "wallet",
            "state",
            BalanceDecoder,
            seed=lambda client: client.fetch_balance(),
        )


def _candle_start(candle: Candle) -> int:
    return candle.timestamp


# -- decoders ----------------------------------------------------------------------------------


class TickerDecoder:
    """Merges derivative ticker deltas into the last snapshot."""

    def __init__(self, symbol: str, category: str) -> None:
        self.symbol = symbol
        self.category = category
        self.fields: dict[str, Any] = {}

    def decode(self, message: Any) -> Iterable[Ticker]:
        """One ``Ticker`` per message (none for a delta before any snapshot)."""
        data = message["data"]
        if message.get("type") == "delta":
            if not self.fields:
                return ()
            self.fields.update(data)
        else:
            self.fields = dict(data)
        return (
            parse.parse_ticker(
                self.symbol, self.category, dict(self.fields), parsing.ms(message.get("ts"))
            ),
        )

    def reset(self) -> None:
        """Wait for a snapshot again."""
        self.fields = {}


class BookDecoder(Stateless):
    """``orderbook.*`` messages as ``BookMessage``s."""

    def __init__(self) -> None:
        self.levels = LevelReader(_EX).read

    def decode(self, message: Any) -> BookMessage:
        """Levels as Decimals (prices > 0, sizes >= 0: "0" deletes a level); ``u`` is the
        sequence, ``seq`` the cross sequence."""
        data = message["data"]
        cross = data.get("seq")
        levels = self.levels
        return BookMessage(
            snapshot=message["type"] == "snapshot",
            bids=levels(data["b"]),
            asks=levels(data["a"]),
            sequence=_update_id(data["u"]),
            timestamp=parsing.ms(message.get("cts") or message.get("ts")),
            cross=cross if cross.__class__ is int else None,
            raw=message,
        )


class TradeDecoder(Stateless):
    """``publicTrade.*`` items as ``Trade``s."""

    def __init__(self, dialect: BybitDialect, category: str) -> None:
        self.dialect = dialect
        self.category = category

    def decode(self, message: Any) -> Iterable[Trade]:
        """Every trade of the message, oldest first (as sent)."""
        symbol = self.dialect.symbol
        trades = []
        for item in message["data"]:
            side = item.get("S")
            trades.append(
                Trade(
                    id=parsing.need_str(item, "i", _EX),
                    symbol=symbol(self.category, parsing.need_str(item, "s", _EX)),
                    timestamp=parsing.need_ms(item, "T", _EX),
                    side="buy" if side == "Buy" else "sell" if side == "Sell" else None,
                    price=parsing.need_price(item, "p", _EX),
                    amount=parsing.need_amount(item, "v", _EX),
                    raw=item,
                )
            )
        return trades


class CandleDecoder(Stateless):
    """``kline.*`` items as ``Candle``s (inverse volumes swapped as over REST)."""

    def __init__(self, category: str) -> None:
        self.category = category

    def decode(self, message: Any) -> Iterable[Candle]:
        """Every candle of the message."""
        candles = []
        for item in message["data"]:
            get = item.get
            volume, turnover = get("volume"), get("turnover")
            if self.category == "inverse":
                volume, turnover = turnover, volume
            prices = (get("open"), get("high"), get("low"), get("close"))
            candles.append(
                parsing.candle(get("start"), prices, volume, turnover, exchange=_EX, raw=item)
            )
        return candles


class OrderDecoder(Stateless):
    """``order`` items as ``Order``s."""

    def __init__(self, dialect: BybitDialect) -> None:
        self.dialect = dialect

    def decode(self, message: Any) -> Iterable[Order]:
        """Every order update of the message."""
        orders = []
        for item in message["data"]:
            symbol = self.dialect.symbol(
                _text(item.get("category")), parsing.need_str(item, "symbol", _EX)
            )
            order = parse.parse_order(symbol, item)
            currency = item.get("feeCurrency")
            if order.fee_currency is None and currency:
                order = attrs.evolve(order, fee_currency=currency)
            orders.append(order)
        return orders


class FillDecoder(Stateless):
    """``execution`` items as ``Fill``s (trades only, as ``fetch_my_trades``)."""

    def __init__(self, dialect: BybitDialect) -> None:
        self.dialect = dialect

    def decode(self, message: Any) -> Iterable[Fill]:
        """Every trade execution of the message."""
        return [
            parse.parse_fill(
                self.dialect.symbol(
                    _text(item.get("category")), parsing.need_str(item, "symbol", _EX)
                ),
                item,
            )
            for item in message["data"]
            if item.get("execType", "Trade") in _TRADE_EXEC_TYPES
        ]


class PositionDecoder(PositionsState[tuple[str, int]]):
    """``position`` items merged into the open positions (by symbol and position index)."""

    def __init__(self, dialect: BybitDialect) -> None:
        super().__init__()
        self.dialect = dialect

    def _key(self, position: Position) -> tuple[str, int]:
        raw = position.raw if isinstance(position.raw, dict) else {}
        index = raw.get("positionIdx", 0)
        return position.symbol, index if isinstance(index, int) else 0

    def decode(self, message: Any) -> Iterable[list[Position]]:
        """The open positions after this message."""
        for item in message["data"]:
            symbol = self.dialect.symbol(
                _text(item.get("category")), parsing.need_str(item, "symbol", _EX)
            )
            # The stream names the entry price ``entryPrice``; REST's parser reads ``avgPrice``.
            entry = item.get("entryPrice", item.get("avgPrice", ""))
            position = parse.parse_position(symbol, {**item, "avgPrice": entry})
            index = item.get("positionIdx", 0)
            key = (symbol, index if isinstance(index, int) else 0)
            if position is None:
                self.positions.pop(key, None)
            else:
                self.positions[key] = position
        return (self.open_positions(),)


class BalanceDecoder(BalancesState):
    """``wallet`` pushes merged into the balances (coins not in a push keep their value)."""

    def decode(self, message: Any) -> Iterable[Balances]:
        """The balances after this message."""
        pushed = parse.parse_balances(message["data"], parsing.ms(message.get("creationTime")))
        merged = self.known()
        merged.update(pushed.by_currency)
        self.balances = Balances(merged, timestamp=pushed.timestamp, raw=pushed.raw)
        return (self.balances,)
