"""Section 2: sequential unified calls over one keep-alive connection to the canned server.

Per operation and run, every approach makes ``warmup`` untimed then ``n`` timed calls, each
timed on its own; the approaches' order is rotated per run. Approaches:

* ``hc``: stdlib ``http.client`` + ``json.loads``, signed by hand (the floor);
* ``urllib3``: a raw ``HTTPConnectionPool.urlopen`` as our transport calls it, + ``json.loads``;
* ``ours``: ``exchanges.connect("bybit", base_url=...)`` unified methods (Decimal models);
* ``ccxt``: ccxt's unified methods (markets preloaded, rate limiter off, unified account preset);
* ``pybit``: pybit's ``HTTP`` methods (raw dicts).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from benchmarks import fixtures
from benchmarks.harness import rotated, summary, time_each

KEY = fixtures.API_KEY
SECRET = fixtures.API_SECRET.encode()
RECV = str(fixtures.RECV_WINDOW)
SYMBOL = "BTC/USDT:USDT"
OB_QUERY = "category=linear&symbol=BTCUSDT&limit=50"
WALLET_QUERY = "accountType=UNIFIED"

OPS = ("time", "ob", "wallet", "order")
OP_TITLES = {
    "time": "fetch_time: GET /v5/market/time (public, 134 B)",
    "ob": "fetch_order_book(BTC/USDT:USDT, 50): GET /v5/market/orderbook (public, 2.3 KB)",
    "wallet": "fetch_balance: GET /v5/account/wallet-balance (signed, 2.2 KB)",
    "order": "create_order(BTC/USDT:USDT, limit, buy, 0.001, 65000.5): POST /v5/order/create "
    "(signed)",
}
#: Calls whose targets are judged (signed calls: the whole pipeline is exercised).
SIGNED_OPS = ("wallet", "order")
APPROACHES = ("hc", "urllib3", "ours", "ccxt", "pybit")
APPROACH_TITLES = {
    "hc": "stdlib http.client keep-alive + json.loads (signed by hand) — floor",
    "urllib3": "raw urllib3 HTTPConnectionPool.urlopen + json.loads (signed by hand)",
    "ours": "exchanges.connect('bybit') unified call",
    "ccxt": "ccxt.bybit unified call",
    "pybit": "pybit HTTP method",
}


def _signed_headers(payload: str, *, post: bool) -> dict[str, str]:
    ts = str(time.time_ns() // 1_000_000)
    sig = hmac.new(SECRET, (ts + KEY + RECV + payload).encode(), hashlib.sha256).hexdigest()
    headers = {
        "X-BAPI-API-KEY": KEY,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": RECV,
        "X-BAPI-SIGN": sig,
        "X-BAPI-SIGN-TYPE": "2",
    }
    if post:
        headers["Content-Type"] = "application/json"
    return headers


def _check(data: Any) -> Any:
    if not isinstance(data, dict) or data.get("retCode") != 0:
        raise RuntimeError(f"the canned server refused a call: {str(data)[:200]}")
    return data


class Raw:
    """The hand-written floors: ``http.client`` or raw ``urllib3``, signing by hand."""

    def __init__(self, base_url: str, kind: str) -> None:
        parts = urlsplit(base_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self.kind = kind
        if kind == "hc":
            self.conn = http.client.HTTPConnection(host, port, timeout=10)
        else:
            import urllib3

            self.pool = urllib3.HTTPConnectionPool(
                host, port, maxsize=1, retries=False, timeout=urllib3.Timeout(10)
            )

    def _send(self, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> Any:
        if self.kind == "hc":
            self.conn.request(method, target, body=body, headers=headers)
            return json.loads(self.conn.getresponse().read())
        raw = self.pool.urlopen(
            method, target, body=body, headers=headers, retries=False, redirect=False,
            assert_same_host=False, preload_content=True,
        )  # fmt: skip
        return json.loads(raw.data)

    def call(self, op: str) -> Callable[[], Any]:
        send = self._send
        if op == "time":
            return lambda: send("GET", "/v5/market/time", None, {})
        if op == "ob":
            return lambda: send("GET", "/v5/market/orderbook?" + OB_QUERY, None, {})
        if op == "wallet":
            return lambda: send(
                "GET",
                "/v5/account/wallet-balance?" + WALLET_QUERY,
                None,
                _signed_headers(WALLET_QUERY, post=False),
            )
        order = fixtures.BYBIT_ORDER

        def create() -> Any:
            body = json.dumps(order, separators=(",", ":"))
            return send("POST", "/v5/order/create", body.encode(), _signed_headers(body, post=True))

        return create

    def close(self) -> None:
        if self.kind == "hc":
            self.conn.close()
        else:
            self.pool.close()


#: ``connect(..., rate_limits=UNTHROTTLED)``: every documented limit scaled far beyond what a
#: benchmark sends. The limiter still books each request on the keys users' requests count
#: towards, so the benchmark pays for that as users do, but it never waits (ccxt runs with
#: enableRateLimit=False); the documented 10 orders/s would otherwise set the pace.
UNTHROTTLED = 100_000


class Ours:
    def __init__(self, base_url: str) -> None:
        import exchanges

        self.ex = exchanges.connect(
            "bybit",
            base_url=base_url,
            credentials=exchanges.Credentials(KEY, fixtures.API_SECRET),
            rate_limits=UNTHROTTLED,
        )
        # Warm up: clock sync, linear markets, and the trading key's one-time check.
        self.ex.fetch_time()
        self.ex.fetch_order_book(SYMBOL, 50)
        self.ex.fetch_balance()
        self.call("order")()

    def call(self, op: str) -> Callable[[], Any]:
        ex = self.ex
        if op == "time":
            return ex.fetch_time
        if op == "ob":
            return lambda: ex.fetch_order_book(SYMBOL, 50)
        if op == "wallet":
            return ex.fetch_balance
        amount, price = Decimal("0.001"), Decimal("65000.5")
        return lambda: ex.create_order(SYMBOL, "limit", "buy", amount, price)

    def close(self) -> None:
        self.ex.close()


def configure_ccxt(ex: Any, base_url: str) -> Any:
    """Point a ccxt bybit at the canned server, as the baseline did.

    Rate limiter off, currencies not fetched, only spot+linear markets, unified account preset:
    so no call makes hidden extra requests.
    """
    ex.urls["api"] = {name: base_url for name in ex.urls["api"]}
    ex.has["fetchCurrencies"] = False
    ex.options["fetchMarkets"]["types"] = ["spot", "linear"]
    ex.options["enableUnifiedMargin"] = False
    ex.options["enableUnifiedAccount"] = True
    return ex


def new_ccxt(module: Any, base_url: str) -> Any:
    ex = module.bybit({"apiKey": KEY, "secret": fixtures.API_SECRET, "enableRateLimit": False})
    return configure_ccxt(ex, base_url)


class Ccxt:
    def __init__(self, base_url: str) -> None:
        import ccxt

        self.ex = new_ccxt(ccxt, base_url)
        self.ex.load_markets()
        for op in OPS:
            self.call(op)()

    def call(self, op: str) -> Callable[[], Any]:
        ex = self.ex
        if op == "time":
            return ex.fetch_time
        if op == "ob":
            return lambda: ex.fetch_order_book(SYMBOL, 50)
        if op == "wallet":
            return ex.fetch_balance
        return lambda: ex.create_order(SYMBOL, "limit", "buy", 0.001, 65000.5)

    def close(self) -> None:
        ex = self.ex
        if getattr(ex, "session", None) is not None:
            ex.session.close()


class Pybit:
    def __init__(self, base_url: str) -> None:
        from pybit.unified_trading import HTTP

        self.http = HTTP(api_key=KEY, api_secret=fixtures.API_SECRET)
        self.http.endpoint = base_url
        for op in OPS:
            _check(self.call(op)())

    def call(self, op: str) -> Callable[[], Any]:
        h = self.http
        if op == "time":
            return h.get_server_time
        if op == "ob":
            return lambda: h.get_orderbook(category="linear", symbol="BTCUSDT", limit=50)
        if op == "wallet":
            return lambda: h.get_wallet_balance(accountType="UNIFIED")
        order = fixtures.BYBIT_ORDER
        return lambda: h.place_order(**order)

    def close(self) -> None:
        self.http.client.close()


def _clients(base_url: str, notes: list[str]) -> dict[str, Any]:
    clients: dict[str, Any] = {}
    for name in APPROACHES:
        try:
            if name in ("hc", "urllib3"):
                raw = Raw(base_url, name)
                for op in OPS:
                    _check(raw.call(op)())
                clients[name] = raw
            elif name == "ours":
                clients[name] = Ours(base_url)
            elif name == "ccxt":
                clients[name] = Ccxt(base_url)
            else:
                clients[name] = Pybit(base_url)
        except ImportError as exc:
            notes.append(f"sync: {name} is not installed ({exc}): rows skipped")
    return clients


def run(
    base_url: str, n: int, warmup: int, repeats: int, notes: list[str], log: Callable[[str], Any]
) -> dict[str, Any]:
    clients = _clients(base_url, notes)
    names = [a for a in APPROACHES if a in clients]
    per: dict[str, dict[str, dict[str, list[float]]]] = {
        op: {a: {"median": [], "p99": [], "rate": []} for a in names} for op in OPS
    }
    try:
        for run_index in range(repeats):
            for op in OPS:
                for name in rotated(names, run_index):
                    timed = time_each(clients[name].call(op), n, warmup)
                    for key, value in timed.items():
                        per[op][name][key].append(value)
            log(f"  run {run_index + 1}/{repeats} done")
    finally:
        for client in clients.values():
            client.close()
    out: dict[str, Any] = {}
    for op in OPS:
        rows = {}
        for name in names:
            got = per[op][name]
            row: dict[str, Any] = {
                "what": APPROACH_TITLES[name],
                "runs": got["median"],
                **summary(got["median"]),
                "p99": summary(got["p99"]),
                "rate": summary(got["rate"]),
                "rate_runs": got["rate"],
                "ratios": {},
            }
            for other in ("hc", "urllib3", "ccxt"):
                if other in per[op] and other != name:
                    rs = [
                        a / b for a, b in zip(got["median"], per[op][other]["median"], strict=True)
                    ]
                    row["ratios"][other] = {"runs": rs, **summary(rs)}
                    diffs = [
                        a - b for a, b in zip(got["median"], per[op][other]["median"], strict=True)
                    ]
                    row["ratios"][other]["diff"] = summary(diffs)
            rows[name] = row
        out[op] = {"title": OP_TITLES[op], "n": n, "warmup": warmup, "rows": rows}
    return out
