"""OKX hosts, regions and environments.

Sources: https://www.okx.com/docs-v5/en/#overview-production-trading-services and
https://www.okx.com/docs-v5/en/#overview-demo-trading-services (the EEA edition of the same page,
https://my.okx.com/docs-v5/en/#overview-production-trading-services, names ``eea.okx.com``).

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

#: Live REST hosts by region name.
REGIONS = MappingProxyType(
    {
        "global": "https://www.okx.com",
        "eea": "https://eea.okx.com",
        # From ccxt's okxus (https://github.com/ccxt/ccxt, python/ccxt/okxus.py); OKX's docs
        # do not list it.
        "us": "https://us.okx.com",
        # From a comment in ccxt's okx.py and community use; OKX's docs do not list it.
        "aws": "https://aws.okx.com",
    }
)

#: Regions whose host OKX's own documentation does not list.
UNVERIFIED_REGIONS = frozenset({"us", "aws"})

#: Added to every request in demo trading, public ones included ("Demo Trading Services").
DEMO_HEADER = MappingProxyType({"x-simulated-trading": "1"})

#: WebSocket bases (public/private/business are paths below them), live and demo. OKX's docs
#: print port 8443; OKX announced that 8443 stops taking connections (reported from
#: 2026-10-31, not confirmed from OKX's own text), and 443 serves the same endpoints, so 443
#: it is. The ``us`` hosts come from ccxt's okxus (OKX's docs do not list them).
WS_LIVE = MappingProxyType(
    {
        "global": "wss://ws.okx.com:443/ws/v5",
        "eea": "wss://wseea.okx.com:443/ws/v5",
        "us": "wss://wsus.okx.com:443/ws/v5",
        "aws": "wss://wsaws.okx.com:443/ws/v5",
    }
)
WS_DEMO = MappingProxyType(
    {
        "global": "wss://wspap.okx.com:443/ws/v5",
        "eea": "wss://wseeapap.okx.com:443/ws/v5",
        "us": "wss://wsuspap.okx.com:443/ws/v5",
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
