"""Secret-leak scanning for the whole test session.

While the suite runs, every secret, passphrase and private key given to ``Credentials`` and
every signature put on a request is remembered, and every log record (all loggers, DEBUG),
every exception text that leaves a client call, and every ``repr`` of credentials and clients
is kept. At the end ``scan()`` lists each place a remembered secret appears.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from pathlib import Path
from typing import Any

import exchanges
from exchanges.credentials import Credentials
from exchanges.wire import Prepared

SIGNATURE_HEADERS = ("X-BAPI-SIGN", "OK-ACCESS-SIGN", "OK-ACCESS-PASSPHRASE")
_QUERY_SIGNATURE = re.compile(r"(?:^|&)signature=([^&]+)")


class LeakRecorder(logging.Handler):
    """Collects secrets and the texts that must not contain them."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self._guard = threading.RLock()
        self.secrets: set[str] = set()
        self.signatures: set[str] = set()
        self.texts: list[tuple[str, str]] = []
        self.records = 0
        self.exceptions = 0

    # -- what must stay secret ------------------------------------------------------------

    def credentials(self, creds: Credentials) -> None:
        with self._guard:
            for secret in (creds.secret, creds.private_key, creds.passphrase):
                # Shorter "secrets" (a test's "secret", "x") match ordinary words in messages.
                if secret is not None and len(secret.reveal()) >= 8:
                    self.secrets.add(secret.reveal())
            if creds.private_key is not None:
                # A PEM could leak in part: every base64 line of it counts on its own.
                lines = creds.private_key.reveal().splitlines()
                self.secrets.update(line for line in lines if len(line) >= 40)
            self.texts.append(("repr(Credentials)", repr(creds)))

    def prepared(self, prepared: Prepared) -> None:
        found = [prepared.headers[h] for h in SIGNATURE_HEADERS if h in prepared.headers]
        for text in (prepared.url.partition("?")[2], (prepared.body or b"").decode("latin-1")):
            found.extend(_QUERY_SIGNATURE.findall(text))
        with self._guard:
            self.signatures.update(s for s in found if len(s) >= 16)

    # -- where it must not appear ---------------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken log call is not ours to judge here
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        with self._guard:
            self.records += 1
            self.texts.append((f"log {record.name}", text))

    def exception(self, where: str, err: BaseException) -> None:
        # As pytest --showlocals and error trackers render it: every frame with its locals,
        # chained errors included (the caller's own frame is not the library's: left out).
        tb = err.__traceback__.tb_next if err.__traceback__ is not None else None
        rendered = "".join(
            traceback.TracebackException(type(err), err, tb, capture_locals=True).format()
        )
        with self._guard:
            self.exceptions += 1
            self.texts.append((f"exception in {where}", f"{err!s} {err!r}"))
            self.texts.append((f"traceback with locals in {where}", rendered))

    def scan(self, cassettes: Path | None = None) -> list[str]:
        """Every (place, secret kind) where a remembered secret or signature shows."""
        with self._guard:
            needles = [(s, "secret") for s in self.secrets]
            needles += [(s, "signature") for s in self.signatures]
            # Identical texts (the same log line a thousand times) are judged once.
            texts = {text: where for where, text in reversed(self.texts)}
        leaks = []
        if needles:
            # Every needle is at least `width` long, so a text holding one holds its first
            # `width` characters: one pass of fixed-width windows per text finds candidates
            # (needles x texts substring searches took minutes on the whole suite).
            width = min(len(needle) for needle, _ in needles)
            by_prefix: dict[str, list[tuple[str, str]]] = {}
            for needle, kind in needles:
                by_prefix.setdefault(needle[:width], []).append((needle, kind))
            for text, where in texts.items():
                windows = {text[i : i + width] for i in range(len(text) - width + 1)}
                for prefix in windows & by_prefix.keys():
                    for needle, kind in by_prefix[prefix]:
                        if needle in text:
                            leaks.append(f"{kind} {needle[:4]}… in {where}: {text[:200]!r}")
        if cassettes is not None and cassettes.is_dir():
            for path in sorted(cassettes.rglob("*")):
                if path.is_file():
                    content = path.read_text(errors="replace")
                    # Signatures are not looked for here: emulator cassettes pin the fake
                    # key's on purpose (tests/cassette/test_secrets.py checks those).
                    for needle, kind in needles:
                        if kind == "secret" and needle in content:
                            leaks.append(f"secret {needle[:4]}… in {path}")
        return leaks


