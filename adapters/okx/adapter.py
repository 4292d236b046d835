"""The OKX v5 adapter: every operation of the interface as a flow over OKX's REST API.

Markets: spot, perpetual swaps and dated futures load with ``load_markets``; options load per
instrument family (``BTC-USD``) on first use, as OKX lists them (``instFamily`` is required for
options). Amounts follow the interface's unit rule everywhere (base currency; USD for inverse
contracts): OKX counts swaps, futures and options in contracts of ``ctVal``
(``Market.contract_size``), converted here with ``exchanges.units`` on the way out and in; an
amount that is not a whole number of contracts is refused before anything is sent. Spot amounts
are in the base currency, spot market buys included (``tgtCcy=base_ccy``). Orders trade
``tdMode=cash`` on spot and ``cross`` on derivatives unless
``params`` say otherwise (e.g. ``{"tdMode": "isolated"}``, or ``{"posSide": "long"}`` for an
account in long/short mode). OKX's docs: https://www.okx.com/docs-v5/en/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from adapters.okx import algo as algo_api
from adapters.okx.account import OkxAccount
from adapters.okx.capabilities import CAPABILITIES
from adapters.okx.hosts import ENVIRONMENTS
from adapters.okx.market_data import TIMEFRAMES, OkxMarketData
from adapters.okx.orders import CLIENT_ORDER_ID, OkxOrders

__all__ = ["CLIENT_ORDER_ID", "TIMEFRAMES", "OkxAdapter"]


class OkxAdapter(OkxOrders, OkxAccount, OkxMarketData):
    """OKX v5: spot, swaps and futures (data, orders, positions) and option market data."""

    name = "okx"
    environments = ENVIRONMENTS
    option_names = ("region",)
    # tdMode is a default ("cross" for derivatives) that params may change to "isolated".
    client_id_params = ("clOrdId",)
    capabilities = CAPABILITIES
    credential_variables = ("API_KEY", "API_SECRET", "API_PASSPHRASE")
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "instId": "symbol",
        "side": "side",
        "ordType": "type, time_in_force or post_only",
        "sz": "amount",
        "tgtCcy": "amount (always in the base currency)",
        "px": "price",
        "reduceOnly": "reduce_only",
        **algo_api.RESERVED,
    }
