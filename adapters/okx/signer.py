"""OKX v5 request signing (pure: no I/O, no clock).

OKX signs ``timestamp + METHOD + requestPath + body`` with HMAC-SHA256 and sends the base64
digest in ``OK-ACCESS-SIGN``, next to ``OK-ACCESS-KEY``, ``OK-ACCESS-TIMESTAMP`` (ISO-8601 UTC with
milliseconds, ``2020-12-08T09:08:57.715Z``) and ``OK-ACCESS-PASSPHRASE``; a GET's query string
belongs to the request path. Only HMAC keys exist for REST
(https://www.okx.com/docs-v5/en/#overview-rest-authentication).

Orders carry an ``expTime`` header, the request's deadline: OKX drops a place or amend request
that reaches it later (https://www.okx.com/docs-v5/en/#overview-general-info-transaction-timeouts),
which bounds how long a lost order request can still be acted on, as a receive window does on
other exchanges.

The prehash is built from the request's own bytes: the target exactly as it goes on the request
line (query already encoded, once, by the request builder) and the exact body bytes sent, so
what is signed is what is sent.

Empty POST bodies: ccxt sends none and signs nothing after the path, python-okx
(https://github.com/okxapi/python-okx, okx/okxclient.py) sends and signs ``{}``. OKX answers a POST
without a body with 50000 "Body for POST request cannot be empty"
(https://www.okx.com/docs-v5/en/#error-code-rest-api-public), so this adapter's builder always sends
a JSON body with a POST (``{}`` when there are no parameters) and the signer signs it like any other
body.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from exchanges.errors import AuthenticationError
from exchanges.signing import KeyCache, hmac_sha256_b64
from exchanges.wire import Prepared, Request

if TYPE_CHECKING:
    from exchanges.credentials import Credentials

__all__ = ["EXPIRING_PATHS", "OkxSigner", "iso_timestamp", "prehash"]

#: The endpoints that honour ``expTime`` ("Transaction Timeouts": place and amend, single and
#: batch).
EXPIRING_PATHS = frozenset(
    {
        "/api/v5/trade/order",
        "/api/v5/trade/batch-orders",
        "/api/v5/trade/amend-order",
        "/api/v5/trade/amend-batch-orders",
    }
)


def iso_timestamp(timestamp_ms: int) -> str:
    """Milliseconds since the epoch as OKX's ``OK-ACCESS-TIMESTAMP``: ``…T09:08:57.715Z``."""
    # Integer arithmetic: ms / 1000 as a float can round 57.715 down to 57.714.
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def prehash(timestamp: str, method: str, target: str, body: bytes | None) -> bytes:
    """The bytes OKX signs: timestamp, upper-case method, path with query, then the body sent."""
    head = f"{timestamp}{method.upper()}{target}".encode()
    return head + body if body else head


class OkxSigner:
    """Adds OKX's four ``OK-ACCESS-*`` headers over the request's exact target and body."""

    __slots__ = ("_keys", "env_prefix", "recv_window_ms")

    def __init__(self, env_prefix: str = "OKX", recv_window_ms: int | None = None) -> None:
        self.env_prefix = env_prefix
        #: The deadline put in ``expTime`` after the stamp (None: no ``expTime`` header).
        self.recv_window_ms = recv_window_ms
        self._keys = KeyCache()

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Return the prepared request carrying ``OK-ACCESS-*`` headers (secrets never logged)."""
        if credentials.kind != "hmac":
            raise AuthenticationError(
                "OKX signs REST requests with an HMAC secret only",
                exchange="okx",
                endpoint=request.endpoint,
                hint="Create an API key with a secret key on OKX; RSA/Ed25519 keys are not "
                "offered for OKX's REST API.",
            )
        passphrase = credentials.passphrase
        if passphrase is None or not passphrase:
            raise AuthenticationError(
                f"{request.endpoint} needs the API key's passphrase and none was given",
                exchange="okx",
                endpoint=request.endpoint,
                hint="OKX keys have a passphrase chosen when the key was created: pass "
                "Credentials(key, secret, passphrase=...) or set "
                f"{self.env_prefix}_API_PASSPHRASE.",
            )
        stamp = iso_timestamp(timestamp_ms)
        message = prehash(stamp, request.method, request.target, request.body)
        headers = dict(request.headers) if request.headers else {}
        headers["OK-ACCESS-KEY"] = credentials.api_key
        headers["OK-ACCESS-SIGN"] = hmac_sha256_b64(self._keys.get(credentials).hmac_key, message)
        headers["OK-ACCESS-TIMESTAMP"] = stamp
        headers["OK-ACCESS-PASSPHRASE"] = passphrase.reveal()
        if self.recv_window_ms is not None and request.write and request.path in EXPIRING_PATHS:
            headers["expTime"] = str(timestamp_ms + self.recv_window_ms)
        return Prepared(
            request.method, request.base_url + request.target, headers, request.body, request
        )
