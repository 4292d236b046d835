"""OKX v5 parsers of the account: balances, trading fees, the key's configuration and
positions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from adapters.okx.parse_common import text
from exchanges import parsing
from exchanges.decimals import ZERO
from exchanges.models import Balance, Balances, KeyInfo, MarginMode, Market, Position, TradingFee

__all__ = ["parse_balances", "parse_key_info", "parse_position", "parse_trading_fee"]

_EX = "okx"
# Direct calls with the exchange name: cheaper than partials on the per-item paths.
_decimal = parsing.need_decimal
_opt = parsing.opt_decimal
_opt_amount = parsing.opt_amount
_ms = parsing.ms


# -- account --------------------------------------------------------------------------------


def parse_balances(item: Mapping[str, Any]) -> Balances:
    """``data[0]`` of /api/v5/account/balance.

    ``total`` is the cash balance (``cashBal``, without unrealised PnL), ``used`` the frozen
    part (``frozenBal``), ``free`` the rest, so that ``free + used == total``.
    """
    balances: dict[str, Balance] = {}
    for detail in item.get("details") or []:
        currency = text(detail.get("ccy"))
        if not currency:
            continue
        # A cash balance may be negative (borrowed); the frozen part never is.
        total = _opt(detail, "cashBal", _EX)
        if total is None:
            total = _opt(detail, "eq", _EX) or ZERO
        used = _opt_amount(detail, "frozenBal", _EX)
        if used is None:
            available = _opt(detail, "availBal", _EX)
            used = total - available if available is not None else ZERO
        balances[currency] = Balance(currency, total - used, used, total, raw=detail)
    return Balances(balances, timestamp=_ms(item.get("uTime")), raw=item)


def parse_trading_fee(market: Market, item: Mapping[str, Any]) -> TradingFee:
    """One /api/v5/account/trade-fee item; OKX gives charged fees as negative rates.

    USDT-margined contracts read ``makerU``/``takerU``, USDC-margined ``makerUSDC``/
    ``takerUSDC``, everything else ``maker``/``taker``.
    """
    suffix = ""
    if market.contract and market.linear:
        suffix = {"USDT": "U", "USDC": "USDC"}.get(market.settle or "", "")
    maker = _opt(item, f"maker{suffix}", _EX)
    taker = _opt(item, f"taker{suffix}", _EX)
    if maker is None or taker is None:
        maker, taker = _decimal(item, "maker", _EX), _decimal(item, "taker", _EX)
    return TradingFee(market.symbol, -maker, -taker, raw=item)


_PERMS = {
    # "perm" values of "Get account configuration" -> normalised scopes (trade covers every
    # product).
    "read_only": ("read",),
    "trade": ("spot_trade", "derivatives_trade", "options_trade"),
    "withdraw": ("withdraw",),
}


def parse_key_info(item: Mapping[str, Any]) -> KeyInfo:
    """``data[0]`` of /api/v5/account/config: ``perm`` is a comma set in any order."""
    perms = {p.strip() for p in (text(item.get("perm")) or "").split(",") if p.strip()}
    scopes = {"read"}
    for perm in perms:
        scopes.update(_PERMS.get(perm, (f"okx:{perm}",)))
    ips = tuple(ip.strip() for ip in (text(item.get("ip")) or "").split(",") if ip.strip())
    return KeyInfo(
        read_only=not (perms & {"trade", "withdraw"}),
        permissions=frozenset(scopes),
        ip_whitelist=ips,
        # OKX reports no expiry: live keys holding trade/withdraw without an IP binding expire
        # after 14 days of inactivity, which is not a date; demo keys never expire.
        expires_at=None,
        created_at=None,
        label=text(item.get("label")) or None,
        # OKX lists the bound IPs ("" when none), so the list says it all.
        ip_restricted=bool(ips),
        raw=item,
    )


_MARGIN_MODES: dict[str, MarginMode] = {"cross": "cross", "isolated": "isolated"}


def parse_position(symbol: str, item: Mapping[str, Any]) -> Position | None:
    """One /api/v5/account/positions item; an empty position (pos 0) is None.

    In net mode ``pos`` is signed (negative is short); in long/short mode ``posSide`` says it.
    """
    pos = _opt(item, "pos", _EX) or ZERO
    if pos == 0:
        return None
    pos_side = item.get("posSide")
    side: Literal["long", "short"] = "long" if pos > 0 else "short"
    if pos_side in ("long", "short"):
        side = "long" if pos_side == "long" else "short"
    return Position(
        symbol=symbol,
        side=side,
        size=abs(pos),
        entry_price=_opt_amount(item, "avgPx", _EX) or None,
        mark_price=_opt_amount(item, "markPx", _EX),
        liquidation_price=_opt_amount(item, "liqPx", _EX) or None,
        unrealized_pnl=_opt(item, "upl", _EX),
        leverage=_opt_amount(item, "lever", _EX),
        timestamp=_ms(item.get("uTime")),
        margin_mode=_MARGIN_MODES.get(str(item.get("mgnMode"))),
        hedged=pos_side in ("long", "short"),
        raw=item,
    )
