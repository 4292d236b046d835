"""pytest-recording wiring for the cassette tests: the matchers every cassette is played with."""

from __future__ import annotations

from typing import Any

from tests.cassette import vcrkit


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    # pytest-recording builds one vcr.VCR per test and hands it here before use.
    vcrkit.register(vcr)
