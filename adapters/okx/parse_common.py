"""What OKX's parsers share: the text reader, the instrument type tables and instrument ids
↔ unified symbols."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exchanges.errors import BadSymbol
from exchanges.models import MarketType
from exchanges.symbols import Symbol

__all__ = ["INST_TYPES", "MARKET_TYPES", "inst_id_of", "inst_type_of", "symbol_of", "text"]

#: Unified market type -> OKX ``instType``.
INST_TYPES: Mapping[str, str] = {
    "spot": "SPOT",
    "swap": "SWAP",
    "future": "FUTURES",
    "option": "OPTION",
}
#: OKX ``instType`` -> unified market type.
MARKET_TYPES: dict[str, MarketType] = {
    "SPOT": "spot",
    "SWAP": "swap",
    "FUTURES": "future",
    "OPTION": "option",
}


def text(value: Any) -> str | None:
    """The value when it is text, else None."""
    # Never str() of a container: a hostile body nests deep enough to make its repr recurse.
    return value if isinstance(value, str) else None


# -- instrument ids and unified symbols -----------------------------------------------------


def inst_type_of(symbol: Symbol) -> str:
    """OKX's ``instType`` of a unified symbol."""
    return INST_TYPES[symbol.kind]


def inst_id_of(symbol: Symbol) -> str:
    """OKX's instrument id of a unified symbol (BTC/USDT:USDT → BTC-USDT-SWAP)."""
    pair = f"{symbol.base}-{symbol.quote}"
    kind = symbol.kind
    if kind == "spot":
        return pair
    if kind == "swap":
        return f"{pair}-SWAP"
    if kind == "future":
        return f"{pair}-{symbol.expiry}"
    assert symbol.strike is not None
    return f"{pair}-{symbol.expiry}-{format(symbol.strike, 'f')}-{symbol.right}"


def symbol_of(inst_id: str, settle: str | None = None) -> str:
    """The unified symbol of an instrument id; ``settle`` from the instrument when known.

    Without it, OKX's naming decides: ``-USD-`` contracts are coin-margined (settled in the
    base currency), the others settle in their quote currency.
    """
    parts = inst_id.split("-")
    if len(parts) < 2 or not all(parts):
        raise BadSymbol(f"{inst_id!r} is not an OKX instrument id", exchange="okx")
    base, quote = parts[0], parts[1]
    if len(parts) == 2:
        return f"{base}/{quote}"
    coin = settle or (base if quote == "USD" else quote)
    tail = parts[2:]
    if tail == ["SWAP"]:
        return f"{base}/{quote}:{coin}"
    if len(tail) == 1:
        return f"{base}/{quote}:{coin}-{tail[0]}"
    if len(tail) == 3:
        return f"{base}/{quote}:{coin}-{tail[0]}-{tail[1]}-{tail[2]}"
    raise BadSymbol(f"{inst_id!r} is not an OKX instrument id", exchange="okx")
