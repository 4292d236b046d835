"""What recording and replay share: frozen time, hosts, the exact-request matchers, the filters.

One ``Profile`` per exchange says where that exchange puts its signature and which headers the
matcher pins; everything else (the diff, the filters, the configurations) is shared.

* Bybit signs in the ``X-BAPI-SIGN`` header (over timestamp, key, receive window and the query
  or body).
* Binance appends ``recvWindow``, ``timestamp`` and ``signature`` to the query string (GET,
  DELETE) or the form body (POST, PUT); the key travels in ``X-MBX-APIKEY``.
* OKX signs ``timestamp + METHOD + path?query + body`` into ``OK-ACCESS-SIGN`` next to
  ``OK-ACCESS-KEY``, ``OK-ACCESS-TIMESTAMP`` and ``OK-ACCESS-PASSPHRASE`` (and
  ``x-simulated-trading: 1`` in demo trading).

Two kinds of recordings live under ``cassettes/<exchange>/``:

* ``emulator/``: recorded against the local emulator with the *published fake* test key. The key
  and the signature are kept: pinning the signature is the point, and a signature made with the
  fake secret gives nothing away. OKX's passphrase header is never written (it is a secret, and
  the signature does not cover it). The loopback origin is rewritten to
  ``http://<exchange>-emulator.test`` so replay never depends on a port.
* ``testnet/`` and ``demo/``: recorded against the exchange with real keys from the environment.
  The key, signature (headers and Binance's ``signature`` parameter), cookie and passphrase are
  removed before anything is written, and the key's value is scrubbed from response bodies.
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any, NamedTuple

#: 2026-01-01T00:00:00Z: the instant both clocks are frozen at while recording and replaying.
FROZEN_MS = 1_767_225_600_000
#: The emulator's seed (order ids, books, candles all derive from it).
SEED = 7
#: The published fake credentials of the emulator (tests/conftest.py); never a real key.
TEST_KEY = "test-key"
TEST_SECRET = "test-secret"
#: The emulator's default OKX passphrase: fake too, and still never written to a cassette.
TEST_PASSPHRASE = "test-passphrase"

REPO = Path(__file__).resolve().parents[2]
CASSETTES = REPO / "cassettes"

#: Stands for the signature value inside a pinned query or body (never a byte of a real URL).
SLOT = "…"


# -- the request as the matcher sees it ---------------------------------------------------


class Parts(NamedTuple):
    """The pinned parts of one request, raw: nothing decoded, nothing reordered.

    A signature carried in the query or body (Binance) is lifted into ``sign`` and its value
    replaced by ``SLOT`` where it stood, so its position is still compared and a diff can show
    it abbreviated. ``headers`` are the profile's pinned headers, in the profile's order.
    """

    method: str
    path: str
    query: str
    body: bytes
    headers: tuple[tuple[str, str | None], ...]
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


def body_bytes(body: Any) -> bytes:
    """A request body as bytes, whatever vcrpy, a transport or a YAML file holds it as."""
    if isinstance(body, dict):  # a body as written in a cassette file
        body = body.get("string")
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


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """A header's value, its name compared case-insensitively (lists: the first value)."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def lift_param(text: str, name: str) -> tuple[str, str | None]:
    """``text`` (a query or form body) with the value of ``name=`` replaced by ``SLOT``, and that
    value (the first one, raw)."""
    if not text or f"{name}=" not in text:
        return text, None
    found: str | None = None
    pieces = text.split("&")
    for i, piece in enumerate(pieces):
        if piece.startswith(f"{name}="):
            if found is None:
                found = piece[len(name) + 1 :]
            pieces[i] = f"{name}={SLOT}"
    return "&".join(pieces), found


def drop_param(text: str, name: str) -> str:
    """``text`` (a query or form body) without any ``name=`` pair."""
    if not text or f"{name}=" not in text:
        return text
    return "&".join(p for p in text.split("&") if not p.startswith(f"{name}="))


