"""Which stream host a Bybit client uses: per region, per REST base URL, or ``ws_url=``."""

from __future__ import annotations

from typing import Any

import pytest

import exchanges
from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.hosts import REGIONS, WS_REGIONS
from adapters.bybit.stream import BybitDialect
from exchanges.errors import NotSupported


def url(group: str, **kwargs: Any) -> str:
    env = kwargs.pop("env", "mainnet")
    base_url = kwargs.pop("base_url", None)
    return BybitDialect(BybitAdapter(env=env, base_url=base_url, options=kwargs)).url(group)


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("tr", "stream.bybit.tr"),
        ("kz", "stream.bybit.kz"),
        ("ge", "stream.bybitgeorgia.ge"),
        ("id", "stream.bybit.id"),
        ("jp", "stream.manepa.jp"),
        ("nl", "stream.bybit.com"),
        ("bytick", "stream.bybit.com"),
    ],
)
def test_a_regional_site_streams_from_its_host(region: str, host: str) -> None:
    assert url("private", region=region) == f"wss://{host}/v5/private"
    assert url("public/spot", region=region) == f"wss://{host}/v5/public/spot"
    # A base URL that is the region's own REST host means the same site.
    assert url("private", base_url=REGIONS[region]) == f"wss://{host}/v5/private"


def test_every_regional_rest_host_has_a_stream_host_or_says_why_not() -> None:
    for region in REGIONS:
        if region in WS_REGIONS:
            assert url("private", region=region).startswith("wss://stream.")
            continue
        with pytest.raises(NotSupported, match=f"region {region!r}") as caught:
            url("private", region=region)
        assert "ws_url=" in (caught.value.hint or "")


def test_bybit_rest_hosts_given_as_base_url_map_to_their_stream_hosts() -> None:
    assert url("private", base_url="https://api-demo.bybit.com") == (
        "wss://stream-demo.bybit.com/v5/private"
    )
    assert url("public/linear", base_url="https://api-demo.bybit.com/") == (
        "wss://stream.bybit.com/v5/public/linear"
    )
    assert url("public/linear", base_url="https://api-testnet.bybit.com") == (
        "wss://stream-testnet.bybit.com/v5/public/linear"
    )


def test_ws_url_overrides_every_other_choice() -> None:
    assert url("private", region="eu", ws_url="wss://stream.example/") == (
        "wss://stream.example/v5/private"
    )
    assert url("public/option", base_url="http://127.0.0.1:1", ws_url="ws://127.0.0.1:2") == (
        "ws://127.0.0.1:2/v5/public/option"
    )


def test_stream_options_are_checked_when_connecting() -> None:
    with pytest.raises(ValueError, match="ws_url must be a ws:// or wss:// URL"):
        exchanges.connect_async("bybit", ws_url="https://stream.bybit.com")
    with pytest.raises(ValueError, match="unknown stream option"):
        exchanges.connect_async("bybit", ws_ping_intervall=5)
    with pytest.raises(ValueError, match="ws_silence_timeout must exceed"):
        exchanges.connect_async("bybit", ws_ping_interval=10, ws_silence_timeout=5)
