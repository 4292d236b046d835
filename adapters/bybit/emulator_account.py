"""Bybit v5 emulator: account routes (wallet, fee rate, account info, API key, positions)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.bybit.emulator_base import (
    BybitBase,
    BybitError,
    _iso,
    _w,
)
from exchanges.emulator.keys import ApiKey

__all__ = ["BybitAccount"]


class BybitAccount(BybitBase):
    """Bybit v5 emulator: account routes (wallet, fee rate, account info, API key, positions)."""

    def wallet_balance(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/wallet-balance`` (UNIFIED only)."""
        if params.get("accountType") != "UNIFIED":
            raise BybitError(10001, "accountType only support UNIFIED.")
        balances = self.engine.balances(key.uid)
        positions = self.engine.positions(key.uid)
        coins = []
        total_usd = Decimal(0)
        wanted = set(str(params["coin"]).split(",")) if params.get("coin") else None
        for coin, bal in sorted(balances.items()):
            if wanted is not None and coin not in wanted:
                continue
            position_im = sum(
                (
                    p.position_margin
                    for p in positions
                    if self._settle(p.symbol, p.category) == coin
                ),
                Decimal(0),
            )
            upl = sum(
                (p.unrealized_pnl for p in positions if self._settle(p.symbol, p.category) == coin),
                Decimal(0),
            )
            if bal.total == 0 and wanted is None:
                continue
            usd = bal.total * self._usd_price(coin)
            total_usd += usd
            coins.append(
                {
                    "coin": coin,
                    "equity": _w(bal.total + upl),
                    "usdValue": _w(usd.quantize(Decimal("0.0001"))),
                    "walletBalance": _w(bal.total),
                    "free": "",
                    "locked": _w(bal.locked - position_im),
                    "spotHedgingQty": "0",
                    "borrowAmount": "0",
                    "availableToWithdraw": _w(bal.free),
                    "availableToBorrow": "",
                    "accruedInterest": "0",
                    "totalOrderIM": "0",
                    "totalPositionIM": _w(position_im),
                    "totalPositionMM": "0",
                    "unrealisedPnl": _w(upl),
                    "cumRealisedPnl": "0",
                    "bonus": "0",
                    "marginCollateral": True,
                    "collateralSwitch": True,
                }
            )
        usd_text = _w(total_usd.quantize(Decimal("0.0001")))
        account = {
            "accountType": "UNIFIED",
            "accountIMRate": "0",
            "accountMMRate": "0",
            "totalEquity": usd_text,
            "totalWalletBalance": usd_text,
            "totalMarginBalance": usd_text,
            "totalAvailableBalance": usd_text,
            "totalPerpUPL": "0",
            "totalInitialMargin": "0",
            "totalMaintenanceMargin": "0",
            "accountLTV": "0",
            "coin": coins,
        }
        return {"list": [account]}

    def fee_rate(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/fee-rate``."""
        category = self._category(params)
        specs = [self._spec(params, category)] if params.get("symbol") else self._specs(category)
        items = [
            {"symbol": s.symbol, "takerFeeRate": _w(s.taker_fee), "makerFeeRate": _w(s.maker_fee)}
            for s in specs
        ]
        result: dict[str, Any] = {"list": items}
        if category == "spot":
            result["category"] = "spot"
        return result

    def account_info(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/account/info`` (docs v5/account/account-info): a UTA 2.0 account, cross margin."""
        return {
            "unifiedMarginStatus": 5,  # docs v5/acct-mode: 5 = UTA 2.0 (query-api says uta=1)
            "marginMode": "REGULAR_MARGIN",
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(key.created_at),
            "dcpStatus": "OFF",  # deprecated, always OFF
            "timeWindow": 0,  # deprecated, always 0
            "smpGroup": 0,  # deprecated, always 0
        }

    def query_api(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/user/query-api``: the calling key's permissions, IPs and expiry."""
        perms: dict[str, list[str]] = {
            "ContractTrade": [],
            "Spot": [],
            "Wallet": [],
            "Options": [],
            "Derivatives": [],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        }
        if key.allows("spot_trade"):
            perms["Spot"] = ["SpotTrade"]
        if key.allows("derivatives_trade"):
            perms["ContractTrade"] = ["Order", "Position"]
            perms["Derivatives"] = ["DerivativesTrade"]
        if key.allows("options_trade"):
            perms["Options"] = ["OptionsTrade"]
        if key.allows("transfer"):
            perms["Wallet"] += ["AccountTransfer", "SubMemberTransfer"]
        if key.allows("withdraw"):
            # Bybit documents no field for withdrawal; the emulator names it "Withdraw".
            perms["Wallet"].append("Withdraw")
        now = self.state.now_ms()
        deadline = -2 if key.expires_at is None else max((key.expires_at - now) // 86_400_000, 0)
        return {
            # A stable id: hash() is salted per process, which would make recordings differ.
            "id": str(zlib.crc32(key.api_key.encode()) % 10_000_000),
            "note": key.label or "emulator key",
            "apiKey": key.api_key,
            "readOnly": 1 if key.read_only else 0,
            "secret": "",
            "permissions": perms,
            "ips": list(key.ips) or ["*"],
            "type": 1,
            "deadlineDay": deadline,
            "expiredAt": _iso(key.expires_at),
            "createdAt": _iso(key.created_at),
            "unified": 0,
            "uta": 1,
            "userID": key.uid,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": key.public_key or "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }

    def position_list(self, params: Mapping[str, Any], key: ApiKey) -> dict[str, Any]:
        """``/v5/position/list`` (no spot)."""
        category = self._category(params)
        if category == "spot":
            raise BybitError(10001, "params error: category spot is not supported")
        symbol = params.get("symbol") or None
        if symbol is not None:
            self._spec(params, category)
        elif category == "linear" and not (params.get("settleCoin") or params.get("baseCoin")):
            raise BybitError(10001, "params error: symbol or settleCoin is required")
        positions = self.engine.positions(key.uid, symbol=symbol, category=category)
        settle = params.get("settleCoin")
        items = []
        for p in positions:
            if settle and self._settle(p.symbol, p.category) != settle:
                continue
            if symbol is None and p.size == 0:
                continue
            value = (p.entry_price or Decimal(0)) * p.size
            items.append(
                {
                    "positionIdx": 0,
                    "riskId": 1,
                    "riskLimitValue": "2000000",
                    "symbol": p.symbol,
                    "side": {"buy": "Buy", "sell": "Sell"}.get(p.side, ""),
                    "size": _w(p.size),
                    "avgPrice": _w(p.entry_price) if p.entry_price is not None else "0",
                    "positionValue": _w(value),
                    "tradeMode": 0,
                    "autoAddMargin": 0,
                    "positionStatus": "Normal",
                    "leverage": _w(p.leverage),
                    "markPrice": _w(p.mark_price),
                    "liqPrice": _w(p.liquidation_price) if p.liquidation_price else "",
                    "bustPrice": "",
                    "positionIM": _w(p.position_margin),
                    "positionMM": "0",
                    "positionBalance": _w(p.position_margin),
                    "takeProfit": "0",
                    "stopLoss": "0",
                    "trailingStop": "0",
                    "sessionAvgPrice": "",
                    "unrealisedPnl": _w(p.unrealized_pnl),
                    "curRealisedPnl": _w(p.realized_pnl),
                    "cumRealisedPnl": _w(p.realized_pnl),
                    "adlRankIndicator": 0,
                    "createdTime": str(p.created_ms),
                    "updatedTime": str(p.updated_ms),
                    "seq": 0,
                    "isReduceOnly": False,
                    "mmrSysUpdatedTime": "",
                    "leverageSysUpdatedTime": "",
                }
            )
        page, cursor = self._page(items, params, 20, 200)
        return {"category": category, "list": page, "nextPageCursor": cursor}
