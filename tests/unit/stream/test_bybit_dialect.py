"""Bybit's stream dialect without sockets: hosts, frames, auth, limits, decoders."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pybit._http_manager import generate_signature

import exchanges
from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import (
    AUTH_EXPIRY_MS,
    BalanceDecoder,
    BybitDialect,
    PositionDecoder,
    TickerDecoder,
)
from exchanges.errors import (
    ApiKeyExpired,
    AuthenticationError,
    BadRequest,
    BadSymbol,
    InvalidApiKey,
    InvalidSignature,
    IpNotAllowed,
    NotSupported,
)
from exchanges.models import Balance, Balances, Market

D = Decimal
CREDS = exchanges.Credentials("dialect-key-123456", "dialect-secret-abcdef")


def dialect(env: str = "mainnet", base_url: str | None = None) -> BybitDialect:
    return BybitDialect(BybitAdapter(env=env, base_url=base_url))


def market(symbol: str, native: str, category: str, base: str = "BTC") -> Market:
    return Market(
        symbol=symbol, id=native, type="spot" if category == "spot" else "swap", base=base,
        quote="USDT", settle=None, linear=None, inverse=None, contract_size=None,
        price_step=None, amount_step=None, min_amount=None, max_amount=None, min_notional=None,
        active=True, category=category,
    )  # fmt: skip


def test_hosts_per_environment_and_base_url() -> None:
    assert dialect().url("public/linear") == "wss://stream.bybit.com/v5/public/linear"
    assert dialect().url("private") == "wss://stream.bybit.com/v5/private"
    testnet = dialect("testnet")
    assert testnet.url("public/spot") == "wss://stream-testnet.bybit.com/v5/public/spot"
    assert testnet.url("private") == "wss://stream-testnet.bybit.com/v5/private"
    # Demo has private streams only; its public data is mainnet's.
    demo = dialect("demo")
    assert demo.url("public/inverse") == "wss://stream.bybit.com/v5/public/inverse"
    assert demo.url("private") == "wss://stream-demo.bybit.com/v5/private"
    local = dialect(base_url="http://127.0.0.1:8080/")
    assert local.url("public/option") == "ws://127.0.0.1:8080/v5/public/option"
    assert local.url("private") == "ws://127.0.0.1:8080/v5/private"
    assert dialect(base_url="https://proxy.example").url("private") == (
        "wss://proxy.example/v5/private"
    )


def test_auth_frame_signs_like_pybit() -> None:
    frame = json.loads(dialect().auth(CREDS, 1_700_000_000_000))
    assert frame["op"] == "auth"
    key, expires, sign = frame["args"]
    assert key == CREDS.api_key and expires == 1_700_000_000_000 + AUTH_EXPIRY_MS
    assert sign == generate_signature(False, "dialect-secret-abcdef", f"GET/realtime{expires}")


def test_frames_and_controls() -> None:
    d = dialect()
    assert json.loads(d.subscribe(["tickers.BTCUSDT"], "7")) == {
        "req_id": "7",
        "op": "subscribe",
        "args": ["tickers.BTCUSDT"],
    }
    assert json.loads(d.unsubscribe(["a"], "8"))["op"] == "unsubscribe"
    assert json.loads(d.ping()) == {"op": "ping"}
    assert d.topic_of({"topic": "order", "data": []}) == "order"
    assert d.topic_of({"op": "pong"}) is None and d.topic_of([1]) is None
    public_pong = {"success": True, "ret_msg": "pong", "conn_id": "x", "op": "ping"}
    private_pong = {"req_id": "1", "op": "pong", "args": ["1"], "conn_id": "y"}
    assert d.control(public_pong).op == "pong" and d.control(private_pong).op == "pong"
    ack = d.control(
        {"success": False, "ret_msg": "args size >10", "req_id": "3", "op": "subscribe"}
    )
    assert (ack.op, ack.ok, ack.req_id, ack.text) == ("subscribe", False, "3", "args size >10")
    auth = d.control({"success": True, "ret_msg": "", "op": "auth", "conn_id": "z"})
    assert auth.op == "auth" and auth.ok


@pytest.mark.parametrize(
    ("text", "cls", "clock"),
    [
        ("Error sign, please check your signature generation algorithm.", InvalidSignature, False),
        ("API key is invalid.", InvalidApiKey, False),
        ("Your api key has expired.", ApiKeyExpired, False),
        ("Unmatched IP, please check your API key's bound IP addresses.", IpNotAllowed, False),
        ("Params Error", AuthenticationError, True),
    ],
)
def test_auth_refusals_become_authentication_errors_with_hints(
    text: str, cls: type[AuthenticationError], clock: bool
) -> None:
    err, clock_may_help = dialect("testnet").auth_error(f"{text} {CREDS.api_key}", CREDS)
    assert type(err) is cls and isinstance(err, AuthenticationError)
    assert clock_may_help is clock
    assert err.hint and err.endpoint == "WS /v5/private" and err.exchange == "bybit"
    assert CREDS.api_key not in str(err) and CREDS.masked_key in str(err)


def test_per_connection_limits() -> None:
    d = dialect()
    topics = [f"tickers.SYM{i}USDT" for i in range(25)]
    assert [len(b) for b in d.batches("public/spot", topics)] == [10, 10, 5]
    assert [len(b) for b in d.batches("public/linear", topics)] == [25]
    assert d.fits("public/linear", topics, "tickers.BTCUSDT")
    many = [f"orderbook.50.SYMBOL{i:05d}USDT" for i in range(700)]  # ~21,700 characters
    assert not d.fits("public/linear", many, "tickers.BTCUSDT")
    assert d.fits("private", many, "order")
    assert not d.fits("public/option", ["x"] * 2000, "y")


def test_feed_specs() -> None:
    d = dialect()
    perp = market("BTC/USDT:USDT", "BTCUSDT", "linear")
    book = d.order_book(perp, 7)
    assert (book.group, book.topic, book.depth, book.mode) == (
        "public/linear",
        "orderbook.50.BTCUSDT",
        50,
        "book",
    )
    assert d.order_book(perp, 1).topic == "orderbook.1.BTCUSDT"
    assert d.order_book(perp, 1000).topic == "orderbook.1000.BTCUSDT"
    with pytest.raises(BadRequest, match="1000"):
        d.order_book(perp, 1001)
    option = market("BTC/USDT:USDT-261225-100000-C", "BTC-25DEC26-100000-C", "option")
    assert d.order_book(option, 30).topic == "orderbook.100.BTC-25DEC26-100000-C"
    assert d.trades(option).topic == "publicTrade.BTC"
    with pytest.raises(NotSupported):
        d.ohlcv(option, "1m")
    assert d.ohlcv(perp, "1h").topic == "kline.60.BTCUSDT"
    with pytest.raises(BadRequest, match="timeframe"):
        d.ohlcv(perp, "7m")
    assert d.ticker(perp).topic == "tickers.BTCUSDT"
    assert [s.topic for s in (d.orders(), d.my_trades(), d.positions(), d.balance())] == [
        "order",
        "execution",
        "position",
        "wallet",
    ]
    assert d.subscribe_error("error:handler not found,topic:x", ["x"]).__class__ is BadSymbol


def test_ticker_deltas_merge_into_the_snapshot() -> None:
    decoder = TickerDecoder("BTC/USDT:USDT", "linear")
    assert list(decoder.decode({"type": "delta", "data": {"lastPrice": "1"}})) == []
    snap = {"symbol": "BTCUSDT", "lastPrice": "100", "bid1Price": "99", "ask1Price": "101"}
    (first,) = decoder.decode({"type": "snapshot", "ts": 5, "data": snap})
    (second,) = decoder.decode({"type": "delta", "ts": 6, "data": {"bid1Price": "99.5"}})
    assert (first.bid, first.last, first.timestamp) == (D(99), D(100), 5)
    assert (second.bid, second.ask, second.last, second.timestamp) == (D("99.5"), D(101), D(100), 6)
    assert first.raw["bid1Price"] == "99"  # earlier values are not changed by later deltas
    decoder.reset()
    assert list(decoder.decode({"type": "delta", "data": {"lastPrice": "1"}})) == []


def _position_item(side: str, size: str, idx: int = 0) -> dict[str, Any]:
    return {
        "category": "linear", "symbol": "BTCUSDT", "side": side, "size": size,
        "entryPrice": "65000", "markPrice": "65010", "liqPrice": "", "unrealisedPnl": "0.1",
        "leverage": "10", "positionIdx": idx, "updatedTime": "5",
    }  # fmt: skip


def test_positions_merge_by_symbol_and_index() -> None:
    d = dialect()
    d.adapter.markets["BTC/USDT:USDT"] = market("BTC/USDT:USDT", "BTCUSDT", "linear")
    decoder = PositionDecoder(d)
    decoder.seed([])
    (state,) = decoder.decode({"data": [_position_item("Buy", "0.5", 1)]})
    assert [(p.symbol, p.side, p.size, p.entry_price) for p in state] == [
        ("BTC/USDT:USDT", "long", D("0.5"), D(65000))
    ]
    (state,) = decoder.decode({"data": [_position_item("Sell", "0.2", 2)]})
    assert [p.side for p in state] == ["long", "short"]
    (state,) = decoder.decode({"data": [_position_item("", "0", 1)]})
    assert [p.side for p in state] == ["short"]


def test_balances_merge_pushed_coins_into_the_seed() -> None:
    decoder = BalanceDecoder()
    decoder.seed(
        Balances(
            {
                "USDT": Balance("USDT", D(90), D(10), D(100)),
                "BTC": Balance("BTC", D(1), D(0), D(1)),
            }
        )
    )
    push = {
        "creationTime": 7,
        "data": [{"coin": [{"coin": "USDT", "walletBalance": "120", "locked": "20"}]}],
    }
    (balances,) = decoder.decode(push)
    assert balances["USDT"] == Balance("USDT", D(100), D(20), D(120))
    assert balances["BTC"].total == 1 and balances.timestamp == 7
