"""Binance's official SDK (binance-connector 3.13) speaks to the emulator's WebSockets unchanged.

Only the SDK's base URL points at the emulator: ``SpotWebsocketStreamClient`` subscribes to the
diff depth stream and receives a book update; ``SpotWebsocketAPIClient`` subscribes the account's
user data with ``userDataStream.subscribe.signature`` (signed by the SDK's own
``websocket_api_signature``; 3.13 has no method of its own for it, so the request goes through
its ``send``) and receives the fill of an order placed over REST. binance-connector 3.13 has no
USD-M WebSocket client. Every wait is bounded.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.lib.utils import websocket_api_signature
from binance.websocket.spot.websocket_api import SpotWebsocketAPIClient
from binance.websocket.spot.websocket_stream import SpotWebsocketStreamClient

import exchanges
from exchanges.emulator import Emulator
from tests.conftest import TEST_KEY, TEST_SECRET

pytestmark = pytest.mark.timeout(60)
WAIT = 15.0


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        yield emulator


@pytest.fixture
def ex(emu: Emulator) -> Iterator[exchanges.Exchange]:
    credentials = exchanges.Credentials(TEST_KEY, TEST_SECRET)
    with exchanges.connect("binance", base_url=emu.base_url, credentials=credentials) as client:
        yield client


def wait_for(received: queue.Queue[dict[str, Any]], check: Any) -> dict[str, Any]:
    while True:
        message = received.get(timeout=WAIT)
        if check(message):
            return message


def collector() -> tuple[queue.Queue[dict[str, Any]], Any]:
    received: queue.Queue[dict[str, Any]] = queue.Queue()

    def on_message(_: Any, text: str) -> None:
        received.put(json.loads(text))

    return received, on_message


def stop(client: Any) -> None:
    client.stop()
    # The SDK sends the close frame and joins its thread, but leaves its socket to the
    # garbage collector: closed here so the test leaves nothing open.
    client.socket_manager.ws.shutdown()


def test_the_sdk_stream_client_receives_a_book_update(
    emu: Emulator, ex: exchanges.Exchange
) -> None:
    received, on_message = collector()
    host = emu.base_url.replace("http://", "ws://")
    client = SpotWebsocketStreamClient(stream_url=host, on_message=on_message)
    try:
        client.diff_book_depth(symbol="btcusdt", speed=100, id=1)
        assert wait_for(received, lambda m: "result" in m) == {"result": None, "id": 1}
        ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.02"), price=Decimal(60000))
        update = wait_for(received, lambda m: m.get("e") == "depthUpdate")
        assert ["60000.00000000", "0.02000000"] in update["b"] and update["U"] <= update["u"]
    finally:
        stop(client)


def test_the_sdk_api_client_receives_a_fill(emu: Emulator, ex: exchanges.Exchange) -> None:
    received, on_message = collector()
    host = emu.base_url.replace("http://", "ws://")
    client = SpotWebsocketAPIClient(
        stream_url=host + "/ws-api/v3",
        api_key=TEST_KEY,
        api_secret=TEST_SECRET,
        on_message=on_message,
    )
    try:
        params = websocket_api_signature(TEST_KEY, TEST_SECRET, {})
        client.send({"id": "sub", "method": "userDataStream.subscribe.signature", "params": params})
        answer = wait_for(received, lambda m: m.get("id") == "sub")
        assert answer["status"] == 200 and answer["result"] == {"subscriptionId": 0}
        placed = ex.create_order("BTC/USDT", "market", "buy", Decimal("0.01"))
        fill = wait_for(received, lambda m: m.get("event", {}).get("x") == "TRADE")["event"]
        assert (fill["e"], fill["X"], fill["i"]) == ("executionReport", "FILLED", int(placed.id))
        assert Decimal(fill["l"]) == Decimal("0.01") and fill["c"] == placed.client_order_id
    finally:
        stop(client)
