"""Bybit v5 asset routes of the emulator: coin information.

``GET /v5/asset/coin/query-info`` ("Get Coin Info",
https://bybit-exchange.github.io/docs/v5/asset/coin-info) is signed and answers
``result.rows[]`` of ``name``, ``coin``, ``remainAmount`` and ``chains[]`` (``chain``,
``chainType``, ``confirmation``, ``withdrawFee``, ``depositMin``, ``withdrawMin``,
``minAccuracy``, ``chainDeposit``, ``chainWithdraw``, ``withdrawPercentageFee``,
``contractAddress``, ``safeConfirmNumber``), every value a string. ccxt's ``load_markets``
calls it whenever it holds keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.emulator.coins import Coin, listed_coins
from exchanges.emulator.keys import ApiKey

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd

__all__ = ["BybitAssets"]


class BybitAssets:
    """The asset endpoints, over a Bybit front-end's state."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {("GET", "/v5/asset/coin/query-info"): (self.coin_info, "read")}

    @staticmethod
    def _row(coin: Coin) -> dict[str, Any]:
        return {
            "name": coin.code,
            "coin": coin.code,
            "remainAmount": to_wire(max(n.withdraw_max for n in coin.networks)),
            "chains": [
                {
                    "chain": net.chain,
                    "chainType": net.name,
                    "confirmation": str(net.confirmations),
                    "withdrawFee": to_wire(net.withdraw_fee),
                    "depositMin": to_wire(net.deposit_min),
                    "withdrawMin": to_wire(net.withdraw_min),
                    "minAccuracy": str(net.decimals),
                    "chainDeposit": "1",
                    "chainWithdraw": "1",
                    "withdrawPercentageFee": "0",
                    "contractAddress": net.contract,
                    "safeConfirmNumber": str(net.confirmations),
                }
                for net in coin.networks
            ],
        }

    def coin_info(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/asset/coin/query-info``: every listed coin, or the one named by ``coin``."""
        wanted = str(params.get("coin") or "").upper()
        coins = listed_coins(self.front.engine)
        return {"rows": [self._row(c) for c in coins if not wanted or c.code == wanted]}
