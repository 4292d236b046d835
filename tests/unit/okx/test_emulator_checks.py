"""The OKX emulator front-end's request checks, called directly (no HTTP)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import pytest

from adapters.okx.emulator import OkxFrontEnd
from adapters.okx.signer import iso_timestamp
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import EmulatorState, Incoming

NOW = 1_700_000_000_000


@pytest.fixture
def front() -> OkxFrontEnd:
    state = EmulatorState(seed=3, wall_ms=lambda: NOW)
    state.add_key(ApiKey("k", 1001, secret="s", passphrase="p"))
    return OkxFrontEnd(state)


def incoming(
    method: str,
    target: str,
    body: bytes = b"",
    *,
    stamp: str | None = None,
    secret: str = "s",
    drop: str = "",
    **extra: str,
) -> Incoming:
    path, _, query = target.partition("?")
    stamp = iso_timestamp(NOW) if stamp is None else stamp
    digest = hmac.new(secret.encode(), f"{stamp}{method}{target}".encode() + body, hashlib.sha256)
    headers = {
        "OK-ACCESS-KEY": "k",
        "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": "p",
        "Content-Type": "application/json",
        **extra,
    }
    headers.pop(drop, None)
    return Incoming(method, path, query, body, headers, "127.0.0.1")


def answer(front: OkxFrontEnd, request: Incoming) -> tuple[int, dict[str, Any]]:
    out = front.handle(request)
    assert out is not None
    return out.status, json.loads(out.body)


@pytest.mark.parametrize(
    ("drop", "code"),
    [
        ("OK-ACCESS-KEY", "50103"),
        ("OK-ACCESS-PASSPHRASE", "50104"),
        ("OK-ACCESS-SIGN", "50106"),
        ("OK-ACCESS-TIMESTAMP", "50107"),
    ],
)
def test_missing_headers(front: OkxFrontEnd, drop: str, code: str) -> None:
    status, body = answer(front, incoming("GET", "/api/v5/account/balance", drop=drop))
    assert (status, body["code"], body["data"]) == (401, code, [])


def test_timestamp_format_and_window(front: OkxFrontEnd) -> None:
    unix = incoming("GET", "/api/v5/account/balance", stamp=str(NOW))
    assert answer(front, unix)[1]["code"] == "50112"
    edge = incoming("GET", "/api/v5/account/balance", stamp=iso_timestamp(NOW - 30_000))
    assert answer(front, edge)[1]["code"] == "0"
    late = incoming("GET", "/api/v5/account/balance", stamp=iso_timestamp(NOW - 30_001))
    early = incoming("GET", "/api/v5/account/balance", stamp=iso_timestamp(NOW + 30_001))
    assert answer(front, late) == (
        401,
        {"code": "50102", "msg": "Timestamp request expired.", "data": []},
    )
    assert answer(front, early)[1]["code"] == "50102"


def test_signature_covers_raw_query_and_body(front: OkxFrontEnd) -> None:
    good = incoming("GET", "/api/v5/trade/orders-pending?instType=SPOT&limit=5")
    assert answer(front, good)[1]["code"] == "0"
    # The same parameters in another order are other bytes: refused.
    signed = incoming("GET", "/api/v5/trade/orders-pending?instType=SPOT&limit=5")
    reordered = Incoming(
        "GET", signed.path, "limit=5&instType=SPOT", b"", signed.headers, signed.remote
    )
    assert answer(front, reordered) == (
        401,
        {"code": "50113", "msg": "Invalid signature.", "data": []},
    )
    body = (
        b'{"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "market", '
        b'"sz": "0.001", "tgtCcy": "base_ccy", "ccy": "", "attachAlgoOrds": null}'
    )
    status, placed = answer(front, incoming("POST", "/api/v5/trade/order", body))
    assert (status, placed["code"], placed["data"][0]["sCode"]) == (200, "0", "0")
    assert answer(front, incoming("GET", "/api/v5/account/balance", secret="x"))[1]["code"] == (
        "50113"
    )


def test_post_body_rules(front: OkxFrontEnd) -> None:
    assert answer(front, incoming("POST", "/api/v5/trade/order", b"")) == (
        400,
        {"code": "50000", "msg": "Body for POST request cannot be empty.", "data": []},
    )
    wrong_type = incoming("POST", "/api/v5/trade/order", b"{}", **{"Content-Type": "text/plain"})
    assert answer(front, wrong_type)[1]["code"] == "50006"
    assert answer(front, incoming("POST", "/api/v5/trade/order", b"{oops"))[1]["code"] == "50002"
    status, body = answer(front, incoming("POST", "/api/v5/trade/order", b"{}"))
    assert (status, body["code"]) == (400, "50014")


def test_order_items_carry_scode_and_subcode(front: OkxFrontEnd) -> None:
    def place(**fields: Any) -> dict[str, Any]:
        order = {
            "instId": "BTC-USDT",
            "tdMode": "cash",
            "side": "buy",
            "ordType": "limit",
            "sz": "0.01",
            "px": "60000",
            **fields,
        }
        return answer(front, incoming("POST", "/api/v5/trade/order", json.dumps(order).encode()))[1]

    first = place(clOrdId="c1")
    assert first["code"] == "0" and first["data"][0]["ordId"].isdigit()
    dup = place(clOrdId="c1")
    assert (dup["code"], dup["msg"]) == ("1", "All operations failed")
    assert (dup["data"][0]["sCode"], dup["data"][0]["clOrdId"]) == ("51016", "c1")
    broke = place(sz="100")
    assert (broke["data"][0]["sCode"], broke["data"][0]["subCode"]) == ("51008", "1000")
    assert place(clOrdId="not-alnum")["data"][0]["sCode"] == "51000"
    assert place(instId="NOPE-USDT")["data"][0]["sCode"] == "51001"
    assert place(sz="0.0000001")["data"][0]["sCode"] == "51020"  # below minSz
    swap = place(instId="BTC-USDT-SWAP", tdMode="cross", sz="0.15")
    assert swap["data"][0]["sCode"] == "51121"  # lotSz is 0.1 contract


def test_faults_say_whether_the_request_was_processed(front: OkxFrontEnd) -> None:
    request = incoming("GET", "/api/v5/account/balance")
    unprocessed = front.fault_response("server_error", request)
    assert (unprocessed.status, json.loads(unprocessed.body)["code"]) == (503, "50001")
    front.handle(request)
    processed = front.fault_response("server_error", request)
    assert (processed.status, json.loads(processed.body)["code"]) == (400, "50004")
    limited = front.fault_response("rate_limit", request)
    assert (limited.status, json.loads(limited.body)["code"]) == (429, "50011")


def test_contract_sizes_convert_both_ways(front: OkxFrontEnd) -> None:
    inverse = front.instruments["BTC-USD-SWAP"]
    assert inverse.to_engine(Decimal(3)) == 300 and str(inverse.from_engine(Decimal(300))) == "3"
    linear = front.instruments["BTC-USDT-SWAP"]
    assert linear.to_engine(Decimal("0.1")) == Decimal("0.001")
    assert front.instruments["BTC-USDT"].ct_val is None
    assert front.handle(incoming("GET", "/api/v5/unknown")) is None
