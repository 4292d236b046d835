"""The Binance emulator's WebSockets, spoken to with a bare aiohttp client on 127.0.0.1.

What Binance documents, checked frame by frame: control acks and error codes, raw and combined
framing, USD-M streams split by path (a wrong path is acked and silent), diff depth ids that a
REST snapshot's ``lastUpdateId`` fits into, listenKeys (POST/PUT/DELETE, ``-1125``, expiry), the
spot WebSocket API's ``userDataStream.subscribe.signature`` and its refusals, server pings, the
incoming-message limit. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

import exchanges
from adapters.binance.emulator_ws import sockets_of
from exchanges.emulator import Emulator
from tests.conftest import TEST_KEY, TEST_SECRET

pytestmark = pytest.mark.timeout(60)
WAIT = 10.0


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator("binance", seed=7) as emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[exchanges.AsyncExchange]:
    credentials = exchanges.Credentials(TEST_KEY, TEST_SECRET)
    async with exchanges.connect_async(
        "binance", base_url=emu.base_url, credentials=credentials
    ) as client:
        yield client


def ws_url(emu: Emulator, path: str) -> str:
    return emu.base_url.replace("http://", "ws://") + path


async def recv(ws: aiohttp.ClientWebSocketResponse, timeout: float = WAIT) -> Any:
    message = await ws.receive(timeout=timeout)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def until(ws: aiohttp.ClientWebSocketResponse, check: Any, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await recv(ws, max(0.01, deadline - time.monotonic()))
        if check(value):
            return value


def signed(params: dict[str, Any], secret: str = TEST_SECRET) -> dict[str, Any]:
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    sign = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return {**params, "signature": sign}


async def test_control_frames_acks_and_errors(emu: Emulator, http: aiohttp.ClientSession) -> None:
    sockets_of(emu.state).max_rate["spot"] = 100  # more frames a second than Binance takes
    async with http.ws_connect(ws_url(emu, "/ws")) as ws:
        await ws.send_str('{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}')
        assert await recv(ws) == {"result": None, "id": 1}
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":"two"}')
        assert await recv(ws) == {"result": ["btcusdt@aggTrade"], "id": "two"}
        await ws.send_str('{"method":"GET_PROPERTY","params":["combined"],"id":3}')
        assert await recv(ws) == {"result": False, "id": 3}
        await ws.send_str('{"method":"SET_PROPERTY","params":["nope",true],"id":4}')
        assert (await recv(ws))["code"] == 0
        await ws.send_str('{"method":"SET_PROPERTY","params":["combined","yes"],"id":5}')
        assert (await recv(ws))["code"] == 1
        await ws.send_str('{"method":"FLY","id":6}')
        refused = await recv(ws)
        assert refused["code"] == 2 and "unknown variant FLY" in refused["msg"]
        await ws.send_str("{not json")
        assert (await recv(ws))["code"] == 3
        # An unknown stream name is acked like any other (and never sends).
        await ws.send_str('{"method":"SUBSCRIBE","params":["nosuch@depth"],"id":7}')
        assert await recv(ws) == {"result": None, "id": 7}


async def test_spot_depth_ids_fit_the_rest_snapshot(
    emu: Emulator, http: aiohttp.ClientSession, ex: exchanges.AsyncExchange
) -> None:
    async with http.ws_connect(ws_url(emu, "/stream?streams=btcusdt@depth@100ms")) as ws:
        await ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), price=Decimal(60000))
        first = (await recv(ws))["data"]
        snapshot = await (await http.get(f"{emu.base_url}/api/v3/depth?symbol=BTCUSDT")).json()
        assert first["e"] == "depthUpdate" and first["U"] <= first["u"]
        assert ["60000.00000000", "0.01000000"] in first["b"]
        assert snapshot["lastUpdateId"] >= first["u"]
        await ex.create_order("BTC/USDT", "limit", "buy", Decimal("0.01"), price=Decimal(60001))
        second = (await recv(ws))["data"]
        assert second["U"] == first["u"] + 1  # contiguous: nothing went missing


async def test_usdm_streams_by_path_and_pu(
    emu: Emulator, http: aiohttp.ClientSession, ex: exchanges.AsyncExchange
) -> None:
    async with (
        http.ws_connect(ws_url(emu, "/public/ws/btcusdt@depth")) as public,
        http.ws_connect(ws_url(emu, "/market/ws/btcusdt@depth")) as wrong,
    ):
        await ex.create_order(
            "BTC/USDT:USDT", "limit", "buy", Decimal("0.01"), price=Decimal(50000)
        )
        first = await recv(public)
        await ex.create_order(
            "BTC/USDT:USDT", "limit", "buy", Decimal("0.01"), price=Decimal(50001)
        )
        second = await recv(public)
        assert second["pu"] == first["u"] and "T" in second
        with pytest.raises(TimeoutError):
            await recv(wrong, timeout=0.5)  # books belong on /public: silence on /market


async def test_listen_key_lifecycle_and_expiry(
    emu: Emulator, http: aiohttp.ClientSession, ex: exchanges.AsyncExchange
) -> None:
    headers = {"X-MBX-APIKEY": TEST_KEY}
    url = f"{emu.base_url}/fapi/v1/listenKey"
    key = (await (await http.post(url, headers=headers)).json())["listenKey"]
    assert (await (await http.post(url, headers=headers)).json())["listenKey"] == key
    assert (await http.put(url, headers=headers)).status == 200
    stream = ws_url(emu, f"/private/ws?listenKey={key}&events=ORDER_TRADE_UPDATE/listenKeyExpired")
    async with http.ws_connect(stream) as ws:
        await ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.01"))
        update = await recv(ws)
        assert update["e"] == "ORDER_TRADE_UPDATE" and update["o"]["x"] == "NEW"
        trade = await until(ws, lambda m: m["o"]["x"] == "TRADE")
        assert trade["o"]["X"] == "FILLED" and Decimal(trade["o"]["l"]) == Decimal("0.01")
        assert (await http.delete(url, headers=headers)).status == 200
        expired = await until(ws, lambda m: m["e"] == "listenKeyExpired")
        assert expired["listenKey"] == key and isinstance(expired["E"], str)
        await ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.01"))
        with pytest.raises(TimeoutError):
            await recv(ws, timeout=0.5)  # open, and silent: the key is gone
    refused = await http.put(url, headers=headers)
    assert (await refused.json())["code"] == -1125
    gone = await http.post(f"{emu.base_url}/api/v3/userDataStream", headers=headers)
    assert gone.status == 410


async def test_spot_user_data_over_the_ws_api(
    emu: Emulator, http: aiohttp.ClientSession, ex: exchanges.AsyncExchange
) -> None:
    async with http.ws_connect(ws_url(emu, "/ws-api/v3")) as api:
        now = int(time.time() * 1000)
        bad = signed({"apiKey": TEST_KEY, "timestamp": now}, secret="wrong")
        await api.send_str(
            json.dumps({"id": 1, "method": "userDataStream.subscribe.signature", "params": bad})
        )
        assert (await recv(api))["error"]["code"] == -1022
        unknown = signed({"apiKey": "nobody", "timestamp": now})
        await api.send_str(
            json.dumps({"id": 2, "method": "userDataStream.subscribe.signature", "params": unknown})
        )
        answer = await recv(api)
        assert (answer["status"], answer["error"]["code"]) == (401, -2015)
        good = signed({"apiKey": TEST_KEY, "timestamp": now})
        await api.send_str(
            json.dumps({"id": 3, "method": "userDataStream.subscribe.signature", "params": good})
        )
        assert await recv(api) == {"id": 3, "status": 200, "result": {"subscriptionId": 0}}
        await api.send_str(
            json.dumps({"id": 4, "method": "userDataStream.subscribe.signature", "params": good})
        )
        assert (await recv(api))["error"]["code"] == -2035
        await ex.create_order("BTC/USDT", "market", "buy", Decimal("0.01"))
        report = await until(api, lambda m: m.get("event", {}).get("x") == "TRADE")
        assert report["subscriptionId"] == 0 and report["event"]["X"] == "FILLED"
        position = await until(api, lambda m: m["event"]["e"] == "outboundAccountPosition")
        assert {b["a"] for b in position["event"]["B"]} >= {"BTC", "USDT"}
        await api.send_str('{"id":5,"method":"userDataStream.unsubscribe"}')
        assert (await recv(api))["status"] == 200
        assert (await recv(api))["event"]["e"] == "eventStreamTerminated"


async def test_server_pings_and_the_message_limit(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    sockets = sockets_of(emu.state)
    sockets.ping_interval["spot"] = 0.1
    async with http.ws_connect(ws_url(emu, "/ws"), autoping=True) as ws:
        deadline = time.monotonic() + WAIT
        while sockets.stats["pongs"] < 2:
            assert time.monotonic() < deadline
            # Reading is what answers the server's pings (aiohttp's autoping).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.receive(), 0.2)
        for n in range(8):
            await ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": n}))
        while True:
            message = await ws.receive(timeout=WAIT)
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert ws.close_code == 1008 and sockets.stats["rate_closes"] == 1
