"""Bybit v5 hosts per environment and region, and what the demo environment lacks.

Sources: Bybit v5 docs, https://bybit-exchange.github.io/docs/v5/guide "Integration Guidance"
(REST base endpoints) and https://bybit-exchange.github.io/docs/v5/demo "Demo Trading Service".
"""

from __future__ import annotations

from types import MappingProxyType

from exchanges.errors import NotSupported

__all__ = [
    "DEMO_UNSUPPORTED",
    "ENVIRONMENTS",
    "REGIONS",
    "WS_REGIONS",
    "rest_host",
    "rest_origin",
    "stream_base",
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

#: Mainnet stream hosts per region. Türkiye, Indonesia, Kazakhstan, Georgia and Japan have their
#: own (docs v5/ws/connect: "if your account is registered from ... please use stream...";
#: Türkiye moved from bybit-tr.com to bybit.tr with its REST host). The NL and UAE sites and
#: the bytick alternative use the global stream (sieblyio/bybit-api v4.7.6 release notes).
#: The EU site documents no stream host, so none is guessed for it.
WS_REGIONS = MappingProxyType(
    {
        "global": "wss://stream.bybit.com",
        "bytick": "wss://stream.bybit.com",
        "nl": "wss://stream.bybit.com",
        "ae": "wss://stream.bybit.com",
        "tr": "wss://stream.bybit.tr",
        "id": "wss://stream.bybit.id",
        "kz": "wss://stream.bybit.kz",
        "ge": "wss://stream.bybitgeorgia.ge",
        "jp": "wss://stream.manepa.jp",
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


def stream_base(env: str, region: str | None, private: bool) -> str:
    """The ``wss://host`` serving an environment's (and region's) public or private streams."""
    if env == "demo":
        # Demo has private streams only; its public data is mainnet's (demo.mdx).
        return "wss://stream-demo.bybit.com" if private else WS_REGIONS["global"]
    if region is None or region == "global":
        return "wss://stream-testnet.bybit.com" if env == "testnet" else WS_REGIONS["global"]
    if env == "mainnet" and region in WS_REGIONS:
        return WS_REGIONS[region]
    raise NotSupported(
        f"Bybit documents no {env} WebSocket host for region {region!r}",
        exchange="bybit",
        hint="Pass ws_url='wss://...' to connect_async with the stream host your Bybit site "
        "gives (paths /v5/public/<category> and /v5/private are appended).",
    )


def rest_origin(base_url: str) -> tuple[str, str | None] | None:
    """``(env, region)`` when ``base_url`` is one of Bybit's own REST hosts, else None."""
    origin = base_url.rstrip("/")
    for env, host in _REST.items():
        if origin == host:
            return env, None
    for region, host in REGIONS.items():
        if origin == host:
            return "mainnet", region
    for region, host in _REGION_TESTNET.items():
        if origin == host:
            return "testnet", region
    return None
