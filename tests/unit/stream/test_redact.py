"""The stream layer's URL redaction, and a connection that fails never shows what its URL carried.

The connection is the real ``WsConnection`` with a stand-in host: its URL carries a password
(a proxy's ``user:password@``), a token in the path and one in the query, as a listenKey does.
Each way it can fail (a handshake answered 502 until it gives up, a 403, a bug of ours while
opening) is checked in the error its consumers get (and its chain), the log and the repr.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import BybitDialect
from exchanges.errors import ExchangeError
from exchanges.stream.connection import WsConnection
from exchanges.stream.dialect import FeedSpec
from exchanges.stream.feeds import EventFeed, Sink
from exchanges.stream.options import StreamOptions
from exchanges.stream.redact import REDACTED, scrub, secrets_of, shown_url

LOG = logging.getLogger("exchanges.test.redact")
KEY = "pqR7sT9uVwX1yZ3aBcD5eFgH7iJkL9mN0oPq2RsT4uVw6XyZ8aBc0DeF2gHi4JkL"  # listenKey-like
PATH_KEY = "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
PASSWORD = "hunter2-proxy-pass"
SECRETS = (KEY, PATH_KEY, PASSWORD)


def test_shown_url_keeps_host_port_and_path_only() -> None:
    url = f"wss://bot:{PASSWORD}@fstream.binance.com:443/private/stream?listenKey={KEY}&x=1#f"
    assert shown_url(url) == f"wss://fstream.binance.com:443/private/stream?{REDACTED}"
    assert shown_url(f"wss://stream.binance.com:9443/ws/{PATH_KEY}") == (
        f"wss://stream.binance.com:9443/ws/{REDACTED}"
    )
    assert shown_url("ws://[::1]:8080/ws/v5/public") == "ws://[::1]:8080/ws/v5/public"
    assert shown_url("wss://ws.okx.com:443/ws/v5/private") == "wss://ws.okx.com:443/ws/v5/private"
    assert shown_url("ws://host:99999/x") == REDACTED  # not a URL: nothing of it


def test_secrets_of_and_scrub() -> None:
    url = f"ws://u:{PASSWORD}@h/ws/{PATH_KEY}/stream?listenKey={KEY}&events=A/B&n=1"
    assert set(secrets_of(url)) == {KEY, PATH_KEY, PASSWORD}  # "A/B" and "1" are too short
    quoted = (
        f"502, message='Invalid response status', url=URL('{url}') "
        f"and the key alone: {KEY}, encoded: {KEY.replace('a', '%61')}"
    )
    shown = scrub(quoted, secrets_of(url))
    for secret in SECRETS:
        assert secret not in shown
    assert "url=URL('ws://h/ws/<redacted>/stream?<redacted>')" in shown
    assert scrub("plain text, no URL") == "plain text, no URL"


# -- a connection that fails --------------------------------------------------------------------


class Host:
    """What a manager gives a connection; the URL opened carries a token, as a listenKey does."""

    def __init__(self, session: aiohttp.ClientSession, fail_with: BaseException | None = None):
        self.session = session
        self.fail_with = fail_with
        self.failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    def http(self) -> aiohttp.ClientSession:
        return self.session

    async def connect_url(self, group: str, url: str) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        return f"{url}?listenKey={KEY}&events=ORDER_TRADE_UPDATE"

    def connection_failed(self, connection: WsConnection, error: BaseException) -> None:
        if not self.failed.done():
            self.failed.set_result(error)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a public connection asked its host for {name}")


@pytest.fixture
async def refusing() -> AsyncIterator[tuple[str, dict[str, int]]]:
    """A server that answers every handshake with the status in ``state["status"]``."""
    state = {"status": 502}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=state["status"], text="<html>gateway</html>")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://bot:{PASSWORD}@127.0.0.1:{port}/ws/{PATH_KEY}/stream", state
    finally:
        await runner.cleanup()


def all_texts(error: BaseException, connection: WsConnection, caplog: Any) -> list[str]:
    texts = [repr(connection), connection.shown_url]
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current)]
        shown = traceback.TracebackException.from_exception(current, capture_locals=True)
        texts.append("".join(shown.format()))
        stack += [current.__cause__, current.__context__]
    formatter = logging.Formatter()
    # The test server's access log names the path it served: the server's, not ours.
    ours = [r for r in caplog.records if not r.name.startswith("aiohttp.")]
    texts += [formatter.format(record) for record in ours]
    return texts


async def fail(url: str, host: Host) -> tuple[BaseException, WsConnection]:
    options = StreamOptions(reconnect_delay=0.01, reconnect_max_delay=0.02, connect_timeout=5)
    dialect = BybitDialect(BybitAdapter(env="mainnet"))
    spec = FeedSpec("public/linear", "publicTrade.BTCUSDT", "events", lambda: None)
    feed = EventFeed(spec, LOG, 10)
    feed.attach(Sink(feed.new_channel(), None, None))
    connection = WsConnection(host, dialect, "public/linear", url, options, LOG)  # type: ignore[arg-type]
    connection.add(feed)
    try:
        error = await asyncio.wait_for(host.failed, 30)
    finally:
        await connection.close()
    return error, connection


@pytest.mark.parametrize("status", [502, 403])
async def test_a_refused_handshake_never_shows_what_the_url_carried(
    refusing: tuple[str, dict[str, int]], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url, state = refusing
    state["status"] = status
    async with aiohttp.ClientSession() as session:
        error, connection = await fail(url, Host(session))
    assert isinstance(error, ExchangeError) and error.__cause__ is None
    texts = all_texts(error, connection, caplog)
    assert any(f"HTTP {status}" in text for text in texts)  # what happened is still said
    for secret in SECRETS:
        assert all(secret not in text for text in texts), secret


async def test_a_bug_while_opening_is_reported_scrubbed(
    refusing: tuple[str, dict[str, int]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url, _ = refusing
    bug = RuntimeError(f"could not build {url}?listenKey={KEY}")
    async with aiohttp.ClientSession() as session:
        error, connection = await fail(url, Host(session, fail_with=bug))
    texts = all_texts(error, connection, caplog)
    assert "RuntimeError" in str(error) and error.__cause__ is None
    assert any("the connection task failed" in text for text in texts)
    for secret in SECRETS:
        assert all(secret not in text for text in texts), secret
