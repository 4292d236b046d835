"""Stream settings, read from ``connect_async(..., ws_ping_interval=..., ...)`` options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["StreamOptions"]


def _positive(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"ws_{attribute.name} must be a positive number, not {value!r}")


def _ws_url(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.startswith(("ws://", "wss://")):
        raise ValueError(f"ws_url must be a ws:// or wss:// URL, not {value!r}")


@attrs.frozen
class StreamOptions:
    """Heartbeat, silence, reconnect and buffer settings of a client's streams."""

    #: Seconds between pings; None uses the exchange's advice (Bybit: 20 s).
    ping_interval: float | None = attrs.field(default=None, validator=_positive)
    #: Reconnect when nothing arrives for this long (pongs count).
    silence_timeout: float = attrs.field(default=30.0, validator=_positive)
    #: First reconnect wait; doubles per failed attempt up to ``reconnect_max_delay``.
    reconnect_delay: float = attrs.field(default=0.5, validator=_positive)
    reconnect_max_delay: float = attrs.field(default=30.0, validator=_positive)
    #: Events (or distinct latest values) one consumer may leave waiting before overflow.
    max_buffer: int = attrs.field(default=1000, validator=_positive)
    connect_timeout: float = attrs.field(default=10.0, validator=_positive)
    auth_timeout: float = attrs.field(default=10.0, validator=_positive)
    close_timeout: float = attrs.field(default=3.0, validator=_positive)
    #: The stream host to use instead of the exchange's (``wss://host``; the dialect adds paths).
    url: str | None = attrs.field(default=None, validator=_ws_url)

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_buffer, float):
            raise ValueError("ws_max_buffer must be an int")
        if self.ping_interval is not None and self.silence_timeout <= self.ping_interval:
            raise ValueError(
                "ws_silence_timeout must exceed ws_ping_interval, or every quiet connection "
                "would be taken for a dead one"
            )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> StreamOptions:
        """Take the ``ws_*`` entries of a client's options."""
        names = {field.name for field in attrs.fields(cls)}
        given = {key[3:]: value for key, value in options.items() if key.startswith("ws_")}
        unknown = set(given) - names
        if unknown:
            raise ValueError(
                f"unknown stream option(s) {', '.join('ws_' + k for k in sorted(unknown))}; "
                f"known: {', '.join('ws_' + k for k in sorted(names))}"
            )
        return cls(**given)
