"""The OKX signer on vectors constructed from the example inputs of OKX's docs.

https://www.okx.com/docs-v5/en/#overview-rest-authentication-making-requests gives a secret, a
timestamp and requests but no signature; python-okx and ccxt agree on the values below.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal

import pytest

from adapters.okx.requests import RequestBuilder
from adapters.okx.signer import OkxSigner, iso_timestamp, prehash
from exchanges import Credentials
from exchanges.errors import AuthenticationError

# The docs' example secret and timestamp (2020-12-08T09:08:57.715Z).
SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
CREDS = Credentials("test-api-key", SECRET, passphrase="test-passphrase")
TS = 1607418537715
BASE = "https://www.okx.com"


def sign(request: object) -> dict[str, str]:
    return OkxSigner().sign(request, TS, CREDS).headers  # type: ignore[arg-type]


def test_timestamp_is_iso_milliseconds_utc() -> None:
    assert iso_timestamp(TS) == "2020-12-08T09:08:57.715Z"
    assert iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    # A float division would make this .714 (1607418537.715 is not exact in binary).
    assert iso_timestamp(1_607_418_537_715).endswith(".715Z")
    assert iso_timestamp(1_700_000_000_001) == "2023-11-14T22:13:20.001Z"


def test_o1_get_balance() -> None:
    request = RequestBuilder(BASE).get("/api/v5/account/balance", {"ccy": "BTC"}, signed=True)
    headers = sign(request)
    assert headers["OK-ACCESS-SIGN"] == "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="
    assert headers["OK-ACCESS-KEY"] == "test-api-key"
    assert headers["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:08:57.715Z"
    assert headers["OK-ACCESS-PASSPHRASE"] == "test-passphrase"
    assert prehash("2020-12-08T09:08:57.715Z", "get", request.target, None) == (
        b"2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    )


def test_o2a_post_set_leverage() -> None:
    request = RequestBuilder(BASE).post(
        "/api/v5/account/set-leverage",
        {"instId": "BTC-USDT", "lever": "5", "mgnMode": "isolated"},
        write=False,
    )
    assert request.body == b'{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
    assert sign(request)["OK-ACCESS-SIGN"] == "eCnnCgWLjlQ9XnpUkrcny3qNq3WW/81KNrDr/XR6Xv8="


def test_o4a_place_order_with_decimals() -> None:
    request = RequestBuilder(BASE).place_order(
        {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "px": Decimal("1000"),
            "sz": Decimal("0.01"),
            "clOrdId": "abc123",
        },
        "BTC-USDT",
    )
    assert request.body == (
        b'{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1000",'
        b'"sz":"0.01","clOrdId":"abc123"}'
    )
    assert sign(request)["OK-ACCESS-SIGN"] == "pD3FI/AQf+O4H4Ljm1TfGtGzdXFvBlL8AOleB9V/wKg="


def test_o2b_python_okx_body_signs_as_sent() -> None:
    # python-okx's spaced JSON is just other bytes: the signature follows whatever is sent.
    body = b'{"lever": "5", "mgnMode": "isolated", "instId": "BTC-USDT", "ccy": "", "posSide": ""}'
    message = prehash("2020-12-08T09:08:57.715Z", "POST", "/api/v5/account/set-leverage", body)
    digest = base64.b64encode(hmac.new(SECRET.encode(), message, hashlib.sha256).digest())
    assert digest == b"u4fbA70ljHwJcVqUtq85AOE+1MyGGEyhdrHJ9GxU6tw="


def test_a_post_without_parameters_sends_and_signs_an_empty_object() -> None:
    request = RequestBuilder(BASE).post("/api/v5/account/set-position-mode", {}, write=False)
    prepared = OkxSigner().sign(request, TS, CREDS)
    assert prepared.body == b"{}"
    expected = hmac.new(
        SECRET.encode(),
        b"2020-12-08T09:08:57.715ZPOST/api/v5/account/set-position-mode{}",
        hashlib.sha256,
    ).digest()
    assert prepared.headers["OK-ACCESS-SIGN"] == base64.b64encode(expected).decode()


def test_demo_header_is_kept_and_nothing_secret_is_shown() -> None:
    request = RequestBuilder(BASE, demo=True).get("/api/v5/account/balance", signed=True)
    prepared = OkxSigner().sign(request, TS, CREDS)
    assert prepared.headers["x-simulated-trading"] == "1"
    assert prepared.url == "https://www.okx.com/api/v5/account/balance"
    shown = repr(prepared) + repr(CREDS) + str(CREDS)
    for secret in (SECRET, "test-passphrase", prepared.headers["OK-ACCESS-SIGN"]):
        assert secret not in shown


def test_missing_passphrase_and_non_hmac_keys_are_refused_locally() -> None:
    request = RequestBuilder(BASE).get("/api/v5/account/balance", signed=True)
    with pytest.raises(AuthenticationError) as info:
        OkxSigner("OKX_DEMO").sign(request, TS, Credentials("k", "s"))
    assert "OKX_DEMO_API_PASSPHRASE" in info.value.hint
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(AuthenticationError, match="HMAC"):
        OkxSigner().sign(request, TS, Credentials("k", private_key=pem, passphrase="p"))
