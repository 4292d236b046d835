"""The Bybit v5 adapter: every operation of the interface as a flow over Bybit's REST API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from adapters.bybit import triggers as triggers_api
from adapters.bybit.account import BybitAccount
from adapters.bybit.base import category_of
from adapters.bybit.capabilities import CAPABILITIES
from adapters.bybit.hosts import ENVIRONMENTS
from adapters.bybit.market_data import TIMEFRAMES, BybitMarketData
from adapters.bybit.orders import BybitOrders

__all__ = ["TIMEFRAMES", "BybitAdapter", "category_of"]


class BybitAdapter(BybitOrders, BybitAccount, BybitMarketData):
    """Bybit v5: spot, linear, inverse (and option market data, orders and positions)."""

    name = "bybit"
    environments = ENVIRONMENTS
    option_names = ("region",)
    client_id_params = ("orderLinkId",)
    capabilities = CAPABILITIES
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "category": "symbol",
        "symbol": "symbol",
        "side": "side",
        "orderType": "type",
        "qty": "amount",
        "marketUnit": "amount (always in the base currency)",
        "price": "price",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
        **triggers_api.RESERVED,
    }
