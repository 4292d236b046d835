"""The command says what happened: exit statuses, steps not offered, whole values, clear options.

Everything runs in-process against the embedded emulators (no network).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import attrs
import pytest

import exchanges
from exchanges.cli import main, tables
from exchanges.cli.layout import trim_number
from exchanges.cli.render import Output, cell
from exchanges.emulator import Emulator

WIDTH = 80
CREDENTIALS = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture(autouse=True)
def _terminal_80(monkeypatch: pytest.MonkeyPatch) -> None:
    # rich sizes its consoles from COLUMNS when the output is not a terminal.
    monkeypatch.setenv("COLUMNS", str(WIDTH))
    for name in list(os.environ):
        if name.split("_", 1)[0] in ("BYBIT", "BINANCE", "OKX"):
            monkeypatch.delenv(name)


# -- every value whole at 80 columns -----------------------------------------------------------


@attrs.define
class Printed:
    """The tables printed during a run, as Output.table received them."""

    tables: list[tuple[list[list[str]], set[int]]] = attrs.field(factory=list)


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Printed:
    record = Printed()
    original = Output.table

    def spy(self: Output, headers: Sequence[str], rows: Any, **kwargs: Any) -> None:
        rows = [list(row) for row in rows]
        shown = [[self.redact(cell(value)) for value in row] for row in rows]
        record.tables.append((shown, set(kwargs.get("text", ()))))
        original(self, headers, rows, **kwargs)

    monkeypatch.setattr(Output, "table", spy)
    return record


def _trimmed(text: str) -> str:
    return " ".join(trim_number(word) for word in text.split(" "))


def assert_fits_and_nothing_split(out: str, record: Printed) -> None:
    """No line wider than 80; every value cell (and every word of a text cell) on one line."""
    lines = out.splitlines()
    too_wide = [line for line in lines if len(line) > WIDTH]
    assert not too_wide, "\n".join(too_wide)
    assert record.tables, "no table was printed"
    for rows, text in record.tables:
        for row in rows:
            for index, value in enumerate(row):
                # A value cell may hold lines of its own (compare's latency under the result).
                pieces = value.split() if index in text else value.split("\n")
                for piece in pieces:
                    whole = any(piece in line or _trimmed(piece) in line for line in lines)
                    assert whole, f"{piece!r} is split across lines:\n{out}"


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, Emulator]]:
    running = {name: Emulator(name, seed=7) for name in ("bybit", "binance", "okx")}
    for emu in running.values():
        emu.start()
    try:
        for name, emu in running.items():
            with exchanges.connect(name, base_url=emu.base_url, credentials=CREDENTIALS) as ex:
                # Positions on two linear perpetuals (and an inverse one where it exists),
                # resting orders on spot and on a perpetual, and a spot fill for the trades.
                ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.1"))
                ex.create_order("ETH/USDT:USDT", "market", "buy", Decimal("0.1"))
                if name != "binance":
                    ex.create_order("BTC/USD:BTC", "market", "sell", Decimal("100"))
                ex.create_order(
                    "BTC/USDT", "limit", "buy", Decimal("0.01"), Decimal("50000"), post_only=True
                )
                ex.create_order(
                    "BTC/USDT:USDT",
                    "limit",
                    "sell",
                    Decimal("0.1"),
                    Decimal("80000"),
                    post_only=True,
                )
                ex.create_order("BTC/USDT", "market", "buy", Decimal("0.01"))
        yield running
    finally:
        for emu in running.values():
            emu.stop()


DATA_COMMANDS = [
    ["markets"],
    ["positions"],
    ["orders"],
    ["orders", "BTC/USDT", "--closed"],
    ["balance", "--all"],
    ["book", "BTC/USDT:USDT", "--limit", "5"],
    ["trades", "BTC/USDT", "--limit", "5"],
    ["ohlcv", "BTC/USDT", "--limit", "5"],
    ["ticker", "BTC/USDT:USDT"],
    ["time"],
    ["key", "audit"],
]


@pytest.mark.parametrize("exchange", ["bybit", "binance", "okx"])
@pytest.mark.parametrize("command", DATA_COMMANDS, ids=" ".join)
def test_every_data_table_fits_80_columns_without_splitting_a_value(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    printed: Printed,
    emulators: dict[str, Emulator],
    exchange: str,
    command: list[str],
) -> None:
    prefix = exchange.upper()
    monkeypatch.setenv(f"{prefix}_API_KEY", "test-key")
    monkeypatch.setenv(f"{prefix}_API_SECRET", "test-secret")
    monkeypatch.setenv(f"{prefix}_API_PASSPHRASE", "test-passphrase")
    argv = [*command[:1], exchange, *command[1:]]
    if command[0] == "key":
        argv = ["key", "audit", exchange]
    status, out, err = run_cli(capsys, *argv, "--base-url", emulators[exchange].base_url)
    assert status == 0, err
    assert_fits_and_nothing_split(out, printed)


def test_positions_and_markets_at_80_columns_keep_symbols_whole(
    capsys: pytest.CaptureFixture[str], printed: Printed, emulators: dict[str, Emulator]
) -> None:
    # The newcomer's report: BTC/USDT:USDT split as "BTC/USDT:US" / "DT".
    url = emulators["bybit"].base_url
    with exchanges.connect("bybit", base_url=url, credentials=CREDENTIALS) as ex:
        positions = ex.fetch_positions()
        markets = list(ex.load_markets().values())
    out = Output()
    tables.show_positions(out, positions)
    tables.show_markets(out, markets)
    text = capsys.readouterr().out
    for symbol in ("BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"):
        assert any(re.search(rf"^{re.escape(symbol)}\s", line) for line in text.splitlines())
    assert_fits_and_nothing_split(text, printed)


def test_a_table_too_wide_for_80_columns_is_printed_in_parts_not_split(
    capsys: pytest.CaptureFixture[str], printed: Printed, emulators: dict[str, Emulator]
) -> None:
    url = emulators["binance"].base_url
    with exchanges.connect("binance", base_url=url, credentials=CREDENTIALS) as ex:
        spot = ex.market("BTC/USDT")
        [position, *_] = ex.fetch_positions()
    # An inactive option's symbol and id are 29 and 25 characters; Binance pads numbers to
    # eight decimals: together far wider than 80 columns.
    option = attrs.evolve(
        spot,
        symbol="BTC/USDC:USDC-251226-100000-C",
        id="BTC-26DEC25-100000-C-USDC",
        type="option",
        active=False,
        price_step=Decimal("5.00000000"),
        min_notional=Decimal("123456.12345678"),
    )
    wide = attrs.evolve(
        position,
        symbol="BTC/USDC:USDC-251226",
        entry_price=Decimal("123456.12345678"),
        mark_price=Decimal("123457.12345678"),
        liquidation_price=Decimal("98765.12345678"),
        unrealized_pnl=Decimal("-1234.12345678"),
    )
    out = Output()
    tables.show_markets(out, [spot, option])
    tables.show_positions(out, [wide])
    text = capsys.readouterr().out
    assert_fits_and_nothing_split(text, printed)
    # The parts each start with the symbol, so every row can still be read.
    assert sum(line.startswith("BTC/USDC:USDC-251226-100000-C") for line in text.splitlines()) >= 2


@pytest.mark.parametrize("exchange", ["bybit", "binance", "okx"])
def test_demo_tables_fit_80_columns_without_splitting_a_value(
    capsys: pytest.CaptureFixture[str], printed: Printed, exchange: str
) -> None:
    status, out, err = run_cli(capsys, "demo", "--exchange", exchange)
    assert status == 0, out + err
    assert_fits_and_nothing_split(out, printed)


@pytest.mark.parametrize("symbol", ["BTC/USDT", "BTC/USDT:USDT", "FOO/BAR"])
def test_compare_table_fits_80_columns_without_splitting_a_value(
    capsys: pytest.CaptureFixture[str], printed: Printed, symbol: str
) -> None:
    status, out, _ = run_cli(capsys, "compare", "--symbol", symbol)
    assert status == (1 if symbol == "FOO/BAR" else 0)
    assert_fits_and_nothing_split(out, printed)


# -- compare: the exit status says whether every expectation held ------------------------------


def test_compare_exits_1_and_says_so_when_a_step_fails(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "compare", "--exchanges", "bybit", "--symbol", "FOO/BAR")
    assert status == 1, out + err
    last = out.rstrip("\n").splitlines()[-1]
    assert last == "✗ not as expected on bybit (5 steps): exit status 1", out
    assert "1/6" in out


def test_compare_json_exits_1_and_names_the_failed_steps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run_cli(
        capsys, "compare", "--exchanges", "bybit,okx", "--symbol", "FOO/BAR", "--json"
    )
    assert status == 1
    data = json.loads(out)
    assert set(data["failed"]) == {"bybit", "okx"}
    assert "min order" in data["failed"]["bybit"]
    assert err.count("\n") == 1 and "not as expected" in err


def test_compare_exits_2_on_an_unknown_exchange_before_running_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run_cli(capsys, "compare", "--exchanges", "bybit,kraken")
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert "--exchanges" in err and "'kraken'" in err and "e.g." in err


def test_compare_exits_1_when_an_exchange_cannot_run(capsys: pytest.CaptureFixture[str]) -> None:
    # ccxt has no emulator front-end: its column says why, and that is not a success.
    status, out, _ = run_cli(capsys, "compare", "--exchanges", "bybit,ccxt:kraken")
    assert status == 1
    assert (
        out.rstrip("\n").splitlines()[-1].endswith("ccxt:kraken (cannot run here): exit status 1")
    )


def test_compare_succeeds_with_exit_0_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "compare")
    assert status == 0
    assert out.rstrip("\n").splitlines()[-1] == "✓ every step as expected on bybit, binance, okx"


def test_compare_over_balance_on_a_perpetual_is_not_fooled_by_leverage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Twice the balance fits under 10x leverage: on a perpetual the order was accepted and the
    # step failed. It now runs on the pair's spot market, where it cannot be paid.
    status, out, err = run_cli(capsys, "compare", "--symbol", "BTC/USDT:USDT", "--json")
    assert status == 0, err
    data = json.loads(out)
    for name, column in data["exchanges"].items():
        step = column["steps"]["over_balance"]
        assert (step["ok"], step["error"]) == (True, "InsufficientFunds"), (name, step)
    assert data["failed"] == {}


def test_compare_over_balance_without_a_spot_pair_is_not_offered_not_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Bybit's inverse BTC/USD:BTC has no BTC/USD spot market to test the balance on.
    status, out, err = run_cli(capsys, "compare", "--exchanges", "bybit", "--symbol", "BTC/USD:BTC")
    assert status == 0, out + err
    assert "not offered: no spot BTC/USD" in out
    assert "5/5 (1 not offered)" in out


# -- demo: a step the exchange does not offer is neither passed nor shown as done ---------------


def _sections(out: str) -> dict[str, str]:
    parts = re.split(r"^Step \d+/\d+: (.+?) ─*$", out, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_demo_on_binance_shows_amend_as_not_offered(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "demo", "--exchange", "binance")
    assert status == 0
    amend = _sections(out)["Amend an open order in place"]
    assert "not offered by binance: amend_order: binance does not offer amend_order" in amend
    assert "✓" not in amend and "NotSupported" not in amend
    # Nowhere an "amended" row or a price change that did not happen.
    assert not re.search(r"^amended\s", out, flags=re.MULTILINE)
    assert "then at" not in out
    summary = out.split("Summary", 1)[1]
    assert re.search(r"^Amend an open order in place\s+not offered\s", summary, flags=re.MULTILINE)
    assert "12/12 steps passed" in summary and "(1 not offered by binance)" in summary


@pytest.mark.parametrize("exchange", ["bybit", "binance", "okx"])
def test_demo_claims_only_what_happened(capsys: pytest.CaptureFixture[str], exchange: str) -> None:
    status, out, _ = run_cli(capsys, "demo", "--exchange", exchange)
    assert status == 0
    sections = _sections(out)
    summary = out.split("Summary", 1)[1]
    for title, section in sections.items():
        row = re.search(rf"^{re.escape(title)}\s+(passed|not offered|FAILED)\s", summary, re.M)
        assert row, title
        if row.group(1) == "not offered":
            assert f"not offered by {exchange}:" in section and "✓" not in section, section
    keys = sections["Emulator and API keys"]
    assert "answered fetch_time()" in keys  # connect() alone sends nothing
    assert "never sent: the emulator's ledger holds no new order" in sections["Key audit"]
    amend = sections["Amend an open order in place"]
    if exchange != "binance":
        placed = re.search(r"^placed\s+(\S+)\s.*\s(\S+)\s+\S+\s+\S+$", amend, re.M)
        amended = re.search(r"^amended\s+(\S+)\s.*\s(\S+)\s+\S+\s+\S+$", amend, re.M)
        assert placed and amended
        assert placed.group(1) == amended.group(1) and placed.group(2) != amended.group(2)


# -- option values: one line naming the option, an example, exit 2 -----------------------------

BAD_VALUES = [
    (["emulate", "bybit", "--faults", "latency:abc"], "--faults"),
    (["emulate", "bybit", "--faults", "latency:0.1=soon"], "--faults"),
    (["emulate", "bybit", "--faults", "meteor_strike"], "--faults"),
    (["emulate", "bybit", "--port", "abc"], "--port"),
    (["emulate", "bybit", "--port", "70000"], "--port"),
    (["emulate", "bybit", "--seed", "x"], "--seed"),
    (["emulate", "bybit", "--host", "not a host"], "--host"),
    (["emulate", "bybit", "--permissions", "read,fly"], "--permissions"),
    (["emulate", "bybit", "--admin-token", ""], "--admin-token"),
    (["emulate", "bybit", "--api-key", "k", "--api-secret", "has space"], "--api-secret"),
    (["emulate", "kraken"], "EXCHANGE"),
    (["demo", "--seed", "1.5"], "--seed"),
    (["demo", "--exchange", "kraken"], "--exchange"),
    (["compare", "--seed", "x"], "--seed"),
    (["compare", "--symbol", "btcusdt"], "--symbol"),
    (["compare", "--exchanges", ",,"], "--exchanges"),
    (["compare", "--env", "mainnet"], "--env"),
    (["time", "bybit", "--base-url", "localhost:8080"], "--base-url"),
    (["time", "bybit", "--base-url", "http://127.0.0.1:99999"], "--base-url"),
    (["time", "bybit", "--region", "zz"], "--region"),
    (["time", "kraken"], "EXCHANGE"),
    (["ticker", "bybit", "BTCUSDT"], "SYMBOL"),
    (["markets", "bybit", "BTC-USDT"], "SYMBOL"),
    (["book", "bybit", "BTC/USDT", "--limit", "-5"], "--limit"),
    (["trades", "bybit", "BTC/USDT", "--limit", "many"], "--limit"),
    (["ohlcv", "bybit", "BTC/USDT", "--timeframe", "1 hour"], "--timeframe"),
    (["markets", "bybit", "--type", "perp"], "--type"),
]


@pytest.mark.parametrize(("argv", "option"), BAD_VALUES, ids=lambda v: " ".join(v))
def test_a_bad_option_value_is_one_line_naming_the_option_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], option: str
) -> None:
    status, out, err = run_cli(capsys, *argv)
    assert (status, out) == (2, ""), err
    assert err.count("\n") == 1, err
    command = " ".join(argv[: 2 if argv[0] == "key" else 1])
    assert err.startswith(f"exchanges {command}: "), err
    assert option in err, err
    # What to pass: an example, or the list of valid choices.
    assert "e.g." in err or "choose from" in err or "Regions:" in err, err
    assert "usage:" not in err and "Traceback" not in err


def test_faults_latency_abc_says_what_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "emulate", "bybit", "--faults", "latency:abc")
    assert status == 2
    assert err == (
        "exchanges emulate: --faults: fault rule 'latency:abc': the probability after ':' "
        "must be a number between 0 and 1, e.g. latency:0.1=300\n"
    )
    assert "could not convert" not in err


def test_a_timeframe_the_exchange_lacks_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], emulators: dict[str, Emulator]
) -> None:
    url = emulators["bybit"].base_url
    status, out, err = run_cli(
        capsys, "ohlcv", "bybit", "BTC/USDT", "--timeframe", "7m", "--base-url", url
    )
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "--timeframe" in err and "e.g. --timeframe 1h" in err


def test_a_secret_given_on_the_command_line_is_not_echoed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run_cli(
        capsys, "emulate", "bybit", "--api-key", "k", "--api-secret", "my real secret"
    )
    assert status == 2 and "my real secret" not in err
