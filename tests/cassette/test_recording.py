"""Re-recording the emulator cassettes of every exchange is deterministic and reproduces the
committed files, and the real-environment path filters secrets before writing (exercised
offline, with the emulator standing in for each exchange)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import vcr

import exchanges
from exchanges.clock import ServerClock
from exchanges.emulator import Emulator
from tests.cassette.scenarios import EXCHANGES, SCENARIOS, frozen_ms
from tests.cassette.vcrkit import (
    CASSETTES,
    PROFILES,
    REPO,
    SEED,
    configured_secrets,
    drop_secret_headers,
    profile_of,
    register,
    rewrite_origin,
    scrub_response,
)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for exchange in EXCHANGES
        for p in sorted((root / exchange / "emulator").glob("*.yaml"))
    }


def test_recording_twice_gives_identical_files(tmp_path: Path) -> None:
    # Two recorder processes, each with its own randomly salted str hash, recording every
    # exchange into two folders at the same time.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.cassette.record", "--out", str(tmp_path / f"run{i}")],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in (1, 2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=240)
        assert run.returncode == 0, err.decode()[-3000:]
    first, second = _files(tmp_path / "run1"), _files(tmp_path / "run2")
    assert list(first) == list(second)
    assert set(first) == {f"{s.exchange}/emulator/{s.name}.yaml" for s in SCENARIOS}
    assert [name for name in first if first[name] != second[name]] == []
    # And the committed files are what recording gives today: re-recording makes no diff.
    committed = _files(CASSETTES)
    assert set(committed) == set(first)
    stale = [name for name in first if committed[name] != first[name]]
    assert stale == [], (
        "these cassettes are not what re-recording gives now; if the change is intended, run "
        f"`python -m tests.cassette.record`: {stale}"
    )


# -- the testnet/demo path, offline ---------------------------------------------------------

REAL_KEY = "Zq8RealLookingKey01"
REAL_SECRET = "Wf3RealLookingSecretValue0123456789"
REAL_PASSPHRASE = "Pp7RealLookingPassphrase"


def test_secret_filters() -> None:
    env = {
        "BYBIT_TESTNET_API_KEY": REAL_KEY,
        "BYBIT_TESTNET_API_SECRET": REAL_SECRET,
        "BYBIT_DEMO_API_PASSPHRASE": "pass-phrase-1",
        "BYBIT_API_KEY": "test-key",  # the published fake key is no secret
        "BYBIT_TESTNET_RECV_WINDOW": "5000",
        "OKX_DEMO_API_PASSPHRASE": "okx-pass-phrase-2",
        "KRAKEN_API_SECRET": "not-ours",
    }
    assert sorted(configured_secrets(env)) == sorted(
        [REAL_KEY, REAL_SECRET, "pass-phrase-1", "okx-pass-phrase-2"]
    )

    request = vcr.request.Request(
        "GET",
        "https://api-testnet.bybit.com/v5/user/query-api",
        None,
        {
            "X-BAPI-API-KEY": REAL_KEY,
            "X-BAPI-SIGN": "f" * 64,
            "x-bapi-timestamp": "1",
            "Cookie": "a=b",
            "X-Api-Passphrase": "p",
        },
    )
    assert sorted(drop_secret_headers(request).headers) == ["x-bapi-timestamp"]

    okx = vcr.request.Request(
        "GET",
        "https://www.okx.com/api/v5/account/balance",
        None,
        {
            "OK-ACCESS-KEY": REAL_KEY,
            "OK-ACCESS-SIGN": "A" * 44,
            "OK-ACCESS-PASSPHRASE": REAL_PASSPHRASE,
            "OK-ACCESS-TIMESTAMP": "2026-01-01T00:00:00.000Z",
            "x-simulated-trading": "1",
        },
    )
    assert sorted(drop_secret_headers(okx).headers) == [
        "OK-ACCESS-TIMESTAMP",
        "x-simulated-trading",
    ]

    binance_get = vcr.request.Request(
        "GET",
        f"https://testnet.binance.vision/api/v3/account?a=1&timestamp=2&signature={'e' * 64}",
        None,
        {"X-MBX-APIKEY": REAL_KEY},
    )
    filtered = drop_secret_headers(binance_get)
    assert filtered.uri == "https://testnet.binance.vision/api/v3/account?a=1&timestamp=2"
    assert dict(filtered.headers) == {}
    only_signature = vcr.request.Request(
        "DELETE", "https://x.test/api/v3/order?signature=ab%2B", None, {}
    )
    assert drop_secret_headers(only_signature).uri == "https://x.test/api/v3/order"
    binance_post = vcr.request.Request(
        "POST",
        "https://testnet.binance.vision/api/v3/order",
        b"symbol=BTCUSDT&timestamp=2&signature=" + b"e" * 64,
        {"X-MBX-APIKEY": REAL_KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert drop_secret_headers(binance_post).body == b"symbol=BTCUSDT&timestamp=2"
    json_body = vcr.request.Request("POST", "https://x.test/o", b'{"a":"&signature=1"}', {})
    assert drop_secret_headers(json_body).body == b'{"a":"&signature=1"}'  # JSON is not a form

    response = {
        "headers": {"Set-Cookie": ["x=1"], "Content-Type": ["application/json"]},
        "body": {"string": f'{{"apiKey":"{REAL_KEY}","secret":"{REAL_SECRET}"}}'.encode()},
    }
    scrubbed = scrub_response([REAL_KEY, REAL_SECRET])(response)
    assert scrubbed["headers"] == {"Content-Type": ["application/json"]}
    assert scrubbed["body"]["string"] == b'{"apiKey":"REDACTED","secret":"REDACTED"}'

    assert rewrite_origin("http://127.0.0.1:5", "http://bybit-emulator.test")(
        vcr.request.Request("GET", "http://127.0.0.1:5/v5/x?a=1", None, {})
    ).uri == ("http://bybit-emulator.test/v5/x?a=1")


#: Per exchange: the environment stood in for, and what must not be in the written file.
_REAL = {
    "bybit": ("testnet", ("X-BAPI-SIGN:", "X-BAPI-API-KEY"), "X-BAPI-TIMESTAMP"),
    "binance": ("testnet", ("signature=", "X-MBX-APIKEY"), "timestamp=1767225600000"),
    "okx": ("demo", ("OK-ACCESS-SIGN", "OK-ACCESS-KEY", "PASSPHRASE"), "x-simulated-trading"),
}


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_real_environment_recording_writes_no_secret(
    tmp_path: Path, monkeypatch: Any, exchange: str
) -> None:
    # The emulator stands in for testnet/demo: a key that is not the published one, recorded
    # with the testnet/demo configuration, then replayed with other credentials and an hour
    # later (nothing secret is compared, nor what follows the wall clock).
    env, forbidden, kept = _REAL[exchange]
    prefix = f"{PROFILES[exchange].env_prefix}_{env.upper()}"
    monkeypatch.setenv(f"{prefix}_API_KEY", REAL_KEY)
    monkeypatch.setenv(f"{prefix}_API_SECRET", REAL_SECRET)
    monkeypatch.setenv(f"{prefix}_API_PASSPHRASE", REAL_PASSPHRASE)
    cassette = tmp_path / "real.yaml"
    profile = profile_of(exchange)

    async def calls(base_url: str, key: str, secret: str, now: Any) -> Any:
        with warnings.catch_warnings():
            # The replay's http://<exchange>-emulator.test is answered by vcrpy in-process.
            warnings.filterwarnings("ignore", "sending API credentials over plain http")
            client = exchanges.connect_async(
                exchange,
                env="demo" if exchange == "okx" else "mainnet",
                base_url=base_url,
                credentials=exchanges.Credentials(key, secret, passphrase=REAL_PASSPHRASE),
                clock=ServerClock(now_ms=now),
                sync_clock=False,
                allow_insecure_http=True,
            )
        async with client as ex:
            return await ex.fetch_key_info(), await ex.fetch_balance()

    recorder = vcr.VCR(record_mode="once")
    register(recorder)
    with Emulator(exchange, seed=SEED, wall_ms=frozen_ms, api_key=None) as emu:
        emu.add_key(REAL_KEY, REAL_SECRET, passphrase=REAL_PASSPHRASE)
        config = profile.real_config()
        config["before_record_request"] = [
            rewrite_origin(emu.base_url, profile.emulator_url),
            *config["before_record_request"],
        ]
        with recorder.use_cassette(str(cassette), **config):
            info, balances = asyncio.run(calls(emu.base_url, REAL_KEY, REAL_SECRET, frozen_ms))
    assert not info.read_only and balances["USDT"].total > 0

    text = cassette.read_text()
    for needle in (REAL_KEY, REAL_SECRET, REAL_PASSPHRASE, *forbidden):
        assert needle not in text, needle
    assert kept in text
    if exchange == "bybit":
        assert "REDACTED" in text  # query-api's apiKey, scrubbed

    replayer = vcr.VCR(record_mode="none")
    register(replayer)

    def later() -> int:
        return frozen_ms() + 3_600_000

    with replayer.use_cassette(str(cassette), **profile.real_config()) as played:
        info2, balances2 = asyncio.run(
            calls(profile.emulator_url, "another-key", "another-secret", later)
        )
        assert played.all_played
    assert info2.permissions == info.permissions and balances2 == balances
