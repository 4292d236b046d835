"""pytest-recording wiring for the cassette tests: the matchers every cassette is played with,
and signatures abbreviated in third-party log lines while these tests run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.cassette import vcrkit


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    # pytest-recording builds one vcr.VCR per test and hands it here before use.
    vcrkit.register(vcr)


@pytest.fixture(scope="module", autouse=True)
def _abbreviated_signatures_in_logs() -> Iterator[None]:
    # vcrpy logs each request's whole URI and urllib3 logs each request line at DEBUG; a Binance
    # GET carries its signature there. The suite's leak scan (rightly) refuses whole signatures
    # in any log line; the library's urllib3 transport does not redact urllib3's own line (see
    # cassettes/README.md), so here, and only for these tests, both show it abbreviated.
    # Module scope: pytest-recording's own autouse fixture loads a cassette (and vcrpy logs
    # every request it loads) before any function-scoped fixture of this conftest runs.
    remove = vcrkit.redact_logs()
    try:
        yield
    finally:
        remove()
