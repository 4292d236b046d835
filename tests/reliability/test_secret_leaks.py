"""No secret, passphrase, private key or signature in any log line, exception, repr or cassette.

This test runs last (see tests/conftest.py) and scans what the whole suite produced: every log
record at DEBUG, every exception that left a client call, every repr of credentials, and every
file under cassettes/.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import exchanges
from exchanges.emulator import Emulator
from tests.leaks import RECORDER

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"


def test_a_failing_session_is_recorded(emulator: Emulator) -> None:
    # Drive the paths most likely to leak (failed signatures, a key of another env, retries)
    # so the final scan has them even when this file runs alone.
    creds = exchanges.Credentials("leak-check-key", "leak-check-secret-123")
    emulator.add_key("leak-check-key", "leak-check-secret-123")
    bad = exchanges.Credentials("leak-check-key", "leak-check-wrong-456")
    with exchanges.connect("bybit", base_url=emulator.base_url, credentials=bad) as ex:
        try:
            ex.fetch_balance()
        except exchanges.InvalidSignature as err:
            logging.getLogger("exchanges.test").debug("caught %s", err)
    emulator.set_faults("server_error:1.0@/v5/account*2")
    with exchanges.connect("bybit", base_url=emulator.base_url, credentials=creds) as ex:
        ex.fetch_balance()
        ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.001"), Decimal("30000"))
    assert "leak-check-secret-123" in RECORDER.secrets
    assert RECORDER.signatures


def test_the_scan_finds_a_planted_leak(tmp_path: Path) -> None:
    # The scan must be able to fail: a fresh recorder, secrets and signatures planted.
    from tests.leaks import LeakRecorder

    recorder = LeakRecorder()
    recorder.secrets.update({"planted-secret-42", "other-secret-77"})
    recorder.signatures.add("ab" * 32)
    for i in range(50):
        recorder.texts.append((f"log {i}", f"an ordinary line {i}"))
    recorder.texts.append(("log x", "prefix planted-secret-42 suffix"))
    recorder.texts.append(("exception in y", f"sig={'ab' * 32}&next"))
    (tmp_path / "c.yaml").write_text("body: other-secret-77\nsign: " + "ab" * 32)
    leaks = recorder.scan(tmp_path)
    assert len(leaks) == 3, leaks
    assert any("secret plan" in leak and "log x" in leak for leak in leaks)
    assert any("signature abab" in leak and "exception in y" in leak for leak in leaks)
    assert any("secret othe" in leak and "c.yaml" in leak for leak in leaks)


def test_no_secret_leaked_anywhere() -> None:
    leaks = RECORDER.scan(CASSETTES)
    assert RECORDER.records > 0 and RECORDER.secrets and RECORDER.signatures
    print(
        f"leak scan: {len(RECORDER.secrets)} secrets and {len(RECORDER.signatures)} signatures "
        f"checked against {RECORDER.records} log records, {RECORDER.exceptions} exceptions, "
        f"{len(RECORDER.texts)} texts in all, and the files under {CASSETTES.name}/"
    )
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks[:50])