def _text(body: bytes) -> str:
    # Any bytes round-trip exactly (a form body is ASCII, but the matcher must not assume it).
    return body.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _is_json(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"{", b"[")


@dataclass(frozen=True)
class Profile:
    """One exchange's place in the kit: hosts, folders, where its signature lives."""

    name: str
    #: What the signature is called in diffs ("X-BAPI-SIGN", "signature", "OK-ACCESS-SIGN").
    sign_label: str
    #: The header carrying the signature, or None when it is the ``signature`` parameter.
    sign_header: str | None
    #: Headers compared exactly besides the signature (the key, when it is not signed).
    pinned_headers: tuple[str, ...]
    #: Pinned headers that change with the wall clock: not compared for real recordings.
    clock_headers: tuple[str, ...]
    #: A query/body parameter that changes with the wall clock (Binance's ``timestamp``).
    clock_param: str | None
    #: What a signature alone differing means.
    only_sign: str
    #: Real environments a recording path exists for.
    real_envs: tuple[str, ...]

    @property
    def env_prefix(self) -> str:
        """``BYBIT``: the prefix of the exchange's key variables."""
        return self.name.upper()

    @property
    def emulator_url(self) -> str:
        """The placeholder origin emulator cassettes are recorded under and replayed against."""
        return f"http://{self.name}-emulator.test"

    @property
    def emulator_folder(self) -> Path:
        """``cassettes/<exchange>/emulator``."""
        return CASSETTES / self.name / "emulator"

    def real_folder(self, env: str) -> Path:
        """``cassettes/<exchange>/<env>`` for a real environment."""
        return CASSETTES / self.name / env

    @property
    def matcher(self) -> str:
        """The exact matcher's registered name (``bybit_request``)."""
        return f"{self.name}_request"

    @property
    def real_matcher(self) -> str:
        """The matcher of real recordings: the same, blind only to the wall clock."""
        return f"{self.name}_real_request"

    def parts(self, request: Any, *, exact: bool = True) -> Parts:
        """The pinned parts of a vcrpy ``Request`` (or anything with method, uri, body and
        headers). ``exact=False`` masks what follows the wall clock (real recordings)."""
        _, path, query = split_uri(request.uri)
        body = body_bytes(request.body)
        headers = request.headers
        if self.sign_header is not None:
            sign = header(headers, self.sign_header)
        else:
            query, in_query = lift_param(query, "signature")
            in_body: str | None = None
            if body and not _is_json(body):
                text, in_body = lift_param(_text(body), "signature")
                body = _bytes(text)
            sign = in_query if in_query is not None else in_body
        pinned = self.pinned_headers
        if not exact:
            pinned = tuple(h for h in pinned if h not in self.clock_headers)
            if self.clock_param is not None:
                query = _mask(query, self.clock_param)
                if body and not _is_json(body):
                    body = _bytes(_mask(_text(body), self.clock_param))
        pinned_values = tuple((name, header(headers, name)) for name in pinned)
        return Parts(request.method, path, query, body, pinned_values, sign)

    # -- the diff ---------------------------------------------------------------------------

    def render(self, p: Parts) -> list[str]:
        """Lines for a diff. Only the layout changes (one query pair, one JSON member per
        line); each line holds the exact bytes, so a one-byte difference shows on its line."""
        lines = [f"{p.method} {p.path}"]
        if p.query:
            lines += [
                f"  ?{pair}" if i == 0 else f"  &{pair}"
                for i, pair in enumerate(p.query.split("&"))
            ]
        else:
            lines.append("  (no query string)")
        if p.body:
            text = p.body.decode("utf-8", "backslashreplace")
            separator = "," if _is_json(p.body) else "&"
            pieces = text.replace(separator, separator + "\n").split("\n")
            lines += [f"  body| {piece}" for piece in pieces]
        else:
            lines.append("  (no body)")
        lines += [
            f"  {name}: {value if value is not None else '(none)'}" for name, value in p.headers
        ]
        lines.append(f"  {self.sign_label}: {abbreviated(p.sign)}")
        return lines

    def diff(self, recorded: Parts, sent: Parts) -> str:
        """A unified diff from the recorded request to the one sent, plus what differs."""
        what = [name for name in Parts._fields if getattr(recorded, name) != getattr(sent, name)]
        before, after = self.render(recorded), self.render(sent)
        lines = list(difflib.unified_diff(before, after, "recorded", "sent", n=max(len(after), 3)))
        text = "\n".join(line.rstrip("\n") for line in lines)
        if "body" in what and recorded.body.decode("utf-8", "replace") == sent.body.decode(
            "utf-8", "replace"
        ):
            text += "\n(the bodies differ in bytes that are not valid UTF-8)"
        if "sign" in what and abbreviated(recorded.sign) == abbreviated(sent.sign):
            text += "\n(the signatures differ in characters the abbreviation hides)"
        if what == ["sign"]:
            text += f"\nOnly {self.sign_label} differs: {self.only_sign}"
        text += (
            "\nIf the change is intended, re-record: `python -m tests.cassette.record --exchange "
            f"{self.name}` for emulator cassettes, `--record-mode=once` for testnet/demo ones "
            "(cassettes/README.md)."
        )
        return f"request differs from the recording in {', '.join(what)}:\n{text}"

    # -- vcrpy configurations -----------------------------------------------------------------

    def emulator_config(self, origin: str | None = None) -> dict[str, Any]:
        """``use_cassette`` options for emulator cassettes (``origin`` only while recording)."""
        hooks: list[Callable[[Any], Any]] = (
            [rewrite_origin(origin, self.emulator_url)] if origin else []
        )
        hooks.append(drop_passphrase)
        return {
            "match_on": ("method", "raw_path", self.matcher),
            "before_record_request": hooks,
            "before_record_response": [freeze_response],
            "decode_compressed_response": True,
            "allow_playback_repeats": False,
        }

    def real_config(self) -> dict[str, Any]:
        """``use_cassette`` options for testnet/demo cassettes (secrets filtered before writing)."""
        return {
            "match_on": ("method", "raw_path", self.real_matcher),
            "before_record_request": [drop_secret_headers],
            "before_record_response": [scrub_response(configured_secrets())],
            "decode_compressed_response": True,
            "allow_playback_repeats": False,
        }


