"""Section 8: order book streams on Binance spot, Binance USD-M, OKX and Bybit, ours vs ccxt.pro.

    python -m benchmarks --only venues          # in the harness: interleaved runs, the report
    python -m benchmarks.bench_stream_venues [--deltas 10000] [--changes 1-6] [--repeat 5]

Each venue's feed is generated from one seed (``bench_stream_feeds``): a REST snapshot (Binance
1,000 levels a side, OKX 400) and ``--deltas`` diff messages in the exchange's wire format
(Binance spot ``depthUpdate`` with U/u, USD-M with ``pu``, OKX ``books`` with
``seqId``/``prevSeqId``). Bybit reuses section 6's ``orderbook.50`` feed (a pushed snapshot,
no REST). A pass bootstraps a fresh book from the REST snapshot and then handles every message;
the rate is (messages + 1) per pass time, the snapshot counting as one message.

* ``ours``: what our client does with each frame, no shortcut. The REST body is decoded and
  checked by the adapter (``adapter.decode``) and parsed by its REST parser (as
  ``fetch_order_book`` does), then handed to a ``BookFeed`` built by ``make_feed`` from the
  dialect's own ``FeedSpec`` (``BinanceDialect``/``OkxDialect``/``BybitDialect.order_book``),
  through its REST seed path (``on_confirmed`` fetches it). Each frame then goes through
  ``WsConnection._dispatch``: ``dialect.loads``, ``topic_of``, ``BookFeed.on_message``
  (decoder to Decimal, continuity check, ``OrderBookState``), offering the book to a conflating
  consumer that does not read.
* ``ccxt.pro``: ccxt's own path for a frame, ``Client.handle_text_or_binary_message`` (orjson)
  into the exchange's ``handle_message`` (``handle_order_book`` and its U/u/pu or seqId checks,
  floats in ``OrderBookSide``). Binance: its bootstrap ``fetch_order_book_snapshot`` (after
  what ``handle_order_book_subscription`` sets up) with the HTTP call stubbed to the same REST
  body, then the frames. ccxt.pro subscribes to Binance's raw ``/ws`` endpoint, whose frames are
  the bare events; ``ccxt.pro`` gets exactly our bytes (the combined ``/stream`` envelope, which
  its ``handle_message`` unwraps) and ``ccxt.pro /ws`` the same events unwrapped. OKX: ccxt.pro
  has no REST bootstrap for ``books`` (it waits for a pushed snapshot), so its book is set from
  its own ``fetch_order_book`` (HTTP stubbed) with the ``seqId`` of the REST body as nonce,
  which is what a ccxt.pro user would have to do once OKX stops pushing the snapshot.

Before timing, every venue's two books are checked against the generator's final book (same
levels, same sequence, no resync, no ccxt rejection): a wrong book fails the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import platform
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any, Literal

from benchmarks import bench_stream_feeds as feeds
from benchmarks.harness import Case, run_micro
from exchanges.models import Market
from exchanges.parsing import loads_json
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec, StreamDialect
from exchanges.stream.feeds import BookFeed, Sink, make_feed
from exchanges.stream.options import StreamOptions
from exchanges.wire import Response

VENUES = ("binance_spot", "binance_usdm", "okx", "bybit")
#: The venues of issue 18's goal (ours at least 2x ccxt.pro); Bybit is shown alongside.
GOAL_VENUES = ("binance_spot", "binance_usdm", "okx")
GOAL = 2.0
#: Level changes per diff message (low, high), as in section 6's Bybit feed.
CHANGES = (1, 6)
OURS, CCXT, CCXT_RAW = "ours", "ccxt.pro", "ccxt.pro /ws"
LOG = logging.getLogger("bench.venues")

Run = Callable[[], Coroutine[Any, Any, Any]]


def case_name(venue: str, who: str) -> str:
    """``binance_spot: ours``."""
    return f"{venue}: {who}"


def _market(
    symbol: str,
    native: str,
    kind: Literal["spot", "swap"],
    contract_size: str | None = None,
    category: str | None = None,
) -> Market:
    spot = kind == "spot"
    return Market(
        symbol=symbol, id=native, type=kind, base="BTC", quote="USDT",
        settle=None if spot else "USDT", linear=None if spot else True,
        inverse=None if spot else False,
        contract_size=Decimal(contract_size) if contract_size else None, price_step=None,
        amount_step=None, min_amount=None, max_amount=None, min_notional=None, active=True,
        category=category,
    )  # fmt: skip


# -- ours --------------------------------------------------------------------------------------


class _Host:
    """The stub a connection reports to: nothing here is reached on the data path."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the benchmark's connection asked its host for {name}")


