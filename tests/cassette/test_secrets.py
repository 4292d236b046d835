"""Nothing secret under ``cassettes/``: no configured key, secret or passphrase, not even the
published fake secret or passphrase, no passphrase header at all, and no signature that the
published test key did not make.

Every signature kept in a cassette is recomputed with the fake test secret over the recorded
bytes: Bybit's ``X-BAPI-SIGN``, Binance's ``signature`` parameter (query or form body) and OKX's
``OK-ACCESS-SIGN``. Each exchange's check runs on every request of every folder, so a signature
cannot hide in another exchange's folder either. A signature that does not verify would be a
real key's (or bytes changed after signing).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml  # type: ignore[import-untyped]

from tests.cassette.vcrkit import (
    CASSETTES,
    PROFILES,
    TEST_KEY,
    TEST_PASSPHRASE,
    TEST_SECRET,
    binance_signature_with_test_secret,
    body_bytes,
    configured_secrets,
    drop_param,
    header,
    okx_signature_with_test_secret,
    signature_with_test_secret,
    split_uri,
)

FILES = sorted(p for p in CASSETTES.rglob("*") if p.is_file())

#: Signature headers the checks below know how to verify (lower case).
KNOWN_SIGN_HEADERS = {"x-bapi-sign", "x-bapi-sign-type", "ok-access-sign"}


def _interactions(path: Path) -> list[dict[str, Any]]:
    if path.suffix not in (".yaml", ".yml", ".json"):
        return []
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return list(data.get("interactions", [])) if isinstance(data, dict) else []


def _bybit(where: str, method: str, uri: str, headers: dict[str, Any], body: bytes) -> list[str]:
    sign = header(headers, "X-BAPI-SIGN")
    if sign is None:
        return []
    key = header(headers, "X-BAPI-API-KEY")
    stamp = header(headers, "X-BAPI-TIMESTAMP")
    recv = header(headers, "X-BAPI-RECV-WINDOW") or "5000"
    if key != TEST_KEY or stamp is None:
        return [f"{where}: X-BAPI-SIGN kept with key {key!r}: not the test key's"]
    payload = split_uri(uri)[2].encode() if method == "GET" else body
    if signature_with_test_secret(stamp, key, recv, payload) != sign.lower():
        return [f"{where}: X-BAPI-SIGN does not verify with the test secret"]
    return []


def _signature_values(text: str) -> list[str]:
    return [p[len("signature=") :] for p in text.split("&") if p.startswith("signature=")]


def _binance(where: str, method: str, uri: str, headers: dict[str, Any], body: bytes) -> list[str]:
    query = split_uri(uri)[2]
    form = "" if body.lstrip()[:1] in (b"{", b"[") else body.decode("utf-8", "surrogateescape")
    found = _signature_values(query) + _signature_values(form)
    if not found:
        return []
    key = header(headers, "X-MBX-APIKEY")
    if key != TEST_KEY:
        return [f"{where}: a signature parameter kept with key {key!r}: not the test key's"]
    # What Binance verifies: the raw query, then the raw body, each without ``signature``.
    payload = drop_param(query, "signature").encode() + drop_param(form, "signature").encode(
        "utf-8", "surrogateescape"
    )
    expected = binance_signature_with_test_secret(payload)
    if any(unquote(value).lower() != expected for value in found):
        return [f"{where}: the signature parameter does not verify with the test secret"]
    return []


def _okx(where: str, method: str, uri: str, headers: dict[str, Any], body: bytes) -> list[str]:
    sign = header(headers, "OK-ACCESS-SIGN")
    if sign is None:
        return []
    key = header(headers, "OK-ACCESS-KEY")
    stamp = header(headers, "OK-ACCESS-TIMESTAMP")
    if key != TEST_KEY or stamp is None:
        return [f"{where}: OK-ACCESS-SIGN kept with key {key!r}: not the test key's"]
    _, path, query = split_uri(uri)
    target = f"{path}?{query}" if query else path
    if okx_signature_with_test_secret(stamp, method, target, body) != sign:
        return [f"{where}: OK-ACCESS-SIGN does not verify with the test secret"]
    return []


def signature_problems(path: Path) -> list[str]:
    """Every request carrying a signature that does not verify with the published test secret
    over the recorded bytes (so it would be a real key's signature), or that cannot be checked,
    and every stored passphrase header."""
    problems = []
    for number, interaction in enumerate(_interactions(path), 1):
        request = interaction["request"]
        headers = request.get("headers") or {}
        method, uri = request["method"], request["uri"]
        body = body_bytes(request.get("body"))
        where = f"{path.relative_to(CASSETTES)} #{number} {method} {split_uri(uri)[1]}"
        for name in headers:
            lowered = name.lower()
            if "sign" in lowered and lowered not in KNOWN_SIGN_HEADERS:
                problems.append(f"{where}: unknown signature header {name}")
            if "passphrase" in lowered:
                problems.append(f"{where}: a passphrase header ({name}) is stored")
        for check in (_bybit, _binance, _okx):
            problems += check(where, method, uri, headers, body)
    return problems


def test_there_are_cassettes() -> None:
    assert len([p for p in FILES if p.suffix == ".yaml"]) >= 120
    assert (CASSETTES / "README.md") in FILES
    for profile in PROFILES.values():
        assert len(list(profile.emulator_folder.glob("*.yaml"))) >= 35, profile.name


def _section(readme: str, exchange: str) -> str:
    start = readme.index(f"## `{exchange}/emulator/`")
    end = readme.find("\n## ", start + 1)
    return readme[start : end if end >= 0 else len(readme)]


def test_readme_says_where_each_cassette_came_from() -> None:
    readme = (CASSETTES / "README.md").read_text()
    for path in FILES:
        if path.suffix == ".yaml" and path.parent.name == "emulator":
            exchange = path.parent.parent.name
            assert f"| `{path.stem}` |" in _section(readme, exchange), (
                f"{exchange}/emulator/{path.name} is not described in README.md"
            )
        elif path.suffix == ".yaml":
            assert (path.parent / "PROVENANCE.md").is_file(), f"{path} has no PROVENANCE.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CASSETTES)))
def test_no_secret_in(path: Path) -> None:
    content = path.read_bytes()
    for secret in (TEST_SECRET, TEST_PASSPHRASE, *configured_secrets()):
        assert secret.encode() not in content, f"a secret ({secret[:3]}…) is in {path}"
    assert signature_problems(path) == []


# -- the scan itself catches what it should -----------------------------------------------


def _copy(tmp_path: Path, monkeypatch: Any, source: Path) -> tuple[str, Any]:
    monkeypatch.setattr(f"{__name__}.CASSETTES", tmp_path)
    original = source.read_text()

    def variant(name: str, old: str = "", new: str = "", count: int = 1) -> list[str]:
        path = tmp_path / f"{name}.yaml"
        if old:
            assert original.count(old) >= 1, old
            path.write_text(original.replace(old, new, count))
        else:
            path.write_text(original)
        return signature_problems(path)

    return original, variant


def test_the_scan_catches_a_foreign_signature(tmp_path: Path, monkeypatch: Any) -> None:
    original, variant = _copy(
        tmp_path, monkeypatch, CASSETTES / "bybit" / "emulator" / "fetch_balance.yaml"
    )
    sign = original.split("X-BAPI-SIGN:\n      - ", 1)[1].split("\n", 1)[0]
    assert variant("good") == []
    # As if signed with another secret.
    assert "does not verify with the test secret" in variant("forged", sign, "0" * 64)[0]
    # A real key's request, signature not filtered.
    assert "not the test key's" in variant("other-key", "- test-key", "- AbCdEfRealKey")[0]
    # The recorded query changed after signing.
    tampered = variant("tampered", "accountType=UNIFIED", "accountType=CONTRACT")
    assert "does not verify" in tampered[0]


def test_the_scan_catches_a_foreign_binance_signature(tmp_path: Path, monkeypatch: Any) -> None:
    original, variant = _copy(
        tmp_path, monkeypatch, CASSETTES / "binance" / "emulator" / "create_order.yaml"
    )
    assert variant("good") == []
    post_sign = original.split("&signature=", 2)[2].split("\n", 1)[0]  # in the POST's body
    forged = variant("forged", post_sign, "f" * 64)
    assert len(forged) == 1 and "#3 POST /api/v3/order" in forged[0]
    assert "does not verify with the test secret" in forged[0]
    get_sign = original.split("&signature=", 1)[1].split("\n", 1)[0]  # in a GET's query
    assert "does not verify" in variant("forged-get", get_sign, get_sign.upper()[::-1])[0]
    other = variant("other-key", "X-MBX-APIKEY:\n      - test-key", "X-MBX-APIKEY:\n      - Rk1")
    assert "not the test key's" in other[0]
    # A form byte changed after signing.
    assert "does not verify" in variant("tampered", "&quantity=0.01&", "&quantity=0.02&")[0]
    # The key header dropped but the signature kept: still not the test key's.
    dropped = variant("no-key", "      X-MBX-APIKEY:\n      - test-key\n", "", count=2)
    assert dropped and all("not the test key's" in p for p in dropped)


def test_the_scan_catches_a_foreign_okx_signature(tmp_path: Path, monkeypatch: Any) -> None:
    original, variant = _copy(
        tmp_path, monkeypatch, CASSETTES / "okx" / "emulator" / "create_order.yaml"
    )
    assert variant("good") == []
    sign = original.split("OK-ACCESS-SIGN:\n      - ", 1)[1].split("\n", 1)[0]
    assert "does not verify with the test secret" in variant("forged", sign, "A" * 44)[0]
    other = variant("other-key", "OK-ACCESS-KEY:\n      - test-key", "OK-ACCESS-KEY:\n      - Rk1")
    assert "not the test key's" in other[0]
    stamp = "'2026-01-01T00:00:00.000Z'"
    assert "does not verify" in variant("restamped", stamp, "'2026-01-01T00:00:00.001Z'")[0]
    assert "does not verify" in variant("tampered", '"sz":"0.01"', '"sz":"0.02"')[0]
    passphrase = variant(
        "passphrase",
        "      OK-ACCESS-SIGN:\n",
        "      OK-ACCESS-PASSPHRASE:\n      - anything\n      OK-ACCESS-SIGN:\n",
    )
    assert passphrase == [
        "passphrase.yaml #2 GET /api/v5/account/config: a passphrase header "
        "(OK-ACCESS-PASSPHRASE) is stored"
    ]
    unknown = variant("unknown", "OK-ACCESS-SIGN:", "OK-ACCESS-SIGN-V2:")
    assert "unknown signature header OK-ACCESS-SIGN-V2" in unknown[0]


def test_configured_secrets_of_every_exchange(tmp_path: Path) -> None:
    pem = tmp_path / "key.pem"
    line = "MC4CAQAwBQYDK2VwBCIEIGxvbmdlbm91Z2h0b2JlYWtleWxpbmVmb3J0ZXN0aW5n"
    pem.write_text(f"-----BEGIN PRIVATE KEY-----\n{line}\n-----END PRIVATE KEY-----\n")
    env = {
        "BINANCE_TESTNET_API_KEY": "binance-real-key",
        "BINANCE_DEMO_API_PRIVATE_KEY": str(pem),
        "OKX_DEMO_API_SECRET": "okx-real-secret",
        "OKX_DEMO_API_PASSPHRASE": "okx-real-passphrase",
        "OKX_API_KEY": TEST_KEY,  # the published fake key is no secret
        "BYBIT_DEMO_API_SECRET": " ",  # empty
        "KRAKEN_API_SECRET": "not-ours",
    }
    found = configured_secrets(env)
    assert {"binance-real-key", "okx-real-secret", "okx-real-passphrase", line} <= set(found)
    assert "not-ours" not in found and TEST_KEY not in found
