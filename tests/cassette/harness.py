"""How a cassette's conversation is set up and played, for every exchange.

Each scenario says how the emulator is set up (keys, faults, clock), which calls the client
makes, and what must come out: a model checked by the scenario itself, or an error whose class,
native code and hint are asserted. The same code runs while recording (against the emulator)
and while replaying (against the cassette, with no emulator), with the sync and async clients.
The scenarios themselves are in ``bybit_cases.py`` (with ``bybit_error_cases.py``),
``binance_cases.py`` and ``okx_cases.py``.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import exchanges
from exchanges import errors as e
from exchanges.clock import ServerClock
from exchanges.emulator import Emulator, FaultRule
from exchanges.retry import RetryPolicy
from tests.cassette.vcrkit import FROZEN_MS, TEST_KEY, TEST_PASSPHRASE, TEST_SECRET, profile_of

#: Retries as the library does them, with waits short enough for a test suite.
FAST_RETRY = RetryPolicy(
    attempts=3,
    initial_wait=0.001,
    max_wait=0.002,
    max_delay=30.0,
    rate_limit_retries=2,
    max_rate_limit_wait=0.002,
    min_rate_limit_wait=0.0,
)


def frozen_ms() -> int:
    """The frozen instant, as a clock."""
    return FROZEN_MS


class ScriptedClock:
    """The one clock the emulator and the client both read while recording (the client alone
    while replaying). It stands at ``FROZEN_MS`` unless a scenario moves it, at the same point
    of the scenario every run, so the stamps and signatures are the same every run."""

    def __init__(self) -> None:
        self.now = FROZEN_MS

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        """Move both clocks forward (only the paged scenario does, past rate-limit windows)."""
        self.now += ms


class Caller:
    """Calls a method of a sync or async client the same way; ``ex`` is the client."""

    def __init__(self, ex: Any, clock: ScriptedClock) -> None:
        self.ex = ex
        self.clock = clock

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.ex, name)(*args, **kwargs)
        return await result if inspect.isawaitable(result) else result


Run = Callable[[Caller], Awaitable[Any]]


async def place(
    call: Caller,
    symbol: str,
    side: str,
    amount: str,
    price: str | None,
    cid: str,
    **kwargs: Any,
) -> Any:
    """``create_order`` with a client order id: a limit order at ``price``, or market if None."""
    kind = "market" if price is None else "limit"
    return await call(
        "create_order",
        symbol,
        kind,
        side,
        Decimal(amount),
        None if price is None else Decimal(price),
        client_order_id=cid,
        **kwargs,
    )


@dataclass(frozen=True)
class Scenario:
    """One cassette: emulator setup, the calls, and the expected outcome."""

    exchange: str
    name: str
    run: Run
    doc: str
    #: For error cassettes: the exact class, native code and a phrase of the hint.
    raises: type[e.ExchangeError] | None = None
    code: int | str | None = None
    hint: str = ""
    check_error: Callable[[Any], None] | None = None
    #: ``Emulator(...)`` keyword arguments (the key's secret, permissions, IPs).
    emulator: Mapping[str, Any] = field(default_factory=dict)
    #: Changes to the emulator before the client connects (faults, clock, extra keys).
    setup: Callable[[Emulator], None] | None = None
    recv_window_ms: int = 5000
    sync_clock: bool = False
    #: The client's environment (OKX demo trading sends ``x-simulated-trading: 1``).
    env: str = "mainnet"
    #: Extra ``connect`` options (Binance's ``wallet="usdm"``).
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``binance/fetch_time``: unique across exchanges."""
        return f"{self.exchange}/{self.name}"


SCENARIOS: list[Scenario] = []


def scenario(exchange: str, name: str, **options: Any) -> Callable[[Run], Run]:
    """Register the decorated coroutine as the scenario ``name`` of ``exchange`` (its docstring
    says what the cassette pins)."""
    profile_of(exchange)

    def add(run: Run) -> Run:
        if any(s.exchange == exchange and s.name == name for s in SCENARIOS):
            raise ValueError(f"two {exchange} scenarios named {name}")
        SCENARIOS.append(Scenario(exchange, name, run, inspect.getdoc(run) or "", **options))
        return run

    return add