class _RestClient:
    """``fetch_order_book`` as our client answers it, from the canned REST body."""

    def __init__(self, parse_book: Callable[[], Any]) -> None:
        self.parse_book = parse_book

    async def fetch_order_book(self, symbol: str, limit: int) -> Any:
        return self.parse_book()


Parts = tuple[StreamDialect, FeedSpec, Callable[[], Any]]


def _binance_parts(usdm: bool, body: bytes) -> Parts:
    from adapters.binance import parse
    from adapters.binance.adapter import BinanceAdapter
    from adapters.binance.stream import BinanceDialect

    adapter = BinanceAdapter(env="mainnet")
    market = (
        _market("BTC/USDT:USDT", "BTCUSDT", "swap")
        if usdm
        else _market("BTC/USDT", "BTCUSDT", "spot")
    )
    request = adapter.build.depth("usdm" if usdm else "spot", "BTCUSDT", 1000)

    def book() -> Any:
        response = Response(200, {}, body, request)
        adapter.decode(response)
        return parse.parse_order_book(market.symbol, response.data, 1000)

    dialect = BinanceDialect(adapter)
    return dialect, dialect.order_book(market, 1000), book


def _okx_parts(body: bytes) -> Parts:
    from adapters.okx import parse
    from adapters.okx.adapter import OkxAdapter
    from adapters.okx.stream import OkxDialect
    from exchanges.units import unified

    adapter = OkxAdapter(env="mainnet")
    market = _market("BTC/USDT", "BTC-USDT", "spot")
    request = adapter.build.books("BTC-USDT", 400)

    def book() -> Any:
        response = Response(200, {}, body, request)
        adapter.decode(response)
        return unified(parse.parse_order_book(market.symbol, parse.first(response)), market)

    dialect = OkxDialect(adapter)
    return dialect, dialect.order_book(market, 400), book


def _bybit_parts() -> Parts:
    from adapters.bybit.adapter import BybitAdapter
    from adapters.bybit.stream import BybitDialect

    dialect = BybitDialect(BybitAdapter(env="mainnet"))
    spec = dialect.order_book(_market("BTC/USDT:USDT", "BTCUSDT", "swap", "1", "linear"), 50)
    return dialect, spec, lambda: None


def _ours_parts(venue: str, rest: str) -> Parts:
    """The venue's dialect, the ``FeedSpec`` of its book, and the REST snapshot parser: the
    adapter's envelope check (``decode``) and REST parser, as ``fetch_order_book`` runs them."""
    if venue.startswith("binance"):
        return _binance_parts(venue == "binance_usdm", rest.encode())
    return _okx_parts(rest.encode()) if venue == "okx" else _bybit_parts()


def ours_pass(venue: str, feed: feeds.Feed) -> tuple[Run, Callable[[], BookFeed]]:
    """A coroutine function running one pass of ours, and the last pass's ``BookFeed``."""
    dialect, spec, parse_book = _ours_parts(venue, feed.rest)
    client = _RestClient(parse_book)
    options = StreamOptions()
    messages = feed.messages
    last: list[BookFeed] = []
    # What StreamManager.join hands the feed: the spec's seed bound to the client.
    seed = None if spec.seed is None else functools.partial(spec.seed, client)

    async def run() -> None:
        book = make_feed(spec, LOG, options.max_buffer, seed)
        assert isinstance(book, BookFeed)
        book.attach(Sink(book.new_channel(), None, 50))
        connection = WsConnection(_Host(), dialect, spec.group, "ws://bench", options, LOG)
        connection.feeds[spec.topic] = book
        book.connection = connection
        book.on_subscribed()
        book.on_confirmed()  # a REST-seeded book fetches its snapshot now
        for _ in range(10):
            if book.state.valid or seed is None:
                break
            await asyncio.sleep(0)
        else:
            raise RuntimeError(f"{venue}: our book never took its REST snapshot")
        dispatch = connection._dispatch
        for message in messages:
            dispatch(message)
        last[:] = [book]

    return run, lambda: last[0]


