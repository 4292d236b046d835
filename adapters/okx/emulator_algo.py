"""OKX v5 algo orders in the emulator: trigger orders, TP/SL (conditional, oco), trailing stops
(move_order_stop) and TP/SL attached to an order, over the engine's triggers
(``exchanges.emulator.triggers``).

``POST /api/v5/trade/order-algo`` ("Place algo order",
https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order):
``ordType`` ``trigger`` (``triggerPx``, ``orderPx`` -1 for market, ``triggerPxType`` last, index
or mark; OKX takes no direction: the order triggers when the price reaches ``triggerPx`` from
where it is), ``conditional`` (one TP or SL) and ``oco`` (both: one cancels the other) with
``tpTriggerPx``/``tpOrdPx``/``tpTriggerPxType`` and ``sl*``, ``closeFraction=1`` closing the whole
position (with ``reduceOnly`` in net mode; one per position, else 51088), and ``move_order_stop``
(``callbackRatio`` or ``callbackSpread``, ``activePx``). ``sz`` counts contracts. The answer is
``algoId``/``algoClOrdId`` with ``sCode``. A TP or SL already on the wrong side of the price it
watches is refused: 51277-51280 (the TP/SL "cannot be higher/lower than the last price" family,
"Error codes", https://www.okx.com/docs-v5/en/#error-code-rest-api-public; which code goes
with which side is UNVERIFIED).

``GET /api/v5/trade/orders-algo-pending`` (``ordType`` required: one type, or ``conditional,oco``)
lists the live ones, ``GET /api/v5/trade/order-algo`` one by ``algoId``/``algoClOrdId`` (51603
when none), ``POST /api/v5/trade/cancel-algos`` cancels up to 10 (``[{instId, algoId}]``).
States: live, effective (its order placed: ``ordIdList``), canceled, order_failed.

``POST /api/v5/trade/order`` takes TP/SL only in ``attachAlgoOrds`` (``tpTriggerPx``,
``tpOrdPx`` -1 for market, ``tpTriggerPxType``, ``sl*``, ``attachAlgoClOrdId``): they become an
algo order once the order fills, of the filled amount; a top-level ``tpTriggerPx`` or
``slTriggerPx`` is refused with 54070 ("Place order",
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order). ``GET
/api/v5/public/mark-price`` and ``/api/v5/market/index-tickers`` give the prices triggers on mark
and index watch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.okx.emulator_algo_amend import amend_algos
from adapters.okx.emulator_common import ItemError, OkxError, _numeric, _text, _w
from exchanges.emulator.engine import EngineError
from exchanges.emulator.triggers import StopLevel, TriggerView

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd
    from adapters.okx.emulator_common import Instrument
    from exchanges.emulator.keys import ApiKey

__all__ = ["OkxAlgo"]

Handler = Callable[..., Any]

_TYPES = ("trigger", "conditional", "oco", "move_order_stop")
_PX_TYPES = ("last", "index", "mark")
_MSG_54070 = "This function is unsupported, please use the attachAlgoOrds array."
#: (closing side, leg) -> the code of a TP/SL already on the wrong side of the price.
_WRONG_SIDE = {
    ("buy", "tp"): ("51277", "TP trigger price cannot be higher than the last price"),
    ("buy", "sl"): ("51278", "SL trigger price cannot be lower than the last price"),
    ("sell", "tp"): ("51279", "TP trigger price cannot be lower than the last price"),
    ("sell", "sl"): ("51280", "SL trigger price cannot be higher than the last price"),
}
_NOT_FOUND = ("51603", "Order does not exist")


class OkxAlgo:
    """The algo-order endpoints and the attachAlgoOrds hook, over an OKX front-end's state."""

    def __init__(self, front: OkxFrontEnd) -> None:
        self.front = front
        self.engine = front.engine
        # algoId -> the group its legs carry (native["group"]).
        self._groups: dict[str, str] = {}

    def routes(self) -> dict[tuple[str, str], tuple[Handler, str | None]]:
        """(method, path) -> (handler, access); hooks order placement (before the modes)."""
        front = self.front
        front._place = self._place(front._place)  # type: ignore[method-assign]
        return {
            ("POST", "/api/v5/trade/order-algo"): (self.order_algo, "trade"),
            ("GET", "/api/v5/trade/order-algo"): (self.order_algo_details, "read"),
            ("GET", "/api/v5/trade/orders-algo-pending"): (self.orders_algo_pending, "read"),
            ("GET", "/api/v5/trade/orders-algo-history"): (self.orders_algo_history, "read"),
            ("POST", "/api/v5/trade/cancel-algos"): (self.cancel_algos, "trade"),
            ("POST", "/api/v5/trade/amend-algos"): (self.amend_algos, "trade"),
            ("GET", "/api/v5/public/mark-price"): (self.mark_price, None),
            ("GET", "/api/v5/market/index-tickers"): (self.index_tickers, None),
        }

    # -- prices ----------------------------------------------------------------------------------

    def mark_price(self, params: Mapping[str, Any]) -> list[dict[str, str]]:
        """``GET /api/v5/public/mark-price`` of one instrument."""
        inst = self.front._inst(params)
        ticker = self.engine.ticker(inst.spec.symbol, category=inst.spec.category)
        return [
            {
                "instType": inst.inst_type,
                "instId": inst.inst_id,
                "markPx": _w(ticker.mark),
                "ts": str(ticker.time_ms),
            }
        ]

    def index_tickers(self, params: Mapping[str, Any]) -> list[dict[str, str]]:
        """``GET /api/v5/market/index-tickers`` of one index (``BTC-USDT``: the linear swap's)."""
        index = _text(params.get("instId"))
        if not index:
            raise OkxError("50014", "Parameter instId can not be empty.")
        inst = self.front.instruments.get(f"{index}-SWAP")
        if inst is None:
            raise OkxError("51001", "Instrument ID doesn't exist.")
        ticker = self.engine.ticker(inst.spec.symbol, category=inst.spec.category)
        return [
            {
                "instId": index,
                "idxPx": _w(ticker.index),
                "high24h": _w(ticker.high_24h),
                "low24h": _w(ticker.low_24h),
                "open24h": _w(ticker.open_24h),
                "sodUtc0": _w(ticker.open_24h),
                "sodUtc8": _w(ticker.open_24h),
                "ts": str(ticker.time_ms),
            }
        ]

    # -- placing ---------------------------------------------------------------------------------

    def _leg(self, params: Mapping[str, Any], key: ApiKey, inst: Instrument) -> str | None:
        spec = inst.spec
        if inst.ct_val is None or not self.engine.hedged(
            key.uid, spec.symbol, category=spec.category
        ):
            if _text(params.get("posSide")) not in ("", "net"):
                raise ItemError("51000", "Parameter posSide error")
            return None
        leg = _text(params.get("posSide"))
        if leg not in ("long", "short"):
            raise ItemError("51000", "Parameter posSide error")
        return leg

    def _stop(self, params: Mapping[str, Any], prefix: str) -> StopLevel | None:
        front = self.front
        trigger = front._decimal(params, f"{prefix}TriggerPx")
        if trigger is None:
            return None
        by = _text(params.get(f"{prefix}TriggerPxType")) or "last"
        if by not in _PX_TYPES:
            raise ItemError("51000", f"Parameter {prefix}TriggerPxType error")
        price = front._decimal(params, f"{prefix}OrdPx")
        if price is None:
            raise OkxError("50014", f"Parameter {prefix}OrdPx can not be empty.")
        return StopLevel(trigger, by, None if price == -1 else price)

    def _place_algo(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        front = self.front
        inst = front._inst(params, item=True)
        spec = inst.spec
        side = _text(params.get("side"))
        if side not in ("buy", "sell"):
            raise ItemError("51000", "Parameter side error")
        ord_type = _text(params.get("ordType"))
        if ord_type not in _TYPES:
            raise ItemError("51000", "Parameter ordType error")
        td_mode = _text(params.get("tdMode"))
        if not td_mode:
            raise OkxError("50014", "Parameter tdMode can not be empty.")
        close = _text(params.get("closeFraction")) == "1"
        reduce_only = params.get("reduceOnly") in (True, "true")
        size = front._decimal(params, "sz")
        if close:
            if inst.ct_val is None or ord_type not in ("conditional", "oco"):
                raise ItemError("51327", "closeFraction is only applicable to TP/SL orders")
            if not reduce_only and self._leg(params, key, inst) is None:
                raise ItemError("51328", "closeFraction requires reduceOnly in net mode")
            size = None
        elif size is None:
            raise OkxError("50014", "Parameter sz can not be empty.")
        cid = _text(params.get("algoClOrdId")) or None
        if cid is not None and any(
            legs[0].native.get("algoClOrdId") == cid and any(v.is_open for v in legs)
            for legs in self._by_group(key.uid).values()
        ):
            raise ItemError("51065", "algoClOrdId already exists.")
        leg = self._leg(params, key, inst)
        qty = Decimal(0) if size is None else inst.to_engine(size)
        common: dict[str, Any] = {
            "category": spec.category,
            "reduce_only": reduce_only,
            "close_position": close,
            "native": {
                "ordType": ord_type,
                "algoClOrdId": cid or "",
                "tdMode": td_mode,
                "closeFraction": "1" if close else "",
            },
        }
        placed: list[TriggerView] = []
        try:
            with self.engine.order_leg(leg):
                if ord_type == "trigger":
                    placed = [self._trigger(params, key, inst, side, qty, common)]
                elif ord_type == "move_order_stop":
                    placed = [self._trailing(params, key, inst, side, qty, common)]
                else:
                    placed = self._tp_sl(params, key, inst, side, qty, ord_type, close, common)
        except EngineError as err:
            raise front._engine_item_error(err, inst) from None
        first = placed[0]
        algo_id = self._algo_id(_group_of(first), first.trigger_id)
        return {"algoId": algo_id, "algoClOrdId": cid or "", "clOrdId": "", "tag": "",
                "sMsg": "Order placed"}  # fmt: skip

    def _trigger(
        self, params: Mapping[str, Any], key: ApiKey, inst: Instrument, side: str,
        qty: Decimal, common: dict[str, Any],
    ) -> TriggerView:  # fmt: skip
        front = self.front
        trigger = front._decimal(params, "triggerPx")
        if trigger is None:
            raise OkxError("50014", "Parameter triggerPx can not be empty.")
        by = _text(params.get("triggerPxType")) or "last"
        if by not in _PX_TYPES or (inst.ct_val is None and by != "last"):
            raise ItemError("51000", "Parameter triggerPxType error")
        price = front._decimal(params, "orderPx")
        if price is None:
            raise OkxError("50014", "Parameter orderPx can not be empty.")
        market = price == -1
        attached = params.get("attachAlgoOrds")
        tp = sl = None
        if isinstance(attached, list) and attached and isinstance(attached[0], dict):
            tp, sl = self._stop(attached[0], "tp"), self._stop(attached[0], "sl")
        return self.engine.place_trigger(
            key.uid, inst.spec.symbol, side, "market" if market else "limit", qty,
            price=None if market else price, trigger_price=trigger, direction=None,
            trigger_by=by, take_profit=tp, stop_loss=sl, whole=False, **common,
        )  # fmt: skip

    def _trailing(
        self, params: Mapping[str, Any], key: ApiKey, inst: Instrument, side: str,
        qty: Decimal, common: dict[str, Any],
    ) -> TriggerView:  # fmt: skip
        front = self.front
        ratio = front._decimal(params, "callbackRatio")
        spread = front._decimal(params, "callbackSpread")
        if (ratio is None) == (spread is None):
            raise ItemError("51000", "Either callbackRatio or callbackSpread is required")
        if ratio is not None and not Decimal("0.001") <= ratio <= 1:
            raise ItemError("51000", "Parameter callbackRatio error")
        return self.engine.place_trigger(
            key.uid, inst.spec.symbol, side, "market", qty, trigger_price=None, direction=None,
            kind="trailing", trail_ratio=ratio, trail_amount=spread,
            activation=front._decimal(params, "activePx"), **common,
        )  # fmt: skip

    def _tp_sl(
        self, params: Mapping[str, Any], key: ApiKey, inst: Instrument, side: str,
        qty: Decimal, ord_type: str, close: bool, common: dict[str, Any],
    ) -> list[TriggerView]:  # fmt: skip
        tp, sl = self._stop(params, "tp"), self._stop(params, "sl")
        if ord_type == "oco" and (tp is None or sl is None):
            raise ItemError("51000", "An oco order needs both tpTriggerPx and slTriggerPx")
        if tp is None and sl is None:
            raise ItemError("51000", "Parameter tpTriggerPx or slTriggerPx is required")
        if ord_type == "conditional" and tp is not None and sl is not None:
            tp = None  # "if both are given, only the SL logic runs"
        spec = inst.spec
        if close:
            taken = [
                legs
                for legs in self._by_group(key.uid).values()
                if any(v.is_open and v.close_position and v.symbol == spec.symbol for v in legs)
            ]
            if taken:
                raise ItemError(
                    "51088", "You can only place 1 TP/SL order to close an entire position"
                )
        if close and any(s is not None and s.price is not None for s in (tp, sl)):
            raise ItemError("51329", "closeFraction orders execute at market: ordPx must be -1")
        entry = "sell" if side == "buy" else "buy"  # the position's side
        for name, stop in (("tp", tp), ("sl", sl)):
            if stop is None:
                continue
            both = (stop, None) if name == "tp" else (None, stop)
            try:
                self.engine.check_stops(spec, entry, *both)
            except EngineError:
                code, message = _WRONG_SIDE[(side, name)]
                raise ItemError(code, message) from None
        placed = []
        for kind, stop in (("take_profit", tp), ("stop_loss", sl)):
            if stop is None:
                continue
            rising = (entry == "buy") == (kind == "take_profit")
            placed.append(
                self.engine.place_trigger(
                    key.uid,
                    spec.symbol,
                    side,
                    "market" if stop.price is None else "limit",
                    qty,
                    price=stop.price,
                    trigger_price=stop.trigger_price,
                    direction="rise" if rising else "fall",
                    trigger_by=stop.trigger_by,
                    kind=kind,
                    **common,
                )
            )
        if len(placed) == 2:
            self.engine.link_oco(placed[0].trigger_id, placed[1].trigger_id)
        return placed

    def order_algo(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/order-algo``."""
        return self.front._single(self._place_algo, params, key)

    def _place(self, original: Handler) -> Handler:
        def place(params: Mapping[str, Any], key: ApiKey) -> Any:
            """``/api/v5/trade/order``: ``attachAlgoOrds``; top-level TP/SL answer 54070."""
            front = self.front
            if any(params.get(n) not in (None, "") for n in ("tpTriggerPx", "slTriggerPx")):
                raise ItemError("54070", _MSG_54070)
            attached = params.get("attachAlgoOrds")
            if attached in (None, "", []):
                return original(params, key)
            if not isinstance(attached, list) or not all(isinstance(a, dict) for a in attached):
                raise ItemError("51000", "Parameter attachAlgoOrds error")
            if len(attached) != 1:
                raise ItemError("51000", "The emulator takes one attachAlgoOrds entry")
            inst = front._inst(params, item=True)
            if params.get("reduceOnly") in (True, "true"):
                raise ItemError("51100", "Reduce-only orders cannot carry TP/SL")
            tp, sl = self._stop(attached[0], "tp"), self._stop(attached[0], "sl")
            side = _text(params.get("side"))
            for name, stop in (("tp", tp), ("sl", sl)):
                if stop is None:
                    continue
                try:
                    both = (stop, None) if name == "tp" else (None, stop)
                    self.engine.check_stops(inst.spec, side, *both)
                except EngineError:
                    closing = "sell" if side == "buy" else "buy"
                    code, message = _WRONG_SIDE[(closing, name)]
                    raise ItemError(code, message) from None
            rest = {n: v for n, v in params.items() if n != "attachAlgoOrds"}
            result = original(rest, key)
            order_id = front._engine_ids[result["ordId"]]
            cid = _text(attached[0].get("attachAlgoClOrdId"))
            self.engine.attach_stops(
                key.uid, order_id, take_profit=tp, stop_loss=sl, whole=False,
                native={"algoClOrdId": cid, "tdMode": _text(params.get("tdMode"))},
            )  # fmt: skip
            return result

        return place

    # -- reading and cancelling ------------------------------------------------------------------

    def _by_group(self, uid: int) -> dict[str, list[TriggerView]]:
        groups: dict[str, list[TriggerView]] = {}
        for view in reversed(self.engine.triggers(uid, open_only=False)):
            groups.setdefault(_group_of(view), []).append(view)
        return groups

    def _algo_id(self, group: str, first_id: str) -> str:
        algo_id = _numeric(first_id)
        self._groups[algo_id] = group
        return algo_id

    def _find(self, params: Mapping[str, Any], key: ApiKey) -> tuple[str, list[TriggerView]]:
        algo_id = _text(params.get("algoId"))
        cid = _text(params.get("algoClOrdId"))
        groups = self._by_group(key.uid)
        if algo_id:
            group = self._groups.get(algo_id)
            if group in groups:
                return algo_id, groups[group]
        elif cid:
            for group, legs in reversed(groups.items()):
                if legs[0].native.get("algoClOrdId") == cid:
                    return self._algo_id(group, legs[0].trigger_id), legs
        raise OkxError(*_NOT_FOUND)

    def order_algo_details(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``GET /api/v5/trade/order-algo`` by ``algoId`` or ``algoClOrdId``."""
        algo_id, legs = self._find(params, key)
        return [self._json(algo_id, legs)]

    def _listed(self, params: Mapping[str, Any], key: ApiKey, live: bool) -> list[dict[str, Any]]:
        wanted = _text(params.get("ordType"))
        if not wanted:
            raise OkxError("50014", "Parameter ordType can not be empty.")
        kinds = set(wanted.split(","))
        if not kinds <= set(_TYPES) or (len(kinds) > 1 and kinds != {"conditional", "oco"}):
            raise OkxError("51000", "Parameter ordType error")
        inst_id = _text(params.get("instId"))
        rows = []
        for group, legs in self._by_group(key.uid).items():
            row = self._json(self._algo_id(group, legs[0].trigger_id), legs)
            if row["ordType"] not in kinds or (inst_id and row["instId"] != inst_id):
                continue
            if (row["state"] == "live") != live:
                continue
            rows.append(row)
        rows.sort(key=lambda r: int(r["cTime"]), reverse=True)
        return rows

    def orders_algo_pending(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``GET /api/v5/trade/orders-algo-pending``: live algo orders of ``ordType``."""
        return self._listed(params, key, live=True)

    def orders_algo_history(self, params: Mapping[str, Any], key: ApiKey) -> Any:
        """``GET /api/v5/trade/orders-algo-history``: finished algo orders of ``ordType``, of
        one ``state`` or ``algoId`` (one is required), newest first, ``after``/``before`` by
        ``algoId``, ``limit`` up to 100."""
        state, algo_id = _text(params.get("state")), _text(params.get("algoId"))
        if not state and not algo_id:
            raise OkxError("50014", "Parameter state can not be empty.")
        if state and state not in ("effective", "canceled", "order_failed"):
            raise OkxError("51000", "Parameter state error")
        rows = [
            r
            for r in self._listed(params, key, live=False)
            if (not state or r["state"] == state) and (not algo_id or r["algoId"] == algo_id)
        ]
        return self.front._page(rows, params, "algoId")

    def cancel_algos(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/cancel-algos``: up to 10, each with its sCode."""
        if not isinstance(params, list) or not all(isinstance(p, dict) for p in params):
            raise OkxError("50002", "JSON syntax error")
        if not 1 <= len(params) <= 10:
            raise OkxError("51000", "Parameter data error: 1 to 10 algo orders per request")
        items = []
        for item in params:
            try:
                self.front._inst(item, item=True)
                algo_id, legs = self._find(item, key)
                waiting = [v for v in legs if v.is_open]
                if not waiting:
                    raise ItemError("51400", "Cancellation failed as the order does not exist.")
                for view in waiting:
                    self.engine.cancel_trigger(key.uid, trigger_id=view.trigger_id)
                items.append({"algoId": algo_id, "sCode": "0", "sMsg": ""})
            except (ItemError, OkxError) as err:
                items.append({"algoId": _text(item.get("algoId")), "sCode": err.code,
                              "sMsg": err.message})  # fmt: skip
        failed = sum(1 for i in items if i["sCode"] != "0")
        if failed == 0:
            return "0", "", items
        return ("1", "All operations failed", items) if failed == len(items) else (
            "2", "Bulk operation partially succeeded.", items)  # fmt: skip

    def amend_algos(self, params: Any, key: ApiKey) -> tuple[str, str, list[dict[str, Any]]]:
        """``POST /api/v5/trade/amend-algos`` (``emulator_algo_amend``)."""
        return amend_algos(self, params, key)

    def _json(self, algo_id: str, legs: list[TriggerView]) -> dict[str, Any]:
        first = legs[0]
        inst = self.front._inst_of[(first.category, first.symbol)]
        native = first.native
        tp = next((v for v in legs if v.kind == "take_profit"), None)
        sl = next((v for v in legs if v.kind == "stop_loss"), None)
        trigger = next((v for v in legs if v.kind in ("trigger", "trailing")), None)
        states = {v.status for v in legs}
        if "untriggered" in states:
            state = "live"
        elif "triggered" in states:
            state = "effective"
        elif states == {"rejected"}:
            state = "order_failed"
        else:
            state = "canceled"
        orders = [self.front._ord_id(v.order_id) for v in legs if v.order_id]
        size = "" if first.close_position else _w(inst.from_engine(first.qty))
        row: dict[str, Any] = {
            "instType": inst.inst_type,
            "instId": inst.inst_id,
            "ccy": "",
            "ordId": orders[0] if orders else "",
            "ordIdList": orders,
            "algoId": algo_id,
            "clOrdId": "",
            "sz": size,
            "closeFraction": native.get("closeFraction", ""),
            "ordType": native.get("ordType") or _ord_type(first),
            "side": first.side,
            "posSide": first.leg or ("net" if inst.ct_val is not None else ""),
            "tdMode": native.get("tdMode", ""),
            "tgtCcy": "",
            "state": state,
            "lever": "" if inst.ct_val is None else "10",
            "tpTriggerPx": _px(tp and tp.trigger_price),
            "tpTriggerPxType": tp.trigger_by if tp else "",
            "tpOrdPx": _ord_px(tp) if tp else "",
            "slTriggerPx": _px(sl and sl.trigger_price),
            "slTriggerPxType": sl.trigger_by if sl else "",
            "slOrdPx": _ord_px(sl) if sl else "",
            "triggerPx": _px(trigger and trigger.kind == "trigger" and trigger.trigger_price),
            "triggerPxType": trigger.trigger_by if trigger else "",
            "ordPx": _ord_px(trigger) if trigger and trigger.kind == "trigger" else "",
            "actualSz": "",
            "actualPx": "",
            "actualSide": "",
            "triggerTime": str(first.updated_ms) if state == "effective" else "",
            "callbackRatio": _px(trigger and trigger.trail_ratio),
            "callbackSpread": _px(trigger and trigger.trail_amount),
            "activePx": _px(trigger and trigger.activation),
            "moveTriggerPx": _px(trigger and trigger.kind == "trailing" and trigger.trigger_price),
            "reduceOnly": "true" if first.reduce_only else "false",
            "failCode": "51008" if state == "order_failed" else "",
            "algoClOrdId": native.get("algoClOrdId", ""),
            "attachAlgoOrds": _attached(trigger),
            "cTime": str(first.created_ms),
            "uTime": str(max(v.updated_ms for v in legs)),
            "tag": "",
        }
        return row


def _group_of(view: TriggerView) -> str:
    """The algo order a leg belongs to: an OCO pair is one (TP and SL), any other leg its own."""
    if view.oco is not None:
        return "oco:" + min(view.trigger_id, view.oco)
    return "algo:" + view.trigger_id


def _ord_type(view: TriggerView) -> str:
    if view.kind == "trigger":
        return "trigger"
    if view.kind == "trailing":
        return "move_order_stop"
    return "oco" if view.oco is not None else "conditional"


def _px(value: Any) -> str:
    return _w(value) if isinstance(value, Decimal) else ""


def _ord_px(view: TriggerView) -> str:
    return "-1" if view.price is None else _w(view.price)


def _attached(view: TriggerView | None) -> list[dict[str, str]]:
    if view is None or (view.take_profit is None and view.stop_loss is None):
        return []
    entry: dict[str, str] = {}
    for prefix, stop in (("tp", view.take_profit), ("sl", view.stop_loss)):
        if stop is not None:
            entry[f"{prefix}TriggerPx"] = _w(stop.trigger_price)
            entry[f"{prefix}TriggerPxType"] = stop.trigger_by
            entry[f"{prefix}OrdPx"] = "-1" if stop.price is None else _w(stop.price)
    return [entry]
