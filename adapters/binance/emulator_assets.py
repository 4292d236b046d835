"""Binance wallet-level routes of the emulator: coins, margin pairs, COIN-M listing, transfers.

* ``GET /sapi/v1/capital/config/getall`` ("All Coins' Information (USER_DATA)",
  https://developers.binance.com/docs/wallet/capital): signed; one entry per coin with the
  spot wallet's ``free`` and ``locked`` and a ``networkList`` (``network``, ``name``,
  ``withdrawFee``, ``withdrawMin``, ``withdrawMax``, ``withdrawIntegerMultiple``,
  ``depositEnable`` ...), amounts as strings.
* ``GET /sapi/v1/margin/allPairs`` ("Get All Cross Margin Pairs (MARKET_DATA)",
  https://developers.binance.com/docs/margin_trading/market-data/Get-All-Cross-Margin-Pairs)
  needs only the API key; ``GET /sapi/v1/margin/isolated/allPairs`` ("Get All Isolated Margin
  Symbol (USER_DATA)", https://developers.binance.com/docs/margin_trading/market-data/Get-All-Isolated-Margin-Symbol)
  is signed. Both list the pairs open to margin trading (``symbol``, ``base``, ``quote``,
  ``isMarginTrade``, ``isBuyAllowed``, ``isSellAllowed``); the emulator offers no margin
  trading (its spot ``exchangeInfo`` says ``isMarginTradingAllowed`` false for every symbol),
  so both lists are empty.
* ``GET /dapi/v1/exchangeInfo`` (COIN-M "Exchange Information",
  https://developers.binance.com/docs/derivatives/coin-margined-futures/market-data/rest-api/Exchange-Information):
  the emulator lists no COIN-M contracts, so ``symbols`` is empty.
* ``POST /sapi/v1/asset/transfer`` ("User Universal Transfer (USER_DATA)",
  https://developers.binance.com/docs/wallet/asset/user-universal-transfer): ``type``
  ``MAIN_UMFUTURE`` or ``UMFUTURE_MAIN``, ``asset``, ``amount``; answers ``{"tranId": n}``.
  The key needs "Permits Universal Transfer" (the emulator's ``transfer`` scope), else -2015.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire
from exchanges.emulator.accounts import MAINTENANCE_MARGIN_RATE
from exchanges.emulator.coins import Coin, listed_coins
from exchanges.emulator.instruments import EngineError
from exchanges.emulator.keys import ApiKey

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd

__all__ = ["BinanceAssets"]

# Binance's network ids where they differ from the catalogue's short chain ids.
_NETWORKS = {"ARBI": "ARBITRUM"}
_ADDRESS = {
    "BTC": "^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,62}$",
    "ETH": "^(0x)[0-9A-Fa-f]{40}$",
    "ARBI": "^(0x)[0-9A-Fa-f]{40}$",
    "TRX": "^T[1-9A-HJ-NP-Za-km-z]{33}$",
    "SOL": "^[1-9A-HJ-NP-Za-km-z]{32,44}$",
}
#: ``type`` of a universal transfer -> (from wallet, to wallet).
TRANSFER_TYPES = {"MAIN_UMFUTURE": ("spot", "usdm"), "UMFUTURE_MAIN": ("usdm", "spot")}


def _f8(value: Decimal) -> str:
    return f"{value:.8f}"


class BinanceAssets:
    """The wallet-level endpoints, over a Binance front-end's state."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front
        self._transfers = 0

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None, str]]:
        """(method, path) -> (handler, security, market), merged into the front-end's table."""
        return {
            ("GET", "/sapi/v1/capital/config/getall"): (self.coins, "USER_DATA", "spot"),
            ("GET", "/sapi/v1/margin/allPairs"): (self.cross_pairs, "MARKET_DATA", "spot"),
            ("GET", "/sapi/v1/margin/isolated/allPairs"): (
                self.isolated_pairs,
                "USER_DATA",
                "spot",
            ),
            ("POST", "/sapi/v1/asset/transfer"): (self.transfer, "TRANSFER", "spot"),
            ("GET", "/fapi/v1/leverageBracket"): (self.leverage_brackets, "USER_DATA", "usdm"),
            ("GET", "/dapi/v1/time"): (self.front.time, None, "coinm"),
            ("GET", "/dapi/v1/exchangeInfo"): (self.exchange_info_coinm, None, "coinm"),
        }

    # -- coins ------------------------------------------------------------------------------

    @staticmethod
    def _network(coin: Coin, index: int) -> dict[str, Any]:
        net = coin.networks[index]
        return {
            "network": _NETWORKS.get(net.chain, net.chain),
            "coin": coin.code,
            "withdrawIntegerMultiple": to_wire(Decimal(1).scaleb(-net.decimals)),
            "isDefault": index == 0,
            "depositEnable": True,
            "withdrawEnable": True,
            "depositDesc": "",
            "withdrawDesc": "",
            "specialTips": "",
            "specialWithdrawTips": "",
            "name": net.name,
            "resetAddressStatus": False,
            "addressRegex": _ADDRESS.get(net.chain, ""),
            "memoRegex": "",
            "withdrawFee": to_wire(net.withdraw_fee),
            "withdrawMin": to_wire(net.withdraw_min),
            "withdrawMax": to_wire(net.withdraw_max),
            "withdrawInternalMin": to_wire(Decimal(1).scaleb(-net.decimals)),
            "depositDust": to_wire(Decimal(1).scaleb(-net.decimals)),
            "minConfirm": net.confirmations,
            "unLockConfirm": net.confirmations,
            "sameAddress": False,
            "withdrawTag": False,
            "estimatedArrivalTime": 5,
            "busy": False,
            "contractAddressUrl": "",
            "contractAddress": net.contract,
        }

    def coins(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/sapi/v1/capital/config/getall``: each coin with the spot wallet's balance."""
        held = self.front.engine.balances(key.uid)
        rows = []
        for coin in listed_coins(self.front.engine):
            balance = held.get(coin.code)
            free = balance.free if balance is not None else Decimal(0)
            locked = balance.locked if balance is not None else Decimal(0)
            rows.append(
                {
                    "coin": coin.code,
                    "depositAllEnable": True,
                    "withdrawAllEnable": True,
                    "name": coin.name,
                    "free": _f8(free),
                    "locked": _f8(locked),
                    "freeze": _f8(Decimal(0)),
                    "withdrawing": _f8(Decimal(0)),
                    "ipoing": _f8(Decimal(0)),
                    "ipoable": _f8(Decimal(0)),
                    "storage": _f8(Decimal(0)),
                    "isLegalMoney": False,
                    "trading": True,
                    "networkList": [self._network(coin, i) for i in range(len(coin.networks))],
                }
            )
        return rows

    # -- margin pairs -----------------------------------------------------------------------

    def cross_pairs(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/sapi/v1/margin/allPairs``: no pair is open to margin trading here."""
        return []

    def isolated_pairs(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/sapi/v1/margin/isolated/allPairs``: no pair is open to margin trading here."""
        return []

    # -- COIN-M -----------------------------------------------------------------------------

    def exchange_info_coinm(self, params: Mapping[str, str]) -> dict[str, Any]:
        """``/dapi/v1/exchangeInfo``: the COIN-M envelope, with no contracts listed."""
        return {
            "timezone": "UTC",
            "serverTime": self.front.state.now_ms(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "exchangeFilters": [],
            "symbols": [],
        }

    # -- USD-M leverage brackets -------------------------------------------------------------

    def leverage_brackets(self, params: Mapping[str, str], key: ApiKey) -> Any:
        """``/fapi/v1/leverageBracket``: one bracket per symbol, the engine's only tier.

        The engine has one maintenance rate and the instrument's maximum leverage for any
        size, so each symbol has a single bracket up to its largest order's notional. Numbers
        are JSON numbers here, not strings ("Notional and Leverage Brackets (USER_DATA)",
        https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Notional-and-Leverage-Brackets);
        with ``symbol`` the answer is that symbol's object alone.
        """
        specs = self.front.chosen(params, "usdm")
        rows = [
            {
                "symbol": spec.symbol,
                "notionalCoef": 1.0,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": int(spec.max_leverage),
                        "notionalCap": int(spec.max_qty * spec.reference_price * 2),
                        "notionalFloor": 0,
                        "maintMarginRatio": float(MAINTENANCE_MARGIN_RATE),
                        "cum": 0.0,
                    }
                ],
            }
            for spec in specs
        ]
        return rows[0] if params.get("symbol") else rows

    # -- transfers --------------------------------------------------------------------------

    def transfer(self, params: Mapping[str, str], key: ApiKey) -> dict[str, int]:
        """``POST /sapi/v1/asset/transfer`` between the spot and the USD-M wallet."""
        from adapters.binance.emulator import BinanceError, mandatory

        for name in ("type", "asset", "amount"):
            if not params.get(name):
                raise mandatory(name)
        wallets = TRANSFER_TYPES.get(params["type"])
        if wallets is None:
            # Binance's universal transfer knows many more types (margin, funding, COIN-M ...);
            # the emulator has the spot and USD-M wallets only.
            raise BinanceError(-1100, "Illegal characters found in parameter 'type'.")
        try:
            amount = Decimal(params["amount"])
        except InvalidOperation:
            raise BinanceError(-1100, "Illegal characters found in parameter 'amount'.") from None
        if not amount.is_finite() or amount <= 0:
            raise mandatory("amount")
        source, target = wallets
        try:
            self.front.engine.transfer(key.uid, params["asset"], amount, source, target)
        except EngineError as err:
            if err.kind != "insufficient_funds":
                raise
            # Binance's error page lists -5013 as "Asset transfer fail."; the wording with the
            # reason is what Binance answers (quoted in ccxt's binance error table).
            raise BinanceError(-5013, "Asset transfer failed: insufficient balance") from None
        self._transfers += 1
        return {"tranId": 13526853623 + self._transfers}
