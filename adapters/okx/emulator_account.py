"""OKX v5 account endpoints of the emulator front-end (balance, positions, config, fees)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from adapters.okx.emulator_common import (
    OkxCore,
    OkxError,
    _text,
    _w,
)
from exchanges.emulator.keys import TRADE_SCOPES, ApiKey

__all__ = ["OkxAccount"]


class OkxAccount(OkxCore):
    """OKX v5 account endpoints of the emulator front-end (balance, positions, config, fees)."""

    # -- account --------------------------------------------------------------------------

    def account_balance(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/balance``: cash, frozen and available per currency."""
        wanted = set(_text(params.get("ccy")).split(",")) - {""}
        positions = self.engine.positions(key.uid)
        now = str(self.state.now_ms())
        details = []
        for coin, bal in self.engine.balances(key.uid).items():
            if (wanted and coin not in wanted) or (not wanted and bal.total == 0):
                continue
            upl = sum(
                (p.unrealized_pnl for p in positions if self._of(p).spec.settle == coin),
                Decimal(0),
            )
            details.append(
                {
                    "ccy": coin,
                    "eq": _w(bal.total + upl),
                    "cashBal": _w(bal.total),
                    "availBal": _w(bal.free),
                    "availEq": _w(bal.free),
                    "frozenBal": _w(bal.locked),
                    "ordFrozen": "0",
                    "upl": _w(upl),
                    "disEq": "",
                    "eqUsd": "",
                    "uTime": now,
                }
            )
        return [
            {"adjEq": "", "imr": "", "mmr": "", "totalEq": "", "uTime": now, "details": details}
        ]

    def account_positions(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/positions``: open positions, net mode (``pos`` signed contracts)."""
        chosen = {i.inst_id for i in self._selected(params, type_required=False)}
        items = []
        for p in self.engine.positions(key.uid):
            inst = self._of(p)
            if inst.inst_id not in chosen or p.size == 0:
                continue
            contracts = inst.from_engine(p.size)
            digest = hashlib.sha256(f"{key.uid}:{inst.inst_id}".encode()).digest()
            items.append(
                {
                    "adl": "1",
                    "availPos": "",
                    "avgPx": _w(p.entry_price),
                    "cTime": str(p.created_ms),
                    "ccy": inst.spec.settle,
                    "imr": "",
                    "instId": inst.inst_id,
                    "instType": inst.inst_type,
                    "last": _w(p.mark_price),
                    "lever": _w(p.leverage),
                    "liqPx": _w(p.liquidation_price),
                    "margin": _w(p.position_margin),
                    "markPx": _w(p.mark_price),
                    "mgnMode": "cross",
                    "notionalUsd": "",
                    "pos": _w(contracts if p.side == "buy" else -contracts),
                    "posCcy": "",
                    "posId": str(int.from_bytes(digest[:6], "big")),
                    "posSide": "net",
                    "realizedPnl": _w(p.realized_pnl),
                    "upl": _w(p.unrealized_pnl),
                    "uTime": str(p.updated_ms),
                }
            )
        return items

    def account_config(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/config``: the calling key's ``perm``, ``ip`` and ``label``.

        https://www.okx.com/docs-v5/en/#trading-account-rest-api-get-account-configuration
        """
        perm = ["read_only"]
        if key.allows("withdraw"):
            perm.append("withdraw")
        if key.permissions & TRADE_SCOPES:
            perm.append("trade")
        uid = str(key.uid)
        return [
            {
                "acctLv": "2",
                "acctStpMode": "cancel_maker",
                "autoLoan": False,
                "ctIsoMode": "automatic",
                "enableSpotBorrow": False,
                "greeksType": "PA",
                "feeType": "0",
                "ip": ",".join(key.ips),
                "type": "0",
                "kycLv": "2",
                "label": key.label,
                "level": "Lv1",
                "levelTmp": "",
                "liquidationGear": "-1",
                "mainUid": uid,
                "mgnIsoMode": "automatic",
                "opAuth": "0",
                "perm": ",".join(perm),
                "posMode": "net_mode",
                "roleType": "0",
                "spotBorrowAutoRepay": False,
                "spotOffsetType": "",
                "spotRoleType": "0",
                "spotTraderInsts": [],
                "stgyType": "0",
                "traderInsts": [],
                "uid": uid,
                "settleCcy": "USDT",
                "settleCcyList": ["USD", "USDC", "USDG"],
            }
        ]

    def account_trade_fee(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, Any]]:
        """``/api/v5/account/trade-fee``: charged fees as negative rates (``instId`` for spot)."""
        inst_type = self._types(params, required=True)[0]
        chosen = self._selected(params, type_required=True)
        if not chosen:
            if inst_type in ("FUTURES", "OPTION"):
                return []
            raise OkxError("51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist.")
        spec = chosen[0].spec
        maker, taker = _w(-spec.maker_fee), _w(-spec.taker_fee)
        usdt = spec.settle == "USDT" and spec.category == "linear"
        return [
            {
                "category": "1",
                "delivery": "",
                "exercise": "",
                "instType": inst_type,
                "level": "Lv1",
                "maker": maker,
                "makerU": maker if usdt else "",
                "makerUSDC": "",
                "taker": taker,
                "takerU": taker if usdt else "",
                "takerUSDC": "",
                "ruleType": "normal",
                "ts": str(self.state.now_ms()),
                "fiat": [],
            }
        ]
