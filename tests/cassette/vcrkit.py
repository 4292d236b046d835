"""What recording and replay share: frozen time, hosts, the exact-request matcher, the filters.

Two kinds of recordings live under ``cassettes/bybit/``:

* ``emulator/``: recorded against the local emulator with the *published fake* test key. The
  ``X-BAPI-API-KEY`` header (``test-key``) and ``X-BAPI-SIGN`` are kept: pinning the signature is
  the point, and a signature made with the fake secret gives nothing away. The loopback origin
  is rewritten to ``http://bybit-emulator.test`` so replay never depends on a port.
* ``testnet/`` and ``demo/``: recorded against Bybit with real keys from the environment. The
  key, signature, cookie and passphrase headers are removed before anything is written, and
  the key's value is scrubbed from response bodies (``/v5/user/query-api`` echoes it).
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from email.utils import formatdate
from pathlib import Path
from typing import Any, NamedTuple

#: 2026-01-01T00:00:00Z: the instant both clocks are frozen at while recording and replaying.
FROZEN_MS = 1_767_225_600_000
#: The emulator's seed (order ids, books, candles all derive from it).
SEED = 7
#: The stable placeholder origin every emulator cassette is recorded under and replayed against.
EMULATOR_URL = "http://bybit-emulator.test"
#: The published fake credentials of the emulator (tests/conftest.py); never a real key.
TEST_KEY = "test-key"
TEST_SECRET = "test-secret"

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes"
EMULATOR_CASSETTES = CASSETTES / "bybit" / "emulator"
REAL_CASSETTES = {"testnet": CASSETTES / "bybit" / "testnet", "demo": CASSETTES / "bybit" / "demo"}

#: ``method`` and ``raw_path`` only narrow the search, so vcrpy can name the closest recorded
#: request when nothing matches; ``bybit_request`` is the exact comparison, with the diff.
MATCH_ON = ("method", "raw_path", "bybit_request")

#: Request headers never written for real environments (compared case-insensitively).
SECRET_REQUEST_HEADERS = ("X-BAPI-API-KEY", "X-BAPI-SIGN", "Cookie", "Authorization")
SECRET_RESPONSE_HEADERS = ("Set-Cookie",)


# -- the request as the matcher sees it ---------------------------------------------------


class Parts(NamedTuple):
    """The pinned parts of one request, raw: nothing decoded, nothing reordered."""

    method: str
    path: str
    query: str
    body: bytes
    sign: str | None


def split_uri(uri: str) -> tuple[str, str, str]:
    """``(origin, path, query)``, split as text with nothing decoded or reordered.

    vcrpy's own ``query`` matcher compares ``sorted(parse_qsl(query))``: sorted and
    percent-decoded, which hides exactly the differences a signature depends on (parameter
    order, ``%2C`` against ``,``, ``%253D`` against ``%3D``).
    """
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "", uri
    slash = rest.find("/")
    host = rest if slash < 0 else rest[:slash]
    target = "/" if slash < 0 else rest[slash:]
    origin = f"{scheme}://{host}" if sep else host
    path, _, query = target.partition("?")
    return origin, path, query


def _body(request: Any) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if hasattr(body, "read"):  # vcrpy hands file-like bodies back as BytesIO
        data = body.read()
        return data if isinstance(data, bytes) else str(data).encode()
    return bytes(body)


def _header(request: Any, name: str) -> str | None:
    value = request.headers.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def parts(request: Any) -> Parts:
    """The pinned parts of a vcrpy ``Request``."""
    _, path, query = split_uri(request.uri)
    return Parts(request.method, path, query, _body(request), _header(request, "X-BAPI-SIGN"))


def render(p: Parts) -> list[str]:
    """Lines for a diff. Only the layout changes (one query pair, one JSON member per line);
    each line holds the exact bytes, so a one-byte difference shows on its line."""
    lines = [f"{p.method} {p.path}"]
    if p.query:
        lines += [
            f"  ?{pair}" if i == 0 else f"  &{pair}" for i, pair in enumerate(p.query.split("&"))
        ]
    else:
        lines.append("  (no query string)")
    if p.body:
        text = p.body.decode("utf-8", "backslashreplace")
        pieces = text.replace(",", ",\n").split("\n")
        lines += [f"  body| {piece}" for piece in pieces]
    else:
        lines.append("  (no body)")
    lines.append(f"  X-BAPI-SIGN: {_abbreviated(p.sign)}")
    return lines


def _abbreviated(sign: str | None) -> str:
    # Enough to tell two signatures apart, not enough to reuse one: error texts and logs never
    # carry a whole signature (the suite's leak scan checks that too).
    if sign is None:
        return "(none)"
    return sign if len(sign) <= 16 else f"{sign[:10]}…{sign[-4:]} ({len(sign)} chars)"


def diff(recorded: Parts, sent: Parts) -> str:
    """A unified diff from the recorded request to the one sent, plus what differs."""
    what = [name for name in Parts._fields if getattr(recorded, name) != getattr(sent, name)]
    lines = list(
        difflib.unified_diff(
            render(recorded), render(sent), "recorded", "sent", n=max(len(render(sent)), 3)
        )
    )
    text = "\n".join(line.rstrip("\n") for line in lines)
    if "body" in what and recorded.body.decode("utf-8", "replace") == sent.body.decode(
        "utf-8", "replace"
    ):
        text += "\n(the bodies differ in bytes that are not valid UTF-8)"
    if "sign" in what and _abbreviated(recorded.sign) == _abbreviated(sent.sign):
        text += "\n(the signatures differ in characters the abbreviation hides)"
    if what == ["sign"]:
        text += (
            "\nOnly X-BAPI-SIGN differs: the key, secret, timestamp or receive window used to "
            "sign is not the recorded one (check the frozen clock and the test key)."
        )
    text += (
        "\nIf the change is intended, re-record: `python -m tests.cassette.record` for emulator "
        "cassettes, `--record-mode=once` for testnet/demo ones (cassettes/README.md)."
    )
    return f"request differs from the recording in {', '.join(what)}:\n{text}"


def raw_path(r1: Any, r2: Any) -> None:
    """The path, exactly (vcrpy's ``path`` would compare a parsed form)."""
    p1, p2 = split_uri(r1.uri)[1], split_uri(r2.uri)[1]
    if p1 != p2:
        raise AssertionError(f"{p1} != {p2}")


def bybit_request(r1: Any, r2: Any) -> None:
    """Method, path, query string, body bytes and ``X-BAPI-SIGN``, all exact.

    vcrpy calls matchers as ``(incoming, recorded)``.
    """
    sent, recorded = parts(r1), parts(r2)
    if sent != recorded:
        raise AssertionError(diff(recorded, sent))


def register(vcr: Any) -> None:
    """Make the matchers known to a ``vcr.VCR`` (pytest-recording calls this per test)."""
    vcr.register_matcher("raw_path", raw_path)
    vcr.register_matcher("bybit_request", bybit_request)


# -- filters ------------------------------------------------------------------------------


def rewrite_origin(origin: str) -> Callable[[Any], Any]:
    """``before_record_request`` for emulator recordings: the loopback origin (random port)
    becomes ``EMULATOR_URL``. Requests already aimed there (replay) pass unchanged."""

    def hook(request: Any) -> Any:
        if request.uri.startswith(origin + "/"):
            request.uri = EMULATOR_URL + request.uri[len(origin) :]
        return request

    return hook


def _set_header(headers: dict[str, Any], name: str, value: str | None) -> None:
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    if value is not None:
        headers[name] = [value]


def freeze_response(response: dict[str, Any]) -> dict[str, Any]:
    """``before_record_response`` for emulator recordings: the ``Date`` header is the frozen
    instant and ``Server`` (library versions) is dropped, so re-recording is byte-identical."""
    headers = response["headers"]
    _set_header(headers, "Date", formatdate(FROZEN_MS / 1000, usegmt=True))
    _set_header(headers, "Server", None)
    return response


def drop_secret_headers(request: Any) -> Any:
    """``before_record_request`` for real environments: no key, signature, cookie or
    passphrase header is ever written (nor compared: vcrpy applies this before matching)."""
    for name in list(request.headers):
        lowered = name.lower()
        if lowered in {h.lower() for h in SECRET_REQUEST_HEADERS} or "passphrase" in lowered:
            del request.headers[name]
    return request


def configured_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Values of ``BYBIT_*`` key, secret, passphrase and private-key variables that are set
    (the published fake key excluded: emulator cassettes carry it on purpose)."""
    env = os.environ if environ is None else environ
    found = []
    for name, value in env.items():
        upper = name.upper()
        if not upper.startswith("BYBIT_") or not value.strip():
            continue
        kinds = ("_API_KEY", "_API_SECRET", "_API_PASSPHRASE", "_API_PRIVATE_KEY")
        if upper.endswith(kinds) and value.strip() != TEST_KEY:
            found.append(value.strip())
    return found


def scrub_response(secrets: Iterable[str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``before_record_response`` for real environments: cookies dropped, and any configured
    key or secret replaced in the body (``/v5/user/query-api`` returns the key itself)."""
    values = sorted({s for s in secrets if s}, key=len, reverse=True)

    def hook(response: dict[str, Any]) -> dict[str, Any]:
        headers = response["headers"]
        for name in SECRET_RESPONSE_HEADERS:
            _set_header(headers, name, None)
        body = response.get("body", {}).get("string")
        if isinstance(body, bytes | str) and values:
            raw = body.encode() if isinstance(body, str) else body
            for value in values:
                raw = raw.replace(value.encode(), b"REDACTED")
            response["body"]["string"] = raw
        return response

    return hook


def emulator_config(origin: str | None = None) -> dict[str, Any]:
    """``use_cassette`` options for emulator cassettes (``origin`` only while recording)."""
    hooks = [rewrite_origin(origin)] if origin else []
    return {
        "match_on": MATCH_ON,
        "before_record_request": hooks,
        "before_record_response": [freeze_response],
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


def real_config() -> dict[str, Any]:
    """``use_cassette`` options for testnet/demo cassettes (secrets filtered before writing)."""
    return {
        "match_on": MATCH_ON,
        "before_record_request": [drop_secret_headers],
        "before_record_response": [scrub_response(configured_secrets())],
        "decode_compressed_response": True,
        "allow_playback_repeats": False,
    }


# -- signatures ---------------------------------------------------------------------------


def signature_with_test_secret(
    timestamp: str, api_key: str, recv_window: str, payload: bytes
) -> str:
    """What Bybit's HMAC signer computes with the published fake secret."""
    message = timestamp.encode() + api_key.encode() + recv_window.encode() + payload
    return hmac.new(TEST_SECRET.encode(), message, hashlib.sha256).hexdigest()
