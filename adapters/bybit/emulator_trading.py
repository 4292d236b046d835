"""Bybit v5 emulator: orders (create, amend, cancel, cancel-all, open, history, executions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.bybit.emulator_base import (
    _LINK_ID,
    _REJECT_REASONS,
    _STATUS,
    _TIF_IN,
    BybitBase,
    BybitError,
    _ms,
    _w,
)
from exchanges.emulator.engine import OrderView
from exchanges.emulator.keys import ApiKey

__all__ = ["BybitTrading"]


class BybitTrading(BybitBase):
    """Bybit v5 emulator: orders (create, amend, cancel, cancel-all, open, history, executions)."""

    def _order_json(self, order: OrderView) -> dict[str, Any]:
        status = _STATUS.get(order.status)
        if order.status == "partially_filled_cancelled":
            status = "PartiallyFilledCanceled" if order.category == "spot" else "Cancelled"
        tif = "PostOnly" if order.post_only else order.time_in_force
        leaves = order.remaining
        price = order.price
        item = {
            "orderId": order.order_id,
            "orderLinkId": order.client_order_id or "",
            "blockTradeId": "",
            "symbol": order.symbol,
            "price": _w(price) if price is not None else "0",
            "qty": _w(order.qty),
            "side": "Buy" if order.side == "buy" else "Sell",
            "isLeverage": "0" if order.category == "spot" else "",
            "positionIdx": 0,
            "orderStatus": status,
            "createType": "CreateByUser",
            "cancelType": "CancelByUser" if order.cancel_reason == "user" else "UNKNOWN",
            "rejectReason": _REJECT_REASONS.get(order.cancel_reason or "", "EC_NoError"),
            "avgPrice": _w(order.avg_price) if order.avg_price is not None else "",
            "leavesQty": _w(leaves),
            "leavesValue": _w(leaves * price) if price is not None else "0",
            "cumExecQty": _w(order.filled),
            "cumExecValue": _w(order.cum_quote),
            "cumExecFee": _w(order.fee_total),
            "cumFeeDetail": {order.fee_currency: _w(order.fee_total)} if order.fee_currency else {},
            "timeInForce": tif,
            "orderType": "Limit" if order.type == "limit" else "Market",
            "stopOrderType": "",
            "orderIv": "",
            "marketUnit": "quoteCoin" if order.quote_qty else "",
            "triggerPrice": "",
            "takeProfit": "",
            "stopLoss": "",
            "tpslMode": "",
            "ocoTriggerBy": "",
            "tpLimitPrice": "",
            "slLimitPrice": "",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "basePrice": "",
            "reduceOnly": order.reduce_only,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(order.created_ms),
            "updatedTime": str(order.updated_ms),
        }
        if order.category == "spot":
            # Spot orders carry no tpslMode (a contracts-only field); clients such as ccxt
            # read its presence as "this is a contract order".
            del item["tpslMode"]
        return item

    def order_create(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/create``."""
        category = self._category(params)
        spec = self._spec(params, category)
        side = {"Buy": "buy", "Sell": "sell"}.get(str(params.get("side")))
        order_type = {"Limit": "limit", "Market": "market"}.get(str(params.get("orderType")))
        if side is None:
            raise BybitError(10001, "params error: side invalid")
        if order_type is None:
            raise BybitError(10001, "params error: orderType invalid")
        qty = self._decimal(params, "qty")
        if qty is None:
            raise BybitError(10001, "params error: qty is required")
        price = self._decimal(params, "price") if order_type == "limit" else None
        if order_type == "limit" and price is None:
            raise BybitError(10001, "params error: price is required for limit orders")
        tif = _TIF_IN.get(str(params.get("timeInForce", "GTC")))
        if tif is None:
            raise BybitError(10001, "params error: timeInForce invalid")
        if order_type == "market" and tif in ("GTC", "PostOnly"):
            tif = "IOC"
        link = params.get("orderLinkId") or None
        if link is not None and (not isinstance(link, str) or not _LINK_ID.match(link)):
            raise BybitError(10001, "params error: orderLinkId invalid (<= 36 of [A-Za-z0-9_-])")
        quote_qty = (
            category == "spot"
            and order_type == "market"
            and side == "buy"
            and params.get("marketUnit", "quoteCoin") == "quoteCoin"
        )
        reduce_only = params.get("reduceOnly") in (True, "true", "True")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            order_type,
            qty,
            price=price,
            time_in_force=tif,
            reduce_only=reduce_only,
            client_order_id=link,
            quote_qty=quote_qty,
            category=category,
            # Bybit accepts these and cancels them at once: the rejectReason says why.
            kill_unfillable=True,
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def _ref(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        order_id = params.get("orderId") or None
        link = params.get("orderLinkId") or None
        if order_id is None and link is None:
            raise BybitError(10001, "params error: OrderId or orderLinkId is required")
        return {"order_id": order_id, "client_order_id": None if order_id else link}

    def order_amend(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/amend``."""
        category = self._category(params)
        spec = self._spec(params, category)
        order = self.engine.amend_order(
            key.uid,
            spec.symbol,
            **self._ref(params),
            qty=self._decimal(params, "qty"),
            price=self._decimal(params, "price"),
            category=category,
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def order_cancel(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/cancel``."""
        category = self._category(params)
        spec = self._spec(params, category)
        order = self.engine.cancel_order(
            key.uid, spec.symbol, **self._ref(params), category=category
        )
        return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}

    def order_cancel_all(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/cancel-all``."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category in ("linear", "inverse") and not (
            params.get("baseCoin") or params.get("settleCoin")
        ):
            raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
        cancelled = self.engine.cancel_all(key.uid, symbol=symbol, category=category)
        settle = params.get("settleCoin")
        items = [
            {"orderId": o.order_id, "orderLinkId": o.client_order_id or ""}
            for o in cancelled
            if not settle or self._settle(o.symbol, o.category) == settle
        ]
        return {"list": items, "success": "1"}

    def _filter(self, orders: list[OrderView], params: Mapping[str, Any]) -> list[OrderView]:
        order_id, link = params.get("orderId"), params.get("orderLinkId")
        settle, base = params.get("settleCoin"), params.get("baseCoin")
        out = []
        for order in orders:
            if order_id and order.order_id != order_id:
                continue
            if link and order.client_order_id != link:
                continue
            spec = self.engine.instrument(order.symbol, order.category)
            if settle and spec.settle != settle:
                continue
            if base and spec.base != base:
                continue
            out.append(order)
        return out

    def _scoped(self, params: Mapping[str, Any], category: str) -> str | None:
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category == "linear" and not (
            params.get("baseCoin")
            or params.get("settleCoin")
            or params.get("orderId")
            or params.get("orderLinkId")
        ):
            raise BybitError(10001, "params error: symbol, baseCoin or settleCoin is required")
        return symbol

    def order_realtime(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/realtime``: open orders (openOnly=1: recent closed ones)."""
        category = self._category(params)
        symbol = self._scoped(params, category)
        if str(params.get("openOnly", "0")) == "1":
            orders = self.engine.closed_orders(key.uid, symbol=symbol, category=category)[:500]
        else:
            orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
        items = [self._order_json(o) for o in self._filter(orders, params)]
        page, cursor = self._page(items, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def order_history(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/history``: every order of the window, newest first."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
        orders += self.engine.closed_orders(key.uid, symbol=symbol, category=category)
        orders.sort(key=lambda o: o.created_ms, reverse=True)
        orders = self._window(orders, params, lambda o: o.created_ms)
        items = [self._order_json(o) for o in self._filter(orders, params)]
        status = params.get("orderStatus")
        if status:
            items = [i for i in items if i["orderStatus"] == status]
        page, cursor = self._page(items, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _window(
        self, items: list[Any], params: Mapping[str, Any], stamp: Callable[[Any], int]
    ) -> list[Any]:
        start, end = _ms(params, "startTime"), _ms(params, "endTime")
        if start is not None and end is not None and end - start > 7 * 86_400_000:
            raise BybitError(10001, "params error: endTime - startTime must be <= 7 days")
        return [
            i
            for i in items
            if (start is None or stamp(i) >= start) and (end is None or stamp(i) <= end)
        ]

    def execution_list(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/execution/list``, newest first."""
        category = self._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        fills = self.engine.fills(
            key.uid, symbol=symbol, category=category, order_id=params.get("orderId") or None
        )
        fills = self._window(fills, params, lambda f: f.time_ms)
        link = params.get("orderLinkId")
        settle = params.get("settleCoin")
        items = []
        for f in fills:
            if link and f.client_order_id != link:
                continue
            if settle and self._settle(f.symbol, f.category) != settle:
                continue
            # The order's context (orderType, orderPrice, orderQty in "Get Trade History":
            # https://bybit-exchange.github.io/docs/v5/order/execution).
            order = self.engine.get_order(key.uid, order_id=f.order_id)
            items.append(
                {
                    "symbol": f.symbol,
                    "orderId": f.order_id,
                    "orderLinkId": f.client_order_id or "",
                    "side": "Buy" if f.side == "buy" else "Sell",
                    "orderPrice": _w(order.price if order.price is not None else f.price),
                    "orderQty": _w(order.qty),
                    "leavesQty": "0",
                    "createType": "CreateByUser",
                    "orderType": "Limit" if order.type == "limit" else "Market",
                    "stopOrderType": "",
                    "execFee": _w(f.fee),
                    "execFeeV2": "",
                    "execId": f.exec_id,
                    "execPrice": _w(f.price),
                    "execQty": _w(f.qty),
                    "execType": "Trade",
                    "execValue": _w(f.value),
                    "execTime": str(f.time_ms),
                    "feeCurrency": f.fee_currency,
                    "isMaker": f.is_maker,
                    "feeRate": _w(f.fee_rate),
                    "tradeIv": "",
                    "markIv": "",
                    "markPrice": _w(f.price),
                    "indexPrice": "",
                    "underlyingPrice": "",
                    "blockTradeId": "",
                    "closedSize": "",
                    "seq": 0,
                    "extraFees": "",
                }
            )
        page, cursor = self._page(items, params, 50, 100)
        return {"category": category, "list": page, "nextPageCursor": cursor}
