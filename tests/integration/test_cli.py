"""The ``exchanges`` command on loopback emulators: demo, data, key audit, compare, emulate."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.cli import main
from exchanges.cli.demo import DEMO_KEYS, STEPS, WRONG_SECRET
from exchanges.cli.local import unavailable
from exchanges.decimals import to_wire
from exchanges.emulator import Emulator

SYMBOL = "BTC/USDT"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Bybit signs with HMAC-SHA256, printed as 64 hex digits: nothing like it may reach the output.
SIGNATURE = re.compile(r"\b[0-9a-f]{64}\b")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    status, out, err = run_cli(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def w(value: Decimal | None) -> str:
    assert value is not None
    return to_wire(value)


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYBIT")}
    env.update(PYTHONPATH=ROOT, COLUMNS="80", **extra)
    return env


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process runs print to a captured stream, which rich sizes from COLUMNS: wide enough
    # that no value is folded across lines (the subprocess test checks the 80-column layout).
    monkeypatch.setenv("COLUMNS", "160")
    for name in list(os.environ):
        if name.startswith("BYBIT"):
            monkeypatch.delenv(name)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator("bybit", seed=7) as emulator:
        monkeypatch.setenv("BYBIT_API_KEY", "test-key")
        monkeypatch.setenv("BYBIT_API_SECRET", "test-secret")
        yield emulator


@pytest.fixture
def ex(emu: Emulator) -> Iterator[exchanges.Exchange]:
    credentials = exchanges.Credentials("test-key", "test-secret")
    with exchanges.connect("bybit", base_url=emu.base_url, credentials=credentials) as client:
        yield client


# -- demo ------------------------------------------------------------------------------------


def test_demo_runs_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "demo", "--seed", "7")
    assert status == 0, out + err
    for number, (title, _) in enumerate(STEPS, 1):
        assert f"Step {number}/{len(STEPS)}: {title}" in out
    assert f"{len(STEPS)}/{len(STEPS)} steps passed" in out
    assert "FAILED" not in out and "step failed" not in out
    for shown in (
        "CRITICAL",
        "UnsafeApiKey",
        "10004 InvalidSignature",
        "hint:",
        "10005 PermissionDenied",
        "170131 InsufficientFunds",
        "clock.resyncs 1 → 2",
        "canceled",
        "fetch_my_trades('BTC/USDT')",
        "fetch_order_book('BTC/USDT', limit=5)",
        "watch_order_book('BTC/USDT', limit=5)",
        "watch_my_trades(): the order's fills",
        "on the private stream",
        # The bracket order: its stops listed, the stop-loss hit when the price falls.
        "take_profit=StopSpec(",
        "the position's stops, listed by fetch_open_orders()",
        "the take-profit went with it",
    ):
        assert shown in out, shown
    # Trading with the read-only key, the wrong secret etc. all reached the caller as errors,
    # yet the command itself printed no error line.
    assert "Traceback" not in out + err


def test_demo_never_prints_a_secret_or_a_signature(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "demo")
    assert status == 0
    text = out + err
    secrets = [WRONG_SECRET]
    for key in DEMO_KEYS:
        secrets += [key.secret, key.passphrase, key.api_key]
        assert key.credentials.masked_key in out
    for secret in secrets:
        assert secret not in text, secret
    assert not SIGNATURE.search(text)


def test_demo_as_a_subprocess_fits_80_columns() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "exchanges.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{len(STEPS)}/{len(STEPS)} steps passed" in proc.stdout
    too_wide = [line for line in proc.stdout.splitlines() if len(line) > 80]
    assert not too_wide
    assert not SIGNATURE.search(proc.stdout + proc.stderr)


@pytest.mark.parametrize(
    ("name", "not_offered", "streams"), [("binance", 1, True), ("okx", 0, True)]
)
def test_demo_runs_on_every_exchange(
    capsys: pytest.CaptureFixture[str], name: str, not_offered: int, streams: bool
) -> None:
    status, out, _ = run_cli(capsys, "demo", "--exchange", name)
    assert status == 0, out
    # Binance spot has no amend: that step says so instead of pretending to pass.
    ran = len(STEPS) - not_offered
    assert f"{ran}/{ran} steps passed" in out
    assert (f"({not_offered} not offered by {name})" in out) is bool(not_offered)
    assert (f"not offered by {name}: {name} has no WebSocket streams" in out) is not streams
    for title, _step in STEPS:
        assert title in out
    assert "FAILED" not in out
    # The bracket order runs everywhere: Binance has no stops attached to an order, so its
    # entry is followed by set_trading_stop.
    assert "the take-profit went with it" in out
    assert ('set_trading_stop("BTC/USDT:USDT"' in out) is (name == "binance")


def test_demo_rejects_an_unknown_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "demo", "--exchange", "kraken")
    assert status == 2
    assert "invalid choice" in err


# -- data commands ---------------------------------------------------------------------------


def test_time(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    before = ex.fetch_time()
    data = run_json(capsys, "time", "bybit", "--base-url", emu.base_url)
    after = ex.fetch_time()
    assert before <= data["server_time"] <= after
    assert abs(data["offset_ms"]) < 1000
    assert data["exchange"] == "bybit"
    status, out, _ = run_cli(capsys, "time", "bybit", "--base-url", emu.base_url)
    assert status == 0
    assert "server time" in out and "round trip" in out


def test_markets(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    markets = ex.load_markets()
    data = run_json(capsys, "markets", "bybit", "--base-url", emu.base_url)
    assert {m["symbol"] for m in data} == set(markets)
    for item in data:
        market = markets[item["symbol"]]
        assert item["min_amount"] == w(market.min_amount)
        assert item["price_step"] == w(market.price_step)
        assert "raw" not in item
    spot = run_json(capsys, "markets", "bybit", "--base-url", emu.base_url, "--type", "spot")
    assert {m["symbol"] for m in spot} == {s for s, m in markets.items() if m.type == "spot"}
    one = run_json(capsys, "markets", "bybit", SYMBOL, "--base-url", emu.base_url)
    assert [m["id"] for m in one] == ["BTCUSDT"]
    status, out, _ = run_cli(capsys, "markets", "bybit", "--base-url", emu.base_url)
    assert status == 0
    assert "BTC/USD:BTC" in out and f"{len(markets)} market(s)" in out


def test_ticker(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    ticker = ex.fetch_ticker(SYMBOL)
    data = run_json(capsys, "ticker", "bybit", SYMBOL, "--base-url", emu.base_url)
    assert data["symbol"] == SYMBOL
    assert (data["bid"], data["ask"]) == (w(ticker.bid), w(ticker.ask))
    assert isinstance(data["bid"], str)
    status, out, _ = run_cli(capsys, "ticker", "bybit", "BTC/USDT:USDT", "--base-url", emu.base_url)
    linear = ex.fetch_ticker("BTC/USDT:USDT")
    assert status == 0
    assert w(linear.bid) in out and "funding rate" in out


def test_book(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    book = ex.fetch_order_book(SYMBOL, limit=5)
    data = run_json(capsys, "book", "bybit", SYMBOL, "--limit", "5", "--base-url", emu.base_url)
    assert data["bids"] == [[w(p), w(a)] for p, a in book.bids]
    assert data["asks"] == [[w(p), w(a)] for p, a in book.asks]
    assert len(data["bids"]) == 5
    status, out, _ = run_cli(
        capsys, "book", "bybit", SYMBOL, "--limit", "3", "--base-url", emu.base_url
    )
    assert status == 0
    assert w(book.bids[0][0]) in out and w(book.bids[3][0]) not in out


def test_trades(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    ex.create_order(SYMBOL, "market", "buy", Decimal("0.01"))
    trades = ex.fetch_trades(SYMBOL, limit=5)
    assert trades
    data = run_json(capsys, "trades", "bybit", SYMBOL, "--limit", "5", "--base-url", emu.base_url)
    assert [(t["id"], t["price"], t["amount"]) for t in data] == [
        (t.id, w(t.price), w(t.amount)) for t in trades
    ]
    status, out, _ = run_cli(capsys, "trades", "bybit", SYMBOL, "--base-url", emu.base_url)
    assert status == 0
    assert w(trades[-1].price) in out


def test_ohlcv(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    args = (
        "ohlcv",
        "bybit",
        SYMBOL,
        "--timeframe",
        "5m",
        "--limit",
        "4",
        "--base-url",
        emu.base_url,
    )
    before = ex.fetch_ohlcv(SYMBOL, "5m", limit=4)
    data = run_json(capsys, *args)
    after = ex.fetch_ohlcv(SYMBOL, "5m", limit=4)

    def as_json(candles: list[exchanges.Candle]) -> list[tuple[int, str, str]]:
        return [(c.timestamp, w(c.open), w(c.close)) for c in candles]

    # A 5-minute boundary may pass between the calls: the CLI's answer is one of the two.
    assert [(c["timestamp"], c["open"], c["close"]) for c in data] in (
        as_json(before),
        as_json(after),
    )
    assert len(data) == 4 and all(c["timestamp"] % 300_000 == 0 for c in data)
    status, out, _ = run_cli(capsys, *args)
    assert status == 0 and "BTC/USDT 5m" in out


def test_balance(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    ex.create_order(SYMBOL, "market", "buy", Decimal("0.01"))
    balances = ex.fetch_balance()
    data = run_json(capsys, "balance", "bybit", "--base-url", emu.base_url)
    assert set(data["balances"]) == set(balances)
    for currency, item in data["balances"].items():
        assert item["total"] == w(balances[currency].total)
        assert item["free"] == w(balances[currency].free)
    assert data["balances"]["USDT"]["total"] != "100000"  # the buy spent some
    status, out, _ = run_cli(capsys, "balance", "bybit", "--base-url", emu.base_url)
    assert status == 0
    assert w(balances["USDT"].total) in out and "test-key" not in out


def test_orders(capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange) -> None:
    order = ex.create_order(
        SYMBOL, "limit", "buy", Decimal("0.01"), Decimal("50000"), post_only=True
    )
    data = run_json(capsys, "orders", "bybit", SYMBOL, "--base-url", emu.base_url)
    assert [(o["id"], o["status"], o["price"]) for o in data] == [(order.id, "open", "50000.00")]
    status, out, _ = run_cli(capsys, "orders", "bybit", "--base-url", emu.base_url)
    assert status == 0 and str(order.id)[:8] in out and "1 open order(s)" in out
    ex.cancel_order(order.id, SYMBOL)
    assert run_json(capsys, "orders", "bybit", "--base-url", emu.base_url) == []
    closed = run_json(capsys, "orders", "bybit", SYMBOL, "--closed", "--base-url", emu.base_url)
    assert [(o["id"], o["status"]) for o in closed] == [(order.id, "canceled")]


def test_positions(
    capsys: pytest.CaptureFixture[str], emu: Emulator, ex: exchanges.Exchange
) -> None:
    assert run_json(capsys, "positions", "bybit", "--base-url", emu.base_url) == []
    ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.01"))
    [position] = ex.fetch_positions()
    data = run_json(capsys, "positions", "bybit", "BTC/USDT:USDT", "--base-url", emu.base_url)
    assert [(p["symbol"], p["side"], p["size"], p["entry_price"]) for p in data] == [
        ("BTC/USDT:USDT", "long", w(position.size), w(position.entry_price))
    ]
    status, out, _ = run_cli(capsys, "positions", "bybit", "--base-url", emu.base_url)
    assert status == 0 and "BTC/USDT:USDT" in out and "1 open position(s)" in out


def test_exchange_errors_are_one_line_with_exit_1(
    capsys: pytest.CaptureFixture[str], emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, err = run_cli(capsys, "ticker", "bybit", "FOO/BAR", "--base-url", emu.base_url)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and "BadSymbol" in err and "hint:" in err
    monkeypatch.setenv("BYBIT_API_SECRET", "not-the-secret")
    status, out, err = run_cli(capsys, "balance", "bybit", "--base-url", emu.base_url, "--json")
    assert (status, out) == (1, "")
    assert err.startswith("bybit 10004 InvalidSignature") and err.count("\n") == 1
    # Bybit echoes the signed string, key included: the command masks it and hides the secret.
    assert "test-key" not in err and "not-the-secret" not in err
    monkeypatch.delenv("BYBIT_API_KEY")
    status, _, err = run_cli(capsys, "balance", "bybit", "--base-url", emu.base_url)
    assert status == 1 and "AuthenticationError" in err and "BYBIT_API_KEY" in err
    assert "Traceback" not in err


# -- key audit -------------------------------------------------------------------------------


def test_key_audit_of_the_default_key_exits_0(
    capsys: pytest.CaptureFixture[str], emu: Emulator
) -> None:
    status, out, err = run_cli(capsys, "key", "audit", "bybit", "--base-url", emu.base_url)
    assert status == 0, err
    assert "WARNING" in out and "any IP address" in out and "CRITICAL" not in out
    data = run_json(capsys, "key", "audit", "bybit", "--base-url", emu.base_url)
    assert data["critical"] is False
    assert data["info"]["permissions"] == sorted(
        ["read", "spot_trade", "derivatives_trade", "options_trade"]
    )
    assert [f["code"] for f in data["findings"]] == ["no_ip_whitelist"]


def test_key_audit_of_a_withdrawal_key_exits_3(
    capsys: pytest.CaptureFixture[str], emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.add_key("cli-withdraw-key", "cli-withdraw-secret", permissions=("read", "withdraw"))
    monkeypatch.setenv("BYBIT_API_KEY", "cli-withdraw-key")
    monkeypatch.setenv("BYBIT_API_SECRET", "cli-withdraw-secret")
    status, out, err = run_cli(capsys, "key", "audit", "bybit", "--base-url", emu.base_url)
    assert status == 3
    assert "CRITICAL" in out and "cli-…-key" in out
    assert "cli-withdraw-key" not in out + err and "cli-withdraw-secret" not in out + err
    status, out, _ = run_cli(capsys, "key", "audit", "bybit", "--base-url", emu.base_url, "--json")
    assert status == 3
    data = json.loads(out)
    assert data["critical"] is True and data["key"] == "cli-…-key"
    first = data["findings"][0]
    assert (first["severity"], first["code"]) == ("critical", "withdraw_enabled")
    assert "withdraw" in first["message"] and first["advice"]


# -- compare ---------------------------------------------------------------------------------


def test_compare_local_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "compare", "--env", "local", "--exchanges", "bybit,binance,okx")
    assert list(data["exchanges"]) == ["bybit", "binance", "okx"]
    bybit = data["exchanges"]["bybit"]
    assert bybit["available"] is True
    steps = bybit["steps"]
    assert all(step["ok"] for step in steps.values()), steps
    assert steps["unknown_order"]["error"] == "OrderNotFound"
    assert (steps["over_balance"]["error"], steps["over_balance"]["code"]) == (
        "InsufficientFunds",
        "170131",
    )
    assert steps["post_only"]["value"]["status"] == "canceled"
    assert steps["min_order"]["value"]["min_amount"] == "0.000048"
    assert all(isinstance(step["latency_ms"], float) for step in steps.values())
    for name in ("binance", "okx"):
        column = data["exchanges"][name]
        if unavailable(name, emulator=True) is None:
            assert column["available"] is True
        else:
            assert column["available"] is False
            assert column["error"]["class"] == "NotSupported"
            assert "not available" in column["error"]["message"]
            assert column["steps"] == {}


def test_compare_local_table(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(capsys, "compare", "--env", "local")
    assert status == 0, err
    header = next(line for line in out.splitlines() if line.startswith("step"))
    assert header.split() == ["step", "bybit", "binance", "okx"]
    assert "✓ OrderNotFound" in out and "✓ InsufficientFunds 170131" in out
    assert "6/6" in out
    if unavailable("okx", emulator=True) is not None:
        assert "NotSupported: the okx" in out


# -- emulate ---------------------------------------------------------------------------------


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    return lines.get(timeout=timeout)


def test_emulate_serves_until_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchanges.cli",
            "emulate",
            "bybit",
            "--port",
            "0",
            "--api-key",
            "emulate-key-1",
            "--api-secret",
            "emulate-secret-1",
            "--permissions",
            "read",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=ROOT,
    )
    try:
        line = _first_line(proc, timeout=20)
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        assert match, line
        url = match.group(0)
        with urllib.request.urlopen(f"{url}/v5/market/time", timeout=5) as response:
            body = json.loads(response.read())
        assert body["retCode"] == 0 and int(body["result"]["timeSecond"]) > 0
        credentials = exchanges.Credentials("emulate-key-1", "emulate-secret-1")
        with exchanges.connect("bybit", base_url=url, credentials=credentials) as client:
            assert client.fetch_balance()["USDT"].total == Decimal(100000)
            with pytest.raises(exchanges.PermissionDenied):
                client.create_order(SYMBOL, "limit", "buy", Decimal("0.01"), Decimal("50000"))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        _, err = proc.communicate(timeout=5)
        assert "emulate-secret-1" not in err and "emulate-key-1" not in err
        assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_emulate_needs_key_and_secret_together(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "emulate", "bybit", "--api-key", "lonely-key")
    assert status == 2 and "--api-secret" in err


def test_emulate_rejects_a_bad_fault_spec(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "emulate", "bybit", "--faults", "meteor_strike")
    assert status == 2 and "unknown fault kind" in err


def test_output_masks_keys_and_removes_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    from exchanges.cli.render import Output

    out = Output()
    out.protect(exchanges.Credentials("abcd-key-1234", "s3cr3t-value", passphrase="pass-phrase"))
    out.error("key abcd-key-1234 secret s3cr3t-value phrase pass-phrase")
    out.line("abcd-key-1234")
    out.json({"k": "abcd-key-1234", "s": "s3cr3t-value"})
    captured = capsys.readouterr()
    assert captured.err == "key abcd…1234 secret <redacted> phrase <redacted>\n"
    assert captured.out.splitlines()[0] == "abcd…1234"
    assert json.loads(captured.out.split("\n", 1)[1]) == {"k": "abcd…1234", "s": "<redacted>"}


# -- the command itself ----------------------------------------------------------------------

COMMANDS = [
    ["demo"],
    ["emulate"],
    ["time"],
    ["markets"],
    ["ticker"],
    ["book"],
    ["trades"],
    ["ohlcv"],
    ["balance"],
    ["orders"],
    ["positions"],
    ["key"],
    ["key", "audit"],
    ["compare"],
    [],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "exchanges")
def test_help_has_an_example(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    status, out, _ = run_cli(capsys, *command, "--help")
    assert status == 0
    assert "example" in out and "exchanges " in out.split("example", 1)[1]


def test_without_rich_the_command_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "rich", None)
    status, out, err = run_cli(capsys, "demo")
    assert (status, out) == (2, "")
    assert 'pip install "exchanges[cli]"' in err and err.count("\n") == 1


def test_importing_the_library_or_the_cli_does_not_import_rich() -> None:
    code = "import sys, exchanges, exchanges.cli; assert 'rich' not in sys.modules, 'rich'"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
