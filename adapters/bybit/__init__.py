"""Bybit v5: signer, hosts, error table, request builders, parsers, adapter, emulator front-end."""
