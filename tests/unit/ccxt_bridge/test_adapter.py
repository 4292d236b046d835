"""The bridge's flows over a scripted stand-in for a ccxt client: calls made, answers used."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt
import pytest

import exchanges
from adapters.ccxt_bridge.adapter import CcxtAdapter
from adapters.ccxt_bridge.client import CcxtAsyncExchange, CcxtExchange
from adapters.ccxt_bridge.errors import Scrubber
from adapters.ccxt_bridge.runner import AsyncRunner, SyncRunner
from exchanges.errors import (
    BadRequest,
    BadResponse,
    NotSupported,
    OrderNotFound,
    OutcomeUnknown,
)
from exchanges.flow import Session
from exchanges.retry import RetryPolicy

D = Decimal
CREDS = exchanges.Credentials("fake-key-0123456789", "fake-secret-abcdef")
MARKETS = {
    "BTC/USDT": {
        "symbol": "BTC/USDT", "id": "BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT",
        "precision": {"price": D("0.01"), "amount": D("0.0001")}, "limits": {}, "active": True,
    },
    "BTC/USDT:USDT": {
        "symbol": "BTC/USDT:USDT", "id": "BTCUSDT", "type": "swap", "base": "BTC",
        "quote": "USDT", "settle": "USDT", "linear": True, "inverse": False,
        "contractSize": D(1), "precision": {}, "limits": {}, "active": True,
    },
}  # fmt: skip
EVERYTHING = {
    "fetchOrder", "fetchOpenOrders", "fetchCanceledAndClosedOrders", "createOrder",
    "cancelOrder", "editOrder", "cancelAllOrders", "fetchBalance", "fetchTime", "fetchTicker",
    "fetchOHLCV", "fetchClosedOrders", "fetchCanceledOrders",
}  # fmt: skip


def order(cid: str = "c1", status: str = "open", **over: Any) -> dict[str, Any]:
    item = {
        "id": "o1", "clientOrderId": cid, "symbol": "BTC/USDT", "type": "limit", "side": "buy",
        "status": status, "price": D(100), "amount": D(1), "filled": D(0), "remaining": D(1),
        "timestamp": 5, "lastUpdateTimestamp": 6, "info": {},
    }  # fmt: skip
    item.update(over)
    return item


class FakeCcxt:
    """Answers ccxt method calls from a script; each answer is a value or an exception."""

    id = "fakex"
    precisionMode = 4
    timeframes = {"1m": "1m"}  # noqa: RUF012 - a stand-in for ccxt's attribute

    def __init__(self, has: set[str], **script: Any) -> None:
        self.has = dict.fromkeys(has, True)
        self.script = {name: list(answers) for name, answers in script.items()}
        self.script.setdefault("load_markets", [MARKETS] * 5)
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.options: dict[str, Any] = {}
        self.markets: dict[str, Any] = {}
        self.currencies: dict[str, Any] = {}
        self.now = 1_000_000

    def milliseconds(self) -> int:
        return self.now

    def set_markets(self, markets: Any, currencies: Any = None) -> None:
        self.calls.append(("set_markets", ()))
        self.markets = markets

    def close(self) -> None:
        self.calls.append(("close", ()))

    def answer(self, name: str, args: tuple[Any, ...]) -> Any:
        self.calls.append((name, args))
        answers = self.script.get(name)
        if not answers:
            raise AssertionError(f"unexpected call {name}{args}")
        item = answers.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args: self.answer(name, args)

    def made(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]


def connect(fake: FakeCcxt, family: str | None = None, trade: Any = None) -> CcxtExchange:
    adapter = CcxtAdapter(options={"ccxt_id": "bybit"})
    adapter.family = family
    adapter.client = fake
    # No sleeping between retries: these tests are about which calls are made.
    retry = RetryPolicy(initial_wait=0, max_wait=0, min_rate_limit_wait=0)
    session = Session(adapter, credentials=CREDS, retry=retry)
    return CcxtExchange(adapter, session, SyncRunner(fake, trade or fake, Scrubber([CREDS])))


# -- placing orders ---------------------------------------------------------------------------


def test_create_order_sends_the_client_order_id_and_unified_flags() -> None:
    fake = FakeCcxt(EVERYTHING, create_order=[{"id": "o1", "clientOrderId": "c1", "info": {}}] * 2)
    client = connect(fake)
    placed = client.create_order(
        "BTC/USDT", "limit", "buy", "0.01", "100", client_order_id="c1", post_only=True,
        params={"note": D("1.50")},
    )  # fmt: skip
    assert fake.made("create_order") == [
        ("BTC/USDT", "limit", "buy", D("0.01"), D(100),
         {"clientOrderId": "c1", "postOnly": True, "note": "1.50"}),
    ]  # fmt: skip
    # An acknowledgement with ids only is completed from the request, as the native adapters do.
    assert (placed.id, placed.type, placed.price, placed.amount, placed.time_in_force) == (
        "o1", "limit", D(100), D("0.01"), "PO",
    )  # fmt: skip
    client.create_order(
        "BTC/USDT:USDT", "market", "sell", D(1), time_in_force="IOC", reduce_only=True
    )
    params = fake.made("create_order")[1][5]
    assert params["timeInForce"] == "IOC" and params["reduceOnly"] is True
    assert len(params["clientOrderId"]) == 32  # generated: every order carries one


def test_lost_create_is_looked_up_and_resent_once_where_absence_is_proven() -> None:
    fake = FakeCcxt(
        EVERYTHING,
        create_order=[ccxt.NetworkError("fakex connection reset"), order(status="open")],
        fetch_order=[ccxt.OrderNotFound('fakex {"code":-2013,"msg":"Order does not exist."}')],
    )
    placed = connect(fake, family="binance").create_order(
        "BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c1"
    )
    assert placed.status == "open"
    assert fake.made("fetch_order") == [(None, "BTC/USDT", {"clientOrderId": "c1"})]
    assert len(fake.made("create_order")) == 2


def test_lost_create_found_by_lookup_is_not_resent() -> None:
    fake = FakeCcxt(
        EVERYTHING,
        create_order=[ccxt.RequestTimeout("fakex timed out")],
        fetch_order=[order()],
    )
    placed = connect(fake, family="okx").create_order(
        "BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c1"
    )
    assert (placed.id, placed.client_order_id) == ("o1", "c1")
    assert len(fake.made("create_order")) == 1


def test_lost_create_elsewhere_searches_the_lists_and_never_resends() -> None:
    found = FakeCcxt(
        EVERYTHING,
        create_order=[ccxt.ExchangeNotAvailable("fakex 502 Bad Gateway")],
        fetch_open_orders=[[order(cid="other"), order(cid="c1", id="o2")]],
    )
    placed = connect(found).create_order(
        "BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c1"
    )
    assert placed.id == "o2"
    missing = FakeCcxt(
        EVERYTHING,
        create_order=[ccxt.NetworkError("fakex reset")],
        fetch_open_orders=[[]],
        fetch_canceled_and_closed_orders=[[]],
    )
    with pytest.raises(OutcomeUnknown) as caught:
        connect(missing).create_order(
            "BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c1"
        )
    assert caught.value.client_order_id == "c1"
    assert len(missing.made("create_order")) == 1
    blind = FakeCcxt({"createOrder"}, create_order=[ccxt.NetworkError("fakex reset")])
    with pytest.raises(OutcomeUnknown) as unconfirmed:
        connect(blind).create_order("BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c9")
    assert unconfirmed.value.client_order_id == "c9"


def test_refusals_are_not_reconciled() -> None:
    fake = FakeCcxt(
        EVERYTHING, create_order=[ccxt.InsufficientFunds('fakex {"code":1,"msg":"poor"}')]
    )
    with pytest.raises(exchanges.InsufficientFunds):
        connect(fake).create_order("BTC/USDT", "limit", "buy", D(1), D(100))
    assert fake.made("fetch_open_orders") == []


# -- clock, reads, capabilities ---------------------------------------------------------------


def test_invalid_nonce_resyncs_the_clock_once_and_repeats_the_call() -> None:
    balance = {"USDT": {"free": D(1), "used": D(0), "total": D(1)}}
    fake = FakeCcxt(
        EVERYTHING,
        fetch_balance=[ccxt.InvalidNonce("fakex timestamp"), balance],
        fetch_time=[fake_server := 970_000],
    )
    assert connect(fake).fetch_balance()["USDT"].total == 1
    assert fake.options["timeDifference"] == fake.now - fake_server
    again = FakeCcxt(
        EVERYTHING,
        fetch_balance=[ccxt.InvalidNonce("fakex one"), ccxt.InvalidNonce("fakex two")],
        fetch_time=[970_000],
    )
    with pytest.raises(exchanges.ClockSkew, match="two"):
        connect(again).fetch_balance()
    broken = FakeCcxt(
        EVERYTHING,
        fetch_balance=[ccxt.InvalidNonce("fakex first")],
        fetch_time=[ccxt.NetworkError("fakex down")],
    )
    with pytest.raises(exchanges.ClockSkew, match="first"):
        connect(broken).fetch_balance()


def test_fetch_order_falls_back_to_the_lists() -> None:
    fake = FakeCcxt(
        EVERYTHING,
        fetch_order=[ccxt.ArgumentsRequired("fakex fetchOrder() needs acknowledged")],
        fetch_open_orders=[[]],
        fetch_canceled_and_closed_orders=[[order(status="canceled")]],
    )
    found = connect(fake).fetch_order("o1", "BTC/USDT")
    assert (found.status, found.remaining) == ("canceled", 0)
    gone = FakeCcxt(
        EVERYTHING,
        fetch_order=[ccxt.OrderNotFound("fakex no")],
        fetch_open_orders=[[]],
        fetch_canceled_and_closed_orders=[[]],
    )
    with pytest.raises(OrderNotFound):
        connect(gone).fetch_order("o1", "BTC/USDT")
    # Where the exchange answers by id, its "not found" is final.
    final = FakeCcxt(EVERYTHING, fetch_order=[ccxt.OrderNotFound("fakex no")])
    with pytest.raises(OrderNotFound):
        connect(final, family="binance").fetch_order("o1", "BTC/USDT")
    assert final.made("fetch_open_orders") == []


def test_cancel_by_client_order_id() -> None:
    resolved = FakeCcxt(
        EVERYTHING,
        fetch_open_orders=[[order()]],
        cancel_order=[{"id": "o1", "info": {}}],
    )
    cancelled = connect(resolved).cancel_order(None, "BTC/USDT", client_order_id="c1")
    # ccxt's bybit ignores params["clientOrderId"] on cancel: the id is looked up first.
    assert resolved.made("cancel_order") == [("o1", "BTC/USDT", {})]
    assert (cancelled.id, cancelled.client_order_id) == ("o1", "c1")
    direct = FakeCcxt(
        EVERYTHING,
        cancel_order=[order(status="canceled", clientOrderId="cancel77",
                            info={"origClientOrderId": "c1"})],
    )  # fmt: skip
    done = connect(direct, family="binance").cancel_order(None, "BTC/USDT", client_order_id="c1")
    assert direct.made("cancel_order") == [(None, "BTC/USDT", {"clientOrderId": "c1"})]
    # Binance's cancel answer names the cancel request; the order's own id is kept.
    assert done.client_order_id == "c1"


def test_cancel_all_without_ccxt_support_cancels_each_open_order() -> None:
    has = EVERYTHING - {"cancelAllOrders"}
    fake = FakeCcxt(
        has,
        fetch_open_orders=[[order(id="o1"), order(id="o2", cid="c2")]],
        cancel_order=[{"id": "o1", "info": {}}, {"id": "o2", "info": {}}],
    )
    cancelled = connect(fake).cancel_all_orders("BTC/USDT")
    assert [o.id for o in cancelled] == ["o1", "o2"]
    # Without a symbol: the open orders of each market type (ccxt's call without a symbol
    # covers one type on most exchanges), then ccxt's cancel-all per market that has some.
    native = FakeCcxt(
        EVERYTHING,
        fetch_open_orders=[[order()], [], [order()], [order()], [], [order()], [], []],
        cancel_all_orders=[[order(status="canceled")], {"odd": 1}],
    )
    assert [o.id for o in connect(native).cancel_all_orders()] == ["o1"]
    scopes = [args for name, args in native.calls if name == "fetch_open_orders"][:3]
    assert scopes == [
        (None, None, None, {"type": "spot"}),
        (None, None, None, {"type": "swap", "subType": "linear"}),
        ("BTC/USDT", None, None, {}),
    ]
    # A cancel-all answered with a bare success: the orders read before it, cancelled.
    bare = connect(native).cancel_all_orders()
    assert [(o.id, o.status) for o in bare] == [("o1", "canceled")]
    assert connect(native).cancel_all_orders() == []


def test_amend_fetches_the_order_for_what_ccxt_needs() -> None:
    fake = FakeCcxt(
        EVERYTHING,
        fetch_order=[order(side="sell")],
        edit_order=[{"id": "o1", "info": {}}],
    )
    amended = connect(fake).amend_order("o1", "BTC/USDT", price=D(99))
    assert fake.made("edit_order") == [("o1", "BTC/USDT", "limit", "sell", D(1), D(99), {})]
    assert (amended.price, amended.amount, amended.client_order_id) == (D(99), D(1), "c1")


def test_closed_orders_merge_closed_and_cancelled_newest_first() -> None:
    has = EVERYTHING - {"fetchCanceledAndClosedOrders"}
    fake = FakeCcxt(
        has,
        fetch_closed_orders=[[order(id="a", status="closed", lastUpdateTimestamp=10)]],
        fetch_canceled_orders=[
            [order(id="b", status="canceled", lastUpdateTimestamp=20), order(id="c")]
        ],
    )
    closed = connect(fake).fetch_closed_orders("BTC/USDT", limit=5)
    assert [o.id for o in closed] == ["b", "a"]
    assert fake.made("fetch_closed_orders") == [("BTC/USDT", None, 5)]


def test_capabilities_timeframes_and_shapes() -> None:
    fake = FakeCcxt(set(), fetch_ohlcv=[])
    client = connect(fake)
    with pytest.raises(NotSupported, match="fetchTicker"):
        client.fetch_ticker("BTC/USDT")
    with pytest.raises(NotSupported, match="permissions"):
        client.fetch_key_info()
    with pytest.raises(NotSupported):
        client.audit_key()
    with pytest.raises(exchanges.BadSymbol):
        client.fetch_ticker("DOGE/USDT")
    capable = connect(FakeCcxt(EVERYTHING, fetch_ticker=["not a dict"], fetch_open_orders=[{}]))
    with pytest.raises(BadRequest, match="timeframe"):
        capable.fetch_ohlcv("BTC/USDT", "7m")
    with pytest.raises(BadResponse):
        capable.fetch_ticker("BTC/USDT")
    with pytest.raises(BadResponse):
        capable.fetch_open_orders("BTC/USDT")


def test_the_trade_client_gets_the_read_clients_markets() -> None:
    read = FakeCcxt(EVERYTHING)
    trade = FakeCcxt(EVERYTHING, create_order=[order()])
    client = connect(read, trade=trade)
    client.create_order("BTC/USDT", "limit", "buy", D(1), D(100))
    assert ("set_markets", ()) in trade.calls and trade.made("load_markets") == []
    assert len(trade.made("create_order")) == 1 and read.made("create_order") == []
    client.close()
    assert ("close", ()) in read.calls and ("close", ()) in trade.calls


# -- async ------------------------------------------------------------------------------------


class AsyncFake(FakeCcxt):
    """The same script, awaited."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        sync = super().__getattr__(name)

        async def call(*args: Any) -> Any:
            await asyncio.sleep(0)
            return sync(*args)

        return call

    async def close(self) -> None:  # type: ignore[override]
        self.calls.append(("close", ()))


