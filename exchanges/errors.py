"""The normalised error tree every adapter maps into.

Each exchange's native codes (Bybit ``retCode``, Binance ``code``, OKX ``code``/``sCode``), HTTP
statuses and transport failures end up as one of these classes, so a bot can catch a meaning
(``InsufficientFunds``) instead of a number that differs per exchange::

    ExchangeError
    ├── AuthenticationError            credentials rejected or missing
    │   ├── InvalidApiKey              unknown key, or a key of another environment
    │   ├── InvalidSignature
    │   ├── ApiKeyExpired
    │   ├── PermissionDenied           the key lacks the scope
    │   └── IpNotAllowed               the request's IP is not on the key's whitelist
    ├── UnsafeApiKey                   refused locally: a trading key that can withdraw
    ├── ClockSkew                      timestamp outside the receive window
    ├── RateLimitExceeded              retry_after when known
    ├── BadRequest
    │   └── BadSymbol
    ├── InvalidOrder
    │   ├── InsufficientFunds
    │   ├── OrderNotFound
    │   ├── DuplicateOrderId
    │   ├── OrderImmediatelyFillable   a post-only order would have taken liquidity
    │   └── OrderNotFillable           a fill-or-kill order could not fill in full
    ├── AccountRestricted              banned, region, compliance, wrong account mode
    ├── ExchangeNotAvailable           5xx, maintenance, server timeout
    ├── NetworkError                   transport failure before a response
    │   ├── RequestTimeout
    │   └── StreamInterrupted          a stream was down for a while; events may be missing
    ├── StreamOverflow                 a stream's consumer fell behind by more than its buffer
    ├── OutcomeUnknown                 a write whose result is unknown; reconcile by client order id
    ├── BadResponse                    not JSON, truncated, unexpected shape
    ├── NotSupported                   not offered by this exchange or environment
    └── ClientClosed                   the client was closed; nothing was sent

Every error carries ``exchange``, ``code`` and ``message`` (native, as the exchange sent them),
``hint`` (what to do about it), ``retryable``, ``http_status`` and ``endpoint``
(e.g. ``POST /v5/order/create``). ``str(error)`` reads
``bybit 10004 InvalidSignature: <message> — hint: <what to do>``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccountRestricted",
    "ApiKeyExpired",
    "AuthenticationError",
    "BadRequest",
    "BadResponse",
    "BadSymbol",
    "ClientClosed",
    "ClockSkew",
    "DuplicateOrderId",
    "ExchangeError",
    "ExchangeNotAvailable",
    "InsufficientFunds",
    "InvalidApiKey",
    "InvalidOrder",
    "InvalidSignature",
    "IpNotAllowed",
    "NetworkError",
    "NotSupported",
    "OrderImmediatelyFillable",
    "OrderNotFillable",
    "OrderNotFound",
    "OutcomeUnknown",
    "PermissionDenied",
    "RateLimitExceeded",
    "RequestTimeout",
    "StreamInterrupted",
    "StreamOverflow",
    "UnsafeApiKey",
]


class ExchangeError(Exception):
    """Base of every error this library raises about an exchange call."""

    #: Whether repeating the same request later may succeed (reads are retried on these).
    default_retryable: ClassVar[bool] = False
    #: The hint used when the adapter gives none.
    default_hint: ClassVar[str] = "Check the exchange's message and code; nothing was retried."

    def __init__(
        self,
        message: str = "",
        *,
        exchange: str | None = None,
        code: str | int | None = None,
        hint: str | None = None,
        retryable: bool | None = None,
        http_status: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exchange = exchange
        self.code = code
        self.hint = hint if hint is not None else self.default_hint
        self.retryable = self.default_retryable if retryable is None else retryable
        self.http_status = http_status
        self.endpoint = endpoint

    def __str__(self) -> str:
        head = " ".join(str(part) for part in (self.exchange, self.code) if part not in (None, ""))
        text = f"{head} {type(self).__name__}" if head else type(self).__name__
        if self.message:
            text += f": {self.message}"
        if self.hint:
            text += f" — hint: {self.hint}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(exchange={self.exchange!r}, code={self.code!r}, "
            f"message={self.message!r}, http_status={self.http_status!r}, "
            f"endpoint={self.endpoint!r})"
        )

    def _state(self) -> dict[str, Any]:
        return {
            "exchange": self.exchange,
            "code": self.code,
            "hint": self.hint,
            "retryable": self.retryable,
            "http_status": self.http_status,
            "endpoint": self.endpoint,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments would be lost by Exception's default pickling.
        return (_rebuild, (type(self), self.message, self._state(), self._extra_state()))

    def _extra_state(self) -> dict[str, Any]:
        return {}


def _rebuild(
    cls: type[ExchangeError], message: str, state: dict[str, Any], extra: dict[str, Any]
) -> ExchangeError:
    err = cls(message, **state, **extra)
    return err


class AuthenticationError(ExchangeError):
    """The exchange rejected the credentials, or a private call was made without any."""

    default_hint = "Check the API key and secret, and that they belong to this environment."


class InvalidApiKey(AuthenticationError):
    """The key is unknown here (often a key of another environment: mainnet, testnet, demo)."""

    default_hint = (
        "The exchange does not know this key on this host. Keys of mainnet, testnet and demo "
        "are separate: use a key created for the environment you connect to."
    )


class InvalidSignature(AuthenticationError):
    """The exchange computed a different signature than the one sent."""

    default_hint = (
        "The secret does not match the key, or the signed bytes differ from the bytes sent. "
        "Check the secret (no stray whitespace) and that nothing re-encodes the request."
    )


class ApiKeyExpired(AuthenticationError):
    """The key has expired."""

    default_hint = "Create a new API key, or bind an IP whitelist so the key does not expire."


class PermissionDenied(AuthenticationError):
    """The key lacks the permission this call needs."""

    default_hint = "Enable the needed permission on the key (e.g. trading), or use another key."


class IpNotAllowed(AuthenticationError):
    """The request's IP address is not on the key's whitelist."""

    default_hint = "Add this machine's public IP to the key's IP whitelist."


class UnsafeApiKey(ExchangeError):
    """Refused locally: a trading key that can also withdraw funds."""

    default_hint = (
        "Use a key without withdrawal permission for trading, or pass "
        "allow_withdrawal_keys=True if you accept the risk."
    )


class ClockSkew(ExchangeError):
    """The request's timestamp fell outside the exchange's receive window."""

    default_retryable = True
    default_hint = (
        "The local clock differs from the exchange's; the client resyncs and retries once. "
        "If it persists, keep the system clock NTP-synchronised."
    )


class RateLimitExceeded(ExchangeError):
    """Too many requests; ``retry_after`` (seconds) says when to try again, when known."""

    default_retryable = True
    default_hint = "Slow down; the client waits for the limit to reset before retrying reads."

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def _extra_state(self) -> dict[str, Any]:
        return {"retry_after": self.retry_after}


class BadRequest(ExchangeError):
    """The request was malformed or a parameter was invalid."""

    default_hint = "Check the arguments against the exchange's documented parameters."


class BadSymbol(BadRequest):
    """The symbol does not exist on this exchange, or is not tradable here."""

    default_hint = "Check the symbol with load_markets(); unified symbols look like BTC/USDT."


class InvalidOrder(ExchangeError):
    """The exchange refused the order (price, size, state or rule)."""

    default_hint = "Check price and amount against the market's limits (Market.price_step etc.)."


class InsufficientFunds(InvalidOrder):
    """The account's available balance does not cover the order."""

    default_hint = "Lower the amount, cancel open orders that lock funds, or deposit more."


