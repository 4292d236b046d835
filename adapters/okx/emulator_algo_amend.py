"""OKX emulator: ``POST /api/v5/trade/amend-algos`` for waiting trigger orders.

"Amend algo order" (https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-amend-algo-order)
takes ``instId``, ``algoId`` or ``algoClOrdId``, and the new values; the emulator amends a
trigger order's ``newSz`` (contracts for derivatives) and ``newOrdPx`` through the engine's
``amend_trigger`` and answers ``algoId``, ``algoClOrdId``, ``reqId``, ``sCode`` and ``sMsg``.
Stops (conditional, oco) are amended by their legs and trailing orders not at all: refused here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.okx.emulator_common import ItemError, OkxError, _text
from exchanges.emulator.instruments import EngineError

if TYPE_CHECKING:
    from adapters.okx.emulator_algo import OkxAlgo
    from exchanges.emulator.keys import ApiKey

__all__ = ["amend_algos"]


def amend_algos(algo: OkxAlgo, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
    """``POST /api/v5/trade/amend-algos`` of one algo order."""
    front = algo.front

    def one(item: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = front._inst(item, item=True)
        try:
            algo_id, legs = algo._find(item, key)
        except OkxError as err:
            raise ItemError(err.code, err.message) from None
        waiting = [leg for leg in legs if leg.is_open]
        if not waiting:
            raise ItemError("51603", "Order does not exist")
        if len(legs) != 1 or legs[0].kind != "trigger" or legs[0].close_position:
            raise ItemError("51000", "Parameter algoId error: only trigger orders amend here")
        size, price = front._decimal(item, "newSz"), front._decimal(item, "newOrdPx")
        if size is None and price is None:
            raise OkxError("50014", "Parameter newSz or newOrdPx can not be empty.")
        try:
            view = algo.engine.amend_trigger(
                key.uid,
                trigger_id=waiting[0].trigger_id,
                qty=None if size is None else inst.to_engine(size),
                price=price,
            )
        except EngineError as err:
            raise front._engine_item_error(err, inst) from None
        return {
            "algoId": algo_id,
            "algoClOrdId": _text(view.native.get("algoClOrdId")),
            "reqId": _text(item.get("reqId")),
            "sMsg": "",
        }

    return front._single(one, params, key)
