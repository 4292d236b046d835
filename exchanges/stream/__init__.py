"""WebSocket streams, exchange-agnostic: connections, channels and the order book state machine.

``AsyncExchange.watch_*`` return ``Stream`` iterators built here; an exchange's dialect
(``adapters/<exchange>/stream.py``) supplies its URLs, frames and parsers. The layers:

* ``channels``: where values wait for a consumer (conflating ``Latest``, bounded ``Buffer``,
  ``StreamOverflow``);
* ``book``: ``OrderBookState``, snapshot plus deltas with an exchange-supplied sequence check;
* ``feeds``: one subscribed topic delivering to its consumers;
* ``connection``: one WebSocket with heartbeats, silence detection, reconnect and resubscribe;
* ``manager``: the feeds and connections of one client, and ``Stream``.
"""

from exchanges.stream.book import (
    BookMessage,
    OrderBookState,
    chained,
    consecutive,
    spanning,
)
from exchanges.stream.channels import StreamOverflow
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
    "StreamManager",
    "StreamOptions",
    "StreamOverflow",
    "chained",
    "close_streams",
    "consecutive",
    "spanning",
    "streams_of",
]
