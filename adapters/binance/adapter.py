"""The Binance adapter: spot (``/api/v3``) and USD-M futures (``/fapi``) behind the interface.

Unified symbols route by kind: ``BTC/USDT`` to spot, ``BTC/USDT:USDT`` and ``BTC/USDC:USDC``
(and dated ``...-YYMMDD``) to USD-M. COIN-M (``dapi``) and options (``eapi``) are other APIs
and raise ``NotSupported``. Binance's docs: spot
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information, USD-M
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from adapters.binance import algo as algo_api
from adapters.binance.account import BinanceAccount
from adapters.binance.base import market_kind
from adapters.binance.capabilities import CAPABILITIES
from adapters.binance.hosts import ENVIRONMENTS
from adapters.binance.market_data import TIMEFRAMES, BinanceMarketData
from adapters.binance.orders import BinanceOrders

__all__ = ["TIMEFRAMES", "BinanceAdapter", "market_kind"]


class BinanceAdapter(BinanceOrders, BinanceAccount, BinanceMarketData):
    """Binance spot and USD-M futures, mainnet, testnet and demo mode."""

    name = "binance"
    environments = ENVIRONMENTS
    option_names = ("host", "wallet")
    client_id_params = ("newClientOrderId",)
    capabilities = CAPABILITIES
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "symbol": "symbol",
        "side": "side",
        "type": "type or post_only",
        "quantity": "amount",
        "quoteOrderQty": "amount (always in the base currency)",
        "price": "price",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
        "goodTillDate": "good_till",
        # The answer must carry status and fills; the signer appends the rest.
        "newOrderRespType": "the library (it reads the RESULT answer)",
        "recvWindow": "connect(recv_window_ms=...)",
        "timestamp": "the library's clock",
        "signature": "the library's signer",
        **algo_api.RESERVED,
    }
