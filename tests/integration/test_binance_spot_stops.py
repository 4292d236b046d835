"""Binance spot stop orders (STOP_LOSS, TAKE_PROFIT and their _LIMIT forms on /api/v3/order):
the emulator on the wire, and the adapter over it, exactly once."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from adapters.binance.emulator_ws import sockets_of
from adapters.binance.emulator_ws_user import UserData
from exchanges.emulator import DEFAULT_UID, Emulator
from exchanges.errors import InvalidOrder
from tests.integration.test_binance_emulator import signed

pytestmark = pytest.mark.timeout(60)

CREDS = exchanges.Credentials("test-key", "test-secret")
D = Decimal
STOP_TYPES = ["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[exchanges.Exchange]:
    with exchanges.connect("binance", base_url=emu.base_url, credentials=CREDS) as ex:
        yield ex


def last(client: exchanges.Exchange) -> Decimal:
    price = client.fetch_ticker("BTC/USDT").last
    assert price is not None
    return price


def move(emu: Emulator, price: Decimal) -> None:
    emu.move_price("BTCUSDT", category="spot", last=price)


def waiting(emu: Emulator) -> list[Any]:
    return emu.state.engine.triggers(DEFAULT_UID)


def test_exchange_info_lists_the_stop_types(emu: Emulator) -> None:
    # ccxt checks a type against the symbol's orderTypes before sending it.
    with urllib.request.urlopen(f"{emu.base_url}/api/v3/exchangeInfo", timeout=20) as answer:
        info = json.loads(answer.read())
    for symbol in info["symbols"]:
        assert set(STOP_TYPES) <= set(symbol["orderTypes"])
        assert symbol["allowTrailingStop"] is False


def test_a_stop_on_the_wire_waits_then_works_with_the_same_id(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    price = last(client)
    stop = price - 100
    order = f"symbol=BTCUSDT&side=SELL&type=STOP_LOSS&quantity=0.001&stopPrice={stop}"
    status, ack = signed(emu, "POST", "/api/v3/order", order + "&newClientOrderId=sl-1")
    # Stop types answer ACK unless newOrderRespType says otherwise.
    assert status == 200 and "status" not in ack and ack["clientOrderId"] == "sl-1"
    number = ack["orderId"]
    _, row = signed(emu, "GET", "/api/v3/order", f"symbol=BTCUSDT&orderId={number}")
    assert (row["type"], D(row["stopPrice"]), row["status"]) == ("STOP_LOSS", stop, "NEW")
    assert (row["isWorking"], row["workingTime"], D(row["executedQty"])) == (False, -1, 0)
    _, listed = signed(emu, "GET", "/api/v3/openOrders", "symbol=BTCUSDT")
    assert [(r["orderId"], r["type"]) for r in listed] == [(number, "STOP_LOSS")]
    # The id is taken while the stop waits.
    status, dup = signed(emu, "POST", "/api/v3/order", order + "&newClientOrderId=sl-1")
    assert (status, dup["code"], dup["msg"]) == (400, -2010, "Duplicate order sent.")
    move(emu, price - 200)
    assert waiting(emu) == []
    _, fired = signed(emu, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=sl-1")
    assert (fired["orderId"], fired["type"], fired["status"]) == (number, "STOP_LOSS", "FILLED")
    assert (fired["isWorking"], D(fired["executedQty"]), D(fired["stopPrice"])) == (
        True,
        D("0.001"),
        stop,
    )
    assert fired["workingTime"] >= row["time"]
    _, history = signed(emu, "GET", "/api/v3/allOrders", "symbol=BTCUSDT")
    assert [(r["orderId"], r["type"], r["status"]) for r in history] == [
        (number, "STOP_LOSS", "FILLED")
    ]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        # A buy stop-loss fires above the market: one below it is reached already.
        ("side=BUY&type=STOP_LOSS&stopPrice={below}", -2010, "Order would trigger immediately."),
        ("side=SELL&type=TAKE_PROFIT&stopPrice={below}", -2010, "Order would trigger immediately."),
        (
            "side=SELL&type=STOP_LOSS",
            -1102,
            "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
        ),
        (
            "side=SELL&type=STOP_LOSS&trailingDelta=100",
            -2010,
            "Trailing stop orders are not supported for this symbol.",
        ),
        (
            "side=SELL&type=STOP_LOSS_LIMIT&stopPrice={below}&price={below}",
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            "side=SELL&type=LIMIT&timeInForce=GTC&price={above}&stopPrice={below}",
            -1106,
            "Parameter 'stopPrice' sent when not required.",
        ),
    ],
)
def test_a_stop_the_wire_refuses(
    client: exchanges.Exchange, emu: Emulator, params: str, code: int, message: str
) -> None:
    price = last(client)
    query = params.format(below=price - 100, above=price + 100)
    status, body = signed(emu, "POST", "/api/v3/order", f"symbol=BTCUSDT&quantity=0.001&{query}")
    assert (status, body["code"], body["msg"]) == (400, code, message)
    assert waiting(emu) == [] and emu.ledger() == []


@pytest.mark.parametrize(
    ("side", "direction", "native"),
    [
        ("buy", "rise", "STOP_LOSS_LIMIT"),
        ("sell", "rise", "TAKE_PROFIT_LIMIT"),
        ("sell", "fall", "STOP_LOSS_LIMIT"),
        ("buy", "fall", "TAKE_PROFIT_LIMIT"),
    ],
)
def test_the_type_follows_side_and_direction(
    client: exchanges.Exchange, emu: Emulator, side: str, direction: str, native: str
) -> None:
    price = last(client)
    trigger = price + 100 if direction == "rise" else price - 100
    order = client.create_order(
        "BTC/USDT",
        "limit",
        side,  # type: ignore[arg-type]
        D("0.001"),
        trigger,
        trigger_price=trigger,
        trigger_direction=direction,  # type: ignore[arg-type]
    )
    assert (order.raw["type"], order.type, order.price, order.trigger_price) == (
        native,
        "limit",
        trigger,
        trigger,
    )
    assert order.id is not None
    fetched = client.fetch_order(order.id, "BTC/USDT")
    assert (fetched.conditional, fetched.trigger_by, fetched.status) == (True, "last", "open")
    cancelled = client.cancel_order(order.id, "BTC/USDT")
    assert (cancelled.status, cancelled.conditional, cancelled.trigger_price) == (
        "canceled",
        True,
        trigger,
    )
    assert waiting(emu) == []


def test_a_stop_limit_rests_on_the_book_once_triggered(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    price = last(client)
    # Sell once the price falls to the trigger, at a limit above where it went.
    order = client.create_order(
        "BTC/USDT", "limit", "sell", D("0.001"), price - 50, trigger_price=price - 100
    )
    move(emu, price - 200)
    [working] = client.fetch_open_orders("BTC/USDT")
    assert (working.id, working.status, working.conditional) == (order.id, "open", True)
    assert (working.raw["isWorking"], working.raw["type"]) == (True, "STOP_LOSS_LIMIT")
    assert working.id is not None
    assert client.cancel_order(working.id, "BTC/USDT").status == "canceled"
    assert client.fetch_open_orders("BTC/USDT") == []


def test_a_stop_already_reached_is_an_invalid_order_with_a_hint(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    price = last(client)
    with pytest.raises(InvalidOrder) as refused:
        client.create_order(
            "BTC/USDT", "market", "sell", D("0.001"), trigger_price=price + 100,
            trigger_direction="fall",
        )  # fmt: skip
    assert refused.value.code == -2010
    assert "trigger_direction" in (refused.value.hint or "")
    assert waiting(emu) == []


@pytest.mark.parametrize("name", ["binance", "ccxt:binance"])
def test_a_spot_stop_is_placed_once_when_the_answer_is_lost(emu: Emulator, name: str) -> None:
    with exchanges.connect(name, base_url=emu.base_url, credentials=CREDS) as client:
        price = last(client)
        client.fetch_balance()
        emu.set_faults("drop_after:1.0@/api/v3/order*1")
        order = client.create_order(
            "BTC/USDT", "market", "sell", D("0.001"), trigger_price=price - 100,
            client_order_id="sl-2",
        )  # fmt: skip
    # Learnt from the lookup by origClientOrderId, not from the lost answer.
    assert (order.client_order_id, order.status, order.conditional) == ("sl-2", "open", True)
    assert len(waiting(emu)) == 1 and emu.stats()["faults_injected"]


def test_cancel_all_orders_cancels_waiting_stops(client: exchanges.Exchange, emu: Emulator) -> None:
    price = last(client)
    client.create_order("BTC/USDT", "market", "sell", D("0.001"), trigger_price=price - 100)
    client.create_order("BTC/USDT", "limit", "buy", D("0.001"), price - 500)
    cancelled = client.cancel_all_orders("BTC/USDT")
    assert sorted((o.conditional, o.status) for o in cancelled) == [
        (False, "canceled"),
        (True, "canceled"),
    ]
    assert waiting(emu) == [] and client.fetch_open_orders("BTC/USDT") == []


def test_finished_stops_are_listed_closed_and_cancelled(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    price = last(client)
    fired = client.create_order("BTC/USDT", "market", "sell", D("0.001"), trigger_price=price - 100)
    kept = client.create_order("BTC/USDT", "market", "buy", D("0.001"), trigger_price=price + 500)
    assert kept.id is not None
    client.cancel_order(kept.id, "BTC/USDT")
    move(emu, price - 200)
    closed = client.fetch_closed_orders("BTC/USDT")
    assert sorted((o.id, o.status, o.conditional, o.trigger_price) for o in closed) == sorted(
        [(fired.id, "closed", True, price - 100), (kept.id, "canceled", True, price + 500)]
    )


def own_user_data(emu: Emulator) -> UserData:
    """A user-data differ of the account that the emulator's publisher does not poll (it
    forgets accounts nobody subscribed to), so each ``poll`` sees everything since the last."""
    user = UserData(sockets_of(emu.state).user.front)
    user.track(DEFAULT_UID)
    return user


def test_the_user_stream_reports_a_stop_placed_and_fired_within_one_tick_in_order(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    user = own_user_data(emu)
    price = last(client)
    order = f"symbol=BTCUSDT&side=BUY&type=STOP_LOSS&quantity=0.001&stopPrice={price + 100}"
    _, ack = signed(emu, "POST", "/api/v3/order", order + "&newClientOrderId=sl-up")
    move(emu, price + 150)
    events = user.poll(emu.state.now_ms(), {DEFAULT_UID})[DEFAULT_UID]
    reports = [e for market, e in events if e["e"] == "executionReport"]
    assert all(market == "spot" for market, _ in events)
    # The stop's placement, then the order it placed: NEW working, its trades, FILLED last.
    assert [(r["x"], r["w"]) for r in reports[:2]] == [("NEW", False), ("NEW", True)]
    assert {r["x"] for r in reports[2:]} == {"TRADE"} and reports[-1]["X"] == "FILLED"
    assert {(r["i"], r["c"], r["o"], D(r["P"])) for r in reports} == {
        (ack["orderId"], "sl-up", "STOP_LOSS", price + 100)
    }
    assert "W" not in reports[0] and reports[1]["W"] >= reports[1]["O"] == reports[0]["O"]


def test_the_user_stream_reports_a_stop_that_cannot_be_placed_as_it_fires_expired(
    client: exchanges.Exchange, emu: Emulator
) -> None:
    user = own_user_data(emu)
    price = last(client)
    # A waiting stop reserves nothing; when it fires the wallet (2 BTC) cannot pay for it.
    order = f"symbol=BTCUSDT&side=SELL&type=STOP_LOSS&quantity=50&stopPrice={price - 100}"
    status, ack = signed(emu, "POST", "/api/v3/order", order + "&newClientOrderId=sl-big")
    assert status == 200
    move(emu, price - 150)
    events = user.poll(emu.state.now_ms(), {DEFAULT_UID})[DEFAULT_UID]
    mine = [e for _, e in events if e["e"] == "executionReport" and e["i"] == ack["orderId"]]
    assert [(r["x"], r["X"]) for r in mine] == [("NEW", "NEW"), ("EXPIRED", "EXPIRED")]
    assert (mine[-1]["c"], mine[-1]["o"], D(mine[-1]["P"])) == ("sl-big", "STOP_LOSS", price - 100)
    (row,) = signed(emu, "GET", "/api/v3/allOrders", "symbol=BTCUSDT")[1]
    assert (row["orderId"], row["status"]) == (ack["orderId"], "EXPIRED")
