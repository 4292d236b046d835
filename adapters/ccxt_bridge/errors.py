"""ccxt's exceptions mapped onto the library's error tree, with the native code when there is one.

Two steps. First the ccxt class decides (``CLASS_MAP``; the most specific class in the
exception's MRO wins). Then, when the message carries the exchange's own error body (ccxt
writes ``"<id> <body>"``), its native code is extracted and, for the exchanges whose codes the
library knows (``NATIVE_CODES``: bybit, binance, okx and their ccxt variants), the code decides:
this is where ccxt's tables disagree across exchanges and where the library resolves them its
own way:

===========================  =======================  =====================================
meaning                      ccxt 4.5.90 says         the bridge says
===========================  =======================  =====================================
timestamp outside window     InvalidNonce, or         ClockSkew (bybit 10002, binance
                             BadRequest (binance      -1021, okx 50102)
                             portfolio margin)
invalid signature            AuthenticationError,     InvalidSignature (bybit 10004,
                             BadRequest (binance PM)  binance -1022, okx 50113)
duplicate client order id    InvalidOrder/BadRequest  DuplicateOrderId (bybit 110072,
                                                      binance -4116 and -2010 "Duplicate
                                                      order", okx 51016)
"execution status unknown"   ExchangeError (bybit     ExchangeNotAvailable: a write becomes
                             10016), RequestTimeout   OutcomeUnknown and is reconciled
===========================  =======================  =====================================

Every mapped error keeps ``exchange`` (the ccxt id), ``code`` (native, as the exchange sent it:
an int for bybit and binance, a str for okx), ``message`` (the exchange's own message when the
body has one, else ccxt's text) and a ``hint``. Messages are scrubbed first: ccxt puts request
URLs (Binance's carry ``signature=``) and response bodies (Bybit's 10004 echoes the signed
string, API key included) into its exception texts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from exchanges import errors as e
from exchanges.credentials import Credentials, mask_key

__all__ = [
    "CLASS_MAP",
    "NATIVE_CODES",
    "Scrubber",
    "extract_native",
    "family_of",
    "item_error",
    "map_exception",
]

Entry = tuple[type[e.ExchangeError], str | None]

#: ccxt exception class name -> (our class, hint or None for the class default). Keyed by name
#: so that this module needs no ccxt import; looked up along the exception's MRO.
CLASS_MAP: Mapping[str, Entry] = {
    # OperationFailed branch: the exchange did not (or may not have) acted.
    "ChecksumError": (e.BadResponse, "ccxt found an order book whose checksum does not match."),
    "InvalidNonce": (
        e.ClockSkew,
        "The exchange refused the request's timestamp or nonce. The bridge resyncs ccxt's "
        "clock offset once (when the exchange has fetchTime) and retries; if it persists, keep "
        "the system clock NTP-synchronised.",
    ),
    "DDoSProtection": (e.RateLimitExceeded, "The exchange's DDoS protection refused the request."),
    "RateLimitExceeded": (e.RateLimitExceeded, None),
    "OnMaintenance": (e.ExchangeNotAvailable, "The exchange is under maintenance."),
    "ExchangeNotAvailable": (e.ExchangeNotAvailable, None),
    "RequestTimeout": (e.RequestTimeout, None),
    "NetworkError": (e.NetworkError, None),
    "NullResponse": (e.BadResponse, None),
    "BadResponse": (e.BadResponse, None),
    "CancelPending": (
        e.ExchangeNotAvailable,
        "The exchange has not finished cancelling the order yet; its status is looked up.",
    ),
    "OperationFailed": (e.ExchangeNotAvailable, None),
    # ExchangeError branch: the exchange answered and refused.
    "AccountNotEnabled": (e.AccountRestricted, "The account is not enabled for this."),
    "AccountSuspended": (e.AccountRestricted, "The exchange has suspended the account."),
    "PermissionDenied": (e.PermissionDenied, None),
    "AuthenticationError": (e.AuthenticationError, None),
    "ArgumentsRequired": (
        e.BadRequest,
        "ccxt needs more arguments for this call on this exchange; the message says which.",
    ),
    "BadSymbol": (e.BadSymbol, None),
    "BadRequest": (e.BadRequest, None),
    "MarginModeAlreadySet": (e.BadRequest, "Nothing changed: the margin mode is already set."),
    "NoChange": (e.BadRequest, "Nothing changed: the setting already has this value."),
    "MarketClosed": (e.InvalidOrder, "The market is closed; wait until it trades again."),
    "ManualInteractionNeeded": (
        e.AccountRestricted,
        "The exchange wants a manual step on its website first (an agreement, a quiz, KYC).",
    ),
    "RestrictedLocation": (e.AccountRestricted, "The exchange refuses access from here."),
    "OperationRejected": (
        e.ExchangeError,
        "The exchange refused the operation (ccxt OperationRejected); the message says why.",
    ),
    "InsufficientFunds": (e.InsufficientFunds, None),
    "AddressPending": (e.BadRequest, "The deposit address is still being generated."),
    "InvalidAddress": (e.BadRequest, "The address is invalid."),
    "OrderNotFound": (e.OrderNotFound, None),
    "OrderNotCached": (e.OrderNotFound, "ccxt no longer has this order in its cache."),
    "DuplicateOrderId": (e.DuplicateOrderId, None),
    "OrderImmediatelyFillable": (
        e.InvalidOrder,
        "The post-only order would have taken liquidity: move the price away from the book.",
    ),
    "OrderNotFillable": (e.InvalidOrder, "The order cannot be filled (FOK/IOC or no liquidity)."),
    "ContractUnavailable": (e.InvalidOrder, "The contract is not available for trading."),
    "InvalidOrder": (e.InvalidOrder, None),
    "NotSupported": (e.NotSupported, None),
    "InvalidProxySettings": (e.BadRequest, "ccxt's proxy settings are inconsistent."),
    "ExchangeClosedByUser": (e.ExchangeError, "The client was closed; connect again."),
    "ExchangeError": (
        e.ExchangeError,
        "ccxt has no category for this answer; the message is the exchange's own.",
    ),
    "UnsubscribeError": (e.ExchangeError, None),
    "BaseError": (e.ExchangeError, None),
}

_DUPLICATE = (e.DuplicateOrderId, None)
_UNREADABLE_HINT = (
    "ccxt could not read the exchange's answer (no code, no envelope); reads are retried, "
    "an order is looked up by its client order id."
)

#: A leverage above the symbol's maximum (Bybit 110013/110086, Binance -4028, OKX 59102/59105).
_LEVERAGE_RANGE: Entry = (
    e.BadRequest,
    "The leverage is outside what the exchange allows for this symbol (1 to its maximum).",
)

#: A reduce-only order that would open, increase or flip a position (Bybit 110017, OKX 51148).
_REDUCE_ONLY: Entry = (
    e.InvalidOrder,
    "The reduce-only order was refused: it would open or increase a position, or it is larger "
    "than the position.",
)

#: Native codes whose meaning the library knows, per ccxt exchange family (a ccxt class and its
#: subclasses: ``binanceusdm`` is a ``binance``). They override ccxt's class; the same meanings
#: as the native adapters' tables (a unit test checks that they agree).
NATIVE_CODES: Mapping[str, Mapping[str, Entry]] = {
    "bybit": {
        "10002": (e.ClockSkew, None),
        "10003": (e.InvalidApiKey, None),
        "10004": (e.InvalidSignature, None),
        "10005": (e.PermissionDenied, None),
        "10006": (e.RateLimitExceeded, None),
        "10010": (e.IpNotAllowed, None),
        "10016": (e.ExchangeNotAvailable, "Bybit had an internal error."),
        "33004": (e.ApiKeyExpired, None),
        "110001": (e.OrderNotFound, None),
        "110007": (e.InsufficientFunds, None),
        "110013": _LEVERAGE_RANGE,
        "110043": (e.BadRequest, "Nothing changed: the leverage is already set."),
        "110017": _REDUCE_ONLY,
        "110072": _DUPLICATE,
        "110086": _LEVERAGE_RANGE,
        "110024": (
            e.BadRequest,
            "The position mode cannot change while the symbol has a position.",
        ),
        "110028": (
            e.BadRequest,
            "The position mode cannot change while the symbol has open orders.",
        ),
        "110029": (
            e.NotSupported,
            "Hedge mode is not offered for this symbol (USDT perpetuals only).",
        ),
        "170131": (e.InsufficientFunds, None),
        "170213": (e.OrderNotFound, None),
        "110092": (e.InvalidOrder, "The trigger price is on the wrong side of the market."),
        "110093": (e.InvalidOrder, "The trigger price is on the wrong side of the market."),
    },
    "binance": {
        "-1003": (e.RateLimitExceeded, None),
        "-1007": (
            e.ExchangeNotAvailable,
            "Binance says the execution status is unknown; an order is looked up before "
            "anything is resent.",
        ),
        "-1015": (e.RateLimitExceeded, "Too many new orders: slow down order placement."),
        "-1021": (e.ClockSkew, None),
        "-1022": (e.InvalidSignature, None),
        "-2013": (e.OrderNotFound, None),
        "-2014": (e.InvalidApiKey, None),
        "-2015": (
            e.InvalidApiKey,
            "Binance refused the key: it is unknown here (keys of mainnet, testnet and demo "
            "are separate), the IP is not whitelisted, or the key lacks the permission.",
        ),
        "-2018": (e.InsufficientFunds, None),
        "-2019": (e.InsufficientFunds, "Not enough margin for this order."),
        "-4028": _LEVERAGE_RANGE,
        "-4047": (e.BadRequest, "The margin type cannot change while the symbol has open orders."),
        "-4048": (e.BadRequest, "The margin type cannot change while the symbol has a position."),
        "-4061": (e.InvalidOrder, "The order's positionSide does not match the position mode."),
        "-4067": (e.BadRequest, "The position mode cannot change while orders are open."),
        "-4068": (e.BadRequest, "The position mode cannot change while positions are open."),
        "-4116": _DUPLICATE,
        "-5021": (e.OrderNotFillable, "The FOK order could not be filled in full."),
        "-5022": (e.OrderImmediatelyFillable, None),
        "-5040": (e.InvalidOrder, "A GTD order's good_till must be more than 600 s ahead."),
        "-2021": (e.InvalidOrder, "The order would trigger immediately."),
    },
    "okx": {
        "50004": (
            e.ExchangeNotAvailable,
            "OKX says the request timed out, which does not mean it failed; an order is looked "
            "up before anything is resent.",
        ),
        "50011": (e.RateLimitExceeded, None),
        "50061": (e.RateLimitExceeded, "The account's order rate limit was reached."),
        "50101": (e.InvalidApiKey, None),
        "50102": (e.ClockSkew, None),
        "50110": (e.IpNotAllowed, None),
        "50111": (e.InvalidApiKey, None),
        "50113": (e.InvalidSignature, None),
        "51008": (e.InsufficientFunds, None),
        "51016": _DUPLICATE,
        "51148": _REDUCE_ONLY,
        "51169": (e.InvalidOrder, "The reduce-only order has no position in this direction."),
        "51170": (e.InvalidOrder, "A reduce-only order must go against the position."),
        "51400": (e.OrderNotFound, "The order is already filled or cancelled, or does not exist."),
        "51603": (e.OrderNotFound, None),
        "59102": _LEVERAGE_RANGE,
        "59105": _LEVERAGE_RANGE,
        "59000": (e.BadRequest, "The setting cannot change while positions or open orders exist."),
        "51088": (e.InvalidOrder, "A position takes one TP/SL order closing it whole."),
        "51277": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price."),
        "51278": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price."),
        "51279": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price."),
        "51280": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price."),
        "54070": (e.InvalidOrder, "OKX takes TP/SL on an order only in attachAlgoOrds."),
    },
}

#: Binance's -2010 (NEW_ORDER_REJECTED) and -2011 (CANCEL_REJECTED) carry their reason in the
#: message; these lowercase fragments decide (as in the native Binance adapter).
_BINANCE_BY_MESSAGE: tuple[tuple[str, Entry], ...] = (
    ("duplicate order", _DUPLICATE),
    ("insufficient balance", (e.InsufficientFunds, None)),
    ("unknown order", (e.OrderNotFound, None)),
    ("would immediately match and take", (e.OrderImmediatelyFillable, None)),
    # Spot's stop already reached (ccxt calls it OrderImmediatelyFillable, a post-only word).
    (
        "would trigger immediately",
        (
            e.InvalidOrder,
            "The last price has already reached the stop price: a stop that fires as the price "
            "rises must be above the last price, one that fires as it falls below it (check "
            "trigger_direction).",
        ),
    ),
    # USD-M's -2022 REDUCE_ONLY_REJECT (spot's -2022 is a cancel-replace failure: by message).
    (
        "reduceonly order is rejected",
        (
            e.InvalidOrder,
            "The reduce-only order was rejected: it would open or increase a position.",
        ),
    ),
)

_CODE_KEYS = ("retCode", "ret_code", "code", "error_code", "errorCode", "err_code")
_MESSAGE_KEYS = ("retMsg", "ret_msg", "msg", "message", "error_description", "errorMessage")
_HTTP = re.compile(r"\b(?:GET|POST|PUT|DELETE|PATCH) \S+ (\d{3})\b")
# Signature-like values in URLs and bodies: query parameters and JSON fields.
_SIGNED = re.compile(
    r"(?i)((?:^|[?&\s\"'])(?:signature|sign|sig|api_sign|apisign)[\"']?\s*[=:]\s*[\"']?)"
    r"([^&\s\"',}]+)"
)
_REDACTED = "<redacted>"


def family_of(client_class: type) -> str | None:
    """The ``NATIVE_CODES`` family of a ccxt exchange class (its own name or an ancestor's)."""
    for klass in client_class.__mro__:
        if klass.__name__ in NATIVE_CODES:
            return klass.__name__
    return None


class Scrubber:
    """Removes credentials and signatures from texts that leave the bridge (messages, logs)."""

    def __init__(self, credentials: Iterable[Credentials | None] = ()) -> None:
        self._secrets: list[str] = []
        self._keys: list[tuple[str, str]] = []
        for creds in credentials:
            if creds is None:
                continue
            for secret in (creds.secret, creds.passphrase, creds.private_key):
                text = secret.reveal() if secret is not None else ""
                if text:
                    self._secrets.append(text)
                    # A PEM may show up in part: each of its lines counts on its own.
                    self._secrets.extend(line for line in text.splitlines() if len(line) >= 16)
            self._keys.append((creds.api_key, mask_key(creds.api_key)))
        # Longest first, so that a secret containing another is removed whole.
        self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` without secrets and signatures, API keys masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        for key, masked in self._keys:
            if key in text:
                text = text.replace(key, masked)
        return _SIGNED.sub(lambda m: m.group(1) + _REDACTED, text)


# Where a body may start: enough for "<id> <body>" messages, bounded so that text with many
# braces that never close costs a few attempts, not one per brace.
_MAX_ATTEMPTS = 16


def _json_objects(text: str) -> Iterable[Any]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    attempts = 0
    while start != -1 and attempts < _MAX_ATTEMPTS:
        attempts += 1
        try:
            value, _ = decoder.raw_decode(text, start)
        except RecursionError:
            # Nested too deep to decode: no body worth reading, and every later brace is inside
            # the same nesting.
            return
        except ValueError:
            start = text.find("{", start + 1)
            continue
        yield value
        return


def _no_code(value: Any) -> bool:
    # A code is text or a plain integer; floats (1e999), booleans and containers are none.
    if value.__class__ is str:
        return value in ("", "0")
    return value.__class__ is not int or value == 0


def _message(value: Any) -> str | None:
    # Text only: str() of a deeply nested container would recurse.
    return value if isinstance(value, str) and value else None


def extract_native(message: str) -> tuple[Any, str | None, int | None]:
    """``(code, native message, HTTP status)`` found in a ccxt exception message.

    ccxt writes ``"<id> <response body>"``; for OKX-style envelopes a failing item's ``sCode``
    wins over the top-level ``code``, as in the native OKX adapter. The code keeps the type the
    exchange used (int or str).
    """
    status_match = _HTTP.search(message)
    http_status = int(status_match.group(1)) if status_match else None
    for body in _json_objects(message):
        if not isinstance(body, dict):
            continue
        items = body.get("data")
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict) and not _no_code(item.get("sCode")):
                    return item["sCode"], _message(item.get("sMsg")), http_status
        source: dict[str, Any] = body
        nested = body.get("error")
        if isinstance(nested, dict):
            source = nested
        for key in _CODE_KEYS:
            code = source.get(key)
            if not _no_code(code):
                text = next((_message(source[k]) for k in _MESSAGE_KEYS if source.get(k)), None)
                return code, text, http_status
    return None, None, http_status


#: Generic parameter codes whose message names the order's position side (hedge mode): a
#: refused order, as Binance's -4061 is (the native Bybit and OKX tables read them the same).
_POSITION_SIDE: Mapping[tuple[str, str], str] = {
    ("bybit", "10001"): "position idx",
    ("okx", "51000"): "parameter posside error",
}
_WRONG_POSITION_SIDE: Entry = (
    e.InvalidOrder,
    "The order's position side does not match the position mode (hedge mode needs one).",
)


def _native_entry(family: str | None, code: Any, message: str) -> Entry | None:
    if family is None or code is None:
        return None
    table = NATIVE_CODES.get(family, {})
    entry = table.get(str(code))
    side = _POSITION_SIDE.get((family, str(code)))
    if side is not None and side in message.lower():
        return _WRONG_POSITION_SIDE
    if entry is None and family == "binance" and str(code) in ("-2010", "-2011", "-2022"):
        lowered = message.lower()
        for fragment, found in _BINANCE_BY_MESSAGE:
            if fragment in lowered:
                return found
    return entry


def _class_entry(exc: BaseException) -> Entry | None:
    for klass in type(exc).__mro__:
        entry = CLASS_MAP.get(klass.__name__)
        if entry is not None and klass.__module__.startswith("ccxt"):
            return entry
    return None


def map_exception(
    exc: BaseException,
    *,
    exchange: str,
    family: str | None,
    endpoint: str,
    scrub: Scrubber,
    last_body: str | None = None,
) -> e.ExchangeError:
    """The library's error for an exception a ccxt call raised.

    ``last_body`` is the ccxt client's last HTTP response body, used for the native code when
    the exception's message has none.
    """
    raw = scrub(str(exc))
    entry = _class_entry(exc)
    if entry is None:
        # Not a ccxt error: ccxt's own code failed on an answer it did not expect.
        return e.BadResponse(
            f"ccxt raised {type(exc).__name__}: {raw}",
            exchange=exchange,
            endpoint=endpoint,
            hint="ccxt could not handle the exchange's answer; retry later and report it to "
            "ccxt if it persists.",
        )
    prefix = f"{exchange} "
    text = raw[len(prefix) :] if raw.startswith(prefix) else raw
    code, native, http_status = extract_native(text)
    if code is None and last_body:
        # Some ccxt classes raise with the exchange's message only (Binance: "Account has
        # insufficient balance ..."). The client's last response body gives the code, but only
        # when its message is the one raised: with concurrent calls it may be another's.
        body_code, body_message, _ = extract_native(last_body)
        if body_code is not None and body_message and body_message in text:
            code, native = body_code, scrub(body_message)
    refined = _native_entry(family, code, native or text)
    cls, hint = refined if refined is not None else entry
    if refined is None and code is None and entry is CLASS_MAP["ExchangeError"]:
        # ccxt's catch-all with no code of the exchange in it: an answer nobody could read
        # (an empty object, a body without the envelope). For a write that is an unknown
        # outcome, to be settled by the client order id, not a refusal.
        cls, hint = e.BadResponse, _UNREADABLE_HINT
    if refined is None and code is None and cls is e.AuthenticationError and "credential" in text:
        hint = "This call needs API credentials: pass credentials= to connect() or set them in "
        hint += "the environment (<EXCHANGE>_API_KEY, _API_SECRET, _API_PASSPHRASE)."
    kwargs: dict[str, Any] = {
        "exchange": exchange,
        "code": code,
        "hint": hint,
        "http_status": http_status,
        "endpoint": endpoint,
    }
    message = native if native else text
    if issubclass(cls, e.NetworkError):
        # ccxt cannot tell whether the request left before the failure: assume it may have,
        # so that a write is reconciled instead of being resent blindly.
        return cls(message, request_sent=True, **kwargs)
    return cls(message, **kwargs)


def item_error(
    info: Any,
    *,
    exchange: str,
    family: str | None,
    endpoint: str,
    exact: Mapping[str, Any] | None = None,
) -> e.ExchangeError | None:
    """The error of one order of a batch whose ccxt result carries the exchange's own code in
    ``info`` (Bybit's ``code``/``msg`` from ``retExtInfo``, Binance's ``code``/``msg``, OKX's
    ``sCode``/``sMsg``), or None when it carries none (a success). The native code decides as
    for a raised error (``NATIVE_CODES``), then ccxt's ``exceptions["exact"]`` table of the
    client (``exact``), else a plain ``ExchangeError`` keeping code and message."""
    if not isinstance(info, Mapping):
        return None
    code = info.get("sCode")
    message = info.get("sMsg")
    if _no_code(code):
        code, message = info.get("code"), info.get("msg")
    if _no_code(code) or str(code) in ("0", "200"):
        return None
    text = message if isinstance(message, str) else ""
    entry = _native_entry(family, code, text)
    if entry is None and exact is not None:
        found = exact.get(str(code))
        if isinstance(found, type):
            for klass in found.__mro__:
                if klass.__name__ in CLASS_MAP:
                    entry = CLASS_MAP[klass.__name__]
                    break
    cls, hint = entry if entry is not None else (e.ExchangeError, None)
    return cls(text, exchange=exchange, code=code, hint=hint, endpoint=endpoint)
