"""Bybit v5 hosts per environment and region, and what the demo environment lacks.

Source: Bybit v5 docs, guide "Integration Guidance" and demo.mdx
(../shared/reference/bybit-v5.md §b).
"""

from __future__ import annotations

from types import MappingProxyType

from exchanges.errors import NotSupported

__all__ = [
    "DEMO_UNSUPPORTED",
    "ENVIRONMENTS",
    "REGIONS",
    "WS_PRIVATE",
    "WS_PUBLIC",
    "rest_host",
]

ENVIRONMENTS = ("mainnet", "testnet", "demo")

_REST = MappingProxyType(
    {
        "mainnet": "https://api.bybit.com",
        "testnet": "https://api-testnet.bybit.com",
        "demo": "https://api-demo.bybit.com",
    }
)

#: Mainnet hosts by region name; "bytick" is the alternative global mainnet host.
REGIONS = MappingProxyType(
    {
        "global": "https://api.bybit.com",
        "bytick": "https://api.bytick.com",
        "nl": "https://api.bybit.nl",
        "tr": "https://api.bybit.tr",  # changed from api.bybit-tr.com in the docs on 2026-03-31
        "kz": "https://api.bybit.kz",
        "ge": "https://api.bybitgeorgia.ge",
        "ae": "https://api.bybit.ae",
        "eu": "https://api.bybit.eu",
        "id": "https://api.bybit.id",
        "jp": "https://api.manepa.jp",
    }
)

_REGION_TESTNET = MappingProxyType({"jp": "https://api-testnet.manepa.jp"})

#: Public WebSocket base per environment; demo has no public streams (mainnet's are used).
WS_PUBLIC = MappingProxyType(
    {
        "mainnet": "wss://stream.bybit.com/v5/public",
        "testnet": "wss://stream-testnet.bybit.com/v5/public",
        "demo": "wss://stream.bybit.com/v5/public",
    }
)

#: Private WebSocket URL per environment.
WS_PRIVATE = MappingProxyType(
    {
        "mainnet": "wss://stream.bybit.com/v5/private",
        "testnet": "wss://stream-testnet.bybit.com/v5/private",
        "demo": "wss://stream-demo.bybit.com/v5/private",
    }
)

#: Endpoints the demo environment does not offer, with the reason given to users.
DEMO_UNSUPPORTED = MappingProxyType(
    {
        "/v5/account/fee-rate": "Bybit's demo trading does not list /v5/account/fee-rate "
        "(demo.mdx 'Available API List')",
        "/v5/order/pre-check": "Bybit's demo trading does not list /v5/order/pre-check",
    }
)


def rest_host(env: str, region: str | None = None) -> str:
    """The REST base URL of an environment, optionally of a regional mainnet host."""
    if region is None or region == "global":
        return _REST[env]
    if env == "mainnet" and region in REGIONS:
        return REGIONS[region]
    if env == "testnet" and region in _REGION_TESTNET:
        return _REGION_TESTNET[region]
    raise NotSupported(
        f"Bybit has no {env} host for region {region!r}",
        exchange="bybit",
        hint=f"Regions: {', '.join(REGIONS)} (mainnet); jp also has a testnet. "
        "Demo trading only exists on the global host.",
    )
