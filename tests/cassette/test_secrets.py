"""Nothing secret under ``cassettes/``: no configured key or secret, not even the published fake
secret, and no signature that the published test key did not make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from tests.cassette.vcrkit import (
    CASSETTES,
    TEST_KEY,
    TEST_SECRET,
    configured_secrets,
    signature_with_test_secret,
    split_uri,
)

FILES = sorted(p for p in CASSETTES.rglob("*") if p.is_file())


def _interactions(path: Path) -> list[dict[str, Any]]:
    if path.suffix not in (".yaml", ".yml", ".json"):
        return []
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return list(data.get("interactions", [])) if isinstance(data, dict) else []


def _value(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return str(value[0] if isinstance(value, list) else value)
    return None


def _body(body: Any) -> bytes:
    if isinstance(body, dict):
        body = body.get("string")
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode()


def signature_problems(path: Path) -> list[str]:
    """Every request carrying a signature that does not verify with the published test secret
    over the recorded bytes (so it would be a real key's signature), or that cannot be checked."""
    problems = []
    for number, interaction in enumerate(_interactions(path), 1):
        request = interaction["request"]
        headers = request.get("headers") or {}
        where = f"{path.relative_to(CASSETTES)} #{number} {request['method']} {request['uri']}"
        for name in headers:
            lowered = name.lower()
            if "sign" in lowered and lowered not in ("x-bapi-sign", "x-bapi-sign-type"):
                problems.append(f"{where}: unknown signature header {name}")
        sign = _value(headers, "X-BAPI-SIGN")
        if sign is None:
            continue
        key = _value(headers, "X-BAPI-API-KEY")
        stamp = _value(headers, "X-BAPI-TIMESTAMP")
        recv = _value(headers, "X-BAPI-RECV-WINDOW") or "5000"
        if key != TEST_KEY or stamp is None:
            problems.append(f"{where}: X-BAPI-SIGN kept with key {key!r}: not the test key's")
            continue
        payload = (
            split_uri(request["uri"])[2].encode()
            if request["method"] == "GET"
            else _body(request.get("body"))
        )
        if signature_with_test_secret(stamp, key, recv, payload) != sign.lower():
            problems.append(f"{where}: X-BAPI-SIGN does not verify with the test secret")
    return problems


def test_there_are_cassettes() -> None:
    assert len([p for p in FILES if p.suffix == ".yaml"]) >= 40
    assert (CASSETTES / "README.md") in FILES


def test_readme_says_where_each_cassette_came_from() -> None:
    readme = (CASSETTES / "README.md").read_text()
    for path in FILES:
        if path.suffix == ".yaml" and path.parent.name == "emulator":
            assert f"| `{path.stem}` |" in readme, f"{path.name} is not described in README.md"
        elif path.suffix == ".yaml":
            assert (path.parent / "PROVENANCE.md").is_file(), f"{path} has no PROVENANCE.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_no_secret_in(path: Path) -> None:
    content = path.read_bytes()
    for secret in (TEST_SECRET, *configured_secrets()):
        assert secret.encode() not in content, f"a secret ({secret[:3]}…) is in {path}"
    assert signature_problems(path) == []


def test_the_scan_catches_a_foreign_signature(tmp_path: Path, monkeypatch: Any) -> None:
    original = (CASSETTES / "bybit" / "emulator" / "fetch_balance.yaml").read_text()
    sign = original.split("X-BAPI-SIGN:\n      - ", 1)[1].split("\n", 1)[0]
    monkeypatch.setattr(f"{__name__}.CASSETTES", tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text(original)
    assert signature_problems(good) == []
    forged = tmp_path / "forged.yaml"  # as if signed with another secret
    forged.write_text(original.replace(sign, "0" * 64))
    assert "does not verify with the test secret" in signature_problems(forged)[0]
    other_key = tmp_path / "other-key.yaml"  # a real key's request, signature not filtered
    other_key.write_text(original.replace("- test-key", "- AbCdEfRealKey"))
    assert "not the test key's" in signature_problems(other_key)[0]
    tampered = tmp_path / "tampered.yaml"  # the recorded query changed after signing
    tampered.write_text(original.replace("accountType=UNIFIED", "accountType=CONTRACT"))
    assert "does not verify" in signature_problems(tampered)[0]
