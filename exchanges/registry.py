"""Which adapter serves which exchange name; adapters are imported only when first used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from exchanges.errors import NotSupported

if TYPE_CHECKING:
    from exchanges.adapter import Adapter

__all__ = ["adapter_class", "known_exchanges", "register"]

_ADAPTERS: dict[str, str] = {
    "bybit": "adapters.bybit.adapter:BybitAdapter",
    "binance": "adapters.binance.adapter:BinanceAdapter",
    "okx": "adapters.okx.adapter:OkxAdapter",
}
_BRIDGE = "adapters.ccxt_bridge.adapter:CcxtAdapter"


def register(name: str, target: str) -> None:
    """Register an adapter as ``"package.module:Class"`` under ``name``."""
    _ADAPTERS[name] = target


def known_exchanges() -> list[str]:
    """The names ``connect()`` accepts (plus ``ccxt:<id>``)."""
    return sorted(_ADAPTERS)


def _load(target: str) -> type[Adapter]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    cls: type[Adapter] = getattr(module, attr)
    return cls


def adapter_class(exchange: str) -> type[Adapter]:
    """The adapter class for ``exchange`` (``"bybit"``, ``"ccxt:kucoin"``, ...)."""
    if not isinstance(exchange, str):
        raise TypeError(f"exchange must be a str, not {type(exchange).__name__}")
    name = exchange.lower()
    target = _BRIDGE if name.startswith("ccxt:") else _ADAPTERS.get(name)
    if target is None:
        raise NotSupported(
            f"unknown exchange {exchange!r}",
            hint=f"Use one of {', '.join(known_exchanges())}, "
            "or 'ccxt:<id>' for any ccxt exchange.",
        )
    try:
        return _load(target)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("adapters."):
            raise NotSupported(
                f"the {name} adapter is not available in this version",
                exchange=name,
                hint="Use one of " + ", ".join(known_exchanges()) + ".",
            ) from None
        if exc.name == "ccxt":
            raise NotSupported(
                "the ccxt bridge needs the ccxt package",
                exchange=name,
                hint='Install it with: pip install "exchanges[ccxt]"',
            ) from None
        raise
