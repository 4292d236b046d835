"""A scriptable fake Bybit behind a fake transport, for pipeline and adapter unit tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import exchanges
from adapters.bybit.adapter import BybitAdapter
from exchanges.clock import ServerClock
from exchanges.errors import ExchangeError
from exchanges.flow import Session
from exchanges.retry import RetryPolicy
from exchanges.wire import Prepared, Response

NOW = 1_700_000_000_000


def envelope(result: Any = None, code: int = 0, msg: str = "OK", time: int = NOW) -> bytes:
    return json.dumps(
        {"retCode": code, "retMsg": msg, "result": result or {}, "retExtInfo": {}, "time": time}
    ).encode()


SPOT_INSTRUMENT = {
    "symbol": "BTCUSDT",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "status": "Trading",
    "lotSizeFilter": {
        "basePrecision": "0.000001",
        "minOrderQty": "0.000048",
        "maxOrderQty": "71",
        "minOrderAmt": "1",
    },
    "priceFilter": {"tickSize": "0.01"},
}
LINEAR_INSTRUMENT = {
    "symbol": "BTCUSDT",
    "contractType": "LinearPerpetual",
    "status": "Trading",
    "baseCoin": "BTC",
    "quoteCoin": "USDT",
    "settleCoin": "USDT",
    "deliveryTime": "0",
    "priceFilter": {"tickSize": "0.10"},
    "lotSizeFilter": {
        "qtyStep": "0.001",
        "minOrderQty": "0.001",
        "maxOrderQty": "1190",
        "minNotionalValue": "5",
    },
}
KEY_INFO = {
    "readOnly": 0,
    "permissions": {"Spot": ["SpotTrade"]},
    "ips": ["1.2.3.4"],
    "expiredAt": "1970-01-01T00:00:00Z",
    "createdAt": "2026-01-01T00:00:00Z",
}


class FakeBybit:
    """Answers by (method, path) from a table of handlers; records every prepared request."""

    def __init__(self) -> None:
        self.sent: list[Prepared] = []
        self.handlers: dict[tuple[str, str], Callable[[Prepared], Response | Exception]] = {}
        self.server_time = NOW
        self.on(
            "GET",
            "/v5/market/time",
            lambda p: self.ok({"timeSecond": "1", "timeNano": str(self.server_time * 1_000_000)}),
        )
        self.on("GET", "/v5/market/instruments-info", self._instruments)
        self.on("GET", "/v5/user/query-api", lambda p: self.ok(KEY_INFO))

    def on(self, method: str, path: str, handler: Callable[[Prepared], Any]) -> None:
        self.handlers[(method, path)] = handler

    def ok(self, result: Any, headers: dict[str, str] | None = None) -> Response:
        return Response(200, headers or {}, envelope(result, time=self.server_time))

    def error(self, code: int, msg: str, headers: dict[str, str] | None = None) -> Response:
        return Response(200, headers or {}, envelope({}, code, msg, time=self.server_time))

    def _instruments(self, prepared: Prepared) -> Response:
        category = self.params(prepared)["category"]
        item = SPOT_INSTRUMENT if category == "spot" else LINEAR_INSTRUMENT
        items = [item] if category in ("spot", "linear") else []
        return self.ok({"category": category, "list": items, "nextPageCursor": ""})

    @staticmethod
    def params(prepared: Prepared) -> dict[str, Any]:
        if prepared.method == "GET":
            return dict(parse_qsl(urlsplit(prepared.url).query))
        loaded: dict[str, Any] = json.loads(prepared.body or b"{}")
        return loaded

    def paths(self) -> list[str]:
        return [f"{p.method} {urlsplit(p.url).path}" for p in self.sent]

    # the transport interface
    def send(self, prepared: Prepared) -> Response:
        self.sent.append(prepared)
        path = urlsplit(prepared.url).path
        handler = self.handlers.get((prepared.method, path))
        if handler is None:
            return Response(404, {}, b"<html>404</html>", prepared.request)
        result = handler(prepared)
        if isinstance(result, Exception):
            raise result
        result.request = prepared.request
        return result

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self, now: int = NOW) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_client(
    fake: FakeBybit,
    *,
    credentials: exchanges.Credentials | None = None,
    trade_credentials: exchanges.Credentials | None = None,
    allow_withdrawal_keys: bool = False,
    clock: FakeClock | None = None,
    env: str = "mainnet",
) -> exchanges.Exchange:
    adapter = BybitAdapter(env=env, base_url="https://fake.bybit")
    session = Session(
        adapter,
        credentials=credentials or exchanges.Credentials("test-key-123456", "test-secret"),
        trade_credentials=trade_credentials,
        clock=ServerClock(now_ms=clock or FakeClock()),
        retry=RetryPolicy(
            initial_wait=0.001, max_wait=0.002, min_rate_limit_wait=0.001, max_rate_limit_wait=0.01
        ),
        allow_withdrawal_keys=allow_withdrawal_keys,
    )
    session.limiter.enabled = False
    return exchanges.Exchange(adapter, session, fake)  # type: ignore[arg-type]


def raises(exc: ExchangeError) -> Callable[[Prepared], ExchangeError]:
    return lambda prepared: exc