RECORDER = LeakRecorder()


def install() -> None:
    """Hook the recorder into credentials, prepared requests, logging and client calls."""
    original_post_init = Credentials.__attrs_post_init__

    def post_init(self: Credentials) -> None:
        original_post_init(self)
        RECORDER.credentials(self)

    Credentials.__attrs_post_init__ = post_init  # type: ignore[method-assign]

    original_prepared = Prepared.__init__

    def prepared_init(self: Prepared, *args: Any, **kwargs: Any) -> None:
        original_prepared(self, *args, **kwargs)
        RECORDER.prepared(self)

    Prepared.__init__ = prepared_init  # type: ignore[method-assign]

    root = logging.getLogger()
    root.addHandler(RECORDER)
    # Every logger at DEBUG: a leak in a third-party library's debug output counts too.
    root.setLevel(logging.DEBUG)

    original_run = exchanges.Exchange._run

    def run(self: exchanges.Exchange, flow: Any) -> Any:
        try:
            return original_run(self, flow)
        except Exception as err:
            RECORDER.exception(f"{self!r}", err)
            raise

    exchanges.Exchange._run = run  # type: ignore[method-assign]

    original_arun = exchanges.AsyncExchange._run

    async def arun(self: exchanges.AsyncExchange, flow: Any) -> Any:
        try:
            return await original_arun(self, flow)
        except Exception as err:
            RECORDER.exception(f"{self!r}", err)
            raise

    exchanges.AsyncExchange._run = arun  # type: ignore[method-assign]

    # WebSocket auth frames carry a signature too (Bybit: over GET/realtime{expires}).
    from adapters.bybit.stream import BybitDialect
    from exchanges.stream.manager import Stream

    original_auth = BybitDialect.auth

    def auth(self: BybitDialect, credentials: Credentials, timestamp_ms: int) -> str:
        frame = original_auth(self, credentials, timestamp_ms)
        RECORDER.signatures.add(json.loads(frame)["args"][2])
        return frame

    BybitDialect.auth = auth  # type: ignore[method-assign]

    # Binance signs its WS API subscription (params.signature) and OKX its login (args[0].sign);
    # a Binance USD-M listenKey rides in the user data stream's URL and reads the account's
    # events for as long as it lives: all of them are secrets for the scan.
    from adapters.binance.stream import BinanceDialect
    from adapters.okx.stream import OkxDialect

    original_binance_auth = BinanceDialect.auth

    def binance_auth(self: BinanceDialect, credentials: Credentials, timestamp_ms: int) -> str:
        frame = original_binance_auth(self, credentials, timestamp_ms)
        RECORDER.signatures.add(json.loads(frame)["params"]["signature"])
        return frame

    BinanceDialect.auth = binance_auth  # type: ignore[method-assign]

    original_okx_auth = OkxDialect.auth

    def okx_auth(self: OkxDialect, credentials: Credentials, timestamp_ms: int) -> str:
        frame = original_okx_auth(self, credentials, timestamp_ms)
        RECORDER.signatures.add(json.loads(frame)["args"][0]["sign"])
        return frame

    OkxDialect.auth = okx_auth  # type: ignore[method-assign]

    original_listen = BinanceDialect._listen

    async def listen(self: BinanceDialect, client: Any, method: str) -> str:
        key = await original_listen(self, client, method)
        with RECORDER._guard:
            RECORDER.secrets.add(key)
        return key

    BinanceDialect._listen = listen  # type: ignore[method-assign]

    original_anext = Stream.__anext__

    async def anext(self: Stream[Any]) -> Any:
        try:
            return await original_anext(self)
        except Exception as err:
            RECORDER.exception(f"{self!r}", err)
            raise

    Stream.__anext__ = anext  # type: ignore[method-assign]
