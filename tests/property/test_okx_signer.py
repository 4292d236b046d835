"""Our OKX v5 signer against ccxt's ``okx.sign()`` on generated payloads (issue 7).

Each case builds the request with our builder and signs it with our signer, then has ccxt
(clock pinned) sign the same parameters; both must produce the same URL or body, timestamp and
signature, and what we send must be exactly what we signed. python-okx's ``utils.sign`` is a
third opinion on the same prehash string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from decimal import Decimal
from typing import Any

import ccxt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from okx import utils as okx_utils

from adapters.okx.requests import RequestBuilder, body_bytes
from adapters.okx.signer import OkxSigner, iso_timestamp
from exchanges import Credentials
from exchanges.decimals import to_wire
from exchanges.wire import Prepared
from tests.strategies import DECIMALS, PARAMS, TEXT

KEY, SECRET, PASSPHRASE = "test-api-key", "22582BD0CFF14C41EDBF1AB98506286D", "test-passphrase"
CREDS = Credentials(KEY, SECRET, passphrase=PASSPHRASE)
BASE = "https://www.okx.com"
SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# ccxt's iso8601 covers 0 .. 8.64e15; OKX only needs today's, so up to 2100.
TIMESTAMPS = st.integers(min_value=0, max_value=4_102_444_800_000)
# Only unreserved characters and percent escapes: no HTTP client re-encodes such a target.
_PLAIN_TARGET = re.compile(r"^[A-Za-z0-9._~%/?&=-]*$")

SIGNER = OkxSigner()
_CCXT = ccxt.okx({"apiKey": KEY, "secret": SECRET, "password": PASSPHRASE})
_CCXT.options["timeDifference"] = 0


def ccxt_sign(ts: int, path: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    _CCXT.milliseconds = lambda: ts
    signed: dict[str, Any] = _CCXT.sign(path, ["private"], method, params)
    return signed


def reference(prehash: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), prehash, hashlib.sha256).digest()).decode()


def check_sent_is_signed(prepared: Prepared, ts: int) -> bytes:
    request = prepared.request
    assert prepared.url == BASE + request.target
    assert prepared.body is request.body
    assert _PLAIN_TARGET.match(request.target)
    stamp = prepared.headers["OK-ACCESS-TIMESTAMP"]
    prehash = f"{stamp}{request.method}{request.target}".encode() + (prepared.body or b"")
    assert prepared.headers["OK-ACCESS-SIGN"] == reference(prehash)
    assert okx_utils.sign(prehash.decode(), SECRET).decode() == prepared.headers["OK-ACCESS-SIGN"]
    assert prepared.headers["OK-ACCESS-KEY"] == KEY
    assert prepared.headers["OK-ACCESS-PASSPHRASE"] == PASSPHRASE
    return prehash


@SETTINGS
@given(PARAMS, TIMESTAMPS)
def test_get_equals_ccxt(params: dict[str, str], ts: int) -> None:
    request = RequestBuilder(BASE).get("/api/v5/account/balance", params, signed=True)
    prepared = SIGNER.sign(request, ts, CREDS)
    check_sent_is_signed(prepared, ts)
    signed = ccxt_sign(ts, "account/balance", "GET", dict(params))
    # Same query bytes (both keep RFC 3986 unreserved characters only), so same prehash.
    assert signed["url"] == prepared.url
    assert signed["headers"]["OK-ACCESS-TIMESTAMP"] == prepared.headers["OK-ACCESS-TIMESTAMP"]
    assert signed["headers"]["OK-ACCESS-SIGN"] == prepared.headers["OK-ACCESS-SIGN"]


POST_VALUES = st.one_of(TEXT, DECIMALS.map(to_wire), st.just(""), st.booleans())
POST_BODIES = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True), POST_VALUES, max_size=8
)


@SETTINGS
@given(POST_BODIES, TIMESTAMPS)
def test_post_equals_ccxt(body: dict[str, Any], ts: int) -> None:
    request = RequestBuilder(BASE).post("/api/v5/account/set-leverage", body, write=False)
    prepared = SIGNER.sign(request, ts, CREDS)
    check_sent_is_signed(prepared, ts)
    assert prepared.body == body_bytes(body)
    signed = ccxt_sign(ts, "account/set-leverage", "POST", dict(body))
    assert signed["headers"]["OK-ACCESS-TIMESTAMP"] == prepared.headers["OK-ACCESS-TIMESTAMP"]
    if not body:
        # ccxt sends and signs no body; we send and sign "{}" (OKX's 50000
        # refuses an empty POST body), so only the bodies differ.
        assert signed["body"] is None and prepared.body == b"{}"
        stamp = prepared.headers["OK-ACCESS-TIMESTAMP"]
        assert signed["headers"]["OK-ACCESS-SIGN"] == reference(
            f"{stamp}POST/api/v5/account/set-leverage".encode()
        )
        return
    # ccxt's compact JSON in insertion order: the same bytes, so the same signature.
    assert signed["body"].encode() == prepared.body
    assert signed["headers"]["OK-ACCESS-SIGN"] == prepared.headers["OK-ACCESS-SIGN"]


@SETTINGS
@given(TIMESTAMPS)
def test_timestamp_equals_ccxt_iso8601(ts: int) -> None:
    assert iso_timestamp(ts) == _CCXT.iso8601(ts)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"instId": TEXT, "tdMode": st.sampled_from(["cash", "cross"])},
        optional={"sz": DECIMALS, "px": DECIMALS, "newSz": DECIMALS},
    ),
    TIMESTAMPS,
)
def test_decimals_reach_the_wire_as_plain_strings(body: dict[str, Any], ts: int) -> None:
    request = RequestBuilder(BASE).post("/api/v5/trade/order", body, write=True)
    prepared = SIGNER.sign(request, ts, CREDS)
    check_sent_is_signed(prepared, ts)
    sent = (prepared.body or b"").decode()
    for name in ("sz", "px", "newSz"):
        if name in body:
            text = to_wire(body[name])
            assert f'"{name}":"{text}"' in sent
            assert Decimal(text) == body[name] and "e" not in text.lower()