# -- ccxt.pro ----------------------------------------------------------------------------------


_CCXT_MARKETS = {
    "binance_spot": ("binance", "BTC/USDT", "BTCUSDT", "spot"),
    "binance_usdm": ("binanceusdm", "BTC/USDT:USDT", "BTCUSDT", "swap"),
    "okx": ("okx", "BTC/USDT", "BTC-USDT", "spot"),
    "bybit": ("bybit", "BTC/USDT:USDT", "BTCUSDT", "swap"),
}


def _ccxt_exchange(venue: str) -> Any:
    import ccxt.pro

    name, symbol, native, kind = _CCXT_MARKETS[venue]
    ex = getattr(ccxt.pro, name)({"enableRateLimit": False})
    spot = kind == "spot"
    ex.set_markets([{
        "id": native, "symbol": symbol, "base": "BTC", "quote": "USDT", "baseId": "BTC",
        "quoteId": "USDT", "settle": None if spot else "USDT", "settleId": None if spot else "USDT",
        "type": kind, "spot": spot, "swap": not spot, "future": False, "option": False,
        "contract": not spot, "linear": None if spot else True, "inverse": None if spot else False,
        "contractSize": None if spot else 1, "active": True, "lowercaseId": native.lower(),
        "precision": {"price": 0.01, "amount": 0.001}, "limits": {}, "info": {},
    }])  # fmt: skip
    return ex


def ccxt_pass(venue: str, feed: feeds.Feed, raw: bool = False) -> tuple[Run, Any]:
    """A coroutine function running one pass of ccxt.pro, and the exchange it runs on."""
    ex = _ccxt_exchange(venue)
    symbol = _CCXT_MARKETS[venue][1]
    messages = feed.raw_messages if raw else feed.messages
    if venue.startswith("binance"):
        kind = "linear" if venue == "binance_usdm" else "spot"
        # ccxt.pro's own URL for the book (/ws/<n>): it tells spot from USD-M by it.
        url = ex.get_ws_url(kind, ex.get_future_ws_category("depth")) + "/0"
    elif venue == "okx":
        url = "wss://ws.okx.com:8443/ws/v5/public"
    else:
        url = "wss://stream.bybit.com/v5/public/linear"  # its book handler reads spot by URL
    # The client ex.client(url) makes, without the aiohttp session it opens for a connection.
    from ccxt.async_support.base.ws.client import Client

    client = Client(url, ex.handle_message, ex.on_error, ex.on_close, ex.on_connected, {})
    ex.clients = {url: client}
    rest = feed.rest
    got: dict[str, Any] = {}

    async def http(params: Any = None) -> Any:
        got["response"] = ex.parse_json(rest)
        return got["response"]

    if venue == "binance_spot":
        ex.publicGetDepth = http
    elif venue == "binance_usdm":
        ex.fapiPublicGetDepth = http
    elif venue == "okx":
        ex.publicGetMarketBooks = http
        client.subscriptions["books:" + symbol] = {}

    async def binance() -> None:
        # What handle_order_book_subscription sets up, then its snapshot task.
        book = ex.order_book({}, 1000)
        book["nonce"] = None
        book.cache = []
        ex.orderbooks[symbol] = book
        subscription = {"symbol": symbol, "type": kind, "limit": 1000, "params": {}}
        await ex.fetch_order_book_snapshot(client, {}, subscription)
        handle = client.handle_text_or_binary_message
        for message in messages:
            handle(message)

    async def okx() -> None:
        snapshot = await ex.fetch_order_book(symbol, 400)
        snapshot["nonce"] = got["response"]["data"][0]["seqId"]
        ex.orderbooks[symbol] = ex.order_book(snapshot, 400)
        handle = client.handle_text_or_binary_message
        for message in messages:
            handle(message)

    async def bybit() -> None:
        ex.orderbooks.pop(symbol, None)
        handle = client.handle_text_or_binary_message
        for message in messages:
            handle(message)

    return binance if venue.startswith("binance") else okx if venue == "okx" else bybit, ex


# -- the feeds and the equality check ----------------------------------------------------------


