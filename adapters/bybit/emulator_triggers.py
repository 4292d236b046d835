"""Bybit v5 conditional orders, attached TP/SL and position TP/SL/trailing stops in the emulator,
over the engine's triggers (``exchanges.emulator.triggers``).

``POST /v5/order/create`` ("Place Order", https://bybit-exchange.github.io/docs/v5/order/create-order):
``triggerPrice`` makes a conditional order, which waits (``orderStatus`` Untriggered,
``stopOrderType`` Stop) until the ``triggerBy`` price (LastPrice by default, IndexPrice,
MarkPrice) rises (``triggerDirection`` 1) or falls (2) to it, then becomes an active order with
the same ``orderId`` and ``orderLinkId``. Derivatives need ``triggerDirection`` (spot takes the
direction from the price, its conditional orders being ``orderFilter=StopOrder``); one that
would trigger at once is refused 110092 "expect Rising, but trigger_price[...] <= current[...]"
or 110093 (its falling twin) ("Error Codes", https://bybit-exchange.github.io/docs/v5/error).
``takeProfit``/``stopLoss`` (``tpTriggerBy``/``slTriggerBy``, ``tpslMode`` Full by default: the
position's TP/SL; Partial with ``tpLimitPrice``/``slLimitPrice`` and ``tpOrderType``/
``slOrderType`` Limit: reduce-only TP/SL of the filled qty) guard the position once the order
fills; a TP/SL on the wrong side of the last price is 10001 "TakeProfit:... set for Buy position
should be higher than base_price:..." (as users report it: UNVERIFIED), on a reduce-only order
110057-like 10001.

``POST /v5/position/trading-stop`` ("Set Trading Stop",
https://bybit-exchange.github.io/docs/v5/position/trading-stop): ``tpslMode`` Full (Partial is
refused by the emulator), ``positionIdx``, ``takeProfit``/``stopLoss`` ("0" cancels),
``tpTriggerBy``/``slTriggerBy``, ``trailingStop`` (a price distance; "0" cancels) and
``activePrice``. They close the whole position at market, are listed as conditional orders
(``stopOrderType`` TakeProfit, StopLoss, TrailingStop) and are cancelled when the position
closes; no position: 10001 "can not set tp/sl/ts for zero position". The position list reports
them (``takeProfit``, ``stopLoss``, ``trailingStop``).

``GET /v5/order/realtime`` lists every kind by default, ``orderFilter=Order`` active orders only
and ``orderFilter=StopOrder`` conditional ones ("Get Open & Closed Orders",
https://bybit-exchange.github.io/docs/v5/order/open-order); ``/v5/order/history`` also lists
them; ``/v5/order/cancel`` and ``/v5/order/cancel-all`` (``orderFilter``) cancel them
("Cancel All Orders", https://bybit-exchange.github.io/docs/v5/order/cancel-all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.bybit.emulator_base import BybitError, _w
from exchanges.emulator.engine import EngineError, OrderView
from exchanges.emulator.triggers import StopLevel, TriggerView

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["BybitTriggers"]

Handler = Callable[..., Any]

_BY_IN = {"LastPrice": "last", "MarkPrice": "mark", "IndexPrice": "index"}
_BY_OUT = {value: key for key, value in _BY_IN.items()}
_STOP_TYPE = {
    "trigger": "Stop",
    "take_profit": "TakeProfit",
    "stop_loss": "StopLoss",
    "trailing": "TrailingStop",
}
_TRIGGER_STATUS = {
    "untriggered": "Untriggered",
    "cancelled": "Deactivated",
    "rejected": "Rejected",
    "triggered": "Triggered",
}
_CANCEL_TYPE = {
    "user": "CancelByUser",
    "position_closed": "CancelByTpSlTsClear",
    "replaced": "CancelByUser",
    "oco": "CancelByUser",
}
_LEG_OF_INDEX = {"1": "long", "2": "short"}


class BybitTriggers:
    """The conditional-order endpoints and handlers, over a Bybit front-end's state."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front
        self.engine = front.engine

    def routes(self) -> dict[tuple[str, str], tuple[Handler, str | None]]:
        """(method, path) -> (handler, access); registered before the modes' wrappers."""
        table = self.front.routes
        create = table[("POST", "/v5/order/create")][0]
        cancel = table[("POST", "/v5/order/cancel")][0]
        amend = table[("POST", "/v5/order/amend")][0]
        cancel_all = table[("POST", "/v5/order/cancel-all")][0]
        positions = table[("GET", "/v5/position/list")][0]
        return {
            ("POST", "/v5/order/create"): (self._order_create(create), "trade"),
            ("POST", "/v5/order/cancel"): (self._order_cancel(cancel), "trade"),
            ("POST", "/v5/order/amend"): (self._order_amend(amend), "trade"),
            ("POST", "/v5/order/cancel-all"): (self._cancel_all(cancel_all), "trade"),
            ("GET", "/v5/order/realtime"): (self.order_realtime, "read"),
            ("GET", "/v5/order/history"): (self.order_history, "read"),
            ("POST", "/v5/position/trading-stop"): (self.trading_stop, "trade"),
            ("GET", "/v5/position/list"): (self._position_list(positions), "read"),
        }

    # -- placing ---------------------------------------------------------------------------------

    def _stop(self, params: Mapping[str, Any], prefix: str, name: str) -> StopLevel | None:
        front = self.front
        price = front._decimal(params, name)
        if price is None or price == 0:
            return None
        by = _BY_IN.get(str(params.get(f"{prefix}TriggerBy") or "LastPrice"))
        if by is None:
            raise BybitError(10001, f"params error: {prefix}TriggerBy invalid")
        limit = None
        if str(params.get(f"{prefix}OrderType") or "Market") == "Limit":
            limit = front._decimal(params, f"{prefix}LimitPrice")
            if limit is None:
                raise BybitError(10001, f"params error: {prefix}LimitPrice is required")
        return StopLevel(price, by, limit)

    def _order_create(self, original: Handler) -> Handler:
        def order_create(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/order/create``: conditional orders and attached TP/SL."""
            front = self.front
            tp = self._stop(params, "tp", "takeProfit")
            sl = self._stop(params, "sl", "stopLoss")
            trigger = front._decimal(params, "triggerPrice")
            if trigger is None and tp is None and sl is None:
                return original(params, key)
            category = front._category(params)
            spec = front._spec(params, category)
            side = {"Buy": "buy", "Sell": "sell"}.get(str(params.get("side")))
            if side is None:
                raise BybitError(10001, "params error: side invalid")
            if params.get("reduceOnly") in (True, "true") and (tp or sl):
                raise BybitError(10001, "params error: reduce-only order can not set tp/sl")
            if tp is not None or sl is not None:
                if category == "spot":
                    raise BybitError(10001, "params error: the emulator sets spot TP/SL nowhere")
                if ((tp and tp.price) or (sl and sl.price)) and params.get("tpslMode") != "Partial":
                    raise BybitError(10001, "params error: limit TP/SL need tpslMode Partial")
                try:
                    self.engine.check_stops(spec, side, tp, sl)
                except EngineError as err:
                    raise BybitError(10001, err.message) from None
            whole = params.get("tpslMode", "Full") != "Partial"
            if trigger is None:
                placed = original(params, key)
                self.engine.attach_stops(
                    key.uid, placed["orderId"], take_profit=tp, stop_loss=sl, whole=whole
                )
                return placed
            return self._conditional(params, key, spec, side, trigger, tp, sl, whole)

        return order_create

    def _conditional(
        self,
        params: Mapping[str, Any],
        key: ApiKey,
        spec: Any,
        side: str,
        trigger: Decimal,
        tp: StopLevel | None,
        sl: StopLevel | None,
        whole: bool,
    ) -> dict[str, Any]:
        front = self.front
        order_type = {"Limit": "limit", "Market": "market"}.get(str(params.get("orderType")))
        if order_type is None:
            raise BybitError(10001, "params error: orderType invalid")
        qty = front._decimal(params, "qty")
        if qty is None:
            raise BybitError(10001, "params error: qty is required")
        price = front._decimal(params, "price") if order_type == "limit" else None
        by = _BY_IN.get(str(params.get("triggerBy") or "LastPrice"))
        if by is None or (spec.category == "spot" and by != "last"):
            raise BybitError(10001, "params error: triggerBy invalid")
        raw_direction = str(params.get("triggerDirection", ""))
        direction = {"1": "rise", "2": "fall"}.get(raw_direction)
        if spec.is_derivative and direction is None:
            raise BybitError(10001, "params error: triggerDirection invalid")
        tif = str(params.get("timeInForce") or "GTC")
        if order_type == "market" and tif in ("GTC", "PostOnly"):
            tif = "IOC"
        link = params.get("orderLinkId") or None
        try:
            view = self.engine.place_trigger(
                key.uid, spec.symbol, side, order_type, qty, price=price, trigger_price=trigger,
                direction=direction, trigger_by=by, time_in_force=tif,
                reduce_only=params.get("reduceOnly") in (True, "true"), client_order_id=link,
                category=spec.category, take_profit=tp, stop_loss=sl, whole=whole,
                inherit_client_id=True,
            )  # fmt: skip
        except EngineError as err:
            if err.kind == "trigger_would_fire":
                code = 110092 if direction == "rise" else 110093
                raise BybitError(code, err.message) from None
            raise
        return {"orderId": view.trigger_id, "orderLinkId": view.client_order_id or ""}

    # -- cancelling ------------------------------------------------------------------------------

    def _order_cancel(self, original: Handler) -> Handler:
        def order_cancel(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/order/cancel``: a waiting conditional order first, else an active one."""
            found = self.engine.find_trigger(
                key.uid,
                trigger_id=params.get("orderId") or None,
                client_order_id=None if params.get("orderId") else params.get("orderLinkId"),
            )
            if found is None or not found.is_open:
                return original(params, key)
            if found.category == "spot" and params.get("orderFilter") not in (
                "StopOrder",
                "tpslOrder",
            ):
                # Spot cancels active orders unless orderFilter names the conditional ones
                # ("orderFilter: spot only ... Order by default").
                return original(params, key)
            view = self.engine.cancel_trigger(key.uid, trigger_id=found.trigger_id)
            return {"orderId": view.trigger_id, "orderLinkId": view.client_order_id or ""}

        return order_cancel

    def _order_amend(self, original: Handler) -> Handler:
        def order_amend(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/order/amend``: a waiting conditional order's ``qty`` and ``price`` too
            ("Amend Order": unfilled or partially filled orders, conditional ones included)."""
            found = self.engine.find_trigger(
                key.uid,
                trigger_id=params.get("orderId") or None,
                client_order_id=None if params.get("orderId") else params.get("orderLinkId"),
            )
            if found is None or not found.is_open:
                return original(params, key)
            front = self.front
            view = self.engine.amend_trigger(
                key.uid,
                trigger_id=found.trigger_id,
                qty=front._decimal(params, "qty"),
                price=front._decimal(params, "price"),
            )
            return {"orderId": view.trigger_id, "orderLinkId": view.client_order_id or ""}

        return order_amend

    def _cancel_all(self, original: Handler) -> Handler:
        def cancel_all(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/order/cancel-all``: ``orderFilter`` Order, StopOrder, or both (absent)."""
            which = params.get("orderFilter")
            result: dict[str, Any] = {"list": [], "success": "1"}
            if which != "StopOrder":
                result = original(params, key)
            if which not in (None, "", "StopOrder", "tpslOrder"):
                return result
            category = self.front._category(params)
            settle = params.get("settleCoin")
            for view in self.engine.cancel_triggers(
                key.uid, symbol=params.get("symbol") or None, category=category
            ):
                if settle and self.front._settle(view.symbol, view.category) != settle:
                    continue
                result["list"].append(
                    {"orderId": view.trigger_id, "orderLinkId": view.client_order_id or ""}
                )
            return result

        return cancel_all

    # -- listing ---------------------------------------------------------------------------------

    def order_realtime(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/realtime``: active and waiting conditional orders (``orderFilter``)."""
        front = self.front
        category = front._category(params)
        symbol = front._scoped(params, category)
        which = params.get("orderFilter") or None
        if str(params.get("openOnly", "0")) == "1":
            orders = self.engine.closed_orders(key.uid, symbol=symbol, category=category)[:500]
            waiting: list[TriggerView] = []
        else:
            orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
            waiting = self.engine.triggers(key.uid, symbol=symbol, category=category)
        rows = self._rows(orders, waiting, params, which)
        page, cursor = front._page(rows, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def order_history(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/order/history``: every order and conditional order of the window."""
        front = self.front
        category = front._category(params)
        symbol = params.get("symbol") or None
        if symbol is not None:
            front._spec(params, category)
        orders = self.engine.open_orders(key.uid, symbol=symbol, category=category)
        orders += self.engine.closed_orders(key.uid, symbol=symbol, category=category)
        orders = front._window(orders, params, lambda o: o.created_ms)
        waiting = [
            t
            for t in self.engine.triggers(
                key.uid, symbol=symbol, category=category, open_only=False
            )
            if t.status != "triggered" or t.order_id != t.trigger_id
        ]
        waiting = front._window(waiting, params, lambda t: t.created_ms)
        rows = self._rows(orders, waiting, params, params.get("orderFilter") or None)
        status = params.get("orderStatus")
        if status:
            rows = [r for r in rows if r["orderStatus"] == status]
        page, cursor = front._page(rows, params, 20, 50)
        return {"category": category, "list": page, "nextPageCursor": cursor}

    def _rows(
        self,
        orders: list[OrderView],
        waiting: list[TriggerView],
        params: Mapping[str, Any],
        which: str | None,
    ) -> list[dict[str, Any]]:
        rows: list[tuple[int, dict[str, Any]]] = []
        for order in self.front._filter(orders, params):
            trigger = self.engine.trigger_of_order(order.order_id)
            conditional = trigger is not None and trigger.trigger_id == order.order_id
            if (which == "StopOrder" and not conditional) or (which == "Order" and conditional):
                continue
            rows.append((order.created_ms, self._active_json(order, trigger)))
        if which != "Order":
            order_id, link = params.get("orderId"), params.get("orderLinkId")
            for view in waiting:
                if order_id and view.trigger_id != order_id:
                    continue
                if link and view.client_order_id != link:
                    continue
                settle, base = params.get("settleCoin"), params.get("baseCoin")
                spec = self.engine.instrument(view.symbol, view.category)
                if (settle and spec.settle != settle) or (base and spec.base != base):
                    continue
                rows.append((view.created_ms, self._trigger_json(view)))
        rows.sort(key=lambda r: r[0], reverse=True)
        return [row for _, row in rows]

    def _active_json(self, order: OrderView, trigger: TriggerView | None) -> dict[str, Any]:
        item = self.front._order_json(order)
        stops = self.engine.order_stops(order.order_id)
        if stops is not None:
            _stops_json(item, *stops)
        if trigger is not None and trigger.trigger_id == order.order_id:
            _trigger_fields(item, trigger)
            item["createType"] = "CreateByStopOrder"
        return item

    def _trigger_json(self, view: TriggerView) -> dict[str, Any]:
        base = OrderView(
            order_id=view.trigger_id, client_order_id=view.client_order_id, uid=view.uid,
            symbol=view.symbol, category=view.category, side=view.side, type=view.type,
            price=view.price, qty=view.qty, filled=Decimal(0), remaining=view.qty,
            cum_quote=Decimal(0), avg_price=None, fee_total=Decimal(0), fee_currency=None,
            status="new", time_in_force=view.time_in_force, reduce_only=view.reduce_only,
            post_only=view.time_in_force == "PostOnly", created_ms=view.created_ms,
            updated_ms=view.updated_ms, cancel_reason=None, quote_qty=False,
        )  # fmt: skip
        item = self.front._order_json(base)
        item["orderStatus"] = _TRIGGER_STATUS[view.status]
        if view.status == "cancelled" and view.category != "spot":
            item["orderStatus"] = "Cancelled"
        item["cancelType"] = _CANCEL_TYPE.get(view.cancel_reason or "", "UNKNOWN")
        item["cumFeeDetail"] = {}
        if view.close_position:
            item["qty"] = "0"
            item["leavesQty"] = "0"
            item["closeOnTrigger"] = True
        _trigger_fields(item, view)
        if view.take_profit is not None or view.stop_loss is not None:
            _stops_json(item, view.take_profit, view.stop_loss)
        return item

    # -- position TP/SL --------------------------------------------------------------------------

    def trading_stop(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/position/trading-stop``: the position's TP, SL and trailing stop."""
        front = self.front
        category = front._category(params)
        if category not in ("linear", "inverse"):
            raise BybitError(10001, f"params error: category invalid [{category}]")
        spec = front._spec(params, category)
        mode = params.get("tpslMode")
        if mode not in ("Full", "Partial"):
            raise BybitError(10001, "params error: tpslMode invalid")
        if mode == "Partial":
            raise BybitError(10001, "params error: the emulator sets Full mode TP/SL only")
        index = str(params.get("positionIdx", "0"))
        hedged = self.engine.hedged(key.uid, spec.symbol, category=category)
        if (index in _LEG_OF_INDEX) != hedged or index not in ("0", "1", "2"):
            raise BybitError(10001, "position idx not match position mode")
        leg = _LEG_OF_INDEX.get(index, "")
        tp = self._stop(params, "tp", "takeProfit")
        sl = self._stop(params, "sl", "stopLoss")
        trail = front._decimal(params, "trailingStop")
        active = front._decimal(params, "activePrice")
        for name, kind in (("takeProfit", "take_profit"), ("stopLoss", "stop_loss")):
            if str(params.get(name)) == "0":
                self._clear(key.uid, spec.key, leg, kind)
        if str(params.get("trailingStop")) == "0":
            self._clear(key.uid, spec.key, leg, "trailing")
        try:
            self.engine.set_position_stops(
                key.uid, spec.symbol, take_profit=tp, stop_loss=sl,
                trail_amount=trail if trail else None, activation=active if trail else None,
                category=category, leg=leg,
            )  # fmt: skip
        except EngineError as err:
            if err.kind in ("no_position", "trigger_would_fire"):
                raise BybitError(10001, err.message) from None
            raise
        return {}

    def _clear(self, uid: int, key: Any, leg: str, kind: str) -> None:
        for view in self.engine.triggers(uid, symbol=key[1], category=key[0]):
            if view.close_position and view.leg == leg and view.kind == kind:
                self.engine.cancel_trigger(uid, trigger_id=view.trigger_id)

    def _position_list(self, original: Handler) -> Handler:
        def position_list(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/v5/position/list`` with the positions' TP, SL and trailing stop."""
            result = original(params, key)
            category = result.get("category")
            stops = [
                t for t in self.engine.triggers(key.uid, category=category) if t.close_position
            ]
            for item in result.get("list", []):
                side = {"Buy": "long", "Sell": "short"}.get(item.get("side"))
                legs = ("", side) if side else ("",)
                for view in stops:
                    if view.symbol != item.get("symbol") or view.leg not in legs:
                        continue
                    if view.kind == "take_profit":
                        item["takeProfit"] = _w(view.trigger_price)
                        item["tpTriggerBy"] = _BY_OUT[view.trigger_by]
                    elif view.kind == "stop_loss":
                        item["stopLoss"] = _w(view.trigger_price)
                        item["slTriggerBy"] = _BY_OUT[view.trigger_by]
                    elif view.kind == "trailing":
                        item["trailingStop"] = _w(view.trail_amount)
            return result

        return position_list


def _trigger_fields(item: dict[str, Any], view: TriggerView) -> None:
    kind = view.kind
    if not view.close_position and kind in ("take_profit", "stop_loss"):
        kind = "partial_" + kind
    item["stopOrderType"] = {
        "partial_take_profit": "PartialTakeProfit",
        "partial_stop_loss": "PartialStopLoss",
    }.get(kind, _STOP_TYPE.get(kind, "Stop"))
    trigger_price = view.activation if view.kind == "trailing" else view.trigger_price
    item["triggerPrice"] = _w(trigger_price) or "0"
    item["triggerBy"] = _BY_OUT[view.trigger_by]
    item["triggerDirection"] = 1 if view.direction == "rise" else 2
    if view.close_position or view.kind != "trigger":
        item["reduceOnly"] = True


def _stops_json(item: dict[str, Any], tp: StopLevel | None, sl: StopLevel | None) -> None:
    if tp is not None:
        item["takeProfit"] = _w(tp.trigger_price)
        item["tpTriggerBy"] = _BY_OUT[tp.trigger_by]
        item["tpLimitPrice"] = _w(tp.price) or "0"
    if sl is not None:
        item["stopLoss"] = _w(sl.trigger_price)
        item["slTriggerBy"] = _BY_OUT[sl.trigger_by]
        item["slLimitPrice"] = _w(sl.price) or "0"
    if "tpslMode" in item:
        partial = any(s is not None and s.price is not None for s in (tp, sl))
        item["tpslMode"] = "Partial" if partial else "Full"
