"""Binance's spot and USD-M wallets are separate on the emulator, as on Binance.

A USD-M fill, fee or margin moves only the USD-M wallet (``/fapi/v3/account``); a spot fill
only the spot wallet (``/api/v3/account``). Shown through the native adapter (default spot, and
``wallet="usdm"``) and through ccxt's defaults; the universal transfer between the two needs
the key's transfer permission; admin deposits name their wallet.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

import exchanges
from adapters.ccxt_bridge.client import CcxtLog, rewrite_urls
from adapters.ccxt_bridge.errors import Scrubber
from exchanges.emulator import Emulator
from exchanges.emulator.admin import AdminError
from exchanges.errors import InsufficientFunds

pytestmark = pytest.mark.timeout(60)

CREDS = exchanges.Credentials("test-key", "test-secret")
SPOT, SWAP = "BTC/USDT", "BTC/USDT:USDT"
D = Decimal


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        yield emulator


@pytest.fixture
def spot(emu: Emulator) -> Iterator[exchanges.Exchange]:
    with exchanges.connect("binance", base_url=emu.base_url, credentials=CREDS) as client:
        yield client


@pytest.fixture
def usdm(emu: Emulator) -> Iterator[exchanges.Exchange]:
    with exchanges.connect(
        "binance", base_url=emu.base_url, credentials=CREDS, wallet="usdm"
    ) as client:
        yield client


def totals(client: exchanges.Exchange) -> dict[str, tuple[Decimal, Decimal]]:
    return {coin: (b.total, b.free) for coin, b in client.fetch_balance().items()}


def plain_ccxt(emu: Emulator, key: str = "test-key", secret: str = "test-secret") -> Any:
    client = ccxt.binance({"apiKey": key, "secret": secret})
    # ccxt logs request headers (key, signature) at DEBUG; the bridge's logger does not.
    client.logger = CcxtLog(Scrubber([exchanges.Credentials(key, secret)]))
    rewrite_urls(client, emu.base_url)
    return client


def test_the_wallets_start_apart(emu: Emulator) -> None:
    assert emu.wallets == ["spot", "usdm", "coinm"]
    assert emu.balances()["USDT"]["total"] == emu.balances(wallet="usdm")["USDT"]["total"]
    emu.deposit("USDT", D(500), wallet="usdm")
    assert D(emu.balances(wallet="usdm")["USDT"]["total"]) == D(100500)
    assert D(emu.balances()["USDT"]["total"]) == D(100000)
    with pytest.raises(AdminError, match="wallet must be one of spot, usdm, coinm"):
        emu.server.admin("GET", "balances", {"wallet": "margin"})


def test_usdm_trade_leaves_the_spot_wallet_unchanged(
    emu: Emulator, spot: exchanges.Exchange, usdm: exchanges.Exchange
) -> None:
    spot_before, usdm_before = totals(spot), totals(usdm)
    ask = spot.fetch_ticker(SWAP).ask
    assert ask is not None
    resting = spot.create_order(SWAP, "limit", "buy", D("0.1"), (ask * D("0.8")).quantize(D(1)))
    # The resting order's margin is locked in the USD-M wallet, not in spot.
    assert totals(spot) == spot_before
    locked = usdm_before["USDT"][1] - usdm.fetch_balance()["USDT"].free
    assert locked > 0
    spot.cancel_order(resting.id, SWAP)
    assert totals(usdm) == usdm_before

    bought = spot.create_order(SWAP, "market", "buy", D("0.01"))
    fee = sum(f.fee for f in spot.fetch_my_trades(SWAP) if f.order_id == bought.id and f.fee)
    assert fee > 0
    assert totals(spot) == spot_before
    after = usdm.fetch_balance()["USDT"]
    assert after.total == usdm_before["USDT"][0] - fee
    assert after.free < after.total  # the position's margin
    positions = usdm.fetch_positions()
    assert [(p.symbol, p.size) for p in positions] == [(SWAP, D("0.01"))]


def test_spot_trade_leaves_the_usdm_wallet_unchanged(
    spot: exchanges.Exchange, usdm: exchanges.Exchange
) -> None:
    spot_before, usdm_before = totals(spot), totals(usdm)
    bought = spot.create_order(SPOT, "market", "buy", D("0.01"))
    fills = [f for f in spot.fetch_my_trades(SPOT) if f.order_id == bought.id]
    cost = sum(f.price * f.amount for f in fills)
    fee = sum(f.fee for f in fills if f.fee is not None)
    assert totals(usdm) == usdm_before
    after = totals(spot)
    assert after["USDT"][0] == spot_before["USDT"][0] - cost
    assert after["BTC"][0] == spot_before["BTC"][0] + D("0.01") - fee


def test_an_empty_usdm_wallet_refuses_futures_while_spot_trades(
    emu: Emulator, spot: exchanges.Exchange
) -> None:
    emu.deposit("USDT", -D(emu.balances(wallet="usdm")["USDT"]["free"]), wallet="usdm")
    with pytest.raises(InsufficientFunds) as refused:
        spot.create_order(SWAP, "market", "buy", D("0.01"))
    assert refused.value.code == -2019
    assert spot.create_order(SPOT, "market", "buy", D("0.01")).status == "closed"


def test_ccxt_defaults_see_two_wallets(emu: Emulator) -> None:
    client = plain_ccxt(emu)
    try:
        client.load_markets()
        spot_before = client.fetch_balance()["total"]
        futures_before = client.fetch_balance({"type": "swap"})["total"]
        client.create_order(SWAP, "market", "buy", 0.01)
        fee = sum(f["fee"]["cost"] for f in client.fetch_my_trades(SWAP))
        assert fee > 0
        assert client.fetch_balance()["total"] == spot_before
        futures = client.fetch_balance({"type": "swap"})["total"]
        assert futures["USDT"] == pytest.approx(futures_before["USDT"] - fee)
        client.create_order(SPOT, "market", "buy", 0.01)
        assert client.fetch_balance({"type": "swap"})["total"] == futures
        assert client.fetch_balance()["total"]["BTC"] > spot_before["BTC"]
    finally:
        client.close()


def test_universal_transfer_needs_the_transfer_permission(emu: Emulator) -> None:
    plain = plain_ccxt(emu)
    emu.add_key("transfer-key", "transfer-secret", permissions=("read", "spot_trade", "transfer"))
    mover = plain_ccxt(emu, "transfer-key", "transfer-secret")
    try:
        with pytest.raises(ccxt.AuthenticationError, match="-2015"):
            plain.transfer("USDT", 1000, "spot", "swap")
        assert D(emu.balances()["USDT"]["total"]) == D(100000)
        done = mover.transfer("USDT", 1000, "spot", "swap")
        assert done["id"] is not None and done["id"].isdigit()  # Binance's tranId
        assert D(emu.balances()["USDT"]["total"]) == D(99000)
        assert D(emu.balances(wallet="usdm")["USDT"]["total"]) == D(101000)
        with pytest.raises(ccxt.ExchangeError, match="-5013"):
            mover.transfer("USDT", 200000, "swap", "spot")
        mover.transfer("USDT", 101000, "swap", "spot")
        assert D(emu.balances()["USDT"]["total"]) == D(200000)
        assert D(emu.balances(wallet="usdm")["USDT"]["total"]) == D(0)
    finally:
        plain.close()
        mover.close()
