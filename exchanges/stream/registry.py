"""Which stream dialect serves which exchange; dialects are imported only when first used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from exchanges.errors import NotSupported

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.stream.dialect import StreamDialect

__all__ = ["dialect_for", "register_dialect"]

_DIALECTS: dict[str, str] = {
    "binance": "adapters.binance.stream:BinanceDialect",
    "bybit": "adapters.bybit.stream:BybitDialect",
    "okx": "adapters.okx.stream:OkxDialect",
}


def register_dialect(name: str, target: str) -> None:
    """Register a dialect as ``"package.module:Class"`` (constructed with the adapter)."""
    _DIALECTS[name] = target


def dialect_for(adapter: Adapter) -> StreamDialect:
    """The stream dialect of ``adapter``'s exchange, or ``NotSupported`` saying why not."""
    target = _DIALECTS.get(adapter.name)
    if target is None:
        raise NotSupported(
            f"{adapter.name} has no WebSocket streams in this version",
            exchange=adapter.name,
            hint=f"Streams exist for {', '.join(sorted(_DIALECTS))}; poll with fetch_* here.",
        )
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    dialect: StreamDialect = cls(adapter)
    return dialect