def _mask(text: str, name: str) -> str:
    return lift_param(text, name)[0]


def abbreviated(sign: str | None) -> str:
    """Enough of a signature to tell two apart, not enough to reuse one: error texts and logs
    never carry a whole signature (the suite's leak scan checks that too)."""
    if sign is None:
        return "(none)"
    return sign if len(sign) <= 16 else f"{sign[:10]}…{sign[-4:]} ({len(sign)} chars)"


BYBIT = Profile(
    name="bybit",
    sign_label="X-BAPI-SIGN",
    sign_header="X-BAPI-SIGN",
    # The key, timestamp and receive window are all inside X-BAPI-SIGN.
    pinned_headers=(),
    clock_headers=(),
    clock_param=None,
    only_sign="the key, secret, timestamp or receive window used to sign is not the recorded "
    "one (check the frozen clock and the test key).",
    real_envs=("testnet", "demo"),
)
BINANCE = Profile(
    name="binance",
    sign_label="signature",
    sign_header=None,
    # Binance's signature covers the query and body (timestamp included) but not the key.
    pinned_headers=("X-MBX-APIKEY",),
    clock_headers=(),
    clock_param="timestamp",
    only_sign="the query and body are the recorded bytes, so the secret used to sign is not "
    "the recorded one (check the test secret).",
    real_envs=("testnet", "demo"),
)
OKX = Profile(
    name="okx",
    sign_label="OK-ACCESS-SIGN",
    sign_header="OK-ACCESS-SIGN",
    # OKX signs timestamp, method, path, query and body; the key and the demo header are not
    # signed. The timestamp is pinned on its own for a readable diff.
    pinned_headers=("OK-ACCESS-KEY", "OK-ACCESS-TIMESTAMP", "x-simulated-trading"),
    clock_headers=("OK-ACCESS-TIMESTAMP",),
    clock_param=None,
    only_sign="timestamp, method, path, query and body are the recorded ones, so the secret "
    "used to sign is not the recorded one (check the test secret).",
    real_envs=("demo",),
)
PROFILES: dict[str, Profile] = {p.name: p for p in (BYBIT, BINANCE, OKX)}


