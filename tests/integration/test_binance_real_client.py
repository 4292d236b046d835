"""The emulator speaks Binance to a client we did not write: Binance's own binance-connector.

``binance.spot.Spot`` is pointed at the emulator with ``base_url=``. binance-connector 3.x has no
USD-M client (``UMFutures`` ships in the separate binance-futures-connector package, which
installs over the same ``binance`` package files), so USD-M is driven through its generic
``binance.api.API``, whose ``sign_request`` is the signing code both connectors share. Every
connection stays on loopback: an autouse guard refuses anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from binance.api import API
from binance.error import ClientError
from binance.lib.authentication import hmac_hashing
from binance.lib.utils import encoded_string, get_timestamp
from binance.spot import Spot
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from exchanges.emulator import Emulator
from tests.conftest import LOOPBACK

pytestmark = pytest.mark.timeout(60)

KEY, SECRET = "test-key", "test-secret"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=11) as emulator:
        yield emulator


def spot(emu: Emulator, **kwargs: Any) -> Spot:
    return Spot(api_key=KEY, api_secret=SECRET, base_url=emu.base_url, timeout=5, **kwargs)


def far_bid(client: Spot, symbol: str) -> str:
    book = client.ticker_24hr(symbol)
    return str((Decimal(book["bidPrice"]) * Decimal("0.9")).quantize(Decimal("0.01")))


def test_spot_places_queries_and_cancels(emu: Emulator) -> None:
    client = spot(emu)
    assert abs(client.time()["serverTime"] - emu.state.now_ms()) < 5000
    info = client.exchange_info(symbol="BTCUSDT")
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]
    assert info["rateLimits"][0] == {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": 6000,
    }
    price = far_bid(client, "BTCUSDT")
    placed = client.new_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price=price,
        newClientOrderId="conn-1",
    )
    assert (placed["status"], placed["clientOrderId"], placed["fills"]) == ("NEW", "conn-1", [])
    assert isinstance(placed["orderId"], int)
    fetched = client.get_order("BTCUSDT", origClientOrderId="conn-1")
    assert (fetched["orderId"], fetched["price"]) == (placed["orderId"], f"{Decimal(price):.8f}")
    assert [o["orderId"] for o in client.get_open_orders("BTCUSDT")] == [placed["orderId"]]
    with pytest.raises(ClientError) as dup:
        client.new_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                         quantity="0.01", price=price, newClientOrderId="conn-1")  # fmt: skip
    assert (dup.value.status_code, dup.value.error_code) == (400, -2010)
    cancelled = client.cancel_order("BTCUSDT", orderId=placed["orderId"])
    assert (cancelled["status"], cancelled["origClientOrderId"]) == ("CANCELED", "conn-1")
    with pytest.raises(ClientError) as gone:
        client.cancel_order("BTCUSDT", orderId=placed["orderId"])
    assert (gone.value.error_code, gone.value.error_message) == (-2011, "Unknown order sent.")
    filled = client.new_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.5")
    assert filled["status"] == "FILLED" and filled["fills"]
    trades = client.my_trades("ETHUSDT")
    assert {t["orderId"] for t in trades} == {filled["orderId"]}
    balances = {b["asset"]: b for b in client.account()["balances"]}
    assert Decimal(balances["ETH"]["free"]) > 20
    permissions = client.api_key_permissions()
    assert permissions["enableSpotAndMarginTrading"] and not permissions["enableWithdrawals"]
    assert {o["clientOrderId"] for o in client.get_orders("BTCUSDT")} == {"conn-1"}
    assert len(emu.ledger()) == 2


def test_usdm_through_the_connectors_signed_requests(emu: Emulator) -> None:
    client = API(api_key=KEY, api_secret=SECRET, base_url=emu.base_url, timeout=5)
    book = client.query("/fapi/v1/ticker/bookTicker", {"symbol": "ETHUSDT"})
    price = str((Decimal(book["bidPrice"]) * Decimal("0.8")).quantize(Decimal("0.01")))
    order = {"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    placed = client.sign_request(
        "POST",
        "/fapi/v1/order",
        {**order, "quantity": "0.1", "price": price, "newClientOrderId": "um-1"},
    )
    assert (placed["status"], placed["clientOrderId"]) == ("NEW", "um-1")
    with pytest.raises(ClientError) as dup:
        again = {**order, "quantity": "0.1", "price": price, "newClientOrderId": "um-1"}
        client.sign_request("POST", "/fapi/v1/order", again)
    assert dup.value.error_code == -4116
    lower = str(Decimal(price) - 1)
    change = {"symbol": "ETHUSDT", "orderId": placed["orderId"], "side": "BUY"}
    modified = client.sign_request(
        "PUT", "/fapi/v1/order", {**change, "quantity": "0.2", "price": lower}
    )
    assert (modified["orderId"], modified["price"], modified["origQty"]) == (
        placed["orderId"],
        lower,
        "0.20",
    )
    fetched = client.sign_request(
        "GET", "/fapi/v1/order", {"symbol": "ETHUSDT", "origClientOrderId": "um-1"}
    )
    assert fetched["status"] == "NEW"
    done = client.sign_request("DELETE", "/fapi/v1/allOpenOrders", {"symbol": "ETHUSDT"})
    assert done == {"code": 200, "msg": "The operation of cancel all open order is done."}
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    bought = client.sign_request("POST", "/fapi/v1/order", market)
    assert bought["status"] == "FILLED"
    positions = client.sign_request("GET", "/fapi/v3/positionRisk", {})
    assert [(p["symbol"], p["positionAmt"]) for p in positions] == [("BTCUSDT", "0.010")]
    assert client.sign_request("GET", "/fapi/v1/userTrades", {"symbol": "BTCUSDT"})


def test_ed25519_key_from_the_connector(emu: Emulator) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    emu.add_key("ed-key", public_key=public, permissions=("read", "spot_trade"))
    client = Spot(api_key="ed-key", private_key=private, base_url=emu.base_url, timeout=5)
    order = client.new_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    assert order["status"] == "FILLED"
    assert client.get_order("BTCUSDT", orderId=order["orderId"])["status"] == "FILLED"


def test_wrong_secret_and_unknown_key(emu: Emulator) -> None:
    with pytest.raises(ClientError) as bad:
        Spot(api_key=KEY, api_secret="wrong", base_url=emu.base_url).account()
    assert (bad.value.status_code, bad.value.error_code) == (400, -1022)
    with pytest.raises(ClientError) as unknown:
        Spot(api_key="nobody", api_secret=SECRET, base_url=emu.base_url).account()
    assert (unknown.value.status_code, unknown.value.error_code) == (401, -2015)
    assert unknown.value.error_message == "Invalid API-key, IP, or permissions for action."


# -- tampered requests: sign one payload, send another ------------------------------------------


def send(emu: Emulator, method: str, path: str, query: str) -> requests.Response:
    url = f"{emu.base_url}{path}?{query}"
    assert urlsplit(url).hostname in LOOPBACK
    return requests.request(method, url, headers={"X-MBX-APIKEY": KEY}, timeout=5)


@pytest.mark.parametrize(
    ("method", "path", "params", "old", "new"),
    [
        ("POST", "/api/v3/order",
         {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
         "quantity=0.001", "quantity=0.002"),
        ("GET", "/api/v3/account", {"omitZeroBalances": "true"}, "true", "fals"),
        ("POST", "/fapi/v1/order",
         {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"},
         "side=BUY", "side=BUZ"),
    ],
    ids=["spot-order", "spot-account", "usdm-order"],
)  # fmt: skip
def test_tampered_request_is_1022_and_the_honest_one_passes(
    emu: Emulator, method: str, path: str, params: dict[str, str], old: str, new: str
) -> None:
    # binance-connector's own serialisation and HMAC, byte for byte.
    payload = encoded_string({**params, "timestamp": get_timestamp()})
    sig = hmac_hashing(SECRET, payload)
    assert payload.count(old) == 1
    tampered = payload.replace(old, new)
    rejected = send(emu, method, path, f"{tampered}&signature={sig}")
    assert rejected.status_code == 400
    assert rejected.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert emu.ledger() == []
    honest = send(emu, method, path, f"{payload}&signature={sig.upper()}")
    # HMAC signatures are not case-sensitive (Binance's "Signature Case Sensitivity").
    assert honest.status_code == 200, honest.text
    assert "X-MBX-USED-WEIGHT-1M" in honest.headers
