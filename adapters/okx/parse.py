"""OKX v5 parsers: the envelope, instrument ids ↔ unified symbols, and each item into a model.

Envelope and error rules: OKX's v5 docs, https://www.okx.com/docs-v5/en/#overview-rest-api
("REST API", the ``code``/``msg``/``data`` envelope) and .../#error-code; key configuration:
.../#trading-account-rest-api-get-account-configuration. Numbers arrive as strings and ``""``
means "none"; they go through the shared readers of ``exchanges.parsing`` (a NaN, an infinity,
a negative size, a zero book price or a magnitude of 1e30 or more is ``BadResponse``).

Swaps, futures and options count amounts in contracts (``sz``, ``accFillSz``, ``fillSz``,
``pos``, book and ticker sizes) of ``ctVal`` each, in ``ctValCcy``: the base currency for linear
contracts and options, USD for inverse contracts. Their markets say so (``counts_contracts``,
steps and limits already multiplied by ``ctVal``); the parsers here keep OKX's counts and the
adapter turns every model into the unified unit with ``exchanges.units``.

The envelope is read here; the item parsers live by area in ``parse_market.py`` (instruments and
market data), ``parse_account.py`` (balances, fees, key, positions) and ``parse_orders.py``
(orders, acknowledgements, fills), ids and symbols in ``parse_common.py``, and are all
importable from here.
"""

from __future__ import annotations

from typing import Any

from adapters.okx.errors import error_for_code, error_for_http, item_error, retry_after_seconds
from adapters.okx.parse_account import (
    parse_balances,
    parse_key_info,
    parse_position,
    parse_trading_fee,
)
from adapters.okx.parse_common import INST_TYPES, inst_id_of, inst_type_of, symbol_of
from adapters.okx.parse_market import (
    parse_candles,
    parse_market,
    parse_order_book,
    parse_ticker,
    parse_trade,
)
from adapters.okx.parse_orders import ORDER_TYPES, parse_ack, parse_fill, parse_order
from exchanges import parsing
from exchanges.decimals import shown
from exchanges.errors import BadResponse, ExchangeError
from exchanges.wire import Response

__all__ = [
    "BATCH_PATHS",
    "INST_TYPES",
    "ORDER_TYPES",
    "data_list",
    "decode",
    "first",
    "inst_id_of",
    "inst_type_of",
    "parse_ack",
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
    "symbol_of",
]


_EX = "okx"

#: Endpoints whose items succeed or fail one by one (code "1"/"2" is handled by the flow).
BATCH_PATHS = frozenset({"/api/v5/trade/batch-orders", "/api/v5/trade/cancel-batch-orders"})


# -- envelope -------------------------------------------------------------------------------


def _http_error(response: Response) -> ExchangeError:
    return error_for_http(
        response.status,
        response.body,
        endpoint=parsing.endpoint_of(response),
        retry_after=retry_after_seconds(response.headers),
    )


_ITEM_CODE_FIELDS = ("sCode", "sMsg", "subCode")


def _item_error(item: Any, response: Response, env: str) -> ExchangeError | None:
    if isinstance(item, dict):
        for name in _ITEM_CODE_FIELDS:
            value = item.get(name)
            # Text or a plain integer: anything else (1e999, a nested list) cannot be a code.
            if value is not None and value.__class__ is not str and value.__class__ is not int:
                raise BadResponse(
                    f"an OKX data item's {name} is not a code or text: {shown(value)}",
                    exchange=_EX,
                    http_status=response.status,
                    endpoint=parsing.endpoint_of(response),
                )
    return item_error(
        item, env=env, http_status=response.status, endpoint=parsing.endpoint_of(response)
    )


def decode(response: Response, env: str) -> None:
    """Check the envelope; set ``response.data`` or raise the normalised error.

    Non-JSON bodies (nesting too deep to decode included) are classified by HTTP status. In a
    JSON envelope a failing item's ``sCode`` takes precedence over ``code`` (OKX's "REST API"
    overview); batch endpoints keep ``code`` "1"/"2" for the flow, which reports item by item.
    ``code`` is text (``"0"``) or an integer; a float, a boolean or anything else is
    ``BadResponse``.
    """
    request = response.request
    status = response.status
    data = parsing.decode_json(response, _EX, _http_error)
    raw_code = data.get("code") if isinstance(data, dict) else None
    if raw_code is None:
        if status != 200:
            raise _http_error(response)
        raise BadResponse(
            "JSON without OKX's code envelope",
            exchange=_EX,
            http_status=status,
            endpoint=parsing.endpoint_of(response),
        )
    if raw_code.__class__ is str:
        code: str = raw_code
    else:
        code = str(parsing.envelope_code(raw_code, response, _EX, "code"))
    response.code = code
    items = data.get("data")
    batch = request is not None and request.path in BATCH_PATHS
    if code == "0" or (batch and code in ("1", "2")):
        if code == "0" and not batch and isinstance(items, list):
            # A single-item write reports its own result; "0" with a failing item is a failure.
            for item in items:
                err = _item_error(item, response, env)
                if err is not None:
                    raise err
        if status != 200 and code == "0":
            raise _http_error(response)
        response.data = data
        return
    if isinstance(items, list):
        for item in items:
            err = _item_error(item, response, env)
            if err is not None:
                raise err
    message = data.get("msg", "")
    raise error_for_code(
        code,
        message if isinstance(message, str) else shown(message),
        env=env,
        http_status=status,
        endpoint=parsing.endpoint_of(response),
        retry_after=retry_after_seconds(response.headers),
    )


def data_list(response: Response) -> list[Any]:
    """The envelope's ``data`` list (a ``BadResponse`` if it is not one)."""
    data = response.data
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise BadResponse(
            "the response has no data list",
            exchange="okx",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items


def first(response: Response) -> dict[str, Any]:
    """The first item of ``data`` (a ``BadResponse`` if there is none)."""
    items = data_list(response)
    if not items or not isinstance(items[0], dict):
        raise BadResponse(
            "the response's data list is empty",
            exchange="okx",
            endpoint=response.request.endpoint if response.request else None,
        )
    return items[0]
