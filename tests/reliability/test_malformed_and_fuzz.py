"""Malformed responses and fuzzed arguments (issue 11, items 4 and 5).

Responses: every interface method is run against answers recorded from the emulator, with one
answer on its path replaced by an HTML error page, an empty or truncated body, or the same JSON
with keys removed, types changed or numbers made huge. The call must return a model or raise
one of the library's errors with a hint: never ``KeyError``, ``AttributeError``, ``TypeError``,
``IndexError`` or a hang.

Arguments: arbitrary symbols, amounts, sides, types and client ids give only the library's
errors, ``ValueError`` or ``TypeError`` with a message, and invalid input sends no order.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exchanges
from exchanges.emulator import Emulator
from exchanges.transport.stdlib import StdlibTransport
from exchanges.wire import Prepared, Response
from tests.fakes import make_client

pytestmark = pytest.mark.timeout(300)

CALLS: dict[str, Callable[[exchanges.Exchange], Any]] = {
    "fetch_time": lambda ex: ex.fetch_time(),
    "load_markets": lambda ex: ex.load_markets(reload=True),
    "fetch_ticker": lambda ex: ex.fetch_ticker("BTC/USDT"),
    "fetch_tickers": lambda ex: ex.fetch_tickers(["BTC/USDT", "BTC/USDT:USDT"]),
    "fetch_order_book": lambda ex: ex.fetch_order_book("BTC/USDT:USDT", 5),
    "fetch_trades": lambda ex: ex.fetch_trades("BTC/USDT", 5),
    "fetch_ohlcv": lambda ex: ex.fetch_ohlcv("BTC/USDT", "1h", None, 3),
    "fetch_balance": lambda ex: ex.fetch_balance(),
    "fetch_trading_fee": lambda ex: ex.fetch_trading_fee("BTC/USDT"),
    "create_order": lambda ex: ex.create_order(
        "BTC/USDT", "limit", "buy", Decimal("0.001"), Decimal("30000"), client_order_id="fz-1"
    ),
    "amend_order": lambda ex: ex.amend_order(
        None, "BTC/USDT", price=Decimal("30001"), client_order_id="fz-1"
    ),
    "fetch_order": lambda ex: ex.fetch_order(None, "BTC/USDT", client_order_id="fz-1"),
    "fetch_open_orders": lambda ex: ex.fetch_open_orders(),
    "cancel_order": lambda ex: ex.cancel_order(None, "BTC/USDT", client_order_id="fz-1"),
    "fetch_closed_orders": lambda ex: ex.fetch_closed_orders("BTC/USDT"),
    "market_order": lambda ex: ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.01")),
    "fetch_my_trades": lambda ex: ex.fetch_my_trades(),
    "fetch_positions": lambda ex: ex.fetch_positions(),
    "cancel_all_orders": lambda ex: ex.cancel_all_orders(),
    "fetch_key_info": lambda ex: ex.fetch_key_info(),
}


class Recorder(StdlibTransport):
    """A real transport that keeps the last body seen per (method, path)."""

    def __init__(self) -> None:
        super().__init__(timeout=5)
        self.bodies: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.paths: list[tuple[str, str]] = []

    def send(self, prepared: Prepared) -> Response:
        response = super().send(prepared)
        key = (prepared.method, urlsplit(prepared.url).path)
        self.bodies[key] = (response.status, response.body)
        self.paths.append(key)
        return response


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    """Real answers of the emulator for every call, and the paths each call used."""
    with Emulator("bybit", seed=3) as emu:
        transport = Recorder()
        ex = exchanges.connect(
            "bybit",
            base_url=emu.base_url,
            credentials=exchanges.Credentials("test-key", "test-secret"),
        )
        ex.transport = transport
        uses: dict[str, list[tuple[str, str]]] = {}
        for name, call in CALLS.items():
            transport.paths.clear()
            call(ex)
            uses[name] = sorted(set(transport.paths))
        # The lookups that reconcile an order whose outcome is unknown.
        uses["create_order"] += [("GET", "/v5/order/realtime"), ("GET", "/v5/order/history")]
        ex.close()
        return {"bodies": transport.bodies, "uses": uses}


class Replay:
    """Answers from the recording, with one path's answer replaced."""

    def __init__(
        self,
        bodies: dict[tuple[str, str], tuple[int, bytes]],
        target: tuple[str, str],
        replacement: tuple[int, bytes],
    ) -> None:
        self.bodies = bodies
        self.target = target
        self.replacement = replacement
        self.sent: list[Prepared] = []

    def send(self, prepared: Prepared) -> Response:
        self.sent.append(prepared)
        key = (prepared.method, urlsplit(prepared.url).path)
        status, body = self.replacement if key == self.target else self.bodies[key]
        return Response(status, {}, body, prepared.request)

    def close(self) -> None:
        pass


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from(["", "x", "1e999999", "9" * 400, "-1", "NaN", "Infinity", "0.0.1"]),
    st.just([]),
    st.just({}),
    st.just([1, "a", None]),
    st.just({"list": "no"}),
)


