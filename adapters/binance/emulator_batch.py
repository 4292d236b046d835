"""Binance USD-M batch endpoints of the emulator: ``POST`` and ``DELETE /fapi/v1/batchOrders``,
each order through the front-end's own single-order handler.

"Place Multiple Orders (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Place-Multiple-Orders):
``batchOrders``, a JSON list of 1 to 5 orders with the single order's parameters; the answer is
a list in the order sent, each item the order as ``POST /fapi/v1/order`` answers it or that
endpoint's error as ``{"code", "msg"}``; a list of another size is -4082 "Invalid number of
batch place orders." (USD-M "Error Codes"). Conditional types are refused per item with -4120
(the Algo Order API has no batch). "Cancel Multiple Orders (TRADE)"
(https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Multiple-Orders):
``symbol`` and ``orderIdList`` (or ``origClientOrderIdList``), a JSON list of at most 10; each
item the cancelled order or ``{"code": -2011, "msg": "Unknown order sent."}``. ccxt sends the
list names in lower case (``orderidlist``), which is accepted too. The order counters count a
batch once (a simplification).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import BinanceError, mandatory
from exchanges.emulator.engine import EngineError
from exchanges.emulator.server import Incoming

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["BinanceBatch"]

_PATH = "/fapi/v1/batchOrders"
_PLACE_LIMIT = 5
_CANCEL_LIMIT = 10
_CONDITIONAL = frozenset(
    {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"}
)

Handler = Callable[..., Any]
Route = tuple[Handler, str | None, str]


class BinanceBatch:
    """The USD-M batch endpoints over a Binance front-end's single-order handlers."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], Route]:
        """(method, path) -> (handler, security, market)."""
        return {
            ("POST", _PATH): (self.place, "TRADE", "usdm"),
            ("DELETE", _PATH): (self.cancel, "TRADE", "usdm"),
        }

    def place(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """Each order of ``batchOrders`` in turn, through ``POST /fapi/v1/order``."""
        orders = _json_list(params, "batchOrders")
        if not 1 <= len(orders) <= _PLACE_LIMIT:
            raise BinanceError(-4082, "Invalid number of batch place orders.")
        single = self.front.routes[("POST", "/fapi/v1/order")][0]
        results = []
        for order in orders:
            if not isinstance(order, dict):
                results.append(_error(-1130, "Invalid data sent for a parameter."))
                continue
            item = {str(k): _text(v) for k, v in order.items()}
            if item.get("type") in _CONDITIONAL:
                results.append(
                    _error(
                        -4120,
                        "Order type not supported for this endpoint. Please use the Algo Order "
                        "API endpoints instead.",
                    )
                )
                continue
            results.append(self._one(single, item, key, "POST"))
        return results

    def cancel(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """Each order of ``orderIdList`` (or ``origClientOrderIdList``) in turn."""
        lowered = {k.lower(): v for k, v in params.items()}
        ids_text = lowered.get("orderidlist")
        cids_text = lowered.get("origclientorderidlist")
        if not params.get("symbol"):
            raise mandatory("symbol")
        if ids_text is None and cids_text is None:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderIdList' or 'orderIdList' must be sent, but both were "
                "empty/null!",
            )
        name = "orderId" if ids_text is not None else "origClientOrderId"
        ids = _json_list({"list": ids_text or cids_text or ""}, "list")
        if not 1 <= len(ids) <= _CANCEL_LIMIT:
            raise BinanceError(-1130, "Data sent for parameter 'orderIdList' is not valid.")
        single = self.front.routes[("DELETE", "/fapi/v1/order")][0]
        return [
            self._one(single, {"symbol": params["symbol"], name: _text(i)}, key, "DELETE")
            for i in ids
        ]

    def _one(
        self, single: Handler, params: dict[str, str], key: ApiKey, method: str
    ) -> dict[str, Any]:
        try:
            result: dict[str, Any] = single(params, key)
        except BinanceError as err:
            return _error(err.code, err.message)
        except EngineError as err:
            stand_in = Incoming(method, _PATH, "", b"", {}, "")
            refusal = self.front._engine_error(err, stand_in, "usdm")
            return _error(refusal.code, refusal.message)
        return result


def _json_list(params: Mapping[str, str], name: str) -> list[Any]:
    text = params.get(name)
    if not text:
        raise mandatory(name)
    try:
        value = json.loads(text)
    except ValueError:
        raise BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.") from None
    if not isinstance(value, list):
        raise BinanceError(-1130, f"Data sent for parameter '{name}' is not valid.")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "msg": message}
