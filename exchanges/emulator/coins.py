"""The coins an emulated exchange lists: names, networks, deposit and withdrawal terms.

Each front-end answers its exchange's currency endpoint (Bybit's coin info, Binance's
capital config, OKX's asset currencies) from this one catalogue, in its own field names and
network ids. Fees and minimums are plausible figures of the size exchanges publish, not any
exchange's current schedule; the emulator performs no deposits or withdrawals.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchanges.emulator.engine import Engine

__all__ = ["COINS", "Coin", "Network", "listed_coins"]


@attrs.frozen
class Network:
    """One network a coin moves on; ``chain`` is the common short id (ETH, TRX, ARBI ...)."""

    chain: str
    name: str
    confirmations: int
    withdraw_fee: Decimal
    withdraw_min: Decimal
    withdraw_max: Decimal
    deposit_min: Decimal
    decimals: int  # the deposit and withdrawal precision
    contract: str = ""  # the token contract address; "" for a chain's native coin


@attrs.frozen
class Coin:
    """A coin: its code, full name and the networks it moves on (the first is its main one)."""

    code: str
    name: str
    networks: tuple[Network, ...]


def _net(
    chain: str, name: str, confirmations: int, fee: str, minimum: str, deposit: str, decimals: int,
    contract: str = "",
) -> Network:  # fmt: skip
    return Network(
        chain=chain,
        name=name,
        confirmations=confirmations,
        withdraw_fee=Decimal(fee),
        withdraw_min=Decimal(minimum),
        withdraw_max=Decimal(10_000_000),
        deposit_min=Decimal(deposit),
        decimals=decimals,
        contract=contract,
    )


# Token contracts of the stablecoins (their public, well-known addresses).
_USDT_ERC20 = "0xdac17f958d2ee523a2206206994597c13d831ec7"
_USDT_TRC20 = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
_USDT_SPL = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
_USDC_ERC20 = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
_ERC20 = "Ethereum (ERC20)"

COINS: dict[str, Coin] = {
    coin.code: coin
    for coin in (
        Coin("BTC", "Bitcoin", (_net("BTC", "Bitcoin", 1, "0.0002", "0.001", "0.0001", 8),)),
        Coin(
            "ETH",
            "Ethereum",
            (
                _net("ETH", _ERC20, 6, "0.0012", "0.003", "0.0001", 8),
                _net("ARBI", "Arbitrum One", 12, "0.0001", "0.0008", "0.0001", 8),
            ),
        ),
        Coin("SOL", "Solana", (_net("SOL", "Solana", 1, "0.008", "0.1", "0.01", 8),)),
        Coin(
            "USDT",
            "Tether USDT",
            (
                _net("ETH", _ERC20, 6, "4", "10", "1", 6, _USDT_ERC20),
                _net("TRX", "Tron (TRC20)", 19, "1", "10", "1", 6, _USDT_TRC20),
                _net("SOL", "Solana", 1, "1", "5", "1", 6, _USDT_SPL),
            ),
        ),
        Coin("USDC", "USD Coin", (_net("ETH", _ERC20, 6, "4", "10", "1", 6, _USDC_ERC20),)),
    )
}


def listed_coins(engine: Engine) -> list[Coin]:
    """The catalogue's coins that the engine's instruments trade or settle in, by code."""
    used = set()
    for spec in engine.instruments.values():
        used.update({spec.base, spec.quote, spec.settle})
    return [coin for code, coin in sorted(COINS.items()) if code in used]
