"""OKX builders, parsers and instrument-id mapping on the documented response shapes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.okx import parse
from adapters.okx.adapter import OkxAdapter
from adapters.okx.hosts import REGIONS, check_environment, rest_host
from adapters.okx.limits import limit_for, route_key
from adapters.okx.requests import RequestBuilder, body_bytes
from exchanges.errors import BadResponse, BadSymbol, NotSupported
from exchanges.symbols import parse_symbol

# -- instrument ids <-> unified symbols ----------------------------------------------------

PAIRS = [
    ("BTC-USDT", "BTC/USDT"),
    ("BTC-USDT-SWAP", "BTC/USDT:USDT"),
    ("BTC-USD-SWAP", "BTC/USD:BTC"),
    ("BTC-USDC-SWAP", "BTC/USDC:USDC"),
    ("BTC-USD-251226", "BTC/USD:BTC-251226"),
    ("BTC-USDT-251226", "BTC/USDT:USDT-251226"),
    ("BTC-USD-251226-100000-C", "BTC/USD:BTC-251226-100000-C"),
    ("ETH-USD-260327-2500-P", "ETH/USD:ETH-260327-2500-P"),
]


@pytest.mark.parametrize(("inst_id", "symbol"), PAIRS)
def test_inst_id_round_trip(inst_id: str, symbol: str) -> None:
    assert parse.symbol_of(inst_id) == symbol
    assert parse.inst_id_of(parse_symbol(symbol)) == inst_id


CODES = st.from_regex(r"[A-Z][A-Z0-9]{1,5}", fullmatch=True)
DATES = st.dates().filter(lambda d: 2000 <= d.year <= 2099).map(lambda d: d.strftime("%y%m%d"))


@settings(max_examples=200, deadline=None)
@given(
    CODES,
    st.sampled_from(["USDT", "USDC", "USD"]),
    st.one_of(st.none(), DATES),
    st.one_of(st.none(), st.integers(1, 10**7)),
    st.sampled_from(["C", "P"]),
)
def test_generated_symbols_round_trip(
    base: str, quote: str, expiry: str | None, strike: int | None, right: str
) -> None:
    settle = base if quote == "USD" else quote
    texts = [f"{base}/{quote}", f"{base}/{quote}:{settle}"]
    if expiry:
        texts.append(f"{base}/{quote}:{settle}-{expiry}")
        if strike:
            texts.append(f"{base}/{quote}:{settle}-{expiry}-{strike}-{right}")
    for text in texts:
        inst_id = parse.inst_id_of(parse_symbol(text))
        assert parse.symbol_of(inst_id) == text


@pytest.mark.parametrize("bad", ["BTC", "BTC--SWAP", "BTC-USD-1-2", ""])
def test_not_an_instrument_id(bad: str) -> None:
    with pytest.raises(BadSymbol):
        parse.symbol_of(bad)


# -- markets (/api/v5/public/instruments, documented fields) --------------------------------

SPOT = {
    "instType": "SPOT",
    "instId": "BTC-USDT",
    "uly": "",
    "instFamily": "",
    "baseCcy": "BTC",
    "quoteCcy": "USDT",
    "settleCcy": "",
    "ctVal": "",
    "ctMult": "",
    "ctValCcy": "",
    "optType": "",
    "stk": "",
    "listTime": "1606468572000",
    "expTime": "",
    "lever": "10",
    "tickSz": "0.1",
    "lotSz": "0.00000001",
    "minSz": "0.00001",
    "ctType": "",
    "state": "live",
    "maxLmtSz": "9999999999",
    "maxMktSz": "1000000",
}
LINEAR_SWAP = {
    **SPOT,
    "instType": "SWAP",
    "instId": "BTC-USDT-SWAP",
    "uly": "BTC-USDT",
    "instFamily": "BTC-USDT",
    "baseCcy": "",
    "quoteCcy": "",
    "settleCcy": "USDT",
    "ctVal": "0.01",
    "ctMult": "1",
    "ctValCcy": "BTC",
    "ctType": "linear",
    "lotSz": "0.01",
    "minSz": "0.01",
    "maxLmtSz": "100000000",
}
INVERSE_SWAP = {
    **LINEAR_SWAP,
    "instId": "BTC-USD-SWAP",
    "uly": "BTC-USD",
    "instFamily": "BTC-USD",
    "settleCcy": "BTC",
    "ctVal": "100",
    "ctValCcy": "USD",
    "ctType": "inverse",
    "lotSz": "1",
    "minSz": "1",
}
FUTURE = {
    **INVERSE_SWAP,
    "instType": "FUTURES",
    "instId": "BTC-USD-251226",
    "expTime": "1766736000000",
    "alias": "quarter",
}
OPTION = {
    **INVERSE_SWAP,
    "instType": "OPTION",
    "instId": "BTC-USD-251226-100000-C",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "ctType": "",
    "optType": "C",
    "stk": "100000",
    "expTime": "1766736000000",
    "tickSz": "0.0005",
}


def test_spot_market() -> None:
    m = parse.parse_market(SPOT)
    assert (m.symbol, m.id, m.type, m.base, m.quote, m.settle) == (
        "BTC/USDT",
        "BTC-USDT",
        "spot",
        "BTC",
        "USDT",
        None,
    )
    assert m.contract_size is None and m.price_step == Decimal("0.1")
    assert (m.amount_step, m.min_amount, m.max_amount) == (
        Decimal("0.00000001"),
        Decimal("0.00001"),
        Decimal("9999999999"),
    )
    assert m.active and m.category == "SPOT"


def test_swap_future_and_option_markets() -> None:
    linear = parse.parse_market(LINEAR_SWAP)
    assert (linear.symbol, linear.type, linear.linear, linear.contract_size) == (
        "BTC/USDT:USDT",
        "swap",
        True,
        Decimal("0.01"),
    )
    inverse = parse.parse_market(INVERSE_SWAP)
    assert (inverse.symbol, inverse.inverse, inverse.settle, inverse.contract_size) == (
        "BTC/USD:BTC",
        True,
        "BTC",
        Decimal("100"),
    )
    future = parse.parse_market(FUTURE)
    assert (future.symbol, future.type, future.expiry) == (
        "BTC/USD:BTC-251226",
        "future",
        1766736000000,
    )
    option = parse.parse_market(OPTION)
    assert option.symbol == "BTC/USD:BTC-251226-100000-C"
    assert (option.type, option.strike, option.option_type) == (
        "option",
        Decimal(100000),
        "call",
    )
    assert not parse.parse_market({**SPOT, "state": "suspend"}).active
    with pytest.raises(BadResponse):
        parse.parse_market({**SPOT, "instType": "WEIRD"})


# -- market data ------------------------------------------------------------------------------

TICKER = {
    "instType": "SWAP",
    "instId": "BTC-USD-SWAP",
    "last": "9999.99",
    "lastSz": "1",
    "askPx": "9999.99",
    "askSz": "11",
    "bidPx": "8888.88",
    "bidSz": "5",
    "open24h": "9000",
    "high24h": "10000",
    "low24h": "8888.88",
    "volCcy24h": "2222",
    "vol24h": "2222",
    "sodUtc0": "0.1",
    "sodUtc8": "0.1",
    "ts": "1597026383085",
}


def test_ticker_volumes_by_market_type() -> None:
    spot = parse.parse_ticker(
        parse.parse_market(SPOT),
        {**TICKER, "instId": "BTC-USDT", "vol24h": "3", "volCcy24h": "30000"},
    )
    assert (spot.base_volume, spot.quote_volume) == (Decimal(3), Decimal(30000))
    inverse = parse.parse_ticker(parse.parse_market(INVERSE_SWAP), TICKER)
    # Derivatives: volCcy24h is base currency, vol24h contracts (100 USD each here).
    assert (inverse.base_volume, inverse.quote_volume) == (Decimal(2222), Decimal(222200))
    assert (inverse.bid, inverse.ask, inverse.timestamp) == (
        Decimal("8888.88"),
        Decimal("9999.99"),
        1597026383085,
    )
    linear = parse.parse_ticker(parse.parse_market(LINEAR_SWAP), TICKER)
    assert linear.quote_volume is None and linear.open == Decimal(9000)


def test_order_book_trades_and_candles() -> None:
    book = parse.parse_order_book(
        "BTC/USDT",
        {
            "asks": [["41006.8", "0.60038921", "0", "1"]],
            "bids": [["41006.3", "0.30178218", "0", "2"]],
            "ts": "1629966436396",
        },
    )
    assert book.best_ask == (Decimal("41006.8"), Decimal("0.60038921"))
    assert book.best_bid == (Decimal("41006.3"), Decimal("0.30178218"))
    assert book.timestamp == 1629966436396 and book.sequence is None
    with pytest.raises(BadResponse):
        parse.parse_order_book("X", {"asks": [["1"]], "bids": []})
    trade = parse.parse_trade(
        "BTC/USDT",
        {
            "instId": "BTC-USDT",
            "side": "sell",
            "sz": "0.00001",
            "px": "29963.2",
            "tradeId": "242720720",
            "ts": "1654161646974",
        },
    )
    assert (trade.id, trade.side, trade.price, trade.amount) == (
        "242720720",
        "sell",
        Decimal("29963.2"),
        Decimal("0.00001"),
    )
    rows = [
        [
            "1597026383085",
            "3.721",
            "3.743",
            "3.677",
            "3.708",
            "8422410",
            "22698348.04828491",
            "12698348.04828491",
            "0",
        ],
        [
            "1597026383000",
            "3.731",
            "3.799",
            "3.494",
            "3.72",
            "24912403",
            "67632347.24399722",
            "37632347.24399722",
            "1",
        ],
    ]
    spot = parse.parse_candles(parse.parse_market(SPOT), rows)
    assert [c.timestamp for c in spot] == [1597026383000, 1597026383085]
    assert spot[0].volume == Decimal(24912403)
    assert spot[0].quote_volume == Decimal("37632347.24399722")
    swap = parse.parse_candles(parse.parse_market(LINEAR_SWAP), rows)
    assert swap[0].volume == Decimal("67632347.24399722")  # volCcy: base, not contracts


# -- account ----------------------------------------------------------------------------------


def test_balances_free_plus_used_is_total() -> None:
    balances = parse.parse_balances(
        {
            "totalEq": "41624.32",
            "uTime": "1705474164160",
            "details": [
                {
                    "ccy": "USDT",
                    "eq": "4992.89",
                    "cashBal": "4850.43",
                    "availBal": "4834.32",
                    "frozenBal": "16.11",
                    "upl": "142.46",
                    "uTime": "1705449605015",
                },
                {"ccy": "BTC", "eq": "1", "cashBal": "1", "availBal": "1", "frozenBal": "0"},
            ],
        }
    )
    usdt = balances["USDT"]
    assert (usdt.total, usdt.used, usdt.free) == (
        Decimal("4850.43"),
        Decimal("16.11"),
        Decimal("4834.32"),
    )
    assert balances.timestamp == 1705474164160 and balances["BTC"].free == 1


@pytest.mark.parametrize(
    ("perm", "scopes", "read_only"),
    [
        (
            "read_only,withdraw,trade",
            {"read", "withdraw", "spot_trade", "derivatives_trade", "options_trade"},
            False,
        ),
        ("trade,read_only", {"read", "spot_trade", "derivatives_trade", "options_trade"}, False),
        ("read_only", {"read"}, True),
        ("withdraw,read_only", {"read", "withdraw"}, False),
        (
            " read_only , trade ",
            {"read", "spot_trade", "derivatives_trade", "options_trade"},
            False,
        ),
    ],
)
def test_key_info_perm_is_a_set(perm: str, scopes: set[str], read_only: bool) -> None:
    info = parse.parse_key_info({"perm": perm, "ip": "1.2.3.4,5.6.7.8", "label": "bot"})
    assert info.permissions == frozenset(scopes) and info.read_only is read_only
    assert info.ip_whitelist == ("1.2.3.4", "5.6.7.8") and info.label == "bot"
    assert info.can_withdraw == ("withdraw" in scopes)
    assert info.bound_to_ips and info.ip_restricted
    unbound = parse.parse_key_info({"perm": perm, "ip": ""})
    assert unbound.ip_whitelist == () and not unbound.bound_to_ips


def test_trading_fees_flip_okx_signs() -> None:
    spot = parse.parse_trading_fee(
        parse.parse_market(SPOT), {"maker": "-0.0008", "taker": "-0.001"}
    )
    assert (spot.maker, spot.taker) == (Decimal("0.0008"), Decimal("0.001"))
    item = {"maker": "-0.0005", "taker": "-0.0007", "makerU": "-0.0002", "takerU": "-0.0005"}
    linear = parse.parse_trading_fee(parse.parse_market(LINEAR_SWAP), item)
    assert (linear.maker, linear.taker) == (Decimal("0.0002"), Decimal("0.0005"))
    inverse = parse.parse_trading_fee(parse.parse_market(INVERSE_SWAP), item)
    assert (inverse.maker, inverse.taker) == (Decimal("0.0005"), Decimal("0.0007"))


# -- orders, fills, positions ---------------------------------------------------------------

ORDER = {
    "instType": "SWAP",
    "instId": "BTC-USDT-SWAP",
    "tgtCcy": "",
    "ordId": "312269865356374016",
    "clOrdId": "b1",
    "px": "999",
    "sz": "3",
    "ordType": "post_only",
    "side": "buy",
    "posSide": "net",
    "tdMode": "cross",
    "accFillSz": "1",
    "avgPx": "998",
    "state": "partially_filled",
    "fee": "-0.0001",
    "feeCcy": "USDT",
    "reduceOnly": "false",
    "uTime": "1597026383085",
    "cTime": "1597026383000",
}


def test_order_states_types_and_fees() -> None:
    order = parse.parse_order("BTC/USDT:USDT", ORDER, spot=False)
    assert (order.id, order.client_order_id, order.status, order.type) == (
        "312269865356374016",
        "b1",
        "open",
        "limit",
    )
    assert (order.time_in_force, order.post_only, order.reduce_only) == ("PO", True, False)
    assert (order.amount, order.filled, order.remaining) == (Decimal(3), Decimal(1), Decimal(2))
    assert order.fee == Decimal("0.0001") and order.cost is None
    assert (order.timestamp, order.updated) == (1597026383000, 1597026383085)
    done = parse.parse_order("X", {**ORDER, "state": "canceled", "ordType": "ioc"}, spot=False)
    assert (done.status, done.remaining, done.time_in_force) == ("canceled", 0, "IOC")
    market = parse.parse_order(
        "BTC/USDT",
        {
            **ORDER,
            "ordType": "market",
            "px": "",
            "state": "filled",
            "tgtCcy": "quote_ccy",
            "accFillSz": "0.5",
            "avgPx": "100",
        },
        spot=True,
    )
    assert (market.type, market.price, market.amount, market.cost) == (
        "market",
        None,
        None,
        Decimal("50.0"),
    )
    assert parse.parse_order("X", {**ORDER, "state": "mmp_canceled"}, spot=False).status == (
        "canceled"
    )


def test_fill_and_positions() -> None:
    fill = parse.parse_fill(
        "BTC/USDT",
        {
            "instId": "BTC-USDT",
            "tradeId": "123",
            "ordId": "9",
            "clOrdId": "",
            "billId": "1",
            "side": "buy",
            "fillPx": "100",
            "fillSz": "0.5",
            "execType": "M",
            "feeCcy": "BTC",
            "fee": "-0.0005",
            "ts": "1",
            "fillTime": "2",
        },
    )
    assert (fill.id, fill.order_id, fill.client_order_id, fill.is_maker) == ("123", "9", None, True)
    assert (fill.fee, fill.timestamp) == (Decimal("0.0005"), 2)
    net_short = parse.parse_position(
        "BTC/USDT:USDT",
        {
            "instId": "BTC-USDT-SWAP",
            "posSide": "net",
            "pos": "-2.5",
            "avgPx": "100",
            "markPx": "101",
            "liqPx": "",
            "upl": "-2.5",
            "lever": "5",
            "uTime": "7",
        },
    )
    assert net_short is not None
    assert (net_short.side, net_short.size, net_short.liquidation_price) == (
        "short",
        Decimal("2.5"),
        None,
    )
    hedged = parse.parse_position("X", {"posSide": "short", "pos": "3", "avgPx": "1"})
    assert hedged is not None and (hedged.side, hedged.size) == ("short", Decimal(3))
    assert parse.parse_position("X", {"posSide": "net", "pos": "0"}) is None


# -- request building, hosts, limits ----------------------------------------------------------


def test_query_body_headers_and_rate_keys() -> None:
    demo = RequestBuilder("https://h", demo=True)
    request = demo.get(
        "/api/v5/trade/orders-pending",
        {"instType": "SPOT", "after": None, "x": "a b,c/é", "n": Decimal("1E-8"), "f": True},
        signed=True,
    )
    assert request.query == "instType=SPOT&x=a%20b%2Cc%2F%C3%A9&n=0.00000001&f=true"
    assert request.headers == {"x-simulated-trading": "1"}
    assert request.rate_keys == ("okx:GET /api/v5/trade/orders-pending",)
    live = RequestBuilder("https://h")
    assert live.get("/api/v5/public/time").headers is None
    order = live.place_order({"instId": "BTC-USDT", "px": None, "reduceOnly": True}, "BTC-USDT")
    assert order.body == b'{"instId":"BTC-USDT","reduceOnly":true}'
    assert order.headers == {"Content-Type": "application/json"}
    assert order.write and order.signed and order.role == "trade"
    assert order.rate_keys == ("okx:POST /api/v5/trade/order:BTC-USDT",)
    batch = live.cancel_batch([{"instId": "A-B", "ordId": "1"}] * 3)
    assert batch.weight == 3 and batch.body is not None and batch.body.startswith(b"[{")
    with pytest.raises(TypeError, match="float"):
        body_bytes({"sz": 0.1})


def test_limits() -> None:
    per_inst = route_key("POST /api/v5/trade/order", "BTC-USDT")
    assert per_inst == "okx:POST /api/v5/trade/order:BTC-USDT"
    limit = limit_for(per_inst)
    assert limit is not None and (limit.limit, limit.period) == (60, 2.2)
    config = limit_for(route_key("GET /api/v5/account/config"))
    assert config is not None and config.limit == 5
    assert route_key("GET /api/v5/account/config", "X") == "okx:GET /api/v5/account/config"
    assert limit_for("okx:GET /api/v5/nothing") is None


def test_hosts_and_environments() -> None:
    assert rest_host() == "https://www.okx.com"
    assert rest_host("eea") == "https://eea.okx.com" == REGIONS["eea"]
    assert rest_host("us") == "https://us.okx.com"
    assert rest_host("aws") == "https://aws.okx.com"
    with pytest.raises(NotSupported):
        rest_host("mars")
    with pytest.raises(ValueError, match="env='demo'"):
        check_environment("testnet")
    with pytest.raises(ValueError, match="testnet"):
        OkxAdapter(env="testnet")
    demo = OkxAdapter(env="demo", options={"region": "eea"})
    assert demo.base_url == "https://eea.okx.com" and demo.env_prefix() == "OKX_DEMO"
    time_request = demo.time_request()
    assert time_request.headers == {"x-simulated-trading": "1"}
    assert OkxAdapter().env_prefix() == "OKX"
