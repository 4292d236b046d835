"""Bybit builders and parsers on the response shapes of Bybit's v5 docs.

Each endpoint's "Response Parameters", e.g. "Get Trade History":
https://bybit-exchange.github.io/docs/v5/order/execution
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.bybit import parse
from adapters.bybit.adapter import BybitAdapter, category_of
from adapters.bybit.hosts import rest_host
from adapters.bybit.requests import RequestBuilder, json_body, query_value
from exchanges.errors import BadResponse, NotSupported
from exchanges.symbols import parse_symbol
from exchanges.wire import Response
from tests.fakes import NOW, FakeBybit, make_client


def test_query_is_built_once_in_order_with_unreserved_characters_only() -> None:
    request = RequestBuilder("https://h").get(
        "/v5/order/realtime",
        {
            "category": "linear",
            "coin": "MNT,USDT",
            "cursor": "page_args%3Dfd43%26",
            "x": None,
            "flag": True,
            "qty": Decimal("1E-8"),
            "name": "a b+c/é",
        },
        signed=True,
    )
    assert request.query == (
        "category=linear&coin=MNT%2CUSDT&cursor=page_args%253Dfd43%2526&flag=true"
        "&qty=0.00000001&name=a%20b%2Bc%2F%C3%A9"
    )
    assert request.rate_keys == ("bybit:/v5/order/realtime", "bybit:ip")


def test_body_is_compact_json_with_plain_decimals_and_refuses_floats() -> None:
    assert json_body({"qty": Decimal("1e-7"), "b": False, "s": "é"}) == (
        '{"qty":"0.0000001","b":false,"s":"é"}'.encode()
    )
    with pytest.raises(TypeError):
        json_body({"qty": 1.5})
    with pytest.raises(TypeError):
        query_value(1.5)


def test_per_category_rate_keys() -> None:
    build = RequestBuilder("https://h")
    spot = build.create_order({"category": "spot"}, "spot")
    linear = build.create_order({"category": "linear"}, "linear")
    assert spot.rate_keys[0] == "bybit:/v5/order/create:spot"
    assert linear.rate_keys[0] == "bybit:/v5/order/create:deriv"
    assert spot.write and not build.cancel_all({}, "spot").write


def test_hosts() -> None:
    assert rest_host("mainnet") == "https://api.bybit.com"
    assert rest_host("testnet") == "https://api-testnet.bybit.com"
    assert rest_host("demo") == "https://api-demo.bybit.com"
    assert rest_host("mainnet", "nl") == "https://api.bybit.nl"
    assert rest_host("mainnet", "bytick") == "https://api.bytick.com"
    assert rest_host("mainnet", "tr") == "https://api.bybit.tr"
    with pytest.raises(NotSupported):
        rest_host("demo", "nl")
    adapter = BybitAdapter(env="mainnet", options={"region": "kz"})
    assert adapter.base_url == "https://api.bybit.kz"
    with pytest.raises(ValueError):
        BybitAdapter(env="sandbox")


def test_category_of_unified_symbols() -> None:
    assert category_of(parse_symbol("BTC/USDT")) == "spot"
    assert category_of(parse_symbol("BTC/USDT:USDT")) == "linear"
    assert category_of(parse_symbol("BTC/USDT:USDT-251226")) == "linear"
    assert category_of(parse_symbol("BTC/USD:BTC")) == "inverse"
    assert category_of(parse_symbol("BTC/USDC:USDC-251226-100000-C")) == "option"


def test_markets_of_each_category() -> None:
    spot = parse.parse_market(
        "spot",
        {
            "symbol": "BTCUSDT",
            "baseCoin": "BTC",
            "quoteCoin": "USDT",
            "status": "Trading",
            "lotSizeFilter": {
                "basePrecision": "0.000001",
                "quotePrecision": "0.00000001",
                "minOrderQty": "0.000048",
                "maxOrderQty": "71.73956243",
                "minOrderAmt": "1",
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": "0.01"},
        },
    )
    assert (spot.symbol, spot.type, spot.price_step, spot.amount_step) == (
        "BTC/USDT",
        "spot",
        Decimal("0.01"),
        Decimal("0.000001"),
    )
    assert spot.min_notional == Decimal(1) and spot.active
    future = parse.parse_market(
        "linear",
        {
            "symbol": "BTCUSDT-26DEC25",
            "contractType": "LinearFutures",
            "status": "Trading",
            "baseCoin": "BTC",
            "quoteCoin": "USDT",
            "settleCoin": "USDT",
            "deliveryTime": "1766736000000",
            "priceFilter": {"tickSize": "0.50"},
            "lotSizeFilter": {"qtyStep": "0.001", "minOrderQty": "0.001", "maxOrderQty": "500"},
        },
    )
    assert future.symbol == "BTC/USDT:USDT-251226" and future.type == "future"
    assert future.linear and future.expiry == 1766736000000
    inverse = parse.parse_market(
        "inverse",
        {
            "symbol": "BTCUSD",
            "contractType": "InversePerpetual",
            "baseCoin": "BTC",
            "quoteCoin": "USD",
            "settleCoin": "BTC",
            "deliveryTime": "0",
            "priceFilter": {"tickSize": "0.50"},
            "lotSizeFilter": {"qtyStep": "1"},
        },
    )
    assert inverse.symbol == "BTC/USD:BTC" and inverse.inverse and inverse.type == "swap"
    option = parse.parse_market(
        "option",
        {
            "symbol": "BTC-26DEC25-100000-C",
            "optionsType": "Call",
            "status": "Trading",
            "baseCoin": "BTC",
            "quoteCoin": "USDC",
            "settleCoin": "USDC",
            "deliveryTime": "1766736000000",
            "priceFilter": {"tickSize": "5"},
            "lotSizeFilter": {"qtyStep": "0.01", "minOrderQty": "0.01", "maxOrderQty": "500"},
        },
    )
    assert option.symbol == "BTC/USDC:USDC-251226-100000-C" and option.option_type == "call"
    assert option.strike == Decimal(100000)


def test_ticker_inverse_volumes_keep_base_and_quote_meaning() -> None:
    item = {
        "symbol": "BTCUSD",
        "bid1Price": "1",
        "ask1Price": "2",
        "lastPrice": "1.5",
        "volume24h": "1000000",
        "turnover24h": "15.5",
        "fundingRate": "0.0001",
        "nextFundingTime": "1700000000000",
        "markPrice": "1.5",
    }
    ticker = parse.parse_ticker("BTC/USD:BTC", "inverse", item, NOW)
    assert ticker.base_volume == Decimal("15.5") and ticker.quote_volume == Decimal(1000000)
    assert ticker.funding_rate == Decimal("0.0001") and ticker.next_funding_time == 1700000000000
    spot = parse.parse_ticker("BTC/USDT", "spot", dict(item, symbol="BTCUSDT"), NOW)
    assert spot.base_volume == Decimal(1000000) and spot.bid == Decimal(1)


def test_order_book_and_bad_levels() -> None:
    book = parse.parse_order_book(
        "BTC/USDT",
        {
            "s": "BTCUSDT",
            "b": [["65000.5", "0.1"]],
            "a": [["65001", "2"]],
            "ts": NOW,
            "u": 18521288,
        },
    )
    assert book.bids == ((Decimal("65000.5"), Decimal("0.1")),)
    assert book.sequence == 18521288 and book.timestamp == NOW
    with pytest.raises(BadResponse):
        parse.parse_order_book("BTC/USDT", {"b": [["x"]], "a": []})
    with pytest.raises(BadResponse):
        parse.parse_order_book("BTC/USDT", {"b": None, "a": []})


def test_klines_come_back_oldest_first() -> None:
    rows = [["3000", "1", "2", "0.5", "1.5", "10", "15"], ["2000", "1", "1", "1", "1", "5", "5"]]
    candles = parse.parse_candles("linear", rows)
    assert [c.timestamp for c in candles] == [2000, 3000]
    inverse = parse.parse_candles("inverse", rows)
    assert inverse[1].volume == Decimal(15) and inverse[1].quote_volume == Decimal(10)
    with pytest.raises(BadResponse):
        parse.parse_candles("linear", [["1", "2"]])


def test_balances_used_includes_margin() -> None:
    balances = parse.parse_balances(
        [
            {
                "coin": [
                    {
                        "coin": "USDT",
                        "walletBalance": "100",
                        "locked": "10",
                        "totalOrderIM": "5",
                        "totalPositionIM": "20",
                    }
                ]
            }
        ],
        NOW,
    )
    usdt = balances["USDT"]
    assert (usdt.total, usdt.used, usdt.free) == (Decimal(100), Decimal(35), Decimal(65))
    assert usdt.free + usdt.used == usdt.total


def test_key_info_scopes() -> None:
    info = parse.parse_key_info(
        {
            "readOnly": 0,
            "ips": ["*"],
            "expiredAt": "2026-12-01T00:00:00Z",
            "createdAt": "2026-01-01T00:00:00Z",
            "note": "bot",
            "permissions": {
                "ContractTrade": ["Order", "Position"],
                "Spot": ["SpotTrade"],
                "Wallet": ["AccountTransfer", "Withdraw"],
                "Options": ["OptionsTrade"],
                "Derivatives": ["DerivativesTrade"],
                "Exchange": ["ExchangeHistory"],
                "NFT": [],
            },
        }
    )
    assert info.permissions == {
        "read",
        "derivatives_trade",
        "spot_trade",
        "transfer",
        "withdraw",
        "options_trade",
        "bybit:Exchange",
    }
    assert info.ip_whitelist == () and info.can_withdraw and info.can_trade
    assert info.expires_at == 1796083200000 and info.label == "bot"
    read_only = parse.parse_key_info(
        {
            "readOnly": 1,
            "permissions": {"Spot": ["SpotTrade"]},
            "ips": ["1.2.3.4"],
            "expiredAt": "1970-01-01T00:00:00Z",
        }
    )
    assert read_only.read_only and not read_only.can_trade and read_only.expires_at is None
    assert read_only.ip_whitelist == ("1.2.3.4",)


def test_orders_fills_positions() -> None:
    order = parse.parse_order(
        "BTC/USDT:USDT",
        {
            "orderId": "1",
            "orderLinkId": "c",
            "side": "Sell",
            "orderType": "Market",
            "price": "0",
            "qty": "0.5",
            "orderStatus": "PartiallyFilledCanceled",
            "cumExecQty": "0.2",
            "leavesQty": "0.3",
            "avgPrice": "100",
            "timeInForce": "IOC",
            "reduceOnly": True,
            "createdTime": "1",
            "updatedTime": "2",
            "cumExecValue": "20",
            "cumExecFee": "0.01",
            "cumFeeDetail": {"USDT": "0.01"},
        },
    )
    assert order.status == "canceled" and order.remaining == 0 and order.price is None
    assert order.side == "sell" and order.reduce_only and order.fee_currency == "USDT"
    post = parse.parse_order(
        "BTC/USDT",
        {"orderStatus": "New", "timeInForce": "PostOnly", "orderType": "Limit", "price": "5"},
    )
    assert post.post_only and post.time_in_force == "PO" and post.status == "open"
    fill = parse.parse_fill(
        "BTC/USDT",
        {
            "execId": "e",
            "execPrice": "1",
            "execQty": "2",
            "execFee": "0.1",
            "feeCurrency": "BTC",
            "isMaker": False,
            "execTime": "5",
            "side": "Buy",
        },
    )
    assert fill.is_maker is False and fill.side == "buy" and fill.amount == Decimal(2)
    assert parse.parse_position("X", {"size": "0", "side": ""}) is None
    short = parse.parse_position(
        "X", {"size": "3", "side": "Sell", "avgPrice": "10", "liqPrice": "", "leverage": "5"}
    )
    assert short is not None and short.side == "short" and short.liquidation_price is None


def test_envelope_time_and_server_time() -> None:
    fake = FakeBybit()
    ex = make_client(fake)
    assert ex.fetch_time() == NOW
    resp = Response(200, {}, b'{"retCode":0,"result":{},"time":5}')
    resp.data = {"retCode": 0, "result": {}, "time": 5}
    assert parse.envelope_time(resp) == 5
    assert ex.adapter.parse_time(resp) == 5


def test_demo_lacks_the_fee_rate_endpoint() -> None:
    fake = FakeBybit()
    ex = make_client(fake, env="demo")
    with pytest.raises(NotSupported) as info:
        ex.fetch_trading_fee("BTC/USDT")
    assert "demo" in info.value.message
    assert fake.sent == []


def test_ohlcv_pages_forward_from_since() -> None:
    fake = FakeBybit()
    minute = 60_000

    def kline(prepared: object) -> Response:
        params = fake.params(prepared)  # type: ignore[arg-type]
        start, end = int(params["start"]), int(params["end"])
        rows = [[str(t), "1", "1", "1", "1", "1", "1"] for t in range(end, start - 1, -minute)]
        return fake.ok({"category": "spot", "symbol": "BTCUSDT", "list": rows})

    fake.on("GET", "/v5/market/kline", kline)
    candles = make_client(fake).fetch_ohlcv("BTC/USDT", "1m", since=0, limit=2500)
    assert len(candles) == 2500
    assert [c.timestamp for c in candles[:3]] == [0, minute, 2 * minute]
    assert candles[-1].timestamp == 2499 * minute
    assert fake.paths().count("GET /v5/market/kline") == 3


def test_pagination_follows_cursors_until_empty() -> None:
    fake = FakeBybit()
    # Keyed by the cursor as Bybit reads it: the query string decoded once.
    pages = {None: ("page_args%3D2%26", ["a", "b"]), "page_args=2&": ("", ["c"])}
    seen: list[str | None] = []

    def realtime(prepared: object) -> Response:
        cursor = fake.params(prepared).get("cursor")  # type: ignore[arg-type]
        seen.append(cursor)
        nxt, ids = pages[cursor]
        items = [{"orderId": i, "symbol": "BTCUSDT", "orderStatus": "New"} for i in ids]
        return fake.ok({"list": items, "nextPageCursor": nxt})

    fake.on("GET", "/v5/order/realtime", realtime)
    orders = make_client(fake).fetch_open_orders("BTC/USDT")
    assert [o.id for o in orders] == ["a", "b", "c"]
    # The cursor comes percent-encoded and goes back as received, never encoded again.
    assert seen == [None, "page_args=2&"]
    sent = [p.url for p in fake.sent if "/v5/order/realtime" in p.url]
    assert sent[1].endswith("&cursor=page_args%3D2%26")
