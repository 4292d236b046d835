"""WebSocket streams, exchange-agnostic: connections, channels and the order book state machine.

``AsyncExchange.watch_*`` return ``Stream`` iterators built here; an exchange's dialect
(``adapters/<exchange>/stream.py``) supplies its URLs, frames and parsers. The layers:

* ``channels``: where values wait for a consumer (conflating ``Latest``, bounded ``Buffer``,
  ``StreamOverflow``);
* ``book``: ``OrderBookState``, snapshot plus deltas with an exchange-supplied sequence check;
* ``feeds``: one subscribed topic delivering to its consumers;
* ``connection``: one WebSocket with heartbeats, silence detection, reconnect and resubscribe;
* ``manager``: the feeds and connections of one client, and ``Stream``.

What a consumer sees when things go wrong (every error is a class of ``exchanges.errors``):

* a stream that cannot start raises at its first read: ``AuthenticationError`` (auth refused),
  ``BadSymbol``/``BadRequest`` (the exchange refused the topic), ``AccountRestricted`` (the
  stream host refused the handshake with HTTP 403: a geo-block or a wrong host),
  ``ExchangeNotAvailable`` (another 4xx: not a stream host), ``NetworkError`` (no connection
  after several attempts, or no confirmation within ``ws_connect_timeout + ws_auth_timeout``);
* once it worked, a dropped connection is re-established for as long as the stream is open;
  latest-value streams (tickers, books, candles, balances, positions) simply continue from the
  new state, while event streams (orders, fills, trades) raise ``StreamInterrupted`` once, in
  order, at the read that reaches the reconnect. Its message says from when to when the stream
  was down; events of that window may be missing, so reconcile (``fetch_open_orders``,
  ``fetch_closed_orders``, ``fetch_my_trades``, or ``fetch_trades``) and keep reading: the stream
  is still subscribed;
* ``StreamOverflow`` (a consumer fell behind its buffer) and ``BadResponse`` (an undecodable
  message, or a book whose updates keep breaking their chain) end the stream.
"""

from exchanges.errors import StreamInterrupted, StreamOverflow
from exchanges.stream.book import (
    BookMessage,
    OrderBookState,
    chained,
    consecutive,
    spanning,
)
from exchanges.stream.dialect import Control, FeedSpec, StreamDialect
from exchanges.stream.manager import Stream, StreamManager, close_streams, streams_of
from exchanges.stream.options import StreamOptions

__all__ = [
    "BookMessage",
    "Control",
    "FeedSpec",
    "OrderBookState",
    "Stream",
    "StreamDialect",
    "StreamInterrupted",
    "StreamManager",
    "StreamOptions",
    "StreamOverflow",
    "chained",
    "close_streams",
    "consecutive",
    "spanning",
    "streams_of",
]
