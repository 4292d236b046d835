"""Bybit's ``nextPageCursor`` goes back exactly as received, against the emulator.

The emulator hands out cursors the way Bybit does, already percent-encoded
(``page_token%3D50%3A0%2C50%3A0``), decodes the query string once and refuses any cursor it did
not hand out with retCode 10001, so a cursor encoded a second time (``%253D``) is refused. Our
client (three transports), pybit and ccxt all page through more than one page of open orders,
closed orders, executions and instruments ("cursor: Use the nextPageCursor token from the
response to retrieve the next page of the result set",
https://bybit-exchange.github.io/docs/v5/order/open-order Request Parameters).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from pybit.unified_trading import HTTP

import exchanges
from exchanges.emulator import DEFAULT_UID, Emulator
from exchanges.emulator.server import Incoming, Outgoing
from tests.integration.test_bybit_emulator import signed
from tests.integration.test_real_clients import ccxt_client

pytestmark = pytest.mark.timeout(120)

OPEN, CLOSED, FILLS = 51, 51, 101  # one more than a full page of each listing


def seed(emu: Emulator) -> None:
    """51 resting and 51 cancelled SOL/USDT orders, 101 ETH/USDT market fills (in-process)."""
    engine = emu.state.engine
    with emu.state.lock:
        for i in range(OPEN + CLOSED):
            order = engine.place_order(
                DEFAULT_UID,
                "SOLUSDT",
                "buy",
                "limit",
                Decimal("0.1"),
                price=Decimal("100") + Decimal(i) / 100,
                client_order_id=f"page-{i:03d}",
                category="spot",
            )
            if i >= OPEN:
                engine.cancel_order(
                    DEFAULT_UID, "SOLUSDT", order_id=order.order_id, category="spot"
                )
        for _ in range(FILLS):
            engine.place_order(
                DEFAULT_UID, "ETHUSDT", "buy", "market", Decimal("0.001"), category="spot"
            )


def more_instruments(emu: Emulator, count: int = 1001) -> None:
    """``count`` more linear contracts: more than the 1000 a page of instruments holds."""
    engine = emu.state.engine
    with emu.state.lock:
        template = engine.instruments[("linear", "BTCUSDT")]
        for i in range(count):
            spec = attrs.evolve(template, symbol=f"X{i:04d}USDT", base=f"X{i:04d}")
            engine.instruments[spec.key] = spec


Exchange = tuple[str, Callable[[], Any]]


def record(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Incoming, Outgoing]]:
    """Every request as the emulator received it (raw query string), with its answer."""
    seen: list[tuple[Incoming, Outgoing]] = []
    front = emu.server.front
    handle = front.handle

    def recording(request: Incoming) -> Outgoing | None:
        answer = handle(request)
        if answer is not None:
            seen.append((request, answer))
        return answer

    monkeypatch.setattr(front, "handle", recording)
    return seen


def raw_cursor(query: str) -> str | None:
    """The cursor parameter exactly as it stands in a raw query string."""
    match = re.search(r"(?:^|&)cursor=([^&]*)", query)
    return match.group(1) if match else None


def check_paging(
    seen: list[tuple[Incoming, Outgoing]], path: str, pages: int, where: str = ""
) -> None:
    """``pages`` requests to ``path`` (whose query has ``where``), each after the first carrying
    the cursor of the one before, byte for byte as it was in the response."""
    calls = [(i, o) for i, o in seen if i.path == path and where in i.query]
    # ccxt also asks for pre-listed instruments (status=PreLaunch): a listing of its own.
    calls = [(i, o) for i, o in calls if "status=" not in i.query]
    assert len(calls) == pages, [i.query for i, _ in calls]
    previous: str | None = None
    for incoming, outgoing in calls:
        answer = json.loads(outgoing.body)
        assert answer["retCode"] == 0, answer
        assert raw_cursor(incoming.query) == previous
        previous = answer["result"]["nextPageCursor"] or None
        if previous is not None:
            # Bybit's cursors need percent-encoding: re-encoding one would change it.
            assert "%3A" in previous and quote(previous, safe="") != previous
    assert previous is None


@pytest.fixture(params=["stdlib", "urllib3", "async"])
async def ex(
    request: pytest.FixtureRequest, emulator: Emulator, credentials: exchanges.Credentials
) -> AsyncIterator[Any]:
    url = emulator.base_url
    if request.param == "async":
        async with exchanges.connect_async("bybit", base_url=url, credentials=credentials) as c:
            yield c
    else:
        with exchanges.connect(
            "bybit", base_url=url, credentials=credentials, transport=request.param
        ) as c:
            yield c


async def call(ex: Any, name: str, *args: Any) -> Any:
    result = getattr(ex, name)(*args)
    return await result if inspect.isawaitable(result) else result


async def test_our_client_pages_with_the_cursor_as_received(
    ex: Any, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(emulator)
    more_instruments(emulator)
    seen = record(emulator, monkeypatch)

    markets = await call(ex, "load_markets")
    assert "X1000/USDT:USDT" in markets and len(markets) == 6 + 1001
    check_paging(seen, "/v5/market/instruments-info", 2, "category=linear")

    opened = await call(ex, "fetch_open_orders", "SOL/USDT")
    assert len(opened) == OPEN
    check_paging(seen, "/v5/order/realtime", 2)

    closed = await call(ex, "fetch_closed_orders", "SOL/USDT")
    assert len(closed) == CLOSED and {o.status for o in closed} == {"canceled"}
    check_paging(seen, "/v5/order/history", 3)  # the history lists the open orders too

    fills = await call(ex, "fetch_my_trades", "ETH/USDT")
    assert len(fills) >= FILLS
    check_paging(seen, "/v5/execution/list", 2)


def test_a_cursor_encoded_twice_is_refused(emulator: Emulator) -> None:
    seed(emulator)
    first = "/v5/order/realtime?category=spot&symbol=SOLUSDT&limit=50"
    stamp = emulator.state.now_ms
    page = signed(emulator, "GET", first, "5000", stamp())
    cursor = page["result"]["nextPageCursor"]
    assert len(page["result"]["list"]) == 50 and cursor
    as_received = signed(emulator, "GET", f"{first}&cursor={cursor}", "5000", stamp())
    assert as_received["retCode"] == 0 and len(as_received["result"]["list"]) == 1
    twice = quote(cursor, safe="")
    assert twice != cursor
    refused = signed(emulator, "GET", f"{first}&cursor={twice}", "5000", stamp())
    assert (refused["retCode"], refused["retMsg"]) == (10001, "params error: cursor invalid")
    made_up = signed(emulator, "GET", f"{first}&cursor=page_args%3D50%26", "5000", stamp())
    assert made_up["retCode"] == 10001


def test_pybit_pages_with_the_cursor_as_received(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(emulator)
    more_instruments(emulator)
    seen = record(emulator, monkeypatch)
    # pybit with its defaults; only its endpoint points at the emulator.
    session = HTTP(api_key="test-key", api_secret="test-secret")
    session.endpoint = emulator.base_url

    def every(method: Callable[..., Any], **kwargs: Any) -> list[Any]:
        items: list[Any] = []
        cursor = None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            result = method(**kwargs, **extra)["result"]
            items += result["list"]
            cursor = result["nextPageCursor"]
            if not cursor:
                return items

    assert len(every(session.get_instruments_info, category="linear", limit=1000)) == 1003
    check_paging(seen, "/v5/market/instruments-info", 2)
    spot = {"category": "spot"}
    assert len(every(session.get_open_orders, **spot, symbol="SOLUSDT", limit=50)) == OPEN
    check_paging(seen, "/v5/order/realtime", 2)
    assert len(every(session.get_order_history, **spot, symbol="SOLUSDT", limit=50)) == 102
    check_paging(seen, "/v5/order/history", 3)
    assert len(every(session.get_executions, **spot, symbol="ETHUSDT", limit=100)) >= FILLS
    check_paging(seen, "/v5/execution/list", 2)


def test_ccxt_pages_with_the_cursor_as_received(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(emulator)
    more_instruments(emulator)
    seen = record(emulator, monkeypatch)
    exchange = ccxt_client(emulator)
    markets = exchange.load_markets()
    assert "X1000/USDT:USDT" in markets
    check_paging(seen, "/v5/market/instruments-info", 2, "category=linear")
    # ccxt's own cursor pagination ("paginate": True), its other settings left as they are.
    paginate = {"paginate": True}
    assert len(exchange.fetch_open_orders("SOL/USDT", None, None, paginate)) == OPEN
    check_paging(seen, "/v5/order/realtime", 2)
    # fetch_closed_orders asks for orderStatus=Filled only: the cancelled ones come from here.
    history = exchange.fetch_canceled_and_closed_orders("SOL/USDT", None, None, paginate)
    assert len(history) == OPEN + CLOSED
    check_paging(seen, "/v5/order/history", 3)
    assert len(exchange.fetch_my_trades("ETH/USDT", None, None, paginate)) >= FILLS
    check_paging(seen, "/v5/execution/list", 2)