def make_feeds(deltas: int, seed: int, changes: tuple[int, int] = CHANGES) -> dict[str, feeds.Feed]:
    """Every venue's feed (Binance's two share one book evolution)."""
    from benchmarks import bench_stream

    evolution = feeds.evolve(1000, deltas, seed, changes)
    out = {
        "binance_spot": feeds.binance_spot(evolution, seed),
        "binance_usdm": feeds.binance_usdm(evolution, seed),
        "okx": feeds.okx(feeds.evolve(400, deltas, seed + 10, changes), seed),
    }
    raw = bench_stream.generate(deltas, 50, seed)
    bybit = feeds.Feed("bybit", "BTC/USDT:USDT", "", raw)
    bybit.bids, bybit.asks = _bybit_truth(raw)
    out["bybit"] = bybit
    return out


def _bybit_truth(raw: list[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The final levels of section 6's feed (its generator keeps no book of its own)."""
    bids: dict[str, str] = {}
    asks: dict[str, str] = {}
    for text in raw:
        message = loads_json(text)
        data = message["data"]
        if message["type"] == "snapshot":
            bids, asks = {}, {}
        for side, rows in ((bids, data["b"]), (asks, data["a"])):
            for price, size in rows:
                if Decimal(size):
                    side[price] = size
                else:
                    side.pop(price, None)
    return (
        sorted(bids.items(), key=lambda level: -Decimal(level[0])),
        sorted(asks.items(), key=lambda level: Decimal(level[0])),
    )


def _last_sequence(venue: str, feed: feeds.Feed) -> int:
    last = loads_json(feed.messages[-1])["data"]
    return int(last[0]["seqId"] if venue == "okx" else last["u"])


def check_same_books(venue: str, feed: feeds.Feed, loop: asyncio.AbstractEventLoop) -> None:
    """Run ours and ccxt.pro once on ``feed``; raise unless both books are the generator's."""
    expected = (feed.bids, feed.asks)
    run, book_of = ours_pass(venue, feed)
    loop.run_until_complete(run())
    book = book_of()
    state = book.state
    if book.resyncs or state.gaps or not state.valid:
        raise RuntimeError(f"{venue}: our book resynced ({book.resyncs}) or is not valid")
    view = state.view()
    ours = (
        [(str(p), str(q)) for p, q in view.bids],
        [(str(p), str(q)) for p, q in view.asks],
    )
    if ours != expected:
        raise RuntimeError(f"{venue}: our book differs from the feed's ({_diff(ours, expected)})")
    if state.sequence != _last_sequence(venue, feed):
        raise RuntimeError(f"{venue}: our book ends at sequence {state.sequence}")
    floats = (
        [(float(p), float(q)) for p, q in expected[0]],
        [(float(p), float(q)) for p, q in expected[1]],
    )
    for raw in (False, True) if feed.raw_messages else (False,):
        run, ex = ccxt_pass(venue, feed, raw)
        loop.run_until_complete(run())
        theirs = ex.orderbooks.get(_CCXT_MARKETS[venue][1])
        if theirs is None:
            raise RuntimeError(f"{venue}: ccxt.pro dropped its book (a rejected update)")
        got = ([tuple(v[:2]) for v in theirs["bids"]], [tuple(v[:2]) for v in theirs["asks"]])
        if got != floats:
            raise RuntimeError(
                f"{venue}: ccxt.pro's book differs from the feed's ({_diff(got, floats)})"
            )
        if venue != "bybit" and theirs["nonce"] != _last_sequence(venue, feed):
            raise RuntimeError(f"{venue}: ccxt.pro's book ends at nonce {theirs['nonce']}")
        rejected = [list(client.rejections) for client in ex.clients.values() if client.rejections]
        if rejected:
            raise RuntimeError(f"{venue}: ccxt.pro rejected {rejected}")


def _diff(got: Any, expected: Any) -> str:
    for side, mine, other in (("bids", got[0], expected[0]), ("asks", got[1], expected[1])):
        if mine != other:
            pairs = enumerate(zip(mine, other, strict=False))
            at = next((i for i, (a, b) in pairs if a != b), None)
            return (
                f"{side}: {len(mine)} levels vs {len(other)}; first difference at {at}: "
                f"{mine[at] if at is not None else '-'} vs {other[at] if at is not None else '-'}"
            )
    return "same levels"


# -- cases -------------------------------------------------------------------------------------


def message_count(deltas: int) -> int:
    """Messages per pass: the snapshot (REST, or Bybit's pushed one) and the deltas."""
    return deltas + 1


def cases(
    loop: asyncio.AbstractEventLoop,
    deltas: int = 10_000,
    seed: int = 1,
    changes: tuple[int, int] = CHANGES,
    venues: tuple[str, ...] = VENUES,
) -> list[Case]:
    """Per venue: ours, ccxt.pro (and for Binance ccxt.pro on its raw /ws frames).

    Every callable runs one pass on ``loop``. Books are checked first (a wrong book fails
    before anything is timed); time ratios are per run against the venue's ccxt.pro row.
    """
    # ccxt.pro's clients make futures on the current loop: make it ``loop`` (an earlier
    # section's asyncio.run leaves the thread without one).
    asyncio.set_event_loop(loop)
    all_feeds = make_feeds(deltas, seed, changes)
    out: list[Case] = []
    for venue in venues:
        feed = all_feeds[venue]
        check_same_books(venue, feed, loop)
        versus = {case_name(venue, CCXT): f"{venue} ccxt.pro"}

        def ours(venue: str = venue, feed: feeds.Feed = feed) -> Callable[[], None]:
            run, _ = ours_pass(venue, feed)
            return lambda: loop.run_until_complete(run())

        def ccxt(
            venue: str = venue, feed: feeds.Feed = feed, raw: bool = False
        ) -> Callable[[], None]:
            run, _ = ccxt_pass(venue, feed, raw)
            return lambda: loop.run_until_complete(run())

        def ccxt_raw(venue: str = venue, feed: feeds.Feed = feed) -> Callable[[], None]:
            return ccxt(venue, feed, True)

        snapshot = "its pushed snapshot" if venue == "bybit" else "the REST snapshot"
        out.append(
            Case(
                case_name(venue, OURS),
                f"{snapshot}, then `WsConnection._dispatch` per "
                "frame (`loads`, `topic_of`, `BookFeed.on_message`: Decimal levels, "
                "continuity, book state)",
                ours,
                venue,
                versus=versus,
            )
        )
        out.append(
            Case(
                case_name(venue, CCXT),
                f"{snapshot}, then `Client."
                "handle_text_or_binary_message` per frame (orjson, `handle_message`, "
                "float book sides)",
                ccxt,
                venue,
            )
        )
        if feed.raw_messages:
            out.append(
                Case(
                    case_name(venue, CCXT_RAW),
                    "the same on the raw `/ws` frames "
                    "ccxt.pro subscribes to (no combined-stream envelope)",
                    ccxt_raw,
                    venue,
                    versus={case_name(venue, CCXT): "ccxt.pro"},
                )
            )
    return out


def run(
    deltas: int, passes: int, repeats: int, log: Callable[[str], None], seed: int = 1
) -> dict[str, Any]:
    """The section for ``python -m benchmarks``: every case, interleaved runs, per-run ratios."""
    loop = asyncio.new_event_loop()
    try:
        timed = run_micro(cases(loop, deltas, seed), passes, repeats, log=log)
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    return {
        "deltas": deltas,
        "messages": message_count(deltas),
        "changes": list(CHANGES),
        "depths": {"binance_spot": 1000, "binance_usdm": 1000, "okx": 400, "bybit": 50},
        "cases": timed,
    }


def _changes(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    return int(low), int(high or low)


def main(argv: list[str] | None = None) -> dict[str, float]:
    from benchmarks.bench_stream import best_rate

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deltas", type=int, default=10_000)
    parser.add_argument("--changes", default="1-6", help="level changes per message, low-high")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--venues", default=",".join(VENUES))
    options = parser.parse_args(argv)
    changes = _changes(options.changes)
    venues = tuple(v.strip() for v in options.venues.split(","))
    count = message_count(options.deltas)
    loop = asyncio.new_event_loop()
    try:
        rates = {
            case.name: best_rate(case.make(), count, options.repeat)
            for case in cases(loop, options.deltas, options.seed, changes, venues)
        }
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    print(
        f"order book streams: REST snapshot + {options.deltas} deltas of {options.changes} level "
        f"changes, best of {options.repeat}; Python {platform.python_version()} on "
        f"{platform.machine()}"
    )
    width = max(len(name) for name in rates)
    for name, rate in rates.items():
        base = rates[case_name(name.partition(":")[0], CCXT)]
        print(f"  {name:<{width}}  {rate:>10,.0f} msg/s  {rate / base:5.2f}x ccxt.pro")
    return rates


if __name__ == "__main__":
    main()
