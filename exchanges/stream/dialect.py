"""What an exchange's stream module tells the common layer: URLs, frames, topics, parsers.

The connection manager (``connection.py``) knows WebSockets, heartbeats, reconnects and
resubscription; it knows nothing of an exchange's messages. A ``StreamDialect`` (one per
exchange, e.g. ``adapters/bybit/stream.py``) supplies the rest:

* where to connect (``url``), how many topics one connection may carry (``fits``);
* the frames to send: ``subscribe``, ``unsubscribe``, ``ping``, ``auth``;
* how to read what arrives: ``loads`` (a text frame's JSON, where any frame that is not JSON,
  nesting too deep to decode included, is a ``ValueError``), ``topic_of`` (the fast path for
  data) and ``control`` (acks, pongs, auth replies), the errors an auth or subscribe failure
  becomes, and which topics of a refused subscribe batch the refusal names
  (``refused_topics``, ``already_subscribed``: the defaults read Bybit-style
  ``...,topic:<topic>`` messages);
* per ``watch_*`` method, a ``FeedSpec``: the topic, its connection group, how values are
  delivered (latest value, events, book, state) and the decoder that turns messages into
  models.

Decoders read numbers with the shared readers (``exchanges.parsing``: ``levels`` for book
levels, ``need_price``/``need_amount`` for trades, ``candle``, the REST parsers for the rest),
so that a push carrying NaN, an infinity, a negative size or a zero price raises one of
``feeds.DECODE_ERRORS`` instead of becoming a model: the feed's undecodable-push path then tells
the consumers (events, state) or resyncs the book.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

import attrs

from exchanges.errors import AuthenticationError, ExchangeError, NotSupported
from exchanges.parsing import loads_json
from exchanges.stream.book import BookMessage, Continuity

if TYPE_CHECKING:
    from exchanges.credentials import Credentials
    from exchanges.models import Market

__all__ = [
    "BookDecoder",
    "Control",
    "Decoder",
    "FeedSpec",
    "Mode",
    "StateDecoder",
    "StreamDialect",
    "is_private",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: How a feed delivers: the newest value only, every event, an order book, or a state that
#: starts from a REST snapshot and is updated by messages.
Mode = Literal["latest", "events", "book", "state"]


class Decoder(Protocol[T_co]):
    """Turns one data message of a topic into models (a delta-carrying decoder keeps state)."""

    def decode(self, message: Any) -> Iterable[T_co]:
        """The models this message carries, in order (none when it changes nothing)."""
        ...

    def reset(self) -> None:
        """Forget state built from earlier messages (the subscription starts over)."""
        ...


class Stateless:
    """A decoder's ``reset`` where it keeps nothing between messages."""

    def reset(self) -> None:
        """Nothing to forget: each message stands alone (a book's state lives in its feed)."""


class StateDecoder(Decoder[T], Protocol[T]):
    """A decoder whose messages update a state that starts from a REST snapshot."""

    def seed(self, value: T) -> None:
        """Start from ``value`` (fetched over REST)."""
        ...


class BookDecoder(Protocol):
    """Turns one order book message into a ``BookMessage``."""

    def decode(self, message: Any) -> BookMessage:
        """The snapshot or delta this message carries."""
        ...


@attrs.frozen
class FeedSpec:
    """What to subscribe to for one ``watch_*`` call, and how its messages become values."""

    #: The connection group: topics of one group share connections (one URL).
    group: str
    #: The topic on the wire.
    topic: str
    mode: Mode
    #: A fresh decoder per feed (``Decoder``, ``StateDecoder`` or ``BookDecoder``).
    decoder: Callable[[], Any]
    #: Latest-value feeds: keep the newest value per key (a candle's start) instead of one.
    key: Callable[[Any], Hashable] | None = None
    #: Book feeds: how a delta proves it follows the last one; and the depth subscribed.
    continuity: Continuity | None = None
    depth: int | None = None
    #: Book feeds: the unified symbol shown on the books.
    symbol: str | None = None
    #: State feeds: fetch the starting value with the client (e.g. ``fetch_balance``).
    #: Book feeds: fetch a snapshot ``BookMessage`` over REST when deltas arrive without one
    #: (exchanges that push no snapshot, or may stop pushing it).
    seed: Callable[[Any], Awaitable[Any]] | None = None
    #: Book feeds with a seed: fetch it as soon as the subscription is confirmed, not only when
    #: a delta arrives (streams that never push a snapshot: a quiet book still gets one).
    seed_at_start: bool = False
    #: Event feeds: more topics, maybe of other groups (connections), whose values the same
    #: stream delivers, in arrival order (OKX's algo orders ride another endpoint than orders).
    companions: tuple[FeedSpec, ...] = ()

    @property
    def private(self) -> bool:
        """True for topics of an authenticated connection."""
        return is_private(self.group)


def is_private(group: str) -> bool:
    """True for the groups whose connections authenticate: ``private`` and ``private/<x>``."""
    return group == "private" or group.startswith("private/")


@attrs.frozen
class Control:
    """A message that is not data: an ack, a pong, an auth reply, or something unknown."""

    #: ``reconnect``: the server announced it will close the connection (a service upgrade),
    #: so the client reconnects now rather than wait for the close.
    op: Literal["pong", "auth", "subscribe", "unsubscribe", "error", "reconnect", "other"]
    ok: bool = True
    req_id: str | None = None
    text: str = ""


def _names(text: str, topic: str) -> bool:
    # Whole topics only: ``tickers.BTCUSDT`` is not named by ``tickers.BTCUSDTX``.
    return re.search(rf"(?<![\w.\-]){re.escape(topic)}(?![\w.\-])", text) is not None


