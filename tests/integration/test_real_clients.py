"""The emulator speaks Bybit v5 to clients we did not write: pybit 5.x and ccxt 4.x.

Everything runs on loopback: an autouse guard refuses every non-loopback connection and DNS
lookup, and fails the test if a client tried one.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pybit._helpers import generate_timestamp
from pybit._http_manager import generate_signature
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from exchanges.emulator import Emulator
from tests.conftest import LOOPBACK

KEY, SECRET = "test-key", "test-secret"
RO_KEY, RO_SECRET = "ro-key", "ro-secret"
IP_KEY, IP_SECRET = "ip-key", "ip-secret"
RSA_KEY = "rsa-key"
TRADE_SCOPES = ("read", "spot_trade", "derivatives_trade")

# Every market type the emulator lists (it has no options; ccxt would also ask for those).

# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_pems() -> dict[str, str]:
    def pair() -> tuple[str, str]:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        return private_pem, public_pem

    private, public = pair()
    other_private, _ = pair()
    return {"private": private, "public": public, "other_private": other_private}


@pytest.fixture
def emu(rsa_pems: dict[str, str]) -> Iterator[Emulator]:
    with Emulator("bybit", seed=7) as emulator:
        emulator.add_key(RO_KEY, RO_SECRET, permissions=("read",))
        emulator.add_key(IP_KEY, IP_SECRET, permissions=TRADE_SCOPES, ips=("10.1.2.3",))
        emulator.add_key(RSA_KEY, public_key=rsa_pems["public"], permissions=TRADE_SCOPES)
        yield emulator


# -- helpers --------------------------------------------------------------------------------


def pybit_http(
    emu: Emulator,
    key: str = KEY,
    secret: str = SECRET,
    *,
    rsa_auth: bool = False,
    retry: bool = False,
) -> HTTP:
    # pybit builds "https://api.bybit.com" in __post_init__ and prefixes every path with
    # ``self.endpoint``; pointing that attribute at the emulator is the whole redirection.
    # retry_codes={0} (never an error code) switches pybit's own retries off, so the first
    # rejection surfaces as InvalidRequestError; retry=True keeps pybit's defaults.
    session = HTTP(
        api_key=key,
        api_secret=secret,
        rsa_authentication=rsa_auth,
        retry_codes=None if retry else {0},
        retry_delay=0,
        timeout=5,
    )
    assert session.endpoint == "https://api.bybit.com"
    session.endpoint = emu.base_url
    return session


class LoopbackBybit(ccxt.bybit):  # type: ignore[misc]
    """ccxt's bybit with every API URL on the emulator, recording each request it sends."""

    def __init__(self, base_url: str, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.base_url = base_url
        for name in list(self.urls["api"]):
            self.urls["api"][name] = base_url
        self.sent: list[tuple[str, str]] = []

    def fetch(self, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        assert url.startswith(self.base_url + "/v5/"), f"ccxt left the emulator: {url}"
        self.sent.append((method, urlsplit(url).path))
        return super().fetch(url, method, headers, body)


def ccxt_client(
    emu: Emulator,
    key: str = KEY,
    secret: str = SECRET,
    *,
    unified_known: bool = False,
    **options: Any,
) -> LoopbackBybit:
    if unified_known:
        # What is_unified_enabled() learns from /v5/user/query-api + /v5/account/info (the
        # round-trip test makes those calls); preset so each rejected request is the one tested.
        options.update(enableUnifiedMargin=False, enableUnifiedAccount=True, unifiedMarginStatus=5)
    exchange = LoopbackBybit(emu.base_url, {"apiKey": key, "secret": secret, "options": options})
    assert all(url == emu.base_url for url in exchange.urls["api"].values())
    return exchange


def ccxt_code(exc: ccxt.BaseError) -> int:
    # ccxt's message is "bybit <raw response body>".
    _, _, body = str(exc).partition(" ")
    return int(json.loads(body)["retCode"])


def coin_wallet(session: HTTP, coin: str) -> Decimal:
    response = session.get_wallet_balance(accountType="UNIFIED", coin=coin)
    return Decimal(response["result"]["list"][0]["coin"][0]["walletBalance"])


def ledger_by_link(emu: Emulator) -> dict[str, dict[str, Any]]:
    return {o["client_order_id"]: o for o in emu.ledger() if o["client_order_id"]}


def limit_buy(category: str, link: str) -> dict[str, str]:
    # A BTCUSDT buy well below the emulator's ~65000 market: it rests on the book.
    return {"category": category, "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
            "qty": "0.001", "price": "60000", "orderLinkId": link}  # fmt: skip


def pybit_code(call: Any, *args: Any, **kwargs: Any) -> int:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **kwargs)
    code: int = caught.value.status_code
    return code


# -- pybit ----------------------------------------------------------------------------------


def test_pybit_wallet_limit_amend_cancel_and_market_fill(emu: Emulator) -> None:
    session = pybit_http(emu)

    wallet = session.get_wallet_balance(accountType="UNIFIED")
    assert wallet["retCode"] == 0
    account = wallet["result"]["list"][0]
    assert account["accountType"] == "UNIFIED"
    assert {c["coin"]: Decimal(c["walletBalance"]) for c in account["coin"]}["USDT"] == 100000

    spot = session.place_order(**limit_buy("spot", "pybit-spot-limit"))
    linear = session.place_order(**limit_buy("linear", "pybit-linear-limit"))
    assert spot["retCode"] == linear["retCode"] == 0
    assert spot["result"]["orderLinkId"] == "pybit-spot-limit"
    assert linear["result"]["orderLinkId"] == "pybit-linear-limit"

    spot_open = session.get_open_orders(category="spot", symbol="BTCUSDT")["result"]["list"]
    assert [o["orderLinkId"] for o in spot_open] == ["pybit-spot-limit"]
    assert spot_open[0]["orderId"] == spot["result"]["orderId"]
    assert spot_open[0]["orderStatus"] == "New"

    amended = session.amend_order(
        category="linear",
        symbol="BTCUSDT",
        orderLinkId="pybit-linear-limit",
        qty="0.002",
        price="59000",
    )
    assert amended["retCode"] == 0
    assert amended["result"]["orderId"] == linear["result"]["orderId"]
    linear_open = session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert len(linear_open) == 1
    assert Decimal(linear_open[0]["price"]) == Decimal("59000")
    assert Decimal(linear_open[0]["qty"]) == Decimal("0.002")

    cancelled = session.cancel_order(
        category="linear", symbol="BTCUSDT", orderId=linear["result"]["orderId"]
    )
    assert cancelled["retCode"] == 0
    assert cancelled["result"]["orderLinkId"] == "pybit-linear-limit"
    assert session.get_open_orders(category="linear", symbol="BTCUSDT")["result"]["list"] == []

    # A linear market order fills at once; the wallet pays exactly the execution fee.
    usdt_before = coin_wallet(session, "USDT")
    market = session.place_order(
        category="linear",
        symbol="BTCUSDT",
        side="Buy",
        orderType="Market",
        qty="0.01",
        orderLinkId="pybit-linear-mkt",
    )
    assert market["retCode"] == 0
    fills = session.get_executions(category="linear", symbol="BTCUSDT")["result"]["list"]
    assert len(fills) == 1
    fill = fills[0]
    assert fill["orderId"] == market["result"]["orderId"]
    assert fill["orderLinkId"] == "pybit-linear-mkt"
    assert fill["orderType"] == "Market"
    assert fill["execType"] == "Trade"
    assert Decimal(fill["execQty"]) == Decimal("0.01")
    assert fill["isMaker"] is False
    assert Decimal(fill["execFee"]) > 0
    assert usdt_before - coin_wallet(session, "USDT") == Decimal(fill["execFee"])
    position = session.get_positions(category="linear", symbol="BTCUSDT")["result"]["list"][0]
    assert (position["side"], Decimal(position["size"])) == ("Buy", Decimal("0.01"))

    # A spot market buy spends quote currency (marketUnit defaults to quoteCoin for spot buys).
    eth_before, usdt_before = coin_wallet(session, "ETH"), coin_wallet(session, "USDT")
    spot_market = session.place_order(
        category="spot",
        symbol="ETHUSDT",
        side="Buy",
        orderType="Market",
        qty="100",
        orderLinkId="pybit-spot-mkt",
    )
    assert spot_market["retCode"] == 0
    spot_fills = session.get_executions(category="spot", symbol="ETHUSDT")["result"]["list"]
    assert {f["orderLinkId"] for f in spot_fills} == {"pybit-spot-mkt"}
    spent = usdt_before - coin_wallet(session, "USDT")
    assert Decimal(0) < spent <= Decimal(100)
    assert spent == sum(Decimal(f["execValue"]) for f in spot_fills)
    assert coin_wallet(session, "ETH") > eth_before

    ledger = ledger_by_link(emu)
    assert set(ledger) == {
        "pybit-spot-limit",
        "pybit-linear-limit",
        "pybit-linear-mkt",
        "pybit-spot-mkt",
    }
    assert (ledger["pybit-spot-limit"]["category"], ledger["pybit-spot-limit"]["status"]) == (
        "spot",
        "new",
    )
    assert ledger["pybit-linear-limit"]["status"] == "cancelled"
    assert ledger["pybit-linear-mkt"]["status"] == "filled"
    assert ledger["pybit-spot-mkt"]["status"] == "filled"
    assert all(o["uid"] == 1001 for o in ledger.values())


def test_pybit_wrong_secret_is_10004(emu: Emulator) -> None:
    session = pybit_http(emu, KEY, "wrong-secret")
    assert pybit_code(session.get_wallet_balance, accountType="UNIFIED") == 10004
    assert pybit_code(session.place_order, **limit_buy("linear", "pybit-bad-secret")) == 10004
    assert emu.ledger() == []


def test_pybit_stale_timestamp_is_10002(emu: Emulator) -> None:
    emu.set_clock_offset(30_000)  # the client's clock is 30 s behind the server's
    session = pybit_http(emu)
    with pytest.raises(InvalidRequestError) as caught:
        session.place_order(**limit_buy("spot", "pybit-stale"))
    assert caught.value.status_code == 10002
    stamps = re.search(r"req_timestamp\[(\d+)\],server_timestamp\[(\d+)\]", caught.value.message)
    assert stamps is not None
    assert 28_000 < int(stamps.group(2)) - int(stamps.group(1)) < 32_000
    assert pybit_code(session.get_wallet_balance, accountType="UNIFIED") == 10002

    # With its default retry codes pybit widens recv_window by 2.5 s per attempt (5000, 7500,
    # 10000): never enough for 30 s, so it gives up after max_retries attempts.
    retrying = pybit_http(emu, retry=True)
    served = emu.stats()["requests"]
    with pytest.raises(FailedRequestError) as gave_up:
        retrying.get_wallet_balance(accountType="UNIFIED")
    assert gave_up.value.status_code == 400
    assert emu.stats()["requests"] - served == 3
    assert emu.ledger() == []


def test_pybit_recovers_from_a_small_skew_by_widening_recv_window(emu: Emulator) -> None:
    emu.set_clock_offset(6_000)  # 6 s behind: outside 5000 ms, inside pybit's second 7500 ms
    session = pybit_http(emu, retry=True)
    served = emu.stats()["requests"]
    response = session.place_order(**limit_buy("linear", "pybit-skewed"))
    assert response["retCode"] == 0
    assert emu.stats()["requests"] - served == 2
    assert list(ledger_by_link(emu)) == ["pybit-skewed"]


def test_pybit_read_only_key_cannot_trade_10005(emu: Emulator) -> None:
    session = pybit_http(emu, RO_KEY, RO_SECRET)
    assert session.get_wallet_balance(accountType="UNIFIED")["retCode"] == 0
    assert session.get_open_orders(category="linear", symbol="BTCUSDT")["retCode"] == 0
    for category in ("spot", "linear"):
        code = pybit_code(session.place_order, **limit_buy(category, f"pybit-ro-{category}"))
        assert code == 10005
    assert emu.ledger() == []


def test_pybit_key_bound_to_another_ip_is_10010(emu: Emulator) -> None:
    session = pybit_http(emu, IP_KEY, IP_SECRET)
    assert pybit_code(session.get_wallet_balance, accountType="UNIFIED") == 10010
    assert pybit_code(session.place_order, **limit_buy("linear", "pybit-ip")) == 10010
    assert emu.ledger() == []


def test_pybit_rsa_key_accepted_and_wrong_rsa_key_refused(
    emu: Emulator, rsa_pems: dict[str, str]
) -> None:
    session = pybit_http(emu, RSA_KEY, rsa_pems["private"], rsa_auth=True)
    assert session.get_wallet_balance(accountType="UNIFIED")["retCode"] == 0
    placed = session.place_order(**limit_buy("spot", "pybit-rsa"))
    assert placed["retCode"] == 0
    cancelled = session.cancel_order(category="spot", symbol="BTCUSDT", orderLinkId="pybit-rsa")
    assert cancelled["retCode"] == 0

    wrong = pybit_http(emu, RSA_KEY, rsa_pems["other_private"], rsa_auth=True)
    assert pybit_code(wrong.get_wallet_balance, accountType="UNIFIED") == 10004
    assert pybit_code(wrong.place_order, **limit_buy("spot", "pybit-rsa-wrong")) == 10004
    # An HMAC signature is no signature for an RSA key.
    hmac_for_rsa = pybit_http(emu, RSA_KEY, SECRET)
    assert pybit_code(hmac_for_rsa.get_wallet_balance, accountType="UNIFIED") == 10004
    assert list(ledger_by_link(emu)) == ["pybit-rsa"]


# -- tampered requests: sign one thing, send another ----------------------------------------


def raw_request(
    emu: Emulator, method: str, path: str, payload: str, headers: dict[str, str]
) -> dict[str, Any]:
    parts = urlsplit(emu.base_url)
    assert parts.hostname in LOOPBACK
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        if method == "GET":
            connection.request("GET", f"{path}?{payload}", headers=headers)
        else:
            connection.request("POST", path, body=payload.encode(), headers=headers)
        response = connection.getresponse()
        assert response.status == 200
        answer: dict[str, Any] = json.loads(response.read())
    finally:
        connection.close()
    return answer


def pybit_style_headers(payload: str, stamp: int, recv_window: int = 5000) -> dict[str, str]:
    # pybit's own _auth(): timestamp + api_key + recv_window + payload, HMAC-SHA256 hex.
    sign = generate_signature(False, SECRET, f"{stamp}{KEY}{recv_window}{payload}")
    return {
        "Content-Type": "application/json",
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-SIGN": sign,
        "X-BAPI-SIGN-TYPE": "2",
        "X-BAPI-TIMESTAMP": str(stamp),
        "X-BAPI-RECV-WINDOW": str(recv_window),
    }


ORDER = limit_buy("linear", "raw-order")
WALLET = {"accountType": "UNIFIED", "coin": "USDT"}


def one_byte_apart(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


@pytest.mark.parametrize(
    ("method", "path", "params", "tamper"),
    [
        ("POST", "/v5/order/create", ORDER, ("body", '"qty": "0.001"', '"qty": "0.002"')),
        ("GET", "/v5/account/wallet-balance", WALLET, ("query", "coin=USDT", "coin=USDC")),
        ("POST", "/v5/order/create", ORDER, ("X-BAPI-RECV-WINDOW", "5000", "6000")),
        ("GET", "/v5/account/wallet-balance", WALLET, ("X-BAPI-TIMESTAMP", None, None)),
    ],
    ids=["post-body", "get-query", "recv-window-header", "timestamp-header"],
)
def test_tampered_request_is_10004_and_the_honest_one_passes(
    emu: Emulator,
    method: str,
    path: str,
    params: dict[str, str],
    tamper: tuple[str, str | None, str | None],
) -> None:
    payload = HTTP.prepare_payload(method, dict(params))  # pybit's serialisation, byte for byte
    stamp = generate_timestamp()  # pybit's clock: int(time.time() * 1000)
    headers = pybit_style_headers(payload, stamp)
    where, old, new = tamper
    sent_payload, sent_headers = payload, dict(headers)
    if where in ("body", "query"):
        assert old is not None and new is not None and payload.count(old) == 1
        sent_payload = payload.replace(old, new)
        assert one_byte_apart(payload, sent_payload)
    elif where == "X-BAPI-TIMESTAMP":
        sent_headers[where] = str(stamp - 1)
    else:
        assert old is not None and new is not None and sent_headers[where] == old
        sent_headers[where] = new

    rejected = raw_request(emu, method, path, sent_payload, sent_headers)
    assert rejected["retCode"] == 10004
    # The server signed what it received: the tampered bytes are in its origin_string.
    origin = (
        f"{sent_headers['X-BAPI-TIMESTAMP']}{KEY}{sent_headers['X-BAPI-RECV-WINDOW']}{sent_payload}"
    )
    assert f"origin_string[{origin}]" in rejected["retMsg"]
    assert emu.ledger() == []

    honest = raw_request(emu, method, path, payload, headers)
    assert honest["retCode"] == 0, honest
    if path == "/v5/order/create":
        order = ledger_by_link(emu)["raw-order"]
        assert Decimal(order["qty"]) == Decimal("0.001")
    else:
        coins = honest["result"]["list"][0]["coin"]
        assert [c["coin"] for c in coins] == ["USDT"]


# -- ccxt -----------------------------------------------------------------------------------


def test_ccxt_balance_limit_amend_cancel_and_market_fill(emu: Emulator) -> None:
    exchange = ccxt_client(emu)
    markets = exchange.load_markets()
    assert sorted(markets) == [
        "BTC/USD:BTC",
        "BTC/USDT",
        "BTC/USDT:USDT",
        "ETH/USDT",
        "ETH/USDT:USDT",
        "SOL/USDT",
    ]
    assert markets["BTC/USDT:USDT"]["precision"]["price"] == 0.1
    assert markets["BTC/USDT"]["limits"]["amount"]["min"] == 0.000048
    # With keys, ccxt's default load_markets reads the coin list too (signed).
    assert {path for _, path in exchange.sent} == {
        "/v5/market/instruments-info",
        "/v5/asset/coin/query-info",
    }

    balance = exchange.fetch_balance()
    assert balance["USDT"]["total"] == 100000
    assert balance["BTC"]["total"] == 2

    spot = exchange.create_order(
        "BTC/USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "ccxt-spot-limit"}
    )
    linear = exchange.create_order(
        "BTC/USDT:USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "ccxt-linear-limit"}
    )
    assert spot["clientOrderId"] == "ccxt-spot-limit"
    assert linear["clientOrderId"] == "ccxt-linear-limit"

    spot_open = exchange.fetch_open_orders("BTC/USDT")
    assert [o["id"] for o in spot_open] == [spot["id"]]
    assert (spot_open[0]["status"], spot_open[0]["price"], spot_open[0]["amount"]) == (
        "open",
        60000,
        0.001,
    )

    edited = exchange.edit_order(linear["id"], "BTC/USDT:USDT", "limit", "buy", 0.002, 59000)
    assert edited["id"] == linear["id"]
    linear_open = exchange.fetch_open_orders("BTC/USDT:USDT")
    assert [(o["id"], o["price"], o["amount"]) for o in linear_open] == [
        (linear["id"], 59000, 0.002)
    ]

    cancelled = exchange.cancel_order(spot["id"], "BTC/USDT")
    assert cancelled["id"] == spot["id"]
    assert exchange.fetch_open_orders("BTC/USDT") == []

    usdt_before = exchange.fetch_balance()["USDT"]["total"]
    market = exchange.create_order(
        "ETH/USDT:USDT", "market", "sell", 0.1, params={"clientOrderId": "ccxt-linear-mkt"}
    )
    trades = exchange.fetch_my_trades("ETH/USDT:USDT")
    assert [t["order"] for t in trades] == [market["id"]]
    trade = trades[0]
    assert (trade["side"], trade["type"], trade["amount"]) == ("sell", "market", 0.1)
    assert trade["takerOrMaker"] == "taker"
    assert trade["fee"]["currency"] == "USDT" and trade["fee"]["cost"] > 0
    usdt_after = exchange.fetch_balance()["USDT"]["total"]
    assert usdt_before - usdt_after == pytest.approx(trade["fee"]["cost"], abs=1e-8)
    position = exchange.fetch_position("ETH/USDT:USDT")
    assert (position["side"], position["contracts"]) == ("short", 0.1)

    # Spot market sell of base currency (ccxt sends marketUnit=baseCoin).
    sol_before = exchange.fetch_balance()["SOL"]["total"]
    spot_market = exchange.create_order(
        "SOL/USDT", "market", "sell", 1.5, params={"clientOrderId": "ccxt-spot-mkt"}
    )
    spot_trades = exchange.fetch_my_trades("SOL/USDT")
    assert {t["order"] for t in spot_trades} == {spot_market["id"]}
    assert sum(t["amount"] for t in spot_trades) == pytest.approx(1.5)
    assert exchange.fetch_balance()["SOL"]["total"] == pytest.approx(sol_before - 1.5)

    ledger = ledger_by_link(emu)
    assert set(ledger) == {
        "ccxt-spot-limit",
        "ccxt-linear-limit",
        "ccxt-linear-mkt",
        "ccxt-spot-mkt",
    }
    assert ledger["ccxt-spot-limit"]["status"] == "cancelled"
    assert ledger["ccxt-linear-limit"]["status"] == "new"
    assert Decimal(ledger["ccxt-linear-limit"]["price"]) == Decimal("59000")
    assert ledger["ccxt-linear-mkt"]["status"] == "filled"
    assert ledger["ccxt-spot-mkt"]["status"] == "filled"
    # Every endpoint ccxt called, each on the emulator (LoopbackBybit.fetch checks every URL).
    assert {path for _, path in exchange.sent} == {
        "/v5/market/instruments-info",
        "/v5/asset/coin/query-info",  # load_markets with keys: the coin list
        "/v5/user/query-api",  # is_unified_enabled(), once
        "/v5/account/info",  # is_unified_enabled(), once
        "/v5/account/wallet-balance",
        "/v5/order/create",
        "/v5/order/realtime",
        "/v5/order/amend",
        "/v5/order/cancel",
        "/v5/execution/list",
        "/v5/position/list",
    }
    assert exchange.sent.count(("GET", "/v5/account/info")) == 1


@pytest.mark.parametrize(
    ("key", "secret", "options", "error", "code"),
    [
        (KEY, "wrong-secret", {}, ccxt.AuthenticationError, 10004),
        # nonce() is milliseconds() - timeDifference: a clock 30 s behind the server's.
        (KEY, SECRET, {"timeDifference": 30_000}, ccxt.InvalidNonce, 10002),
        (IP_KEY, IP_SECRET, {}, ccxt.PermissionDenied, 10010),
    ],
    ids=["wrong-secret", "stale-timestamp", "ip-whitelist"],
)
def test_ccxt_rejections(
    emu: Emulator,
    key: str,
    secret: str,
    options: dict[str, Any],
    error: type[ccxt.BaseError],
    code: int,
) -> None:
    exchange = ccxt_client(emu, key, secret, unified_known=True, **options)
    # With keys, ccxt's load_markets reads the coin list (signed): the first refusal is there.
    with pytest.raises(error) as on_load:
        exchange.load_markets()
    assert ccxt_code(on_load.value) == code
    assert exchange.sent[-1] == ("GET", "/v5/asset/coin/query-info")
    # Markets known from elsewhere (a good key's client), the private calls are refused too.
    good = ccxt_client(emu)
    good.load_markets()
    exchange.set_markets(good.markets, good.currencies)
    exchange.sent.clear()

    with pytest.raises(error) as on_get:
        exchange.fetch_balance()
    assert ccxt_code(on_get.value) == code
    with pytest.raises(error) as on_post:
        exchange.create_order(
            "BTC/USDT:USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "ccxt-rejected"}
        )
    assert ccxt_code(on_post.value) == code
    assert exchange.sent == [("GET", "/v5/account/wallet-balance"), ("POST", "/v5/order/create")]
    assert emu.ledger() == []


def test_ccxt_read_only_key_reads_but_cannot_trade_10005(emu: Emulator) -> None:
    exchange = ccxt_client(emu, RO_KEY, RO_SECRET)
    exchange.load_markets()
    assert exchange.fetch_balance()["USDT"]["total"] == 100000  # query-api, account/info: read
    assert exchange.fetch_open_orders("BTC/USDT:USDT") == []
    for symbol in ("BTC/USDT", "BTC/USDT:USDT"):
        with pytest.raises(ccxt.PermissionDenied) as caught:
            exchange.create_order(symbol, "limit", "buy", 0.001, 60000)
        assert ccxt_code(caught.value) == 10005
    assert emu.ledger() == []


def test_ccxt_syncs_its_clock_from_market_time(emu: Emulator) -> None:
    emu.set_clock_offset(30_000)
    exchange = ccxt_client(emu, adjustForTimeDifference=True)
    # With keys, ccxt's load_markets signs a coin-list request before it measures the clock:
    # a client 30 s off syncs first, as ccxt's docs advise for a skewed clock.
    exchange.load_time_difference()
    assert exchange.sent[0] == ("GET", "/v5/market/time")
    exchange.load_markets()
    assert -32_000 < exchange.options["timeDifference"] < -28_000
    order = exchange.create_order(
        "BTC/USDT:USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "ccxt-synced"}
    )
    assert order["clientOrderId"] == "ccxt-synced"
    assert list(ledger_by_link(emu)) == ["ccxt-synced"]


def test_ccxt_rsa_key_accepted_and_wrong_rsa_key_refused(
    emu: Emulator, rsa_pems: dict[str, str]
) -> None:
    exchange = ccxt_client(emu, RSA_KEY, rsa_pems["private"])  # "PRIVATE KEY" in it: RSA
    exchange.load_markets()
    assert exchange.fetch_balance()["USDT"]["total"] == 100000
    order = exchange.create_order(
        "ETH/USDT", "limit", "buy", 0.01, 3000, {"clientOrderId": "ccxt-rsa"}
    )
    assert exchange.cancel_order(order["id"], "ETH/USDT")["id"] == order["id"]

    wrong = ccxt_client(emu, RSA_KEY, rsa_pems["other_private"], unified_known=True)
    with pytest.raises(ccxt.AuthenticationError) as refused:
        wrong.load_markets()  # its first signed request: the coin list
    assert ccxt_code(refused.value) == 10004
    wrong.set_markets(exchange.markets, exchange.currencies)
    with pytest.raises(ccxt.AuthenticationError) as caught:
        wrong.create_order("ETH/USDT", "limit", "buy", 0.01, 3000, {"clientOrderId": "ccxt-bad"})
    assert ccxt_code(caught.value) == 10004
    assert list(ledger_by_link(emu)) == ["ccxt-rsa"]