def profile_of(exchange: str) -> Profile:
    """The profile of ``exchange``."""
    try:
        return PROFILES[exchange]
    except KeyError:
        raise KeyError(
            f"no cassette profile for {exchange!r}; known: {', '.join(PROFILES)}"
        ) from None


# -- matchers -------------------------------------------------------------------------------


def raw_path(r1: Any, r2: Any) -> None:
    """The path, exactly (vcrpy's ``path`` would compare a parsed form)."""
    p1, p2 = split_uri(r1.uri)[1], split_uri(r2.uri)[1]
    if p1 != p2:
        raise AssertionError(f"{p1} != {p2}")


def exact_request(profile: Profile, *, exact: bool = True) -> Callable[[Any, Any], None]:
    """The matcher of ``profile``: method, path, query string, body bytes, the pinned headers
    and the signature, all exact (``exact=False``: blind to the wall clock).

    vcrpy calls matchers as ``(incoming, recorded)``.
    """

    def matcher(r1: Any, r2: Any) -> None:
        sent, recorded = profile.parts(r1, exact=exact), profile.parts(r2, exact=exact)
        if sent != recorded:
            raise AssertionError(profile.diff(recorded, sent))

    matcher.__name__ = profile.matcher if exact else profile.real_matcher
    return matcher


#: The Bybit matcher by its historical name.
bybit_request = exact_request(BYBIT)
binance_request = exact_request(BINANCE)
okx_request = exact_request(OKX)


def register(vcr: Any) -> None:
    """Make the matchers known to a ``vcr.VCR`` (pytest-recording calls this per test)."""
    vcr.register_matcher("raw_path", raw_path)
    for profile in PROFILES.values():
        vcr.register_matcher(profile.matcher, exact_request(profile))
        vcr.register_matcher(profile.real_matcher, exact_request(profile, exact=False))


# -- filters ------------------------------------------------------------------------------


def rewrite_origin(origin: str, target: str) -> Callable[[Any], Any]:
    """``before_record_request`` for emulator recordings: the loopback origin (random port)
    becomes ``target``. Requests already aimed there (replay) pass unchanged."""

    def hook(request: Any) -> Any:
        if request.uri.startswith(origin + "/"):
            request.uri = target + request.uri[len(origin) :]
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


def drop_passphrase(request: Any) -> Any:
    """``before_record_request`` everywhere: no passphrase header is ever written (OKX's
    ``OK-ACCESS-PASSPHRASE`` is a secret, and no signature covers it)."""
    for name in list(request.headers):
        if "passphrase" in name.lower():
            del request.headers[name]
    return request


#: Request headers never written for real environments (compared case-insensitively).
SECRET_REQUEST_HEADERS = (
    "X-BAPI-API-KEY",
    "X-BAPI-SIGN",
    "X-MBX-APIKEY",
    "OK-ACCESS-KEY",
    "OK-ACCESS-SIGN",
    "OK-ACCESS-PASSPHRASE",
    "Cookie",
    "Authorization",
)
SECRET_RESPONSE_HEADERS = ("Set-Cookie",)


def drop_secret_headers(request: Any) -> Any:
    """``before_record_request`` for real environments: no key, signature, cookie or
    passphrase header is ever written, nor Binance's ``signature`` parameter (nor compared:
    vcrpy applies this before matching)."""
    drop_passphrase(request)
    secret = {h.lower() for h in SECRET_REQUEST_HEADERS}
    for name in list(request.headers):
        if name.lower() in secret:
            del request.headers[name]
    origin, path, query = split_uri(request.uri)
    if "signature=" in query:
        query = drop_param(query, "signature")
        request.uri = f"{origin}{path}?{query}" if query else f"{origin}{path}"
    body = body_bytes(request.body)
    if b"signature=" in body and not _is_json(body):
        request.body = _bytes(drop_param(_text(body), "signature"))
    return request


