"""The pipeline's fast paths give exactly what the plain paths give.

* ``parsing.loads_json`` decodes with orjson when it is installed: same values (and types) as
  ``json.loads``, and for anything orjson refuses or reads differently (NaN, 1e999, lone
  surrogates, a BOM, integers beyond 64 bits) the stdlib's own value or error.
* ``BybitSigner`` keeps the stamp-free parts of the last request it signed: the signature is
  still ``sign_string`` over the exact payload, and a different request, key or receive window
  is never signed with another's parts.
* ``ServerClock.fresh_timestamp_ms`` answers ``needs_sync`` and ``timestamp_ms`` at once.
* ``RateLimiter.update`` skips the lock when a report changes nothing, and only then.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bybit.signer import BybitSigner, sign_string
from exchanges import parsing
from exchanges.clock import ClockSample, ServerClock
from exchanges.credentials import Credentials
from exchanges.ratelimit import Limit, RateLimiter
from exchanges.signing import hmac_sha256_b64, hmac_sha256_hex
from exchanges.wire import Request

orjson = pytest.importorskip("orjson")


def stdlib(body: bytes) -> Any:
    return json.loads(body.decode(json.detect_encoding(body), "surrogatepass"))


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types all the way down (1 is not 1.0, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)
    return bool(a == b)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_loads_json_reads_what_the_stdlib_reads(value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False).encode()
    assert same(parsing.loads_json(body), stdlib(body))


@pytest.mark.parametrize(
    "body",
    [
        b"18446744073709551615",
        b"18446744073709551616",
        b"123456789012345678901234567890",
        b'{"id":-9223372036854775809}',
        b'{"id":-9223372036854775808}',
        b"[1e999, -1e999, 1e-400, -0.0, -0]",
        b'{"a":1,"b":2,"a":3}',
        b'"\\ud800"',
        b"\xef\xbb\xbf{}",
        b'{"a":"\xed\xa0\x80"}',
        b'{"t":"1764000000123456789","n":12345678901234567890123}',
    ],
)
def test_loads_json_leaves_what_orjson_reads_differently_to_the_stdlib(body: bytes) -> None:
    assert same(parsing.loads_json(body), stdlib(body))


@pytest.mark.parametrize("body", [b"NaN", b"[Infinity]", b"{", b"", b"[1,]", b"[" * 5000])
def test_loads_json_refuses_what_it_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        parsing.loads_json(body)


def test_the_envelope_shortcut_is_utf8_as_detect_encoding_says() -> None:
    for body in (b"{", b"{}", b'{"a":"\xc3\xa9"}', b"{\x00\x00\x00", b"{\x00"):
        try:
            expected: Any = stdlib(body)
        except ValueError:
            expected = ValueError
        try:
            got: Any = parsing.loads_json(body)
        except ValueError:
            got = ValueError
        assert same(got, expected)


KEY = Credentials("key-one", "secret-one")
OTHER = Credentials("key-two", "secret-two")


def expected_sign(request: Request, stamp: int, credentials: Credentials, recv: int) -> str:
    payload = request.query.encode() if request.method == "GET" else request.body or b""
    assert credentials.secret is not None
    secret = credentials.secret.reveal().encode()
    message = sign_string(stamp, credentials.api_key, recv, payload)
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def test_signer_reuses_parts_only_for_the_same_request_key_and_window() -> None:
    signer = BybitSigner(5000)
    get = Request("GET", "https://h", "/v5/a", query="x=1&y=2", signed=True)
    post = Request(
        "POST",
        "https://h",
        "/v5/b",
        body=b'{"x":"1"}',
        headers={"Content-Type": "application/json"},
        signed=True,
    )
    for request, credentials, stamp, recv in [
        (get, KEY, 1, 5000),
        (get, KEY, 2, 5000),
        (get, OTHER, 3, 5000),
        (post, OTHER, 4, 5000),
        (post, OTHER, 5, 7000),
        (get, KEY, 6, 7000),
    ]:
        signer.recv_window_ms = recv
        prepared = signer.sign(request, stamp, credentials)
        assert prepared.headers == {
            **(request.headers or {}),
            "X-BAPI-API-KEY": credentials.api_key,
            "X-BAPI-TIMESTAMP": str(stamp),
            "X-BAPI-RECV-WINDOW": str(recv),
            "X-BAPI-SIGN": expected_sign(request, stamp, credentials, recv),
            "X-BAPI-SIGN-TYPE": "2",
        }
        assert list(prepared.headers) == [
            *(request.headers or {}),
            "X-BAPI-API-KEY",
            "X-BAPI-TIMESTAMP",
            "X-BAPI-RECV-WINDOW",
            "X-BAPI-SIGN",
            "X-BAPI-SIGN-TYPE",
        ]
        assert prepared.url == request.base_url + request.target
        assert prepared.body is request.body


def test_signed_headers_are_a_new_dict_each_time() -> None:
    signer = BybitSigner()
    request = Request("GET", "https://h", "/v5/a", query="x=1", signed=True)
    first = signer.sign(request, 1, KEY)
    second = signer.sign(request, 2, KEY)
    assert first.headers is not second.headers
    assert first.headers["X-BAPI-TIMESTAMP"] == "1"


def test_hmac_helpers_match_the_stdlib() -> None:
    assert hmac_sha256_hex(b"k", b"m") == hmac.new(b"k", b"m", hashlib.sha256).hexdigest()
    digest = hmac.new(b"k", b"m", hashlib.sha256).digest()
    import base64

    assert hmac_sha256_b64(b"k", b"m") == base64.b64encode(digest).decode()


def test_fresh_timestamp_is_needs_sync_and_timestamp_at_once() -> None:
    now = [1_000_000]
    clock = ServerClock(now_ms=lambda: now[0], resync_after_ms=1000)
    assert clock.needs_sync() and clock.fresh_timestamp_ms() is None
    clock.add_sample(ClockSample(now[0] - 10, now[0], now[0] + 3000))
    assert not clock.needs_sync()
    assert clock.fresh_timestamp_ms() == clock.timestamp_ms()
    now[0] += 1001
    assert clock.needs_sync() and clock.fresh_timestamp_ms() is None


def test_limiter_update_still_applies_what_changes_something() -> None:
    now = [0.0]
    limiter = RateLimiter({"k": Limit(10, 1.0)}, monotonic=lambda: now[0])
    limiter.reserve(("k",))
    limiter.update("k", limit=10, remaining=5)  # nothing changes
    assert limiter.blocked_for("k") == 0.0
    limiter.update("k", limit=20, remaining=5)
    assert limiter._windows["k"] is not None and limiter._windows["k"].limit == 20
    limiter.update("k", limit=20, remaining=0, reset_in=0.5)
    assert limiter.blocked_for("k") == pytest.approx(0.5)
    limiter.update("new", limit=3, remaining=3)
    assert limiter._windows["new"] is not None and limiter._windows["new"].limit == 3


@pytest.mark.parametrize("length", [1, 20, 63, 64, 65, 128, 300])
def test_precomputed_hmac_is_rfc_2104(length: int) -> None:
    from exchanges.signing import KeyMaterial

    secret = ("s3cr" * 100)[:length]
    material = KeyMaterial(Credentials("key", secret))
    for message in (b"", b"m", b"x" * 64, b"y" * 1000):
        expected = hmac.new(secret.encode(), message, hashlib.sha256).digest()
        assert material.hmac_sha256(message) == expected
