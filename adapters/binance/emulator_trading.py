"""Binance emulator: order routes (place, query, cancel, amend, open and closed orders, fills) for
spot and USD-M, with Binance's integer ids and client-id rules over the engine's orders.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from adapters.binance.emulator_base import (
    _CLIENT_ID,
    _D,
    _MSG_NO_ORDER,
    _MSG_UNKNOWN_ORDER,
    BinanceBase,
    BinanceError,
    _f8,
    _mandatory,
    _w,
)
from adapters.binance.emulator_gtd import GoodTill
from exchanges.emulator.engine import EngineError, InstrumentSpec, OrderView
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.triggers import TriggerView

__all__ = ["BinanceTrading"]


class BinanceTrading(BinanceBase):
    """Orders and fills of spot and USD-M."""

    #: The expiry of GTD orders (``emulator_gtd``), set by the front-end.
    good_till: GoodTill

    # -- orders: ids ------------------------------------------------------------------------

    def _internal_ids(self, uid: int, cid: str) -> list[str]:
        # The engine refuses any reuse of a client id; Binance only forbids it among open orders.
        # Later uses travel to the engine as "cid#2", "cid#3"… ('#' is outside Binance's
        # alphabet), so the engine's ledger keeps every order.
        found: list[str] = []
        n = 1
        while True:
            internal = cid if n == 1 else f"{cid}#{n}"
            if self._holder(uid, internal) is None:
                return found
            found.append(internal)
            n += 1

    def _holder(self, uid: int, internal: str) -> OrderView | TriggerView | None:
        """The order holding engine client id ``internal``, else the spot stop order still
        waiting (or cancelled before it fired) that holds it (``emulator_spot_stops``)."""
        try:
            return self.engine.get_order(uid, client_order_id=internal)
        except EngineError:
            return self.engine.find_trigger(uid, client_order_id=internal)

    def _client_id(self, order: OrderView) -> str:
        return (order.client_order_id or "").split("#", 1)[0]

    def _new_client_id(self, params: Mapping[str, str], uid: int, market: str) -> str:
        cid = params.get("newClientOrderId")
        if cid is None or cid == "":
            # Binance generates one when none is sent.
            self._generated += 1
            seed = f"{self.state.seed}:{self._generated}".encode()
            return "emu" + hashlib.sha256(seed).hexdigest()[:19]
        if not _CLIENT_ID.match(cid):
            raise BinanceError(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        category = self._category(market)
        for internal in self._internal_ids(uid, cid):
            order = self._holder(uid, internal)
            assert order is not None
            if order.category == category and order.status in (
                "new",
                "partially_filled",
                "untriggered",
            ):
                if market == "spot":
                    raise BinanceError(-2010, "Duplicate order sent.")
                raise BinanceError(-4116, "ClientOrderId is duplicated.")
        return cid

    def _engine_client_id(self, uid: int, cid: str) -> str:
        used = len(self._internal_ids(uid, cid))
        return cid if used == 0 else f"{cid}#{used + 1}"

    def _find(
        self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec, missing: BinanceError
    ) -> OrderView:
        order_id = self._int(params, "orderId")
        cid = params.get("origClientOrderId")
        if order_id is None and not cid:
            raise BinanceError(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        view: OrderView | None = None
        if order_id is not None:
            engine_id = self._order_ids.engine_id(order_id)
            if engine_id is not None:
                try:
                    view = self.engine.get_order(key.uid, order_id=engine_id)
                except EngineError:
                    view = None
            if view is not None and cid and self._client_id(view) != cid:
                view = None
        else:
            assert cid is not None
            for internal in reversed(self._internal_ids(key.uid, cid)):
                candidate = self._holder(key.uid, internal)
                if not isinstance(candidate, OrderView):
                    continue  # a spot stop that never fired: emulator_spot_stops finds those
                if candidate.symbol == spec.symbol and candidate.category == spec.category:
                    view = candidate
                    break
        if view is None or view.symbol != spec.symbol or view.category != spec.category:
            raise missing
        return view

    # -- orders: JSON -----------------------------------------------------------------------

    @staticmethod
    def _status(order: OrderView) -> str:
        status = order.status
        if status in ("new", "partially_filled", "filled", "rejected"):
            return status.upper()
        if order.cancel_reason == "ioc_remainder":
            return "EXPIRED"
        if order.cancel_reason == "self_trade":
            return "EXPIRED_IN_MATCH"
        return "CANCELED"

    def _spot_order(self, o: OrderView, *, query: bool) -> dict[str, Any]:
        quote = o.quote_qty
        item: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": self._order_ids.of(o.order_id),
            "orderListId": -1,
            "clientOrderId": self._client_id(o),
            "price": _f8(o.price),
            "origQty": _f8(o.filled if quote else o.qty),
            "executedQty": _f8(o.filled),
            "cummulativeQuoteQty": _f8(o.cum_quote),
            "status": self._status(o),
            "timeInForce": "GTC" if o.type == "market" or o.post_only else o.time_in_force,
            "type": "MARKET" if o.type == "market" else "LIMIT_MAKER" if o.post_only else "LIMIT",
            "side": o.side.upper(),
        }
        if query:
            item.update(
                {
                    "stopPrice": _f8(_D(0)),
                    "icebergQty": _f8(_D(0)),
                    "time": o.created_ms,
                    "updateTime": o.updated_ms,
                    "isWorking": True,
                    "workingTime": o.created_ms,
                }
            )
        else:
            item["transactTime"] = o.updated_ms
            item["workingTime"] = o.created_ms
        item["origQuoteOrderQty"] = _f8(o.qty if quote else _D(0))
        item["selfTradePreventionMode"] = "EXPIRE_TAKER"
        return item

    def _usdm_order(self, o: OrderView) -> dict[str, Any]:
        return self.good_till.fields(o, self._usdm_json(o))

    def _usdm_json(self, o: OrderView) -> dict[str, Any]:
        return {
            "orderId": self._order_ids.of(o.order_id),
            "symbol": o.symbol,
            "status": self._status(o),
            "clientOrderId": self._client_id(o),
            "price": _w(o.price),
            "avgPrice": _w(o.avg_price),
            "origQty": _w(o.qty),
            "executedQty": _w(o.filled),
            "cumQty": _w(o.filled),
            "cumQuote": _w(o.cum_quote),
            "timeInForce": "GTX"
            if o.post_only
            else "GTC"
            if o.type == "market"
            else o.time_in_force,
            "type": o.type.upper(),
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": o.side.upper(),
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": o.type.upper(),
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_TAKER",
            "goodTillDate": 0,
            "time": o.created_ms,
            "updateTime": o.updated_ms,
        }

    def _spot_fills(self, o: OrderView) -> list[dict[str, Any]]:
        fills = self.engine.fills(o.uid, symbol=o.symbol, category="spot", order_id=o.order_id)
        return [
            {
                "price": _f8(f.price),
                "qty": _f8(f.qty),
                "commission": _f8(f.fee),
                "commissionAsset": f.fee_currency,
                "tradeId": self._trade_ids.of(f.exec_id),
            }
            for f in reversed(fills)
        ]

    # -- orders: spot -----------------------------------------------------------------------

    def _side(self, params: Mapping[str, str]) -> str:
        side = params.get("side")
        if not side:
            raise _mandatory("side")
        if side not in ("BUY", "SELL"):
            raise BinanceError(-1117, "Invalid side.")
        return side.lower()

    def new_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``POST /api/v3/order``: LIMIT, LIMIT_MAKER and MARKET (quantity or quoteOrderQty)."""
        spec = self._need_spec(params, "spot")
        side = self._side(params)
        kind = params.get("type")
        if not kind:
            raise _mandatory("type")
        if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce")
        if kind == "LIMIT":
            if not tif:
                raise _mandatory("timeInForce")
            if tif not in ("GTC", "IOC", "FOK"):
                raise BinanceError(-1115, "Invalid timeInForce.")
        elif tif:
            raise BinanceError(-1106, "Parameter 'timeInForce' sent when not required.")
        qty = self._number(params, "quantity")
        quote = self._number(params, "quoteOrderQty") if kind == "MARKET" else None
        if qty is None and quote is None:
            raise _mandatory("quantity")
        price = self._number(params, "price")
        if kind != "MARKET" and price is None:
            raise _mandatory("price")
        cid = self._new_client_id(params, key.uid, "spot")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            "market" if kind == "MARKET" else "limit",
            qty if qty is not None else quote,  # type: ignore[arg-type]
            price=price if kind != "MARKET" else None,
            time_in_force="PostOnly" if kind == "LIMIT_MAKER" else tif or "GTC",
            client_order_id=self._engine_client_id(key.uid, cid),
            quote_qty=qty is None,
            category="spot",
        )
        answer = params.get("newOrderRespType") or "FULL"
        if answer == "ACK":
            return {
                "symbol": order.symbol,
                "orderId": self._order_ids.of(order.order_id),
                "orderListId": -1,
                "clientOrderId": cid,
                "transactTime": order.updated_ms,
            }
        item = self._spot_order(order, query=False)
        if answer == "FULL":
            item["fills"] = self._spot_fills(order)
        return item

    def query_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /api/v3/order``."""
        spec = self._need_spec(params, "spot")
        order = self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER))
        return self._spot_order(order, query=True)

    def _cancel_json(self, order: OrderView, cancel_id: str) -> dict[str, Any]:
        item = self._spot_order(order, query=False)
        # A cancel answer names the cancel by clientOrderId and the order by origClientOrderId.
        return {
            "symbol": item.pop("symbol"),
            "origClientOrderId": self._client_id(order),
            "orderId": item.pop("orderId"),
            "orderListId": item.pop("orderListId"),
            **item,
            "clientOrderId": cancel_id,
        }

    def _cancel_id(self, params: Mapping[str, str]) -> str:
        given = params.get("newClientOrderId")
        if given:
            return given
        self._generated += 1
        return "cancel" + hashlib.sha256(f"c{self._generated}".encode()).hexdigest()[:16]

    def cancel_order_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /api/v3/order``."""
        spec = self._need_spec(params, "spot")
        order = self._find(params, key, spec, BinanceError(-2011, _MSG_UNKNOWN_ORDER))
        cancelled = self.engine.cancel_order(
            key.uid, spec.symbol, order_id=order.order_id, category="spot"
        )
        return self._cancel_json(cancelled, self._cancel_id(params))

    def open_orders_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/openOrders`` (one symbol or all)."""
        spec = self._spec(params, "spot", required=False)
        orders = self.engine.open_orders(
            key.uid, symbol=spec.symbol if spec else None, category="spot"
        )
        return [self._spot_order(o, query=True) for o in reversed(orders)]

    def cancel_open_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``DELETE /api/v3/openOrders`` (symbol required; -2011 when none is open)."""
        spec = self._need_spec(params, "spot")
        if not self.engine.open_orders(key.uid, symbol=spec.symbol, category="spot"):
            raise BinanceError(-2011, _MSG_UNKNOWN_ORDER)
        cancelled = self.engine.cancel_all(key.uid, symbol=spec.symbol, category="spot")
        return [self._cancel_json(o, self._cancel_id({})) for o in reversed(cancelled)]

    def _history(
        self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec
    ) -> list[OrderView]:
        orders = self.engine.open_orders(key.uid, symbol=spec.symbol, category=spec.category)
        orders += self.engine.closed_orders(key.uid, symbol=spec.symbol, category=spec.category)
        orders.sort(key=lambda o: (o.created_ms, self._order_ids.of(o.order_id)))
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        first_id = self._int(params, "orderId")
        chosen = [
            o
            for o in orders
            if (start is None or o.created_ms >= start)
            and (end is None or o.created_ms <= end)
            and (first_id is None or self._order_ids.of(o.order_id) >= first_id)
        ]
        limit = self._limit(params, 500, 1000)
        return chosen[:limit] if start is not None or first_id is not None else chosen[-limit:]

    def all_orders_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/allOrders`` (symbol required), oldest first."""
        spec = self._need_spec(params, "spot")
        return [self._spot_order(o, query=True) for o in self._history(params, key, spec)]

    def _fills(self, params: Mapping[str, str], key: ApiKey, spec: InstrumentSpec) -> list[Any]:
        order_id = self._int(params, "orderId")
        engine_id = self._order_ids.engine_id(order_id) if order_id is not None else None
        if order_id is not None and engine_id is None:
            return []
        fills = list(
            reversed(
                self.engine.fills(
                    key.uid, symbol=spec.symbol, category=spec.category, order_id=engine_id
                )
            )
        )
        start, end = self._int(params, "startTime"), self._int(params, "endTime")
        chosen = [
            f
            for f in fills
            if (start is None or f.time_ms >= start) and (end is None or f.time_ms <= end)
        ]
        limit = self._limit(params, 500, 1000)
        return chosen[:limit] if start is not None else chosen[-limit:]

    def my_trades_spot(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /api/v3/myTrades`` (symbol required), oldest first."""
        spec = self._need_spec(params, "spot")
        return [
            {
                "symbol": f.symbol,
                "id": self._trade_ids.of(f.exec_id),
                "orderId": self._order_ids.of(f.order_id),
                "orderListId": -1,
                "price": _f8(f.price),
                "qty": _f8(f.qty),
                "quoteQty": _f8(f.value),
                "commission": _f8(f.fee),
                "commissionAsset": f.fee_currency,
                "time": f.time_ms,
                "isBuyer": f.side == "buy",
                "isMaker": f.is_maker,
                "isBestMatch": True,
            }
            for f in self._fills(params, key, spec)
        ]

    # -- orders: USD-M ----------------------------------------------------------------------

    def new_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``POST /fapi/v1/order``: LIMIT (GTC/IOC/FOK/GTX/GTD) and MARKET, one-way mode."""
        spec = self._need_spec(params, "usdm")
        side = self._side(params)
        kind = params.get("type")
        if not kind:
            raise _mandatory("type")
        if kind not in ("LIMIT", "MARKET"):
            raise BinanceError(-1116, "Invalid orderType.")
        tif = params.get("timeInForce") or "GTC"
        if tif not in ("GTC", "IOC", "FOK", "GTX", "GTD"):
            raise BinanceError(-1115, "Invalid timeInForce.")
        # GTD rests as GTC in the engine; emulator_gtd.py keeps and applies its expiry.
        good_till = self.good_till.check(params, self.state.now_ms()) if tif == "GTD" else None
        if params.get("positionSide", "BOTH") != "BOTH":
            raise BinanceError(-4061, "Order's position side does not match user's setting.")
        qty = self._number(params, "quantity")
        if qty is None:
            raise _mandatory("quantity")
        price = self._number(params, "price")
        if kind == "LIMIT" and price is None:
            raise _mandatory("price")
        reduce_only = params.get("reduceOnly", "false").lower() == "true"
        cid = self._new_client_id(params, key.uid, "usdm")
        order = self.engine.place_order(
            key.uid,
            spec.symbol,
            side,
            kind.lower(),
            qty,
            price=price if kind == "LIMIT" else None,
            time_in_force="PostOnly"
            if tif == "GTX" and kind == "LIMIT"
            else tif
            if tif not in ("GTX", "GTD")
            else "GTC",
            reduce_only=reduce_only,
            client_order_id=self._engine_client_id(key.uid, cid),
            category="linear",
        )
        if good_till is not None:
            self.good_till.record(order, good_till)
        return self._usdm_order(order)

    def modify_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``PUT /fapi/v1/order``: side, quantity and price are all mandatory."""
        spec = self._need_spec(params, "usdm")
        side = self._side(params)
        qty, price = self._number(params, "quantity"), self._number(params, "price")
        if qty is None:
            raise _mandatory("quantity")
        if price is None:
            raise _mandatory("price")
        order = self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER))
        if order.side != side:
            raise BinanceError(-4072, "Side does not match the original order.")
        amended = self.engine.amend_order(
            key.uid, spec.symbol, order_id=order.order_id, qty=qty, price=price, category="linear"
        )
        return self._usdm_order(amended)

    def query_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /fapi/v1/order``."""
        spec = self._need_spec(params, "usdm")
        return self._usdm_order(self._find(params, key, spec, BinanceError(-2013, _MSG_NO_ORDER)))

    def cancel_order_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/order``."""
        spec = self._need_spec(params, "usdm")
        order = self._find(params, key, spec, BinanceError(-2011, _MSG_UNKNOWN_ORDER))
        cancelled = self.engine.cancel_order(
            key.uid, spec.symbol, order_id=order.order_id, category="linear"
        )
        return self._usdm_order(cancelled)

    def open_orders_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openOrders``."""
        spec = self._spec(params, "usdm", required=False)
        orders = self.engine.open_orders(
            key.uid, symbol=spec.symbol if spec else None, category="linear"
        )
        return [self._usdm_order(o) for o in reversed(orders)]

    def cancel_open_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/allOpenOrders``: only a code 200 comes back."""
        spec = self._need_spec(params, "usdm")
        self.engine.cancel_all(key.uid, symbol=spec.symbol, category="linear")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def all_orders_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allOrders`` (symbol required), oldest first."""
        spec = self._need_spec(params, "usdm")
        return [self._usdm_order(o) for o in self._history(params, key, spec)]

    def user_trades_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/userTrades`` (symbol required), oldest first."""
        spec = self._need_spec(params, "usdm")
        return [
            {
                "buyer": f.side == "buy",
                "commission": _w(f.fee),
                "commissionAsset": f.fee_currency,
                "id": self._trade_ids.of(f.exec_id),
                "maker": f.is_maker,
                "orderId": self._order_ids.of(f.order_id),
                "price": _w(f.price),
                "qty": _w(f.qty),
                "quoteQty": _w(f.value),
                "realizedPnl": "0",
                "side": f.side.upper(),
                "positionSide": "BOTH",
                "symbol": f.symbol,
                "time": f.time_ms,
            }
            for f in self._fills(params, key, spec)
        ]
