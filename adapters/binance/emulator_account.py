"""Binance emulator: account routes (balances, commission rates, API restrictions, USD-M
positions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.binance.emulator_base import (
    _D,
    USDM_WALLET,
    BinanceBase,
    _f8,
    _w,
)
from exchanges.emulator.keys import ApiKey

__all__ = ["BinanceAccount"]


class BinanceAccount(BinanceBase):
    """Balances, fees, key restrictions and positions of an account."""

    # -- account --------------------------------------------------------------------------

    def account_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/api/v3/account`` (``omitZeroBalances``)."""
        omit = params.get("omitZeroBalances") == "true"
        fee = next((s.taker_fee for s in self._specs("spot")), _D("0.001"))
        bps = int(fee * 10_000)
        return {
            "makerCommission": bps,
            "takerCommission": bps,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": _f8(fee),
                "taker": _f8(fee),
                "buyer": _f8(_D(0)),
                "seller": _f8(_D(0)),
            },
            "canTrade": key.allows("spot_trade"),
            "canWithdraw": key.allows("withdraw"),
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.state.now_ms(),
            "accountType": "SPOT",
            "balances": [
                {"asset": coin, "free": _f8(b.free), "locked": _f8(b.locked)}
                for coin, b in self.engine.balances(key.uid).items()
                if not (omit and b.total == 0)
            ],
            "permissions": ["SPOT"],
            "uid": key.uid,
        }

    def _futures_assets(self, key: ApiKey) -> list[dict[str, Any]]:
        positions = self.engine.positions(key.uid, category="linear")
        now = self.state.now_ms()
        assets = []
        for coin, b in self.engine.balances(key.uid, wallet=USDM_WALLET).items():
            held = [
                p for p in positions if self.engine.instrument(p.symbol, "linear").settle == coin
            ]
            position_im = sum((p.position_margin for p in held), _D(0))
            upl = sum((p.unrealized_pnl for p in held), _D(0))
            assets.append(
                {
                    "asset": coin,
                    "walletBalance": _w(b.total),
                    "unrealizedProfit": _w(upl),
                    "marginBalance": _w(b.total + upl),
                    "maintMargin": "0",
                    "initialMargin": _w(b.locked),
                    "positionInitialMargin": _w(position_im),
                    "openOrderInitialMargin": _w(b.locked - position_im),
                    "crossWalletBalance": _w(b.total),
                    "crossUnPnl": _w(upl),
                    "availableBalance": _w(b.free),
                    "maxWithdrawAmount": _w(b.free),
                    "updateTime": now,
                }
            )
        return assets

    def account_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v3/account``: the engine's wallet seen as USD-M margin assets."""
        assets = self._futures_assets(key)

        def total(name: str) -> str:
            return _w(sum((_D(a[name]) for a in assets if a["asset"] == "USDT"), _D(0)))

        return {
            "totalInitialMargin": total("initialMargin"),
            "totalMaintMargin": "0",
            "totalWalletBalance": total("walletBalance"),
            "totalUnrealizedProfit": total("unrealizedProfit"),
            "totalMarginBalance": total("marginBalance"),
            "totalPositionInitialMargin": total("positionInitialMargin"),
            "totalOpenOrderInitialMargin": total("openOrderInitialMargin"),
            "totalCrossWalletBalance": total("crossWalletBalance"),
            "totalCrossUnPnl": total("crossUnPnl"),
            "availableBalance": total("availableBalance"),
            "maxWithdrawAmount": total("maxWithdrawAmount"),
            "assets": assets,
            "positions": [
                {
                    "symbol": p["symbol"],
                    "positionSide": "BOTH",
                    "positionAmt": p["positionAmt"],
                    "unrealizedProfit": p["unRealizedProfit"],
                    "isolatedMargin": "0",
                    "notional": p["notional"],
                    "isolatedWallet": "0",
                    "initialMargin": p["initialMargin"],
                    "maintMargin": "0",
                    "updateTime": p["updateTime"],
                }
                for p in self.position_risk({}, key)
            ],
        }

    def balance_usdm(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/fapi/v3/balance``."""
        return [
            {
                "accountAlias": "SgsR",
                "asset": a["asset"],
                "balance": a["walletBalance"],
                "crossWalletBalance": a["crossWalletBalance"],
                "crossUnPnl": a["crossUnPnl"],
                "availableBalance": a["availableBalance"],
                "maxWithdrawAmount": a["maxWithdrawAmount"],
                "marginAvailable": True,
                "updateTime": a["updateTime"],
            }
            for a in self._futures_assets(key)
        ]

    def commission_spot(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/api/v3/account/commission``."""
        spec = self._need_spec(params, "spot")
        zero = {"maker": _f8(_D(0)), "taker": _f8(_D(0)), "buyer": _f8(_D(0)), "seller": _f8(_D(0))}
        return {
            "symbol": spec.symbol,
            "standardCommission": {
                "maker": _f8(spec.maker_fee),
                "taker": _f8(spec.taker_fee),
                "buyer": _f8(_D(0)),
                "seller": _f8(_D(0)),
            },
            "specialCommission": dict(zero),
            "taxCommission": dict(zero),
            "discount": {
                "enabledForAccount": False,
                "enabledForSymbol": False,
                "discountAsset": "BNB",
                "discount": "0.75000000",
            },
        }

    def commission_usdm(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/fapi/v1/commissionRate``."""
        spec = self._need_spec(params, "usdm")
        return {
            "symbol": spec.symbol,
            "makerCommissionRate": _w(spec.maker_fee),
            "takerCommissionRate": _w(spec.taker_fee),
            "rpiCommissionRate": "0",
        }

    def api_restrictions(self, params: Mapping[str, str], key: ApiKey) -> dict[str, Any]:
        """``/sapi/v1/account/apiRestrictions`` of the calling key.

        Fields: https://developers.binance.com/docs/wallet/account/api-key-permission
        """
        data: dict[str, Any] = {
            "ipRestrict": bool(key.ips),
            "createTime": key.created_at,
            "enableReading": True,
            "enableWithdrawals": key.allows("withdraw"),
            "enableInternalTransfer": key.allows("transfer"),
            "enableMargin": False,
            "enableFutures": key.allows("derivatives_trade"),
            "permitsUniversalTransfer": key.allows("transfer"),
            "enableVanillaOptions": key.allows("options_trade"),
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": key.allows("spot_trade"),
            "enablePortfolioMarginTrading": False,
        }
        if key.expires_at is not None:
            data["tradingAuthorityExpirationTime"] = key.expires_at
        return data

    def position_risk(self, params: Mapping[str, str], key: ApiKey) -> list[dict[str, Any]]:
        """``/fapi/v3/positionRisk``: symbols with a position or open orders.

        Binance's "Position Information V3": trade/rest-api/Position-Information-V3 under
        https://developers.binance.com/docs/derivatives/usds-margined-futures/
        """
        spec = self._spec(params, "usdm", required=False)
        symbol = spec.symbol if spec is not None else None
        busy = {
            o.symbol for o in self.engine.open_orders(key.uid, symbol=symbol, category="linear")
        }
        items = []
        for p in self.engine.positions(key.uid, symbol=symbol, category="linear"):
            if p.size == 0 and p.symbol not in busy:
                continue
            amount = p.size if p.side != "sell" else -p.size
            notional = amount * p.mark_price
            margin = abs(notional) / p.leverage if p.leverage else _D(0)
            items.append(
                {
                    "symbol": p.symbol,
                    "positionSide": "BOTH",
                    "positionAmt": _w(amount),
                    "entryPrice": _w(p.entry_price or _D(0)),
                    "breakEvenPrice": _w(p.entry_price or _D(0)),
                    "markPrice": _w(p.mark_price),
                    "unRealizedProfit": _w(p.unrealized_pnl),
                    "liquidationPrice": _w(p.liquidation_price or _D(0)),
                    "isolatedMargin": "0",
                    "notional": _w(notional),
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": _w(margin),
                    "maintMargin": "0",
                    "positionInitialMargin": _w(margin),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": p.updated_ms,
                }
            )
        return items
