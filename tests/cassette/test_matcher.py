"""The matchers fail, with a readable diff, whenever one byte of a request differs (Bybit's
``X-BAPI-SIGN``, Binance's ``signature`` parameter, OKX's ``OK-ACCESS-*`` headers included); a
missing cassette fails without touching the network; aiohttp's raw URL reaches the matcher
untouched.

Tampered replays here only touch requests whose URI carries no signature (a Binance POST, not a
GET): vcrpy's error names the request's URI, and the suite's leak scan would rightly flag a whole
signature in an error text.
"""

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

from tests.cassette.scenarios import EXCHANGES, ScriptedClock, by_name, close, connect, play
from tests.cassette.vcrkit import (
    BINANCE,
    BYBIT,
    OKX,
    SLOT,
    Profile,
    RedactSignatures,
    binance_request,
    bybit_request,
    exact_request,
    okx_request,
    profile_of,
    register,
    split_uri,
)

EMULATOR_URL = BYBIT.emulator_url
EMULATOR_CASSETTES = BYBIT.emulator_folder


def _request(uri: str, body: bytes | None = None, sign: str | None = "ab" * 32) -> VcrRequest:
    headers = {"X-BAPI-SIGN": sign} if sign is not None else {}
    return VcrRequest("POST" if body else "GET", uri, body, headers)


def _mismatch(sent: VcrRequest, recorded: VcrRequest, matcher: Any = bybit_request) -> str:
    with pytest.raises(AssertionError) as info:
        matcher(sent, recorded)
    return str(info.value)


# -- the Bybit matcher alone --------------------------------------------------------------


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
        f"{BINANCE.emulator_url}/api/v3/ticker/24hr?symbols=%5B%22BTCUSDT%22%5D",
        f"{BINANCE.emulator_url}/api/v3/order?symbol=BTCUSDT&signature=ab%2Bcd%2F%3D",
    ):
        assert str(URL(url, encoded=True)) == url
        assert split_uri(str(URL(URL(url, encoded=True))))[2] == url.partition("?")[2]


# -- the Binance matcher: the signature is a query or body parameter ----------------------

_SIGN = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
_BINANCE_QUERY = f"symbol=BTCUSDT&recvWindow=5000&timestamp=1767225600000&signature={_SIGN}"


def _binance(method: str, query: str = "", body: str | None = None, key: str = "test-key") -> Any:
    uri = f"{BINANCE.emulator_url}/api/v3/order" + (f"?{query}" if query else "")
    return VcrRequest(method, uri, body.encode() if body else None, {"X-MBX-APIKEY": key})


def test_binance_signature_is_lifted_out_of_the_query_and_body() -> None:
    get = BINANCE.parts(_binance("GET", _BINANCE_QUERY))
    assert get.sign == _SIGN
    assert get.query == f"symbol=BTCUSDT&recvWindow=5000&timestamp=1767225600000&signature={SLOT}"
    assert get.headers == (("X-MBX-APIKEY", "test-key"),)
    post = BINANCE.parts(_binance("POST", body=_BINANCE_QUERY))
    assert (post.query, post.sign) == ("", _SIGN)
    assert post.body == get.query.encode()
    binance_request(_binance("GET", _BINANCE_QUERY), _binance("GET", _BINANCE_QUERY))


def test_binance_signature_alone_differs_abbreviated() -> None:
    other = _BINANCE_QUERY.replace(_SIGN, "0" * 64)
    message = _mismatch(
        _binance("POST", body=other), _binance("POST", body=_BINANCE_QUERY), binance_request
    )
    assert "request differs from the recording in sign:" in message
    assert f"-  signature: {_SIGN[:10]}…{_SIGN[-4:]} (64 chars)" in message
    assert "+  signature: 0000000000…0000 (64 chars)" in message
    assert f"   body| signature={SLOT}" in message  # where it stands, not what it is
    assert _SIGN[:20] not in message
    assert "Only signature differs: the query and body are the recorded bytes" in message


def test_binance_form_body_and_timestamp_show_on_their_lines() -> None:
    later = _BINANCE_QUERY.replace("timestamp=1767225600000", "timestamp=1767225600001")
    message = _mismatch(_binance("GET", later), _binance("GET", _BINANCE_QUERY), binance_request)
    assert "request differs from the recording in query" in message
    assert "-  &timestamp=1767225600000\n+  &timestamp=1767225600001" in message
    body = "symbol=BTCUSDT&quantity=0.01&price=50000"
    message = _mismatch(
        _binance("POST", body=body.replace("0.01", "0.02")),
        _binance("POST", body=body),
        binance_request,
    )
    assert "-  body| quantity=0.01&\n+  body| quantity=0.02&" in message


def test_binance_signature_position_and_key_count() -> None:
    moved = f"signature={_SIGN}&symbol=BTCUSDT&recvWindow=5000&timestamp=1767225600000"
    assert "in query" in _mismatch(
        _binance("GET", moved), _binance("GET", _BINANCE_QUERY), binance_request
    )
    message = _mismatch(
        _binance("GET", _BINANCE_QUERY, key="another-key"),
        _binance("GET", _BINANCE_QUERY),
        binance_request,
    )
    assert "in headers" in message
    assert "-  X-MBX-APIKEY: test-key\n+  X-MBX-APIKEY: another-key" in message