class OrderNotFound(InvalidOrder):
    """No such order (or it is already closed and gone from the exchange's lists)."""

    default_hint = "Check the order id and symbol; closed orders may only be in the history."


class DuplicateOrderId(InvalidOrder):
    """An order with this client order id already exists."""

    default_hint = (
        "An order with this client order id was already placed: fetch it with "
        "fetch_order(None, symbol, client_order_id=...) instead of placing it again."
    )


class OrderImmediatelyFillable(InvalidOrder):
    """A post-only order was refused because it would have taken liquidity."""

    default_hint = (
        "Move the price away from the book (below the best ask to buy, above the best bid to "
        "sell), or drop post_only to accept taking."
    )


class OrderNotFillable(InvalidOrder):
    """A fill-or-kill order was refused because the book could not fill it in full."""

    default_hint = (
        "Lower the amount or move the price through more of the book, or use IOC to accept a "
        "partial fill."
    )


class AccountRestricted(ExchangeError):
    """The account may not do this: banned, region, compliance or wrong account mode."""

    default_hint = "Check the account's status, region and account mode on the exchange's website."


class ExchangeNotAvailable(ExchangeError):
    """The exchange failed or is overloaded (5xx, maintenance, server timeout)."""

    default_retryable = True
    default_hint = "The exchange is unavailable or overloaded; reads are retried with backoff."


