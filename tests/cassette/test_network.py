"""Record (``--record-mode=once``) or replay read-only calls against real sandboxes: Bybit
testnet and demo, Binance testnet and demo mode, OKX demo trading.

    BYBIT_TESTNET_API_KEY=... BYBIT_TESTNET_API_SECRET=... \\
        pytest tests/cassette/test_network.py -m network --record-mode=once
    BINANCE_DEMO_API_KEY=... BINANCE_DEMO_API_SECRET=... (or _API_PRIVATE_KEY=...) \\
        pytest tests/cassette/test_network.py -m network --record-mode=once -k binance-demo
    OKX_DEMO_API_KEY=... OKX_DEMO_API_SECRET=... OKX_DEMO_API_PASSPHRASE=... \\
        pytest tests/cassette/test_network.py -m network --record-mode=once -k okx

writes ``cassettes/<exchange>/<env>/read_only_calls.yaml`` with the key, signature (headers and
Binance's ``signature`` parameter), cookie and passphrase removed and the key scrubbed from
bodies (``Profile.real_config``), and a ``PROVENANCE.md`` next to it saying where and when.
Without the variables, recording is skipped; without a recording, replay is skipped. A
recording replays offline with any credentials and at any time, since nothing secret is recorded
or compared, nor the timestamps (Binance's ``timestamp`` parameter, OKX's timestamp header).
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

import exchanges
from tests.cassette.vcrkit import CASSETTES, PROFILES, profile_of

pytestmark = pytest.mark.network

CASSETTE = "read_only_calls"

#: (exchange, env) pairs with a recording path.
TARGETS = [(p.name, env) for p in PROFILES.values() for env in p.real_envs]


def _host(exchange: str, env: str) -> str:
    if exchange == "bybit":
        from adapters.bybit.hosts import rest_host

        return rest_host(env, None)
    if exchange == "binance":
        from adapters.binance.hosts import hosts_for

        return hosts_for(env).spot
    from adapters.okx.hosts import rest_host as okx_host

    return f"{okx_host()} with x-simulated-trading: 1"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config(exchange: str) -> dict[str, Any]:
    return profile_of(exchange).real_config()


@pytest.fixture
def default_cassette_name(exchange: str, env: str) -> str:
    return f"{exchange}/{env}/{CASSETTE}"


def _calls(ex: exchanges.Exchange, exchange: str) -> None:
    server_time = ex.fetch_time()
    balances = ex.fetch_balance()
    assert server_time > 1_700_000_000_000
    assert all(b.total >= 0 for b in balances.values())
    if exchange != "binance":  # /sapi is not served by Binance's testnet nor demo mode
        info = ex.fetch_key_info()
        assert isinstance(info.permissions, frozenset) and info.permissions


@pytest.mark.vcr
@pytest.mark.parametrize(("exchange", "env"), TARGETS, ids=[f"{x}-{e}" for x, e in TARGETS])
def test_read_only_calls(exchange: str, env: str, record_mode: str, vcr: Any) -> None:
    profile = profile_of(exchange)
    prefix = f"{profile.env_prefix}_{env.upper()}"
    keys = exchanges.Credentials.from_env(prefix)
    recorded = (profile.real_folder(env) / f"{CASSETTE}.yaml").exists()
    replaying = record_mode == "none" or (record_mode == "once" and recorded)
    if replaying and not recorded:
        pytest.skip(
            f"no {exchange} {env} recording; record one with --record-mode=once and "
            f"{prefix}_API_KEY"
        )
    if not replaying and keys is None:
        pytest.skip(f"{prefix}_API_KEY / {prefix}_API_SECRET are not set")
    credentials = (
        keys
        if keys is not None
        else exchanges.Credentials(
            "offline-replay-key", "offline-replay-secret", passphrase="offline-replay-pass"
        )
    )
    with exchanges.connect(exchange, env=env, credentials=credentials, transport="urllib3") as ex:
        _calls(ex, exchange)
    if replaying:
        assert vcr.all_played
    else:
        _write_provenance(exchange, env, len(vcr.requests))


def _write_provenance(exchange: str, env: str, requests: int) -> None:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    prefix = f"{profile_of(exchange).env_prefix}_{env.upper()}"
    text = (
        f"# cassettes/{exchange}/{env}\n\n"
        f"`{CASSETTE}.yaml`: {requests} requests recorded against **real {exchange} {env}** "
        f"({_host(exchange, env)}) on {today} (UTC) by `tests/cassette/test_network.py` with "
        f"`--record-mode=once` and a key from `{prefix}_API_KEY`.\n\n"
        "Filtered before writing: the key, signature (headers and any `signature` parameter), "
        "cookies and any passphrase header; the key's value is replaced by `REDACTED` in "
        "response bodies.\n"
    )
    folder = profile_of(exchange).real_folder(env)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "PROVENANCE.md").write_text(text)
