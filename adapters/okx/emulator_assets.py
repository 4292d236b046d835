"""OKX funding-account routes of the emulator: the currency list.

``GET /api/v5/asset/currencies`` ("Get currencies",
https://www.okx.com/docs-v5/en/#funding-account-rest-api-get-currencies) is signed (read
permission) and answers one item per currency and chain: ``ccy``, ``name``, ``chain`` (the
currency, a dash and the network, e.g. ``USDT-TRC20``), ``canDep``, ``canWd``,
``canInternal``, ``minDep``, ``minWd``, ``maxWd``, ``wdTickSz`` (withdrawal decimals),
``fee``/``minFee``/``maxFee``, ``mainNet``, ``ctAddr`` ..., amounts as strings and flags as
booleans. ``ccy`` takes one currency or several separated by commas. ccxt's ``load_markets``
calls it whenever it holds keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.emulator.coins import Coin, Network, listed_coins
from exchanges.emulator.keys import ApiKey

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd

__all__ = ["OkxAssets"]

# OKX's network names (the part of ``chain`` after the currency) by the catalogue's chain id.
_NETWORKS = {
    "BTC": "Bitcoin",
    "ETH": "ERC20",
    "ARBI": "Arbitrum One",
    "TRX": "TRC20",
    "SOL": "Solana",
}


class OkxAssets:
    """The funding-account endpoints, over an OKX front-end's state."""

    def __init__(self, front: OkxFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {("GET", "/api/v5/asset/currencies"): (self.currencies, "read")}

    @staticmethod
    def _chain(coin: Coin, net: Network) -> dict[str, Any]:
        fee = to_wire(net.withdraw_fee)
        native = not net.contract
        return {
            "ccy": coin.code,
            "name": coin.name,
            "logoLink": "",
            "chain": f"{coin.code}-{_NETWORKS.get(net.chain, net.chain)}",
            "ctAddr": net.contract,
            "canDep": True,
            "canWd": True,
            "canInternal": True,
            "depEstOpenTime": "",
            "wdEstOpenTime": "",
            "minDep": to_wire(net.deposit_min),
            "minWd": to_wire(net.withdraw_min),
            "maxWd": to_wire(net.withdraw_max),
            "wdTickSz": str(net.decimals),
            "wdQuota": "10000000",
            "usedWdQuota": "0",
            "fee": fee,
            "minFee": fee,
            "maxFee": fee,
            "minFeeForCtAddr": fee,
            "maxFeeForCtAddr": fee,
            "burningFeeRate": "",
            "mainNet": native,
            "needTag": False,
            "minDepArrivalConfirm": str(net.confirmations),
            "minWdUnlockConfirm": str(net.confirmations),
            "depQuotaFixed": "",
            "usedDepQuotaFixed": "",
            "depQuoteDailyLayer2": "",
        }

    def currencies(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/asset/currencies``: every chain of every listed currency (or of ``ccy``)."""
        wanted = {c for c in str(params.get("ccy") or "").upper().split(",") if c}
        return [
            self._chain(coin, net)
            for coin in listed_coins(self.front.engine)
            if not wanted or coin.code in wanted
            for net in coin.networks
        ]