class NetworkError(ExchangeError):
    """The transport failed before a complete response arrived."""

    default_retryable = True
    default_hint = "Check connectivity to the exchange; reads are retried with backoff."

    def __init__(self, message: str = "", *, request_sent: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        #: True when the request may have reached the exchange (so a write may have happened).
        self.request_sent = request_sent

    def _extra_state(self) -> dict[str, Any]:
        return {"request_sent": self.request_sent}


class RequestTimeout(NetworkError):
    """No response arrived within the timeout."""

    default_hint = "The exchange did not answer in time; raise timeout= or retry later."


class StreamInterrupted(NetworkError):
    """A stream's connection was down for a while; it is back and still subscribed."""

    default_hint = (
        "Events sent while the stream was down may be missing: reconcile with fetch_open_orders, "
        "fetch_closed_orders and fetch_my_trades (fetch_trades for public trades), then keep "
        "reading: the stream is still subscribed and continues with the events after the "
        "reconnect."
    )

    def __init__(
        self,
        message: str = "",
        *,
        down_from: float | None = None,
        down_until: float | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        #: When the stream went down and when it was subscribed again (Unix seconds).
        self.down_from = down_from
        self.down_until = down_until

    def _extra_state(self) -> dict[str, Any]:
        return {
            **super()._extra_state(),
            "down_from": self.down_from,
            "down_until": self.down_until,
        }


class StreamOverflow(ExchangeError):
    """A consumer fell behind an event stream by more events than its buffer holds."""

    default_hint = (
        "The consumer read too slowly: events were still arriving when the buffer was full, so "
        "the stream stopped rather than drop any. Read faster (or pass a larger ws_max_buffer= "
        "to connect_async), then resynchronise with fetch_* before watching again."
    )

    def __init__(self, message: str = "", *, bound: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.bound = bound

    def _extra_state(self) -> dict[str, Any]:
        return {"bound": self.bound}


class OutcomeUnknown(ExchangeError):
    """A write was sent but its result cannot be known; reconcile by ``client_order_id``."""

    default_hint = (
        "The order may or may not exist. Look it up with fetch_order(None, symbol, "
        "client_order_id=...) before placing it again."
    )

    def __init__(
        self,
        message: str = "",
        *,
        client_order_id: str | None = None,
        conclusive_after_ms: int | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.client_order_id = client_order_id
        #: Exchange time (ms since the epoch) after which the exchange no longer acts on the
        #: request that was lost (its receive window has closed): a lookup made later is final.
        self.conclusive_after_ms = conclusive_after_ms

    def __str__(self) -> str:
        text = super().__str__()
        if self.client_order_id:
            text += f" (client_order_id={self.client_order_id})"
        return text

    def _extra_state(self) -> dict[str, Any]:
        return {
            "client_order_id": self.client_order_id,
            "conclusive_after_ms": self.conclusive_after_ms,
        }


class BadResponse(ExchangeError):
    """The exchange's answer was not what its API documents (not JSON, truncated, wrong shape)."""

    default_retryable = True
    default_hint = (
        "The exchange sent an unexpected response (maybe a proxy or maintenance page); "
        "retry later and report it if it persists."
    )


class NotSupported(ExchangeError):
    """The exchange or environment does not offer this."""

    default_hint = "This call is not available here; the message says why."


class ClientClosed(ExchangeError):
    """The client was closed (``close()`` or the end of its ``with`` block); nothing was sent."""

    default_hint = (
        "Call it while the client is open: inside `with exchanges.connect(...) as ex:` (or "
        "`async with exchanges.connect_async(...)`), or connect again."
    )
