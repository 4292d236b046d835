"""Which exchanges can run locally, and the embedded emulator the demo and ``compare`` start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchanges.errors import NotSupported
from exchanges.registry import adapter_class

if TYPE_CHECKING:
    from exchanges.emulator import Emulator

__all__ = ["EXCHANGES", "start_emulator", "unavailable"]

#: The exchanges the command knows by name (the adapters and emulator front-ends planned).
EXCHANGES = ("bybit", "binance", "okx")


def unavailable(exchange: str, *, emulator: bool) -> NotSupported | None:
    """Why ``exchange`` cannot be used here (its adapter, or emulator front-end, is missing)."""
    try:
        adapter_class(exchange)
        if emulator:
            # The emulator pulls in aiohttp (~200 ms): only commands that run one pay for it.
            from exchanges.emulator.server import front_end_class

            front_end_class(exchange)
    except NotSupported as err:
        return err
    return None


def start_emulator(exchange: str, *, seed: int, default_key: bool = True) -> Emulator:
    """Start ``exchange``'s emulator on loopback (with its default test key, unless told not to)."""
    from exchanges.emulator import Emulator

    emu = (
        Emulator(exchange, seed=seed)
        if default_key
        else Emulator(exchange, seed=seed, api_key=None)
    )
    emu.start()
    return emu