#: Key variables whose values must never reach a cassette.
SECRET_KINDS = ("_API_KEY", "_API_SECRET", "_API_PASSPHRASE", "_API_PRIVATE_KEY")


def configured_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of ``BYBIT_*``, ``BINANCE_*`` and ``OKX_*`` key, secret, passphrase and
    private-key variables that are set (the published fake key excluded: emulator cassettes
    carry it on purpose). A private key counts as its PEM text and each long line of it."""
    env = os.environ if environ is None else environ
    prefixes = tuple(f"{p.env_prefix}_" for p in PROFILES.values())
    found: list[str] = []
    for name, value in env.items():
        upper = name.upper()
        text = value.strip()
        if not upper.startswith(prefixes) or not upper.endswith(SECRET_KINDS) or not text:
            continue
        if text == TEST_KEY:
            continue
        if upper.endswith("_API_PRIVATE_KEY") and "-----BEGIN" not in text:
            path = Path(text).expanduser()
            text = path.read_text().strip() if path.is_file() else text
        found.append(text)
        if "-----BEGIN" in text:
            found.extend(line for line in text.splitlines() if len(line) >= 40)
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


# -- vcrpy's own log lines --------------------------------------------------------------------

_SIGNATURE_PARAM = re.compile(r"((?:^|[?&\s])signature=)[^&\s>'\"]+")


class RedactSignatures(logging.Filter):
    """vcrpy logs every request it plays or records with its whole URI, and Binance's
    signature is part of a GET's URI: shown abbreviated, as the library itself shows one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # not ours to judge
            return True
        if "signature=" in text:
            record.msg = _SIGNATURE_PARAM.sub(lambda m: m[1] + abbreviated(m[0][len(m[1]) :]), text)
            record.args = ()
        return True


#: Loggers that print a request's whole target: vcrpy's (it logs every request it plays or
#: records) and urllib3's (its DEBUG line ``"GET /path?query HTTP/1.1" 200``).
REDACTED_LOGGERS = (
    "vcr.cassette",
    "vcr.matchers",
    "vcr.request",
    "vcr.stubs",
    "vcr.stubs.aiohttp_stubs",
    "vcr.stubs.httpx_stubs",
    "urllib3.connectionpool",
)


def redact_logs() -> Callable[[], None]:
    """Install ``RedactSignatures`` on ``REDACTED_LOGGERS``; returns the function removing it."""
    installed: list[tuple[logging.Logger, RedactSignatures]] = []
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSignatures) for f in logger.filters):
            redactor = RedactSignatures()
            logger.addFilter(redactor)
            installed.append((logger, redactor))

    def remove() -> None:
        for logger, redactor in installed:
            logger.removeFilter(redactor)

    return remove


# -- signatures with the published fake secret -------------------------------------------------


def signature_with_test_secret(
    timestamp: str, api_key: str, recv_window: str, payload: bytes
) -> str:
    """What Bybit's HMAC signer computes with the published fake secret."""
    message = timestamp.encode() + api_key.encode() + recv_window.encode() + payload
    return hmac.new(TEST_SECRET.encode(), message, hashlib.sha256).hexdigest()


def binance_signature_with_test_secret(payload: bytes) -> str:
    """Binance's HMAC (lowercase hex) of the query followed by the body, minus ``signature``."""
    return hmac.new(TEST_SECRET.encode(), payload, hashlib.sha256).hexdigest()


def okx_signature_with_test_secret(timestamp: str, method: str, target: str, body: bytes) -> str:
    """OKX's base64 HMAC of ``timestamp + METHOD + path?query + body``."""
    message = f"{timestamp}{method.upper()}{target}".encode() + body
    return base64.b64encode(
        hmac.new(TEST_SECRET.encode(), message, hashlib.sha256).digest()
    ).decode()
