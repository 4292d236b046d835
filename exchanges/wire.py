"""Sans-I/O values that flows, signers and transports exchange.

An adapter describes a call as a ``Request`` (its exact query string and body bytes, decided
once); its signer turns it into a ``Prepared`` request (method, URL, headers, body) over exactly
those bytes; a transport sends a ``Prepared`` untouched and returns a ``Response``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote

__all__ = ["PreEncoded", "Prepared", "Request", "Response", "encode_query", "encode_value"]

Role = Literal["read", "trade"]

# RFC 3986 unreserved characters stay as they are; everything else is percent-encoded with
# uppercase hex. urllib3 leaves such a target untouched, so the bytes signed are the bytes sent.
_SAFE = "-._~"


_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9._~-]").search


def encode_value(value: str) -> str:
    """Percent-encode one query value (UTF-8, uppercase hex, only unreserved characters kept)."""
    # Most values (symbols, numbers, categories) need no escaping: skip quote() for them.
    return quote(value, safe=_SAFE) if _NEEDS_QUOTING(value) else value


class PreEncoded(str):
    """A query value the exchange handed out already percent-encoded: sent back as received."""

    __slots__ = ()


# Unreserved characters and uppercase %XX triplets: what every transport sends untouched.
_AS_IS = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})*").fullmatch
_TRIPLET = re.compile(r"(%[0-9A-Fa-f]{2})")


def _pre_encoded(value: str) -> str:
    # A cursor such as Bybit's "...%3A...%2C..." goes as it came; encoding it again would send
    # "%253A", which the exchange decodes to a cursor it never issued.
    if _AS_IS(value):
        return value
    # Anything else in it ("&", "=", "#", a space, a stray "%") is encoded, so a value can never
    # end the parameter or add one. Lowercase hex is upper-cased: the same octet (RFC 3986
    # section 2.1), and urllib3 would upper-case it after signing.
    parts = _TRIPLET.split(value)
    return "".join(p.upper() if i % 2 else encode_value(p) for i, p in enumerate(parts))


def encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Serialise ordered (name, value) pairs into the one query string that is signed and sent.

    Values are percent-encoded, except ``PreEncoded`` ones, which are already.
    """
    return "&".join(
        f"{encode_value(k)}={_pre_encoded(v) if v.__class__ is PreEncoded else encode_value(v)}"
        for k, v in pairs
    )


class Request:
    """One call an adapter wants made: exact bytes plus what the pipeline needs to know."""

    __slots__ = (
        "base_url",
        "body",
        "context",
        "headers",
        "method",
        "path",
        "query",
        "rate_keys",
        "role",
        "signed",
        "weight",
        "write",
    )

    def __init__(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        query: str = "",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        signed: bool = False,
        write: bool = False,
        role: Role = "read",
        rate_keys: tuple[str, ...] = (),
        weight: int = 1,
        context: Any = None,
    ) -> None:
        self.method = method
        self.base_url = base_url
        self.path = path
        self.query = query
        self.body = body
        self.headers = headers
        self.signed = signed
        #: A non-idempotent write (an order): never resent blindly.
        self.write = write
        #: Which key signs it: writes may use a separate trade key.
        self.role: Role = role
        self.rate_keys = rate_keys
        self.weight = weight
        #: Anything the adapter wants back when it parses the response.
        self.context = context

    @property
    def endpoint(self) -> str:
        """``METHOD /path``, as errors and logs name it."""
        return f"{self.method} {self.path}"

    @property
    def target(self) -> str:
        """Path plus query string, as on the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.target}>"


class Prepared:
    """A request ready for the wire: nothing may change its bytes after this."""

    __slots__ = ("body", "headers", "method", "request", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        request: Request,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.request = request

    def __repr__(self) -> str:
        # Headers carry signatures, and so may the query string (Binance): neither is shown.
        path = self.url.partition("?")[0]
        return f"<Prepared {self.method} {path}{'?…' if len(path) < len(self.url) else ''}>"


class Response:
    """What came back: status, headers (case-insensitive), body bytes, and the decoded payload."""

    __slots__ = ("body", "code", "data", "elapsed", "headers", "request", "status")

    def __init__(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        request: Request | None = None,
        elapsed: float = 0.0,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.request = request
        self.elapsed = elapsed
        #: The decoded JSON payload, set once by the adapter's ``decode``.
        self.data: Any = None
        #: The exchange's native result code, for logs.
        self.code: str | int | None = None

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"
