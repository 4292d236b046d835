"""ccxt's own defaults against the emulators: nothing hidden, nothing skipped.

A real ``ccxt.<id>`` client, built with keys and otherwise ccxt's default options (only its
URLs are pointed at the emulator), goes through ``load_markets`` (which, holding keys, also
fetches the currency list, and on Binance the margin pairs and the COIN-M listing), balances,
orders (create, fetch, cancel, open, closed), fills and positions, with real values asserted.
Then the same calls through ``exchanges.connect("ccxt:<id>")`` with no options at all. A wrong
secret is refused on the currency routes as the exchanges refuse it.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ccxt
import pytest

import exchanges
from adapters.ccxt_bridge.client import CcxtLog, api_urls, rewrite_urls
from adapters.ccxt_bridge.errors import Scrubber
from exchanges.emulator import Emulator

pytestmark = pytest.mark.timeout(90)

KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"
NAMES = ("bybit", "binance", "okx")
SPOT, SWAP = "BTC/USDT", "BTC/USDT:USDT"
#: The route each exchange's ccxt class calls for currencies once it holds keys.
CURRENCY_ROUTES = {
    "bybit": "/v5/asset/coin/query-info",
    "binance": "/sapi/v1/capital/config/getall",
    "okx": "/api/v5/asset/currencies",
}
#: Swap order sizes in ccxt's units: OKX counts contracts of 0.01 BTC, the others BTC.
SWAP_AMOUNT = {"bybit": Decimal("0.01"), "binance": Decimal("0.01"), "okx": Decimal(1)}
SWAP_BASE = Decimal("0.01")  # the same position in BTC on all three


@pytest.fixture(params=NAMES)
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(request.param, seed=7) as emulator:
        yield emulator


def plain_ccxt(emu: Emulator, secret: str = SECRET) -> Any:
    """ccxt's class with default options; its URLs (only) point at the emulator."""
    base: Any = getattr(ccxt, emu.exchange)

    class Recording(base):  # type: ignore[misc]
        sent: list[tuple[str, str]]

        def fetch(
            self, url: str, method: str = "GET", headers: Any = None, body: Any = None
        ) -> Any:
            assert url.startswith(emu.base_url + "/"), f"ccxt left the emulator: {url}"
            self.sent.append((method, urlsplit(url).path))
            return super().fetch(url, method, headers, body)

    client = Recording({"apiKey": KEY, "secret": secret, "password": PASSPHRASE})
    client.sent = []
    # ccxt logs every request's headers (key, signature, OKX passphrase) at DEBUG; the
    # bridge's logger keeps method and URL only, so the suite's leak scan stays meaningful.
    client.logger = CcxtLog(Scrubber([exchanges.Credentials(KEY, secret, passphrase=PASSPHRASE)]))
    rewrite_urls(client, emu.base_url)
    urls = [u for u in api_urls(client) if u.startswith("http")]
    assert urls and all(u.startswith(emu.base_url) for u in urls)
    return client


def below_market(ask: Any) -> float:
    return float((Decimal(str(ask)) * Decimal("0.6")).quantize(Decimal(1)))


def test_load_markets_with_keys_fetches_currencies(emu: Emulator) -> None:
    client = plain_ccxt(emu)
    try:
        markets = client.load_markets()
        assert {SPOT, SWAP} <= set(markets)
        assert ("GET", CURRENCY_ROUTES[emu.exchange]) in client.sent
        usdt, btc = client.currencies["USDT"], client.currencies["BTC"]
        assert {"ERC20", "TRC20"} <= set(usdt["networks"])
        assert usdt["networks"]["TRC20"]["fee"] == 1.0
        assert usdt["networks"]["ERC20"]["limits"]["withdraw"]["min"] == 10.0
        assert btc["networks"]["BTC"]["fee"] == 0.0002
        assert btc["precision"] == 1e-08
        if emu.exchange == "binance":
            # ccxt's defaults also read the margin pairs and the COIN-M listing.
            assert ("GET", "/sapi/v1/margin/allPairs") in client.sent
            assert ("GET", "/sapi/v1/margin/isolated/allPairs") in client.sent
            assert ("GET", "/dapi/v1/exchangeInfo") in client.sent
            # The emulator offers spot trading only: the margin pair lists are empty.
            assert markets[SPOT]["margin"] is False
            # The spot wallet's coins, as capital/config/getall reports them.
            assert usdt["info"]["free"] == "100000.00000000"
    finally:
        client.close()


