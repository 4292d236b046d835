"""Binance's stream dialect without sockets: hosts, frames, the book rules, decoders, controls."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import attrs
import pytest

import exchanges
from adapters.binance import parse
from adapters.binance import stream as binance_stream
from adapters.binance.adapter import BinanceAdapter
from adapters.binance.algo import parse_algo
from adapters.binance.stream import BinanceDialect, usdm_continuity
from adapters.binance.stream_decoders import (
    BalanceDecoder,
    BookDecoder,
    FillDecoder,
    OrderDecoder,
    PositionDecoder,
    TradeDecoder,
)
from exchanges.errors import AuthenticationError, BadResponse, InvalidApiKey, InvalidSignature
from exchanges.models import Balance, Balances, Market
from exchanges.stream.book import BookMessage, OrderBookState, spanning

D = Decimal
CREDS = exchanges.Credentials("dialect-key-123456", "dialect-secret-abcdef")


def dialect(env: str = "mainnet", base_url: str | None = None, **options: Any) -> BinanceDialect:
    return BinanceDialect(BinanceAdapter(env=env, base_url=base_url, options=options))


def market(symbol: str, native: str, kind: str) -> Market:
    return Market(
        symbol=symbol, id=native, type=kind, base="BTC", quote="USDT",
        settle=None if kind == "spot" else "USDT", linear=None if kind == "spot" else True,
        inverse=None, contract_size=None, price_step=None, amount_step=None, min_amount=None,
        max_amount=None, min_notional=None, active=True,
    )  # fmt: skip


SPOT = market("BTC/USDT", "BTCUSDT", "spot")
PERP = market("BTC/USDT:USDT", "BTCUSDT", "swap")


def test_hosts_and_groups() -> None:
    main = dialect()
    assert main.url("spot") == "wss://stream.binance.com:9443/stream"
    assert main.url("usdm/public") == "wss://fstream.binance.com/public/stream"
    assert main.url("usdm/market") == "wss://fstream.binance.com/market/stream"
    assert main.url("user/usdm") == "wss://fstream.binance.com/private/stream"
    assert main.url("private/spot") == "wss://ws-api.binance.com:443/ws-api/v3"
    assert dialect("demo").url("spot") == "wss://demo-stream.binance.com/stream"
    local = dialect(base_url="http://127.0.0.1:8080/")
    assert local.url("usdm/public") == "ws://127.0.0.1:8080/public/stream"
    # Books on /public, the rest of USD-M market data on /market (the 2026 split).
    assert main.order_book(PERP, 5).group == "usdm/public"
    assert {main.ticker(PERP).group, main.trades(PERP).group} == {"usdm/market"}
    assert (
        main.trades(PERP).topic == "btcusdt@aggTrade" and main.trades(SPOT).topic == "btcusdt@trade"
    )
    assert main.ohlcv(SPOT, "1h").topic == "btcusdt@kline_1h"
    assert main.orders().group == "private/spot"
    assert dialect(wallet="usdm").orders().group == "user/usdm"
    assert main.positions().group == "user/usdm"


def test_frames() -> None:
    d = dialect()
    assert json.loads(d.subscribe(["btcusdt@depth@100ms"], "7")) == {
        "method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 7,
    }  # fmt: skip
    assert json.loads(d.unsubscribe(["btcusdt@trade"], "8"))["method"] == "UNSUBSCRIBE"
    # User data needs no subscription per topic: an answered request confirms it.
    assert json.loads(d.subscribe(["executionReport"], "9"))["method"] == "session.subscriptions"
    assert json.loads(d.subscribe(["ORDER_TRADE_UPDATE"], "9"))["method"] == "LIST_SUBSCRIPTIONS"
    assert json.loads(d.ping_for("private/spot"))["method"] == "ping"
    assert json.loads(d.ping_for("spot"))["method"] == "LIST_SUBSCRIPTIONS"


def test_auth_signs_the_sorted_params() -> None:
    frame = json.loads(dialect().auth(CREDS, 1_700_000_000_000))
    params = frame["params"]
    assert frame["method"] == "userDataStream.subscribe.signature"
    payload = f"apiKey={CREDS.api_key}&timestamp=1700000000000".encode()
    expected = hmac.new(b"dialect-secret-abcdef", payload, hashlib.sha256).hexdigest()
    assert params["signature"] == expected


def test_auth_errors_by_code() -> None:
    d = dialect()
    assert isinstance(
        d.auth_error("-1022 Signature for this request is not valid.", CREDS)[0], InvalidSignature
    )
    error, retry = d.auth_error(f"-2015 Invalid API-key {CREDS.api_key}", CREDS)
    assert isinstance(error, InvalidApiKey) and not retry and CREDS.api_key not in str(error)
    error, retry = d.auth_error("-1021 Timestamp outside of the recvWindow.", CREDS)
    assert isinstance(error, AuthenticationError) and retry  # the clock: resynced once


def test_topics_and_controls() -> None:
    d = dialect()
    assert d.topic_of({"stream": "btcusdt@depth", "data": {}}) == "btcusdt@depth"
    assert d.topic_of({"stream": "LISTENKEY", "data": {"e": "ACCOUNT_UPDATE"}}) == "ACCOUNT_UPDATE"
    assert d.topic_of({"subscriptionId": 0, "event": {"e": "executionReport"}}) == "executionReport"
    assert d.topic_of({"result": None, "id": 3}) is None
    assert d.control({"result": None, "id": 3}).op == "subscribe"
    refused = d.control({"code": 2, "msg": "Invalid request", "id": 4})
    assert (refused.op, refused.ok, refused.req_id) == ("subscribe", False, "4")
    assert d.control({"code": 3, "msg": "Invalid JSON"}).op == "error"
    auth = d.control({"id": "a1", "status": 400, "error": {"code": -1022, "msg": "bad"}})
    assert (auth.op, auth.ok, auth.text) == ("auth", False, "-1022 bad")
    # The events that end a connection's use replace it at once.
    expired = {"stream": "K", "data": {"e": "listenKeyExpired", "E": "1736996475556"}}
    assert d.topic_of(expired) is None and d.control(expired).op == "reconnect"
    assert (
        d.control({"stream": "!serverShutdown", "data": {"e": "serverShutdown"}}).op == "reconnect"
    )
    assert (
        d.control({"subscriptionId": 0, "event": {"e": "eventStreamTerminated"}}).op == "reconnect"
    )


def test_a_connection_is_rotated_before_24_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    d = dialect()
    tag = json.loads(d.ping_for("spot"))["id"]
    assert d.control({"result": [], "id": tag}).op == "pong"
    monkeypatch.setattr(binance_stream, "ROTATE_AFTER_S", 0.0)
    assert d.control({"result": [], "id": tag}).op == "reconnect"


def delta(first: int, last: int, prev: int | None = None) -> BookMessage:
    return BookMessage(False, ((D(1), D(1)),), ((D(2), D(1)),), last, first=first, prev=prev)


def book(sequence: int) -> OrderBookState:
    state = OrderBookState("X")
    state.apply(BookMessage(True, ((D(1), D(1)),), ((D(2), D(1)),), sequence))
    return state


def test_spot_rules_after_a_snapshot() -> None:
    # lastUpdateId 100: events with u <= 100 are dropped; the first must span 101.
    assert spanning(book(100), delta(90, 100)) == "skip"
    assert spanning(book(100), delta(95, 105)) == "apply"
    assert spanning(book(100), delta(101, 105)) == "apply"
    assert spanning(book(100), delta(102, 105)) == "gap"


def test_usdm_rules_after_a_snapshot_and_after() -> None:
    assert usdm_continuity(book(100), delta(90, 99, 89)) == "skip"  # u < lastUpdateId
    assert usdm_continuity(book(100), delta(95, 105, 94)) == "apply"  # U <= id <= u
    assert usdm_continuity(book(105), delta(106, 110, 105)) == "apply"  # pu == last u
    assert usdm_continuity(book(105), delta(111, 115, 110)) == "gap"  # a missed event


def test_book_decoder_refuses_hostile_ids_and_levels() -> None:
    message = {"e": "depthUpdate", "U": 1, "u": 2, "b": [["1.5", "2"]], "a": [["1.6", "0"]]}
    decoded = BookDecoder().decode({"stream": "x@depth", "data": message})
    assert (decoded.first, decoded.sequence, decoded.bids) == (1, 2, ((D("1.5"), D(2)),))
    with pytest.raises(BadResponse):
        BookDecoder().decode({**message, "u": "2"})
    with pytest.raises(BadResponse):
        BookDecoder().decode({**message, "b": [["NaN", "1"]]})


def test_trades_orders_and_fills() -> None:
    trade = {"e": "trade", "s": "BTCUSDT", "t": 12, "p": "100.5", "q": "0.25", "T": 5, "m": True}
    (decoded,) = TradeDecoder("BTC/USDT").decode({"data": trade})
    assert (decoded.id, decoded.side, decoded.price, decoded.amount) == (
        "12",
        "sell",
        D("100.5"),
        D("0.25"),
    )
    report = {
        "e": "executionReport", "E": 9, "s": "BTCUSDT", "c": "cancel-id", "S": "BUY",
        "o": "LIMIT", "f": "GTC", "q": "0.01", "p": "100", "C": "mine", "x": "CANCELED",
        "X": "CANCELED", "i": 42, "l": "0", "z": "0", "L": "0", "n": "0", "N": None,
        "T": 9, "t": -1, "m": False, "O": 1, "Z": "0",
    }  # fmt: skip
    (order,) = OrderDecoder(lambda n: "BTC/USDT").decode({"event": report})
    assert (order.id, order.client_order_id, order.status) == ("42", "mine", "canceled")
    assert FillDecoder(lambda n: "BTC/USDT").decode({"event": report}) == ()
    trade_report = {
        **report, "x": "TRADE", "X": "FILLED", "c": "mine", "C": "", "l": "0.01", "z": "0.01",
        "L": "100", "t": 7, "n": "0.00001", "N": "BTC", "Z": "1",
    }  # fmt: skip
    (fill,) = FillDecoder(lambda n: "BTC/USDT").decode({"event": trade_report})
    assert (fill.id, fill.amount, fill.fee, fill.client_order_id) == (
        "7",
        D("0.01"),
        D("0.00001"),
        "mine",
    )


def test_spot_stop_execution_reports_are_conditional_orders_as_rest_reads_them() -> None:
    # "Order Update" (spot user data stream): a stop type's ``P`` is its stop price.
    report = {
        "e": "executionReport", "E": 9, "s": "BTCUSDT", "c": "sl-1", "S": "SELL",
        "o": "STOP_LOSS_LIMIT", "f": "GTC", "q": "0.01000000", "p": "94.00000000",
        "P": "95.00000000", "C": "", "x": "NEW", "X": "NEW", "i": 42, "l": "0", "z": "0",
        "L": "0", "n": "0", "N": None, "T": 9, "t": -1, "w": False, "m": False, "O": 1,
        "Z": "0",
    }  # fmt: skip
    decoder = OrderDecoder(lambda n: "BTC/USDT")
    (order,) = decoder.decode({"subscriptionId": 0, "event": report})
    row = {
        "symbol": "BTCUSDT", "orderId": 42, "clientOrderId": "sl-1", "price": "94.00000000",
        "origQty": "0.01000000", "executedQty": "0", "cummulativeQuoteQty": "0",
        "status": "NEW", "timeInForce": "GTC", "type": "STOP_LOSS_LIMIT", "side": "SELL",
        "stopPrice": "95.00000000", "time": 1, "updateTime": 9,
    }  # fmt: skip
    rest = parse.parse_order("BTC/USDT", row)
    assert attrs.evolve(order, raw=None) == attrs.evolve(rest, raw=None)
    assert (order.conditional, order.trigger_price, order.trigger_by) == (True, D(95), "last")
    assert (order.type, order.price, order.status) == ("limit", D(94), "open")
    fired = {**report, "o": "STOP_LOSS", "p": "0.00000000", "x": "TRADE", "X": "FILLED"}
    (done,) = decoder.decode({"event": {**fired, "z": "0.01", "Z": "0.95", "w": True}})
    assert (done.conditional, done.trigger_price, done.type, done.status) == (
        True,
        D(95),
        "market",
        "closed",
    )
    # Any other type's ``P`` is "0.00000000": an ordinary order.
    (plain,) = decoder.decode({"event": {**report, "o": "LIMIT", "P": "0.00000000"}})
    assert (plain.conditional, plain.trigger_price) == (False, None)


def test_algo_updates_are_conditional_orders_read_as_rest_reads_them() -> None:
    # "Event: Algo Order Update"'s example, then the REST row of the same order.
    event = {
        "e": "ALGO_UPDATE", "T": 1750515742297, "E": 1750515742303,
        "o": {
            "caid": "Q5xaq5EGKgXXa0fD7fs0Ip", "aid": 2148719, "at": "CONDITIONAL",
            "o": "TAKE_PROFIT", "s": "BNBUSDT", "S": "SELL", "ps": "BOTH", "f": "GTC",
            "q": "0.01", "X": "CANCELED", "ai": "", "ap": "0.00000", "aq": "0.00000",
            "act": "0", "tp": "750", "p": "750", "V": "EXPIRE_MAKER", "wt": "CONTRACT_PRICE",
            "pm": "NONE", "cp": False, "pP": False, "R": False, "tt": 0, "gtd": 0,
            "rm": "Reduce Only reject",
        },
    }  # fmt: skip
    decoder = OrderDecoder(lambda n: {"BNBUSDT": "BNB/USDT:USDT"}[n])
    (order,) = decoder.decode({"stream": "key", "data": event})
    row = {
        "algoId": 2148719, "clientAlgoId": "Q5xaq5EGKgXXa0fD7fs0Ip", "orderType": "TAKE_PROFIT",
        "side": "SELL", "timeInForce": "GTC", "quantity": "0.01", "algoStatus": "CANCELED",
        "triggerPrice": "750", "price": "750", "workingType": "CONTRACT_PRICE",
        "reduceOnly": False, "closePosition": False, "updateTime": 1750515742303,
    }  # fmt: skip
    assert order == attrs.evolve(parse_algo("BNB/USDT:USDT", row), raw=event)
    assert (order.id, order.status, order.conditional) == ("2148719", "canceled", True)
    assert (order.trigger_price, order.trigger_by, order.price) == (D(750), "last", D(750))
    for status, unified in (("NEW", "open"), ("TRIGGERED", "closed"), ("EXPIRED", "canceled")):
        pushed = {**event, "o": {**event["o"], "X": status, "wt": "MARK_PRICE"}}
        (again,) = decoder.decode(pushed)
        assert (again.status, again.trigger_by) == (unified, "mark")
    trailing = {**event["o"], "o": "TRAILING_STOP_MARKET", "tp": "700", "cr": "1.5", "X": "NEW"}
    (trail,) = decoder.decode({**event, "o": trailing})
    assert (trail.trigger_price, trail.trailing_percent, trail.type) == (D(700), D("1.5"), "market")


def test_the_usdm_user_stream_names_algo_updates_and_feeds_them_to_orders() -> None:
    assert "ALGO_UPDATE" in binance_stream._USER_EVENTS
    assert BinanceDialect.fanout["ALGO_UPDATE"] == ("ORDER_TRADE_UPDATE",)


def test_balances_merge_into_the_snapshot() -> None:
    decoder = BalanceDecoder()
    decoder.seed(
        Balances({"BTC": Balance("BTC", D(1), D(0), D(1)), "ETH": Balance("ETH", D(2), D(0), D(2))})
    )
    push = {"e": "outboundAccountPosition", "E": 5, "B": [{"a": "BTC", "f": "0.5", "l": "0.25"}]}
    (merged,) = decoder.decode({"event": push})
    assert merged["BTC"] == Balance("BTC", D("0.5"), D("0.25"), D("0.75"), raw=merged["BTC"].raw)
    assert merged["ETH"].total == D(2)
    usdm = {
        "e": "ACCOUNT_UPDATE",
        "E": 6,
        "a": {"m": "ORDER", "B": [{"a": "BTC", "wb": "3"}], "P": []},
    }
    (after,) = decoder.decode({"data": usdm})
    assert (after["BTC"].total, after["BTC"].used, after["BTC"].free) == (
        D(3),
        D("0.25"),
        D("2.75"),
    )


def test_positions_follow_account_updates() -> None:
    decoder = PositionDecoder(lambda n: "BTC/USDT:USDT")
    decoder.seed([])
    opened = {"e": "ACCOUNT_UPDATE", "E": 1, "a": {"m": "ORDER", "B": [], "P": [
        {"s": "BTCUSDT", "pa": "-0.5", "ep": "100", "up": "1", "ps": "BOTH"}]}}  # fmt: skip
    ((position,),) = decoder.decode({"data": opened})
    assert (position.side, position.size, position.entry_price) == ("short", D("0.5"), D(100))
    closed = {"e": "ACCOUNT_UPDATE", "E": 2, "a": {"m": "ORDER", "B": [], "P": [
        {"s": "BTCUSDT", "pa": "0", "ep": "0", "up": "0", "ps": "BOTH"}]}}  # fmt: skip
    assert list(decoder.decode({"data": closed})) == [[]]


def test_keepalive_is_due_after_the_period(monkeypatch: pytest.MonkeyPatch) -> None:
    d = dialect()
    calls: list[str] = []

    async def listen(client: Any, method: str) -> str:
        calls.append(method)
        return "K"

    monkeypatch.setattr(d, "_listen", listen)

    class Client:
        pass

    import asyncio
    import weakref

    client = Client()

    async def run() -> None:
        d._client = weakref.ref(client)
        d._extended = time.monotonic()
        d._keep_alive()
        assert calls == []  # not due yet
        monkeypatch.setattr(binance_stream, "KEEPALIVE_S", 0.0)
        d._keep_alive()
        await asyncio.sleep(0)
        assert calls == ["PUT"]

    asyncio.run(run())
