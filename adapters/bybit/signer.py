"""Bybit v5 request signing (pure: no I/O, no clock).

Bybit signs ``timestamp + api_key + recv_window + payload`` where the payload is the exact query
string sent (GET) or the exact body bytes sent (POST): HMAC-SHA256 as lowercase hex, or
RSASSA-PKCS1-v1_5/SHA-256 as base64 for RSA keys. Source: Bybit v5 docs,
https://bybit-exchange.github.io/docs/v5/guide "Authentication".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchanges.signing import KeyCache, KeyMaterial, sign_b64
from exchanges.wire import Prepared, Request

if TYPE_CHECKING:
    from exchanges.credentials import Credentials

__all__ = ["BybitSigner", "sign_string", "signature"]


def sign_string(timestamp_ms: int, api_key: str, recv_window_ms: int, payload: bytes) -> bytes:
    """The bytes Bybit signs: timestamp, key, receive window, then the payload as sent."""
    return b"%d%s%d%s" % (timestamp_ms, api_key.encode(), recv_window_ms, payload)


def signature(material: KeyMaterial, message: bytes) -> str:
    """Lowercase-hex HMAC for secrets, base64 RSA for PEM keys."""
    if material.kind == "hmac":
        return material.hmac_sha256(message).hex()
    if material.kind == "rsa":
        return sign_b64(material, message)
    raise ValueError("Bybit accepts HMAC secrets and RSA keys, not Ed25519")


class BybitSigner:
    """Adds Bybit's auth headers over the request's exact query string or body bytes."""

    __slots__ = ("_keys", "_last", "recv_window_ms")

    def __init__(self, recv_window_ms: int = 5000) -> None:
        self.recv_window_ms = recv_window_ms
        self._keys = KeyCache()
        # What signing the last request needed besides its stamp: a client that repeats one
        # request (a balance, a status poll) builds it once. One entry: nothing accumulates.
        self._last: _Parts | None = None

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Return the prepared request carrying ``X-BAPI-*`` headers."""
        parts = self._last
        if (
            parts is None
            or parts.request is not request
            or parts.credentials is not credentials
            or parts.recv_window_ms != self.recv_window_ms
        ):
            parts = self._last = _Parts(request, credentials, self.recv_window_ms, self._keys)
        stamp = str(timestamp_ms)
        headers = parts.headers.copy()
        headers["X-BAPI-TIMESTAMP"] = stamp
        # sign_string's bytes, with the part after the stamp made once.
        headers["X-BAPI-SIGN"] = signature(parts.material, stamp.encode() + parts.after_stamp)
        return Prepared(request.method, parts.url, headers, request.body, request)


class _Parts:
    """The parts of a signed request that do not depend on its stamp."""

    __slots__ = (
        "after_stamp",
        "credentials",
        "headers",
        "material",
        "recv_window_ms",
        "request",
        "url",
    )

    def __init__(
        self, request: Request, credentials: Credentials, recv_window_ms: int, keys: KeyCache
    ) -> None:
        self.request = request
        self.credentials = credentials
        self.recv_window_ms = recv_window_ms
        self.material = keys.get(credentials)
        payload = request.query.encode() if request.method == "GET" else request.body or b""
        # sign_string without its leading stamp.
        self.after_stamp = b"%s%d%s" % (credentials.api_key.encode(), recv_window_ms, payload)
        headers = dict(request.headers) if request.headers else {}
        headers["X-BAPI-API-KEY"] = credentials.api_key
        headers["X-BAPI-TIMESTAMP"] = ""  # placeholders keep the headers' order
        headers["X-BAPI-RECV-WINDOW"] = str(recv_window_ms)
        headers["X-BAPI-SIGN"] = ""
        # Bybit's own samples send sign type 2 for both HMAC and RSA.
        headers["X-BAPI-SIGN-TYPE"] = "2"
        self.headers = headers
        self.url = request.base_url + request.target

    def __repr__(self) -> str:
        return f"<signing parts of {self.request!r}>"
