"""Bybit v5 parsers of the account: the wallet balance, trading fees, the key's scopes and
positions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchanges import parsing
from exchanges.decimals import ZERO, dec, exact
from exchanges.errors import BadResponse
from exchanges.models import Balance, Balances, KeyInfo, Position, TradingFee

__all__ = ["parse_balances", "parse_key_info", "parse_position", "parse_trading_fee"]

_EX = "bybit"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_str = parsing.need_str
_decimal = parsing.need_decimal
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms
_iso_ms = parsing.iso_ms


# -- account ------------------------------------------------------------------------------


_USED = ("locked", "totalOrderIM", "totalPositionIM")


def parse_balances(response_list: list[Any], ts: int | None) -> Balances:
    """The UNIFIED wallet: total is walletBalance; used is locked plus order and position margin."""
    items: dict[str, Balance] = {}
    account: Any = response_list[0] if response_list else {}
    try:
        for coin in account.get("coin") or []:
            # Inline conversions: this runs per coin on every balance call. A balance may be
            # negative (a unified account borrows); the parts in use never are.
            get = coin.get
            wallet = get("walletBalance")
            if wallet.__class__ is str and wallet:
                # dec() inline; dec() itself raises, with its message, for what is refused.
                try:
                    total = exact(wallet)
                except ArithmeticError:
                    total = dec(wallet)
                if not total.is_finite():
                    total = dec(wallet)
            else:
                total = ZERO if wallet is None or wallet == "" else dec(wallet)
            used = ZERO
            for name in _USED:
                text = get(name)
                if text and text != "0":
                    part = dec(text)
                    if part < 0:
                        raise ValueError(f"{name} is negative: {part}")
                    used += part
            currency = _str(coin, "coin", _EX)
            items[currency] = Balance(currency, total - used, used, total, raw=coin)
    except (ArithmeticError, TypeError, ValueError, KeyError, AttributeError) as err:
        raise BadResponse(
            f"the wallet balance has malformed coin entries ({err})",
            exchange=_EX,
            hint=parsing.NUMBER_HINT,
        ) from None
    return Balances(items, timestamp=ts, raw=account)


def parse_trading_fee(symbol: str, item: Mapping[str, Any]) -> TradingFee:
    """One fee-rate item."""
    # Either rate may be negative: a maker rebate.
    return TradingFee(
        symbol,
        _decimal(item, "makerFeeRate", _EX),
        _decimal(item, "takerFeeRate", _EX),
        raw=item,
    )


def _scopes(permissions: Mapping[str, Any], read_only: bool) -> frozenset[str]:
    scopes = {"read"}
    for group, values in permissions.items():
        if not isinstance(values, list):
            continue
        for value in values:
            text = str(value)
            if "withdraw" in text.lower():
                # Bybit documents no field for it; the audit says the check is by name.
                scopes.add("withdraw")
            elif group == "Spot" and text == "SpotTrade":
                scopes.add("spot_trade")
            elif group in ("ContractTrade", "Derivatives"):
                scopes.add("derivatives_trade")
            elif group == "Options":
                scopes.add("options_trade")
            elif group == "Wallet":
                scopes.add("transfer")
            else:
                scopes.add(f"bybit:{group}")
    if read_only:
        scopes -= {"spot_trade", "derivatives_trade", "options_trade"}
    return frozenset(scopes)


def parse_key_info(res: Mapping[str, Any]) -> KeyInfo:
    """``result`` of /v5/user/query-api as normalised scopes (readOnly 1 means read-only)."""
    read_only = str(res.get("readOnly", "0")) == "1"
    permissions = res.get("permissions") or {}
    ips = tuple(str(ip) for ip in res.get("ips") or [] if ip and ip != "*")
    return KeyInfo(
        read_only=read_only,
        permissions=_scopes(permissions if isinstance(permissions, dict) else {}, read_only),
        ip_whitelist=ips,
        # The docs' example gives 1970-01-01 for keys that never expire.
        expires_at=_iso_ms(res.get("expiredAt")),
        created_at=_iso_ms(res.get("createdAt")),
        label=res.get("note") or None,
        raw=res,
    )


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One position-list item; an empty position (size 0) is None."""
    size = _opt_amount(item, "size", _EX) or ZERO
    side = item.get("side")
    if size == 0 or side not in ("Buy", "Sell"):
        return None
    return Position(
        symbol=symbol,
        side="long" if side == "Buy" else "short",
        size=size,
        entry_price=_opt_amount(item, "avgPrice", _EX) or None,
        mark_price=_opt_amount(item, "markPrice", _EX),
        liquidation_price=_opt_amount(item, "liqPrice", _EX) or None,
        unrealized_pnl=_opt(item, "unrealisedPnl", _EX),
        leverage=_opt_amount(item, "leverage", _EX),
        timestamp=_ms(item.get("updatedTime")),
        # positionIdx 1 and 2 are the Buy and Sell sides of hedge mode, 0 is one-way.
        hedged=str(item.get("positionIdx", 0)) in ("1", "2"),
        raw=item,
    )
