"""Binance spot stop orders in the emulator: the stop types of ``/api/v3/order``, over the
engine's triggers (``exchanges.emulator.triggers``).

``POST /api/v3/order`` ("New order (TRADE)",
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints#new-order-trade)
takes ``STOP_LOSS`` and ``TAKE_PROFIT`` (``quantity``, ``stopPrice``: a market order once
triggered) and ``STOP_LOSS_LIMIT`` and ``TAKE_PROFIT_LIMIT`` (also ``timeInForce`` and
``price``). Above the market STOP_LOSS buys and TAKE_PROFIT sells, below it STOP_LOSS sells and
TAKE_PROFIT buys, so the side and the type give the direction the last price must move in; a
stop already reached is -2010 "Order would trigger immediately." ("Error codes",
https://developers.binance.com/docs/binance-spot-api-docs/errors; traders also quote the
older wording "Stop price would trigger immediately."). Without ``stopPrice`` (or
``trailingDelta``) it is -1102; ``trailingDelta`` is -2010 "Trailing stop orders are not
supported for this symbol." (the emulator's ``allowTrailingStop`` is false). Stop types answer
ACK unless ``newOrderRespType`` says otherwise.

A stop is an ordinary order: the same ``orderId`` and ``clientOrderId`` before and after it
triggers, listed by ``openOrders`` and ``allOrders``, read by ``GET /api/v3/order``, cancelled
by ``DELETE /api/v3/order`` and ``DELETE /api/v3/openOrders``, each row with its ``type`` and
``stopPrice``. While it waits it is ``NEW`` with ``isWorking`` false and ``workingTime`` -1
(as the docs show a pending order); once triggered it works on the book (``isWorking`` true,
``workingTime`` the trigger time) and fills like any order. One that cannot be placed when it
triggers is ``EXPIRED``.

Simplification (not Binance's behaviour): a waiting stop reserves nothing, where Binance locks
its assets at placement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import (
    _MSG_UNKNOWN_ORDER,
    BinanceError,
    _f8,
    _mandatory,
)
from adapters.binance.spot_stops import STOP_TYPES
from exchanges.emulator.engine import EngineError
from exchanges.emulator.triggers import TriggerView

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.instruments import InstrumentSpec
    from exchanges.emulator.keys import ApiKey

__all__ = ["BinanceSpotStops"]

Handler = Callable[..., Any]
Route = tuple[Handler, str | None, str]

_STATUS = {"untriggered": "NEW", "triggered": "NEW", "cancelled": "CANCELED", "rejected": "EXPIRED"}
_MSG_WOULD_TRIGGER = "Order would trigger immediately."


class BinanceSpotStops:
    """The spot order endpoints with stop types, wrapping a Binance front-end's handlers."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front
        self.engine = front.engine

    def routes(self) -> dict[tuple[str, str], Route]:
        """(method, path) -> (handler, security, market): the spot order handlers, wrapped."""
        table = self.front.routes
        wrappers: dict[tuple[str, str], Callable[[Handler], Handler]] = {
            ("POST", "/api/v3/order"): self._new_order,
            ("GET", "/api/v3/order"): self._query_order,
            ("DELETE", "/api/v3/order"): self._cancel_order,
            ("GET", "/api/v3/openOrders"): self._open_orders,
            ("DELETE", "/api/v3/openOrders"): self._cancel_open,
            ("GET", "/api/v3/allOrders"): self._all_orders,
        }
        routes: dict[tuple[str, str], Route] = {}
        for path, wrap in wrappers.items():
            handler, security, market = table[path]
            routes[path] = (wrap(handler), security, market)
        return routes

    # -- placing ---------------------------------------------------------------------------------

    def _new_order(self, original: Handler) -> Handler:
        def new_order(params: Mapping[str, str], key: ApiKey) -> Any:
            """``POST /api/v3/order``: the stop types here, the others as before."""
            kind = params.get("type")
            if kind in STOP_TYPES:
                return self._place(params, key, kind)
            if params.get("stopPrice"):
                raise BinanceError(-1106, "Parameter 'stopPrice' sent when not required.")
            return original(params, key)

        return new_order

    def _place(self, params: Mapping[str, str], key: ApiKey, kind: str) -> dict[str, Any]:
        front = self.front
        spec = front._need_spec(params, "spot")
        side = front._side(params)
        if params.get("trailingDelta"):
            raise BinanceError(-2010, "Trailing stop orders are not supported for this symbol.")
        stop = front._number(params, "stopPrice")
        if stop is None:
            raise BinanceError(
                -1102,
                "Param 'stopPrice' or 'trailingDelta' must be sent, but both were empty/null!",
            )
        limit = kind.endswith("_LIMIT")
        tif = params.get("timeInForce")
        if limit:
            if not tif:
                raise _mandatory("timeInForce")
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(-1115, "Invalid timeInForce.")
        elif tif:
            raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
        qty = front._number(params, "quantity")
        if qty is None:
            raise _mandatory("quantity")
        price = front._number(params, "price")
        if limit and price is None:
            raise _mandatory("price")
        if not limit and price is not None:
            raise BinanceError(-1106, "Parameter 'price' sent when not required.")
        cid = front._new_client_id(params, key.uid, "spot")
        # Above the market STOP_LOSS buys and TAKE_PROFIT sells: those wait for a rise.
        direction = "rise" if (side == "buy") == kind.startswith("STOP_LOSS") else "fall"
        try:
            view = self.engine.place_trigger(
                key.uid, spec.symbol, side, "limit" if limit else "market", qty,
                trigger_price=stop, direction=direction, price=price, time_in_force=tif or "GTC",
                client_order_id=front._engine_client_id(key.uid, cid), category="spot",
                inherit_client_id=True, native={"type": kind},
            )  # fmt: skip
        except EngineError as err:
            if err.kind == "trigger_would_fire":
                raise BinanceError(-2010, _MSG_WOULD_TRIGGER) from None
            raise
        answer = params.get("newOrderRespType") or "ACK"
        if answer == "ACK":
            return {
                "symbol": view.symbol,
                "orderId": front._order_ids.of(view.trigger_id),
                "orderListId": -1,
                "clientOrderId": cid,
                "transactTime": view.created_ms,
            }
        item = self._json(view, query=False)
        if answer == "FULL":
            item["fills"] = []
        return item

    # -- rows ------------------------------------------------------------------------------------

    def _json(self, view: TriggerView, *, query: bool) -> dict[str, Any]:
        """A stop order that has not triggered (waiting, cancelled or expired) as Binance
        reports it."""
        front = self.front
        limit = view.type == "limit"
        item: dict[str, Any] = {
            "symbol": view.symbol,
            "orderId": front._order_ids.of(view.trigger_id),
            "orderListId": -1,
            "clientOrderId": (view.client_order_id or "").split("#", 1)[0],
            "price": _f8(view.price if limit else Decimal(0)),
            "origQty": _f8(view.qty),
            "executedQty": _f8(Decimal(0)),
            "cummulativeQuoteQty": _f8(Decimal(0)),
            "status": _STATUS[view.status],
            "timeInForce": view.time_in_force if limit else "GTC",
            "type": view.native.get("type"),
            "side": view.side.upper(),
            "stopPrice": _f8(view.trigger_price),
        }
        if query:
            item.update(
                {
                    "icebergQty": _f8(Decimal(0)),
                    "time": view.created_ms,
                    "updateTime": view.updated_ms,
                    "isWorking": False,
                    "workingTime": -1,
                }
            )
        else:
            item["transactTime"] = view.updated_ms
            item["workingTime"] = -1
        item["origQuoteOrderQty"] = _f8(Decimal(0))
        item["selfTradePreventionMode"] = "EXPIRE_TAKER"
        return item

    def _stop_of(self, row: Mapping[str, Any]) -> TriggerView | None:
        """The stop order a row's order is, once triggered (the same id)."""
        number = row.get("orderId")
        engine_id = self.front._order_ids.engine_id(number) if isinstance(number, int) else None
        trigger = self.engine.trigger_of_order(engine_id) if engine_id is not None else None
        if trigger is None or trigger.trigger_id != engine_id:
            return None
        return trigger if trigger.native.get("type") in STOP_TYPES else None

    def _decorate(self, row: Any) -> Any:
        """A row of an order that a stop placed, shown as that stop: its type, ``stopPrice``,
        placement time, and the time it started working."""
        if not isinstance(row, dict):
            return row
        trigger = self._stop_of(row)
        if trigger is None:
            return row
        row["type"] = trigger.native["type"]
        row["stopPrice"] = _f8(trigger.trigger_price)
        if "time" in row:
            row["time"] = trigger.created_ms
        if "isWorking" in row:
            row["isWorking"] = True
        if "workingTime" in row:
            row["workingTime"] = trigger.updated_ms
        return row

    def _unfired(
        self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec
    ) -> TriggerView | None:
        """The stop order ``orderId``/``origClientOrderId`` name, when it has not triggered."""
        front = self.front
        order_id = front._int(params, "orderId")
        cid = params.get("origClientOrderId")
        held: Any = None
        if order_id is not None:
            engine_id = front._order_ids.engine_id(order_id)
            if engine_id is not None:
                held = self.engine.find_trigger(key.uid, trigger_id=engine_id)
            if held is not None and cid and (held.client_order_id or "").split("#")[0] != cid:
                held = None
        elif cid:
            for internal in reversed(front._internal_ids(key.uid, cid)):
                candidate = front._holder(key.uid, internal)
                if candidate is not None and (candidate.symbol, candidate.category) == (
                    spec.symbol,
                    spec.category,
                ):
                    held = candidate
                    break
        if (
            not isinstance(held, TriggerView)
            or (held.symbol, held.category) != (spec.symbol, "spot")
            or held.order_id is not None
        ):
            return None
        return held

    # -- reading and cancelling ------------------------------------------------------------------

    def _query_order(self, original: Handler) -> Handler:
        def query_order(params: Mapping[str, str], key: ApiKey) -> Any:
            """``GET /api/v3/order``: a stop order as well."""
            spec = self.front._need_spec(params, "spot")
            view = self._unfired(params, key, spec)
            if view is not None:
                return self._json(view, query=True)
            return self._decorate(original(params, key))

        return query_order

    def _cancelled(self, view: TriggerView, cancel_id: str) -> dict[str, Any]:
        item = self._json(view, query=False)
        # A cancel answer names the cancel by clientOrderId and the order by origClientOrderId.
        return {
            "symbol": item.pop("symbol"),
            "origClientOrderId": item.pop("clientOrderId"),
            "orderId": item.pop("orderId"),
            "orderListId": item.pop("orderListId"),
            **item,
            "clientOrderId": cancel_id,
        }

    def _cancel_order(self, original: Handler) -> Handler:
        def cancel_order(params: Mapping[str, str], key: ApiKey) -> Any:
            """``DELETE /api/v3/order``: a waiting stop order as well."""
            spec = self.front._need_spec(params, "spot")
            view = self._unfired(params, key, spec)
            if view is None:
                return self._decorate(original(params, key))
            if not view.is_open:
                raise BinanceError(-2011, _MSG_UNKNOWN_ORDER)
            cancelled = self.engine.cancel_trigger(key.uid, trigger_id=view.trigger_id)
            return self._cancelled(cancelled, self.front._cancel_id(params))

        return cancel_order

    def _waiting(self, uid: int, symbol: str | None) -> list[TriggerView]:
        """The account's waiting spot stops (of one symbol), oldest first."""
        views = self.engine.triggers(uid, symbol=symbol, category="spot")
        return [v for v in reversed(views) if v.native.get("type") in STOP_TYPES]

    def _open_orders(self, original: Handler) -> Handler:
        def open_orders(params: Mapping[str, str], key: ApiKey) -> Any:
            """``GET /api/v3/openOrders``: the waiting stop orders too."""
            rows = [self._decorate(row) for row in original(params, key)]
            spec = self.front._spec(params, "spot", required=False)
            waiting = self._waiting(key.uid, spec.symbol if spec else None)
            rows.extend(self._json(view, query=True) for view in waiting)
            rows.sort(key=lambda row: (row["time"], row["orderId"]))
            return rows

        return open_orders

    def _cancel_open(self, original: Handler) -> Handler:
        def cancel_open(params: Mapping[str, str], key: ApiKey) -> Any:
            """``DELETE /api/v3/openOrders``: the waiting stop orders too (-2011 when there is
            nothing open at all)."""
            spec = self.front._need_spec(params, "spot")
            waiting = self._waiting(key.uid, spec.symbol)
            rows: list[Any] = []
            if not waiting or self.engine.open_orders(key.uid, symbol=spec.symbol, category="spot"):
                rows = [self._decorate(row) for row in original(params, key)]
            for view in waiting:
                cancelled = self.engine.cancel_trigger(key.uid, trigger_id=view.trigger_id)
                rows.append(self._cancelled(cancelled, self.front._cancel_id({})))
            return rows

        return cancel_open

    def _all_orders(self, original: Handler) -> Handler:
        def all_orders(params: Mapping[str, str], key: ApiKey) -> Any:
            """``GET /api/v3/allOrders``: with the stop orders that have not triggered (those
            that have are the orders they placed)."""
            front = self.front
            rows = [self._decorate(row) for row in original(params, key)]
            spec = front._need_spec(params, "spot")
            start, end = front._int(params, "startTime"), front._int(params, "endTime")
            first_id = front._int(params, "orderId")
            for view in self.engine.triggers(
                key.uid, symbol=spec.symbol, category="spot", open_only=False
            ):
                row = self._json(view, query=True)
                if (
                    view.order_id is None
                    and view.native.get("type") in STOP_TYPES
                    and (start is None or view.created_ms >= start)
                    and (end is None or view.created_ms <= end)
                    and (first_id is None or row["orderId"] >= first_id)
                ):
                    rows.append(row)
            rows.sort(key=lambda row: (row["time"], row["orderId"]))
            limit = front._limit(params, 500, 1000)
            return rows[:limit] if start is not None or first_id is not None else rows[-limit:]

        return all_orders