def faults(*rules: FaultRule) -> Callable[[Emulator], None]:
    """A setup that installs persistent fault rules."""

    def setup(emu: Emulator) -> None:
        emu.set_faults(list(rules))

    return setup


def offset(ms: int) -> Callable[[Emulator], None]:
    """A setup that moves the emulator's clock ``ms`` ahead of the client's."""

    def setup(emu: Emulator) -> None:
        emu.set_clock_offset(ms)

    return setup


# -- connecting and playing -----------------------------------------------------------------


def credentials(exchange: str) -> exchanges.Credentials:
    """The published test key (with the emulator's fake passphrase for OKX)."""
    if exchange == "okx":
        return exchanges.Credentials(TEST_KEY, TEST_SECRET, passphrase=TEST_PASSPHRASE)
    return exchanges.Credentials(TEST_KEY, TEST_SECRET)


def connect(item: Scenario, transport: str, base_url: str, clock: ScriptedClock) -> Any:
    """A client for ``item``: the published test key, the scripted clock, fast retries."""
    options: dict[str, Any] = {
        "base_url": base_url,
        "credentials": credentials(item.exchange),
        "clock": ServerClock(now_ms=clock),
        "sync_clock": item.sync_clock,
        "retry": FAST_RETRY,
        "recv_window_ms": item.recv_window_ms,
        **item.options,
    }
    if item.env != "mainnet":
        options["env"] = item.env
    # Replays talk to http://<exchange>-emulator.test, which vcrpy answers in-process: the
    # credentials are the published fake ones and nothing crosses a network.
    options["allow_insecure_http"] = True
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "sending API credentials over plain http")
        if transport == "aiohttp":
            return exchanges.connect_async(item.exchange, **options)
        return exchanges.connect(item.exchange, transport=transport, **options)


def start_emulator(item: Scenario, clock: ScriptedClock, seed: int) -> Emulator:
    """The emulator a scenario is recorded against (not started)."""
    return Emulator(item.exchange, seed=seed, wall_ms=clock, **item.emulator)


async def close(ex: Any) -> None:
    """Close a sync or async client."""
    result = ex.close()
    if inspect.isawaitable(result):
        await result


async def play(item: Scenario, ex: Any, clock: ScriptedClock) -> Any:
    """Run the scenario on a connected client; check the error for error scenarios."""
    call = Caller(ex, clock)
    if item.raises is None:
        return await item.run(call)
    try:
        await item.run(call)
    except e.ExchangeError as err:
        check_error(item, err)
        return err
    raise AssertionError(f"{item.id}: expected {item.raises.__name__}, nothing was raised")


def check_error(item: Scenario, err: e.ExchangeError) -> None:
    """The normalised error: exact class, native code, the hint's key phrase."""
    assert type(err) is item.raises, f"{item.id}: {type(err).__name__} is not {item.raises}"
    assert err.code == item.code, f"{item.id}: code {err.code!r} is not {item.code!r}"
    assert err.exchange == item.exchange, f"{item.id}: exchange {err.exchange!r}"
    assert item.hint in err.hint, f"{item.id}: hint {err.hint!r} lacks {item.hint!r}"
    if item.check_error is not None:
        item.check_error(err)


# -- checks shared by the scenario modules ------------------------------------------------


def has(err: Any, **expected: Any) -> None:
    """The error's attributes are the expected ones."""
    got = {name: getattr(err, name) for name in expected}
    assert got == expected, f"{err!r}: {got} != {expected}"


def message_has(*phrases: str) -> Callable[[Any], None]:
    """A check that the error's message holds every phrase."""

    def check(err: Any) -> None:
        for phrase in phrases:
            assert phrase in err.message, f"{phrase!r} not in {err.message!r}"

    return check


def retried_read(*, http_status: int | None = 200) -> Callable[[Any], None]:
    """A check for a read retried to exhaustion. How often it was retried is pinned by the
    cassette (identical requests, each played once, in order); here only what the error says
    about itself."""

    def check(err: Any) -> None:
        assert err.http_status == http_status and err.retryable, repr(err)

    return check
