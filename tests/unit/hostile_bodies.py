"""What the hostile-payload tests share: the hostile numbers and bodies, and per native
adapter (``Venue``) how its bodies look and which of its parsers reads them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
import pytest

from adapters.binance import parse as binance
from adapters.bybit import parse as bybit
from adapters.okx import parse as okx
from exchanges.errors import BadResponse
from exchanges.models import Candle, Market, Order, OrderBook, Ticker, Trade
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
