"""What a newcomer meets in the first hour: settings checked at connect, half-set environment
variables, closed clients, quiet logs, errors that name the caller's method (issue 21).

Each behaviour is checked on every native adapter against its emulator.
"""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import warnings
from collections.abc import Iterator
from decimal import Decimal

import pytest

import exchanges
from exchanges.emulator import Emulator
from exchanges.retry import RetryPolicy

NAMES = ["bybit", "binance", "okx"]


@pytest.fixture(params=NAMES)
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with Emulator(request.param, seed=5) as emulator:
        yield emulator


def creds() -> exchanges.Credentials:
    return exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("127.0.0.1:8080", "pass http://127.0.0.1:8080"),
        ("localhost:8080", "pass http://localhost:8080"),
        ("api.bybit.com", "pass https://api.bybit.com"),
        ("http://", "names no host"),
        ("http://127.0.0.1:0", "no valid port"),
        ("https://api.example.com/?x=1", "query"),
    ],
)
def test_a_base_url_without_scheme_or_host_is_refused_with_what_to_pass(
    base_url: str, message: str
) -> None:
    for name in NAMES:
        with pytest.raises(ValueError, match="base_url") as caught:
            exchanges.connect(name, base_url=base_url)
        assert message in str(caught.value)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_a_timeout_that_is_not_a_positive_number_is_refused(timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        exchanges.connect("bybit", timeout=timeout)
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        exchanges.connect_async("okx", timeout=timeout)
    with pytest.raises(TypeError, match="timeout must be a number of seconds, not str"):
        exchanges.connect("binance", timeout="3")  # type: ignore[arg-type]


def test_credentials_of_the_wrong_type_say_which_field() -> None:
    with pytest.raises(TypeError, match=r"^api_key must be a str, not NoneType$"):
        exchanges.Credentials(None, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^secret must be a str, not int$"):
        exchanges.Credentials("key", 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^passphrase must be a str, not bytes$"):
        exchanges.Credentials("key", "secret", passphrase=b"p")  # type: ignore[arg-type]


def test_a_half_set_environment_warns_and_fails_only_private_calls(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = emu.exchange.upper()
    monkeypatch.setenv(f"{prefix}_API_KEY", "test-key")
    monkeypatch.delenv(f"{prefix}_API_SECRET", raising=False)
    monkeypatch.delenv(f"{prefix}_API_PRIVATE_KEY", raising=False)
    with pytest.warns(UserWarning, match=f"{prefix}_API_SECRET") as warned:
        ex = exchanges.connect(emu.exchange, base_url=emu.base_url)
    with ex:
        assert ex.fetch_ticker("BTC/USDT").symbol == "BTC/USDT"  # public calls work
        with pytest.raises(exchanges.AuthenticationError) as caught:
            ex.fetch_balance()
    said = str(warned[0].message)
    assert caught.value.hint in said  # the same message, naming the missing variable
    assert f"{prefix}_API_SECRET" in caught.value.hint


def test_a_lone_secret_in_the_environment_is_not_ignored_silently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BYBIT_API_KEY", raising=False)
    monkeypatch.setenv("BYBIT_API_SECRET", "a-secret-without-its-key")
    with pytest.warns(UserWarning, match="BYBIT_API_SECRET is set but BYBIT_API_KEY is not"):
        exchanges.connect("bybit").close()


def test_errors_name_the_callers_method_not_an_internal_request(emu: Emulator) -> None:
    with (
        exchanges.connect(emu.exchange, base_url=emu.base_url) as ex,
        pytest.raises(exchanges.AuthenticationError) as caught,
    ):
        ex.create_order("BTC/USDT", "market", "buy", Decimal("0.001"))
    assert str(caught.value).startswith(f"{emu.exchange} AuthenticationError: create_order ")
    # The trade-key check (an internal request) was never tried without a key.
    assert "query-api" not in str(caught.value) and "apiRestrictions" not in str(caught.value)


def test_a_closed_client_makes_no_call(emu: Emulator) -> None:
    ex = exchanges.connect(emu.exchange, base_url=emu.base_url, credentials=creds())
    ex.fetch_time()
    ex.close()
    before = emu.stats()["requests"]
    with pytest.raises(exchanges.ClientClosed, match="fetch_balance was called on a closed"):
        ex.fetch_balance()
    assert emu.stats()["requests"] == before

    async def scenario() -> None:
        async with exchanges.connect_async(
            emu.exchange, base_url=emu.base_url, credentials=creds()
        ) as aex:
            await aex.fetch_time()
        with pytest.raises(exchanges.ClientClosed, match="fetch_time was called"):
            await aex.fetch_time()

    asyncio.run(scenario())
    assert emu.stats()["requests"] == before + 1


def test_an_async_client_dropped_open_is_released_with_a_warning_that_says_what_to_do(
    emu: Emulator,
) -> None:
    async def scenario() -> None:
        aex = exchanges.connect_async(emu.exchange, base_url=emu.base_url)
        await aex.fetch_time()
        del aex
        gc.collect()

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        asyncio.run(scenario())
        gc.collect()
    texts = [str(w.message) for w in seen]
    ours = [t for t in texts if "was dropped without being closed" in t]
    assert ours and "async with exchanges.connect_async" in ours[0]
    assert not [t for t in texts if "Unclosed client session" in t], texts


def test_the_library_prints_nothing_on_stderr_by_itself() -> None:
    # A stream that fails logs a warning; with no logging configured by the application the
    # caller gets the exception only, not a second copy on stderr.
    code = (
        "import logging, exchanges\n"
        "logging.getLogger('exchanges.bybit').warning('should not be printed')\n"
        "logging.getLogger('exchanges.stream').error('nor this')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stderr == ""


def test_a_timeout_error_says_the_attempts_and_the_time_in_all(emu: Emulator) -> None:
    emu.set_faults("latency:1.0@/=800")
    retry = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02)
    with (
        exchanges.connect(emu.exchange, base_url=emu.base_url, timeout=0.3, retry=retry) as ex,
        pytest.raises(exchanges.RequestTimeout) as caught,
    ):
        ex.fetch_time()
    text = str(caught.value)
    assert "within 0.3 s" in text and "2 attempts in" in text
    # The total counts the first attempt too: two attempts of 0.3 s each.
    total = float(text.split("2 attempts in ")[1].split(" s")[0])
    assert total >= 0.6
