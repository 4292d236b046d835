"""OKX v5 trade endpoints of the emulator front-end (orders, amends, cancels, fills)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.okx.emulator_common import (
    _CANCEL_SOURCES,
    _CL_ORD_ID,
    _ORD_TYPES,
    _STATES,
    ItemError,
    OkxCore,
    OkxError,
    _numeric,
    _text,
    _w,
)
from exchanges.emulator.engine import EngineError, OrderView
from exchanges.emulator.keys import ApiKey

__all__ = ["OkxTrading"]


class OkxTrading(OkxCore):
    """OKX v5 trade endpoints of the emulator front-end (orders, amends, cancels, fills)."""

    # -- orders ---------------------------------------------------------------------------

    def _order_json(self, order: OrderView) -> dict[str, Any]:
        inst = self._of(order)
        spot = inst.ct_val is None
        if order.type == "market":
            ord_type = "market"
        elif order.post_only:
            ord_type = "post_only"
        else:
            ord_type = {"IOC": "ioc", "FOK": "fok"}.get(order.time_in_force, "limit")
        tgt = ""
        if spot and order.type == "market":
            tgt = "quote_ccy" if order.quote_qty else "base_ccy"
        size = order.qty if order.quote_qty else inst.from_engine(order.qty)
        fee = -order.fee_total
        return {
            "accFillSz": _w(inst.from_engine(order.filled)),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": _w(order.avg_price),
            "cTime": str(order.created_ms),
            "cancelSource": _CANCEL_SOURCES.get(order.cancel_reason or "", ""),
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": order.client_order_id or "",
            "fee": _w(fee) if order.fee_total else "0",
            "feeCcy": order.fee_currency or "",
            "fillPx": "",
            "fillSz": "",
            "fillTime": "",
            "instId": inst.inst_id,
            "instType": inst.inst_type,
            "isTpLimit": "false",
            "lever": "" if spot else "10",
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": self._ord_id(order.order_id),
            "ordType": ord_type,
            "pnl": "0",
            "posSide": "" if spot else "net",
            "px": _w(order.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": inst.spec.quote,
            "reduceOnly": "true" if order.reduce_only else "false",
            "side": order.side,
            "source": "",
            "state": _STATES.get(order.status, "canceled"),
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": _w(size),
            "tag": "",
            "tdMode": "cash" if spot else "cross",
            "tgtCcy": tgt,
            "tradeId": "",
            "uTime": str(order.updated_ms),
        }

    def _item(
        self,
        handler: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]],
        params: Mapping[str, Any],
        key: ApiKey,
    ) -> dict[str, Any]:
        ts = str(self.state.now_ms())
        try:
            result = handler(params, key)
        except ItemError as err:
            return {
                "clOrdId": _text(params.get("clOrdId")),
                "ordId": _text(params.get("ordId")),
                "tag": "",
                "ts": ts,
                "sCode": err.code,
                "sMsg": err.message,
                "subCode": err.sub_code,
            }
        return {**result, "ts": ts, "sCode": "0", "subCode": ""}

    def _single(
        self,
        handler: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]],
        params: Any,
        key: ApiKey,
    ) -> tuple[str, str, list[dict[str, Any]]]:
        if not isinstance(params, dict):
            raise OkxError("50002", "JSON syntax error")
        item = self._item(handler, params, key)
        if item["sCode"] != "0":
            return "1", "All operations failed", [item]
        return "0", "", [item]

    def _ids(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        order_id = _text(params.get("ordId")) or None
        client_id = _text(params.get("clOrdId")) or None
        if order_id is None and client_id is None:
            raise OkxError("50015", "Either parameter ordId or clOrdId is required.")
        if order_id is not None:
            # An id never issued here cannot match any order.
            return {"order_id": self._engine_ids.get(order_id, f"unknown:{order_id}")}
        return {"order_id": None, "client_order_id": client_id}

    def _place(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        spot = inst.ct_val is None
        td_mode = _text(params.get("tdMode"))
        if not td_mode:
            raise OkxError("50014", "Parameter tdMode can not be empty.")
        if td_mode not in (("cash",) if spot else ("cross", "isolated")):
            raise ItemError("51000", "Parameter tdMode error")
        side = _text(params.get("side"))
        if side not in ("buy", "sell"):
            raise ItemError("51000", "Parameter side error")
        mapped = _ORD_TYPES.get(_text(params.get("ordType")))
        if mapped is None:
            raise ItemError("51000", "Parameter ordType error")
        order_type, tif = mapped
        size = self._decimal(params, "sz")
        if size is None:
            raise OkxError("50014", "Parameter sz can not be empty.")
        price = self._decimal(params, "px") if order_type == "limit" else None
        if order_type == "limit" and price is None:
            raise OkxError("50014", "Parameter px can not be empty.")
        client_id = _text(params.get("clOrdId")) or None
        if client_id is not None and not _CL_ORD_ID.match(client_id):
            raise ItemError("51000", "Parameter clOrdId error")
        if _text(params.get("posSide")) not in ("", "net"):
            raise ItemError("51000", "Parameter posSide error")
        tgt = _text(params.get("tgtCcy"))
        # tgtCcy matters only for spot market orders; elsewhere it is ignored (ccxt sends it on
        # every spot order), but a value outside the documented two is refused.
        if tgt not in ("", "base_ccy", "quote_ccy"):
            raise ItemError("51000", "Parameter tgtCcy error")
        # Spot market buys spend the quote currency unless tgtCcy says base (OKX's default).
        quote_qty = spot and order_type == "market" and side == "buy" and tgt != "base_ccy"
        reduce_only = params.get("reduceOnly") in (True, "true")
        qty = size if quote_qty else inst.to_engine(size)
        try:
            order = self.engine.place_order(
                key.uid,
                inst.spec.symbol,
                side,
                order_type,
                qty,
                price=price,
                time_in_force=tif,
                reduce_only=reduce_only,
                client_order_id=client_id,
                quote_qty=quote_qty,
                category=inst.spec.category,
                # OKX accepts these and cancels them at once (state canceled, cancelSource).
                kill_unfillable=True,
            )
        except EngineError as err:
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "tag": "",
            "sMsg": "Order placed",
        }

    def trade_order(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/order``."""
        return self._single(self._place, params, key)

    def _amend(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        ids = self._ids(params)
        size, price = self._decimal(params, "newSz"), self._decimal(params, "newPx")
        if size is None and price is None:
            raise OkxError("50015", "Either parameter newSz or newPx is required.")
        try:
            order = self.engine.amend_order(
                key.uid,
                inst.spec.symbol,
                **ids,
                qty=None if size is None else inst.to_engine(size),
                price=price,
                category=inst.spec.category,
            )
        except EngineError as err:
            if err.kind in ("order_not_found", "order_closed"):
                raise ItemError(
                    "51503", "Your order has already been filled or canceled."
                ) from None
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "reqId": _text(params.get("reqId")),
            "sMsg": "",
        }

    def trade_amend(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/amend-order`` (``newSz`` counts the filled part too)."""
        return self._single(self._amend, params, key)

    def _cancel(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        inst = self._inst(params, item=True)
        try:
            order = self.engine.cancel_order(
                key.uid, inst.spec.symbol, **self._ids(params), category=inst.spec.category
            )
        except EngineError as err:
            if err.kind in ("order_not_found", "order_closed"):
                raise ItemError(
                    "51400",
                    "Order cancellation failed as the order has been filled, canceled or does "
                    "not exist.",
                ) from None
            raise self._engine_item_error(err, inst) from None
        return {
            "clOrdId": order.client_order_id or "",
            "ordId": self._ord_id(order.order_id),
            "sMsg": "",
        }

    def trade_cancel(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/cancel-order``."""
        return self._single(self._cancel, params, key)

    def trade_cancel_batch(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/cancel-batch-orders``: up to 20 orders, each with its sCode."""
        return self._batch(self._cancel, params, key)

    def trade_batch_orders(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/batch-orders``: up to 20 orders placed one by one, each sCode.

        "Place multiple orders" (https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-multiple-orders):
        an array of the single order's parameters; ccxt places every order through it.
        """
        return self._batch(self._place, params, key)

    def _batch(
        self, action: Callable[[Mapping[str, Any], ApiKey], dict[str, Any]], params: Any,
        key: ApiKey,
    ) -> tuple[str, str, list[dict[str, Any]]]:  # fmt: skip
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            raise OkxError("50002", "JSON syntax error")
        if not params:
            raise OkxError("51000", "Parameter data error")
        if len(params) > 20:
            # 51111 ("maximum {n} orders in bulk" in the error table).
            raise OkxError("51111", "Maximum 20 orders can be placed in bulk")
        items = [self._item(action, p, key) for p in params]
        failed = sum(1 for i in items if i["sCode"] != "0")
        if failed == 0:
            return "0", "", items
        if failed == len(items):
            return "1", "All operations failed", items
        return "2", "Bulk operation partially succeeded.", items

    def trade_order_details(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``GET /api/v5/trade/order``: 51603 when there is no such order."""
        inst = self._inst(params)
        ids = self._ids(params)
        try:
            order = self.engine.get_order(key.uid, **ids)
        except EngineError:
            order = None
        if order is None or self._of(order) is not inst:
            raise OkxError("51603", "Order does not exist")
        return [self._order_json(order)]

    def _page(self, items: list[dict[str, Any]], params: Mapping[str, Any], field: str) -> Any:
        limit = self._limit(params, 100, 100)
        after, before = _text(params.get("after")), _text(params.get("before"))
        ids = [i[field] for i in items]
        if after:
            items = items[ids.index(after) + 1 :] if after in ids else []
        elif before:
            items = items[: ids.index(before)] if before in ids else []
        return items[:limit]

    def _window(self, items: list[Any], params: Mapping[str, Any], stamp: str) -> list[Any]:
        begin, end = self._ms(params, "begin"), self._ms(params, "end")
        return [
            i
            for i in items
            if (begin is None or int(i[stamp]) >= begin) and (end is None or int(i[stamp]) <= end)
        ]

    def _order_list(self, orders: list[OrderView], params: Mapping[str, Any]) -> list[Any]:
        chosen = {i.inst_id for i in self._selected(params, type_required=False)}
        items = [self._order_json(o) for o in orders if self._of(o).inst_id in chosen]
        state = _text(params.get("state"))
        order_type = _text(params.get("ordType"))
        return [
            i
            for i in items
            if (not state or i["state"] == state) and (not order_type or i["ordType"] == order_type)
        ]

    def trade_orders_pending(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/orders-pending``, newest first, ``after``/``before`` by ``ordId``."""
        items = self._order_list(self.engine.open_orders(key.uid), params)
        return self._page(items, params, "ordId")

    def trade_orders_history(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/orders-history`` (``instType`` required), newest first."""
        self._types(params, required=True)
        items = self._order_list(self.engine.closed_orders(key.uid), params)
        return self._page(self._window(items, params, "cTime"), params, "ordId")

    def trade_fills_history(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/fills-history`` (3 months; ``instType`` required), like ``fills``.

        "Get transaction details (last 3 months)",
        https://www.okx.com/docs-v5/en/#order-book-trading-trade-get-transaction-details-last-3-months;
        the emulator keeps every fill since its reset, so both answer the same fills.
        """
        return self._fills(params, key, type_required=True)

    def trade_fills(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``/api/v5/trade/fills``, newest first, ``after``/``before`` by ``billId``."""
        return self._fills(params, key, type_required=False)

    def _fills(self, params: Mapping[str, Any], key: ApiKey, *, type_required: bool) -> Any:
        chosen = {i.inst_id for i in self._selected(params, type_required=type_required)}
        order_id = _text(params.get("ordId"))
        engine_id = self._engine_ids.get(order_id) if order_id else None
        items = []
        for f in self.engine.fills(key.uid):
            inst = self._of(f)
            if inst.inst_id not in chosen or (order_id and f.order_id != engine_id):
                continue
            items.append(
                {
                    "instType": inst.inst_type,
                    "instId": inst.inst_id,
                    "tradeId": _numeric(f.exec_id),
                    "ordId": self._ord_id(f.order_id),
                    "clOrdId": f.client_order_id or "",
                    "billId": _numeric(f.exec_id),
                    "subType": "1" if f.side == "buy" else "2",
                    "tag": "",
                    "side": f.side,
                    "posSide": "" if inst.ct_val is None else "net",
                    "fillPx": _w(f.price),
                    "fillSz": _w(inst.from_engine(f.qty)),
                    "fillIdxPx": "",
                    "fillPnl": "0",
                    "fillPxVol": "",
                    "fillPxUsd": "",
                    "fillMarkVol": "",
                    "fillFwdPx": "",
                    "fillMarkPx": "",
                    "execType": "M" if f.is_maker else "T",
                    "feeCcy": f.fee_currency,
                    "fee": _w(-f.fee) if f.fee else "0",
                    "ts": str(f.time_ms),
                    "fillTime": str(f.time_ms),
                }
            )
        return self._page(self._window(items, params, "ts"), params, "billId")
