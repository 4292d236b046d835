"""OKX flows on canned responses: exactly-once placement and batch cancel item by item."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import exchanges
from adapters.okx.adapter import OkxAdapter
from exchanges.clock import ServerClock
from exchanges.errors import (
    BadRequest,
    InsufficientFunds,
    NetworkError,
    OutcomeUnknown,
    PermissionDenied,
)
from exchanges.flow import Session, run_sync
from exchanges.retry import RetryPolicy
from exchanges.wire import Prepared, Response

NOW = 1_700_000_000_000
SPOT = {
    "instType": "SPOT",
    "instId": "BTC-USDT",
    "baseCcy": "BTC",
    "quoteCcy": "USDT",
    "tickSz": "0.1",
    "lotSz": "0.0001",
    "minSz": "0.0001",
    "maxLmtSz": "100",
    "state": "live",
}


def envelope(data: Any, code: str = "0", msg: str = "") -> bytes:
    return json.dumps({"code": code, "msg": msg, "data": data}).encode()


class FakeOkx:
    """Answers by (method, path); records every prepared request."""

    def __init__(self) -> None:
        self.sent: list[Prepared] = []
        self.handlers: dict[tuple[str, str], Callable[[Prepared], Any]] = {
            ("GET", "/api/v5/public/time"): lambda p: envelope([{"ts": str(NOW)}]),
            ("GET", "/api/v5/public/instruments"): lambda p: envelope(
                [SPOT] if self.params(p)["instType"] == "SPOT" else []
            ),
            ("GET", "/api/v5/account/config"): lambda p: envelope(
                [{"perm": "read_only,trade", "ip": "", "label": ""}]
            ),
        }

    @staticmethod
    def params(prepared: Prepared) -> Any:
        if prepared.method == "GET":
            return dict(parse_qsl(urlsplit(prepared.url).query))
        return json.loads(prepared.body or b"{}")

    def paths(self) -> list[str]:
        return [f"{p.method} {urlsplit(p.url).path}" for p in self.sent]

    def send(self, prepared: Prepared) -> Response:
        self.sent.append(prepared)
        handler = self.handlers[(prepared.method, urlsplit(prepared.url).path)]
        result = handler(prepared)
        if isinstance(result, Exception):
            raise result
        response = result if isinstance(result, Response) else Response(200, {}, result)
        response.request = prepared.request
        return response

    def close(self) -> None:
        pass


def client(fake: FakeOkx) -> exchanges.Exchange:
    adapter = OkxAdapter(base_url="https://fake.okx")
    session = Session(
        adapter,
        credentials=exchanges.Credentials("key-1234567890", "secret", passphrase="pass"),
        clock=ServerClock(now_ms=lambda: NOW),
        retry=RetryPolicy(initial_wait=0.001, max_wait=0.002),
    )
    session.limiter.enabled = False
    return Unhurried(adapter, session, fake)  # type: ignore[arg-type]


class Unhurried(exchanges.Exchange):
    """Waits (a receive window's pause, a backoff) take no time: the clock here is frozen."""

    def _run(self, flow: Any) -> Any:
        return run_sync(self.session.execute(flow), self.transport, sleep=lambda seconds: None)


def ack(cid: str, ord_id: str = "7") -> bytes:
    return envelope(
        [
            {
                "clOrdId": cid,
                "ordId": ord_id,
                "tag": "",
                "ts": str(NOW),
                "sCode": "0",
                "sMsg": "Order placed",
                "subCode": "",
            }
        ]
    )


def order_item(cid: str, state: str = "filled") -> dict[str, Any]:
    return {
        "instType": "SPOT",
        "instId": "BTC-USDT",
        "ordId": "7",
        "clOrdId": cid,
        "px": "",
        "sz": "0.001",
        "ordType": "market",
        "side": "buy",
        "accFillSz": "0.001",
        "avgPx": "100",
        "state": state,
        "tgtCcy": "base_ccy",
        "fee": "-0.000001",
        "feeCcy": "BTC",
        "cTime": "1",
        "uTime": "2",
    }


NOT_FOUND = envelope([], "51603", "Order does not exist")
LOST = NetworkError("connection reset", request_sent=True)


def test_market_order_body_and_ack() -> None:
    fake = FakeOkx()
    fake.handlers[("POST", "/api/v5/trade/order")] = lambda p: ack(fake.params(p)["clOrdId"])
    fake.handlers[("GET", "/api/v5/trade/order")] = lambda p: envelope([order_item("abc123")])
    order = client(fake).create_order(
        "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="abc123"
    )
    # The acknowledgement carries ids only: a market order is read back once by its id.
    assert fake.paths()[-2:] == ["POST /api/v5/trade/order", "GET /api/v5/trade/order"]
    assert fake.sent[-1].url.endswith("/api/v5/trade/order?instId=BTC-USDT&ordId=7")
    assert (order.status, order.filled, order.average) == ("closed", Decimal("0.001"), 100)
    body = json.loads(fake.sent[-2].body or b"")
    assert body == {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "market",
        "sz": "0.001",
        "tgtCcy": "base_ccy",
        "clOrdId": "abc123",
    }
    assert (order.id, order.client_order_id, order.time_in_force) == ("7", "abc123", "IOC")


def test_lost_response_is_reconciled_by_client_order_id() -> None:
    fake = FakeOkx()
    fake.handlers[("POST", "/api/v5/trade/order")] = lambda p: LOST
    fake.handlers[("GET", "/api/v5/trade/order")] = lambda p: envelope(
        [order_item(fake.params(p)["clOrdId"])]
    )
    order = client(fake).create_order(
        "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="once1"
    )
    assert order.status == "closed" and order.client_order_id == "once1"
    assert fake.paths().count("POST /api/v5/trade/order") == 1
    lookup = [p for p in fake.sent if p.method == "GET" and "trade/order" in p.url][-1]
    assert lookup.url.endswith("/api/v5/trade/order?instId=BTC-USDT&clOrdId=once1")


def test_provably_absent_order_is_resent_once_and_51016_means_it_landed() -> None:
    fake = FakeOkx()
    posts: list[int] = []
    lookups: list[int] = []

    def place(prepared: Prepared) -> Any:
        posts.append(1)
        if len(posts) == 1:
            return LOST
        return envelope(
            [
                {
                    "clOrdId": "dup1",
                    "ordId": "",
                    "sCode": "51016",
                    "sMsg": "Duplicated clOrdId",
                    "subCode": "",
                }
            ],
            "1",
        )

    def lookup(prepared: Prepared) -> Any:
        lookups.append(1)
        # Absent at once and after the receive window: resent; then the 51016 and found.
        return NOT_FOUND if len(lookups) <= 2 else envelope([order_item("dup1")])

    fake.handlers[("POST", "/api/v5/trade/order")] = place
    fake.handlers[("GET", "/api/v5/trade/order")] = lookup
    order = client(fake).create_order(
        "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="dup1"
    )
    assert order.client_order_id == "dup1" and len(posts) == 2 and len(lookups) == 3


def test_unconfirmable_order_raises_outcome_unknown_with_the_id() -> None:
    fake = FakeOkx()
    fake.handlers[("POST", "/api/v5/trade/order")] = lambda p: LOST
    fake.handlers[("GET", "/api/v5/trade/order")] = lambda p: Response(503, {}, b"<html>503</html>")
    with pytest.raises(OutcomeUnknown) as info:
        client(fake).create_order(
            "BTC/USDT", "market", "buy", Decimal("0.001"), client_order_id="lost1"
        )
    assert info.value.client_order_id == "lost1"
    assert fake.paths().count("POST /api/v5/trade/order") == 1


def test_business_rejection_is_not_reconciled() -> None:
    fake = FakeOkx()
    fake.handlers[("POST", "/api/v5/trade/order")] = lambda p: envelope(
        [
            {
                "clOrdId": "x",
                "ordId": "",
                "sCode": "51008",
                "subCode": "1000",
                "sMsg": "Order failed. Insufficient USDT balance in account.",
            }
        ],
        "1",
        "All operations failed",
    )
    with pytest.raises(InsufficientFunds) as info:
        client(fake).create_order("BTC/USDT", "limit", "buy", Decimal(1), Decimal(100))
    assert info.value.code == "51008" and "subCode 1000" in str(info.value)
    assert "GET /api/v5/trade/order" not in fake.paths()


def test_client_order_id_must_fit_okx_rule_before_sending() -> None:
    fake = FakeOkx()
    with pytest.raises(BadRequest, match="32 letters and digits"):
        client(fake).create_order("BTC/USDT", "market", "buy", Decimal(1), client_order_id="a-b")
    assert fake.sent == []


def open_items(n: int) -> list[dict[str, Any]]:
    return [
        {**order_item(f"c{i}", "live"), "ordId": str(i), "ordType": "limit", "px": "1"}
        for i in range(n)
    ]


def test_cancel_all_batches_by_20_and_surfaces_item_failures() -> None:
    fake = FakeOkx()
    fake.handlers[("GET", "/api/v5/trade/orders-pending")] = lambda p: envelope(open_items(23))
    fake.handlers[("GET", "/api/v5/trade/orders-algo-pending")] = lambda p: envelope([])

    def batch(prepared: Prepared) -> bytes:
        items = fake.params(prepared)
        results = []
        for item in items:
            code = {"3": "51400", "21": "50120"}.get(item["ordId"], "0")
            results.append(
                {
                    "ordId": item["ordId"],
                    "clOrdId": "",
                    "sCode": code,
                    "sMsg": "" if code == "0" else "failed",
                }
            )
        failed = sum(r["sCode"] != "0" for r in results)
        return envelope(results, "2" if failed else "0")

    fake.handlers[("POST", "/api/v5/trade/cancel-batch-orders")] = batch
    with pytest.raises(PermissionDenied) as info:
        client(fake).cancel_all_orders()
    sizes = [len(fake.params(p)) for p in fake.sent if p.url.endswith("cancel-batch-orders")]
    assert sizes == [20, 3]
    # 51400 (already gone) is skipped; 50120 on order 21 is raised after every batch went out.
    assert info.value.code == "50120" and "order 21" in info.value.message
    assert "21 order(s) cancelled, 1 failed" in info.value.message


def test_cancel_all_returns_the_cancelled_orders() -> None:
    fake = FakeOkx()
    fake.handlers[("GET", "/api/v5/trade/orders-pending")] = lambda p: envelope(open_items(2))
    fake.handlers[("GET", "/api/v5/trade/orders-algo-pending")] = lambda p: envelope([])
    fake.handlers[("POST", "/api/v5/trade/cancel-batch-orders")] = lambda p: envelope(
        [{"ordId": i["ordId"], "sCode": "0", "sMsg": ""} for i in fake.params(p)]
    )
    cancelled = client(fake).cancel_all_orders("BTC/USDT")
    assert [(o.id, o.status, o.remaining) for o in cancelled] == [
        ("0", "canceled", 0),
        ("1", "canceled", 0),
    ]
    pending = next(p for p in fake.sent if "orders-pending" in p.url)
    assert "instType=SPOT&instId=BTC-USDT" in pending.url


OPTION = {
    "instType": "OPTION",
    "instId": "BTC-USD-251226-100000-C",
    "uly": "BTC-USD",
    "instFamily": "BTC-USD",
    "settleCcy": "BTC",
    "ctVal": "0.01",
    "ctValCcy": "BTC",
    "optType": "C",
    "stk": "100000",
    "expTime": "1766736000000",
    "tickSz": "0.0005",
    "lotSz": "1",
    "minSz": "1",
    "state": "live",
}
FUTURE = {
    "instType": "FUTURES",
    "instId": "BTC-USD-251226",
    "uly": "BTC-USD",
    "instFamily": "BTC-USD",
    "settleCcy": "BTC",
    "ctVal": "100",
    "ctType": "inverse",
    "expTime": "1766736000000",
    "tickSz": "0.1",
    "lotSz": "1",
    "minSz": "1",
    "state": "live",
}


def test_futures_load_with_the_markets_and_options_per_family() -> None:
    fake = FakeOkx()

    def instruments(prepared: Prepared) -> bytes:
        params = fake.params(prepared)
        table = {"SPOT": [SPOT], "FUTURES": [FUTURE], "SWAP": []}
        if params["instType"] == "OPTION":
            assert params["instFamily"] == "BTC-USD"
            return envelope([OPTION])
        return envelope(table[params["instType"]])

    fake.handlers[("GET", "/api/v5/public/instruments")] = instruments
    fake.handlers[("GET", "/api/v5/market/ticker")] = lambda p: envelope(
        [
            {
                "instType": "OPTION",
                "instId": "BTC-USD-251226-100000-C",
                "last": "0.05",
                "bidPx": "0.049",
                "askPx": "0.051",
                "vol24h": "10",
                "volCcy24h": "0.1",
                "ts": str(NOW),
            }
        ]
    )
    fake.handlers[("GET", "/api/v5/market/books")] = lambda p: envelope(
        [{"asks": [["0.051", "5", "0", "1"]], "bids": [["0.049", "7", "0", "2"]], "ts": "1"}]
    )
    ex = client(fake)
    markets = ex.load_markets()
    assert set(markets) == {"BTC/USDT", "BTC/USD:BTC-251226"}
    future = markets["BTC/USD:BTC-251226"]
    assert (future.type, future.contract_size, future.inverse) == ("future", 100, True)
    ticker = ex.fetch_ticker("BTC/USD:BTC-251226-100000-C")
    assert (ticker.symbol, ticker.bid, ticker.base_volume) == (
        "BTC/USD:BTC-251226-100000-C",
        Decimal("0.049"),
        Decimal("0.1"),
    )
    book = ex.fetch_order_book("BTC/USD:BTC-251226-100000-C", 5)
    # 7 contracts of ctVal 0.01 BTC: the interface counts 0.07 BTC.
    assert book.best_bid == (Decimal("0.049"), Decimal("0.07"))
    option = ex.market("BTC/USD:BTC-251226-100000-C")
    assert (option.type, option.strike, option.option_type) == ("option", 100000, "call")
    option_loads = [p for p in fake.sent if "instType=OPTION" in p.url]
    assert len(option_loads) == 1  # loaded once, on first use


def test_closed_orders_follow_the_after_cursor_across_pages() -> None:
    # "Get order history (last 7 days)": at most 100 per page, older pages by after=<ordId>
    # (https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-order-history-last-7-days).
    history = [
        {**order_item(f"c{n}"), "ordId": str(1000 - n), "uTime": str(NOW - n)} for n in range(105)
    ]
    seen: list[dict[str, str]] = []

    def orders_history(prepared: Prepared) -> bytes:
        params = FakeOkx.params(prepared)
        seen.append(params)
        after = params.get("after")
        start = (
            0 if not after else next(i for i, o in enumerate(history) if o["ordId"] == after) + 1
        )
        return envelope(history[start : start + int(params["limit"])])

    fake = FakeOkx()
    fake.handlers[("GET", "/api/v5/trade/orders-history")] = orders_history
    fake.handlers[("GET", "/api/v5/trade/orders-algo-history")] = lambda p: envelope([])
    closed = client(fake).fetch_closed_orders("BTC/USDT")
    assert [o.id for o in closed] == [o["ordId"] for o in history]
    assert [p.get("after") for p in seen] == [None, "901"]
    assert len(closed) == 105


def test_finished_algo_orders_follow_their_own_cursor_and_stop_at_since() -> None:
    # "Get algo order history": one ordType (or conditional,oco) and one state a call, at most
    # 100 a page, older pages by after=<algoId>, no time filter: since bounds cTime here
    # (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-get-algo-order-history).
    rows = [
        {
            "instType": "SPOT",
            "instId": "BTC-USDT",
            "algoId": str(5000 - n),
            "ordType": "trigger",
            "state": "canceled",
            "side": "buy",
            "sz": "0.001",
            "triggerPx": "50000",
            "ordPx": "-1",
            "cTime": str(NOW - n * 1000),
            "uTime": str(NOW - n * 1000),
        }
        for n in range(150)
    ]
    seen: list[dict[str, str]] = []

    def algo_history(prepared: Prepared) -> bytes:
        params = FakeOkx.params(prepared)
        seen.append(params)
        if (params["ordType"], params["state"]) != ("trigger", "canceled"):
            return envelope([])
        after = params.get("after")
        start = 0 if not after else next(i for i, r in enumerate(rows) if r["algoId"] == after) + 1
        return envelope(rows[start : start + int(params["limit"])])

    fake = FakeOkx()
    fake.handlers[("GET", "/api/v5/trade/orders-history")] = lambda p: envelope([])
    fake.handlers[("GET", "/api/v5/trade/orders-algo-history")] = algo_history
    closed = client(fake).fetch_closed_orders("BTC/USDT", since=NOW - 120_000)
    assert [o.id for o in closed] == [r["algoId"] for r in rows[:121]]
    assert {(o.status, o.conditional, o.trigger_price) for o in closed} == {
        ("canceled", True, Decimal(50000))
    }
    asked = [p.get("after") for p in seen if (p["ordType"], p["state"]) == ("trigger", "canceled")]
    assert asked == [None, "4901"]
    assert {(p["ordType"], p["state"], p["instId"]) for p in seen} == {
        (kind, state, "BTC-USDT")
        for kind in ("trigger", "conditional,oco", "move_order_stop")
        for state in ("effective", "canceled", "order_failed")
    }
