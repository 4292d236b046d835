"""``connect("ccxt:<id>")`` against the emulators, side by side with the native adapters.

Differential: the same calls through ``connect("bybit")`` and ``connect("ccxt:bybit")`` (and
binance, okx) on one emulator return equal models, sync and async. Fields that cannot agree are
named in ``EXCLUDED`` with the reason. Then errors (mapped from ccxt's exceptions, with native
codes), exactly-once placement under dropped connections, clock skew, environments and the
split read/trade keys. Everything runs on loopback: a guard refuses any other connection and
every ccxt URL is checked to point at the emulator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest

import exchanges
from adapters.ccxt_bridge.client import api_urls
from adapters.ccxt_bridge.errors import Scrubber
from exchanges.emulator import Emulator
from exchanges.errors import (
    DuplicateOrderId,
    InsufficientFunds,
    InvalidApiKey,
    InvalidSignature,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimitExceeded,
)
from exchanges.models import Market, Order
from exchanges.retry import RetryPolicy

pytestmark = pytest.mark.timeout(60)

KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"
NO_RATE_LIMIT_RETRY = RetryPolicy(rate_limit_retries=0)


@attrs.frozen
class Venue:
    """How one exchange is driven in these tests."""

    name: str
    order_symbol: str  # where orders are placed
    amount: Decimal  # a resting limit buy, far below the market
    price: Decimal
    big_amount: Decimal  # a limit buy the account cannot pay for
    balance_path: str  # for the rate-limit fault
    order_path: str  # for the dropped-connection faults
    passphrase: str | None = None


VENUES = {
    "bybit": Venue(
        "bybit",
        "BTC/USDT",
        Decimal("0.01"),
        Decimal("30000"),
        Decimal("10"),
        "/v5/account/wallet-balance",
        "/v5/order/create",
    ),
    "binance": Venue(
        "binance",
        "BTC/USDT",
        Decimal("0.01"),
        Decimal("30000"),
        Decimal("10"),
        "/api/v3/account",
        "/api/v3/order",
    ),
    "okx": Venue(
        "okx",
        # Orders go on the swap: OKX counts it in contracts, so the bridge's conversion of
        # ccxt's contract amounts is exercised too.
        "BTC/USDT:USDT",
        Decimal("0.01"),
        Decimal("30000"),
        Decimal("1000"),
        "/api/v5/account/balance",
        "/api/v5/trade/batch-orders",  # ccxt's default route for every OKX order
        passphrase=PASSPHRASE,
    ),
}

#: (model, exchange or "*", field) -> why the bridge's value differs from the native adapter's.
EXCLUDED: dict[tuple[str, str, str], str] = {
    ("Market", "*", "category"): "the native adapters' routing group; ccxt has none",
    ("Market", "bybit", "min_notional"): "ccxt's bybit parser drops inverse minNotionalValue",
    ("Ticker", "*", "timestamp"): "each call's own time (Bybit's native one is the envelope's)",
    ("Ticker", "*", "funding_rate"): "not part of ccxt's ticker",
    ("Ticker", "*", "next_funding_time"): "not part of ccxt's ticker",
    ("OrderBook", "*", "timestamp"): "each call's own time",
    ("OrderBook", "bybit", "sequence"): "ccxt's bybit order book has no nonce",
    ("OrderBook", "okx", "sequence"): "ccxt's okx order book has no nonce",
    ("Order", "okx", "time_in_force"): "ccxt's okx parser leaves it empty for plain limits",
    ("Order", "okx", "post_only"): "ccxt's okx parser leaves it empty for plain limits",
    ("Order", "okx", "cost"): "ccxt computes 0 for contracts; the native adapter leaves None",
    ("Balances", "*", "timestamp"): "each call's own time",
}
#: Ticker fields that cannot agree on derivatives: (exchange, "linear" or "inverse") -> fields.
DERIVATIVE_TICKER_EXCLUDED: dict[tuple[str, str], tuple[str, ...]] = {
    # ccxt's USD-M ticker has no book prices; the native adapter adds /fapi/v1/ticker/bookTicker.
    ("binance", "linear"): ("bid", "ask", "bid_size", "ask_size"),
    # ccxt counts OKX contract volume in contracts; the native adapter in the base currency.
    ("okx", "linear"): ("base_volume",),
    ("okx", "inverse"): ("base_volume", "quote_volume"),
    # Bybit's inverse volume24h counts USD and turnover24h BTC: the native adapter swaps them
    # into base/quote meaning, ccxt keeps Bybit's names.
    ("bybit", "inverse"): ("base_volume", "quote_volume"),
}


# -- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(params=sorted(VENUES))
def venue(request: pytest.FixtureRequest) -> Venue:
    return VENUES[request.param]


@pytest.fixture
def emu(venue: Venue) -> Iterator[Emulator]:
    with Emulator(venue.name, seed=7) as emulator:
        yield emulator


def creds(venue: Venue, key: str = KEY, secret: str = SECRET) -> exchanges.Credentials:
    return exchanges.Credentials(key, secret, passphrase=venue.passphrase)


def bridge_options(venue: Venue) -> dict[str, Any]:
    # ccxt's own options stay at their defaults (every route its default flows call is
    # served); only its throttle, ~100 ms of sleep per call, is off: it skips no call.
    return {"ccxt_config": {"enableRateLimit": False}}


def assert_on_emulator(client: Any, emu: Emulator) -> None:
    urls = [url for url in api_urls(client.ccxt) if url.startswith("http")]
    assert urls and all(url.startswith(emu.base_url) for url in urls), urls


def bridge(venue: Venue, emu: Emulator, **kwargs: Any) -> exchanges.Exchange:
    kwargs.setdefault("credentials", creds(venue))
    client = exchanges.connect(
        f"ccxt:{venue.name}", base_url=emu.base_url, **bridge_options(venue), **kwargs
    )
    assert_on_emulator(client, emu)
    return client


def native(venue: Venue, emu: Emulator) -> exchanges.Exchange:
    return exchanges.connect(venue.name, base_url=emu.base_url, credentials=creds(venue))


def comparable(model: Any, venue: Venue, market: Market | None = None) -> Any:
    """``model`` with the fields that cannot agree set to None (reasons in EXCLUDED)."""
    kind = type(model).__name__
    fields = {f.name for f in attrs.fields(type(model))}
    blank = {
        name
        for name in fields
        if (kind, "*", name) in EXCLUDED or (kind, venue.name, name) in EXCLUDED
    }
    if kind == "Ticker" and market is not None and market.contract:
        margin = "linear" if market.linear else "inverse"
        blank.update(DERIVATIVE_TICKER_EXCLUDED.get((venue.name, margin), ()))
    return attrs.evolve(model, **dict.fromkeys(blank))


def assert_same(ours: Any, theirs: Any, venue: Venue, market: Market | None = None) -> None:
    left, right = comparable(ours, venue, market), comparable(theirs, venue, market)
    if left != right:
        diffs = {
            f.name: (getattr(left, f.name), getattr(right, f.name))
            for f in attrs.fields(type(left))
            if f.eq and getattr(left, f.name) != getattr(right, f.name)
        }
        pytest.fail(f"{type(ours).__name__} differs (native, bridge): {diffs}")


def assert_same_balances(ours: Any, theirs: Any, venue: Venue) -> None:
    assert sorted(ours) == sorted(theirs)
    for currency in ours:
        assert ours[currency] == theirs[currency], currency


def ledger_ids(emu: Emulator) -> list[str]:
    return [o["client_order_id"] for o in emu.ledger()]


# -- differential: native adapter and bridge on one emulator ----------------------------------


def test_same_models_as_the_native_adapter(venue: Venue, emu: Emulator) -> None:
    with native(venue, emu) as ours, bridge(venue, emu) as theirs:
        markets, bridged = ours.load_markets(), theirs.load_markets()
        assert sorted(markets) == sorted(bridged)
        for symbol, market in markets.items():
            assert_same(market, bridged[symbol], venue)
            assert_same(ours.fetch_ticker(symbol), theirs.fetch_ticker(symbol), venue, market)
            book, bridged_book = (
                ours.fetch_order_book(symbol, 5),
                theirs.fetch_order_book(symbol, 5),
            )
            assert len(book.bids) == len(book.asks) == 5
            assert_same(book, bridged_book, venue)
        assert_same_balances(ours.fetch_balance(), theirs.fetch_balance(), venue)

        symbol = venue.order_symbol
        placed = theirs.create_order(
            symbol, "limit", "buy", venue.amount, venue.price, client_order_id="bridge1"
        )
        assert placed.client_order_id == "bridge1" and placed.id
        assert (placed.side, placed.price, placed.amount) == ("buy", venue.price, venue.amount)
        for ref in ((placed.id, None), (None, "bridge1")):
            fetched = theirs.fetch_order(ref[0], symbol, client_order_id=ref[1])
            assert_same(ours.fetch_order(placed.id, symbol), fetched, venue)
        assert fetched.status == "open" and fetched.remaining == venue.amount
        opened, bridged_open = ours.fetch_open_orders(symbol), theirs.fetch_open_orders(symbol)
        assert [o.client_order_id for o in bridged_open] == ["bridge1"]
        assert_same(opened[0], bridged_open[0], venue)
        # The resting order locks funds: both see the same free/used split.
        assert_same_balances(ours.fetch_balance(), theirs.fetch_balance(), venue)

        cancelled = theirs.cancel_order(placed.id, symbol)
        assert (cancelled.id, cancelled.client_order_id) == (placed.id, "bridge1")
        after = theirs.fetch_order(placed.id, symbol)
        assert (after.status, after.remaining) == ("canceled", 0)
        assert_same(ours.fetch_order(placed.id, symbol), after, venue)
        assert theirs.fetch_open_orders(symbol) == []
        closed = theirs.fetch_closed_orders(symbol)
        assert [o.client_order_id for o in closed] == ["bridge1"]
        assert_same(ours.fetch_closed_orders(symbol)[0], closed[0], venue)

        # An order placed natively is the same order through the bridge, and the other way.
        native_order = ours.create_order(
            symbol, "limit", "buy", venue.amount, venue.price, client_order_id="native1"
        )
        assert_same(
            ours.fetch_order(native_order.id, symbol),
            theirs.fetch_order(None, symbol, client_order_id="native1"),
            venue,
        )
        assert theirs.cancel_order(None, symbol, client_order_id="native1").id == native_order.id
        assert ours.fetch_order(native_order.id, symbol).status == "canceled"
    assert ledger_ids(emu) == ["bridge1", "native1"]


async def test_same_models_as_the_native_adapter_async(venue: Venue, emu: Emulator) -> None:
    options = bridge_options(venue)
    async with (
        exchanges.connect_async(
            venue.name, base_url=emu.base_url, credentials=creds(venue)
        ) as ours,
        exchanges.connect_async(
            f"ccxt:{venue.name}", base_url=emu.base_url, credentials=creds(venue), **options
        ) as theirs,
    ):
        assert_on_emulator(theirs, emu)
        assert type(theirs).__name__ == "CcxtAsyncExchange"
        markets, bridged = await ours.load_markets(), await theirs.load_markets()
        assert sorted(markets) == sorted(bridged)
        for symbol, market in markets.items():
            assert_same(market, bridged[symbol], venue)
        spot = "BTC/USDT"
        assert_same(await ours.fetch_ticker(spot), await theirs.fetch_ticker(spot), venue)
        assert_same(
            await ours.fetch_order_book(spot, 5), await theirs.fetch_order_book(spot, 5), venue
        )
        assert_same_balances(await ours.fetch_balance(), await theirs.fetch_balance(), venue)
        symbol = venue.order_symbol
        placed = await theirs.create_order(
            symbol, "limit", "buy", venue.amount, venue.price, client_order_id="async1"
        )
        assert_same(
            await ours.fetch_order(placed.id, symbol),
            await theirs.fetch_order(placed.id, symbol),
            venue,
        )
        await theirs.cancel_order(placed.id, symbol)
        after = await theirs.fetch_order(None, symbol, client_order_id="async1")
        assert after.status == "canceled"
        assert_same(await ours.fetch_order(placed.id, symbol), after, venue)
    assert ledger_ids(emu) == ["async1"]


def test_fills_and_positions_match_on_bybit() -> None:
    venue = VENUES["bybit"]
    with Emulator("bybit", seed=7) as emu, native(venue, emu) as ours, bridge(venue, emu) as theirs:
        theirs.create_order("ETH/USDT:USDT", "market", "sell", Decimal("0.1"))
        fills, bridged = (
            ours.fetch_my_trades("ETH/USDT:USDT"),
            theirs.fetch_my_trades("ETH/USDT:USDT"),
        )
        assert len(fills) == len(bridged) == 1
        # ccxt's trade structure has no client order id (convert.py's module docstring).
        assert attrs.evolve(fills[0], client_order_id=None) == bridged[0]
        assert bridged[0].is_maker is False and bridged[0].fee and bridged[0].fee > 0
        positions = ours.fetch_positions(["ETH/USDT:USDT"])
        assert positions == theirs.fetch_positions(["ETH/USDT:USDT"])
        assert [(p.side, p.size) for p in positions] == [("short", Decimal("0.1"))]
        assert theirs.fetch_trading_fee("BTC/USDT") == ours.fetch_trading_fee("BTC/USDT")
        candles = theirs.fetch_ohlcv("BTC/USDT", "1m", limit=3)
        # ccxt's OHLCV rows have no quote volume (convert.py's module docstring).
        assert [
            attrs.evolve(c, quote_volume=None) for c in ours.fetch_ohlcv("BTC/USDT", limit=3)
        ] == (candles)


# -- errors through the emulator --------------------------------------------------------------

NATIVE_SIGNATURE_CODES = {"bybit": 10004, "binance": -1022, "okx": "50113"}
NATIVE_RATE_LIMIT_CODES = {"bybit": 10006, "binance": -1003, "okx": "50011"}


def test_wrong_secret_is_invalid_signature_with_the_native_code(
    venue: Venue, emu: Emulator
) -> None:
    wrong = creds(venue, secret="wrong-secret-123")
    with bridge(venue, emu, credentials=wrong) as client, pytest.raises(InvalidSignature) as caught:
        client.fetch_balance()
    err = caught.value
    assert (err.exchange, err.code) == (venue.name, NATIVE_SIGNATURE_CODES[venue.name])
    assert err.hint and err.endpoint == "ccxt fetch_balance"
    # Bybit echoes the signed string, API key included: it arrives masked.
    assert KEY not in str(err) and "wrong-secret-123" not in str(err)


def test_unknown_order_and_unaffordable_order(venue: Venue, emu: Emulator) -> None:
    with bridge(venue, emu) as client:
        with pytest.raises(OrderNotFound) as missing:
            client.cancel_order("123456789", venue.order_symbol)
        assert missing.value.code is not None and missing.value.exchange == venue.name
        with pytest.raises(OrderNotFound):
            client.fetch_order("123456789", venue.order_symbol)
        with pytest.raises(InsufficientFunds) as poor:
            client.create_order(
                venue.order_symbol, "limit", "buy", venue.big_amount, Decimal("60000")
            )
        assert poor.value.code is not None
    assert emu.ledger() == []


def test_rate_limit_fault_is_rate_limit_exceeded_and_retried(venue: Venue, emu: Emulator) -> None:
    emu.set_faults(f"rate_limit@{venue.balance_path}")
    client = bridge(venue, emu, retry=NO_RATE_LIMIT_RETRY)
    with client, pytest.raises(RateLimitExceeded) as caught:
        client.fetch_balance()
    assert caught.value.code == NATIVE_RATE_LIMIT_CODES[venue.name]
    assert caught.value.retryable
    # Once only: the library's pipeline waits and repeats the read, which then succeeds.
    emu.set_faults(f"rate_limit@{venue.balance_path}*1")
    with bridge(venue, emu) as client:
        assert client.fetch_balance()["USDT"].total > 0
    assert emu.stats()["faults_injected"]["rate_limit"] == 2


def test_read_only_key_is_permission_denied_and_trade_key_is_used_for_writes() -> None:
    venue = VENUES["bybit"]
    with Emulator("bybit", seed=7) as emu:
        emu.add_key("ro-key", "ro-secret-1", permissions=("read",))
        read_only = creds(venue, "ro-key", "ro-secret-1")
        with bridge(venue, emu, credentials=read_only) as client:
            assert client.fetch_balance()["USDT"].total == 100000
            with pytest.raises(PermissionDenied) as caught:
                client.create_order("BTC/USDT", "limit", "buy", venue.amount, venue.price)
            assert caught.value.code == 10005
        with bridge(venue, emu, credentials=read_only, trade_credentials=creds(venue)) as client:
            assert client.transport.read.apiKey == "ro-key"  # type: ignore[attr-defined]
            assert client.transport.trade.apiKey == KEY  # type: ignore[attr-defined]
            order = client.create_order(
                "BTC/USDT", "limit", "buy", venue.amount, venue.price, client_order_id="split1"
            )
            assert client.fetch_order(order.id, "BTC/USDT").status == "open"
        assert ledger_ids(emu) == ["split1"]


# -- exactly once -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bybit", "binance", "okx"])
def test_lost_answer_to_a_placed_order_is_reconciled_not_resent(name: str) -> None:
    venue = VENUES[name]
    with Emulator(name, seed=7) as emu, bridge(venue, emu) as client:
        client.load_markets()
        # The exchange commits the order, then the connection drops before the answer.
        emu.set_faults(f"drop_after@{venue.order_path}*1")
        order = client.create_order(
            venue.order_symbol, "limit", "buy", venue.amount, venue.price, client_order_id="once1"
        )
        assert (order.client_order_id, order.status) == ("once1", "open")
        assert ledger_ids(emu) == ["once1"]


def test_request_lost_before_the_exchange_is_resent_once_where_absence_is_provable() -> None:
    venue = VENUES["binance"]
    with Emulator("binance", seed=7) as emu, bridge(venue, emu) as client:
        client.load_markets()
        emu.set_faults(f"drop_before@{venue.order_path}*1")
        # Binance answers a query by client order id: "unknown" proves absence, so it is resent.
        order = client.create_order(
            "BTC/USDT", "limit", "buy", venue.amount, venue.price, client_order_id="once2"
        )
        assert order.client_order_id == "once2"
        assert ledger_ids(emu) == ["once2"]


def test_unknown_outcome_without_proof_of_absence_is_outcome_unknown() -> None:
    venue = VENUES["bybit"]
    with Emulator("bybit", seed=7) as emu, bridge(venue, emu) as client:
        client.load_markets()
        emu.set_faults(f"drop_before@{venue.order_path}*1")
        # ccxt's bybit cannot fetch by client order id; the order lists are no proof.
        with pytest.raises(OutcomeUnknown) as caught:
            client.create_order(
                "BTC/USDT", "limit", "buy", venue.amount, venue.price, client_order_id="once3"
            )
        assert caught.value.client_order_id == "once3"
        assert emu.ledger() == []


# -- clock, environments, logging -------------------------------------------------------------


def test_clock_skew_is_resynced_once_and_the_call_repeated() -> None:
    venue = VENUES["bybit"]
    with Emulator("bybit", seed=7) as emu, bridge(venue, emu) as client:
        emu.set_clock_offset(30_000)  # the exchange's clock runs 30 s ahead
        order = client.create_order(
            "BTC/USDT", "limit", "buy", venue.amount, venue.price, client_order_id="skew1"
        )
        assert order.client_order_id == "skew1"
        assert -32_000 < client.ccxt.options["timeDifference"] < -28_000  # type: ignore[attr-defined]
        assert ledger_ids(emu) == ["skew1"]


@pytest.mark.parametrize(
    ("name", "env", "flag"),
    [
        ("bybit", "testnet", "isSandboxModeEnabled"),
        ("bybit", "demo", None),
        ("binance", "demo", None),
    ],
)
def test_environment_switch_then_base_url(name: str, env: str, flag: str | None) -> None:
    venue = VENUES[name]
    with Emulator(name, seed=7) as emu, bridge(venue, emu, env=env) as client:
        assert client.env == env
        ccxt_client = client.ccxt  # type: ignore[attr-defined]
        if flag is not None:
            assert getattr(ccxt_client, flag) is True
        else:
            assert ccxt_client.options["enableDemoTrading"] is True
        assert client.fetch_balance()["USDT"].total == 100000


def test_okx_demo_is_ccxt_sandbox_mode_with_the_simulated_trading_header() -> None:
    venue = VENUES["okx"]
    with Emulator("okx", seed=7) as emu:
        emu.add_key("demo-key", "demo-secret-1", passphrase=PASSPHRASE, environment="demo")
        emu.add_key("live-key", "live-secret-1", passphrase=PASSPHRASE, environment="live")
        demo = creds(venue, "demo-key", "demo-secret-1")
        with bridge(venue, emu, env="demo", credentials=demo) as client:
            assert client.ccxt.headers["x-simulated-trading"] == "1"  # type: ignore[attr-defined]
            assert client.fetch_balance()["USDT"].total == 100000
        live = creds(venue, "live-key", "live-secret-1")
        with bridge(venue, emu, env="demo", credentials=live) as client:
            with pytest.raises(InvalidApiKey) as caught:
                client.fetch_balance()
            assert caught.value.code == "50101"


def test_ccxt_request_logs_carry_no_headers_or_secrets(caplog: pytest.LogCaptureFixture) -> None:
    venue = VENUES["okx"]
    caplog.set_level(logging.DEBUG)
    with Emulator("okx", seed=7) as emu, bridge(venue, emu) as client:
        client.fetch_balance()
    lines = [r.getMessage() for r in caplog.records if r.name == "exchanges.ccxt_bridge"]
    assert any("/api/v5/account/balance" in line for line in lines)
    text = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (SECRET, PASSPHRASE, "OK-ACCESS-SIGN", "OK-ACCESS-PASSPHRASE", KEY):
        assert needle not in text


def test_orders_page_is_compared_with_an_order_model() -> None:
    # The differential test's helper really compares: a differing field fails it.
    venue = VENUES["bybit"]
    order = Order(
        "1", "c", "BTC/USDT", "limit", "buy", "open", Decimal(1), Decimal(1), Decimal(0),
        Decimal(1), None, "GTC", False, False, 1, 1,
    )  # fmt: skip
    assert_same(order, attrs.evolve(order, raw={"ignored": True}), venue)
    with pytest.raises(pytest.fail.Exception):
        assert_same(order, attrs.evolve(order, price=Decimal(2)), venue)


# -- Decimal numbers: the bridged ccxt client against plain ccxt ------------------------------


def same_numbers(plain: Any, bridged: Any, where: str = "") -> None:
    """Every number ccxt gives as float is the same number, as Decimal, in the bridged tree."""
    if isinstance(plain, dict):
        assert isinstance(bridged, dict), where
        for key in plain:
            if key != "info":  # the exchange's own JSON, identical strings on both sides
                same_numbers(plain[key], bridged.get(key), f"{where}.{key}")
    elif isinstance(plain, list):
        assert isinstance(bridged, list) and len(plain) == len(bridged), where
        for index, (a, b) in enumerate(zip(plain, bridged, strict=True)):
            same_numbers(a, b, f"{where}[{index}]")
    elif isinstance(plain, float):
        assert isinstance(bridged, Decimal), f"{where}: {bridged!r} for {plain!r}"
        # ccxt computes a few values (vwap, cost) in float; the bridge in exact decimals.
        assert abs(Decimal(repr(plain)) - bridged) <= abs(bridged) * Decimal("1e-12"), where
    elif plain is None:
        assert bridged is None, f"{where}: {bridged!r} where ccxt has None"


def test_decimal_numbers_lose_nothing_against_plain_ccxt(venue: Venue, emu: Emulator) -> None:
    from adapters.ccxt_bridge import client as build

    module = build.load_ccxt()
    scrub = Scrubber([creds(venue)])
    options = bridge_options(venue)

    def make(cls: Any) -> Any:
        config = {**options["ccxt_config"], **build.credential_config(creds(venue))}
        made = cls(config)
        build.rewrite_urls(made, emu.base_url)
        made.logger = build.CcxtLog(scrub)
        urls = [url for url in build.api_urls(made) if url.startswith("http")]
        assert all(url.startswith(emu.base_url) for url in urls)
        return made

    plain = make(build.exchange_class(module, venue.name))
    bridged = make(build.bridged_class(build.exchange_class(module, venue.name)))
    try:
        same_numbers(plain.load_markets(), bridged.load_markets(), "markets")
        symbol = venue.order_symbol
        calls: list[tuple[str, tuple[Any, ...]]] = [
            ("fetch_ticker", ("BTC/USDT",)),
            ("fetch_order_book", ("BTC/USDT", 5)),
            ("fetch_ohlcv", ("BTC/USDT", "1m", None, 5)),
            ("fetch_balance", ()),
        ]
        if venue.name != "binance":  # ccxt's binance uses /sapi/v1/asset/tradeFee: not emulated
            calls.append(("fetch_trading_fee", ("BTC/USDT",)))
        for method, args in calls:
            same_numbers(getattr(plain, method)(*args), getattr(bridged, method)(*args), method)
        # Plain ccxt counts contracts (the interface counts the base currency).
        contracts = venue.amount / Decimal(str(plain.market(symbol).get("contractSize") or 1))
        order = plain.create_order(symbol, "market", "buy", float(contracts))
        same_numbers(plain.fetch_my_trades(symbol), bridged.fetch_my_trades(symbol), "fills")
        if venue.name == "bybit":  # ccxt's bybit fetch_order needs params["acknowledged"]
            fetched = [plain.fetch_closed_order(order["id"], symbol)]
            again = [bridged.fetch_closed_order(order["id"], symbol)]
        else:
            fetched = [plain.fetch_order(order["id"], symbol)]
            again = [bridged.fetch_order(order["id"], symbol)]
        same_numbers(fetched, again, "order")
    finally:
        plain.close()
        bridged.close()


NATIVE_DUPLICATE_CODES = {"bybit": 110072, "binance": -2010, "okx": "51016"}


def test_duplicate_client_order_id_is_duplicate_order_id(venue: Venue, emu: Emulator) -> None:
    # ccxt 4.5.90 raises InvalidOrder for all three; the bridge resolves them by native code
    # to DuplicateOrderId.
    with bridge(venue, emu) as client:
        args = (venue.order_symbol, "limit", "buy", venue.amount, venue.price)
        client.create_order(*args, client_order_id="dup1")
        with pytest.raises(DuplicateOrderId) as caught:
            client.create_order(*args, client_order_id="dup1")
    assert caught.value.code == NATIVE_DUPLICATE_CODES[venue.name]
    assert ledger_ids(emu) == ["dup1"]


@pytest.mark.parametrize("name", ["bybit", "binance"])
def test_pem_private_keys_reach_ccxt_as_it_expects(name: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    # Bybit signs with RSA keys, Binance here with Ed25519: ccxt reads either from `secret`.
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if name == "bybit"
        else ed25519.Ed25519PrivateKey.generate()
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    venue = VENUES[name]
    with Emulator(name, seed=7) as emu:
        emu.add_key("pem-key", public_key=public, permissions=("read", "spot_trade"))
        pem = exchanges.Credentials("pem-key", private_key=private)
        with bridge(venue, emu, credentials=pem) as client:
            assert client.fetch_balance()["USDT"].total == 100000
            order = client.create_order(
                "BTC/USDT", "limit", "buy", venue.amount, venue.price, client_order_id="pem1"
            )
            assert client.cancel_order(order.id, "BTC/USDT").id == order.id
        assert ledger_ids(emu) == ["pem1"]