def mutate(value: Any, draw: Any, depth: int = 0) -> Any:
    """Remove keys, swap types and plant huge numbers somewhere in a JSON value."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            action = draw(st.integers(0, 9))
            if action == 0:
                continue  # a missing key
            if action == 1:
                out[key] = draw(JUNK)  # a wrong type or a silly number
            else:
                out[key] = mutate(item, draw, depth + 1) if depth < 6 else item
        return out
    if isinstance(value, list):
        items = [mutate(item, draw, depth + 1) for item in value[:5]]
        if items and draw(st.booleans()):
            items.append(draw(JUNK))
        return items
    return value


@st.composite
def replacements(draw: Any, original: bytes) -> tuple[int, bytes]:
    kind = draw(st.sampled_from(["html403", "html502", "empty", "truncated", "garbage", "json"]))
    if kind == "html403":
        return 403, b"<html><body><h1>403 Forbidden</h1></body></html>"
    if kind == "html502":
        return 502, b"<html><title>502 Bad Gateway</title></html>"
    if kind == "empty":
        return 200, b""
    if kind == "truncated":
        return 200, original[: draw(st.integers(0, max(len(original) - 1, 0)))]
    if kind == "garbage":
        return 200, draw(st.binary(max_size=64))
    data = json.loads(original)
    return 200, json.dumps(mutate(data, draw)).encode()


ALLOWED = (exchanges.ExchangeError,)


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_answers_give_library_errors(
    recorded: dict[str, Any], name: str, data: Any
) -> None:
    uses = recorded["uses"][name]
    target = data.draw(st.sampled_from(uses))
    original = recorded["bodies"].get(target, (200, b'{"retCode":0,"result":{}}'))[1]
    replacement = data.draw(replacements(original))
    replay = Replay(recorded["bodies"], target, replacement)
    ex = make_client(replay)  # type: ignore[arg-type]
    try:
        CALLS[name](ex)
    except ALLOWED as err:
        assert err.hint, f"{type(err).__name__} without a hint"
        assert err.exchange == "bybit" or err.exchange is None
    assert len(replay.sent) < 60  # bounded: retries and lookups stop by themselves


SYMBOLS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["BTC/USDT", "BTC/USDT:USDT", "btc/usdt", "BTC/USD:BTC", "DOGE/USDT"]),
    st.builds(lambda a, b: f"{a}/{b}", st.text(max_size=6), st.text(max_size=6)),
    st.integers(),
    st.none(),
)
AMOUNTS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**40), 10**40),
    st.text(max_size=12),
    st.just(Decimal("1234567890123456789012345678901234567890")),
    st.just(Decimal("0.0000000000000000000000000000000000000001")),
    st.none(),
    st.booleans(),
)
SIDES = st.one_of(st.sampled_from(["buy", "sell", "BUY", "Buy", ""]), st.text(max_size=5))
TYPES = st.one_of(st.sampled_from(["limit", "market", "LIMIT", "stop"]), st.text(max_size=5))
CLIENT_IDS = st.one_of(st.none(), st.text(max_size=50), st.from_regex(r"[A-Za-z0-9_-]{1,36}"))


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(SYMBOLS, TYPES, SIDES, AMOUNTS, AMOUNTS, CLIENT_IDS, st.booleans(), st.booleans())
def test_fuzzed_create_order_arguments(
    recorded: dict[str, Any],
    symbol: Any,
    type_: Any,
    side: Any,
    amount: Any,
    price: Any,
    client_order_id: Any,
    post_only: bool,
    reduce_only: bool,
) -> None:
    replay = Replay(recorded["bodies"], ("", ""), (200, b""))
    ex = make_client(replay)  # type: ignore[arg-type]
    try:
        ex.create_order(
            symbol,
            type_,
            side,
            amount,
            price,
            client_order_id=client_order_id,
            post_only=post_only,
            reduce_only=reduce_only,
        )
    except (exchanges.BadRequest, exchanges.InvalidOrder) as err:
        assert err.message and err.hint
        if err.code is None:  # refused locally: nothing may have been sent as an order
            assert not any("/v5/order/create" in p.url for p in replay.sent)
    except (ValueError, TypeError) as err:
        assert str(err)
        assert not any("/v5/order/create" in p.url for p in replay.sent)
    except exchanges.ExchangeError as err:
        assert err.hint


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(
        [
            "fetch_ticker",
            "fetch_order_book",
            "fetch_trades",
            "fetch_ohlcv",
            "cancel_order",
            "fetch_order",
            "amend_order",
            "fetch_positions",
            "fetch_my_trades",
            "fetch_closed_orders",
        ]
    ),
    SYMBOLS,
    st.one_of(st.none(), st.integers(), st.text(max_size=4)),
    CLIENT_IDS,
    AMOUNTS,
)
def test_fuzzed_other_arguments(
    recorded: dict[str, Any], method: str, symbol: Any, limit: Any, cid: Any, amount: Any
) -> None:
    replay = Replay(recorded["bodies"], ("", ""), (200, b""))
    ex = make_client(replay)  # type: ignore[arg-type]
    calls: dict[str, Callable[[], Any]] = {
        "fetch_ticker": lambda: ex.fetch_ticker(symbol),
        "fetch_order_book": lambda: ex.fetch_order_book(symbol, limit),
        "fetch_trades": lambda: ex.fetch_trades(symbol, limit),
        "fetch_ohlcv": lambda: ex.fetch_ohlcv(symbol, "1m", limit, limit),
        "cancel_order": lambda: ex.cancel_order(limit, symbol, client_order_id=cid),
        "fetch_order": lambda: ex.fetch_order(limit, symbol, client_order_id=cid),
        "amend_order": lambda: ex.amend_order(limit, symbol, amount=amount, client_order_id=cid),
        "fetch_positions": lambda: ex.fetch_positions(symbol),
        "fetch_my_trades": lambda: ex.fetch_my_trades(symbol, limit, limit),
        "fetch_closed_orders": lambda: ex.fetch_closed_orders(symbol, limit, limit),
    }
    try:
        calls[method]()
    except exchanges.ExchangeError as err:
        assert err.hint
    except (ValueError, TypeError) as err:
        assert str(err)
    writes = [p for p in replay.sent if p.method == "POST"]
    assert len(writes) <= 2
