"""API keys the emulator knows: secret or public key, scopes, IP whitelist, expiry, owner."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["SCOPES", "TRADE_SCOPES", "ApiKey", "KeyStore"]

#: Every scope a key can have (the normalised names of ``exchanges.models.KeyInfo``).
SCOPES = frozenset(
    {"read", "spot_trade", "derivatives_trade", "options_trade", "transfer", "withdraw"}
)
TRADE_SCOPES = frozenset({"spot_trade", "derivatives_trade", "options_trade"})


def _scopes(value: Iterable[str]) -> frozenset[str]:
    scopes = frozenset(value) | {"read"}
    unknown = scopes - SCOPES
    if unknown:
        raise ValueError(f"unknown permission(s) {sorted(unknown)}; known: {sorted(SCOPES)}")
    return scopes


def _ip_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen
class ApiKey:
    """One API key: HMAC ``secret`` or RSA/Ed25519 ``public_key`` (PEM), of account ``uid``."""

    api_key: str
    uid: int
    secret: str | None = attrs.field(default=None, repr=False)
    public_key: str | None = attrs.field(default=None, repr=False)
    permissions: frozenset[str] = attrs.field(
        default=frozenset({"read", "spot_trade", "derivatives_trade", "options_trade"}),
        converter=_scopes,
    )
    ips: tuple[str, ...] = attrs.field(default=(), converter=_ip_tuple)
    expires_at: int | None = None
    created_at: int = 0
    label: str = ""
    passphrase: str | None = attrs.field(default=None, repr=False)
    #: The environment the key belongs to ("live", "demo", ...); None means any.
    environment: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.secret is None) == (self.public_key is None):
            raise ValueError("an emulator key needs exactly one of secret or public_key")

    @property
    def read_only(self) -> bool:
        """True when the key has no trading, transfer or withdrawal scope."""
        return not (self.permissions - {"read"})

    def allows(self, scope: str) -> bool:
        """True when the key has ``scope``."""
        return scope in self.permissions

    def ip_allowed(self, ip: str) -> bool:
        """True when the key has no whitelist or ``ip`` is on it."""
        return not self.ips or ip in self.ips


class KeyStore:
    """Keys by API key string."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def add(self, key: ApiKey) -> None:
        """Add or replace a key."""
        self._keys[key.api_key] = key

    def get(self, api_key: str) -> ApiKey | None:
        """The key, or None if unknown."""
        return self._keys.get(api_key)

    def remove(self, api_key: str) -> None:
        """Forget a key."""
        self._keys.pop(api_key, None)

    def all(self) -> list[ApiKey]:
        """Every key."""
        return list(self._keys.values())

    def clear(self) -> None:
        """Forget every key."""
        self._keys.clear()
