"""OKX v5 WebSocket streams: hosts, channels, login, and pushes into the unified models.

Sources (OKX docs v5, https://www.okx.com/docs-v5/en/):

* #overview-websocket-connect: ``/ws/v5/public``, ``/ws/v5/business`` (candles),
  ``/ws/v5/private``; the client sends the text ``ping`` when idle (the server closes a
  connection that received nothing for 30 s) and gets the text ``pong``. Demo trading uses
  the ``wspap`` hosts (#overview-demo-trading-services). The docs print port 8443; OKX has
  announced that 8443 stops accepting connections (reported from 2026-10-31, not confirmed from
  OKX's own text), so the default port here is 443, which OKX also serves; ``ws_url=`` overrides.
* #overview-websocket-login: ``{"op":"login","args":[{apiKey, passphrase, timestamp, sign}]}``,
  ``sign = base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))``,
  ``timestamp`` in Unix seconds, valid for 30 s.
* #overview-websocket-subscribe: one ack per arg (``event: subscribe``, ``id`` echoed), refusals
  ``event: error`` with ``code``/``msg``; #overview-websocket-notification: ``event: notice``,
  code 64008, about 60 s before a service upgrade closes the connection: reconnect at once.
* #order-book-trading-market-data-ws-order-book-channel: ``books`` (400 levels) chained by
  ``prevSeqId``/``seqId`` (not +1; a heartbeat has ``seqId == prevSeqId``; a maintenance reset
  has ``seqId < prevSeqId`` with the chain intact). ``checksum`` reads 0 since 2026-06-23 and is
  never used. OKX announced that the initial snapshot will no longer be pushed; the book is
  then started from REST ``/api/v5/market/books`` (its ``seqId``), the buffered updates
  replayed on it (https://www.okx.com/docs-v5/log_en, "How to manage a local order book
  correctly"): this works whether the snapshot is pushed or not.
* #order-book-trading-algo-trading-ws-algo-orders-channel and -advance-algo-orders-channel:
  ``orders-algo`` (trigger, conditional and oco orders; nothing on subscribing) and
  ``algo-advance`` (iceberg, TWAP and trailing ``move_order_stop`` orders; the live ones on
  subscribing) on ``/ws/v5/business``, login required, by ``instType``; their items are the
  REST algo order's. ``watch_orders`` subscribes to both next to ``orders``.
* ``trades``, ``tickers``, ``candle<bar>`` (business) market channels; ``orders`` (every
  change, and each fill with ``fillSz``/``fillPx``/``tradeId``: ``fills`` is VIP4+ only, so
  ``watch_my_trades`` reads fills from ``orders``, on a second private connection since one
  topic has one feed), ``account`` and ``positions`` (snapshots paged by ``curPage``/
  ``lastPage``, then ``event_update``) private channels.

Amounts are Decimal and in unified units: contracts become base (or quote) units through
``exchanges.units`` with the market's ``ctVal``, as the REST side does (``stream_decoders.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from adapters.okx import parse
from adapters.okx.hosts import REGIONS, WS_DEMO, WS_LIVE
from adapters.okx.stream_decoders import (
    AlgoDecoder,
    BalanceDecoder,
    BookDecoder,
    CandleDecoder,
    FillDecoder,
    OrderDecoder,
    PositionDecoder,
    TickerDecoder,
    TradeDecoder,
)
from exchanges.errors import (
    AuthenticationError,
    BadRequest,
    BadSymbol,
    ExchangeError,
    InvalidApiKey,
    InvalidSignature,
)
from exchanges.models import Candle
from exchanges.stream.book import BookMessage, OrderBookState, Verdict
from exchanges.stream.book_feed import rest_book_seed
from exchanges.stream.dialect import Control, FeedSpec, StreamDialect
from exchanges.stream.options import StreamOptions
from exchanges.units import unified

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.models import Market

__all__ = ["ALGO_GROUP", "BookDecoder", "OkxChain", "OkxDialect", "PositionDecoder"]

_EX = "okx"
_BOOK_DEPTH = 400
# Unified timeframe -> OKX bar (candles open on UTC for 6h and longer: the ``utc`` bars).
_BARS = {
    "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1H", "2h": "2H",
    "4h": "4H", "6h": "6Hutc", "12h": "12Hutc", "1d": "1Dutc", "1w": "1Wutc", "1M": "1Mutc",
}  # fmt: skip
# Login refusals (#error-code-websocket-public); the others with an id refuse a subscription.
_LOGIN_CODES = frozenset(
    {"60004", "60005", "60006", "60007", "60009", "60023", "60024", "60026", "60031", "60032"}
)
_CLOCK_CODES = frozenset({"60004", "60006", "63999"})
_NOTICE = "64008"
# Channels subscribed by instrument type rather than instrument.
_BY_TYPE = frozenset({"orders", "positions", "orders-algo", "algo-advance"})
#: The logged-in /business connection of the algo order channels.
ALGO_GROUP = "private/business"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _arg(topic: str) -> dict[str, str]:
    """``books:BTC-USDT`` -> ``{"channel":"books","instId":"BTC-USDT"}``."""
    channel, _, target = topic.partition(":")
    if not target:
        return {"channel": channel}
    if channel in _BY_TYPE:
        return {"channel": channel, "instType": target}
    return {"channel": channel, "instId": target}


class OkxChain:
    """Continuity of ``books``: ``prevSeqId`` names the last ``seqId`` applied.

    Right after a snapshot (pushed, or fetched over REST), until one update applies: updates
    at or below the snapshot's seqId are skipped and the first one may bridge it
    (``prevSeqId <= seqId(snapshot) < seqId``), as OKX's REST bootstrap describes. Afterwards
    only ``prevSeqId == last`` applies (heartbeats and maintenance resets included); an exact
    repeat of the last update is skipped; anything else is a gap, and the book resyncs.
    """

    def __init__(self) -> None:
        self._joined = -1  # ``book.snapshots`` when an update last joined a snapshot
        self._last: tuple[int | None, int] | None = None  # (prevSeqId, seqId) last applied

    def __call__(self, book: OrderBookState, message: BookMessage) -> Verdict:
        """Apply, skip, or gap."""
        prev, last = message.prev, book.sequence
        if prev == last:  # every update of a live book: _apply, inline
            self._joined = book.snapshots
            self._last = (prev, message.sequence)
            return "apply"
        fresh = self._joined != book.snapshots
        if prev is None:
            return "gap"
        if fresh:
            if message.sequence <= last:
                return "skip"
            if prev <= last < message.sequence:
                return self._apply(book, message)
        elif (prev, message.sequence) == self._last:
            return "skip"  # the last update again (a duplicate push)
        return "gap"

    def _apply(self, book: OrderBookState, message: BookMessage) -> Verdict:
        self._joined = book.snapshots
        self._last = (message.prev, message.sequence)
        return "apply"


class OkxDialect(StreamDialect):
    """OKX v5 public, business and private streams."""

    name = "okx"
    # OKX closes a connection that received nothing for 30 s; ccxt pings every 18 s.
    ping_interval = 15.0

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self._ws_url = StreamOptions.from_options(adapter.options).url

    # -- connections ----------------------------------------------------------------------

    def url(self, group: str) -> str:
        """``<host>/ws/v5/public|business|private`` (``private/fills`` is a second private,
        ``private/business`` the logged-in business one)."""
        if group == ALGO_GROUP:
            return f"{self._base()}/business"
        kind = "private" if group.startswith("private") else group
        return f"{self._base()}/{kind}"

    def _base(self) -> str:
        if self._ws_url is not None:
            base = self._ws_url.rstrip("/")
            return base if base.endswith("/ws/v5") else base + "/ws/v5"
        adapter = self.adapter
        env = "demo" if adapter.env == "demo" else "mainnet"
        region = getattr(adapter, "region", None) or "global"
        override = adapter.base_url_override
        if override is not None:
            # One of OKX's own REST hosts names its region; any other base URL (the emulator,
            # a proxy) serves streams itself, on the same origin.
            origin = override.rstrip("/")
            named = [name for name, host in REGIONS.items() if host == origin]
            if not named:
                scheme, sep, rest = origin.partition("://")
                return ("wss" if scheme == "https" else "ws") + sep + rest + "/ws/v5"
            region = named[0]
        # Demo trading is chosen by host (wspap...); a region without a demo host uses global's.
        hosts = WS_DEMO if env == "demo" else WS_LIVE
        return hosts.get(region, hosts["global"])

    def batches(self, group: str, topics: Sequence[str]) -> list[Sequence[str]]:
        """One arg per request, so that each ack (one per arg) confirms exactly its topic."""
        return [[topic] for topic in topics]

    # -- frames ---------------------------------------------------------------------------

    def subscribe(self, topics: Sequence[str], req_id: str) -> str:
        """``{"id":..,"op":"subscribe","args":[{channel, instId|instType}]}``."""
        return _dumps({"id": req_id, "op": "subscribe", "args": [_arg(t) for t in topics]})

    def unsubscribe(self, topics: Sequence[str], req_id: str) -> str:
        """``{"id":..,"op":"unsubscribe","args":[...]}``."""
        return _dumps({"id": req_id, "op": "unsubscribe", "args": [_arg(t) for t in topics]})

    def ping(self) -> str:
        """The text ``ping``."""
        return "ping"

    def auth(self, credentials: Credentials, timestamp_ms: int) -> str:
        """``login`` signed over ``timestamp + "GET/users/self/verify"`` (seconds)."""
        secret, passphrase = credentials.secret, credentials.passphrase
        if secret is None or passphrase is None:
            raise AuthenticationError(
                "OKX's private streams need an HMAC secret and a passphrase",
                exchange=_EX,
                hint="Pass Credentials(api_key, secret, passphrase=...).",
            )
        stamp = str(timestamp_ms // 1000)
        digest = hmac.new(
            secret.reveal().encode(), f"{stamp}GET/users/self/verify".encode(), hashlib.sha256
        ).digest()
        arg = {
            "apiKey": credentials.api_key,
            "passphrase": passphrase.reveal(),
            "timestamp": stamp,
            "sign": base64.b64encode(digest).decode(),
        }
        return _dumps({"op": "login", "args": [arg]})

    # -- reading --------------------------------------------------------------------------

    def loads(self, text: str) -> Any:
        """JSON, except the text ``pong`` (not JSON), kept as the string."""
        if text == "pong":
            return text
        return _loads(self, text)  # the base class's, named: super() costs on every frame

    def topic_of(self, message: Any) -> str | None:
        """Pushes carry ``arg`` and ``data`` and no ``event``."""
        if message.__class__ is not dict or "event" in message:
            return None
        arg = message.get("arg")
        if arg.__class__ is not dict or "data" not in message:
            return None
        channel = arg.get("channel")
        target = arg.get("instId") or arg.get("instType")
        if not isinstance(channel, str):
            return None
        return f"{channel}:{target}" if isinstance(target, str) else channel

    def control(self, message: Any) -> Control:
        """Pong, login, acks, errors, and the 64008 notice (reconnect now)."""
        if message == "pong":
            return Control("pong")
        if not isinstance(message, dict):
            return Control("other")
        event = message.get("event")
        code = str(message.get("code", ""))
        text = f"{code}: {message.get('msg', '')}" if code else str(message.get("msg", ""))
        req_id = message.get("id")
        req = str(req_id) if req_id is not None else None
        if event == "login":
            return Control("auth", ok=code == "0", text=text)
        if event == "subscribe":
            return Control("subscribe", req_id=req)
        if event == "unsubscribe":
            return Control("unsubscribe", req_id=req)
        if event == "notice":
            return Control("reconnect", text=text) if code == _NOTICE else Control("other")
        if event == "error":
            if code in _LOGIN_CODES:
                return Control("auth", ok=False, text=text)
            if req is not None:
                return Control("subscribe", ok=False, req_id=req, text=text)
            return Control("error", ok=False, text=text)
        return Control("other", req_id=req, text=text)

    def auth_error(self, text: str, credentials: Credentials) -> tuple[AuthenticationError, bool]:
        """By OKX's login error code (#error-code-websocket-public)."""
        code = text.partition(":")[0]
        message = f"OKX refused the private stream's login: {text or '(no reason given)'}"
        endpoint = "WS /ws/v5/private"
        env = self.adapter.env
        if code == "60007":
            return InvalidSignature(message, exchange=_EX, endpoint=endpoint), False
        if code in ("60005", "60032"):
            hint = f"OKX does not know this key for {env}; live and demo keys are separate."
            return InvalidApiKey(message, exchange=_EX, endpoint=endpoint, hint=hint), False
        hint = (
            "Check the system clock (the login is valid 30 s)."
            if code in _CLOCK_CODES
            else "Check the key, secret and passphrase (60024 is a wrong passphrase)."
        )
        error = AuthenticationError(message, exchange=_EX, endpoint=endpoint, hint=hint)
        return error, code in _CLOCK_CODES

    def subscribe_error(self, text: str, topics: Sequence[str]) -> ExchangeError:
        """60018 is an unknown channel or instrument; the rest are OKX's own words."""
        message = f"OKX refused the subscription to {', '.join(topics)}: {text}"
        if text.startswith("60018"):
            return BadSymbol(message, exchange=_EX, hint="Check the symbol and timeframe.")
        return BadRequest(message, exchange=_EX, hint="The message is OKX's.")

    # -- markets --------------------------------------------------------------------------

    def market_of(self, inst_id: Any) -> Market | None:
        """The loaded market of an instId."""
        index: dict[str, Market] = getattr(self.adapter, "_by_id", {})
        return index.get(str(inst_id))

    def _symbol(self, inst_id: Any) -> str:
        market = self.market_of(inst_id)
        return market.symbol if market is not None else parse.symbol_of(str(inst_id))

    def _unified(self, model: Any, inst_id: Any) -> Any:
        market = self.market_of(inst_id)
        return model if market is None else unified(model, market)

    # -- feeds ----------------------------------------------------------------------------

    def ticker(self, market: Market) -> FeedSpec:
        """``tickers`` on /public."""
        return FeedSpec("public", f"tickers:{market.id}", "latest", lambda: TickerDecoder(market))

    def order_book(self, market: Market, limit: int) -> FeedSpec:
        """``books`` (400 levels) on /public, started from REST when no snapshot is pushed."""
        if limit > _BOOK_DEPTH:
            raise BadRequest(
                f"OKX streams order books up to {_BOOK_DEPTH} levels, not {limit}",
                exchange=_EX,
                hint=f"Pass limit <= {_BOOK_DEPTH}.",
            )
        symbol = market.symbol
        return FeedSpec(
            group="public",
            topic=f"books:{market.id}",
            mode="book",
            decoder=lambda: BookDecoder(market),
            continuity=OkxChain(),
            depth=_BOOK_DEPTH,
            symbol=symbol,
            seed=rest_book_seed(
                symbol,
                _BOOK_DEPTH,
                exchange=_EX,
                unsequenced="OKX's REST order book carries no seqId",
            ),
            # Without a pushed snapshot a quiet book would show nothing until it changes; the
            # REST fetch is cancelled when the stream's own snapshot comes first.
            seed_at_start=True,
        )

    def trades(self, market: Market) -> FeedSpec:
        """``trades`` on /public."""
        return FeedSpec("public", f"trades:{market.id}", "events", lambda: TradeDecoder(market))

    def ohlcv(self, market: Market, timeframe: str) -> FeedSpec:
        """``candle<bar>`` on /business; the newest value per candle start is kept."""
        bar = _BARS.get(timeframe)
        if bar is None:
            raise BadRequest(
                f"OKX has no timeframe {timeframe!r}",
                exchange=_EX,
                hint=f"Use one of {', '.join(_BARS)}.",
            )
        return FeedSpec(
            group="business",
            topic=f"candle{bar}:{market.id}",
            mode="latest",
            decoder=lambda: CandleDecoder(market),
            key=_candle_start,
        )

    def orders(self) -> FeedSpec:
        """``orders`` of every instrument type, with the conditional orders: ``orders-algo``
        (trigger, conditional, oco) and ``algo-advance`` (move_order_stop), on /business."""
        algos = tuple(
            FeedSpec(ALGO_GROUP, f"{channel}:ANY", "events", lambda: AlgoDecoder(self))
            for channel in ("orders-algo", "algo-advance")
        )
        return FeedSpec(
            "private", "orders:ANY", "events", lambda: OrderDecoder(self), companions=algos
        )

    def my_trades(self) -> FeedSpec:
        """Fills from ``orders`` (``fills`` is VIP4+), on a second private connection."""
        return FeedSpec("private/fills", "orders:ANY", "events", lambda: FillDecoder(self))

    def positions(self) -> FeedSpec:
        """``positions``, starting from ``fetch_positions``."""
        return FeedSpec(
            "private",
            "positions:ANY",
            "state",
            lambda: PositionDecoder(self),
            seed=lambda client: client.fetch_positions(),
        )

    def balance(self) -> FeedSpec:
        """``account``, starting from ``fetch_balance``."""
        return FeedSpec(
            "private",
            "account",
            "state",
            BalanceDecoder,
            seed=lambda client: client.fetch_balance(),
        )


_loads = StreamDialect.loads


def _candle_start(candle: Candle) -> int:
    return candle.timestamp
