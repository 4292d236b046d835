"""Key audit: what an API key's permissions, whitelist and expiry mean for a trading bot."""

from __future__ import annotations

from datetime import UTC, datetime

from exchanges.models import Finding, KeyAudit, KeyInfo

__all__ = ["TRADING_SCOPES", "audit_key_info"]

#: The scopes a trading bot needs; anything else widens what a leaked key can do.
TRADING_SCOPES = frozenset({"read", "spot_trade", "derivatives_trade", "options_trade"})

_DAY_MS = 86_400_000
_ORDER = {"critical": 0, "warning": 1, "info": 2}


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def audit_key_info(exchange: str, masked_key: str, info: KeyInfo, now_ms: int) -> KeyAudit:
    """Judge a key: withdrawal is critical, no IP whitelist and near expiry are warnings."""
    findings: list[Finding] = []
    if info.can_withdraw:
        findings.append(
            Finding(
                "critical",
                "withdraw_enabled",
                "The key can withdraw funds: whoever obtains it can empty the account.",
                "Create a key without withdrawal permission for trading; keep withdrawals manual.",
            )
        )
    if info.expires_at is not None and info.expires_at <= now_ms:
        findings.append(
            Finding(
                "critical",
                "expired",
                f"The key expired on {_date(info.expires_at)}.",
                "Create a new key (binding an IP whitelist usually removes the expiry).",
            )
        )
    elif info.expires_at is not None and info.expires_at - now_ms <= 7 * _DAY_MS:
        days = (info.expires_at - now_ms) / _DAY_MS
        findings.append(
            Finding(
                "warning",
                "expires_soon",
                f"The key expires on {_date(info.expires_at)} (in {days:.1f} days).",
                "Renew it, or bind an IP whitelist so it does not expire.",
            )
        )
    if not info.bound_to_ips:
        findings.append(
            Finding(
                "warning",
                "no_ip_whitelist",
                "The key works from any IP address.",
                "Bind the key to your servers' IP addresses.",
            )
        )
    extra = sorted(info.permissions - TRADING_SCOPES - {"withdraw"})
    if extra:
        findings.append(
            Finding(
                "info",
                "extra_scopes",
                f"The key has scopes a trading bot does not need: {', '.join(extra)}.",
                "Remove scopes the bot does not use.",
            )
        )
    if info.read_only:
        findings.append(
            Finding(
                "info",
                "read_only",
                "The key is read-only: it can fetch data but not trade.",
                "Use it for reads (credentials=) and a separate key for trading "
                "(trade_credentials=).",
            )
        )
    findings.sort(key=lambda f: _ORDER[f.severity])
    return KeyAudit(exchange=exchange, key=masked_key, info=info, findings=tuple(findings))
