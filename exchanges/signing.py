"""Signature primitives shared by the adapters' signers: HMAC-SHA256, RSA-SHA256, Ed25519.

Adapters decide *what* is signed (their prehash string); these functions only sign bytes.
Private keys are parsed once per credentials object and cached.
"""

from __future__ import annotations

import base64
import hashlib
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


# RFC 2104 with SHA-256: the key, hashed first if longer than the 64-byte block, then padded
# with zeros, is XORed with 0x36 (inner) and 0x5C (outer). As in the stdlib's hmac module.
_BLOCK = 64
_INNER = bytes(x ^ 0x36 for x in range(256))
_OUTER = bytes(x ^ 0x5C for x in range(256))


class KeyMaterial:
    """The signing key of one ``Credentials``, decoded once: HMAC bytes or a parsed private key."""

    __slots__ = ("_inner", "_outer", "credentials", "hmac_key", "kind", "private_key")

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self.kind = credentials.kind
        self.hmac_key = b""
        self.private_key: Any = None
        self._inner: Any = None
        self._outer: Any = None
        if self.kind == "hmac":
            assert credentials.secret is not None
            self.hmac_key = credentials.secret.reveal().encode()
            # SHA-256 states with the padded key already hashed in: each signature copies them
            # instead of hashing the key again (less than half of OpenSSL's one-shot HMAC).
            key = self.hmac_key
            if len(key) > _BLOCK:
                key = hashlib.sha256(key).digest()
            key = key.ljust(_BLOCK, b"\0")
            self._inner = hashlib.sha256(key.translate(_INNER))
            self._outer = hashlib.sha256(key.translate(_OUTER))
        else:
            self.private_key = credentials.signing_key()

    def hmac_sha256(self, message: bytes) -> bytes:
        """HMAC-SHA256 of ``message`` with this HMAC key (what ``hmac.digest`` gives)."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest

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
