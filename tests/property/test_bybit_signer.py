"""Our Bybit v5 signer against ccxt's and pybit's on generated payloads (ISSUE: foundation).

Each case builds the request with our builder, signs it with our signer, then has ccxt's
``bybit.sign()`` and pybit's ``generate_signature`` sign the same payload string; all three
must agree, and what we send must be what we signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pybit._http_manager import generate_signature
from urllib3.util.url import _encode_target

from adapters.bybit.requests import RequestBuilder, json_body
from adapters.bybit.signer import BybitSigner
from exchanges import Credentials
from exchanges.decimals import to_wire
from tests.strategies import DECIMALS, PARAMS, TEXT

KEY = "test-key"
SECRET = "test-secret"
RECV = 5000
SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = "https://api-testnet.bybit.com"

TIMESTAMPS = st.integers(min_value=1_500_000_000_000, max_value=4_000_000_000_000)


def ccxt_bybit(secret: str, ts: int) -> Any:
    ex = ccxt.bybit({"apiKey": KEY, "secret": secret})
    ex.options["recvWindow"] = RECV
    ex.nonce = lambda: ts
    return ex


def sign_ours(method: str, params: dict[str, str], creds: Credentials, ts: int) -> tuple[str, Any]:
    builder = RequestBuilder(BASE)
    if method == "GET":
        request = builder.get("/v5/order/realtime", params, signed=True)
    else:
        request = builder.post("/v5/order/create", params, category="linear", write=True)
    prepared = BybitSigner(RECV).sign(request, ts, creds)
    return prepared.headers["X-BAPI-SIGN"], prepared


@SETTINGS
@given(PARAMS, TIMESTAMPS)
def test_get_hmac_equals_ccxt_and_pybit(params: dict[str, str], ts: int) -> None:
    ours, prepared = sign_ours("GET", params, Credentials(KEY, SECRET), ts)
    query = prepared.request.query
    # Bytes sent == bytes signed: the URL carries exactly the signed query, and urllib3 leaves
    # the request target as it is.
    assert prepared.url == f"{BASE}/v5/order/realtime" + (f"?{query}" if query else "")
    target = prepared.request.target
    assert _encode_target(target) == target
    payload = f"{ts}{KEY}{RECV}{query}"
    assert ours == hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    assert ours == generate_signature(False, SECRET, payload)
    # ccxt signs its rawencode(params): hand it our encoded pairs, which rawencode keeps as is.
    pairs = dict(pair.split("=", 1) for pair in query.split("&")) if query else {}
    signed = ccxt_bybit(SECRET, ts).sign("v5/order/realtime", ["private"], "GET", pairs)
    assert signed["url"].endswith(f"/v5/order/realtime?{query}") or not query
    assert signed["headers"]["X-BAPI-SIGN"] == ours


POST_VALUES = st.one_of(TEXT, DECIMALS.map(to_wire), st.just(""), st.booleans())
POST_BODIES = st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True), POST_VALUES, max_size=8
)


@SETTINGS
@given(POST_BODIES, TIMESTAMPS)
def test_post_hmac_equals_ccxt_and_pybit(body: dict[str, Any], ts: int) -> None:
    ours, prepared = sign_ours("POST", body, Credentials(KEY, SECRET), ts)
    sent = prepared.body
    assert sent == json_body(body)
    payload = f"{ts}{KEY}{RECV}{sent.decode()}"
    assert ours == generate_signature(False, SECRET, payload)
    signed = ccxt_bybit(SECRET, ts).sign("v5/order/create", ["private"], "POST", dict(body))
    # ccxt serialises compactly in insertion order too: same body, same signature.
    assert signed["body"].encode() == sent
    assert signed["headers"]["X-BAPI-SIGN"] == ours


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"category": st.sampled_from(["spot", "linear", "inverse"]), "symbol": TEXT},
        optional={"qty": DECIMALS, "price": DECIMALS},
    ),
    TIMESTAMPS,
)
def test_decimals_reach_the_wire_as_plain_strings(body: dict[str, Any], ts: int) -> None:
    _, prepared = sign_ours("POST", body, Credentials(KEY, SECRET), ts)
    sent = prepared.body.decode()
    for name in ("qty", "price"):
        if name in body:
            assert f'"{name}":"{to_wire(body[name])}"' in sent
            assert Decimal(to_wire(body[name])) == body[name]
    assert ("e+" not in sent.lower() and "e-" not in sent.lower()) or "symbol" in sent


def rsa_pem(bits: int) -> tuple[rsa.RSAPrivateKey, str, Credentials]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key, pem, Credentials(KEY, private_key=pem)


# pybit and ccxt parse (and validate) the PEM on every call: ~60 ms each with a 2048-bit key.
# The property does not depend on the key size, so the 500 examples use a 1024-bit key and a
# 2048-bit key (what Bybit's key generator makes) gets a smaller run.
RSA_1024 = rsa_pem(1024)
RSA_2048 = rsa_pem(2048)


@SETTINGS
@given(data=st.data())
def test_rsa_verifies_and_equals_pybit_and_ccxt(data: Any) -> None:
    check_rsa(RSA_1024, data)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_rsa_2048(data: Any) -> None:
    check_rsa(RSA_2048, data)


def check_rsa(material: tuple[rsa.RSAPrivateKey, str, Credentials], data: Any) -> None:
    rsa_key, pem, creds = material
    method = data.draw(st.sampled_from(["GET", "POST"]))
    params = data.draw(PARAMS if method == "GET" else POST_BODIES)
    ts = data.draw(TIMESTAMPS)
    ours, prepared = sign_ours(method, params, creds, ts)
    wire = prepared.request.query if method == "GET" else prepared.body.decode()
    payload = f"{ts}{KEY}{RECV}{wire}"
    rsa_key.public_key().verify(
        base64.b64decode(ours), payload.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    assert ours == generate_signature(True, pem, payload)
    assert ours == ccxt_bybit(pem, ts).rsa(payload, pem, "sha256")


def test_reference_vectors() -> None:
    # Computed with hmac over the string of Bybit's "Authentication"
    # (https://bybit-exchange.github.io/docs/v5/guide); ccxt's sign() gives the same values.
    creds = Credentials("KEY", "SECRET")
    signer = BybitSigner(5000)
    builder = RequestBuilder(BASE)
    get = builder.get(
        "/v5/order/realtime",
        {"symbol": "BTCUSDT", "category": "linear", "openOnly": "0"},
        signed=True,
    )
    assert (
        signer.sign(get, 1700000000000, creds).headers["X-BAPI-SIGN"]
        == "2ec57ec4251d025b411bfefb8abcb760bbf9f738f68d2d9940b44033f6749040"
    )
    post = builder.post(
        "/v5/order/create",
        {
            "symbol": "BTCUSDT",
            "category": "linear",
            "side": "Buy",
            "orderType": "Limit",
            "qty": Decimal("0.001"),
            "price": Decimal("30000"),
            "reduceOnly": False,
        },
        category="linear",
        write=True,
    )
    assert (
        signer.sign(post, 1700000000000, creds).headers["X-BAPI-SIGN"]
        == "e0dc7d28bf26de89c1a0c94cc1282ed60457c95e3786e4b0403b3ad6216a5636"
    )
    # What ccxt's bybit sign() gives offline for these requests (https://github.com/ccxt/ccxt).
    post2 = builder.post(
        "/v5/order/create",
        {"category": "linear", "symbol": "BTCUSDT", "qty": "0.001"},
        category="linear",
        write=True,
    )
    assert (
        signer.sign(post2, 1700000000000, creds).headers["X-BAPI-SIGN"]
        == "11ee2fb3656e4eec729ed3cff62e5c25c81d052df48e5a8f9c4ce7d39eb74e4f"
    )
    get2 = builder.get(
        "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"}, signed=True
    )
    assert (
        signer.sign(get2, 1700000000000, creds).headers["X-BAPI-SIGN"]
        == "462aacd55595e67588c76ad8c4b0ff70718d002b0a5d4854865513807b28eb39"
    )


def test_floats_are_refused_before_signing() -> None:
    with pytest.raises(TypeError, match="float"):
        RequestBuilder(BASE).post("/v5/order/create", {"qty": 0.1}, category="spot", write=True)
