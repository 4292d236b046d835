"""Values an exchange hands back go back exactly as received: Bybit's ``nextPageCursor``.

Bybit's cursors come already percent-encoded (``1321052653536515584%3A1672217748287%2C...``)
and are to be sent back as they are ("cursor: Use the nextPageCursor token from the response to
retrieve the next page of the result set", https://bybit-exchange.github.io/docs/v5/order/open-order
Request Parameters). Encoding one again turns ``%3A`` into ``%253A``: a cursor Bybit does not know.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

import pytest

from adapters.bybit.requests import RequestBuilder
from exchanges.errors import BadResponse
from exchanges.wire import PreEncoded, encode_query, encode_value
from tests.fakes import FakeBybit, make_client

# The shape of Bybit's cursors (first and last id:time of the page, comma-separated), encoded.
CURSOR = "1321052653536515584%3A1672217748287%2C1321052653536515584%3A1672217748287"


def test_a_pre_encoded_value_goes_as_received_and_plain_values_are_still_encoded() -> None:
    query = encode_query([("category", "spot"), ("cursor", PreEncoded(CURSOR))])
    assert query == f"category=spot&cursor={CURSOR}"
    # The same text as a plain value is data, not an encoding: its "%" is encoded as always.
    assert encode_query([("cursor", CURSOR)]) == f"cursor={CURSOR.replace('%', '%25')}"
    assert encode_value(CURSOR) == CURSOR.replace("%", "%25")


def test_a_pre_encoded_value_cannot_change_the_query_around_it() -> None:
    # Only unreserved characters and %XX triplets travel as they are: a "&", "=", "#", space,
    # stray "%" or non-ASCII character in a cursor is encoded, so it stays one value.
    hostile = PreEncoded("a&b=c#d e%zz%%3/é+")
    assert encode_query([("cursor", hostile), ("x", "1")]) == (
        "cursor=a%26b%3Dc%23d%20e%25zz%25%253%2F%C3%A9%2B&x=1"
    )
    # Lowercase hex is the same octet (RFC 3986, section 2.1); urllib3 would upper-case it after
    # signing, so it is upper-cased before.
    assert encode_query([("cursor", PreEncoded("id%3a1%2c2"))]) == "cursor=id%3A1%2C2"
    assert encode_query([("cursor", PreEncoded(""))]) == "cursor="


def test_the_instruments_request_carries_the_cursor_as_received() -> None:
    request = RequestBuilder("https://h").instruments("linear", PreEncoded(CURSOR))
    assert request.query == f"category=linear&limit=1000&cursor={CURSOR}"


def test_the_adapter_sends_the_cursor_as_received_and_signs_those_bytes() -> None:
    fake = FakeBybit()
    second = "page_token%3D2%3A0%2C2%3A0"
    pages = {None: (second, ["a", "b"]), second: ("", ["c"])}
    sent_cursors: list[str | None] = []

    def realtime(prepared: object) -> object:
        query = urlsplit(prepared.url).query  # type: ignore[attr-defined]
        raw = dict(pair.split("=", 1) for pair in query.split("&")).get("cursor")
        sent_cursors.append(raw)
        nxt, ids = pages[raw]
        items = [{"orderId": i, "symbol": "BTCUSDT", "orderStatus": "New"} for i in ids]
        return fake.ok({"list": items, "nextPageCursor": nxt})

    fake.on("GET", "/v5/order/realtime", realtime)
    orders = make_client(fake).fetch_open_orders("BTC/USDT")
    assert [o.id for o in orders] == ["a", "b", "c"]
    assert sent_cursors == [None, second]
    paged = [p for p in fake.sent if "/v5/order/realtime" in p.url][1]
    query = urlsplit(paged.url).query
    assert query.endswith(f"&cursor={second}")
    # The signature covers exactly the query string on the request line.
    headers = paged.headers
    message = (
        headers["X-BAPI-TIMESTAMP"]
        + headers["X-BAPI-API-KEY"]
        + headers["X-BAPI-RECV-WINDOW"]
        + query
    ).encode()
    assert headers["X-BAPI-SIGN"] == hmac.new(b"test-secret", message, hashlib.sha256).hexdigest()


def test_a_cursor_that_is_not_a_string_is_a_bad_response() -> None:
    fake = FakeBybit()
    page = {"list": [{"orderId": "a", "symbol": "BTCUSDT", "orderStatus": "New"}]}
    fake.on("GET", "/v5/order/realtime", lambda p: fake.ok({**page, "nextPageCursor": {"a": 1}}))
    with pytest.raises(BadResponse, match="nextPageCursor"):
        make_client(fake).fetch_open_orders("BTC/USDT")
