"""Binance REST hosts per environment and market, and what each environment lacks.

Sources: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information
(spot), https://developers.binance.com/docs/binance-spot-api-docs/demo-mode (spot Demo Mode, and
its comparison with the spot testnet) and
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info (USD-M).

Spot and USD-M futures live on different hosts (``api.binance.com`` and ``fapi.binance.com``); a
``base_url`` override (the emulator, a proxy) replaces both, since the emulator serves ``/api``,
``/sapi`` and ``/fapi`` on one host.
"""

from __future__ import annotations

from types import MappingProxyType

from exchanges.errors import NotSupported

__all__ = [
    "ENVIRONMENTS",
    "SPOT_HOSTS",
    "Hosts",
    "hosts_for",
    "sapi_unsupported_reason",
]

ENVIRONMENTS = ("mainnet", "testnet", "demo")

#: Spot mainnet hosts by name: "api1"-"api4" "should give better performance but have less
#: stability" ("General API Information").
SPOT_HOSTS = MappingProxyType(
    {
        "api": "https://api.binance.com",
        "api-gcp": "https://api-gcp.binance.com",
        "api1": "https://api1.binance.com",
        "api2": "https://api2.binance.com",
        "api3": "https://api3.binance.com",
        "api4": "https://api4.binance.com",
    }
)

_SPOT_TESTNET_HOSTS = MappingProxyType(
    {"api": "https://testnet.binance.vision", "api1": "https://api1.testnet.binance.vision"}
)

_SPOT = MappingProxyType(
    {
        "mainnet": "https://api.binance.com",
        "testnet": "https://testnet.binance.vision",
        "demo": "https://demo-api.binance.com",
    }
)

# Binance's futures docs now name demo-fapi.binance.com the futures "testnet", ccxt refuses
# the old testnet.binancefuture.com for private calls, and Demo Mode's futures host is the same
# demo-fapi; so testnet and demo share one futures sandbox (and one set of sandbox keys).
_USDM = MappingProxyType(
    {
        "mainnet": "https://fapi.binance.com",
        "testnet": "https://demo-fapi.binance.com",
        "demo": "https://demo-fapi.binance.com",
    }
)


class Hosts:
    """The two REST bases an adapter talks to: spot (``/api``, ``/sapi``) and USD-M (``/fapi``)."""

    __slots__ = ("spot", "usdm")

    def __init__(self, spot: str, usdm: str) -> None:
        self.spot = spot
        self.usdm = usdm

    def __repr__(self) -> str:
        return f"Hosts(spot={self.spot!r}, usdm={self.usdm!r})"


def hosts_for(env: str, host: str | None = None, base_url: str | None = None) -> Hosts:
    """The hosts of ``env``; ``host`` names an alternate spot host; ``base_url`` overrides both."""
    if base_url is not None:
        return Hosts(base_url, base_url)
    if host is None or host == "api":
        return Hosts(_SPOT[env], _USDM[env])
    table = SPOT_HOSTS if env == "mainnet" else _SPOT_TESTNET_HOSTS if env == "testnet" else {}
    if host not in table:
        raise NotSupported(
            f"Binance has no {env} spot host named {host!r}",
            exchange="binance",
            hint=f"Mainnet spot hosts: {', '.join(SPOT_HOSTS)}; the testnet also has api1; "
            "demo mode has only demo-api.binance.com.",
        )
    return Hosts(table[host], _USDM[env])


def sapi_unsupported_reason(env: str) -> str | None:
    """Why ``/sapi`` endpoints are not offered in ``env`` (None where they are)."""
    if env == "testnet":
        # "only the /api endpoints are available" on the spot testnet (Demo Mode page's table).
        return "the spot testnet serves only /api endpoints, no /sapi"
    if env == "demo":
        # Binance's Demo Mode page lists /api URLs only, and ccxt's demo URL map has no sapi entry.
        return "Binance documents no /sapi endpoints for demo mode"
    return None
