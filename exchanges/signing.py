"""Signature primitives shared by the adapters' signers: HMAC-SHA256, RSA-SHA256, Ed25519.

Adapters decide *what* is signed (their prehash string); these functions only sign bytes.
Private keys are parsed once per credentials object and cached.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exchanges.credentials import Credentials

__all__ = ["KeyMaterial", "hmac_sha256_b64", "hmac_sha256_hex", "sign_b64"]


def _one_shot() -> Callable[[bytes, bytes, str], bytes]:
    # hmac.digest is OpenSSL's one-shot path (no HMAC object per signature) behind a Python
    # wrapper that checks its arguments on every call; the C function it calls skips that.
    # SHA-256 is always in OpenSSL, so the wrapper's fallback for other digests is not needed.
    try:
        from _hashlib import hmac_digest
    except ImportError:  # an interpreter built without OpenSSL's hashlib
        return hmac.digest
    digest: Callable[[bytes, bytes, str], bytes] = hmac_digest
    return digest


_hmac_digest = _one_shot()


def hmac_sha256_hex(key: bytes, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256."""
    return _hmac_digest(key, message, "sha256").hex()


def hmac_sha256_b64(key: bytes, message: bytes) -> str:
    """Base64 HMAC-SHA256."""
    return base64.b64encode(_hmac_digest(key, message, "sha256")).decode()


class KeyMaterial:
    """The signing key of one ``Credentials``, decoded once: HMAC bytes or a parsed private key."""

    __slots__ = ("credentials", "hmac_key", "kind", "private_key")

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.kind = credentials.kind
        self.hmac_key = b""
        self.private_key: Any = None
        if self.kind == "hmac":
            assert credentials.secret is not None
            self.hmac_key = credentials.secret.reveal().encode()
        else:
            self.private_key = credentials.signing_key()

    def __repr__(self) -> str:
        return f"<KeyMaterial {self.kind} for {self.credentials.masked_key}>"


def sign_b64(material: KeyMaterial, message: bytes) -> str:
    """Base64 signature with the asymmetric key: RSASSA-PKCS1-v1_5/SHA-256, or Ed25519."""
    if material.kind == "rsa":
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw = material.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    elif material.kind == "ed25519":
        raw = material.private_key.sign(message)
    else:
        raise ValueError("sign_b64 needs an RSA or Ed25519 key")
    return base64.b64encode(raw).decode()


class KeyCache:
    """Parsed key material per credentials object, kept for the life of a client."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, KeyMaterial] = {}

    def get(self, credentials: Credentials) -> KeyMaterial:
        """The material of ``credentials``, parsed on first use."""
        material = self._entries.get(id(credentials))
        if material is None or material.credentials is not credentials:
            material = KeyMaterial(credentials)
            self._entries[id(credentials)] = material
        return material