def test_binance_real_matcher_is_blind_to_the_clock_only() -> None:
    real = exact_request(BINANCE, exact=False)
    later = _BINANCE_QUERY.replace("timestamp=1767225600000", "timestamp=1767229999999")
    real(_binance("GET", later), _binance("GET", _BINANCE_QUERY))
    other_symbol = _BINANCE_QUERY.replace("BTCUSDT", "ETHUSDT")
    assert "in query" in _mismatch(
        _binance("GET", other_symbol), _binance("GET", _BINANCE_QUERY), real
    )


# -- the OKX matcher: key, timestamp and demo header pinned next to OK-ACCESS-SIGN ------------


def _okx(sign: str = "A" * 44, stamp: str = "2026-01-01T00:00:00.000Z", demo: bool = False) -> Any:
    headers = {
        "OK-ACCESS-KEY": "test-key",
        "OK-ACCESS-SIGN": sign,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": "not compared",
    }
    if demo:
        headers["x-simulated-trading"] = "1"
    return VcrRequest("GET", f"{OKX.emulator_url}/api/v5/account/balance", None, headers)


def test_okx_pinned_headers() -> None:
    okx_request(_okx(), _okx())
    message = _mismatch(_okx(demo=True), _okx(), okx_request)
    assert "in headers" in message
    assert "-  x-simulated-trading: (none)\n+  x-simulated-trading: 1" in message
    message = _mismatch(_okx(stamp="2026-01-01T00:00:00.001Z"), _okx(), okx_request)
    assert "-  OK-ACCESS-TIMESTAMP: 2026-01-01T00:00:00.000Z" in message
    message = _mismatch(_okx(sign="B" * 44), _okx(), okx_request)
    assert "Only OK-ACCESS-SIGN differs" in message and "A" * 20 not in message
    # Real recordings: the timestamp follows the wall clock and is not compared.
    exact_request(OKX, exact=False)(_okx(stamp="2027-05-05T05:05:05.555Z"), _okx())


def test_vcrpy_log_lines_show_signatures_abbreviated() -> None:
    import logging

    record = logging.LogRecord(
        "vcr.stubs",
        logging.INFO,
        __file__,
        1,
        "Playing response for %s from cassette",
        (f"<Request (GET) {BINANCE.emulator_url}/api/v3/account?{_BINANCE_QUERY}>",),
        None,
    )
    assert RedactSignatures().filter(record)
    text = record.getMessage()
    assert _SIGN[:20] not in text and f"signature={_SIGN[:10]}…" in text
    assert "timestamp=1767225600000&" in text


# -- end to end: a cassette changed by one byte fails replay with the diff -----------------


def _replay(cassette: Path, name: str, transport: str, exchange: str = "bybit") -> Any:
    recorder = vcr.VCR(record_mode="none")
    register(recorder)
    item = by_name(name, exchange)
    profile = profile_of(exchange)

    async def go() -> Any:
        clock = ScriptedClock()
        ex = connect(item, transport, profile.emulator_url, clock)
        try:
            return await play(item, ex, clock)
        finally:
            await close(ex)

    with recorder.use_cassette(str(cassette), **profile.emulator_config()):
        return asyncio.run(go())


def _tampered(
    tmp_path: Path, name: str, old: str, new: str, profile: Profile = BYBIT, count: int = 1
) -> Path:
    target = tmp_path / f"{name}.yaml"
    shutil.copy(profile.emulator_folder / f"{name}.yaml", target)
    text = target.read_text()
    assert text.count(old) == count, f"{old!r} is not {count} times in {name}"
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


@pytest.mark.parametrize("transport", ["stdlib", "urllib3", "aiohttp"])
def test_binance_a_changed_form_body_byte_fails_with_a_diff(tmp_path: Path, transport: str) -> None:
    cassette = _tampered(tmp_path, "create_order", "&quantity=0.01&", "&quantity=0.02&", BINANCE)
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "create_order", transport, "binance")
    message = str(info.value)
    assert "(the closest differ in binance_request)" in message
    assert "request differs from the recording in body:" in message
    # vcrpy indents the diff: each line is checked on its own.
    assert "-  body| quantity=0.02&\n" in message and "+  body| quantity=0.01&\n" in message


def test_binance_a_changed_signature_fails_with_a_diff(tmp_path: Path) -> None:
    recorded = (BINANCE.emulator_folder / "create_order.yaml").read_text()
    sign = recorded.split("&signature=", 2)[2].split("\n", 1)[0]  # the POST's (in its body)
    forged = sign[:-1] + ("0" if sign[-1] != "0" else "1")
    cassette = _tampered(tmp_path, "create_order", sign, forged, BINANCE)
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "create_order", "stdlib", "binance")
    message = str(info.value)
    assert f"-  signature: {forged[:10]}…{forged[-4:]} (64 chars)" in message
    assert f"+  signature: {sign[:10]}…{sign[-4:]} (64 chars)" in message
    assert sign not in message and "Only signature differs" in message


