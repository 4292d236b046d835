"""No credential carried by a stream URL shows in an error, its chain, a log line or a repr.

Binance USD-M user data opens ``/private/stream?listenKey=<key>&events=...``; the key is a
bearer credential for the account's user data stream. aiohttp quotes the URL it failed to open
(``WSServerHandshakeError``: ``..., url='ws://host/private/stream?listenKey=...'``), so every
text the stream layer makes from such a failure must be scrubbed, and the low-level exception
must not ride along as ``__cause__``/``__context__`` (its frames hold the URL too). Faults come
from the Binance emulator (a gateway error page, a 403, a reset on the handshake); the keys are
the emulator's own record of the ones it issued.

The REST siblings: Binance signs in the query string, so a transport failure of a signed call
must not show the signature either (``exchanges.transport.base.describe``); checked here end to
end with the sync and async clients.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from adapters.binance.emulator_ws import sockets_of
from exchanges.emulator import Emulator
from exchanges.errors import ExchangeError, StreamInterrupted
from exchanges.retry import RetryPolicy
from exchanges.stream import close_streams, streams_of
from tests.conftest import TEST_KEY, TEST_SECRET

pytestmark = pytest.mark.timeout(90)

PERP = "BTC/USDT:USDT"
FAST = {
    "ws_ping_interval": 0.5,
    "ws_silence_timeout": 1.5,
    "ws_reconnect_delay": 0.02,
    "ws_reconnect_max_delay": 0.05,
}
CREDENTIALS = exchanges.Credentials(TEST_KEY, TEST_SECRET)
QUICK_RETRY = RetryPolicy(initial_wait=0.01, max_wait=0.02)  # retried: more texts to check
# The stand-in exchange's own logs (its access log names every path it served) are not ours.
THEIRS = ("exchanges.emulator", "aiohttp.access", "aiohttp.server", "aiohttp.web")


def rendered(error: BaseException) -> list[str]:
    """Every way an error is shown: str and repr of it and of each error chained to it, and
    its traceback as error trackers print it, frames' locals included."""
    texts = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current)]
        stack += [current.__cause__, current.__context__]
    # The test's own frame (where it was caught) is not the library's: left out.
    tb = error.__traceback__.tb_next if error.__traceback__ is not None else None
    shown = traceback.TracebackException(type(error), error, tb, capture_locals=True)
    texts.append("".join(shown.format()))
    return texts


def logged(records: Iterable[logging.LogRecord]) -> list[str]:
    """Our log lines as handlers render them (tracebacks included), not the emulator's."""
    formatter = logging.Formatter()
    return [formatter.format(r) for r in records if not r.name.startswith(THEIRS)]


def assert_nowhere(needles: Iterable[str], texts: list[str]) -> None:
    needles = [n for n in needles if n]
    assert needles, "nothing to look for"
    for needle in needles:
        for text in texts:
            assert needle not in text, f"{needle[:6]}… shows in: {text[:400]}"


async def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not hold in time")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    "fault",
    [
        "http_5xx@/private/",  # retried, then given up on: the last failure is quoted
        "http_5xx@/private/=503",
        "html_403@/private/",  # refused at once
        "drop_before@/private/",  # reset before the upgrade
    ],
)
async def test_a_usdm_listen_key_never_shows_when_the_handshake_fails(
    fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Emulator("binance", seed=7) as emu:
        emu.set_faults(fault)
        async with exchanges.connect_async(
            "binance", base_url=emu.base_url, credentials=CREDENTIALS, wallet="usdm", **FAST
        ) as client:
            stream = client.watch_orders()
            with pytest.raises(ExchangeError) as caught:
                await asyncio.wait_for(stream.__anext__(), 60)
            manager = streams_of(client)
            shown = [repr(stream), repr(manager), *map(repr, manager.connections)]
            await close_streams(client)
        keys = set(sockets_of(emu.state).user.keys)
    assert keys  # the client did get a key, and opened the stream with it
    assert_nowhere(keys, rendered(caught.value) + logged(caplog.records) + shown)


async def test_reconnects_and_a_renewed_key_never_show_the_listen_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with Emulator("binance", seed=7) as emu:
        sockets = sockets_of(emu.state)
        async with exchanges.connect_async(
            "binance", base_url=emu.base_url, credentials=CREDENTIALS, wallet="usdm", **FAST
        ) as client:
            async with client.watch_orders() as orders:
                await client.create_order(PERP, "market", "buy", Decimal("0.01"))
                await asyncio.wait_for(orders.__anext__(), 15)
                # A connection that worked: refused handshakes are retried (at WARNING), and
                # an expired key is replaced; both say what happened, never with the key.
                emu.set_faults("http_5xx@/private/*3")
                sockets.drop("/private/")
                with pytest.raises(StreamInterrupted) as interrupted:
                    while True:
                        await asyncio.wait_for(orders.__anext__(), 15)
                sockets.expire_listen_keys()
                with pytest.raises(StreamInterrupted) as expired:
                    while True:
                        await asyncio.wait_for(orders.__anext__(), 15)
                connections = streams_of(client).connections
                await eventually(lambda: any(c.reconnects >= 2 for c in connections))
                shown = [repr(orders), *map(repr, connections)]
            await close_streams(client)
        keys = set(sockets.user.keys)
    assert len(keys) >= 2  # the expired key and its replacement
    texts = rendered(interrupted.value) + rendered(expired.value)
    assert_nowhere(keys, texts + logged(caplog.records) + shown)
    assert any("HTTP 502" in line for line in logged(caplog.records))  # what happened is said


# -- REST: Binance's signature rides in the query string ------------------------------------------


def signatures_of(calls: list[Any]) -> set[str]:
    found = set()
    for url in calls:
        query = str(url).partition("?")[2]
        found |= {p[len("signature=") :] for p in query.split("&") if p.startswith("signature=")}
    return found


@pytest.mark.parametrize("fault", ["drop_before@/api/v3/account", "http_5xx@/api/v3/account"])
def test_a_failed_signed_rest_call_never_shows_its_signature(
    fault: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchanges.wire import Prepared

    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    original = Prepared.__init__

    def remember(self: Prepared, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        urls.append(self.url)

    monkeypatch.setattr(Prepared, "__init__", remember)
    with Emulator("binance", seed=7) as emu:
        emu.set_faults(fault)
        with (
            exchanges.connect(
                "binance", base_url=emu.base_url, credentials=CREDENTIALS, retry=QUICK_RETRY
            ) as client,
            pytest.raises(ExchangeError) as caught,
        ):
            client.fetch_balance()
    signatures = signatures_of(urls)
    assert signatures
    assert_nowhere(signatures, rendered(caught.value) + logged(caplog.records))


async def test_a_failed_signed_async_rest_call_never_shows_its_signature(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exchanges.wire import Prepared

    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    original = Prepared.__init__

    def remember(self: Prepared, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        urls.append(self.url)

    monkeypatch.setattr(Prepared, "__init__", remember)
    with Emulator("binance", seed=7) as emu:
        emu.set_faults("drop_before@/api/v3/account")
        async with exchanges.connect_async(
            "binance", base_url=emu.base_url, credentials=CREDENTIALS, retry=QUICK_RETRY
        ) as client:
            with pytest.raises(ExchangeError) as caught:
                await client.fetch_balance()
    signatures = signatures_of(urls)
    assert signatures
    assert_nowhere(signatures, rendered(caught.value) + logged(caplog.records))
