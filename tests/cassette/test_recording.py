"""Re-recording the emulator cassettes is deterministic, and the real-environment path filters
secrets before writing (exercised offline, with the emulator standing in for Bybit)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import vcr

import exchanges
from exchanges.clock import ServerClock
from exchanges.emulator import Emulator
from tests.cassette.scenarios import SCENARIOS, frozen_ms
from tests.cassette.vcrkit import (
    EMULATOR_CASSETTES,
    REPO,
    SEED,
    configured_secrets,
    drop_secret_headers,
    real_config,
    register,
    rewrite_origin,
    scrub_response,
)


def test_recording_twice_gives_identical_files(tmp_path: Path) -> None:
    # Two recorder processes, each with its own randomly salted str hash, recording into two
    # folders at the same time.
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
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, err.decode()[-3000:]
    first = sorted((tmp_path / "run1").iterdir())
    second = sorted((tmp_path / "run2").iterdir())
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.stem for p in first} == {s.name for s in SCENARIOS}
    assert {p.name for p in first} == {p.name for p in EMULATOR_CASSETTES.glob("*.yaml")}
    different = [
        a.name for a, b in zip(first, second, strict=True) if a.read_bytes() != b.read_bytes()
    ]
    assert different == []


# -- the testnet/demo path, offline ---------------------------------------------------------

REAL_KEY = "Zq8RealLookingKey01"
REAL_SECRET = "Wf3RealLookingSecretValue0123456789"


def test_secret_filters() -> None:
    env = {
        "BYBIT_TESTNET_API_KEY": REAL_KEY,
        "BYBIT_TESTNET_API_SECRET": REAL_SECRET,
        "BYBIT_DEMO_API_PASSPHRASE": "pass-phrase-1",
        "BYBIT_API_KEY": "test-key",  # the published fake key is no secret
        "BYBIT_TESTNET_RECV_WINDOW": "5000",
        "OKX_API_SECRET": "not-bybit",
    }
    assert sorted(configured_secrets(env)) == sorted([REAL_KEY, REAL_SECRET, "pass-phrase-1"])

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

    response = {
        "headers": {"Set-Cookie": ["x=1"], "Content-Type": ["application/json"]},
        "body": {"string": f'{{"apiKey":"{REAL_KEY}","secret":"{REAL_SECRET}"}}'.encode()},
    }
    scrubbed = scrub_response([REAL_KEY, REAL_SECRET])(response)
    assert scrubbed["headers"] == {"Content-Type": ["application/json"]}
    assert scrubbed["body"]["string"] == b'{"apiKey":"REDACTED","secret":"REDACTED"}'

    assert rewrite_origin("http://127.0.0.1:5")(
        vcr.request.Request("GET", "http://127.0.0.1:5/v5/x?a=1", None, {})
    ).uri == ("http://bybit-emulator.test/v5/x?a=1")


def test_real_environment_recording_writes_no_secret(tmp_path: Path, monkeypatch: Any) -> None:
    # The emulator stands in for testnet: a key that is not the published one, recorded with
    # the testnet/demo configuration, then replayed with other credentials (nothing secret is
    # compared, so a reader of the cassette needs no key).
    monkeypatch.setenv("BYBIT_TESTNET_API_KEY", REAL_KEY)
    monkeypatch.setenv("BYBIT_TESTNET_API_SECRET", REAL_SECRET)
    cassette = tmp_path / "real.yaml"

    async def calls(base_url: str, key: str, secret: str) -> Any:
        async with exchanges.connect_async(
            "bybit",
            base_url=base_url,
            credentials=exchanges.Credentials(key, secret),
            clock=ServerClock(now_ms=frozen_ms),
        ) as ex:
            return await ex.fetch_key_info(), await ex.fetch_balance()

    recorder = vcr.VCR(record_mode="once")
    register(recorder)
    with Emulator("bybit", seed=SEED, wall_ms=frozen_ms, api_key=None) as emu:
        emu.add_key(REAL_KEY, REAL_SECRET, passphrase="a-passphrase-0")
        config = real_config()
        config["before_record_request"] = [
            rewrite_origin(emu.base_url),
            *config["before_record_request"],
        ]
        with recorder.use_cassette(str(cassette), **config):
            info, balances = asyncio.run(calls(emu.base_url, REAL_KEY, REAL_SECRET))
    assert not info.read_only and balances["USDT"].total > 0

    text = cassette.read_text()
    for needle in (REAL_KEY, REAL_SECRET, "X-BAPI-SIGN:", "X-BAPI-API-KEY", "a-passphrase-0"):
        assert needle not in text, needle
    assert "X-BAPI-TIMESTAMP" in text and "REDACTED" in text  # query-api's apiKey, scrubbed

    replayer = vcr.VCR(record_mode="none")
    register(replayer)
    with replayer.use_cassette(str(cassette), **real_config()) as played:
        info2, balances2 = asyncio.run(
            calls("http://bybit-emulator.test", "another-key", "another-secret")
        )
        assert played.all_played
    assert info2.permissions == info.permissions and balances2 == balances
