"""OKX's stream dialect without sockets: hosts, frames, login, controls, book chain, decoders.

The rules checked are OKX's (https://www.okx.com/docs-v5/en/#overview-websocket-login,
#overview-websocket-notification, #order-book-trading-market-data-ws-order-book-channel
section "Sequence ID") and its REST bootstrap (https://www.okx.com/docs-v5/log_en, "How to manage a
local order book correctly").
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from adapters.okx.adapter import OkxAdapter
from adapters.okx.stream import BookDecoder, OkxChain, OkxDialect, PositionDecoder
from exchanges.errors import AuthenticationError, InvalidApiKey, InvalidSignature
from exchanges.models import Market
from exchanges.stream.book import BookMessage, OrderBookState
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import BookFeed, Sink

D = Decimal
CREDS = exchanges.Credentials("okx-key-123456", "okx-secret-abcdef", passphrase="pass-phrase")


def dialect(env: str = "mainnet", base_url: str | None = None, **options: Any) -> OkxDialect:
    return OkxDialect(OkxAdapter(env=env, base_url=base_url, options=options))


def swap() -> Market:
    return Market(
        symbol="BTC/USDT:USDT", id="BTC-USDT-SWAP", type="swap", base="BTC", quote="USDT",
        settle="USDT", linear=True, inverse=False, contract_size=D("0.01"), price_step=None,
        amount_step=None, min_amount=None, max_amount=None, min_notional=None, active=True,
        counts_contracts=True,
    )  # fmt: skip


def test_hosts_per_environment_region_and_base_url() -> None:
    assert dialect().url("public") == "wss://ws.okx.com:443/ws/v5/public"
    assert dialect().url("business") == "wss://ws.okx.com:443/ws/v5/business"
    assert dialect().url("private/fills") == "wss://ws.okx.com:443/ws/v5/private"
    assert dialect("demo").url("private") == "wss://wspap.okx.com:443/ws/v5/private"
    assert dialect(region="eea").url("public") == "wss://wseea.okx.com:443/ws/v5/public"
    assert dialect(base_url="https://eea.okx.com").url("public").startswith("wss://wseea.")
    local = dialect(base_url="http://127.0.0.1:8080")
    assert local.url("private") == "ws://127.0.0.1:8080/ws/v5/private"
    custom = dialect(ws_url="wss://proxy.example:9443")
    assert custom.url("business") == "wss://proxy.example:9443/ws/v5/business"


def test_frames_and_login_signature() -> None:
    okx = dialect()
    assert json.loads(okx.subscribe(["books:BTC-USDT"], "7")) == {
        "id": "7",
        "op": "subscribe",
        "args": [{"channel": "books", "instId": "BTC-USDT"}],
    }
    assert json.loads(okx.unsubscribe(["orders:ANY", "account"], "8"))["args"] == [
        {"channel": "orders", "instType": "ANY"},
        {"channel": "account"},
    ]
    assert okx.batches("public", ["a", "b"]) == [["a"], ["b"]]
    assert okx.ping() == "ping" and okx.loads("pong") == "pong"
    (arg,) = json.loads(okx.auth(CREDS, 1_700_000_000_999))["args"]
    assert arg["timestamp"] == "1700000000" and arg["passphrase"] == "pass-phrase"
    digest = hmac.new(b"okx-secret-abcdef", b"1700000000GET/users/self/verify", hashlib.sha256)
    assert arg["sign"] == base64.b64encode(digest.digest()).decode()
    with pytest.raises(AuthenticationError, match="passphrase"):
        okx.auth(exchanges.Credentials("k", "s"), 0)


def test_topics_and_controls() -> None:
    okx = dialect()
    push = {"arg": {"channel": "orders", "instType": "ANY", "uid": "1"}, "data": []}
    assert okx.topic_of(push) == "orders:ANY"
    assert okx.topic_of({"arg": {"channel": "account", "uid": "1"}, "data": []}) == "account"
    ack = {"id": "3", "event": "subscribe", "arg": {"channel": "books"}, "connId": "a"}
    assert okx.topic_of(ack) is None
    assert okx.control(ack).op == "subscribe" and okx.control(ack).req_id == "3"
    assert okx.control("pong").op == "pong"
    assert okx.control({"event": "login", "code": "0"}).ok
    refused = okx.control({"event": "error", "code": "60007", "msg": "Invalid sign"})
    assert (refused.op, refused.ok) == ("auth", False)
    bad = okx.control({"id": "4", "event": "error", "code": "60018", "msg": "no"})
    assert (bad.op, bad.ok, bad.req_id) == ("subscribe", False, "4")
    assert okx.control({"event": "error", "code": "60012", "msg": "x"}).op == "error"
    notice = okx.control({"event": "notice", "code": "64008", "msg": "upgrade"})
    assert notice.op == "reconnect"


def test_login_refusals_by_code() -> None:
    okx = dialect()
    sign, retry = okx.auth_error("60007: Invalid sign", CREDS)
    assert isinstance(sign, InvalidSignature) and not retry
    assert isinstance(okx.auth_error("60032: API key doesn't exist", CREDS)[0], InvalidApiKey)
    expired, retry = okx.auth_error("60006: Timestamp request expired", CREDS)
    assert retry and "clock" in (expired.hint or "")


def message(prev: int | None, seq: int, snapshot: bool = False) -> BookMessage:
    return BookMessage(snapshot, [(D(1), D(1))], [(D(2), D(1))], seq, prev=prev)


def test_chain_after_a_snapshot_skips_and_bridges() -> None:
    book = OrderBookState("BTC/USDT", OkxChain())
    book.apply(message(None, 100, snapshot=True))
    assert book.apply(message(80, 90)) == "skipped"  # older than the REST snapshot
    assert book.apply(message(95, 110)) == "applied"  # prevSeqId <= 100 < seqId
    assert book.apply(message(105, 120)) == "gap"  # from now on only the exact chain


def test_chain_heartbeat_reset_duplicate_and_gap() -> None:
    chain = OkxChain()
    book = OrderBookState("BTC/USDT", chain)
    book.apply(message(None, 10, snapshot=True))
    assert book.apply(message(10, 15)) == "applied"
    assert book.apply(message(15, 15)) == "applied"  # heartbeat
    assert book.apply(message(15, 3)) == "applied"  # maintenance reset, chain intact
    assert book.apply(message(15, 3)) == "skipped"  # the same update again
    assert book.apply(message(3, 5)) == "applied"
    assert book.apply(message(7, 9)) == "gap" and not book.valid


def test_book_decoder_converts_contracts_and_ignores_checksum() -> None:
    decoded = BookDecoder(swap()).decode(
        {
            "arg": {"channel": "books", "instId": "BTC-USDT-SWAP"},
            "action": "snapshot",
            "data": [
                {
                    "asks": [["65000.1", "12", "0", "2"]],
                    "bids": [["64999.9", "3", "0", "1"]],
                    "ts": "1700000000000",
                    "checksum": 0,
                    "prevSeqId": -1,
                    "seqId": 42,
                }
            ],
        }
    )
    assert decoded.snapshot and decoded.prev is None and decoded.sequence == 42
    assert decoded.asks == ((D("65000.1"), D("0.12")),) and decoded.bids[0][1] == D("0.03")


def test_positions_snapshot_pages_replace_the_state() -> None:
    okx = dialect()
    decoder = PositionDecoder(okx)
    item = {"instId": "ETH-USDT-SWAP", "instType": "SWAP", "pos": "2", "posSide": "net"}
    page1 = {"eventType": "snapshot", "curPage": 1, "lastPage": False, "data": [item]}
    assert list(decoder.decode(page1)) == []
    other = {**item, "instId": "SOL-USDT-SWAP"}
    page2 = {"eventType": "snapshot", "curPage": 2, "lastPage": True, "data": [other]}
    (positions,) = decoder.decode(page2)
    assert len(positions) == 2
    gone = {"eventType": "event_update", "data": [{**item, "pos": "0"}]}
    (positions,) = decoder.decode(gone)
    assert [p.symbol for p in positions] == ["SOL/USDT:USDT"]


async def test_book_feed_refetches_a_snapshot_older_than_the_updates() -> None:
    snapshots = [message(None, 50, True), message(None, 100, True)]
    fetched: list[int] = []

    async def seed() -> BookMessage:
        snap = snapshots[len(fetched)]
        fetched.append(snap.sequence)
        return snap

    spec = FeedSpec(
        "public", "books:X", "book", _Passthrough, continuity=OkxChain(), depth=400, symbol="X"
    )
    feed = BookFeed(spec, logging.getLogger("test"), 100, seed=seed)
    sink = Sink(feed.new_channel(), None, None)
    feed.attach(sink)
    feed.on_message(message(90, 105))  # held; the first snapshot (50) is older: fetched again
    await asyncio.sleep(0.05)
    feed.on_message(message(105, 130))
    await asyncio.sleep(0.05)
    assert fetched == [50, 100] and feed.state.valid and feed.state.sequence == 130
    assert feed.seeds == 2 and feed.resyncs == 0


async def test_a_pushed_snapshot_supersedes_the_rest_one() -> None:
    async def seed() -> BookMessage:
        await asyncio.sleep(0.2)
        return message(None, 1, True)

    spec = FeedSpec(
        "public", "books:X", "book", _Passthrough, continuity=OkxChain(), depth=400, symbol="X"
    )
    feed = BookFeed(spec, logging.getLogger("test"), 100, seed=seed)
    feed.attach(Sink(feed.new_channel(), None, None))
    feed.on_message(message(5, 7))  # an update before the snapshot: a REST fetch starts
    feed.on_message(message(None, 10, True))
    feed.on_message(message(10, 12))
    await asyncio.sleep(0.3)
    assert feed.state.sequence == 12 and feed.seeds == 0


class _Passthrough:
    def decode(self, message: BookMessage) -> BookMessage:
        return message


def test_watch_orders_adds_the_algo_order_channels_on_a_logged_in_business_connection() -> None:
    okx = dialect()
    spec = okx.orders()
    assert (spec.group, spec.topic) == ("private", "orders:ANY")
    companions = [(c.group, c.topic, c.mode) for c in spec.companions]
    assert companions == [
        ("private/business", "orders-algo:ANY", "events"),
        ("private/business", "algo-advance:ANY", "events"),
    ]
    assert all(c.private for c in spec.companions)
    assert okx.url("private/business") == "wss://ws.okx.com:443/ws/v5/business"
    assert json.loads(okx.subscribe(["orders-algo:ANY"], "9"))["args"] == [
        {"channel": "orders-algo", "instType": "ANY"}
    ]
    assert okx.topic_of({"arg": {"channel": "algo-advance", "instType": "ANY"}, "data": []}) == (
        "algo-advance:ANY"
    )


def test_algo_order_pushes_read_as_the_rest_algo_orders_in_unified_units() -> None:
    okx = dialect()
    okx.adapter._by_id = {"BTC-USDT-SWAP": swap()}  # type: ignore[attr-defined]
    item = {
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "algoId": "581878926302093312",
        "algoClOrdId": "mine", "ordType": "trigger", "side": "buy", "sz": "3", "state": "live",
        "triggerPx": "65100", "triggerPxType": "mark", "ordPx": "-1", "reduceOnly": "false",
        "cTime": "1685002746818", "uTime": "1708679675245", "attachAlgoOrds": [],
    }  # fmt: skip
    decoder = okx.orders().companions[0].decoder()
    (order,) = decoder.decode(
        {"arg": {"channel": "orders-algo", "instType": "ANY"}, "data": [item]}
    )
    assert (order.id, order.client_order_id, order.status) == ("581878926302093312", "mine", "open")
    assert (order.conditional, order.trigger_price, order.trigger_by) == (True, D(65100), "mark")
    assert (order.type, order.amount, order.symbol) == ("market", D("0.03"), "BTC/USDT:USDT")
    done = {**item, "state": "effective", "ordIdList": ["98192973880283"]}
    (fired,) = decoder.decode({"arg": {"channel": "orders-algo"}, "data": [done]})
    assert fired.status == "closed"
    trailing = {**item, "ordType": "move_order_stop", "callbackRatio": "0.015", "activePx": "64000"}
    (trail,) = decoder.decode({"arg": {"channel": "algo-advance"}, "data": [trailing]})
    assert (trail.trailing_percent, trail.trigger_price) == (D("1.5"), D(64000))
