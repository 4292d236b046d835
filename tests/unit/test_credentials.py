from __future__ import annotations

import copy
import logging
import pickle
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from exchanges import Credentials
from exchanges.credentials import Secret, mask_key

SECRET = "test-secret-0123456789abcdef"
PASSPHRASE = "test-passphrase-xyz"


def pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def test_secret_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret(SECRET)
    creds = Credentials("test-key-abcdefgh", SECRET, passphrase=PASSPHRASE)
    logging.getLogger("exchanges.test").warning("creds %s %r %s", creds, creds, secret)
    rendered = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        format(secret, ">40"),
        repr(creds),
        str(creds),
        f"{creds}",
        str([creds]),
        str({"c": creds}),
        caplog.text,
    ]
    for text in rendered:
        assert SECRET not in text
        assert PASSPHRASE not in text
    assert secret.reveal() == SECRET
    assert creds.passphrase is not None and creds.passphrase.reveal() == PASSPHRASE


def test_pickle_is_refused_and_copies_share_the_secret() -> None:
    creds = Credentials("test-key", SECRET)
    with pytest.raises(TypeError):
        pickle.dumps(creds)
    with pytest.raises(TypeError):
        pickle.dumps(Secret(SECRET))
    assert copy.deepcopy(Secret(SECRET)).reveal() == SECRET


def test_key_is_masked_first_and_last_four() -> None:
    assert mask_key("abcdefghijklmnop") == "abcd…mnop"
    assert mask_key("short") == "*****"
    creds = Credentials("abcdefghijklmnop", SECRET)
    assert creds.masked_key == "abcd…mnop"
    assert "abcdefghijklmnop" not in repr(creds)


def test_kind_from_the_pem(rsa_pem: str) -> None:
    assert Credentials("k", SECRET).kind == "hmac"
    assert Credentials("k", private_key=rsa_pem).kind == "rsa"
    ed = pem(ed25519.Ed25519PrivateKey.generate())
    assert Credentials("k", private_key=ed).kind == "ed25519"
    # A PEM passed as the secret (as pybit and ccxt accept it) is a private key.
    moved = Credentials("k", rsa_pem)
    assert moved.kind == "rsa" and moved.secret is None and moved.private_key is not None


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="api_key is empty"):
        Credentials(" ", SECRET)
    with pytest.raises(ValueError, match="secret"):
        Credentials("k")
    with pytest.raises(ValueError, match="PEM"):
        Credentials("k", private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----")
    with pytest.raises(TypeError):
        Credentials(123)  # type: ignore[arg-type]


def test_from_env(tmp_path: Path, rsa_pem: str) -> None:
    env = {"BYBIT_TESTNET_API_KEY": "test-key", "BYBIT_TESTNET_API_SECRET": SECRET}
    creds = Credentials.from_env("BYBIT_TESTNET", env)
    assert creds is not None and creds.api_key == "test-key" and creds.kind == "hmac"
    assert Credentials.from_env("BYBIT", env) is None
    key_file = tmp_path / "key.pem"
    key_file.write_text(rsa_pem)
    creds = Credentials.from_env(
        "OKX", {"OKX_API_KEY": "k", "OKX_API_PRIVATE_KEY": str(key_file), "OKX_API_PASSPHRASE": "p"}
    )
    assert creds is not None and creds.kind == "rsa" and creds.passphrase is not None
    with pytest.raises(ValueError, match="neither"):
        Credentials.from_env("X", {"X_API_KEY": "k"})
    with pytest.raises(ValueError, match="PEM"):
        Credentials.from_env("X", {"X_API_KEY": "k", "X_API_PRIVATE_KEY": "/no/such/file"})
