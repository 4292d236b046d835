"""``exchanges.capabilities``: the structure, its lookups and errors, the ccxt derivation, the
``exchanges capabilities`` command, and the README's table kept equal to the declarations.

Whether the declarations match what the adapters do is tests/integration/
test_capabilities_declared.py (every key called on the emulators).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest

import exchanges
from adapters.ccxt_bridge.capabilities import derive
from exchanges.capabilities import (
    ENVIRONMENTS,
    MARKET_TYPES,
    ORDER_INTENTS,
    ORDER_TYPES,
    PRIVATE_OPERATIONS,
    PUBLIC_OPERATIONS,
    STREAMS,
    TIME_IN_FORCE,
    UNDECLARED,
    Capabilities,
    Support,
    capabilities_of,
    markdown,
    market_type,
    no,
    order_keys,
    table,
    yes,
)
from exchanges.cli import main
from exchanges.errors import NotSupported
from exchanges.symbols import parse_symbol

README = Path(__file__).resolve().parents[2] / "README.md"
NATIVE = ("bybit", "binance", "okx")
REGENERATE = "exchanges capabilities --readme"

SAMPLE = Capabilities(
    "acme",
    markets={"spot": yes(), "option": no("acme lists no options", hint="Use spot.")},
    operations={
        "amend_order": yes(markets={"spot": no("acme spot cannot amend")}),
        "fetch_key_info": yes(environments={"testnet": no("no key endpoint on testnet")}),
        "fetch_ticker": yes("slow"),
    },
    streams={"watch_ticker": no("acme has no streams")},
    environments={"mainnet": yes(), "testnet": yes(), "demo": no("acme has no demo")},
)


# -- the structure ----------------------------------------------------------------------------


def test_an_entry_is_offered_or_says_why_not() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        Support(False)
    with pytest.raises(ValueError, match="note, not a reason"):
        Support(True, reason="because")
    assert not no("x") and yes() and yes("n").text == "n" and no("why").text == "why"


def test_declarations_cannot_be_changed() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        SAMPLE.exchange = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        SAMPLE.operations["fetch_ticker"] = no("x")  # type: ignore[index]
    with pytest.raises(TypeError):
        SAMPLE["amend_order"].markets["swap"] = no("x")  # type: ignore[index]


def test_keys_and_lookups() -> None:
    assert list(SAMPLE) == [
        "market.spot",
        "market.option",
        "env.mainnet",
        "env.testnet",
        "env.demo",
        "amend_order",
        "amend_order.spot",
        "fetch_key_info",
        "fetch_key_info.testnet",
        "fetch_ticker",
        "watch_ticker",
    ]
    assert SAMPLE["amend_order.spot"].reason == "acme spot cannot amend"
    assert SAMPLE["amend_order.swap"].supported  # no variant: the operation's own entry
    assert SAMPLE["fetch_key_info.testnet"].reason == "no key endpoint on testnet"
    with pytest.raises(KeyError):
        SAMPLE["fetch_balance"]
    # The most specific entry decides: an unoffered market or environment first.
    assert SAMPLE.resolve("amend_order", market="spot")[0] == "amend_order.spot"
    assert SAMPLE.resolve("amend_order", market="swap")[0] == "amend_order"
    assert SAMPLE.resolve("fetch_ticker", market="option")[0] == "market.option"
    assert SAMPLE.resolve("fetch_ticker", env="demo")[0] == "env.demo"
    assert SAMPLE.resolve("fetch_key_info", env="testnet")[0] == "fetch_key_info.testnet"
    assert SAMPLE.supports("fetch_key_info", env="mainnet")
    # What nobody declared refuses nothing (an adapter without declarations keeps working).
    assert SAMPLE.supports("fetch_balance") and UNDECLARED.supports("amend_order", market="spot")


def test_not_supported_names_the_key_and_gives_the_reason() -> None:
    err = SAMPLE.error("amend_order", market="spot")
    assert isinstance(err, NotSupported) and err.exchange == "acme"
    assert err.message == "acme does not offer amend_order.spot: acme spot cannot amend"
    err = SAMPLE.error("fetch_ticker", market="option", subject="BTC/USD:BTC-301227-1-C")
    assert err.message == (
        "acme does not offer market.option (BTC/USD:BTC-301227-1-C): acme lists no options"
    )
    assert err.hint == "Use spot."
    with pytest.raises(NotSupported) as caught:
        SAMPLE.require("watch_ticker")
    assert caught.value.message == "acme does not offer watch_ticker: acme has no streams"
    SAMPLE.require("fetch_ticker")  # offered: nothing raised


def test_market_types_and_order_keys() -> None:
    kinds = {
        "BTC/USDT": "spot",
        "BTC/USDT:USDT": "swap",
        "BTC/USDT:USDT-301227": "future",
        "BTC/USD:BTC": "inverse",
        "BTC/USD:BTC-301227": "inverse",
        "BTC/USDT:USDT-301227-100000-C": "option",
    }
    assert {s: market_type(parse_symbol(s)) for s in kinds} == kinds
    assert order_keys("limit", None, False) == ["order_type.limit"]
    assert order_keys("limit", "GTD", False) == ["order_type.limit", "time_in_force.GTD"]
    assert order_keys("limit", None, True) == ["order_type.limit", "time_in_force.PO"]
    assert order_keys("stop", "XYZ", False) == []  # left to argument validation


@pytest.mark.parametrize("name", NATIVE)
def test_native_declarations_cover_every_key(name: str) -> None:
    caps = capabilities_of(name)
    assert caps.exchange == name
    assert set(caps.markets) == set(MARKET_TYPES)
    assert set(caps.order_types) == set(ORDER_TYPES)
    assert set(caps.time_in_force) == set(TIME_IN_FORCE)
    assert set(caps.operations) == {*PUBLIC_OPERATIONS, *PRIVATE_OPERATIONS, *ORDER_INTENTS}
    assert set(caps.streams) == set(STREAMS)
    assert set(caps.environments) == set(ENVIRONMENTS)
    offered = {m for m in MARKET_TYPES if caps.markets[m]}
    assert set(caps.native_units) == offered
    for key in caps:
        entry = caps[key]
        # Short enough for a footnote, and the same text NotSupported gives.
        assert len(entry.text) <= 200, key
        if not entry.supported:
            assert caps.error(key).message.endswith(f": {entry.reason}")


def test_clients_show_their_adapters_capabilities() -> None:
    with exchanges.connect("binance") as ex:
        assert ex.capabilities is ex.adapter.capabilities
        assert not ex.capabilities.supports("amend_order", market="spot")
        # GTD is USD-M's only (goodTillDate): refused on spot, before anything is sent.
        with pytest.raises(NotSupported, match=r"does not offer time_in_force\.GTD\.spot "):
            ex.create_order(
                "BTC/USDT", "limit", "buy", 1, 1, time_in_force="GTD", good_till=2_000_000_000_000
            )


async def test_async_clients_show_them_too() -> None:
    async with exchanges.connect_async("okx") as ex:
        assert ex.capabilities is ex.adapter.capabilities
        assert ex.capabilities.supports("watch_trades")
        with pytest.raises(NotSupported) as caught:
            await ex.create_order(
                "BTC/USDT:USDT", "limit", "buy", 1, 1, time_in_force="GTD", good_till=2 * 10**12
            )
        assert caught.value.message.startswith("okx does not offer time_in_force.GTD: ")


# -- the ccxt bridge ----------------------------------------------------------------------------


def fake_ccxt(has: dict[str, Any], **more: Any) -> Any:
    return SimpleNamespace(has=has, **more)


def test_ccxt_capabilities_follow_has_and_features() -> None:
    features = {
        "spot": {"createOrder": {"timeInForce": {"GTC": True, "IOC": True, "FOK": False}}},
        "swap": {"linear": {}, "inverse": None},
        "future": {"linear": None, "inverse": None},
    }
    caps = derive(
        "acme",
        fake_ccxt(
            {"fetchTicker": True, "editOrder": False, "fetchOpenOrders": True, "cancelOrder": True,
             "fetchClosedOrders": "emulated", "option": False, "createMarketOrder": False},
            features=features,
            urls={"test": "https://test.acme"},
        ),
        None,
    )  # fmt: skip
    assert caps.supports("fetch_ticker") and not caps.supports("fetch_tickers")
    assert caps["amend_order"].reason == "ccxt's acme does not offer editOrder"
    assert caps["cancel_all_orders"].note == "each open order is cancelled in turn"
    assert caps.supports("fetch_closed_orders")  # "emulated" by ccxt still works
    assert not caps.supports("fetch_key_info") and not caps.supports("watch_ticker")
    assert not caps.supports("market.option") and caps.supports("market.swap")
    assert not caps.supports("market.inverse")  # features list no inverse swap or future
    assert not caps.supports("order_type.market") and caps.supports("order_type.limit")
    assert not caps.supports("time_in_force.FOK") and caps.supports("time_in_force.PO")
    assert not caps.supports("time_in_force.GTD")
    assert caps.supports("env.testnet") and not caps.supports("env.demo")
    okx = derive("okx", fake_ccxt({}, urls={"test": "https://okx"}), "okx")
    assert okx["env.testnet"].reason == "okx has no testnet; its sandbox is demo trading"
    assert okx.supports("env.demo")


def test_ccxt_capabilities_of_a_real_id() -> None:
    pytest.importorskip("ccxt")
    kraken = capabilities_of("ccxt:kraken")
    assert kraken.exchange == "kraken"
    assert not kraken.supports("market.swap") and kraken.supports("market.spot")
    assert not kraken.supports("env.testnet")
    with pytest.raises(NotSupported) as caught:
        next(kraken_adapter().market(parse_symbol("BTC/USD:USD")))
    assert caught.value.message == (
        "kraken does not offer market.swap (BTC/USD:USD): ccxt's kraken has no swap markets"
    )


def kraken_adapter() -> Any:
    from adapters.ccxt_bridge.adapter import CcxtAdapter

    return CcxtAdapter(options={"ccxt_id": "kraken"})


# -- the README's table -----------------------------------------------------------------------


def readme_block() -> str:
    found = re.search(
        r"<!-- capabilities:start -->\n\n(.*?)\n<!-- capabilities:end -->",
        README.read_text("utf-8"),
        re.DOTALL,
    )
    assert found, "README.md lost its <!-- capabilities:start/end --> markers"
    return found.group(1)


def test_readme_table_is_the_declarations() -> None:
    expected = markdown([capabilities_of(name) for name in NATIVE])
    assert readme_block() == expected, (
        f"README.md's capabilities table differs from the adapters' declarations: run "
        f"`{REGENERATE}` in the repository root"
    )


def test_table_marks_and_numbers_the_reasons() -> None:
    data = table([SAMPLE, capabilities_of("bybit")])
    rows = {row[0]: row[1:] for _, section in data.sections for row in section}

    def note(cell: str) -> str:
        return data.notes[int(cell.split("[")[1].rstrip("]")) - 1]

    assert rows["amend_order.spot"][1] == "✓" and rows["amend_order.spot"][0].startswith("— [")
    assert note(rows["amend_order.spot"][0]) == "acme: acme spot cannot amend"
    assert note(rows["market.option"][0]) == "acme: acme lists no options"
    assert note(rows["fetch_ticker"][0]) == "acme: slow" and rows["fetch_ticker"][0][0] == "✓"
    # A market type the exchange lacks decides its operations' rows with the same note.
    assert rows["fetch_ohlcv.option"][0] == rows["market.option"][0]
    assert len(set(data.notes)) == len(data.notes)
    text = markdown([SAMPLE])
    found = re.search(r"^\| `amend_order\.spot` \| — \[(\d+)\] \|$", text, re.MULTILINE)
    assert found, text
    assert f"\n- [{found.group(1)}] acme: acme spot cannot amend\n" in text
    # What the adapter did not declare shows as offered, and says so.
    assert re.search(r"^\| `market\.swap` \| ✓ \[\d+\] \|$", text, re.MULTILINE)
    assert "acme: not declared by this adapter" in text


def test_command_prints_and_writes_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["capabilities", "--markdown"]) == 0
    assert capsys.readouterr().out == markdown([capabilities_of(n) for n in NATIVE])
    page = tmp_path / "README.md"
    page.write_text(
        "intro\n<!-- capabilities:start -->\nstale\n<!-- capabilities:end -->\nrest\n", "utf-8"
    )
    assert main(["capabilities", "--readme", str(page), "okx"]) == 0
    expected = markdown([capabilities_of("okx")])
    assert page.read_text("utf-8") == (
        f"intro\n<!-- capabilities:start -->\n\n{expected}\n<!-- capabilities:end -->\nrest\n"
    )
    (tmp_path / "plain.md").write_text("no markers\n", "utf-8")
    assert main(["capabilities", "--readme", str(tmp_path / "plain.md")]) == 2
    assert "capabilities:start" in capsys.readouterr().err
    assert main(["capabilities", "binance"]) == 0
    out = capsys.readouterr().out
    assert "amend_order.spot" in out and "Binance spot has no in-place amend" in out
