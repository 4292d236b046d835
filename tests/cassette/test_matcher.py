"""The matcher fails, with a readable diff, whenever one byte of a request differs; a missing
cassette fails without touching the network; aiohttp's raw URL reaches the matcher untouched."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.matchers import query as vcrpy_query
from vcr.request import Request as VcrRequest
from yarl import URL

from tests.cassette.scenarios import ScriptedClock, by_name, close, connect, play
from tests.cassette.vcrkit import (
    EMULATOR_CASSETTES,
    EMULATOR_URL,
    bybit_request,
    emulator_config,
    parts,
    register,
    split_uri,
)


def _request(uri: str, body: bytes | None = None, sign: str | None = "ab" * 32) -> VcrRequest:
    headers = {"X-BAPI-SIGN": sign} if sign is not None else {}
    return VcrRequest("POST" if body else "GET", uri, body, headers)


def _mismatch(sent: VcrRequest, recorded: VcrRequest) -> str:
    with pytest.raises(AssertionError) as info:
        bybit_request(sent, recorded)
    return str(info.value)


# -- the matcher alone ----------------------------------------------------------------------


def test_identical_requests_match() -> None:
    uri = f"{EMULATOR_URL}/v5/order/realtime?category=spot&cursor=page_args%253D50%2526"
    bybit_request(_request(uri), _request(uri))
    body = b'{"category":"spot","qty":"0.01"}'
    create = f"{EMULATOR_URL}/v5/order/create"
    bybit_request(_request(create, body), _request(create, body))


def test_query_order_and_encoding_count() -> None:
    recorded = _request(f"{EMULATOR_URL}/v5/market/tickers?category=spot&symbol=BTCUSDT")
    reordered = _request(f"{EMULATOR_URL}/v5/market/tickers?symbol=BTCUSDT&category=spot")
    # vcrpy's own query matcher sorts and decodes: it would let a re-ordered (differently
    # signed) query string replay. Ours compares the exact string.
    assert vcrpy_query(reordered, recorded) is None
    message = _mismatch(reordered, recorded)
    assert "request differs from the recording in query" in message
    assert "-  ?category=spot\n-  &symbol=BTCUSDT\n+  ?symbol=BTCUSDT\n+  &category=spot" in message

    encoded = _request(f"{EMULATOR_URL}/v5/asset/coins?coin=MNT%2CUSDT")
    decoded = _request(f"{EMULATOR_URL}/v5/asset/coins?coin=MNT,USDT")
    assert vcrpy_query(decoded, encoded) is None
    assert "-  ?coin=MNT%2CUSDT\n+  ?coin=MNT,USDT" in _mismatch(decoded, encoded)


def test_one_body_byte_shows_on_its_line() -> None:
    uri = f"{EMULATOR_URL}/v5/order/create"
    recorded = _request(uri, b'{"category":"linear","symbol":"BTCUSDT","qty":"0.01"}')
    sent = _request(uri, b'{"category":"linear","symbol":"BTCUSDT","qty":"0.02"}')
    message = _mismatch(sent, recorded)
    assert "in body" in message
    assert '-  body| "qty":"0.01"}\n+  body| "qty":"0.02"}' in message
    assert '   body| "symbol":"BTCUSDT",' in message  # unchanged context, unmarked


def test_a_signature_alone_differs() -> None:
    uri = f"{EMULATOR_URL}/v5/account/wallet-balance?accountType=UNIFIED"
    message = _mismatch(_request(uri, sign="cd" * 32), _request(uri, sign="ab" * 32))
    assert (
        "-  X-BAPI-SIGN: ababababab…abab (64 chars)\n+  X-BAPI-SIGN: cdcdcdcdcd…cdcd (64 chars)"
        in message
    )
    assert "ab" * 10 not in message  # never a whole signature in an error text
    assert "Only X-BAPI-SIGN differs" in message
    assert "in sign" in _mismatch(_request(uri, sign=None), _request(uri))


def test_method_and_path() -> None:
    message = _mismatch(
        _request(f"{EMULATOR_URL}/v5/order/cancel", b"{}"),
        _request(f"{EMULATOR_URL}/v5/order/create", b"{}"),
    )
    assert "-POST /v5/order/create\n+POST /v5/order/cancel" in message


def test_split_uri_is_raw() -> None:
    assert split_uri("http://h.test:8080/a/b?x=%2C&y=1") == (
        "http://h.test:8080",
        "/a/b",
        "x=%2C&y=1",
    )
    assert split_uri("http://h.test") == ("http://h.test", "/", "")
    assert split_uri("/v5/x?q=1") == ("", "/v5/x", "q=1")


def test_yarl_keeps_the_signed_query() -> None:
    # The aiohttp transport sends URL(url, encoded=True); vcrpy records str() of that URL.
    for url in (
        f"{EMULATOR_URL}/v5/order/realtime?category=spot&limit=50&cursor=page_args%253D50%2526",
        f"{EMULATOR_URL}/v5/asset/coins?coin=MNT%2CUSDT&b=1&a=2",
        f"{EMULATOR_URL}/v5/x?q=%E2%82%AC&empty=",
    ):
        assert str(URL(url, encoded=True)) == url
        assert split_uri(str(URL(URL(url, encoded=True))))[2] == url.partition("?")[2]


# -- end to end: a cassette changed by one byte fails replay with the diff -----------------


def _replay(cassette: Path, name: str, transport: str) -> Any:
    recorder = vcr.VCR(record_mode="none")
    register(recorder)
    item = by_name(name)

    async def go() -> Any:
        clock = ScriptedClock()
        ex = connect(item, transport, EMULATOR_URL, clock)
        try:
            return await play(item, ex, clock)
        finally:
            await close(ex)

    with recorder.use_cassette(str(cassette), **emulator_config()):
        return asyncio.run(go())


def _tampered(tmp_path: Path, name: str, old: str, new: str) -> Path:
    target = tmp_path / f"{name}.yaml"
    shutil.copy(EMULATOR_CASSETTES / f"{name}.yaml", target)
    text = target.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {name}"
    target.write_text(text.replace(old, new))
    return target


@pytest.mark.parametrize("transport", ["urllib3", "aiohttp"])
def test_a_changed_query_byte_fails_with_a_diff(tmp_path: Path, transport: str) -> None:
    cassette = _tampered(
        tmp_path,
        "fetch_ticker",
        "tickers?category=spot&symbol=BTCUSDT",
        "tickers?category=spot&symbol=BTCUSDC",
    )
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "fetch_ticker", transport)
    message = str(info.value)
    assert "no recorded interaction matches it (the closest differ in bybit_request)" in message
    assert "-  &symbol=BTCUSDC\n" in message and "+  &symbol=BTCUSDT\n" in message


@pytest.mark.parametrize("transport", ["urllib3", "aiohttp"])
def test_a_changed_body_byte_fails_with_a_diff(tmp_path: Path, transport: str) -> None:
    cassette = _tampered(tmp_path, "create_order", '"price":"50000"', '"price":"50001"')
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "create_order", transport)
    message = str(info.value)
    assert '-  body| "price":"50001",' in message and '+  body| "price":"50000",' in message


def test_a_changed_signature_fails_with_a_diff(tmp_path: Path) -> None:
    recorded = (EMULATOR_CASSETTES / "fetch_balance.yaml").read_text()
    sign = recorded.split("X-BAPI-SIGN:\n      - ", 1)[1].split("\n", 1)[0]
    forged = sign[:-1] + ("0" if sign[-1] != "0" else "1")
    cassette = _tampered(tmp_path, "fetch_balance", sign, forged)
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "fetch_balance", "urllib3")
    message = str(info.value)
    assert f"-  X-BAPI-SIGN: {forged[:10]}…{forged[-4:]}" in message
    assert f"+  X-BAPI-SIGN: {sign[:10]}…{sign[-4:]}" in message
    assert sign not in message
    assert "Only X-BAPI-SIGN differs" in message


def test_the_untouched_copy_replays(tmp_path: Path) -> None:
    cassette = tmp_path / "fetch_ticker.yaml"
    shutil.copy(EMULATOR_CASSETTES / "fetch_ticker.yaml", cassette)
    _replay(cassette, "fetch_ticker", "aiohttp")


def test_parts_of_a_recorded_request() -> None:
    recorder = vcr.VCR(record_mode="none")
    with recorder.use_cassette(str(EMULATOR_CASSETTES / "create_order.yaml")) as cassette:
        post = next(r for r in cassette.requests if r.method == "POST")
    got = parts(post)
    assert (got.method, got.path, got.query) == ("POST", "/v5/order/create", "")
    assert got.body.startswith(b'{"category":"spot","symbol":"BTCUSDT","side":"Buy"')
    assert got.sign is not None and len(got.sign) == 64


# -- a missing cassette fails and sends nothing ---------------------------------------------


@pytest.mark.parametrize("transport", ["urllib3", "aiohttp"])
def test_missing_cassette_fails_without_network(tmp_path: Path, transport: str) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        base_url = f"http://127.0.0.1:{server.getsockname()[1]}"
        recorder = vcr.VCR(record_mode="none")
        register(recorder)
        item = by_name("fetch_time")

        async def go() -> None:
            clock = ScriptedClock()
            ex = connect(item, transport, base_url, clock)
            try:
                await play(item, ex, clock)
            finally:
                await close(ex)

        with (
            recorder.use_cassette(str(tmp_path / "absent.yaml"), **emulator_config()),
            pytest.raises(CannotOverwriteExistingCassetteException, match="doesn't exist"),
        ):
            asyncio.run(go())
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    assert not (tmp_path / "absent.yaml").exists()


@pytest.mark.vcr
@pytest.mark.default_cassette("no-such-cassette")
def test_pytest_recording_defaults_to_none_and_fails(record_mode: str, vcr: Any) -> None:
    # Through pytest-recording itself: without --record-mode the mode is "none", and a
    # cassette that does not exist fails the first request instead of reaching the network.
    if record_mode != "none":
        pytest.skip("only meaningful in the default (CI) mode")
    assert vcr.record_mode == "none" and len(vcr) == 0
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        item = by_name("fetch_time")
        clock = ScriptedClock()
        ex = connect(item, "urllib3", f"http://127.0.0.1:{server.getsockname()[1]}", clock)
        with ex, pytest.raises(CannotOverwriteExistingCassetteException, match="doesn't exist"):
            ex.fetch_time()
        with pytest.raises(BlockingIOError):
            server.accept()
