"""``exchanges fleet status``: budgets in use and orders in doubt, read from a real Redis."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
import redis

import exchanges
from exchanges.cli import main
from exchanges.emulator import Emulator
from exchanges.fleet.keys import Keys, account_id
from tests.fleet.conftest import free_port

KEY, SECRET = "test-key", "test-secret"
ACCOUNT = account_id("bybit", "mainnet", KEY)
SYMBOL = "BTC/USDT:USDT"


def _status(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["fleet", "status", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _fill(redis_url: str) -> None:
    """Three orders through a fleet member, and one order in doubt."""
    with (
        Emulator("bybit", seed=7) as emu,
        exchanges.connect(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials(KEY, SECRET),
            fleet=redis_url,
        ) as ex,
    ):
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        for _ in range(3):
            ex.create_order(SYMBOL, "limit", "buy", Decimal("0.001"), price)
    entry = {
        "symbol": SYMBOL,
        "conclusive_after_ms": 1,
        "recorded_ms": int(time.time() * 1000),
        "owner": "host:7",
        "state": "unknown",
    }
    store = redis.Redis.from_url(redis_url)
    store.hset(Keys(ACCOUNT).doubt, "lost-1", json.dumps(entry))
    store.close()


def test_status_shows_each_budget_and_the_orders_in_doubt(
    redis_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(redis_url)
    code, out, _ = _status(capsys, "--fleet", redis_url, "--json")
    assert code == 0
    [account] = json.loads(out)
    assert account["account"] == ACCOUNT
    budgets = {b["key"]: b for b in account["budgets"]}
    create = budgets["bybit:/v5/order/create:deriv"]
    # Bybit's documented 10 creates per second per UID (linear), window lengthened by 5 %.
    assert (create["limit"], create["used"]) == (10, 3)
    assert create["period_ms"] == pytest.approx(1050)
    assert budgets["bybit:ip"]["used"] >= 5
    assert [e["client_order_id"] for e in account["in_doubt"]] == ["lost-1"]
    assert account["reserved_ids"] == 3
    assert KEY not in out and SECRET not in out

    code, table, _ = _status(capsys, "--fleet", redis_url)
    assert code == 0
    assert "bybit:/v5/order/create:deriv" in table and "3/10" in table and "lost-1" in table

    # --exchange names the account of the key in the environment, as connect() reads it.
    monkeypatch.setenv("BYBIT_API_KEY", KEY)
    monkeypatch.setenv("BYBIT_API_SECRET", SECRET)
    code, out, _ = _status(capsys, "--fleet", redis_url, "--exchange", "bybit", "--json")
    assert code == 0 and [a["account"] for a in json.loads(out)] == [ACCOUNT]
    code, out, _ = _status(capsys, "--fleet", redis_url, "--account", "0" * 16, "--json")
    assert code == 0 and json.loads(out) == []


def test_status_of_an_unreachable_redis_fails_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    code, out, err = _status(capsys, "--fleet", url)
    assert out == ""
    assert code == 1
    assert "unreachable" in err and "hunter2" not in err
    assert time.monotonic() - started < 5
    code, _, err = _status(capsys, "--fleet", "http://127.0.0.1:1")
    assert code == 2 and "not a Redis URL" in err
