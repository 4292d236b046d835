"""Binance request signing (pure: no I/O, no clock), spot and USD-M alike.

The signed payload is "the query string concatenated without separator to the HTTP body", and
since 2026-01-15 it must be percent-encoded before signing, or Binance answers ``-1022``
("SIGNED Endpoint security" in
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security; the
2025-12-17 entry of https://developers.binance.com/docs/binance-spot-api-docs/CHANGELOG; USD-M:
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info). The request
builder percent-encodes every parameter once; this signer appends ``recvWindow``, ``timestamp``
and then ``signature`` (last, as the futures docs require) to that exact query (GET/DELETE) or
form body (POST/PUT), and nothing re-encodes the result afterwards.

* HMAC keys: HMAC-SHA256 of the payload, lowercase hex.
* RSA keys: RSASSA-PKCS1-v1_5 / SHA-256, base64, then percent-encoded.
* Ed25519 keys: Ed25519 over the payload bytes, base64, then percent-encoded.

The key type comes from the credentials (``Credentials.kind``, read from the PEM itself), not
from the PEM's length as ccxt and python-binance guess it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchanges.signing import KeyCache, KeyMaterial, hmac_sha256_hex, sign_b64
from exchanges.wire import Prepared, Request, encode_value

if TYPE_CHECKING:
    from exchanges.credentials import Credentials

__all__ = ["MAX_RECV_WINDOW_MS", "BinanceSigner", "signature"]

#: "Maximum recvWindow is 60000 milliseconds" (spot "Timing security"; USD-M states none).
MAX_RECV_WINDOW_MS = 60_000

_FORM = "application/x-www-form-urlencoded"
_QUERY_METHODS = frozenset({"GET", "DELETE"})


def signature(material: KeyMaterial, payload: bytes) -> str:
    """The ``signature`` value before percent-encoding: hex HMAC, or base64 RSA/Ed25519."""
    if material.kind == "hmac":
        return hmac_sha256_hex(material.hmac_key, payload)
    return sign_b64(material, payload)


def _append(encoded: str, tail: str) -> str:
    return f"{encoded}&{tail}" if encoded else tail


class BinanceSigner:
    """Appends ``recvWindow``, ``timestamp`` and ``signature`` and sets ``X-MBX-APIKEY``."""

    __slots__ = ("_keys", "recv_window_ms")

    def __init__(self, recv_window_ms: int = 5000) -> None:
        if not 0 < recv_window_ms <= MAX_RECV_WINDOW_MS:
            raise ValueError(f"recv_window_ms must be in (0, {MAX_RECV_WINDOW_MS}] for Binance")
        self.recv_window_ms = recv_window_ms
        self._keys = KeyCache()

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Return the prepared request; its query or body ends with ``&signature=...``."""
        material = self._keys.get(credentials)
        # recvWindow then timestamp, as in the HMAC example payloads of Binance's spot and USD-M
        # docs ("SIGNED Endpoint Examples for POST /api/v3/order", USD-M "General Info").
        stamp = f"recvWindow={self.recv_window_ms}&timestamp={timestamp_ms}"
        headers = dict(request.headers) if request.headers else {}
        headers["X-MBX-APIKEY"] = credentials.api_key
        if request.method in _QUERY_METHODS:
            query = _append(request.query, stamp)
            body = request.body
            payload = query.encode() + (body or b"")
            query = f"{query}&signature={encode_value(signature(material, payload))}"
        else:
            query = request.query
            form = _append((request.body or b"").decode(), stamp)
            payload = query.encode() + form.encode()
            body = f"{form}&signature={encode_value(signature(material, payload))}".encode()
            headers["Content-Type"] = _FORM
        url = (
            f"{request.base_url}{request.path}?{query}"
            if query
            else request.base_url + request.path
        )
        return Prepared(request.method, url, headers, body, request)
