"""The emulator speaks OKX v5 to a client we did not write: python-okx (``okx``).

python-okx signs its own way (spaced JSON bodies with every optional field, raw query strings,
the ``x-simulated-trading`` header on every request), so these tests check that the
emulator verifies signatures over the bytes it received, not over a re-serialisation. Every
connection stays on loopback; a guard fails the test if a client tries to leave it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import okx.Account as Account
import okx.MarketData as MarketData
import okx.PublicData as PublicData
import okx.Trade as Trade
import pytest

import exchanges
from adapters.okx.signer import iso_timestamp
from exchanges.emulator import Emulator

pytestmark = [
    pytest.mark.timeout(60),
    # httpx warns about python-okx's post(data=<str>); nothing else is silenced.
    pytest.mark.filterwarnings(
        "ignore:Use 'content=<...>' to upload raw bytes/text content.:DeprecationWarning"
    ),
]

KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"
DEMO_KEY, DEMO_SECRET, DEMO_PASSPHRASE = "demo-key", "demo-secret", "demo-passphrase"
LIVE_KEY, LIVE_SECRET, LIVE_PASSPHRASE = "live-key", "live-secret", "live-passphrase"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("okx", seed=11) as emulator:
        emulator.add_key(DEMO_KEY, DEMO_SECRET, passphrase=DEMO_PASSPHRASE, environment="demo")
        emulator.add_key(LIVE_KEY, LIVE_SECRET, passphrase=LIVE_PASSPHRASE, environment="live")
        yield emulator


@pytest.fixture
def opened() -> Iterator[list[Any]]:
    clients: list[Any] = []
    yield clients
    for c in clients:
        c.close()


def api(opened: list[Any], cls: Any, emu: Emulator, flag: str, *creds: str) -> Any:
    # python-okx defaults to flag="1" (demo): always explicit here.
    client = cls(*creds, flag=flag, domain=emu.base_url, debug=False)
    opened.append(client)
    return client


def ok(reply: dict[str, Any]) -> list[dict[str, Any]]:
    assert reply["code"] == "0", reply
    data: list[dict[str, Any]] = reply["data"]
    assert all(item.get("sCode", "0") == "0" for item in data), reply
    return data


def test_live_orders_place_query_amend_cancel(emu: Emulator, opened: list[Any]) -> None:
    trade = api(opened, Trade.TradeAPI, emu, "0", KEY, SECRET, PASSPHRASE)
    market = api(opened, MarketData.MarketAPI, emu, "0")
    bid = Decimal(ok(market.get_ticker("BTC-USDT"))[0]["bidPx"])
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    placed = ok(
        trade.place_order(
            instId="BTC-USDT",
            tdMode="cash",
            side="buy",
            ordType="limit",
            sz="0.01",
            px=price,
            clOrdId="pokx1",
        )
    )
    ord_id = placed[0]["ordId"]
    assert placed[0]["clOrdId"] == "pokx1" and ord_id.isdigit()
    by_id = ok(trade.get_order(instId="BTC-USDT", ordId=ord_id))[0]
    by_client = ok(trade.get_order(instId="BTC-USDT", clOrdId="pokx1"))[0]
    assert by_id == by_client and (by_id["state"], by_id["px"], by_id["sz"]) == (
        "live",
        price,
        "0.010000",
    )
    assert [o["ordId"] for o in ok(trade.get_order_list(instType="SPOT"))] == [ord_id]
    ok(trade.amend_order(instId="BTC-USDT", ordId=ord_id, newSz="0.02"))
    assert ok(trade.get_order(instId="BTC-USDT", ordId=ord_id))[0]["sz"] == "0.020000"
    ok(trade.cancel_order(instId="BTC-USDT", clOrdId="pokx1"))
    assert ok(trade.get_order(instId="BTC-USDT", ordId=ord_id))[0]["state"] == "canceled"
    history = ok(trade.get_orders_history(instType="SPOT"))
    assert [o["ordId"] for o in history] == [ord_id]
    again = trade.cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert (again["code"], again["data"][0]["sCode"]) == ("1", "51400")
    # Our own client sees the order python-okx placed.
    creds = exchanges.Credentials(KEY, SECRET, passphrase=PASSPHRASE)
    with exchanges.connect("okx", base_url=emu.base_url, credentials=creds) as ours:
        order = ours.fetch_order(None, "BTC/USDT", client_order_id="pokx1")
    assert (order.id, order.status, order.amount) == (ord_id, "canceled", Decimal("0.02"))
    assert [o["client_order_id"] for o in emu.ledger()] == ["pokx1"]


def test_swap_contracts_positions_fills_and_account(emu: Emulator, opened: list[Any]) -> None:
    trade = api(opened, Trade.TradeAPI, emu, "0", KEY, SECRET, PASSPHRASE)
    account = api(opened, Account.AccountAPI, emu, "0", KEY, SECRET, PASSPHRASE)
    public = api(opened, PublicData.PublicAPI, emu, "0")
    swap = ok(public.get_instruments("SWAP", instId="BTC-USDT-SWAP"))[0]
    assert (swap["ctVal"], swap["ctType"], swap["settleCcy"]) == ("0.01", "linear", "USDT")
    ok(
        trade.place_order(
            instId="BTC-USDT-SWAP", tdMode="cross", side="buy", ordType="market", sz="3"
        )
    )
    positions = ok(account.get_positions(instType="SWAP"))
    assert [(p["instId"], p["pos"], p["posSide"]) for p in positions] == [
        ("BTC-USDT-SWAP", "3", "net"),
    ]
    fills = ok(trade.get_fills(instType="SWAP"))
    assert sum(Decimal(f["fillSz"]) for f in fills) == 3
    assert all(f["execType"] == "T" and Decimal(f["fee"]) < 0 for f in fills)
    config = ok(account.get_account_config())[0]
    assert set(config["perm"].split(",")) == {"read_only", "trade"}
    usdt = [d for d in ok(account.get_account_balance())[0]["details"] if d["ccy"] == "USDT"]
    assert Decimal(usdt[0]["cashBal"]) < 100000  # fees paid
    assert ok(public.get_system_time())[0]["ts"].isdigit()


def test_demo_flag_and_environment_mismatch(emu: Emulator, opened: list[Any]) -> None:
    demo = api(opened, Trade.TradeAPI, emu, "1", DEMO_KEY, DEMO_SECRET, DEMO_PASSPHRASE)
    placed = ok(
        demo.place_order(
            instId="ETH-USDT",
            tdMode="cash",
            side="buy",
            ordType="limit",
            sz="0.1",
            px="1000",
            clOrdId="demo1",
        )
    )
    ok(demo.cancel_order(instId="ETH-USDT", ordId=placed[0]["ordId"]))
    wrong_env = [
        api(opened, Trade.TradeAPI, emu, "1", LIVE_KEY, LIVE_SECRET, LIVE_PASSPHRASE),
        api(opened, Trade.TradeAPI, emu, "0", DEMO_KEY, DEMO_SECRET, DEMO_PASSPHRASE),
    ]
    for client in wrong_env:
        reply = client.get_order_list()
        assert (reply["code"], reply["msg"]) == (
            "50101",
            "APIKey does not match current environment.",
        )
    live = api(opened, Trade.TradeAPI, emu, "0", LIVE_KEY, LIVE_SECRET, LIVE_PASSPHRASE)
    assert ok(live.get_order_list()) == []


def test_business_errors_come_per_item(emu: Emulator, opened: list[Any]) -> None:
    trade = api(opened, Trade.TradeAPI, emu, "0", KEY, SECRET, PASSPHRASE)
    ok(
        trade.place_order(
            instId="BTC-USDT",
            tdMode="cash",
            side="buy",
            ordType="limit",
            sz="0.01",
            px="1000",
            clOrdId="dup1",
        )
    )
    dup = trade.place_order(
        instId="BTC-USDT",
        tdMode="cash",
        side="buy",
        ordType="limit",
        sz="0.01",
        px="1000",
        clOrdId="dup1",
    )
    assert (dup["code"], dup["data"][0]["sCode"], dup["data"][0]["clOrdId"]) == (
        "1",
        "51016",
        "dup1",
    )
    poor = trade.place_order(
        instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="50", px="60000"
    )
    item = poor["data"][0]
    assert (poor["code"], item["sCode"], item["subCode"]) == ("1", "51008", "1000")
    missing = trade.get_order(instId="BTC-USDT", ordId="999999999999999999")
    assert (missing["code"], missing["data"]) == ("51603", [])
    wrong = api(opened, Trade.TradeAPI, emu, "0", KEY, SECRET, "not-the-passphrase")
    assert wrong.get_order_list()["code"] == "50105"


def signed_headers(method: str, target: str, body: str, secret: str = SECRET) -> dict[str, str]:
    stamp = iso_timestamp(int(__import__("time").time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}{method}{target}{body}".encode(), hashlib.sha256)
    return {
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
        "Content-Type": "application/json",
        "x-simulated-trading": "0",
    }


def test_tampered_requests_are_refused_with_50113(emu: Emulator) -> None:
    path = "/api/v5/trade/order"
    body = json.dumps(
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "market",
            "sz": "0.001",
            "tgtCcy": "base_ccy",
        }
    )
    with httpx.Client(base_url=emu.base_url) as http:
        # The signature covers sz 0.001; a man in the middle raises it to 1.
        tampered = body.replace('"0.001"', '"1"')
        reply = http.post(path, content=tampered, headers=signed_headers("POST", path, body))
        assert (reply.status_code, reply.json()["code"]) == (401, "50113")
        target = f"{path}?instId=BTC-USDT&clOrdId=x1"
        reply = http.get(
            f"{path}?instId=ETH-USDT&clOrdId=x1", headers=signed_headers("GET", target, "")
        )
        assert (reply.status_code, reply.json()["code"]) == (401, "50113")
        # The untouched request goes through: the refusals above were about the bytes only.
        reply = http.post(path, content=body, headers=signed_headers("POST", path, body))
        assert reply.json()["code"] == "0"
    assert len(emu.ledger()) == 1 and Decimal(emu.ledger()[0]["qty"]) == Decimal("0.001")
