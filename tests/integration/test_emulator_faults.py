"""Each emulator fault, as a client observes it: the right error class (or a recovery)."""

from __future__ import annotations

import time

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.retry import RetryPolicy

FAST = RetryPolicy(initial_wait=0.01, max_wait=0.02, min_rate_limit_wait=0.01,
                   max_rate_limit_wait=0.05)  # fmt: skip

PERSISTENT = [
    ("drop_before", exchanges.NetworkError, None),
    ("drop_after", exchanges.NetworkError, None),
    ("http_5xx", exchanges.ExchangeNotAvailable, None),
    ("http_5xx_after", exchanges.ExchangeNotAvailable, None),
    ("server_error", exchanges.ExchangeNotAvailable, 10016),
    ("server_error_after", exchanges.ExchangeNotAvailable, 10016),
    ("rate_limit", exchanges.RateLimitExceeded, 10006),
    ("html_403", exchanges.RateLimitExceeded, None),
    ("truncated", exchanges.BadResponse, None),
    ("malformed", exchanges.BadResponse, None),
    ("empty", exchanges.BadResponse, None),
]


@pytest.fixture
def ex(emulator: Emulator, credentials: exchanges.Credentials) -> exchanges.Exchange:
    client = exchanges.connect("bybit", base_url=emulator.base_url, credentials=credentials,
                               retry=FAST)  # fmt: skip
    client.fetch_balance()  # clock synced, connections open
    return client


@pytest.mark.parametrize(("kind", "cls", "code"), PERSISTENT, ids=[p[0] for p in PERSISTENT])
def test_persistent_fault_gives_its_error_class(
    ex: exchanges.Exchange, emulator: Emulator, kind: str, cls: type[Exception], code: int | None
) -> None:
    emulator.set_faults(f"{kind}:1.0@/v5/account/wallet-balance")
    with pytest.raises(cls) as info:
        ex.fetch_balance()
    err = info.value
    assert isinstance(err, exchanges.ExchangeError)
    assert err.code == code and err.hint and err.endpoint == "GET /v5/account/wallet-balance"
    if kind == "html_403":
        assert err.http_status == 403 and err.retryable is False  # an IP ban is not hammered
        assert emulator.stats()["faults_injected"]["html_403"] == 1
    ex.close()


@pytest.mark.parametrize("kind", [p[0] for p in PERSISTENT if p[0] != "html_403"])
def test_a_single_fault_on_a_read_is_retried_away(
    ex: exchanges.Exchange, emulator: Emulator, kind: str
) -> None:
    emulator.set_faults(f"{kind}:1.0@/v5/account/wallet-balance*1")
    assert ex.fetch_balance()["USDT"].total > 0
    assert emulator.stats()["faults_injected"][kind] == 1
    ex.close()


def test_latency_is_only_slower(ex: exchanges.Exchange, emulator: Emulator) -> None:
    emulator.set_faults("latency:1.0@/v5/account/wallet-balance=300")
    started = time.monotonic()
    assert ex.fetch_balance()["USDT"].total > 0
    assert time.monotonic() - started >= 0.3
    ex.close()


def test_slower_than_the_timeout_is_a_request_timeout(
    emulator: Emulator, credentials: exchanges.Credentials
) -> None:
    emulator.set_faults("latency:1.0@/v5/account/wallet-balance=1500")
    with exchanges.connect("bybit", base_url=emulator.base_url, credentials=credentials,
                           timeout=0.5, retry=FAST) as ex:  # fmt: skip
        with pytest.raises(exchanges.RequestTimeout) as info:
            ex.fetch_balance()
        assert info.value.request_sent


def test_faults_are_deterministic_under_a_seed(emulator: Emulator, ex: exchanges.Exchange) -> None:
    def run() -> list[str]:
        emulator.set_faults("server_error:0.5@/v5/market/time", seed=42)
        seen = []
        for _ in range(20):
            try:
                ex.fetch_time()
                seen.append("ok")
            except exchanges.ExchangeError as err:
                seen.append(type(err).__name__)
        return seen

    assert run() == run()
    ex.close()
