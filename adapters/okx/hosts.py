"""OKX hosts, regions and environments (../shared/reference/binance-okx.md §2.2).

OKX has two environments: live trading ("mainnet" here) and demo trading ("demo"). Demo trading
uses the same REST host as live trading plus the header ``x-simulated-trading: 1``, with keys
created separately under Demo Trading; a key of the other environment is refused with 50101.
OKX has no testnet.
"""

from __future__ import annotations

from types import MappingProxyType

from exchanges.errors import NotSupported

__all__ = [
    "DEMO_HEADER",
    "ENVIRONMENTS",
    "REGIONS",
    "UNVERIFIED_REGIONS",
    "WS_DEMO",
    "WS_LIVE",
    "check_environment",
    "rest_host",
]

ENVIRONMENTS = ("mainnet", "demo")

#: Live REST hosts by region name (§2.2 table).
REGIONS = MappingProxyType(
    {
        "global": "https://www.okx.com",
        "eea": "https://eea.okx.com",
        # From ccxt's okxus, not found in the OKX doc copies read (UNVERIFIED, §2.2 and §4.7).
        "us": "https://us.okx.com",
        # From a ccxt comment and community use, not in the OKX doc copies (UNVERIFIED, §2.2).
        "aws": "https://aws.okx.com",
    }
)

#: Regions whose host OKX's own documentation does not list (§2.2, §4 item 7).
UNVERIFIED_REGIONS = frozenset({"us", "aws"})

#: Added to every request in demo trading, public ones included (§2.2).
DEMO_HEADER = MappingProxyType({"x-simulated-trading": "1"})

#: WebSocket bases (public/private/business are paths below them), live and demo (§2.2).
WS_LIVE = MappingProxyType(
    {
        "global": "wss://ws.okx.com:8443/ws/v5",
        "eea": "wss://wseea.okx.com:8443/ws/v5",
        "aws": "wss://wsaws.okx.com:8443/ws/v5",
    }
)
WS_DEMO = MappingProxyType(
    {
        "global": "wss://wspap.okx.com:8443/ws/v5",
        "eea": "wss://wseeapap.okx.com:8443/ws/v5",
    }
)


def check_environment(env: str) -> None:
    """Refuse environments OKX does not have, saying what to use instead."""
    if env == "testnet":
        raise ValueError(
            "okx has no testnet: use env='demo' (OKX demo trading: the live host with the "
            "x-simulated-trading header, and demo keys from OKX_DEMO_API_KEY / _API_SECRET / "
            "_API_PASSPHRASE)"
        )
    if env not in ENVIRONMENTS:
        raise ValueError(f"okx has no environment {env!r}; choose one of {', '.join(ENVIRONMENTS)}")


def rest_host(region: str | None = None) -> str:
    """The REST base URL of a region (the same for live and demo trading)."""
    if region is None:
        return REGIONS["global"]
    host = REGIONS.get(region)
    if host is None:
        raise NotSupported(
            f"OKX has no region {region!r}",
            exchange="okx",
            hint=f"Regions: {', '.join(REGIONS)} (us and aws are not in OKX's own docs).",
        )
    return host
