"""The emulator's Bybit v5 private topics of one account: order, execution, position, wallet.

Shapes as on Bybit (https://bybit-exchange.github.io/docs/v5/websocket/private/order "Order",
.../private/execution "Execution", .../private/position "Position", .../private/wallet "Wallet").
Bybit sends no private snapshot: an account's poll returns what changed since the last one.
Conditional orders ride ``order`` as REST lists them (``orderStatus`` Untriggered, Triggered,
Deactivated or Cancelled, ``stopOrderType``, ``triggerPrice``), then as the active order they
become, under the same ``orderId``, with their trigger fields (``emulator_triggers.py``).
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from adapters.bybit.emulator_ws_topics import RestSide, Subscriber, dumps, wire
from exchanges.emulator.engine import (
    EngineError,
    FillView,
    OrderView,
    PositionView,
)
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.triggers import TriggerView

__all__ = ["Account"]


def _order_fingerprint(order: OrderView) -> tuple[Any, ...]:
    return (order.status, order.filled, order.qty, order.price, order.updated_ms)


def _position_fingerprint(position: PositionView) -> tuple[Any, ...]:
    # Mark price and unrealised PnL move with the book; Bybit pushes positions on trades and
    # settings, not on every mark-price tick.
    return (
        position.side,
        position.size,
        position.entry_price,
        position.leverage,
        position.position_margin,
        position.realized_pnl,
    )


class Account:
    """What one account's subscribers have been told; ``poll`` returns what changed since."""

    def __init__(self, front: RestSide, key: ApiKey) -> None:
        self.front = front
        self.engine = front.engine
        self.key = key
        self.uid = key.uid
        self.subscribers: set[Subscriber] = set()
        self.orders = {o.order_id: _order_fingerprint(o) for o in self._orders()}
        self.triggers = {v.trigger_id: v.status for v in self._triggers()}
        self.fills = len(self.engine.fills(self.uid))
        self.positions = {
            (p.category, p.symbol): _position_fingerprint(p)
            for p in self.engine.positions(self.uid)
        }
        self.wallet = self._wallet()
        self.ids = itertools.count(1)

    def _orders(self) -> list[OrderView]:
        return self.engine.open_orders(self.uid) + self.engine.closed_orders(self.uid)

    def _triggers(self) -> list[TriggerView]:
        views = self.engine.triggers(self.uid, open_only=False)
        return sorted(views, key=lambda v: v.updated_ms)

    def _wallet(self) -> tuple[Any, ...]:
        return tuple(
            (coin, b.total, b.locked) for coin, b in self.engine.balances(self.uid).items()
        )

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """Items per topic (``order``, ``execution``, ``position``, ``wallet``)."""
        out: dict[str, list[dict[str, Any]]] = {}
        orders = []
        # A conditional order's own status first: Triggered comes before its order's fills.
        api = self.front.trigger_api
        for trigger in self._triggers():
            if self.triggers.get(trigger.trigger_id) != trigger.status:
                self.triggers[trigger.trigger_id] = trigger.status
                orders.append(self._categorised(api._trigger_json(trigger), trigger.category))
        for order in sorted(self._orders(), key=lambda o: o.updated_ms):
            fingerprint = _order_fingerprint(order)
            if self.orders.get(order.order_id) != fingerprint:
                self.orders[order.order_id] = fingerprint
                orders.append(self._order_item(order))
        if orders:
            out["order"] = orders
        fills = self.engine.fills(self.uid)
        if len(fills) > self.fills:
            fresh = fills[: len(fills) - self.fills]
            self.fills = len(fills)
            out["execution"] = [self._fill_item(f) for f in reversed(fresh)]
        positions = []
        current = {(p.category, p.symbol): p for p in self.engine.positions(self.uid)}
        for key in sorted(set(current) | set(self.positions)):
            view = current.get(key)
            if view is None:
                category, symbol = key
                view = self.engine.positions(self.uid, symbol=symbol, category=category)[0]
            fingerprint = _position_fingerprint(view)
            if self.positions.get(key) != fingerprint:
                self.positions[key] = fingerprint
                positions.append(self._position_item(view))
            if view.size == 0:
                self.positions.pop(key, None)
        if positions:
            out["position"] = positions
        wallet = self._wallet()
        if wallet != self.wallet:
            self.wallet = wallet
            result = self.front.wallet_balance({"accountType": "UNIFIED"}, self.key)
            out["wallet"] = list(result["list"])
        return out

    def frame(self, topic: str, items: list[dict[str, Any]], now: int) -> str:
        """One private frame of ``topic`` carrying ``items``."""
        return dumps(
            {
                "id": f"{self.uid}-{next(self.ids)}",
                "topic": topic,
                "creationTime": now,
                "data": items,
            }
        )

    def _order_item(self, order: OrderView) -> dict[str, Any]:
        trigger = self.engine.trigger_of_order(order.order_id)
        item = self.front.trigger_api._active_json(order, trigger)
        item = self._categorised(item, order.category)
        item["feeCurrency"] = (order.fee_currency or "") if order.category == "spot" else ""
        return item

    @staticmethod
    def _categorised(item: dict[str, Any], category: str) -> dict[str, Any]:
        item["category"] = category
        item["closedPnl"] = "0"
        item.setdefault("feeCurrency", "")
        return item

    def _fill_item(self, fill: FillView) -> dict[str, Any]:
        try:
            order = self.engine.get_order(self.uid, order_id=fill.order_id)
        except EngineError:
            order = None
        return {
            "category": fill.category,
            "symbol": fill.symbol,
            "isLeverage": "0",
            "orderId": fill.order_id,
            "orderLinkId": fill.client_order_id or "",
            "side": "Buy" if fill.side == "buy" else "Sell",
            "orderPrice": wire(order.price if order and order.price is not None else fill.price),
            "orderQty": wire(order.qty if order else fill.qty),
            "leavesQty": wire(order.remaining if order else Decimal(0)),
            "createType": "CreateByUser",
            "orderType": "Limit" if order is not None and order.type == "limit" else "Market",
            "stopOrderType": "",
            "execFee": wire(fill.fee),
            "execId": fill.exec_id,
            "execPrice": wire(fill.price),
            "execQty": wire(fill.qty),
            "execPnl": "0",
            "execType": "Trade",
            "execValue": wire(fill.value),
            "execTime": str(fill.time_ms),
            "isMaker": fill.is_maker,
            "feeRate": wire(fill.fee_rate),
            "feeCurrency": fill.fee_currency,
            "tradeIv": "",
            "markIv": "",
            "markPrice": wire(fill.price),
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "extraFees": "",
            "seq": 0,
        }

    def _position_item(self, p: PositionView) -> dict[str, Any]:
        value = (p.entry_price or Decimal(0)) * p.size
        return {
            "category": p.category,
            "symbol": p.symbol,
            "side": {"buy": "Buy", "sell": "Sell"}.get(p.side, ""),
            "size": wire(p.size),
            "positionIdx": 0,
            "tradeMode": 0,
            "positionValue": wire(value),
            "riskId": 1,
            "riskLimitValue": "2000000",
            "entryPrice": wire(p.entry_price) if p.entry_price is not None else "0",
            "markPrice": wire(p.mark_price),
            "leverage": wire(p.leverage),
            "positionBalance": wire(p.position_margin),
            "autoAddMargin": 0,
            "positionIM": wire(p.position_margin),
            "positionMM": "0",
            "liqPrice": wire(p.liquidation_price) if p.liquidation_price else "",
            "bustPrice": "",
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "unrealisedPnl": wire(p.unrealized_pnl),
            "curRealisedPnl": wire(p.realized_pnl),
            "cumRealisedPnl": wire(p.realized_pnl),
            "sessionAvgPrice": "",
            "positionStatus": "Normal",
            "adlRankIndicator": 0,
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(p.created_ms),
            "updatedTime": str(p.updated_ms),
            "seq": 0,
        }


# -- the front-end ---------------------------------------------------------------------------------