async def test_async_runner_resyncs_and_reconciles() -> None:
    fake = AsyncFake(
        EVERYTHING,
        fetch_balance=[ccxt.InvalidNonce("fakex stamp"), {"BTC": {"free": D(1), "used": D(1)}}],
        fetch_time=[980_000],
        create_order=[ccxt.NetworkError("fakex reset")],
        fetch_order=[order()],
    )
    adapter = CcxtAdapter(options={"ccxt_id": "okx"})
    adapter.client = fake
    session = Session(adapter, credentials=CREDS)
    async with CcxtAsyncExchange(adapter, session, AsyncRunner(fake, fake, Scrubber())) as client:
        assert (await client.fetch_balance())["BTC"].total == 2
        placed = await client.create_order(
            "BTC/USDT", "limit", "buy", D(1), D(100), client_order_id="c1"
        )
        assert placed.id == "o1"
    assert fake.options["timeDifference"] == 20_000
    assert ("close", ()) in fake.calls


def test_mapped_errors_carry_no_ccxt_exception() -> None:
    # ccxt's text (URLs with signatures, echoed bodies) stays out of __cause__ and __context__.
    fake = FakeCcxt(EVERYTHING, fetch_balance=[ccxt.AuthenticationError("fakex secret text")])
    with pytest.raises(exchanges.AuthenticationError) as caught:
        connect(fake, trade=None).fetch_balance()
    chain: list[BaseException] = []
    err: BaseException | None = caught.value
    while err is not None:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert not any(isinstance(link, ccxt.BaseError) for link in chain)


def test_no_streams_through_the_bridge() -> None:
    # The stream registry is keyed by name, and the bridge's adapter for ccxt's bybit is named
    # "bybit": it must refuse rather than get the native Bybit dialect.
    with pytest.raises(NotSupported, match="no WebSocket streams"):
        CcxtAdapter(options={"ccxt_id": "bybit"}).stream_dialect()
