"""The emulator's admin API refuses what a web page could send, and bad input never gives a 500.

A page open in the user's browser can POST to loopback (``text/plain`` needs no preflight), can
make its own name resolve to 127.0.0.1 (DNS rebinding: ``Host: evil.example``) and always sends
its ``Origin`` on a cross-site POST. The admin API refuses each of those, can require a token,
and answers bad input with a JSON 400; the trading routes answer undecodable or oddly shaped
JSON with the exchange's own parameter error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

import aiohttp
import pytest

from exchanges.cli import main
from exchanges.emulator import Emulator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"
JSON = {"Content-Type": "application/json"}
WITHDRAW_KEY = {"api_key": "evil-key", "secret": "evil-secret", "permissions": ["withdraw"]}
DEEP_LIST = b"[" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        assert self.headers.get("Content-Type", "").startswith("application/json"), self.headers
        return json.loads(self.body)


def send(
    emu: Emulator | int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """One request with exactly these headers (a ``Host`` given here replaces the real one)."""
    port = emu if isinstance(emu, int) else emu.server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def admin(emu: Emulator, method: str, name: str, body: Any = None, **headers: str) -> Answer:
    raw = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    sent = {**JSON, **headers} if raw is not None or method != "GET" else dict(headers)
    return send(emu, method, f"/_emulator/{name}", raw, sent)


def assert_refused(answer: Answer, statuses: tuple[int, ...]) -> str:
    assert answer.status in statuses, (answer.status, answer.body)
    error = answer.json()
    assert isinstance(error["error"], str) and error["error"]
    assert b"Traceback" not in answer.body
    return str(error["error"]) + " " + str(error.get("hint", ""))


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("bybit", seed=7) as emulator:
        yield emulator


# -- 1. what a web page can send --------------------------------------------------------------


def test_a_cross_site_post_cannot_add_a_withdrawal_key(emu: Emulator) -> None:
    # What fetch("http://evil.example:PORT/_emulator/keys", {method: "POST", body}) sends from
    # a page whose name was rebound to 127.0.0.1.
    answer = send(
        emu,
        "POST",
        "/_emulator/keys",
        json.dumps(WITHDRAW_KEY).encode(),
        {
            "Host": f"evil.example:{emu.server.port}",
            "Origin": f"http://evil.example:{emu.server.port}",
            "Content-Type": "text/plain;charset=UTF-8",
        },
    )
    assert_refused(answer, (403, 415, 421))
    assert emu.state.keys.get("evil-key") is None


def test_a_cross_site_post_cannot_set_faults(emu: Emulator) -> None:
    answer = send(
        emu,
        "POST",
        "/_emulator/faults",
        b'{"rules": "drop_after:1.0@/v5/order/create"}',
        {"Host": "evil.example", "Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    assert_refused(answer, (403, 415, 421))
    assert emu.state.faults.rules == []


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:{port}",
        "127.0.0.1.evil.example:{port}",
        "localhost.evil.example",
        "127.0.0.2:{port}",
        "127.0.0.1:1",
        "[::2]:{port}",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(emu: Emulator, host: str) -> None:
    answer = admin(emu, "POST", "keys", WITHDRAW_KEY, Host=host.format(port=emu.server.port))
    text = assert_refused(answer, (421, 403))
    assert "Host" in text
    assert emu.state.keys.get("evil-key") is None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LocalHost", "[::1]:{port}"]
)
def test_loopback_host_headers_are_served(emu: Emulator, host: str) -> None:
    answer = admin(emu, "POST", "keys", WITHDRAW_KEY, Host=host.format(port=emu.server.port))
    assert answer.status == 200, answer.body
    assert emu.state.keys.get("evil-key") is not None


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "http://evil.example:{port}",
        "null",
        "http://localhost:1",
        "https://127.0.0.1:{port}",
        "http://127.0.0.1:{port}.evil.example",
    ],
)
def test_a_foreign_origin_is_refused(emu: Emulator, origin: str) -> None:
    answer = admin(emu, "POST", "keys", WITHDRAW_KEY, Origin=origin.format(port=emu.server.port))
    text = assert_refused(answer, (403,))
    assert "Origin" in text
    assert emu.state.keys.get("evil-key") is None


@pytest.mark.parametrize(
    "origin", ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"]
)
def test_a_loopback_origin_is_served(emu: Emulator, origin: str) -> None:
    answer = admin(emu, "POST", "keys", WITHDRAW_KEY, Origin=origin.format(port=emu.server.port))
    assert answer.status == 200, answer.body
    assert emu.state.keys.get("evil-key") is not None


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
def test_an_admin_write_needs_the_json_content_type(
    emu: Emulator, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps(WITHDRAW_KEY).encode()
    text = assert_refused(send(emu, "POST", "/_emulator/keys", body, headers), (415,))
    assert "application/json" in text
    assert emu.state.keys.get("evil-key") is None


def test_a_bodyless_delete_needs_the_json_content_type_too(emu: Emulator) -> None:
    emu.set_faults("latency:0.5=1")
    assert_refused(send(emu, "DELETE", "/_emulator/faults"), (415,))
    assert len(emu.state.faults.rules) == 1
    answer = send(emu, "DELETE", "/_emulator/faults", headers=JSON)
    assert answer.status == 200 and emu.state.faults.rules == []


def test_a_get_without_a_body_needs_no_content_type(emu: Emulator) -> None:
    answer = send(emu, "GET", "/_emulator/stats")
    assert answer.status == 200 and "requests" in answer.json()


def test_the_admin_token_is_required_when_set() -> None:
    with Emulator("bybit", seed=7, admin_token="t0ken-of-this-run") as emu:
        for headers in ({}, {"X-Emulator-Token": "wrong"}, {"X-Emulator-Token": ""}):
            text = assert_refused(admin(emu, "POST", "keys", WITHDRAW_KEY, **headers), (401, 403))
            assert "X-Emulator-Token" in text
            assert_refused(admin(emu, "GET", "keys", **headers), (401, 403))
        assert emu.state.keys.get("evil-key") is None
        ok = admin(emu, "POST", "keys", WITHDRAW_KEY, **{"X-Emulator-Token": "t0ken-of-this-run"})
        assert ok.status == 200, ok.body
        assert emu.state.keys.get("evil-key") is not None
        # In-process calls need no token: they are not reachable from a browser.
        emu.set_clock_offset(5)
        assert emu.state.clock_offset_ms == 5


def test_an_empty_admin_token_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        Emulator("bybit", admin_token="")


# -- 2. bad admin input -----------------------------------------------------------------------

BAD_ADMIN = [
    ("POST", "keys", b"{not json"),
    ("POST", "keys", b"\xff\xfe"),
    ("POST", "keys", DEEP_LIST),
    ("POST", "keys", DEEP_OBJECT),
    ("POST", "keys", b"[1]"),
    ("POST", "keys", b'"x"'),
    ("POST", "keys", b"{}"),
    ("POST", "keys", b'{"api_key": 5, "secret": "s"}'),
    ("POST", "keys", b'{"api_key": "k"}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "public_key": "p"}'),
    ("POST", "keys", b'{"api_key": "k", "public_key": "not a PEM"}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "balances": [1]}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "balances": {"USDT": "x"}}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "balances": {"USDT": -5}}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "balances": {"USDT": 1e999}}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "balances": {"USDT": 1e30}}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "permissions": 5}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "permissions": ["fly"]}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "ips": "1.2.3.4"}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "uid": "x"}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "uid": true}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "uid": 0}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "expires_at": "soon"}'),
    ("POST", "keys", b'{"api_key": "k", "secret": "s", "colour": "red"}'),
    ("POST", "faults", b'{"rules": "meteor_strike"}'),
    ("POST", "faults", b'{"rules": "latency=abc"}'),
    ("POST", "faults", b'{"rules": "latency:often"}'),
    ("POST", "faults", b'{"rules": "latency*many"}'),
    ("POST", "faults", b'{"rules": "latency:2"}'),
    ("POST", "faults", b'{"rules": "latency:nan"}'),
    ("POST", "faults", json.dumps({"rules": "[" * 100_000}).encode()),
    ("POST", "faults", b'{"rules": "[1]"}'),
    ("POST", "faults", b'{"rules": [1]}'),
    ("POST", "faults", b'{"rules": {"kind": "latency"}}'),
    ("POST", "faults", b'{"rules": 5}'),
    ("POST", "faults", b'{"rules": [{"kind": "latency", "probability": "x"}]}'),
    ("POST", "faults", b'{"rules": [{"kind": "latency", "count": -1}]}'),
    ("POST", "faults", b'{"rules": [{"kind": "latency", "path": 5}]}'),
    ("POST", "faults", b'{"rules": [{"kind": "latency", "colour": "red"}]}'),
    ("POST", "faults", b'{"rules": [], "seed": "x"}'),
    ("POST", "clock", b"{}"),
    ("POST", "clock", b'{"offset_ms": 1e999}'),
    ("POST", "clock", b'{"offset_ms": null}'),
    ("POST", "clock", b'{"offset_ms": "abc"}'),
    ("POST", "clock", b'{"offset_ms": true}'),
    ("POST", "clock", b'{"offset_ms": 1e300}'),
    ("POST", "clock", b'{"offset_ms": 100000000000000000000000000000}'),
    ("POST", "reset", b'{"seed": "x"}'),
    ("POST", "reset", b'{"seed": [1]}'),
    ("GET", "balances?uid=abc", None),
    ("GET", "balances?uid=424242", None),
]


@pytest.mark.parametrize(("method", "name", "body"), BAD_ADMIN)
def test_bad_admin_input_is_a_json_400(
    emu: Emulator, method: str, name: str, body: bytes | None
) -> None:
    before = (emu.state.clock_offset_ms, emu.state.seed, len(emu.state.keys.all()))
    assert_refused(admin(emu, method, name, body), (400,))
    assert (emu.state.clock_offset_ms, emu.state.seed, len(emu.state.keys.all())) == before
    assert emu.state.faults.rules == []
    assert send(emu, "GET", "/v5/market/time").status == 200  # still serving


@pytest.mark.parametrize(("method", "name"), [("GET", "nope"), ("POST", "ledger"), ("PUT", "keys")])
def test_an_unknown_admin_endpoint_is_a_json_404(emu: Emulator, method: str, name: str) -> None:
    text = assert_refused(admin(emu, method, name, {} if method != "GET" else None), (404, 405))
    assert "/_emulator/" in text


def test_good_admin_calls_still_work(emu: Emulator) -> None:
    added = admin(
        emu,
        "POST",
        "keys",
        {"api_key": "k2", "secret": "s2", "uid": 2002, "balances": {"USDT": "5"}},
    )
    assert added.status == 200 and added.json() == {"api_key": "k2", "uid": 2002}
    assert admin(emu, "GET", "balances?uid=2002").json()["USDT"]["total"] == "5"
    assert admin(emu, "POST", "faults", {"rules": "latency:0.5@/v5/market*3=10"}).status == 200
    rule = admin(emu, "GET", "faults").json()["rules"][0]
    assert rule == {
        "kind": "latency",
        "probability": 0.5,
        "path": "/v5/market",
        "method": None,
        "count": 3,
        "param": 10,
    }
    rules = [{"kind": "rate_limit", "path": "/v5/order", "method": "POST"}]
    assert admin(emu, "POST", "faults", {"rules": rules, "seed": 3}).status == 200
    assert emu.state.faults.rules[0].method == "POST"
    assert admin(emu, "POST", "clock", {"offset_ms": -1500}).json()["offset_ms"] == -1500
    assert admin(emu, "POST", "reset", {"seed": 9}).json() == {"seed": 9}
    assert emu.state.clock_offset_ms == 0 and emu.state.faults.rules == []


# -- 3. the trading routes --------------------------------------------------------------------


def _bybit_signed(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time() * 1000))
    message = stamp.encode() + KEY.encode() + b"5000" + body
    sign = hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    names = ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN")
    return {**JSON, **dict(zip(names, (KEY, stamp, "5000", sign), strict=True))}


def _okx_signed(path: str, body: bytes) -> dict[str, str]:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    digest = hmac.new(SECRET.encode(), f"{stamp}POST{path}".encode() + body, hashlib.sha256)
    return {
        **JSON,
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
    }


def _binance_query(params: Mapping[str, str]) -> str:
    query = urlencode({**params, "timestamp": str(int(time.time() * 1000))})
    sign = hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={sign}"


def assert_bybit_params_error(answer: Answer) -> None:
    assert answer.status == 200, (answer.status, answer.body)
    assert answer.json()["retCode"] == 10001, answer.body


def assert_okx_params_error(answer: Answer) -> None:
    assert answer.status == 400, (answer.status, answer.body)
    assert answer.json()["code"] in ("50002", "51000"), answer.body


def assert_binance_params_error(answer: Answer) -> None:
    assert answer.status == 400, (answer.status, answer.body)
    assert answer.json()["code"] in (-1100, -1102, -1130), answer.body


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT, b'{"a":' * 2000 + b"1" + b"}" * 2000])
@pytest.mark.parametrize("signed", [False, True])
def test_bybit_answers_deeply_nested_json_with_10001(body: bytes, signed: bool) -> None:
    path = "/v5/order/create"
    with Emulator("bybit", seed=7) as emu:
        headers = _bybit_signed(body) if signed else JSON
        assert_bybit_params_error(send(emu, "POST", path, body, headers))


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT])
@pytest.mark.parametrize("path", ["/api/v5/trade/order", "/api/v5/trade/cancel-batch-orders"])
def test_okx_answers_deeply_nested_json_with_its_json_error(body: bytes, path: str) -> None:
    with Emulator("okx", seed=7) as emu:
        assert_okx_params_error(send(emu, "POST", path, body, _okx_signed(path, body)))


def test_binance_answers_a_deeply_nested_symbols_list_with_1100() -> None:
    with Emulator("binance", seed=7) as emu:
        in_query = "/api/v3/ticker/24hr?symbols=" + "%5B" * 2000
        assert_binance_params_error(send(emu, "GET", in_query))
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        in_body = b"symbols=" + b"[" * 100_000
        assert_binance_params_error(send(emu, "GET", "/api/v3/ticker/24hr", in_body, form))


ORDER = {
    "category": "spot",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.01",
    "price": "50000",
    "orderLinkId": "shape-1",
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v5/order/create", b'{"category": "spot", "qty": 1e999}'),
        ("/v5/order/create", b'{"category": "spot", "qty": NaN}'),
        ("/v5/order/create", json.dumps({**ORDER, "qty": ["0.01"]}).encode()),
        ("/v5/order/create", json.dumps({**ORDER, "price": {"p": 1}}).encode()),
        ("/v5/order/amend", json.dumps({**ORDER, "orderId": ["a"]}).encode()),
        ("/v5/order/cancel", json.dumps({**ORDER, "orderLinkId": {"a": 1}}).encode()),
        ("/v5/order/create", b"[" + json.dumps(ORDER).encode() + b"]"),
        ("/v5/order/create", b'{"category": "spot", "qty": 1' + b"0" * 5000 + b"}"),
    ],
)
def test_bybit_answers_wrong_shapes_with_10001(path: str, body: bytes) -> None:
    with Emulator("bybit", seed=7) as emu:
        assert_bybit_params_error(send(emu, "POST", path, body, _bybit_signed(body)))
        assert emu.ledger() == []


@pytest.mark.parametrize(
    "query",
    [
        "category=linear&symbol=BTCUSDT&interval=1&start=abc",
        "category=linear&symbol=BTCUSDT&interval=1&end=%C2%B2",
        "category=linear&symbol=BTCUSDT&interval=1&start=" + "9" * 5000,
    ],
)
def test_bybit_answers_bad_numbers_in_a_query_with_10001(query: str) -> None:
    with Emulator("bybit", seed=7) as emu:
        assert_bybit_params_error(send(emu, "GET", "/v5/market/kline?" + query))


OKX_ORDER = b'{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "px": "1"'


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v5/trade/order", OKX_ORDER + b', "sz": 1e999}'),
        ("/api/v5/trade/order", OKX_ORDER + b', "sz": -Infinity}'),
        ("/api/v5/trade/order", OKX_ORDER + b', "sz": 1' + b"0" * 5000 + b"}"),
        ("/api/v5/trade/order", OKX_ORDER + b', "sz": ["1"]}'),
        ("/api/v5/trade/order", b"[" + OKX_ORDER + b', "sz": "1"}]'),
        ("/api/v5/trade/cancel-batch-orders", b'{"instId": "BTC-USDT", "ordId": "1"}'),
        ("/api/v5/trade/cancel-batch-orders", b"[[1]]"),
    ],
)
def test_okx_answers_wrong_shapes_with_a_parameter_error(path: str, body: bytes) -> None:
    with Emulator("okx", seed=7) as emu:
        assert_okx_params_error(send(emu, "POST", path, body, _okx_signed(path, body)))
        assert emu.ledger() == []


@pytest.mark.parametrize(
    "query",
    [
        "instId=BTC-USDT&limit=%C2%B2",
        "instId=BTC-USDT&limit=" + "9" * 5000,
        "instId=BTC-USDT&after=" + "9" * 5000,
        "instId=BTC-USDT&before=%D9%A1",
    ],
)
def test_okx_answers_bad_numbers_in_a_query_with_51000(query: str) -> None:
    with Emulator("okx", seed=7) as emu:
        assert_okx_params_error(send(emu, "GET", "/api/v5/market/candles?" + query))


@pytest.mark.parametrize(
    "query",
    [
        "symbol=BTCUSDT&limit=%C2%B2",
        "symbol=BTCUSDT&limit=--5",
        "symbol=BTCUSDT&limit=" + "9" * 5000,
        "symbols=%5B%22BTCUSDT%22%2C%5B%5D%5D",
        "symbols=%7B%7D",
    ],
)
def test_binance_answers_bad_parameters_with_its_codes(query: str) -> None:
    path = "/api/v3/depth" if query.startswith("symbol=") else "/api/v3/ticker/24hr"
    with Emulator("binance", seed=7) as emu:
        assert_binance_params_error(send(emu, "GET", f"{path}?{query}"))


def test_binance_signed_order_with_bad_numbers_is_refused() -> None:
    with Emulator("binance", seed=7) as emu:
        params = {"symbol": "BTCUSDT", "orderId": "²"}
        query = _binance_query(params)
        answer = send(emu, "GET", f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": KEY})
        assert_binance_params_error(answer)


async def test_bybit_websocket_answers_deeply_nested_json_and_stays_open() -> None:
    with Emulator("bybit", seed=7) as emu:
        url = emu.base_url.replace("http", "ws") + "/v5/public/linear"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            for frame in (DEEP_LIST.decode(), DEEP_OBJECT.decode(), '{"op": 1e999}'):
                await ws.send_str(frame)
                reply = json.loads(await ws.receive_str(timeout=10))
                assert reply["success"] is False and reply["ret_msg"].startswith("error:")
            await ws.send_str('{"op": "ping"}')
            reply = json.loads(await ws.receive_str(timeout=10))
            assert reply["success"] is True and reply["ret_msg"] == "pong"


def test_an_unexpected_front_end_failure_is_a_logged_json_500(
    emu: Emulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(request: Any) -> Any:
        raise RuntimeError("a bug in a front-end")

    monkeypatch.setattr(emu.server.front, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="exchanges.emulator"):
        answer = send(emu, "GET", "/v5/market/time")
    assert answer.status == 500
    body = answer.json()
    assert "RuntimeError" in body["error"] and b"Traceback" not in answer.body
    logged = [r for r in caplog.records if r.name.startswith("exchanges.emulator")]
    assert logged and logged[0].exc_info is not None
    assert "GET /v5/market/time" in logged[0].getMessage()


# -- the CLI's token --------------------------------------------------------------------------


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _emulate(*extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BYBIT")}
    env.update(PYTHONPATH=ROOT, COLUMNS="80")
    return subprocess.Popen(
        [sys.executable, "-m", "exchanges.cli", "emulate", "bybit", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _admin_stats(port: int, token: str | None) -> int:
    headers = {} if token is None else {"X-Emulator-Token": token}
    return send(port, "GET", "/_emulator/stats", headers=headers).status


@pytest.mark.parametrize(
    ("mode", "extra"),
    [
        ("generated", ()),
        ("given", ("--admin-token", "my-own-admin-token")),
        ("disabled", ("--no-admin-token",)),
    ],
)
def test_the_cli_prints_its_admin_token_and_requires_it(mode: str, extra: tuple[str, ...]) -> None:
    proc = _emulate(*extra)
    try:
        lines = _lines(proc)
        first = lines.get(timeout=20)
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first
        port = int(match.group(1))
        printed = ""
        if mode != "disabled":
            while "X-Emulator-Token" not in printed or "curl" not in printed:
                printed += lines.get(timeout=10)
            token = re.search(r"X-Emulator-Token: ([A-Za-z0-9_\-]+)", printed)
            assert token, printed
            if mode == "given":
                assert token.group(1) == "my-own-admin-token"
            else:
                assert len(token.group(1)) >= 20
            assert _admin_stats(port, None) in (401, 403)
            assert _admin_stats(port, "not-the-token") in (401, 403)
            assert _admin_stats(port, token.group(1)) == 200
        else:
            assert _admin_stats(port, None) == 200
        proc.terminate()
        assert proc.wait(timeout=15) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_cli_refuses_both_token_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "bybit", "--admin-token", "abc-def", "--no-admin-token"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
