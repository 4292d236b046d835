"""Binance USD-M conditional orders in the emulator: the Algo Order API, over the engine's
triggers (``exchanges.emulator.triggers``).

Since 2025-12-09 USD-M conditional orders (``STOP``, ``TAKE_PROFIT``, ``STOP_MARKET``,
``TAKE_PROFIT_MARKET``, ``TRAILING_STOP_MARKET``) live only in the Algo Service;
``POST /fapi/v1/order`` refuses them with -4120 STOP_ORDER_SWITCH_ALGO ("Change Log",
https://developers.binance.com/docs/derivatives/change-log, 2025-11-06; "Error Codes",
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code).

``POST /fapi/v1/algoOrder`` ("New Algo Order", https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order):
``algoType=CONDITIONAL``, ``type``, ``side``, ``positionSide``, ``quantity`` (none with
``closePosition=true``: -4137), ``price`` for STOP/TAKE_PROFIT, ``triggerPrice``,
``workingType`` ``CONTRACT_PRICE`` (last, default) or ``MARK_PRICE`` (no index), ``reduceOnly``,
``closePosition`` (STOP_MARKET/TAKE_PROFIT_MARKET: close the whole position at trigger),
``activatePrice`` and ``callbackRate`` (TRAILING_STOP_MARKET, a percentage 0.1-20),
``clientAlgoId``. STOP(_MARKET) buys trigger when the price is at or above the trigger, sells
at or below; TAKE_PROFIT(_MARKET) the reverse; one that would trigger at once is -2021 "Order
would immediately trigger." Statuses: NEW, then TRIGGERED with ``actualOrderId`` (the regular
order it placed), FINISHED once that order is done; CANCELED, REJECTED, EXPIRED (a position
stop whose position closed) ("Event Algo Order Update",
https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-Algo-Order-Update).

``DELETE /fapi/v1/algoOrder`` (``algoId`` or ``clientAlgoId``), ``DELETE
/fapi/v1/algoOpenOrders`` (a symbol's), ``GET /fapi/v1/openAlgoOrders`` (NEW ones only here),
``GET /fapi/v1/algoOrder`` (any status), ``GET /fapi/v1/allAlgoOrders`` (a symbol's, any
status: "Query All Algo Orders",
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-All-Algo-Orders).
Algo ids are integers of their own sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import BinanceError, _Ints, _mandatory, _w
from exchanges.emulator.engine import EngineError
from exchanges.emulator.triggers import TriggerView

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["CONDITIONAL_TYPES", "BinanceAlgo"]

Handler = Callable[..., Any]
Route = tuple[Handler, str | None, str]

CONDITIONAL_TYPES = (
    "STOP",
    "TAKE_PROFIT",
    "STOP_MARKET",
    "TAKE_PROFIT_MARKET",
    "TRAILING_STOP_MARKET",
)
_MSG_4120 = (
    "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead."
)
_KIND_OF = {"STOP": "stop_loss", "TAKE_PROFIT": "take_profit"}
_LEG_OF_SIDE = {"LONG": "long", "SHORT": "short"}
_WORKING = {"CONTRACT_PRICE": "last", "MARK_PRICE": "mark"}
_WORKING_OUT = {"last": "CONTRACT_PRICE", "mark": "MARK_PRICE"}


class BinanceAlgo:
    """The Algo Order endpoints, over a Binance front-end's state."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front
        self.engine = front.engine
        self._algo_ids = _Ints(3_000_001)
        # (uid, clientAlgoId) -> the engine ids that used it, newest last.
        self._by_client: dict[tuple[int, str], list[str]] = {}

    def routes(self) -> dict[tuple[str, str], Route]:
        """(method, path) -> (handler, security, market); before the modes' wrappers."""
        order = self.front.routes[("POST", "/fapi/v1/order")][0]
        return {
            ("POST", "/fapi/v1/order"): (self._refuse_conditional(order), "TRADE", "usdm"),
            ("POST", "/fapi/v1/algoOrder"): (self.new_algo_order, "TRADE", "usdm"),
            ("DELETE", "/fapi/v1/algoOrder"): (self.cancel_algo_order, "TRADE", "usdm"),
            ("GET", "/fapi/v1/algoOrder"): (self.query_algo_order, "USER_DATA", "usdm"),
            ("GET", "/fapi/v1/openAlgoOrders"): (self.open_algo_orders, "USER_DATA", "usdm"),
            ("DELETE", "/fapi/v1/algoOpenOrders"): (self.cancel_algo_open, "TRADE", "usdm"),
            ("GET", "/fapi/v1/allAlgoOrders"): (self.all_algo_orders, "USER_DATA", "usdm"),
        }

    def _refuse_conditional(self, original: Handler) -> Handler:
        def new_order(params: Mapping[str, str], key: ApiKey) -> Any:
            """``POST /fapi/v1/order``: conditional types answer -4120."""
            if params.get("type") in CONDITIONAL_TYPES:
                raise BinanceError(-4120, _MSG_4120)
            return original(params, key)

        return new_order

    # -- placing ---------------------------------------------------------------------------------

    def new_algo_order(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``POST /fapi/v1/algoOrder``."""
        front = self.front
        if params.get("algoType") != "CONDITIONAL":
            if not params.get("algoType"):
                raise _mandatory("algoType")
            raise BinanceError(-1116, "Invalid algoType.")
        spec = front._need_spec(params, "usdm")
        side = front._side(params)
        kind = params.get("type")
        if not kind:
            raise _mandatory("type")
        if kind not in CONDITIONAL_TYPES:
            raise BinanceError(-1116, "Invalid orderType.")
        by = _WORKING.get(params.get("workingType") or "CONTRACT_PRICE")
        if by is None:
            raise BinanceError(-1100, "Illegal characters found in parameter 'workingType'.")
        close = (params.get("closePosition") or "false").lower() == "true"
        reduce_only = (params.get("reduceOnly") or "false").lower() == "true"
        qty = front._number(params, "quantity")
        if close:
            if kind not in ("STOP_MARKET", "TAKE_PROFIT_MARKET"):
                raise BinanceError(-1106, "Parameter 'closePosition' sent when not required.")
            if qty is not None:
                raise BinanceError(-4137, "Quantity must be zero with closePosition equals true.")
            if "reduceOnly" in params:
                raise BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
        elif qty is None:
            raise _mandatory("quantity")
        limit = kind in ("STOP", "TAKE_PROFIT")
        price = front._number(params, "price")
        if limit and price is None:
            raise _mandatory("price")
        cid = params.get("clientAlgoId") or None
        if cid is not None:
            for engine_id in self._by_client.get((key.uid, cid), []):
                if self.engine.get_trigger(key.uid, trigger_id=engine_id).is_open:
                    raise BinanceError(-4116, "ClientOrderId is duplicated.")
        tif = params.get("timeInForce") or "GTC"
        if tif not in ("GTC", "IOC", "FOK", "GTX"):
            raise BinanceError(-1115, "Invalid timeInForce.")
        leg = self._leg(params, key, spec)
        trailing: dict[str, Any] = {}
        direction: str | None = None
        if kind == "TRAILING_STOP_MARKET":
            rate = front._number(params, "callbackRate")
            if rate is None:
                raise _mandatory("callbackRate")
            if not Decimal("0.1") <= rate <= 20:
                raise BinanceError(-2007, "Invalid callBack rate.")
            trailing = {
                "kind": "trailing",
                "trail_ratio": rate / 100,
                "activation": front._number(params, "activatePrice"),
            }
            trigger = None
        else:
            trigger = front._number(params, "triggerPrice")
            if trigger is None:
                raise _mandatory("triggerPrice")
            stop = kind.startswith("STOP")
            direction = "rise" if (side == "buy") == stop else "fall"
            trailing = {"kind": "stop_loss" if stop else "take_profit"}
        native = {
            "type": kind,
            "clientAlgoId": cid or front._new_client_id({}, key.uid, "usdm"),
            "positionSide": params.get("positionSide") or "BOTH",
            "workingType": params.get("workingType") or "CONTRACT_PRICE",
            "priceProtect": (params.get("priceProtect") or "false").lower() == "true",
        }
        try:
            with self.engine.order_leg(leg):
                view = self.engine.place_trigger(
                    key.uid, spec.symbol, side, "limit" if limit else "market",
                    qty if qty is not None else Decimal(0), price=price if limit else None,
                    trigger_price=trigger, direction=direction if trigger else None,
                    trigger_by=by, time_in_force="PostOnly" if tif == "GTX" else tif,
                    reduce_only=reduce_only, category=spec.category, close_position=close,
                    native=native, **trailing,
                )  # fmt: skip
        except EngineError as err:
            if err.kind == "trigger_would_fire":
                raise BinanceError(-2021, "Order would immediately trigger.") from None
            raise
        if cid is not None:
            self._by_client.setdefault((key.uid, cid), []).append(view.trigger_id)
        return self._row(view)

    def _leg(self, params: Mapping[str, str], key: ApiKey, spec: Any) -> str | None:
        side = params.get("positionSide") or "BOTH"
        hedged = self.engine.hedged(key.uid, spec.symbol, category=spec.category)
        leg = _LEG_OF_SIDE.get(side)
        if (leg is not None) != hedged or side not in ("BOTH", "LONG", "SHORT"):
            raise BinanceError(-4061, "Order's position side does not match user's setting.")
        if hedged and "reduceOnly" in params:
            raise BinanceError(-1106, "Parameter 'reduceOnly' sent when not required.")
        return leg

    # -- reading and cancelling ------------------------------------------------------------------

    def _find(self, params: Mapping[str, str], key: ApiKey, missing: BinanceError) -> TriggerView:
        algo_id = self.front._int(params, "algoId")
        cid = params.get("clientAlgoId")
        if algo_id is None and not cid:
            raise BinanceError(
                -1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!"
            )
        engine_id: str | None = None
        if algo_id is not None:
            engine_id = self._algo_ids.engine_id(algo_id)
        elif cid:
            used = self._by_client.get((key.uid, cid))
            engine_id = used[-1] if used else None
        found = None
        if engine_id is not None:
            found = self.engine.find_trigger(key.uid, trigger_id=engine_id)
        if found is None:
            raise missing
        return found

    def query_algo_order(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``GET /fapi/v1/algoOrder``."""
        return self._row(self._find(params, key, BinanceError(-2013, "Order does not exist.")))

    def cancel_algo_order(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOrder``: answers the ids with code 200."""
        found = self._find(params, key, BinanceError(-2011, "Unknown order sent."))
        try:
            view = self.engine.cancel_trigger(key.uid, trigger_id=found.trigger_id)
        except EngineError:
            raise BinanceError(-2011, "Unknown order sent.") from None
        return {
            "algoId": self._algo_ids.of(view.trigger_id),
            "clientAlgoId": view.native.get("clientAlgoId", ""),
            "code": "200",
            "msg": "success",
        }

    def open_algo_orders(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/openAlgoOrders``: the account's waiting conditional orders."""
        spec = self.front._spec(params, "usdm", required=False)
        views = self.engine.triggers(
            key.uid, symbol=spec.symbol if spec else None, category="linear"
        )
        return [self._row(v) for v in reversed(views)]

    def all_algo_orders(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``GET /fapi/v1/allAlgoOrders``: one symbol's conditional orders, any status, oldest
        first; ``startTime``/``endTime`` on the creation time, ``algoId`` the first id, at most
        ``limit`` (500, up to 1000): the first ones from a start, else the latest."""
        spec = self.front._need_spec(params, "usdm")
        views = self.engine.triggers(
            key.uid, symbol=spec.symbol, category="linear", open_only=False
        )
        start, end = self.front._int(params, "startTime"), self.front._int(params, "endTime")
        first_id = self.front._int(params, "algoId")
        chosen = [
            v
            for v in reversed(views)
            if (start is None or v.created_ms >= start)
            and (end is None or v.created_ms <= end)
            and (first_id is None or self._algo_ids.of(v.trigger_id) >= first_id)
        ]
        limit = self.front._limit(params, 500, 1000)
        chosen = chosen[:limit] if start is not None or first_id is not None else chosen[-limit:]
        return [self._row(v) for v in chosen]

    def cancel_algo_open(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``DELETE /fapi/v1/algoOpenOrders``: every waiting one of a symbol."""
        spec = self.front._need_spec(params, "usdm")
        self.engine.cancel_triggers(key.uid, symbol=spec.symbol, category="linear")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def _row(self, view: TriggerView) -> dict[str, Any]:
        native = view.native
        status, actual, actual_price = self._status(view)
        trailing = view.kind == "trailing"
        return {
            "algoId": self._algo_ids.of(view.trigger_id),
            "clientAlgoId": native.get("clientAlgoId", ""),
            "algoType": "CONDITIONAL",
            "orderType": native.get("type", ""),
            "symbol": view.symbol,
            "side": view.side.upper(),
            "positionSide": native.get("positionSide", "BOTH"),
            "timeInForce": "GTX" if view.time_in_force == "PostOnly" else view.time_in_force,
            "quantity": _w(view.qty),
            "algoStatus": status,
            "actualOrderId": actual,
            "actualPrice": actual_price,
            "triggerPrice": _w(view.activation if trailing else view.trigger_price),
            "price": _w(view.price),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": _WORKING_OUT.get(view.trigger_by, "CONTRACT_PRICE"),
            "priceMatch": "NONE",
            "closePosition": view.close_position,
            "priceProtect": bool(native.get("priceProtect", False)),
            "reduceOnly": view.reduce_only and not view.close_position,
            "activatePrice": _w(view.activation) if trailing else "",
            "callbackRate": _w(view.trail_ratio * 100) if view.trail_ratio is not None else "",
            "createTime": view.created_ms,
            "updateTime": view.updated_ms,
            "triggerTime": view.updated_ms if view.status == "triggered" else 0,
            "goodTillDate": 0,
        }

    def _status(self, view: TriggerView) -> tuple[str, str, str]:
        if view.status == "untriggered":
            return "NEW", "", ""
        if view.status == "cancelled":
            return ("EXPIRED" if view.cancel_reason == "position_closed" else "CANCELED"), "", ""
        if view.status == "rejected" or view.order_id is None:
            return "REJECTED", "", ""
        child = self.engine.get_order(view.uid, order_id=view.order_id)
        done = child.status not in ("new", "partially_filled")
        actual = str(self.front._order_ids.of(child.order_id))
        return ("FINISHED" if done else "TRIGGERED"), actual, _w(child.avg_price)
