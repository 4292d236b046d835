"""Binance WebSocket streams (spot and USD-M): hosts, stream names, frames, user data, books.

Sources (Binance's docs, 2026):

* spot "WebSocket Streams" (https://developers.binance.com/docs/binance-spot-api-docs/web-socket-streams):
  hosts ``stream.binance.com:9443`` (testnet ``stream.testnet.binance.vision``, demo
  ``demo-stream.binance.com``); combined streams ``/stream?streams=`` wrap each event as
  ``{"stream","data"}``; ``SUBSCRIBE``/``UNSUBSCRIBE``/``LIST_SUBSCRIPTIONS`` answered
  ``{"result","id"}``, errors ``{"code","msg"}``; 1024 streams and 5 incoming messages a second
  per connection; the server pings every 20 s; a connection lives 24 h at most;
* spot "How to manage a local order book correctly" (same page): buffer ``<s>@depth``, fetch
  ``GET /api/v3/depth``, drop events with ``u <= lastUpdateId``, the first applied one must span
  ``lastUpdateId + 1``, each next ``U`` follows the last ``u``; else start over
  (``exchanges.stream.book.spanning``);
* USD-M "Websocket Market Streams" and the "Important WebSocket Change Notice" (2026 URL split,
  https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams):
  ``fstream.binance.com`` ``/public`` (books), ``/market`` (the rest), ``/private`` (user data);
  a stream on the wrong path is acknowledged and never sends; 10 incoming messages a second;
  server pings every 3 min; "How to manage a local order book correctly" (USD-M): drop events
  with ``u < lastUpdateId``, the first must have ``U <= lastUpdateId <= u``, each next ``pu``
  equals the last ``u`` (``usdm_continuity``). ``@trade`` is not documented for USD-M:
  ``watch_trades`` reads ``@aggTrade`` (one taker order at one price per event);
* spot user data, only over the WebSocket API since the spot listenKey was switched off on
  2026-02-20 ("WebSocket API", https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api):
  ``ws-api.binance.com/ws-api/v3``, ``userDataStream.subscribe.signature`` signed over the params
  sorted by name (no percent-encoding), any key type; events ``{"subscriptionId","event"}``;
* USD-M user data ("User Data Streams",
  https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams):
  ``POST /fapi/v1/listenKey`` (60 min, returns the active key if there is one), ``PUT`` every
  30 min here, ``-1125`` when it is gone; ``/private/stream?listenKey=&events=`` where
  ``events`` is an allow-list (``listenKeyExpired`` is named, or the expiry would go unseen;
  ``ALGO_UPDATE``, a conditional order's status, rides the orders feed: "Event: Algo Order
  Update", https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update).
  On ``listenKeyExpired`` (its ``E`` may be a string) the socket stays open and silent, so the
  connection is replaced with a fresh key: event consumers get ``StreamInterrupted`` once.

Rotation: pings carry the connection's opening time, and a connection older than
``ROTATE_AFTER`` (23 h 30 min) is replaced at its next pong, before Binance cuts it at 24 h.
``serverShutdown`` and ``eventStreamTerminated`` replace the connection at once. Private
streams follow ``connect(..., wallet=)``: spot (default) or USD-M; positions are USD-M's.

UNVERIFIED (no primary source found): the USD-M testnet/demo stream host
(``fstream.binancefuture.com`` per ccxt and python-binance) and whether it has the split paths.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from adapters.binance.signer import signature
from adapters.binance.stream_decoders import (
    BalanceDecoder,
    BookDecoder,
    CandleDecoder,
    FillDecoder,
    OrderDecoder,
    PositionDecoder,
    TickerDecoder,
    TradeDecoder,
    payload,
)
from exchanges.errors import (
    AuthenticationError,
    BadRequest,
    BadResponse,
    ExchangeError,
    InvalidApiKey,
    InvalidSignature,
)
from exchanges.signing import KeyCache
from exchanges.stream.book import BookMessage, OrderBookState, Verdict, spanning
from exchanges.stream.book_feed import rest_book_seed
from exchanges.stream.dialect import Control, FeedSpec, StreamDialect
from exchanges.stream.options import StreamOptions
from exchanges.wire import Request

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.models import Market

__all__ = ["KEEPALIVE_S", "ROTATE_AFTER_S", "BinanceDialect", "usdm_continuity"]

log = logging.getLogger("exchanges.binance.stream")

#: Seconds after which a connection is replaced (Binance cuts them at 24 h).
ROTATE_AFTER_S = 23.5 * 3600
#: Seconds between listenKey keepalives (the key lives 60 min; Binance suggests 60 min or less).
KEEPALIVE_S = 30 * 60
_STREAM_HOSTS = {
    "mainnet": "wss://stream.binance.com:9443",
    "testnet": "wss://stream.testnet.binance.vision",
    "demo": "wss://demo-stream.binance.com",
}
_API_HOSTS = {
    "mainnet": "wss://ws-api.binance.com:443",
    "testnet": "wss://ws-api.testnet.binance.vision",
    "demo": "wss://demo-ws-api.binance.com",
}
_USDM_HOSTS = {
    "mainnet": "wss://fstream.binance.com",
    "testnet": "wss://fstream.binancefuture.com",  # UNVERIFIED (see the module docstring)
    "demo": "wss://fstream.binancefuture.com",
}
_USER_EVENTS = ("ORDER_TRADE_UPDATE", "ACCOUNT_UPDATE", "ALGO_UPDATE", "listenKeyExpired")
# Events that end a connection's usefulness: replace it now.
_REPLACE = frozenset({"listenKeyExpired", "eventStreamTerminated", "serverShutdown"})
_INTERVALS = frozenset(
    {"1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M"}
)
_MAX_STREAMS = 1024
_BATCH = 200  # streams per SUBSCRIBE frame (none documented; frames stay small)
_BOOK_SNAPSHOT = 1000  # levels fetched over REST (spot allows 5000, USD-M 1000)
_EX = "binance"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def usdm_continuity(book: OrderBookState, message: BookMessage) -> Verdict:
    """USD-M: skip ``u < id``; apply an event that names the last one (``pu``) or spans it.

    Spanning covers the first event after a REST snapshot (``U <= lastUpdateId <= u``, or one
    starting right after it) and a repeated one; anything else left ids out: a gap.
    """
    last = book.sequence
    if message.sequence < last:
        return "skip"
    if message.prev == last:
        return "apply"
    first = message.first if message.first is not None else message.sequence
    return "apply" if first <= last + 1 else "gap"


class BinanceDialect(StreamDialect):
    """Binance spot and USD-M streams, spot user data over the WebSocket API, USD-M over a
    listenKey."""

    name = "binance"
    ping_interval = 20.0
    # One order update carries both the order and its fill; one account update both balances
    # and positions; a conditional order's ALGO_UPDATE goes to the USD-M orders feed.
    fanout: ClassVar[dict[str, tuple[str, ...]]] = {
        "executionReport": ("executionReport/fills",),
        "ORDER_TRADE_UPDATE": ("ORDER_TRADE_UPDATE/fills",),
        "ACCOUNT_UPDATE": ("ACCOUNT_UPDATE/positions",),
        "ALGO_UPDATE": ("ORDER_TRADE_UPDATE",),
    }

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self._ws_url = StreamOptions.from_options(adapter.options).url
        self._keys = KeyCache()
        self._client: weakref.ref[Any] | None = None
        self._listen_key: str | None = None
        self._extended = 0.0  # monotonic time of the last listenKey POST/PUT
        self._keepalive: asyncio.Task[None] | None = None

    # -- connections ----------------------------------------------------------------------

    def _base(self, table: dict[str, str]) -> str:
        if self._ws_url is not None:
            return self._ws_url.rstrip("/")
        base = self.adapter.base_url_override
        if base is None:
            return table[self.adapter.env]
        # Any other base URL (the emulator, a proxy) serves every stream itself.
        scheme, sep, rest = base.rstrip("/").partition("://")
        return ("wss" if scheme == "https" else "ws") + sep + rest

    def url(self, group: str) -> str:
        """Groups: ``spot``, ``usdm/public``, ``usdm/market``, ``private/spot`` (WS API),
        ``user/usdm`` (listenKey, added at connect)."""
        if group == "spot":
            return self._base(_STREAM_HOSTS) + "/stream"
        if group == "private/spot":
            return self._base(_API_HOSTS) + "/ws-api/v3"
        if group == "user/usdm":
            return self._base(_USDM_HOSTS) + "/private/stream"
        return self._base(_USDM_HOSTS) + f"/{group.partition('/')[2]}/stream"

    async def connect_url(self, group: str, url: str, client: Any) -> str:
        """``user/usdm``: a listenKey (the active one, extended) and the events named."""
        if group != "user/usdm":
            return url
        self._client = weakref.ref(client)
        key = await self._listen(client, "POST")
        return f"{url}?listenKey={key}&events={'/'.join(_USER_EVENTS)}"

    async def _listen(self, client: Any, method: str) -> str:
        credentials = client.session.credentials
        if credentials is None:
            raise AuthenticationError("USD-M user data needs API credentials", exchange=_EX)
        base = self.adapter.build.call("usdm", method, "/fapi/v1/listenKey")  # type: ignore[attr-defined]
        request = Request(
            base.method,
            base.base_url,
            base.path,
            headers={"X-MBX-APIKEY": credentials.api_key},  # USER_STREAM: the key only
            rate_keys=base.rate_keys,
            weight=base.weight,
        )

        def flow() -> Any:
            response = yield request
            return response.data

        data = await client._run(flow())
        key = data.get("listenKey") if isinstance(data, dict) else None
        if not isinstance(key, str) or not key:
            raise BadResponse(f"Binance answered no listenKey: {data!r:.200}", exchange=_EX)
        self._listen_key, self._extended = key, time.monotonic()
        return key

    def _keep_alive(self) -> None:
        """Extend the listenKey when due (from a pong of the user data connection)."""
        client = self._client() if self._client is not None else None
        due = time.monotonic() - self._extended >= KEEPALIVE_S
        if client is None or not due or (self._keepalive and not self._keepalive.done()):
            return

        async def extend() -> None:
            try:
                await self._listen(client, "PUT")
            except ExchangeError as err:
                # -1125: the key is gone; its listenKeyExpired replaces the connection.
                log.warning("the listenKey keepalive failed: %s", err)

        self._extended = time.monotonic()  # one attempt per period, success or not
        self._keepalive = asyncio.get_running_loop().create_task(extend())

    def frame_rate(self, group: str) -> int | None:
        """Spot streams take 5 incoming messages a second, USD-M 10, pongs included: one is
        left for the pong of a server ping, one for margin."""
        if group == "private/spot":
            return None  # the WS API limits requests by weight, not frames
        return 4 if group == "spot" else 8

    def fits(self, group: str, topics: Sequence[str], topic: str) -> bool:
        """At most 1024 streams a connection."""
        return len(topics) < _MAX_STREAMS

    def batches(self, group: str, topics: Sequence[str]) -> list[Sequence[str]]:
        """Market streams: up to 200 a frame; user data: one probe confirms every topic."""
        size = _BATCH if group in ("spot", "usdm/public", "usdm/market") else len(topics) or 1
        return [topics[i : i + size] for i in range(0, len(topics), size)]

    # -- frames ---------------------------------------------------------------------------

    def subscribe(self, topics: Sequence[str], req_id: str) -> str:
        """Market streams: ``SUBSCRIBE``; user data (one subscription carries every event):
        a request that is answered, to confirm the topics."""
        if topics and _is_user(topics[0]):
            return self._user_probe(topics[0], req_id)
        return _dumps({"method": "SUBSCRIBE", "params": list(topics), "id": int(req_id)})

    def unsubscribe(self, topics: Sequence[str], req_id: str) -> str:
        """``UNSUBSCRIBE`` (user data: nothing to undo, a probe)."""
        if topics and _is_user(topics[0]):
            return self._user_probe(topics[0], req_id)
        return _dumps({"method": "UNSUBSCRIBE", "params": list(topics), "id": int(req_id)})

    @staticmethod
    def _user_probe(topic: str, req_id: str) -> str:
        if topic.startswith("executionReport") or topic == "outboundAccountPosition":
            return _dumps({"id": int(req_id), "method": "session.subscriptions"})
        return _dumps({"method": "LIST_SUBSCRIPTIONS", "id": int(req_id)})

    def ping(self) -> str:
        """A request the stream endpoints answer (Binance's own pings are frames)."""
        return self.ping_for("spot")

    def ping_for(self, group: str) -> str:
        """``LIST_SUBSCRIPTIONS`` (streams) or ``ping`` (WS API), tagged with the group and the
        connection's start, so that pongs tell when to rotate and to keep the listenKey."""
        tag = f"p{'u' if group == 'user/usdm' else 'x'}{int(time.time() * 1000)}"
        if group == "private/spot":
            return _dumps({"id": tag, "method": "ping"})
        return _dumps({"method": "LIST_SUBSCRIPTIONS", "id": tag})

    def auth(self, credentials: Credentials, timestamp_ms: int) -> str:
        """``userDataStream.subscribe.signature`` over the params sorted by name."""
        params: dict[str, Any] = {"apiKey": credentials.api_key, "timestamp": timestamp_ms}
        payload_ = "&".join(f"{k}={params[k]}" for k in sorted(params))
        params["signature"] = signature(self._keys.get(credentials), payload_.encode())
        return _dumps({"id": f"a{timestamp_ms}", "method": _SUBSCRIBE, "params": params})

    # -- reading --------------------------------------------------------------------------

    def topic_of(self, message: Any) -> str | None:
        """Combined streams name theirs; user events go by their type."""
        if message.__class__ is not dict:
            return None
        stream = message.get("stream")
        if stream.__class__ is str and "@" in stream:
            return stream
        event = message.get("data") if stream is not None else message.get("event")
        if event.__class__ is dict:
            kind = event.get("e")
            if kind.__class__ is str and kind not in _REPLACE:
                return kind
        return None

    def control(self, message: Any) -> Control:
        """Acks, pongs (rotation and keepalive ride on them), auth replies, errors."""
        if not isinstance(message, dict):
            return Control("other")
        event = payload(message)
        if isinstance(event, dict) and event.get("e") in _REPLACE:
            return Control("reconnect", text=str(event.get("e")))
        req_id = message.get("id")
        ident = str(req_id) if req_id is not None else None
        error = message.get("error") if "status" in message else message
        text = ""
        ok = "code" not in message and "error" not in message
        if not ok and isinstance(error, dict):
            text = f"{error.get('code')} {error.get('msg')}"
        if ident is not None and ident.startswith("p"):
            return self._pong(ident)
        if ident is not None and ident.startswith("a"):
            return Control("auth", ok=message.get("status") == 200, req_id=ident, text=text)
        if ident is None:
            return Control("other" if ok else "error", ok=ok, text=text)
        return Control("subscribe", ok=ok, req_id=ident, text=text)

    def _pong(self, ident: str) -> Control:
        if ident[1] == "u":
            self._keep_alive()
        opened = int(ident[2:]) if ident[2:].isdigit() else None
        if opened is not None and time.time() * 1000 - opened >= ROTATE_AFTER_S * 1000:
            return Control("reconnect", text="the connection is due for rotation (24 h limit)")
        return Control("pong", req_id=ident)

    def auth_error(self, text: str, credentials: Credentials) -> tuple[AuthenticationError, bool]:
        """By Binance's codes: -1022 signature, -2015 key, -1021 clock (resynced once)."""
        shown = text.replace(credentials.api_key, credentials.masked_key)
        message = f"Binance refused the user data subscription: {shown or '(no reason)'}"
        code = shown.split(" ", 1)[0]
        endpoint = "WS /ws-api/v3 userDataStream.subscribe.signature"
        if code == "-1021":  # the clock: resynced and retried once
            return AuthenticationError(message, exchange=_EX, endpoint=endpoint), True
        cls: type[AuthenticationError] = {"-1022": InvalidSignature, "-2015": InvalidApiKey}.get(
            code, AuthenticationError
        )
        hint = (
            "Check the key and secret for this environment (mainnet, testnet and demo keys differ)."
        )
        return cls(message, exchange=_EX, endpoint=endpoint, hint=hint), False

    def subscribe_error(self, text: str, topics: Sequence[str]) -> ExchangeError:
        """Binance refuses only malformed requests (an unknown stream is acked and silent)."""
        return BadRequest(
            f"Binance refused the subscription to {', '.join(topics)}: {text}",
            exchange=_EX,
            hint="The message is Binance's.",
        )

    # -- feeds ----------------------------------------------------------------------------

    def _name(self, group: str) -> Any:
        index = self.adapter._symbol  # type: ignore[attr-defined]
        return lambda native: index(group, native)

    @staticmethod
    def _market_group(market: Market, kind: str) -> tuple[str, bool]:
        usdm = market.type != "spot"
        if usdm and not market.linear:
            raise BadRequest(f"Binance streams spot and USD-M, not {market.symbol}", exchange=_EX)
        return ("usdm/" + kind if usdm else "spot"), usdm

    def ticker(self, market: Market) -> FeedSpec:
        """``<s>@ticker`` (24 h rolling)."""
        group, _ = self._market_group(market, "market")
        topic = f"{market.id.lower()}@ticker"
        return FeedSpec(group, topic, "latest", lambda: TickerDecoder(market.symbol))

    def order_book(self, market: Market, limit: int) -> FeedSpec:
        """``<s>@depth@100ms`` from a REST snapshot (``GET /api/v3/depth``, ``/fapi/v1/depth``)."""
        group, usdm = self._market_group(market, "public")
        if limit > _BOOK_SNAPSHOT:
            raise BadRequest(
                f"Binance books are kept here from a {_BOOK_SNAPSHOT}-level snapshot, not {limit}",
                exchange=_EX,
                hint=f"Pass limit <= {_BOOK_SNAPSHOT}.",
            )
        symbol = market.symbol
        return FeedSpec(
            group=group,
            topic=f"{market.id.lower()}@depth@100ms",
            mode="book",
            decoder=BookDecoder,
            continuity=usdm_continuity if usdm else spanning,
            depth=_BOOK_SNAPSHOT,
            symbol=symbol,
            seed=rest_book_seed(
                symbol,
                _BOOK_SNAPSHOT,
                exchange=_EX,
                unsequenced="Binance's depth snapshot has no lastUpdateId",
            ),
            seed_at_start=True,
        )

    def trades(self, market: Market) -> FeedSpec:
        """Spot ``<s>@trade``; USD-M ``<s>@aggTrade`` (``@trade`` is not documented there)."""
        group, usdm = self._market_group(market, "market")
        topic = f"{market.id.lower()}@{'aggTrade' if usdm else 'trade'}"
        return FeedSpec(group, topic, "events", lambda: TradeDecoder(market.symbol))

    def ohlcv(self, market: Market, timeframe: str) -> FeedSpec:
        """``<s>@kline_<interval>``; the newest value per candle start is kept."""
        group, _ = self._market_group(market, "market")
        if timeframe not in _INTERVALS:
            raise BadRequest(
                f"Binance has no timeframe {timeframe!r}",
                exchange=_EX,
                hint=f"Use one of {', '.join(sorted(_INTERVALS))}.",
            )
        return FeedSpec(
            group,
            f"{market.id.lower()}@kline_{timeframe}",
            "latest",
            CandleDecoder,
            key=lambda candle: candle.timestamp,
        )

    def _user(self) -> tuple[str, str]:
        usdm = getattr(self.adapter, "wallet", "spot") == "usdm"
        return ("user/usdm", "ORDER_TRADE_UPDATE") if usdm else ("private/spot", "executionReport")

    def orders(self) -> FeedSpec:
        """Order updates of the wallet ``connect(..., wallet=)`` chose."""
        group, topic = self._user()
        name = self._name("usdm" if group == "user/usdm" else "spot")
        return FeedSpec(group, topic, "events", lambda: OrderDecoder(name))

    def my_trades(self) -> FeedSpec:
        """Fills (order updates of execution type ``TRADE``)."""
        group, topic = self._user()
        name = self._name("usdm" if group == "user/usdm" else "spot")
        return FeedSpec(group, topic + "/fills", "events", lambda: FillDecoder(name))

    def balance(self) -> FeedSpec:
        """Spot ``outboundAccountPosition`` or USD-M ``ACCOUNT_UPDATE``, from ``fetch_balance``."""
        group, _ = self._user()
        usdm = group == "user/usdm"
        return FeedSpec(
            group,
            "ACCOUNT_UPDATE" if usdm else "outboundAccountPosition",
            "state",
            BalanceDecoder,
            seed=lambda client: client.fetch_balance("swap" if usdm else "spot"),
        )

    def positions(self) -> FeedSpec:
        """USD-M ``ACCOUNT_UPDATE`` positions, starting from ``fetch_positions``."""
        name = self._name("usdm")
        return FeedSpec(
            "user/usdm",
            "ACCOUNT_UPDATE/positions",
            "state",
            lambda: PositionDecoder(name),
            seed=lambda client: client.fetch_positions(),
        )


_SUBSCRIBE = "userDataStream.subscribe.signature"


def _is_user(topic: str) -> bool:
    return "@" not in topic
