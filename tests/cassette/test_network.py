"""Record (``--record-mode=once``) or replay read-only calls against Bybit testnet and demo.

    BYBIT_TESTNET_API_KEY=... BYBIT_TESTNET_API_SECRET=... \\
        pytest tests/cassette/test_network.py -m network --record-mode=once
    BYBIT_DEMO_API_KEY=... BYBIT_DEMO_API_SECRET=... \\
        pytest tests/cassette/test_network.py -m network --record-mode=once

writes ``cassettes/bybit/<env>/read_only_calls.yaml`` with the key, signature, cookie and
passphrase headers removed and the key scrubbed from bodies (``vcrkit.real_config``), and a
``PROVENANCE.md`` next to it saying where and when. Without the variables, recording is
skipped; without a recording, replay is skipped. A recording replays offline with any
credentials, since nothing secret is recorded or compared.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

import exchanges
from adapters.bybit.hosts import rest_host
from tests.cassette.vcrkit import CASSETTES, REAL_CASSETTES, real_config

pytestmark = pytest.mark.network

CASSETTE = "read_only_calls"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES / "bybit")


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return real_config()


@pytest.fixture
def default_cassette_name(env: str) -> str:
    return f"{env}/{CASSETTE}"


@pytest.mark.vcr
@pytest.mark.parametrize("env", ["testnet", "demo"])
def test_read_only_calls(env: str, record_mode: str, vcr: Any) -> None:
    prefix = f"BYBIT_{env.upper()}"
    keys = exchanges.Credentials.from_env(prefix)
    recorded = (REAL_CASSETTES[env] / f"{CASSETTE}.yaml").exists()
    replaying = record_mode == "none" or (record_mode == "once" and recorded)
    if replaying and not recorded:
        pytest.skip(f"no {env} recording; record one with --record-mode=once and {prefix}_API_KEY")
    if not replaying and keys is None:
        pytest.skip(f"{prefix}_API_KEY / {prefix}_API_SECRET are not set")
    credentials = (
        keys
        if keys is not None
        else exchanges.Credentials("offline-replay-key", "offline-replay-secret")
    )
    with exchanges.connect("bybit", env=env, credentials=credentials, transport="urllib3") as ex:
        server_time = ex.fetch_time()
        balances = ex.fetch_balance()
        info = ex.fetch_key_info()
    assert server_time > 1_700_000_000_000
    assert all(b.total >= 0 for b in balances.values())
    assert isinstance(info.permissions, frozenset) and info.permissions
    if replaying:
        assert vcr.all_played
    else:
        _write_provenance(env, len(vcr.requests))


def _write_provenance(env: str, requests: int) -> None:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    text = (
        f"# cassettes/bybit/{env}\n\n"
        f"`{CASSETTE}.yaml`: {requests} requests recorded against **real Bybit {env}** "
        f"({rest_host(env, None)}) on {today} (UTC) by `tests/cassette/test_network.py` with "
        f"`--record-mode=once` and a key from `BYBIT_{env.upper()}_API_KEY`.\n\n"
        "Filtered before writing: `X-BAPI-API-KEY`, `X-BAPI-SIGN`, cookies and any passphrase "
        "header; the key's value is replaced by `REDACTED` in response bodies.\n"
    )
    folder = REAL_CASSETTES[env]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PROVENANCE.md").write_text(text)
