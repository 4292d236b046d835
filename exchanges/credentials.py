"""API credentials, held so that no ``repr``, ``str``, f-string, log line or pickle reveals them."""

from __future__ import annotations

import os
from typing import Any, Literal, NoReturn

import attrs

__all__ = ["Credentials", "KeyKind", "Secret", "mask_key"]

KeyKind = Literal["hmac", "rsa", "ed25519"]

_REDACTED = "<redacted>"


def mask_key(api_key: str) -> str:
    """Show an API key as ``abcd…wxyz`` (first 4, last 4); short keys are fully masked."""
    if len(api_key) <= 10:
        return "*" * len(api_key)
    return f"{api_key[:4]}…{api_key[-4:]}"


class Secret:
    """A secret string whose only way out is ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a secret must be a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """Return the secret itself; call it only where the bytes are needed (signing)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    def __str__(self) -> str:
        return _REDACTED

    def __format__(self, spec: str) -> str:
        return _REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("secrets cannot be pickled; build Credentials again in the other process")

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __copy__(self) -> Secret:
        return self


def _to_secret(value: Any) -> Any:
    # Anything but text is left for the validator, which names the field it arrived in.
    return Secret(value) if isinstance(value, str) else value


def _text(_: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{attribute.name} must be a str, not {type(value).__name__}")


def _secret_or_none(_: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, Secret):
        raise TypeError(f"{attribute.name} must be a str, not {type(value).__name__}")


def _looks_like_pem(text: str) -> bool:
    return "PRIVATE KEY-----" in text


@attrs.frozen(repr=False)
class Credentials:
    """An API key with its secret (HMAC), or private key (RSA/Ed25519 PEM), and passphrase (OKX).

    A ``secret`` that holds a PEM private key is treated as ``private_key``, as Bybit's and
    Binance's own SDKs accept it there.
    """

    api_key: str = attrs.field(validator=_text)
    secret: Secret | None = attrs.field(
        default=None, converter=_to_secret, validator=_secret_or_none
    )
    private_key: Secret | None = attrs.field(
        default=None, kw_only=True, converter=_to_secret, validator=_secret_or_none
    )
    passphrase: Secret | None = attrs.field(
        default=None, kw_only=True, converter=_to_secret, validator=_secret_or_none
    )
    _kind: KeyKind = attrs.field(init=False, eq=False)
    # Parsing a PEM (and validating an RSA key) costs tens of ms: done once, here.
    _key_object: Any = attrs.field(init=False, eq=False, default=None)

    def __attrs_post_init__(self) -> None:
        if not self.api_key.strip():
            raise ValueError("api_key is empty")
        if self.secret is None and self.private_key is None:
            raise ValueError("credentials need a secret (HMAC) or a private_key (PEM)")
        secret = self.secret
        for name, text in (("api_key", self.api_key), ("secret", secret and secret.reveal())):
            # Keys and HMAC secrets never hold whitespace: a copied newline would otherwise
            # surface much later as InvalidSignature.
            if text and text != text.strip() and not _looks_like_pem(text):
                raise ValueError(
                    f"{name} has leading or trailing whitespace (a copied newline?): strip it"
                )
        if self.private_key is None and secret is not None and _looks_like_pem(secret.reveal()):
            object.__setattr__(self, "private_key", secret)
            object.__setattr__(self, "secret", None)
        kind: KeyKind = "hmac"
        if self.private_key is not None:
            kind, key_object = _load_pem(self.private_key.reveal())
            object.__setattr__(self, "_key_object", key_object)
        object.__setattr__(self, "_kind", kind)

    @property
    def kind(self) -> KeyKind:
        """How requests are signed: ``hmac``, ``rsa`` or ``ed25519`` (from the PEM's key type)."""
        return self._kind

    def signing_key(self) -> Any:
        """The parsed private key object (``cryptography``), or None for HMAC credentials."""
        return self._key_object

    @property
    def masked_key(self) -> str:
        """The API key as it may be shown: first 4 … last 4."""
        return mask_key(self.api_key)

    def __repr__(self) -> str:
        parts = [f"api_key={self.masked_key!r}", f"kind={self._kind!r}"]
        if self.passphrase is not None:
            parts.append(f"passphrase={_REDACTED!r}")
        return f"Credentials({', '.join(parts)})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("credentials cannot be pickled; build them again in the other process")

    @classmethod
    def from_env(cls, prefix: str, environ: dict[str, str] | None = None) -> Credentials | None:
        """Read ``{prefix}_API_KEY``, ``_API_SECRET``, ``_API_PASSPHRASE`` and ``_API_PRIVATE_KEY``.

        Returns ``None`` when no key is set; raises ``ValueError`` for a half-set pair (a key
        without a secret or private key, or the other way round). ``_API_PRIVATE_KEY`` holds the
        PEM text, or a path to a PEM file. Surrounding whitespace is dropped from every value: a
        trailing newline from a file or a shell would otherwise fail every request as a bad
        signature.
        """
        credentials, problem = cls.read_env(prefix, environ)
        if problem is not None:
            raise ValueError(problem)
        return credentials

    @classmethod
    def read_env(
        cls, prefix: str, environ: dict[str, str] | None = None
    ) -> tuple[Credentials | None, str | None]:
        """Like ``from_env``, but a half-set pair gives ``(None, what is missing)``."""
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            return env.get(f"{prefix}_{name}", "").strip() or None

        key = read("API_KEY")
        secret = read("API_SECRET")
        private = read("API_PRIVATE_KEY")
        if not key:
            if secret is None and private is None:
                return None, None
            given = f"{prefix}_API_SECRET" if secret is not None else f"{prefix}_API_PRIVATE_KEY"
            return None, f"{given} is set but {prefix}_API_KEY is not: set both, or neither"
        if secret is None and private is None:
            return None, (
                f"{prefix}_API_KEY is set but neither {prefix}_API_SECRET nor "
                f"{prefix}_API_PRIVATE_KEY is: set the secret too, or unset the key"
            )
        if private is not None and not _looks_like_pem(private):
            from pathlib import Path  # rarely needed; costs ~9 ms to import

            path = Path(private).expanduser()
            if not path.is_file():
                raise ValueError(
                    f"{prefix}_API_PRIVATE_KEY is neither a PEM private key nor a readable file"
                )
            private = path.read_text().strip()
        passphrase = read("API_PASSPHRASE")
        return cls(key, secret, private_key=private, passphrase=passphrase), None


def _load_pem(pem: str) -> tuple[KeyKind, Any]:
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("private_key is not an unencrypted PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa", key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519", key
    raise ValueError(f"unsupported private key type: {type(key).__name__}")
