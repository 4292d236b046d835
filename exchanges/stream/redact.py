"""What the stream layer may show of a URL: never a credential it carries.

A stream URL can carry a credential: Binance USD-M user data opens
``/private/stream?listenKey=<key>`` (the key reads the account's orders, fills and balances for
as long as it lives), Binance's older form puts the key in the path (``/ws/<key>``), and a proxy
given as ``ws_url`` may carry ``user:password@``. Libraries quote the URL they failed to open
(aiohttp's ``WSServerHandshakeError``: ``..., url='wss://.../private/stream?listenKey=...'``),
so every text the stream layer makes from a failure, a log line or a repr goes through
``scrub``, and the low-level exception is never chained to the error raised to the caller.

* ``shown_url``: scheme, host, port and path; no userinfo; the query and fragment replaced by
  ``?<redacted>``; a path segment that looks like a token (20 or more letters, digits, ``-``
  and ``_``) replaced by ``<redacted>``.
* ``secrets_of``: the values a URL carries that must not show anywhere (query values, token-like
  path segments, the password), for texts that quote them without the URL around them.
* ``scrub``: every URL in a text made a ``shown_url``, then every given secret blanked, as it
  is and percent-encoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlsplit

__all__ = ["REDACTED", "scrub", "secrets_of", "shown_url"]

REDACTED = "<redacted>"
# A URL as messages quote it: up to whitespace, a quote or a closing bracket.
_URL = re.compile(r"\b(?:wss?|https?)://[^\s'\"<>()\[\]{}]+", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")
# Shorter values (a page number, "ORDER_TRADE_UPDATE/...") are not credentials, and blanking
# them would blank ordinary words.
_MIN_SECRET = 8


def shown_url(url: str) -> str:
    """``url`` without userinfo, query, fragment or token-like path segments."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL we can take apart: show none of it
        return REDACTED
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    path = "/".join(REDACTED if _TOKEN.fullmatch(s) else s for s in parts.path.split("/"))
    hidden = f"?{REDACTED}" if parts.query or parts.fragment else ""
    return f"{parts.scheme}://{netloc}{path}{hidden}" if parts.scheme else f"{path}{hidden}"


def secrets_of(url: str) -> tuple[str, ...]:
    """What ``url`` carries that must not show: query values, token-like path segments, the
    userinfo's password, each at least 8 characters long."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return (url,) if len(url) >= _MIN_SECRET else ()
    found = [value for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    found += [segment for segment in parts.path.split("/") if _TOKEN.fullmatch(segment)]
    if password:
        found.append(password)
    return tuple(value for value in dict.fromkeys(found) if len(value) >= _MIN_SECRET)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every URL in it shown as ``shown_url`` and every secret blanked."""
    text = _URL.sub(lambda match: shown_url(match.group()), text)
    for secret in secrets:
        if len(secret) < _MIN_SECRET:
            continue
        text = text.replace(secret, REDACTED)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, REDACTED)
    return text
