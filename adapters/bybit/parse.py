"""Bybit v5 parsers: the response envelope, then each result item into a model.

Field names and types: Bybit's v5 API pages (https://bybit-exchange.github.io/docs/v5/intro and
each endpoint's "Response Parameters", e.g. .../v5/market/orderbook, .../v5/order/open-order).
Nearly every number inside ``result`` is a string; empty strings mean "none". Numbers go through
the shared readers of ``exchanges.parsing``: a NaN, an infinity, a negative size, a zero book
price or a magnitude of 1e30 or more is ``BadResponse``, never a model.

The envelope is read here (``decode``, ``result``, ``result_list``, ``envelope_time``, and
``parse_ack`` from it); the item parsers live by area in ``parse_market.py`` (instruments and
market data), ``parse_account.py`` (wallet, fees, key, positions) and ``parse_orders.py``
(orders, acknowledged items, fills), and are all importable from here.
"""

from __future__ import annotations

from typing import Any

from adapters.bybit.errors import error_for_code, error_for_http
from adapters.bybit.parse_account import (
    parse_balances,
    parse_key_info,
    parse_position,
    parse_trading_fee,
)
from adapters.bybit.parse_market import (
    parse_candles,
    parse_market,
    parse_order_book,
    parse_ticker,
    parse_trade,
)
from adapters.bybit.parse_orders import parse_ack_item, parse_fill, parse_order
from exchanges import parsing
from exchanges.decimals import shown
from exchanges.errors import BadResponse, ExchangeError
from exchanges.models import Order
from exchanges.wire import Response

__all__ = [
    "decode",
    "envelope_time",
    "parse_ack",
    "parse_ack_item",
    "parse_balances",
    "parse_candles",
    "parse_fill",
    "parse_key_info",
    "parse_market",
    "parse_order",
    "parse_order_book",
    "parse_position",
    "parse_ticker",
    "parse_trade",
    "parse_trading_fee",
    "result",
    "result_list",
]


_EX = "bybit"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_loads = parsing.loads_json
_ms = parsing.ms


def _reset_in(response: Response, server_ms: Any) -> float | None:
    reset = response.headers.get("X-Bapi-Limit-Reset-Timestamp")
    if reset is None or not isinstance(server_ms, int):
        return None
    try:
        return max((int(reset) - server_ms) / 1000, 0.0)
    except (ValueError, OverflowError):  # not a number, or beyond any float
        return None


def _http_error(response: Response) -> ExchangeError:
    return error_for_http(response.status, response.body, endpoint=parsing.endpoint_of(response))


def decode(response: Response, env: str) -> None:
    """Check the envelope; set ``response.data`` or raise the normalised error.

    Non-JSON bodies (HTML error pages, truncated bodies, nesting too deep to decode) are
    classified by HTTP status; a JSON envelope by ``retCode`` only, which must be an integer.
    """
    status = response.status
    try:
        data = _loads(response.body)
    except (ValueError, TypeError):
        # Not JSON: the shared reader decodes it again, to raise what such a body stands for.
        data = parsing.decode_json(response, _EX, _http_error)
    code = None
    if isinstance(data, dict):
        code = data["retCode"] if "retCode" in data else data.get("ret_code")
    if code is None:
        if status != 200:
            raise _http_error(response)
        raise BadResponse(
            "JSON without Bybit's retCode envelope",
            exchange=_EX,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
        )
    if code != 0 or code.__class__ is not int:  # the usual 0 needs no checking
        code = parsing.envelope_code(code, response, _EX, "retCode")
    response.code = code
    if code != 0:
        message = data.get("retMsg", data.get("ret_msg", ""))
        raise error_for_code(
            code,
            message if isinstance(message, str) else shown(message),
            env=env,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
            retry_after=_reset_in(response, data.get("time")),
        )
    if status != 200:
        raise _http_error(response)
    response.data = data


def result(response: Response) -> dict[str, Any]:
    """The envelope's ``result`` object (a ``BadResponse`` if it is not one)."""
    data = response.data
    res = data.get("result") if isinstance(data, dict) else None
    if not isinstance(res, dict):
        raise BadResponse(
            "the response has no result object",
            exchange="bybit",
            endpoint=response.request.endpoint if response.request else None,
        )
    return res


def result_list(response: Response) -> list[Any]:
    """``result.list`` (a ``BadResponse`` if it is not a list)."""
    items = result(response).get("list")
    if not isinstance(items, list):
        raise BadResponse(
            "the response has no result.list",
            exchange="bybit",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items


def envelope_time(response: Response) -> int | None:
    """The envelope's server ``time`` in ms, if present."""
    value = response.data.get("time") if isinstance(response.data, dict) else None
    return _ms(value) if value.__class__ is int else None


def parse_ack(symbol: str, response: Response, **known: Any) -> Order:
    """An acknowledgement (create, amend, cancel): ids plus what the request itself said.

    The envelope's ``time`` (when Bybit answered) is the time of the write.
    """
    return parse_ack_item(symbol, result(response), envelope_time(response), **known)
