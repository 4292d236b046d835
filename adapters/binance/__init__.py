"""Binance spot and USD-M futures: signer, hosts, limits, errors, builders, parsers, adapter."""
