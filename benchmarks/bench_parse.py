"""Section 4: parsing canned responses, JSON decoding included, ours against a floor and ccxt.

Ours decodes exactly as the pipeline does: ``Response(200, {}, body, request)`` then
``adapter.decode(response)`` (envelope check, ``json.loads``), then the parser of
``adapters.bybit.parse``. The floors are ``json.loads`` plus ``Decimal`` tuples of the same
fields; ccxt decodes with orjson (installed here) and returns floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from benchmarks import fixtures
from benchmarks.harness import Case

SYMBOL = "BTC/USDT:USDT"
BASE = "https://api.bybit.com"
# The 13 numbers our Ticker keeps, in the floor too.
TICKER_FIELDS = (
    "bid1Price", "ask1Price", "lastPrice", "highPrice24h", "lowPrice24h", "volume24h",
    "turnover24h", "bid1Size", "ask1Size", "prevPrice24h", "markPrice", "indexPrice",
    "fundingRate",
)  # fmt: skip

_bodies: fixtures.Bodies | None = None


def bodies() -> fixtures.Bodies:
    global _bodies
    if _bodies is None:
        _bodies = fixtures.Bodies()
    return _bodies


def _empty(category: str) -> bytes:
    return fixtures.dumps(fixtures.envelope({"category": category, "list": []}))


def _adapter() -> Any:
    """A Bybit adapter with spot, linear and inverse markets loaded from canned pages."""
    from adapters.bybit.adapter import BybitAdapter

    adapter = BybitAdapter(env="mainnet")
    feed(adapter, adapter.load_markets())
    return adapter


def _instruments_body(query: str) -> bytes:
    b = bodies()
    if "category=spot" in query:
        return b.spot_page
    if "category=linear" in query and "PreLaunch" not in query:
        return b.linear_page
    category = "inverse" if "inverse" in query else "linear"
    return fixtures.dumps(
        fixtures.envelope({"category": category, "list": [], "nextPageCursor": ""})
    )


def feed(adapter: Any, flow: Any) -> Any:
    """Drive a flow with canned responses (decoded as the pipeline does); return its result."""
    from exchanges.wire import Response

    try:
        request = next(flow)
        while True:
            if request.path == "/v5/market/instruments-info":
                body = _instruments_body(request.query)
            elif request.path == "/v5/market/tickers":
                category = request.query.partition("category=")[2].partition("&")[0]
                body = bodies().tickers if category == "linear" else _empty(category)
            else:
                raise RuntimeError(f"no canned body for {request!r}")
            response = Response(200, {}, body, request)
            adapter.decode(response)
            request = flow.send(response)
    except StopIteration as done:
        return done.value


def _response(adapter: Any, request: Any, body: bytes) -> Any:
    from exchanges.wire import Response

    response = Response(200, {}, body, request)
    adapter.decode(response)
    return response


# -- order book 200x2 ---------------------------------------------------------------------


def _ob_floor() -> Callable[[], Any]:
    body = bodies().order_book_200
    d = Decimal

    def run() -> Any:
        res = json.loads(body)["result"]
        return [(d(p), d(q)) for p, q in res["b"]], [(d(p), d(q)) for p, q in res["a"]]

    return run


def _ob_ours() -> Callable[[], Any]:
    from adapters.bybit import parse
    from adapters.bybit.adapter import BybitAdapter
    from adapters.bybit.requests import RequestBuilder

    adapter = BybitAdapter(env="mainnet")
    request = RequestBuilder(BASE).orderbook("linear", "BTCUSDT", 200)
    body = bodies().order_book_200
    return lambda: parse.parse_order_book(SYMBOL, parse.result(_response(adapter, request, body)))


def _ccxt_with_markets() -> Any:
    import ccxt

    from benchmarks.bench_sync import configure_ccxt

    ex = configure_ccxt(
        ccxt.bybit({"apiKey": "k", "secret": "s", "enableRateLimit": False}), "http://canned"
    )

    def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        # Stubbed I/O: the JSON text a real fetch would decode, decoded the same way.
        return ex.parse_json(_instruments_body(url).decode())

    ex.fetch = fetch
    ex.load_markets()
    return ex


def _ob_ccxt() -> Callable[[], Any]:
    ex = _ccxt_with_markets()
    text = bodies().order_book_200.decode()
    market = ex.market(SYMBOL)

    def run() -> Any:
        # fetch_order_book's tail: decode, take result, parse with the envelope's timestamp.
        response = ex.parse_json(text)
        result = ex.safe_dict(response, "result", {})
        ts = ex.safe_integer(result, "ts")
        return ex.parse_order_book(result, market["symbol"], ts, "b", "a")

    return run


# -- 500 tickers --------------------------------------------------------------------------


def _tk_floor() -> Callable[[], Any]:
    body = bodies().tickers
    d = Decimal
    fields = TICKER_FIELDS

    def run() -> Any:
        items = json.loads(body)["result"]["list"]
        return {i["symbol"]: tuple(d(i[f]) for f in fields) for i in items}

    return run


def _tk_ours() -> Callable[[], Any]:
    from adapters.bybit import parse
    from adapters.bybit.requests import RequestBuilder

    adapter = _adapter()
    # Native id -> unified symbol, from public data: what fetch_tickers looks up per item.
    by_id = {m.id: m.symbol for m in adapter.markets.values() if m.category == "linear"}
    request = RequestBuilder(BASE).tickers("linear")
    body = bodies().tickers
    parse_ticker = parse.parse_ticker

    def run() -> Any:
        response = _response(adapter, request, body)
        ts = parse.envelope_time(response)
        out = {}
        for item in parse.result_list(response):
            symbol = by_id.get(item.get("symbol"))
            if symbol is not None:
                out[symbol] = parse_ticker(symbol, "linear", item, ts)
        return out

    return run


def _tk_ours_flow() -> Callable[[], Any]:
    adapter = _adapter()
    # symbols=None: every spot, linear and inverse ticker; only linear has any here.
    return lambda: feed(adapter, adapter.fetch_tickers(None))


def _tk_ccxt() -> Callable[[], Any]:
    ex = _ccxt_with_markets()
    text = bodies().tickers.decode()

    def run() -> Any:
        response = ex.parse_json(text)
        items = ex.safe_list(ex.safe_dict(response, "result", {}), "list", [])
        return ex.parse_tickers(items)

    return run


# -- 1000 markets -------------------------------------------------------------------------


def _mk_floor() -> Callable[[], Any]:
    b = bodies()
    d = Decimal

    def run() -> Any:
        out = {}
        for body in (b.spot_page, b.linear_page):
            res = json.loads(body)["result"]
            spot = res["category"] == "spot"
            for i in res["list"]:
                lot = i["lotSizeFilter"]
                base, quote = i["baseCoin"], i["quoteCoin"]
                symbol = f"{base}/{quote}" if spot else f"{base}/{quote}:{i['settleCoin']}"
                step = lot["basePrecision"] if spot else lot["qtyStep"]
                out[symbol] = (
                    base, quote, d(i["priceFilter"]["tickSize"]), d(step), d(lot["minOrderQty"])
                )  # fmt: skip
        return out

    return run


def _mk_ours() -> Callable[[], Any]:
    from adapters.bybit import parse
    from adapters.bybit.adapter import BybitAdapter
    from adapters.bybit.requests import RequestBuilder

    adapter = BybitAdapter(env="mainnet")
    build = RequestBuilder(BASE)
    b = bodies()
    pages = (
        ("spot", build.instruments("spot"), b.spot_page),
        ("linear", build.instruments("linear"), b.linear_page),
    )
    parse_market = parse.parse_market

    def run() -> Any:
        out = {}
        for category, request, body in pages:
            for item in parse.result_list(_response(adapter, request, body)):
                market = parse_market(category, item)
                out[market.symbol] = market
        return out

    return run


def _mk_ours_flow() -> Callable[[], Any]:
    from adapters.bybit.adapter import BybitAdapter

    adapter = BybitAdapter(env="mainnet")
    return lambda: feed(adapter, adapter.load_markets(reload=True))


def _mk_ccxt() -> Callable[[], Any]:
    ex = _ccxt_with_markets()
    return lambda: ex.load_markets(reload=True)


def cases() -> list[Case]:
    ob, tk, mk = "ob_floor_json_decimal", "tk_floor_json_decimal", "mk_floor_json_decimal"
    return [
        Case(ob, "FLOOR json.loads + [(Decimal(p), Decimal(q))] both sides, 200x2 (8.5 KB)",
             _ob_floor, "ob"),
        Case("ob_ours", "ours: Response + adapter.decode + parse.parse_order_book",
             _ob_ours, "ob", ob, {"ob_ccxt": "ccxt"}),
        Case("ob_ccxt", "ccxt: parse_json (orjson) + safe_dict + parse_order_book (floats)",
             _ob_ccxt, "ob", ob),
        Case(tk, "FLOOR json.loads + {symbol: tuple of 13 Decimals}, 500 linear tickers",
             _tk_floor, "tk"),
        Case("tk_ours", "ours: Response + adapter.decode + symbol lookup + parse.parse_ticker",
             _tk_ours, "tk", tk, {"tk_ccxt": "ccxt"}),
        Case("tk_ours_flow", "ours: adapter.fetch_tickers flow fed canned responses "
             "(+ 2 empty categories)", _tk_ours_flow, "tk", tk),
        Case("tk_ccxt", "ccxt: parse_json (orjson) + parse_tickers (1000 markets loaded)",
             _tk_ccxt, "tk", tk),
        Case(mk, "FLOOR json.loads 2x500 instruments + {symbol: (base, quote, tick, step, min)}",
             _mk_floor, "mk"),
        Case("mk_ours", "ours: Response + adapter.decode + parse.parse_market, 2x500",
             _mk_ours, "mk", mk, {"mk_ccxt": "ccxt"}),
        Case("mk_ours_flow", "ours: adapter.load_markets(reload=True) flow fed canned pages "
             "(+ store and index)", _mk_ours_flow, "mk", mk),
        Case("mk_ccxt", "ccxt: load_markets(reload=True), I/O stubbed, spot+linear 2x500",
             _mk_ccxt, "mk", mk),
    ]  # fmt: skip


def iterations(n_ob: int) -> Callable[[Case], int]:
    """Iterations per case from the order book's count (tickers /20, markets /200, at least 3)."""

    def count(case: Case) -> int:
        if case.group == "tk":
            return max(3, n_ob // 20)
        if case.group == "mk":
            return max(3, n_ob // 200)
        return max(3, n_ob)

    return count