class StreamDialect(abc.ABC):
    """One exchange's WebSocket protocol, as the common connection layer needs it."""

    #: The exchange's name (as in ``connect()``).
    name: ClassVar[str]
    #: Seconds between the application-level pings the exchange asks for.
    ping_interval: ClassVar[float] = 20.0
    #: Topics whose messages also feed other topics of the connection (one message on the
    #: wire, several feeds: an order update that also carries a fill).
    fanout: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    # -- connections ----------------------------------------------------------------------

    @abc.abstractmethod
    def url(self, group: str) -> str:
        """The WebSocket URL of a connection group (``public/linear``, ``private``)."""

    async def connect_url(self, group: str, url: str, client: Any) -> str:
        """The URL to open now: ``url``, unless it must carry something fetched over REST
        first with ``client`` (a listen key); called before every (re)connect."""
        return url

    def fits(self, group: str, topics: Sequence[str], topic: str) -> bool:
        """True if one more ``topic`` fits a connection already carrying ``topics``."""
        return True

    # -- frames ---------------------------------------------------------------------------

    def batches(self, group: str, topics: Sequence[str]) -> list[Sequence[str]]:
        """``topics`` split into the groups one subscribe frame may carry."""
        return [topics] if topics else []

    @abc.abstractmethod
    def subscribe(self, topics: Sequence[str], req_id: str) -> str:
        """The frame subscribing to ``topics`` (one batch), tagged with ``req_id``."""

    @abc.abstractmethod
    def unsubscribe(self, topics: Sequence[str], req_id: str) -> str:
        """The frame unsubscribing from ``topics``."""

    @abc.abstractmethod
    def ping(self) -> str:
        """The application-level ping frame."""

    def frame_rate(self, group: str) -> int | None:
        """Frames a connection of ``group`` may send per second (None: no limit); more wait."""
        return None

    def ping_for(self, group: str) -> str:
        """The ping frame of a connection of ``group`` (made once per connection; default
        ``ping()``): for exchanges whose endpoints answer different pings."""
        return self.ping()

    @abc.abstractmethod
    def auth(self, credentials: Credentials, timestamp_ms: int) -> str:
        """The frame that authenticates a private connection (it carries a signature: never log
        it)."""

    # -- reading --------------------------------------------------------------------------

    def loads(self, text: str) -> Any:
        """The JSON value of a text frame; ``ValueError`` for a frame that is not JSON.

        ``json.loads`` raises ``RecursionError`` on deep nesting (``"[" * 100000``): here that
        is a ``ValueError`` like any other undecodable frame, and so are ``NaN``/``Infinity``
        literals (not JSON).

        A frame that opens an object is decoded from its UTF-8 bytes: ``loads_json`` reads bytes
        with orjson when orjson gives the standard decoder's value (about 3 times faster than
        the standard decoder on a book delta), and otherwise decodes this very text (the bytes
        round-trip to it, lone surrogates included) with the standard decoder, so the value or
        error is the same as for the text.
        """
        if text.__class__ is str and text[:1] == "{" and text[1:2] != "\x00":
            return loads_json(text.encode("utf-8", "surrogatepass"))
        return loads_json(text)

    @abc.abstractmethod
    def topic_of(self, message: Any) -> str | None:
        """The topic of a data message, or None for control messages."""

    @abc.abstractmethod
    def control(self, message: Any) -> Control:
        """What a non-data message is."""

    @abc.abstractmethod
    def auth_error(self, text: str, credentials: Credentials) -> tuple[AuthenticationError, bool]:
        """The error a refused auth becomes, and whether a clock resync may cure it."""

    def refused_topics(self, text: str, topics: Sequence[str]) -> list[str]:
        """The topics of a refused subscribe batch that the refusal names (empty: none named).

        A topic counts as named when it appears whole in the text, as in Bybit's
        ``error:handler not found,topic:orderbook.50.XYZ``; the others are subscribed again.
        """
        return [topic for topic in topics if _names(text, topic)]

    def already_subscribed(self, text: str) -> bool:
        """True when a refusal only says the topic is subscribed already (so it is live)."""
        return "already subscribed" in text.lower()

    def subscribe_error(self, text: str, topics: Sequence[str]) -> ExchangeError:
        """The error a refused subscription becomes."""
        from exchanges.errors import BadRequest

        return BadRequest(
            f"{self.name} refused the subscription to {', '.join(topics)}: {text}",
            exchange=self.name,
            hint="Check the symbol and parameters; the message is the exchange's.",
        )

    # -- what each watch_* method subscribes to ------------------------------------------

    def _nope(self, what: str, why: str = "") -> NotSupported:
        reason = f" ({why})" if why else ""
        return NotSupported(f"{self.name} does not stream {what}{reason}", exchange=self.name)

    def ticker(self, market: Market) -> FeedSpec:
        """The ticker topic of a market."""
        raise self._nope("tickers")

    def order_book(self, market: Market, limit: int) -> FeedSpec:
        """The order book topic of a market deep enough for ``limit`` levels."""
        raise self._nope("order books")

    def trades(self, market: Market) -> FeedSpec:
        """The public trades topic of a market."""
        raise self._nope("public trades")

    def ohlcv(self, market: Market, timeframe: str) -> FeedSpec:
        """The candle topic of a market and timeframe."""
        raise self._nope("candles")

    def orders(self) -> FeedSpec:
        """The account's order updates."""
        raise self._nope("order updates")

    def my_trades(self) -> FeedSpec:
        """The account's fills."""
        raise self._nope("fills")

    def positions(self) -> FeedSpec:
        """The account's positions (a state seeded over REST)."""
        raise self._nope("positions")

    def balance(self) -> FeedSpec:
        """The account's balances (a state seeded over REST)."""
        raise self._nope("balances")