def test_plain_ccxt_trades_with_default_options(emu: Emulator) -> None:
    client = plain_ccxt(emu)
    name = emu.exchange
    try:
        assert abs(client.fetch_time() - emu.state.now_ms()) < 5000
        ticker = client.fetch_ticker(SPOT)
        book = client.fetch_order_book(SPOT, 5)
        assert book["bids"][0][0] < book["asks"][0][0] == ticker["ask"]
        balance = client.fetch_balance()
        assert balance["USDT"]["free"] == 100000.0 and balance["BTC"]["total"] == 2.0

        price = below_market(ticker["ask"])
        resting = client.create_order(SPOT, "limit", "buy", 0.01, price)
        # ccxt's bybit fetch_order asks the caller to acknowledge that it sees the last 500
        # orders only; a per-call flag, not an option that skips anything.
        extra = {"acknowledged": True} if name == "bybit" else {}
        fetched = client.fetch_order(resting["id"], SPOT, extra)
        assert (fetched["status"], fetched["price"], fetched["amount"]) == ("open", price, 0.01)
        assert [o["id"] for o in client.fetch_open_orders(SPOT)] == [resting["id"]]
        client.cancel_order(resting["id"], SPOT)
        assert client.fetch_open_orders(SPOT) == []
        # ccxt's bybit reads /v5/order/realtime, which lists open orders only by default.
        assert [o["status"] for o in emu.ledger()] == ["cancelled"]

        bought = client.create_order(SPOT, "market", "buy", 0.01)
        closed = {o["id"]: o for o in client.fetch_closed_orders(SPOT)}
        assert closed[bought["id"]]["status"] == "closed"
        assert closed[bought["id"]]["filled"] == 0.01
        fills = client.fetch_my_trades(SPOT)
        assert {f["order"] for f in fills} == {bought["id"]}
        assert sum(f["amount"] for f in fills) == pytest.approx(0.01)
        fee = sum(f["fee"]["cost"] for f in fills)
        assert all(f["fee"]["currency"] == "BTC" for f in fills) and fee > 0
        after = client.fetch_balance()
        assert after["BTC"]["total"] == pytest.approx(2.01 - fee)
        assert after["USDT"]["total"] < 100000.0 - 0.01 * float(ticker["bid"])

        client.create_order(SWAP, "market", "buy", float(SWAP_AMOUNT[name]))
        positions = [p for p in client.fetch_positions() if p["contracts"]]
        assert [(p["symbol"], p["side"]) for p in positions] == [(SWAP, "long")]
        assert positions[0]["contracts"] * client.market(SWAP)["contractSize"] == pytest.approx(
            float(SWAP_BASE)
        )
        swap_fills = client.fetch_my_trades(SWAP)
        assert len(swap_fills) >= 1 and all(f["fee"]["currency"] == "USDT" for f in swap_fills)
    finally:
        client.close()


def test_a_wrong_secret_is_refused_on_the_currency_route(emu: Emulator) -> None:
    client = plain_ccxt(emu, secret="wrong-secret")
    try:
        with pytest.raises(ccxt.AuthenticationError):
            client.load_markets()
        assert client.sent[-1] == ("GET", CURRENCY_ROUTES[emu.exchange])
    finally:
        client.close()
    assert emu.ledger() == []


def test_bridge_runs_on_ccxt_defaults(emu: Emulator) -> None:
    name = emu.exchange
    creds = exchanges.Credentials(KEY, SECRET, passphrase=PASSPHRASE)
    with exchanges.connect(f"ccxt:{name}", base_url=emu.base_url, credentials=creds) as client:
        ccxt_client = client.ccxt  # type: ignore[attr-defined]
        urls = [u for u in api_urls(ccxt_client) if u.startswith("http")]
        assert urls and all(u.startswith(emu.base_url) for u in urls)
        markets = client.load_markets()
        assert {SPOT, SWAP} <= set(markets)
        balance = client.fetch_balance()
        assert (balance["USDT"].free, balance["BTC"].total) == (Decimal(100000), Decimal(2))

        ask = client.fetch_ticker(SPOT).ask
        assert ask is not None
        price = (ask * Decimal("0.6")).quantize(Decimal(1))
        resting = client.create_order(SPOT, "limit", "buy", Decimal("0.01"), price)
        fetched = client.fetch_order(resting.id, SPOT)
        assert (fetched.status, fetched.price, fetched.amount) == ("open", price, Decimal("0.01"))
        assert [o.id for o in client.fetch_open_orders(SPOT)] == [resting.id]
        client.cancel_order(resting.id, SPOT)
        assert client.fetch_open_orders(SPOT) == []
        assert client.fetch_order(resting.id, SPOT).status == "canceled"

        bought = client.create_order(SPOT, "market", "buy", Decimal("0.01"))
        closed = {o.id: o for o in client.fetch_closed_orders(SPOT)}
        assert (closed[bought.id].status, closed[bought.id].filled) == ("closed", Decimal("0.01"))
        fills = client.fetch_my_trades(SPOT)
        assert {f.order_id for f in fills} == {bought.id}
        assert sum(f.amount for f in fills) == Decimal("0.01")
        fee = sum(f.fee for f in fills if f.fee is not None)
        assert fee > 0
        assert client.fetch_balance()["BTC"].total == Decimal("2.01") - fee

        client.create_order(SWAP, "market", "buy", SWAP_AMOUNT[name])
        positions = client.fetch_positions()
        assert [(p.symbol, p.side) for p in positions] == [(SWAP, "long")]
        assert positions[0].size in (SWAP_AMOUNT[name], SWAP_BASE)
    assert len(emu.ledger()) == 3
