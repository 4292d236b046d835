"""Binance's published vectors through our builder and signer.

Spot: "SIGNED Endpoint Examples for POST /api/v3/order" in
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security; USD-M:
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from adapters.binance.hosts import hosts_for
from adapters.binance.requests import RequestBuilder
from adapters.binance.signer import BinanceSigner
from exchanges import Credentials
from exchanges.wire import Prepared

# The spot documentation's example keys (its LTCBTC and non-ASCII symbol examples).
SPOT = Credentials(
    "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j",
)
# The USD-M documentation's example keys.
FUTURES = Credentials(
    "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83",
    "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9",
)
# RFC 8032 section 7.1 TEST 1 seed as PKCS#8 (119 characters, newline included).
ED25519_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n"
)
SPOT_TS = 1499827319559
BUILD = RequestBuilder(hosts_for("mainnet"))
LTCBTC = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": Decimal("1"),
    "price": Decimal("0.1"),
}


def signed(prepared: Prepared) -> tuple[str, str]:
    wire = (prepared.body or b"").decode() or prepared.url.partition("?")[2]
    payload, _, sig = wire.rpartition("&signature=")
    return payload, sig


def test_b0a_spot_hmac_ascii() -> None:
    prepared = BinanceSigner(5000).sign(BUILD.new_order("spot", LTCBTC), SPOT_TS, SPOT)
    payload, sig = signed(prepared)
    assert payload == (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sig == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert prepared.url == "https://api.binance.com/api/v3/order"
    assert prepared.headers["X-MBX-APIKEY"] == SPOT.api_key


def test_b0b_spot_hmac_non_ascii_is_percent_encoded_before_signing() -> None:
    params = {**LTCBTC, "symbol": "１２３４５６"}
    payload, sig = signed(BinanceSigner(5000).sign(BUILD.new_order("spot", params), SPOT_TS, SPOT))
    assert payload.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert sig == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    # The pre-2026 (unencoded) signature is not what we send.
    assert sig != "ca2cdfbf21d2e2958de492c7f2dd1f059dd2ed4d4459d26a5ec7928db50c8d4f"


def test_b0d_futures_hmac_in_the_signed_order() -> None:
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "quantity": Decimal("1"),
        "price": Decimal("9000"),
        "timeInForce": "GTC",
    }
    prepared = BinanceSigner(5000).sign(BUILD.new_order("usdm", params), 1591702613943, FUTURES)
    payload, sig = signed(prepared)
    assert payload.endswith("&recvWindow=5000&timestamp=1591702613943")
    assert sig == "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
    assert prepared.url == "https://fapi.binance.com/fapi/v1/order"


def test_b4_ed25519_rfc8032_seed() -> None:
    creds = Credentials("ed-key", private_key=ED25519_PEM)
    assert creds.kind == "ed25519"
    _, sig = signed(BinanceSigner(5000).sign(BUILD.new_order("spot", LTCBTC), SPOT_TS, creds))
    # Base64 then percent-encoded: '+' and '=' travel as %2B and %3D.
    assert "%2B" in sig and sig.endswith("%3D%3D")
    assert unquote(sig) == (
        "3fhuDZ9nYMviDQ5OEtJBJS11jUZDTRzRQ+TQMarm+LErFiJvUiVPQjTzDoWZQe4miPX+yHk1v/Z7TWLYjIbmCA=="
    )


def test_rsa_signature_verifies_with_the_public_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    creds = Credentials("rsa-key", private_key=pem)
    assert creds.kind == "rsa"
    request = BUILD.open_orders("spot", "BTCUSDT")
    prepared = BinanceSigner(5000).sign(request, SPOT_TS, creds)
    assert prepared.body is None and prepared.url.startswith("https://api.binance.com/api/v3/")
    payload, sig = signed(prepared)
    assert payload == "symbol=BTCUSDT&recvWindow=5000&timestamp=1499827319559"
    raw = base64.b64decode(unquote(sig))
    assert len(raw) == 256
    key.public_key().verify(raw, payload.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_key_type_comes_from_the_pem_not_its_length() -> None:
    # A 1024-bit RSA PEM is far longer than 120 characters, an Ed25519 one shorter; what
    # matters is the key inside, which Credentials reads.
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    assert Credentials("k", pem).kind == "rsa"
    assert Credentials("k", ED25519_PEM).kind == "ed25519"


def test_get_without_params_and_the_receive_window_bound() -> None:
    prepared = BinanceSigner(60_000).sign(BUILD.spot_account(), SPOT_TS, SPOT)
    assert prepared.url.startswith(
        "https://api.binance.com/api/v3/account?omitZeroBalances=true&recvWindow=60000&timestamp="
    )
    with pytest.raises(ValueError, match="60000"):
        BinanceSigner(60_001)
    with pytest.raises(ValueError):
        BinanceSigner(0)