@pytest.mark.parametrize("transport", ["stdlib", "urllib3", "aiohttp"])
def test_okx_a_changed_query_byte_fails_with_a_diff(tmp_path: Path, transport: str) -> None:
    cassette = _tampered(
        tmp_path, "fetch_ticker", "ticker?instId=BTC-USDT", "ticker?instId=BTC-USDC", OKX
    )
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "fetch_ticker", transport, "okx")
    message = str(info.value)
    assert "(the closest differ in okx_request)" in message
    assert "-  ?instId=BTC-USDC\n" in message and "+  ?instId=BTC-USDT\n" in message


def test_okx_a_missing_demo_header_fails_with_a_diff(tmp_path: Path) -> None:
    cassette = _tampered(
        tmp_path, "demo_trading", "      x-simulated-trading:\n      - '1'\n", "", OKX
    )
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "demo_trading", "aiohttp", "okx")
    message = str(info.value)
    assert "request differs from the recording in headers:" in message
    assert "-  x-simulated-trading: (none)\n" in message
    assert "+  x-simulated-trading: 1\n" in message


def test_okx_a_changed_signature_fails_with_a_diff(tmp_path: Path) -> None:
    recorded = (OKX.emulator_folder / "fetch_balance.yaml").read_text()
    sign = recorded.split("OK-ACCESS-SIGN:\n      - ", 1)[1].split("\n", 1)[0]
    forged = ("B" if sign[0] != "B" else "C") + sign[1:]
    cassette = _tampered(tmp_path, "fetch_balance", sign, forged, OKX)
    with pytest.raises(CannotOverwriteExistingCassetteException) as info:
        _replay(cassette, "fetch_balance", "urllib3", "okx")
    message = str(info.value)
    assert f"-  OK-ACCESS-SIGN: {forged[:10]}…" in message
    assert sign not in message and "Only OK-ACCESS-SIGN differs" in message


@pytest.mark.parametrize("exchange", EXCHANGES)
def test_the_untouched_copy_replays(tmp_path: Path, exchange: str) -> None:
    cassette = tmp_path / "fetch_ticker.yaml"
    shutil.copy(profile_of(exchange).emulator_folder / "fetch_ticker.yaml", cassette)
    _replay(cassette, "fetch_ticker", "aiohttp", exchange)


def test_parts_of_a_recorded_request() -> None:
    recorder = vcr.VCR(record_mode="none")
    with recorder.use_cassette(str(EMULATOR_CASSETTES / "create_order.yaml")) as cassette:
        post = next(r for r in cassette.requests if r.method == "POST")
    got = BYBIT.parts(post)
    assert (got.method, got.path, got.query, got.headers) == ("POST", "/v5/order/create", "", ())
    assert got.body.startswith(b'{"category":"spot","symbol":"BTCUSDT","side":"Buy"')
    assert got.sign is not None and len(got.sign) == 64

    with recorder.use_cassette(str(BINANCE.emulator_folder / "create_order.yaml")) as cassette:
        post = next(r for r in cassette.requests if r.method == "POST")
    got = BINANCE.parts(post)
    assert got.body.startswith(b"symbol=BTCUSDT&side=BUY&type=LIMIT_MAKER&quantity=0.01&")
    assert got.body.endswith(f"&timestamp=1767225600000&signature={SLOT}".encode())
    assert got.sign is not None and len(got.sign) == 64

    with recorder.use_cassette(str(OKX.emulator_folder / "create_order.yaml")) as cassette:
        post = next(r for r in cassette.requests if r.method == "POST")
    got = OKX.parts(post)
    assert got.body.startswith(b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy"')
    assert dict(got.headers) == {
        "OK-ACCESS-KEY": "test-key",
        "OK-ACCESS-TIMESTAMP": "2026-01-01T00:00:00.000Z",
        "x-simulated-trading": None,
    }
    assert got.sign is not None and len(got.sign) == 44


# -- a missing cassette fails and sends nothing ---------------------------------------------


@pytest.mark.parametrize("exchange", EXCHANGES)
@pytest.mark.parametrize("transport", ["urllib3", "aiohttp"])
def test_missing_cassette_fails_without_network(
    tmp_path: Path, transport: str, exchange: str
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.setblocking(False)
        base_url = f"http://127.0.0.1:{server.getsockname()[1]}"
        recorder = vcr.VCR(record_mode="none")
        register(recorder)
        item = by_name("fetch_time", exchange)

        async def go() -> None:
            clock = ScriptedClock()
            ex = connect(item, transport, base_url, clock)
            try:
                await play(item, ex, clock)
            finally:
                await close(ex)

        config = profile_of(exchange).emulator_config()
        with (
            recorder.use_cassette(str(tmp_path / "absent.yaml"), **config),
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
