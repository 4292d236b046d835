"""Binance parsers on the documented shapes, hosts per environment, builders and rate limits."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from adapters.binance import parse
from adapters.binance.adapter import BinanceAdapter, market_kind
from adapters.binance.hosts import SPOT_HOSTS, hosts_for, sapi_unsupported_reason
from adapters.binance.limits import DEFAULT_LIMITS, key, request_weight, weight_key
from adapters.binance.requests import RequestBuilder, wire_value
from exchanges.clock import ServerClock
from exchanges.errors import NotSupported
from exchanges.ratelimit import RateLimiter
from exchanges.symbols import parse_symbol
from exchanges.wire import Response

D = Decimal
BUILD = RequestBuilder(hosts_for("mainnet"))

# -- hosts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "spot", "usdm"),
    [
        ("mainnet", "https://api.binance.com", "https://fapi.binance.com"),
        ("testnet", "https://testnet.binance.vision", "https://demo-fapi.binance.com"),
        ("demo", "https://demo-api.binance.com", "https://demo-fapi.binance.com"),
    ],
)
def test_hosts_per_environment(env: str, spot: str, usdm: str) -> None:
    hosts = hosts_for(env)
    assert (hosts.spot, hosts.usdm) == (spot, usdm)
    adapter = BinanceAdapter(env=env)
    assert adapter.build.new_order("spot", {}).base_url == spot
    assert adapter.build.new_order("usdm", {}).base_url == usdm


def test_alternate_spot_hosts_and_base_url_override() -> None:
    assert set(SPOT_HOSTS) == {"api", "api-gcp", "api1", "api2", "api3", "api4"}
    assert hosts_for("mainnet", "api-gcp").spot == "https://api-gcp.binance.com"
    assert hosts_for("mainnet", "api3").usdm == "https://fapi.binance.com"
    assert hosts_for("testnet", "api1").spot == "https://api1.testnet.binance.vision"
    with pytest.raises(NotSupported):
        hosts_for("demo", "api1")
    with pytest.raises(NotSupported):
        hosts_for("mainnet", "api9")
    adapter = BinanceAdapter(base_url="http://127.0.0.1:9/", options={"host": "api2"})
    assert (adapter.hosts.spot, adapter.hosts.usdm) == ("http://127.0.0.1:9", "http://127.0.0.1:9")
    with pytest.raises(ValueError):
        BinanceAdapter(env="staging")
    with pytest.raises(ValueError):
        BinanceAdapter(options={"wallet": "coinm"})
    with pytest.raises(ValueError):
        BinanceAdapter(recv_window_ms=60_001)


def test_sapi_is_missing_on_testnet_and_demo() -> None:
    assert sapi_unsupported_reason("mainnet") is None
    assert "no /sapi" in (sapi_unsupported_reason("testnet") or "")
    assert sapi_unsupported_reason("demo") is not None
    flow = BinanceAdapter(env="testnet").fetch_key_info()
    with pytest.raises(NotSupported, match="/sapi"):
        next(flow)


def test_symbols_route_to_spot_or_usdm() -> None:
    assert market_kind(parse_symbol("BTC/USDT")) == "spot"
    assert market_kind(parse_symbol("BTC/USDT:USDT")) == "usdm"
    assert market_kind(parse_symbol("ETH/USDC:USDC")) == "usdm"
    assert market_kind(parse_symbol("BTC/USDT:USDT-251226")) == "usdm"
    with pytest.raises(NotSupported, match="COIN-M"):
        market_kind(parse_symbol("BTC/USD:BTC"))
    with pytest.raises(NotSupported, match="options"):
        market_kind(parse_symbol("BTC/USDT:USDT-251226-100000-C"))


# -- builders and weights ---------------------------------------------------------------------


def test_query_and_form_are_built_once_in_order() -> None:
    get = BUILD.call("spot", "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "x": None,
                     "name": "a b+c/é%", "flag": True, "qty": D("1E-8")}, signed=True)  # fmt: skip
    assert get.query == "symbol=BTCUSDT&name=a%20b%2Bc%2F%C3%A9%25&flag=true&qty=0.00000001"
    assert get.body is None and get.signed and not get.write
    post = BUILD.new_order("usdm", {"symbol": "BTCUSDT", "quantity": D("0.010")})
    assert post.body == b"symbol=BTCUSDT&quantity=0.010" and post.query == ""
    assert post.write and post.role == "trade"
    assert post.rate_keys == (
        weight_key("usdm"),
        key("usdm", "orders", "10s"),
        key("usdm", "orders", "1m"),
    )
    tickers = BUILD.ticker_24h("spot", symbols=["BTCUSDT", "ETHUSDT"])
    assert tickers.query == "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D"
    assert tickers.weight == 2
    with pytest.raises(TypeError):
        wire_value(0.5)


@pytest.mark.parametrize(
    ("market", "method", "path", "params", "weight"),
    [
        ("spot", "GET", "/api/v3/exchangeInfo", {}, 20),
        ("spot", "GET", "/api/v3/depth", {"limit": "100"}, 5),
        ("spot", "GET", "/api/v3/depth", {"limit": "101"}, 25),
        ("spot", "GET", "/api/v3/depth", {"limit": "1000"}, 50),
        ("spot", "GET", "/api/v3/depth", {"limit": "5000"}, 250),
        ("spot", "GET", "/api/v3/ticker/24hr", {"symbol": "X"}, 2),
        ("spot", "GET", "/api/v3/ticker/24hr", {}, 80),
        ("spot", "GET", "/api/v3/ticker/24hr", {"symbols": json.dumps(["A"] * 21)}, 40),
        ("spot", "GET", "/api/v3/openOrders", {"symbol": "X"}, 6),
        ("spot", "GET", "/api/v3/openOrders", {}, 80),
        ("spot", "GET", "/api/v3/order", {}, 4),
        ("spot", "GET", "/api/v3/myTrades", {}, 20),
        ("spot", "GET", "/api/v3/myTrades", {"orderId": "1"}, 5),
        ("spot", "GET", "/sapi/v1/account/apiRestrictions", {}, 1),
        ("usdm", "GET", "/fapi/v3/positionRisk", {}, 5),
        ("usdm", "GET", "/fapi/v1/depth", {"limit": "1000"}, 20),
        ("usdm", "GET", "/fapi/v1/openOrders", {}, 40),
    ],
)
def test_request_weights(
    market: str, method: str, path: str, params: dict[str, str], weight: int
) -> None:
    assert request_weight(market, method, path, params) == weight


class Clock(ServerClock):
    def __init__(self, now: int) -> None:
        super().__init__(now_ms=lambda: now)


def test_observe_feeds_used_weight_order_counts_and_exchange_info() -> None:
    adapter = BinanceAdapter()
    now = [100.0]
    limiter = RateLimiter(DEFAULT_LIMITS, monotonic=lambda: now[0])
    clock = Clock(1_700_000_070_000)  # 30 s into a minute
    info = adapter.build.exchange_info("usdm")
    body = json.dumps(
        {
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 1200,
                }
            ]
        }
    ).encode()
    adapter.observe(Response(200, {}, body, info), limiter, clock)
    assert adapter._limits[weight_key("usdm")] == 1200
    request = adapter.build.depth("usdm", "BTCUSDT", 5)
    adapter.observe(Response(200, {"X-MBX-USED-WEIGHT-1M": "1199"}, b"{}", request), limiter, clock)
    assert limiter.blocked_for(weight_key("usdm")) == 0
    adapter.observe(Response(200, {"x-mbx-used-weight-1m": "1200"}, b"{}", request), limiter, clock)
    # Spent: blocked until the next minute starts, 30 s away.
    assert 29 < limiter.blocked_for(weight_key("usdm")) <= 30
    assert limiter.blocked_for(weight_key("spot")) == 0
    order = adapter.build.new_order("spot", {"symbol": "BTCUSDT"})
    adapter.observe(Response(200, {"X-MBX-ORDER-COUNT-1S": "10"}, b"{}", order), limiter, clock)
    assert 0 < limiter.blocked_for(key("spot", "orders", "1s")) <= 1
    limited = Response(429, {"Retry-After": "7"}, b"{}", order)
    adapter.observe(limited, limiter, clock)
    assert 6 < limiter.blocked_for(weight_key("spot")) <= 7


# -- parsers on the documented shapes --------------------------------------------------------

SPOT_SYMBOL = {
    "symbol": "ETHBTC",
    "status": "TRADING",
    "baseAsset": "ETH",
    "quoteAsset": "BTC",
    "isSpotTradingAllowed": True,
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": "0.00000100",
            "maxPrice": "100000.00000000",
            "tickSize": "0.00000100",
        },
        {
            "filterType": "LOT_SIZE",
            "minQty": "0.00100000",
            "maxQty": "100000.00000000",
            "stepSize": "0.00100000",
        },
        {"filterType": "NOTIONAL", "minNotional": "0.00100000", "applyMinToMarket": True},
    ],
}
USDM_SYMBOL = {
    "symbol": "BLZUSDT",
    "pair": "BLZUSDT",
    "contractType": "PERPETUAL",
    "deliveryDate": 4133404800000,
    "status": "TRADING",
    "baseAsset": "BLZ",
    "quoteAsset": "USDT",
    "marginAsset": "USDT",
    "filters": [
        {
            "filterType": "PRICE_FILTER",
            "maxPrice": "300",
            "minPrice": "0.0001",
            "tickSize": "0.0001",
        },
        {"filterType": "LOT_SIZE", "maxQty": "10000000", "minQty": "1", "stepSize": "1"},
        {"filterType": "MIN_NOTIONAL", "notional": "5.0"},
    ],
}


def test_markets() -> None:
    spot = parse.parse_market_spot(SPOT_SYMBOL)
    assert (spot.symbol, spot.id, spot.type, spot.active) == ("ETH/BTC", "ETHBTC", "spot", True)
    assert (spot.price_step, spot.amount_step, spot.min_amount) == (
        D("0.000001"),
        D("0.001"),
        D("0.001"),
    )
    assert spot.min_notional == D("0.001")
    old = {**SPOT_SYMBOL, "filters": [{"filterType": "MIN_NOTIONAL", "minNotional": "0.1"}]}
    assert parse.parse_market_spot(old).min_notional == D("0.1")
    swap = parse.parse_market_usdm(USDM_SYMBOL)
    assert (swap.symbol, swap.type, swap.settle, swap.linear) == (
        "BLZ/USDT:USDT",
        "swap",
        "USDT",
        True,
    )
    assert (swap.price_step, swap.amount_step, swap.min_notional, swap.expiry) == (
        D("0.0001"),
        D(1),
        D(5),
        None,
    )
    dated = parse.parse_market_usdm(
        {**USDM_SYMBOL, "symbol": "BTCUSDT_251226", "baseAsset": "BTC",
         "contractType": "CURRENT_QUARTER", "deliveryDate": 1766736000000}
    )  # fmt: skip
    assert (dated.symbol, dated.type, dated.expiry) == (
        "BTC/USDT:USDT-251226",
        "future",
        1766736000000,
    )


def test_spot_order_query_shape() -> None:
    item = {
        "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1",
        "price": "0.1", "origQty": "1.0", "executedQty": "0.4", "cummulativeQuoteQty": "0.04",
        "status": "PARTIALLY_FILLED", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY",
        "stopPrice": "0.0", "icebergQty": "0.0", "time": 1499827319559,
        "updateTime": 1499827319560, "isWorking": True,
    }  # fmt: skip
    order = parse.parse_order("LTC/BTC", item)
    assert (order.id, order.client_order_id, order.status, order.side) == (
        "1",
        "myOrder1",
        "open",
        "buy",
    )
    assert (order.price, order.amount, order.filled, order.remaining) == (
        D("0.1"),
        D(1),
        D("0.4"),
        D("0.6"),
    )
    assert (order.average, order.cost) == (D("0.1"), D("0.04"))
    assert (order.timestamp, order.updated, order.post_only) == (
        1499827319559,
        1499827319560,
        False,
    )
    maker = parse.parse_order("LTC/BTC", {**item, "type": "LIMIT_MAKER", "status": "EXPIRED"})
    # Ended by its time in force at once: canceled, as Bybit and OKX say (expired is GTD's).
    assert (maker.post_only, maker.time_in_force, maker.status, maker.remaining) == (
        True,
        "PO",
        "canceled",
        0,
    )
    gtd = {**item, "timeInForce": "GTD", "goodTillDate": 1499830000000, "status": "EXPIRED"}
    lapsed = parse.parse_order("LTC/BTC", gtd)
    assert (lapsed.time_in_force, lapsed.good_till, lapsed.status) == (
        "GTD",
        1499830000000,
        "expired",
    )


def test_cancel_answer_names_the_order_by_orig_client_order_id() -> None:
    item = {
        "symbol": "LTCBTC", "origClientOrderId": "myOrder1", "orderId": 4, "orderListId": -1,
        "clientOrderId": "cancelMyOrder1", "transactTime": 1684804350068, "price": "2.00000000",
        "origQty": "1.00000000", "executedQty": "0.00000000", "cummulativeQuoteQty": "0.00000000",
        "status": "CANCELED", "timeInForce": "GTC", "type": "LIMIT", "side": "BUY",
    }  # fmt: skip
    order = parse.parse_order("LTC/BTC", item)
    assert (order.client_order_id, order.status, order.timestamp) == (
        "myOrder1",
        "canceled",
        1684804350068,
    )


def test_usdm_order_shape() -> None:
    item = {
        "avgPrice": "9000.5", "clientOrderId": "abc", "cumQuote": "18001", "executedQty": "2",
        "orderId": 1917641, "origQty": "2", "origType": "LIMIT", "price": "9001",
        "reduceOnly": True,
        "side": "SELL", "positionSide": "BOTH", "status": "FILLED", "symbol": "BTCUSDT",
        "time": 1579276756075, "timeInForce": "GTX", "type": "LIMIT", "updateTime": 1579276756099,
    }  # fmt: skip
    order = parse.parse_order("BTC/USDT:USDT", item)
    assert (order.status, order.average, order.reduce_only, order.post_only) == (
        "closed",
        D("9000.5"),
        True,
        True,
    )
    assert (order.remaining, order.updated) == (0, 1579276756099)
    market = parse.parse_order("BTC/USDT:USDT", {**item, "type": "MARKET", "price": "0"})
    assert market.price is None and market.type == "market"


def test_fills_positions_balances_fees_and_key_info() -> None:
    spot = parse.parse_fill("BNB/BTC", {
        "symbol": "BNBBTC", "id": 28457, "orderId": 100234, "orderListId": -1,
        "price": "4.00000100",
        "qty": "12.00000000", "quoteQty": "48.000012", "commission": "10.10000000",
        "commissionAsset": "BNB", "time": 1499865549590, "isBuyer": True, "isMaker": False,
    })  # fmt: skip
    assert (spot.id, spot.order_id, spot.side, spot.is_maker, spot.fee) == (
        "28457",
        "100234",
        "buy",
        False,
        D("10.1"),
    )
    fut = parse.parse_fill("BTC/USDT:USDT", {
        "buyer": False, "commission": "-0.07819010", "commissionAsset": "USDT", "id": 698759,
        "maker": False, "orderId": 25851813, "price": "7819.01", "qty": "0.002",
        "quoteQty": "15.63802",
        "realizedPnl": "-0.91539999", "side": "SELL", "symbol": "BTCUSDT", "time": 1569514978020,
    })  # fmt: skip
    assert (fut.side, fut.fee, fut.fee_currency, fut.client_order_id) == (
        "sell",
        D("-0.07819010"),
        "USDT",
        None,
    )
    position = parse.parse_position("ADA/USDT:USDT", {
        "symbol": "ADAUSDT", "positionSide": "BOTH", "positionAmt": "-30", "entryPrice": "0.385",
        "markPrice": "0.41047590", "unRealizedProfit": "-0.75142770", "liquidationPrice": "0",
        "notional": "-12.31427700", "initialMargin": "0.61571385",
        "positionInitialMargin": "0.61571385", "updateTime": 1720736417660,
    })  # fmt: skip
    assert position is not None
    assert (position.side, position.size, position.liquidation_price, position.leverage) == (
        "short",
        D(30),
        None,
        D(20),
    )
    assert parse.parse_position("X", {"positionAmt": "0"}) is None
    balances = parse.parse_balances_spot(
        {"balances": [{"asset": "BTC", "free": "1.5", "locked": "0.5"}]}
    )
    assert (balances["BTC"].free, balances["BTC"].used, balances["BTC"].total) == (
        D("1.5"),
        D("0.5"),
        D(2),
    )
    usdm = parse.parse_balances_usdm(
        {"assets": [{"asset": "USDT", "walletBalance": "23.7", "availableBalance": "20"}]}
    )
    assert (usdm["USDT"].free, usdm["USDT"].used) == (D(20), D("3.7"))
    assert parse.parse_trading_fee(
        "BTC/USDT", {"standardCommission": {"maker": "0.001", "taker": "0.002"}}
    ).taker == D("0.002")
    assert parse.parse_trading_fee(
        "BTC/USDT:USDT", {"makerCommissionRate": "0.0002", "takerCommissionRate": "0.0004"}
    ).maker == D("0.0002")
    info = parse.parse_key_info({
        "ipRestrict": False, "createTime": 1698645219000, "enableReading": True,
        "enableWithdrawals": False, "enableInternalTransfer": False, "enableMargin": False,
        "enableFutures": False, "permitsUniversalTransfer": False, "enableVanillaOptions": False,
        "enableFixApiTrade": False, "enableFixReadOnly": True, "enableSpotAndMarginTrading": False,
        "enablePortfolioMarginTrading": False,
    })  # fmt: skip
    assert info.read_only and info.permissions == {"read", "binance:fix_read"}
    assert (info.expires_at, info.created_at, info.ip_whitelist) == (None, 1698645219000, ())
    trading = parse.parse_key_info(
        {"ipRestrict": True, "enableSpotAndMarginTrading": True, "enableWithdrawals": True,
         "tradingAuthorityExpirationTime": 1700000000000}
    )  # fmt: skip
    assert trading.can_trade and trading.can_withdraw and trading.expires_at == 1700000000000
    assert trading.ip_whitelist == () and trading.ip_restricted is True


def test_market_data_shapes() -> None:
    book = parse.parse_order_book("BTC/USDT:USDT", {
        "lastUpdateId": 1027024, "E": 1589436922972, "T": 1589436922959,
        "bids": [["4.00000000", "431.00000000"], ["3.9", "1"]],
        "asks": [["4.00000200", "12.00000000"]],
    }, limit=1)  # fmt: skip
    assert (
        book.bids == ((D(4), D(431)),)
        and book.timestamp == 1589436922959
        and book.sequence == 1027024
    )
    raw = {"id": 28457, "price": "4.1", "qty": "12", "time": 1499865549590, "isBuyerMaker": True}
    trade = parse.parse_trade("BTC/USDT", raw)
    assert (trade.side, trade.id) == ("sell", "28457")
    candles = parse.parse_candles([
        [1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100", "148976.11427815",
         1499644799999, "2434.19055334", 308, "1756.87402397", "28.46694368", "0"],
    ])  # fmt: skip
    assert candles[0].quote_volume == D("2434.19055334") and candles[0].high == D("0.8")
    day = {"symbol": "BTCUSDT", "lastPrice": "6000.01", "closeTime": 5}
    top = {"bidPrice": "6000", "askPrice": "6000.02", "bidQty": "1", "askQty": "2"}
    ticker = parse.parse_ticker("BTC/USDT:USDT", day, top)
    assert (ticker.bid, ticker.ask, ticker.last, ticker.timestamp) == (
        D(6000),
        D("6000.02"),
        D("6000.01"),
        5,
    )
