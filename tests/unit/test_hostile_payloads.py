"""Hostile answers for every native adapter (Bybit, Binance, OKX), one parametrised suite.

Each body is JSON *text*, decoded by the adapter's own ``decode`` and read by its own parser,
so numbers arrive exactly as a wire would hand them over: ``"NaN"`` and ``"Infinity"`` strings,
negative sizes, zero prices, JSON floats (``65000.1``), ``1e999`` (a float infinity once
decoded), ``NaN`` literals, bodies nested 100,000 deep, envelope codes that are no integers.
Every one must end as ``BadResponse`` naming the exchange, never as a model, and never as
``InvalidOperation``, ``OverflowError`` or ``RecursionError``; JSON floats must be read through
their shortest repr.

Then the WebSocket side (Bybit's decoders, the book state, the feeds, the connection's frame
decoding), the ccxt bridge's conversions and error parsing, and, per exchange, a real client
against a loopback proxy in front of the emulator that serves a NaN book level and a deeply
nested body.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest

import exchanges
from adapters.binance import parse as binance
from adapters.bybit import parse as bybit
from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import (
    BookDecoder,
    BybitDialect,
    CandleDecoder,
    TickerDecoder,
    TradeDecoder,
)
from adapters.ccxt_bridge import convert
from adapters.ccxt_bridge.errors import Scrubber, extract_native, map_exception
from adapters.okx import parse as okx
from exchanges.emulator import Emulator
from exchanges.errors import BadResponse, ExchangeError
from exchanges.models import Candle, Market, Order, OrderBook, Ticker, Trade
from exchanges.retry import RetryPolicy
from exchanges.stream.book import BookMessage, OrderBookState
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import DECODE_ERRORS, BookFeed, EventFeed, Sink
from exchanges.stream.options import StreamOptions
from exchanges.wire import Request, Response

D = Decimal
STAMP = "1700000000000"
DEEP = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000
#: Numbers (as JSON text) that no price and no size may be.
NOT_FINITE = ['"NaN"', '"nan"', '"Infinity"', '"-Infinity"', '"sNaN"', "1e999", "-1e999",
              '"1e999"', '"1e30"', "1e30", "NaN", "Infinity"]  # fmt: skip
#: Not numbers at all.
NOT_NUMBERS = ['"x"', "true", "[]", "{}", '"1,5"', '" 1"']


def okx_market() -> Market:
    return Market(
        symbol="BTC/USDT", id="BTC-USDT", type="spot", base="BTC", quote="USDT", settle=None,
        linear=None, inverse=None, contract_size=None, price_step=D("0.1"),
        amount_step=D("0.00001"), min_amount=D("0.00001"), max_amount=None, min_notional=None,
        active=True, category="SPOT",
    )  # fmt: skip


@attrs.frozen
class Venue:
    """One adapter: how its bodies look and which of its parsers reads them."""

    name: str
    symbol: str
    decode: Callable[[Response, str], None]
    book_path: str
    #: A REST order book body from rows of JSON text.
    book_body: Callable[[str, str], str]
    row: Callable[[str, str], str]
    read_book: Callable[[Response], OrderBook]
    trade_body: Callable[[str, str], str]
    read_trade: Callable[[Response], Trade]
    candle_body: Callable[[str, str, str, str, str], str]
    read_candles: Callable[[Response], list[Candle]]
    ticker_body: Callable[[str, str], str]
    read_ticker: Callable[[Response], Ticker]
    order_body: Callable[[str, str], str]
    read_order: Callable[[Response], Order]
    market_body: Callable[[str], str]
    read_market: Callable[[Response], Market]
    balance_body: Callable[[str], str]
    read_balance: Callable[[Response], Any]
    code_body: Callable[[str], str]

    def response(self, body: str | bytes, status: int = 200, path: str = "/x") -> Response:
        raw = body.encode() if isinstance(body, str) else body
        request = Request("GET", "https://api.test", path)
        response = Response(status, {}, raw, request)
        self.decode(response, "mainnet")
        return response


def _bybit(result: str) -> str:
    return f'{{"retCode":0,"retMsg":"OK","result":{result},"retExtInfo":{{}},"time":{STAMP}}}'


def _okx(data: str) -> str:
    return f'{{"code":"0","msg":"","data":[{data}]}}'


BYBIT = Venue(
    name="bybit",
    symbol="BTC/USDT:USDT",
    decode=bybit.decode,
    book_path="/v5/market/orderbook",
    book_body=lambda b, a: _bybit(
        f'{{"s":"BTCUSDT","b":[{b}],"a":[{a}],"ts":{STAMP},"u":5,"seq":7}}'
    ),
    row=lambda p, s: f"[{p},{s}]",
    read_book=lambda r: bybit.parse_order_book("BTC/USDT:USDT", bybit.result(r)),
    trade_body=lambda p, s: _bybit(
        f'{{"category":"linear","list":[{{"execId":"t1","symbol":"BTCUSDT","price":{p},'
        f'"size":{s},"side":"Buy","time":"{STAMP}"}}]}}'
    ),
    read_trade=lambda r: bybit.parse_trade("BTC/USDT:USDT", bybit.result_list(r)[0]),
    candle_body=lambda o, h, low, c, v: _bybit(
        f'{{"category":"linear","list":[["{STAMP}",{o},{h},{low},{c},{v},"1"]]}}'
    ),
    read_candles=lambda r: bybit.parse_candles("linear", bybit.result_list(r)),
    ticker_body=lambda last, vol: _bybit(
        f'{{"category":"linear","list":[{{"symbol":"BTCUSDT","lastPrice":{last},'
        f'"volume24h":{vol},"bid1Price":"1","ask1Price":"2","fundingRate":"-0.0001"}}]}}'
    ),
    read_ticker=lambda r: bybit.parse_ticker(
        "BTC/USDT:USDT", "linear", bybit.result_list(r)[0], None
    ),
    order_body=lambda avg, qty: _bybit(
        f'{{"list":[{{"orderId":"1","orderLinkId":"c","symbol":"BTCUSDT","side":"Buy",'
        f'"orderType":"Limit","price":"65000","qty":{qty},"cumExecQty":"0","leavesQty":"1",'
        f'"avgPrice":{avg},"orderStatus":"New","timeInForce":"GTC","createdTime":"{STAMP}",'
        f'"updatedTime":"{STAMP}","cumExecValue":"0","cumExecFee":"-0.01"}}]}}'
    ),
    read_order=lambda r: bybit.parse_order("BTC/USDT:USDT", bybit.result_list(r)[0]),
    market_body=lambda tick: _bybit(
        f'{{"category":"linear","list":[{{"symbol":"BTCUSDT","baseCoin":"BTC",'
        f'"quoteCoin":"USDT","settleCoin":"USDT","status":"Trading",'
        f'"contractType":"LinearPerpetual","priceFilter":{{"tickSize":{tick}}},'
        f'"lotSizeFilter":{{"qtyStep":"0.001","minOrderQty":"0.001","maxOrderQty":"100",'
        f'"minNotionalValue":"5"}}}}]}}'
    ),
    read_market=lambda r: bybit.parse_market("linear", bybit.result_list(r)[0]),
    balance_body=lambda wallet: _bybit(
        f'{{"list":[{{"coin":[{{"coin":"USDT","walletBalance":{wallet},"locked":"0",'
        f'"totalOrderIM":"0","totalPositionIM":"0"}}]}}]}}'
    ),
    read_balance=lambda r: bybit.parse_balances(bybit.result_list(r), None),
    code_body=lambda code: f'{{"retCode":{code},"retMsg":"x","result":{{}},"time":{STAMP}}}',
)

BINANCE = Venue(
    name="binance",
    symbol="BTC/USDT",
    decode=binance.decode,
    book_path="/api/v3/depth",
    book_body=lambda b, a: f'{{"lastUpdateId":5,"bids":[{b}],"asks":[{a}]}}',
    row=lambda p, s: f"[{p},{s}]",
    read_book=lambda r: binance.parse_order_book("BTC/USDT", r.data),
    trade_body=lambda p, s: (
        f'[{{"id":1,"price":{p},"qty":{s},"quoteQty":"1","time":{STAMP},"isBuyerMaker":true}}]'
    ),
    read_trade=lambda r: binance.parse_trade("BTC/USDT", r.data[0]),
    candle_body=lambda o, h, low, c, v: (
        f'[[{STAMP},{o},{h},{low},{c},{v},1700000059999,"1",1,"1","1","0"]]'
    ),
    read_candles=lambda r: binance.parse_candles(r.data),
    ticker_body=lambda last, vol: (
        f'{{"symbol":"BTCUSDT","lastPrice":{last},"volume":{vol},"bidPrice":"1",'
        f'"askPrice":"2","closeTime":{STAMP}}}'
    ),
    read_ticker=lambda r: binance.parse_ticker("BTC/USDT", r.data),
    order_body=lambda avg, qty: (
        f'{{"symbol":"BTCUSDT","orderId":1,"clientOrderId":"c","price":"65000",'
        f'"origQty":{qty},"executedQty":"0","cummulativeQuoteQty":"0","status":"NEW",'
        f'"timeInForce":"GTC","type":"LIMIT","side":"BUY","time":{STAMP},'
        f'"updateTime":{STAMP},"avgPrice":{avg}}}'
    ),
    read_order=lambda r: binance.parse_order("BTC/USDT", r.data),
    market_body=lambda tick: (
        f'{{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","quoteAsset":"USDT",'
        f'"isSpotTradingAllowed":true,"filters":[{{"filterType":"PRICE_FILTER",'
        f'"tickSize":{tick}}},{{"filterType":"LOT_SIZE","stepSize":"0.00001",'
        f'"minQty":"0.00001","maxQty":"0.00000000"}}]}}'
    ),
    read_market=lambda r: binance.parse_market_spot(r.data),
    balance_body=lambda free: (
        f'{{"balances":[{{"asset":"USDT","free":{free},"locked":"0"}}],"updateTime":1}}'
    ),
    read_balance=lambda r: binance.parse_balances_spot(r.data),
    code_body=lambda code: f'{{"code":{code},"msg":"x"}}',
)

OKX = Venue(
    name="okx",
    symbol="BTC/USDT",
    decode=okx.decode,
    book_path="/api/v5/market/books",
    book_body=lambda b, a: _okx(f'{{"asks":[{a}],"bids":[{b}],"ts":"{STAMP}","seqId":5}}'),
    row=lambda p, s: f'[{p},{s},"0","1"]',
    read_book=lambda r: okx.parse_order_book("BTC/USDT", okx.first(r)),
    trade_body=lambda p, s: _okx(
        f'{{"instId":"BTC-USDT","tradeId":"1","px":{p},"sz":{s},"side":"buy","ts":"{STAMP}"}}'
    ),
    read_trade=lambda r: okx.parse_trade("BTC/USDT", okx.first(r)),
    candle_body=lambda o, h, low, c, v: (
        f'{{"code":"0","msg":"","data":[["{STAMP}",{o},{h},{low},{c},{v},"1","1","1"]]}}'
    ),
    read_candles=lambda r: okx.parse_candles(okx_market(), okx.data_list(r)),
    ticker_body=lambda last, vol: _okx(
        f'{{"instId":"BTC-USDT","last":{last},"vol24h":{vol},"volCcy24h":"1","bidPx":"1",'
        f'"askPx":"2","ts":"{STAMP}"}}'
    ),
    read_ticker=lambda r: okx.parse_ticker(okx_market(), okx.first(r)),
    order_body=lambda avg, qty: _okx(
        f'{{"ordId":"1","clOrdId":"c","instId":"BTC-USDT","px":"65000","sz":{qty},'
        f'"accFillSz":"0","avgPx":{avg},"state":"live","ordType":"limit","side":"buy",'
        f'"cTime":"{STAMP}","uTime":"{STAMP}","fee":"-0.01","feeCcy":"USDT"}}'
    ),
    read_order=lambda r: okx.parse_order("BTC/USDT", okx.first(r), spot=True),
    market_body=lambda tick: _okx(
        f'{{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":"USDT",'
        f'"tickSz":{tick},"lotSz":"0.00001","minSz":"0.00001","maxLmtSz":"10000",'
        f'"state":"live"}}'
    ),
    read_market=lambda r: okx.parse_market(okx.first(r)),
    balance_body=lambda cash: _okx(
        f'{{"details":[{{"ccy":"USDT","cashBal":{cash},"frozenBal":"0"}}],"uTime":"1"}}'
    ),
    read_balance=lambda r: okx.parse_balances(okx.first(r)),
    code_body=lambda code: f'{{"code":{code},"msg":"x","data":[]}}',
)

VENUES = [BYBIT, BINANCE, OKX]
venues = pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.name)


def refused(venue: Venue, call: Callable[[], Any]) -> BadResponse:
    """``call`` must raise ``BadResponse`` naming the venue, with a hint."""
    with pytest.raises(BadResponse) as caught:
        call()
    err = caught.value
    assert err.exchange == venue.name, err
    assert err.hint
    return err


def book(venue: Venue, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBook:
    text = venue.book_body(
        ",".join(venue.row(p, s) for p, s in bids), ",".join(venue.row(p, s) for p, s in asks)
    )
    return venue.read_book(venue.response(text, path=venue.book_path))


# -- order books -----------------------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS)
@pytest.mark.parametrize("where", ["bid price", "bid size", "ask price", "ask size"])
def test_book_levels_refuse_non_finite_values(venue: Venue, value: str, where: str) -> None:
    side, field = where.split()
    level = (value, '"1"') if field == "price" else ('"65000"', value)
    bids = [('"64999.5"', '"1"'), level] if side == "bid" else [('"64999.5"', '"1"')]
    asks = [('"65000.5"', '"1"'), level] if side == "ask" else [('"65000.5"', '"1"')]
    refused(venue, lambda: book(venue, bids, asks))


@venues
@pytest.mark.parametrize(("price", "size"), [('"0"', '"1"'), ('"-65000"', '"1"'),
                                             ('"65000"', '"-1"'), ('"0.000"', '"1"')])  # fmt: skip
def test_book_levels_refuse_zero_prices_and_negative_sizes(
    venue: Venue, price: str, size: str
) -> None:
    refused(venue, lambda: book(venue, [(price, size)], [('"65001"', '"1"')]))


@venues
def test_book_reads_json_floats_through_their_shortest_repr(venue: Venue) -> None:
    # A JSON number 65000.1 is a float once decoded: Decimal(float) would be
    # 65000.0999999999985448084771633148193359375.
    got = book(venue, [("65000.1", "0.3"), ('"64999"', '"0"')], [("65000.2", "1e-8")])
    assert [(str(p), str(s)) for p, s in got.bids] == [("65000.1", "0.3"), ("64999", "0")]
    assert [(str(p), str(s)) for p, s in got.asks] == [("65000.2", "1E-8")]
    assert got.best_bid is not None and got.best_ask is not None
    assert got.best_bid[0] < got.best_ask[0]  # comparable: no NaN can be in a book


# -- trades, candles, tickers ----------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"0"', '"-1"', "null", '""'])
def test_trade_prices_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_trade(venue.response(venue.trade_body(value, '"1"'))))


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"', "-0.5"])
def test_trade_sizes_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_trade(venue.response(venue.trade_body('"1"', value))))


@venues
def test_trades_read_floats_through_repr(venue: Venue) -> None:
    trade = venue.read_trade(venue.response(venue.trade_body("65000.1", "0.003")))
    assert (str(trade.price), str(trade.amount)) == ("65000.1", "0.003")


@venues
@pytest.mark.parametrize("value", [*NOT_FINITE, '"x"', "true", '"0"', '"-1"'])
@pytest.mark.parametrize("column", ["open", "low", "close", "volume"])
def test_candles_refuse_garbage(venue: Venue, value: str, column: str) -> None:
    if column == "volume" and value == '"0"':
        return  # a candle without trades has volume 0
    row = {"open": '"1"', "high": '"2"', "low": '"0.5"', "close": '"1.5"', "volume": '"10"'}
    row[column] = value
    body = venue.candle_body(row["open"], row["high"], row["low"], row["close"], row["volume"])
    refused(venue, lambda: venue.read_candles(venue.response(body)))


@venues
def test_candles_read_floats_through_repr(venue: Venue) -> None:
    (candle,) = venue.read_candles(venue.response(venue.candle_body("1.1", "2.2", "0.1", "1", "0")))
    assert (str(candle.open), str(candle.high), str(candle.low), candle.volume) == (
        "1.1", "2.2", "0.1", 0,
    )  # fmt: skip


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"'])
@pytest.mark.parametrize("field", ["last", "volume"])
def test_tickers_refuse_garbage(venue: Venue, value: str, field: str) -> None:
    body = venue.ticker_body(value, '"1"') if field == "last" else venue.ticker_body('"1"', value)
    refused(venue, lambda: venue.read_ticker(venue.response(body)))


@venues
def test_a_new_markets_ticker_keeps_its_zero_last_price(venue: Venue) -> None:
    ticker = venue.read_ticker(venue.response(venue.ticker_body('"0"', '""')))
    assert ticker.last == 0 and ticker.base_volume is None
    floats = venue.read_ticker(venue.response(venue.ticker_body("65000.1", "12.3")))
    assert (str(floats.last), str(floats.base_volume)) == ("65000.1", "12.3")


# -- orders, markets, balances ---------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"'])
def test_orders_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_order(venue.response(venue.order_body(value, '"1"'))))
    refused(venue, lambda: venue.read_order(venue.response(venue.order_body('"1"', value))))


@venues
def test_an_orders_zero_average_before_a_fill_still_means_none(venue: Venue) -> None:
    order = venue.read_order(venue.response(venue.order_body('"0"', "0.5")))
    assert order.average is None and str(order.amount) == "0.5"


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-0.1"'])
def test_markets_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_market(venue.response(venue.market_body(value))))


@venues
def test_market_limits_keep_their_meaning(venue: Venue) -> None:
    market = venue.read_market(venue.response(venue.market_body('"0.1"')))
    assert market.price_step == D("0.1")
    if venue is BINANCE:
        assert market.max_amount is None  # Binance's "0.00000000": no limit


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS)
def test_balances_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_balance(venue.response(venue.balance_body(value))))


# -- bodies and envelopes --------------------------------------------------------------------


@venues
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[NaN]", b'{"a": Infinity}'])
def test_a_body_nested_too_deep_or_not_json_is_a_bad_response(venue: Venue, body: bytes) -> None:
    err = refused(venue, lambda: venue.response(body))
    assert err.http_status == 200 and "not JSON" in err.message


@venues
@pytest.mark.parametrize("status", [403, 502])
def test_a_deep_body_with_an_error_status_is_classified_by_status(
    venue: Venue, status: int
) -> None:
    with pytest.raises(ExchangeError) as caught:
        venue.response(DEEP, status=status)
    assert caught.value.http_status == status and caught.value.exchange == venue.name


@venues
@pytest.mark.parametrize(
    "code", ["1e999", "-1e999", "0.0", "200.0", "10006.5", "true", "false",
             "100000000000000000000000000000"],
)  # fmt: skip
def test_envelope_codes_that_are_not_plain_integers_are_bad_responses(
    venue: Venue, code: str
) -> None:
    err = refused(venue, lambda: venue.response(venue.code_body(code)))
    assert err.http_status == 200


@venues
def test_a_nested_error_message_does_not_recurse(venue: Venue) -> None:
    depth = 400  # decodable, and deep enough to matter if it were ever repr'd
    message = "[" * depth + "]" * depth
    body = venue.code_body('"51000"' if venue is OKX else "-1121" if venue is BINANCE else "10001")
    body = body.replace('"x"', message)
    with pytest.raises(ExchangeError) as caught:
        venue.response(body, status=400 if venue is BINANCE else 200)
    assert "[[[[" not in caught.value.message


# -- the WebSocket side (Bybit's dialect, the book state, the feeds, the connection) -----------


LOG = logging.getLogger("exchanges.test.hostile")


def push(topic: str, data: Any, kind: str = "snapshot") -> dict[str, Any]:
    return {"topic": topic, "type": kind, "ts": 1_700_000_000_000, "data": data}


def book_push(bids: list[Any], asks: list[Any], u: int, kind: str = "delta") -> dict[str, Any]:
    return push("orderbook.50.BTCUSDT", {"s": "BTCUSDT", "b": bids, "a": asks, "u": u}, kind)


@pytest.mark.parametrize(
    "level",
    [["NaN", "1"], ["Infinity", "1"], ["65000", "-1"], ["0", "1"], ["1e999", "1"],
     [float("nan"), "1"], ["65000", float("inf")], ["65000", True]],
)  # fmt: skip
def test_the_book_decoder_refuses_levels_no_market_has(level: list[Any]) -> None:
    with pytest.raises(DECODE_ERRORS):
        BookDecoder().decode(book_push([level], [], 2))


def test_the_book_decoder_reads_deletes_and_floats() -> None:
    message = BookDecoder().decode(book_push([["65000", "0"]], [[65000.1, 0.2]], 2))
    assert message.bids == ((D(65000), D(0)),)
    assert [(str(p), str(s)) for p, s in message.asks] == [("65000.1", "0.2")]
    for u in ("7", 1.5, -1, None, True):
        with pytest.raises(DECODE_ERRORS):
            BookDecoder().decode(book_push([], [], u))  # type: ignore[arg-type]


def dialect() -> BybitDialect:
    return BybitDialect(BybitAdapter())


@pytest.mark.parametrize(
    ("field", "value"),
    [("p", "NaN"), ("p", "0"), ("p", "Infinity"), ("v", "-1"), ("v", "1e999"), ("T", 1e999),
     ("T", "NaN"), ("i", [[["deep"]]])],
)  # fmt: skip
def test_the_trade_decoder_refuses_garbage(field: str, value: Any) -> None:
    item = {"i": "t1", "s": "BTCUSDT", "T": 1_700_000_000_000, "S": "Buy", "p": "1", "v": "1"}
    item[field] = value
    with pytest.raises(DECODE_ERRORS):
        TradeDecoder(dialect(), "linear").decode(push("publicTrade.BTCUSDT", [item]))


@pytest.mark.parametrize(("field", "value"), [("open", "NaN"), ("volume", "-1"), ("low", "0"),
                                              ("start", 1e999), ("close", "1e30")])  # fmt: skip
def test_the_candle_decoder_refuses_garbage(field: str, value: Any) -> None:
    item = {"start": 1_700_000_000_000, "open": "1", "high": "2", "low": "1", "close": "1",
            "volume": "1", "turnover": "1"}  # fmt: skip
    item[field] = value
    with pytest.raises(DECODE_ERRORS):
        CandleDecoder("linear").decode(push("kline.1.BTCUSDT", [item]))


def test_the_ticker_decoder_refuses_garbage_in_a_delta() -> None:
    decoder = TickerDecoder("BTC/USDT:USDT", "linear")
    decoder.decode(push("tickers.BTCUSDT", {"symbol": "BTCUSDT", "lastPrice": "1"}))
    with pytest.raises(DECODE_ERRORS):
        decoder.decode(push("tickers.BTCUSDT", {"lastPrice": "NaN"}, "delta"))


@pytest.mark.parametrize(
    "level",
    [(D("NaN"), D(1)), (D("sNaN"), D(1)), (D("Infinity"), D(1)), (D(100), D("-1")),
     (D(0), D(1)), (D("-5"), D(1)), (D("1e30"), D(1)), (D(100), D("NaN"))],
)  # fmt: skip
def test_the_book_state_refuses_levels_no_market_has_and_is_never_half_applied(
    level: tuple[Decimal, Decimal],
) -> None:
    # Whatever a dialect's decoder lets through, the book itself refuses it.
    state = OrderBookState("BTC/USDT:USDT")
    good = [(D(99), D(1))]
    state.apply(BookMessage(True, good, [(D(101), D(1))], 1))
    with pytest.raises((ArithmeticError, ValueError)):
        state.apply(BookMessage(False, [(D(98), D(1)), level], [], 2))
    assert not state.valid and state.best_bid is None  # invalid until the next snapshot
    with pytest.raises((ArithmeticError, ValueError)):
        state.apply(BookMessage(True, [level], [(D(101), D(1))], 3))
    assert not state.valid


class FakeConnection:
    def __init__(self) -> None:
        self.resubscribed: list[str] = []

    def resubscribe(self, topic: str) -> None:
        self.resubscribed.append(topic)


def connection_with(feed: Any) -> WsConnection:
    # The real connection's frame handling, without a socket.
    conn = WsConnection(
        None,  # type: ignore[arg-type]
        dialect(),
        "public/linear",
        "ws://127.0.0.1:9/v5/public/linear",
        StreamOptions(),
        LOG,
    )
    conn.feeds[feed.topic] = feed
    return conn


async def test_a_nan_book_delta_resyncs_and_is_never_shown() -> None:
    spec = FeedSpec("public/linear", "orderbook.50.BTCUSDT", "book", BookDecoder, depth=50)
    feed = BookFeed(spec, LOG, 10)
    fake = FakeConnection()
    feed.connection = fake  # type: ignore[assignment]
    sink = Sink(feed.new_channel(), None, 5)
    feed.attach(sink)
    conn = connection_with(feed)
    conn._dispatch(json.dumps(book_push([["99", "1"]], [["101", "1"]], 1, "snapshot")))
    assert feed.state.valid and feed.state.best_bid == 99
    conn._dispatch(json.dumps(book_push([["NaN", "1"]], [], 2)))
    assert not feed.state.valid and fake.resubscribed == [spec.topic]
    assert sink.channel.error is None  # a book resyncs; its consumers wait for the snapshot


async def test_a_nan_trade_push_fails_the_consumers_with_bad_response() -> None:
    spec = FeedSpec(
        "public/linear", "publicTrade.BTCUSDT", "events", lambda: TradeDecoder(dialect(), "linear")
    )
    feed = EventFeed(spec, LOG, 10)
    sink = Sink(feed.new_channel(), None, None)
    feed.attach(sink)
    conn = connection_with(feed)
    item = {"i": "t1", "s": "BTCUSDT", "T": 1_700_000_000_000, "S": "Buy", "p": "NaN", "v": "1"}
    conn._dispatch(json.dumps(push("publicTrade.BTCUSDT", [item])))
    with pytest.raises(BadResponse) as caught:
        await sink.channel.get()
    assert "undecodable" in caught.value.message and caught.value.hint


@pytest.mark.parametrize("frame", [DEEP.decode(), DEEP_OBJECT.decode(), "[NaN]"])
def test_the_dialect_reads_a_deep_frame_as_undecodable(frame: str) -> None:
    with pytest.raises(ValueError):
        dialect().loads(frame)


async def test_a_deeply_nested_frame_does_not_kill_the_connection() -> None:
    spec = FeedSpec(
        "public/linear", "publicTrade.BTCUSDT", "events", lambda: TradeDecoder(dialect(), "linear")
    )
    conn = connection_with(EventFeed(spec, LOG, 10))
    assert conn._dispatch(DEEP.decode()) is False


# -- the ccxt bridge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level",
    [[float("nan"), 1.0], [65000.0, float("inf")], [0.0, 1.0], [65000.0, -1.0], [1e30, 1.0],
     ["NaN", "1"], [D("sNaN"), D(1)], [65000.0], "12"],
)  # fmt: skip
def test_ccxt_book_levels_refuse_what_no_market_has(level: Any) -> None:
    with pytest.raises(BadResponse):
        convert.order_book("BTC/USDT", {"bids": [level], "asks": []}, None)


def test_ccxt_floats_are_read_through_repr() -> None:
    got = convert.order_book("BTC/USDT", {"bids": [[65000.1, 0.3]], "asks": []}, None)
    assert [(str(p), str(s)) for p, s in got.bids] == [("65000.1", "0.3")]
    trade = convert.trade("BTC/USDT", {"id": 1, "timestamp": 1, "price": 65000.1, "amount": 2.0})
    assert (str(trade.price), str(trade.amount)) == ("65000.1", "2.0")


@pytest.mark.parametrize(
    "call",
    [lambda: convert.trade("X/Y", {"timestamp": 1, "price": float("nan"), "amount": 1}),
     lambda: convert.trade("X/Y", {"timestamp": 1e999, "price": 1, "amount": 1}),
     lambda: convert.candle([float("inf"), 1, 1, 1, 1, 1]),
     lambda: convert.candle([1, 1, 1, 0, 1, 1]),
     lambda: convert.ticker("X/Y", {"last": float("nan")}),
     lambda: convert.ticker("X/Y", {"baseVolume": -1.0}),
     lambda: convert.order("X/Y", {"average": float("inf")}),
     lambda: convert.balances({"USDT": {"free": float("nan"), "used": 0, "total": 1}})],
)  # fmt: skip
def test_ccxt_conversions_refuse_non_finite_numbers(call: Callable[[], Any]) -> None:
    with pytest.raises(BadResponse) as caught:
        call()
    assert caught.value.hint


def test_ccxt_market_limits_read_infinity_as_no_limit() -> None:
    item: dict[str, Any] = {
        "symbol": "BTC/USDT", "id": "BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT",
        "precision": {"price": 0.1, "amount": 0.001},
        "limits": {"amount": {"min": 0.001, "max": float("inf")}, "cost": {"min": None}},
    }  # fmt: skip
    market = convert.market(item, convert.TICK_SIZE)
    assert market is not None and market.max_amount is None
    assert str(market.price_step) == "0.1" and str(market.min_amount) == "0.001"
    item["limits"] = {"amount": {"min": float("nan")}}
    with pytest.raises(BadResponse):
        convert.market(item, convert.TICK_SIZE)


@pytest.mark.parametrize(
    "text",
    ['bybit {"retCode":' + '{"a":' * 100_000, "bybit " + "[" * 100_000,
     'bybit {"retCode": 1e999, "retMsg": "x"}', 'bybit {"retCode": true, "retMsg": "x"}',
     'bybit {"retCode": 10006, "retMsg": ' + "[" * 400 + "]" * 400 + "}",
     "okx " + '{"a":{' * 50_000],
)  # fmt: skip
def test_ccxt_error_parsing_survives_hostile_bodies(text: str) -> None:
    code, message, _ = extract_native(text)
    assert code in (None, 10006) and message is None

    class ExchangeErrorLike(Exception):
        pass

    ExchangeErrorLike.__module__ = "ccxt.base.errors"
    ExchangeErrorLike.__name__ = "ExchangeError"
    err = map_exception(
        ExchangeErrorLike(text),
        exchange="bybit",
        family="bybit",
        endpoint="fetch_order_book",
        scrub=Scrubber(),
        last_body=text,
    )
    assert isinstance(err, ExchangeError) and err.exchange == "bybit"


# -- end to end: a real client against a loopback proxy in front of the emulator ---------------


class Tamper(BaseHTTPRequestHandler):
    """Forwards to the emulator; answers ``replace[path]`` instead for the paths it names."""

    target: tuple[str, int]
    replace: dict[str, tuple[int, bytes]]

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in self.replace:
            status, body = self.replace[path]
            headers = [("Content-Type", "application/json")]
        else:
            upstream = http.client.HTTPConnection(*self.target, timeout=10)
            upstream.request("GET", self.path, headers={"Accept": "application/json"})
            answer = upstream.getresponse()
            status, body = answer.status, answer.read()
            headers = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            upstream.close()
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def tampering(emulator: Emulator, replace: dict[str, tuple[int, bytes]]) -> Iterator[str]:
    url = urlsplit(emulator.base_url)
    assert url.hostname is not None and url.port is not None
    handler = type("Handler", (Tamper,), {"target": (url.hostname, url.port), "replace": replace})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@venues
def test_a_real_client_refuses_a_nan_book_level_and_a_deep_body(venue: Venue) -> None:
    nan_book = venue.book_body(venue.row('"NaN"', '"1"'), venue.row('"65000.5"', '"1"'))
    replace: dict[str, tuple[int, bytes]] = {}
    with (
        Emulator(venue.name, seed=7) as emulator,
        tampering(emulator, replace) as base_url,
        exchanges.connect(
            venue.name, base_url=base_url, retry=RetryPolicy(attempts=2, initial_wait=0.01)
        ) as client,
    ):
        assert client.fetch_order_book(venue.symbol, 5).bids  # through the proxy, untouched
        replace[venue.book_path] = (200, nan_book.encode())
        err = refused(venue, lambda: client.fetch_order_book(venue.symbol, 5))
        assert "NaN" in err.message
        replace[venue.book_path] = (200, DEEP)
        err = refused(venue, lambda: client.fetch_order_book(venue.symbol, 5))
        assert "not JSON" in err.message and err.http_status == 200
        replace[venue.book_path] = (200, venue.book_body(venue.row("65000.1", "0.3"), "").encode())
        floats = client.fetch_order_book(venue.symbol, 5)
        assert [(str(p), str(s)) for p, s in floats.bids] == [("65000.1", "0.3")]
