"""OKX v5 error normalisation: one table from ``code``/``sCode`` (and HTTP status) to the tree.

Codes, messages and HTTP statuses: OKX's error table
(https://www.okx.com/docs-v5/en/#error-code-rest-api-public, as published 2026-07-20). Codes not in
that table are marked [ccxt] and follow ccxt 4.5.90's ``okx.exceptions`` table
(https://github.com/ccxt/ccxt, python/ccxt/okx.py). Codes are strings on OKX's wire and stay strings
here.

Precedence ("sCode" in the response of
https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order): a response whose
``data`` items carry ``sCode`` reports its result there, so the first failing item's
``sCode``/``sMsg`` wins over the top-level ``code``/``msg`` (``code "1"`` only says "operation
failed"); ``subCode`` ("51008" + "1000" is the table's ``51008_1000``) is kept in the message, never
used to classify.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from exchanges import errors as e
from exchanges.error_codes import Entry, listed_code, unlisted_code

__all__ = [
    "CODES",
    "error_for_code",
    "error_for_http",
    "item_error",
    "item_errors",
    "retry_after_seconds",
]


_UNKNOWN_OUTCOME = (
    "OKX says the request timed out and that this does not mean it failed: the order may "
    "exist. Orders are looked up by client order id before anything is resent."
)

# code -> (class, hint or None for the class default, retryable override or None)
CODES: MappingProxyType[str, Entry] = MappingProxyType(
    {
        # -- general --------------------------------------------------------------------------
        "1": (e.ExchangeError, "OKX says the operation failed without saying why.", None),
        "50000": (e.BadRequest, "A POST needs a JSON body.", None),
        "50001": (e.ExchangeNotAvailable, "OKX's service is temporarily unavailable.", True),
        "50002": (e.BadRequest, "OKX could not parse the JSON body.", None),
        "50004": (e.ExchangeNotAvailable, _UNKNOWN_OUTCOME, True),
        "50005": (e.ExchangeNotAvailable, "OKX says this endpoint is inactive.", False),
        "50006": (e.BadRequest, "OKX wants Content-Type: application/json.", None),
        "50007": (e.AccountRestricted, "OKX has blocked the account.", None),  # [ccxt]
        "50009": (e.AccountRestricted, "The account is suspended (liquidation).", None),  # [ccxt]
        "50011": (e.RateLimitExceeded, None, None),
        "50013": (e.ExchangeNotAvailable, "OKX's systems are busy.", True),
        "50014": (e.BadRequest, "A required parameter is missing; the message names it.", None),
        "50015": (e.BadRequest, "One of two parameters is required; the message names them.", None),
        "50024": (e.BadRequest, "Two parameters may not be sent together.", None),  # [ccxt]
        "50026": (e.ExchangeNotAvailable, "OKX had a system error.", True),
        "50027": (e.AccountRestricted, "The account may not trade.", None),  # [ccxt]
        "50030": (e.PermissionDenied, "The key may not use this endpoint.", None),
        "50035": (
            e.PermissionDenied,
            "This endpoint only accepts keys bound to IP addresses: bind the key to your "
            "servers' IPs on OKX.",
            None,
        ),
        "50038": (e.NotSupported, "OKX's demo trading does not offer this.", None),
        "50061": (e.RateLimitExceeded, "The account's order rate limit was reached.", None),
        # -- API key and auth -----------------------------------------------------------------
        "50100": (e.AuthenticationError, "OKX froze the API key: contact OKX support.", None),
        "50101": (e.InvalidApiKey, None, None),  # hint by environment: see _hint
        "50102": (e.ClockSkew, None, None),
        "50103": (e.AuthenticationError, "The OK-ACCESS-KEY header was empty.", None),
        "50104": (
            e.AuthenticationError,
            "The passphrase was missing: pass Credentials(..., passphrase=...).",
            None,
        ),
        "50105": (
            e.AuthenticationError,
            "OKX says the passphrase is incorrect (not missing): use the passphrase chosen when "
            "this API key was created; it is not the account's login or trading password.",
            None,
        ),
        "50106": (e.AuthenticationError, "The OK-ACCESS-SIGN header was empty.", None),
        "50107": (e.AuthenticationError, "The OK-ACCESS-TIMESTAMP header was empty.", None),
        "50110": (e.IpNotAllowed, None, None),
        "50111": (e.InvalidApiKey, None, None),
        "50112": (
            e.AuthenticationError,
            "OKX could not read OK-ACCESS-TIMESTAMP: it must be ISO-8601 UTC with milliseconds "
            "(2020-12-08T09:08:57.715Z), not Unix milliseconds.",
            None,
        ),
        "50113": (e.InvalidSignature, None, None),
        "50114": (e.AuthenticationError, "OKX refused the authorization.", None),
        "50115": (e.BadRequest, "OKX does not accept this HTTP method here.", None),
        "50119": (e.InvalidApiKey, "OKX does not know this API key.", None),
        "50120": (e.PermissionDenied, "Enable the Trade permission on the key.", None),
        "50121": (e.AccountRestricted, "OKX refuses access from this IP address or region.", None),
        # -- trading --------------------------------------------------------------------------
        "51000": (e.BadRequest, "A parameter is invalid; the message names it.", None),
        "51001": (e.BadSymbol, None, None),
        "51003": (e.BadRequest, "Give an order id or a client order id.", None),  # [ccxt]
        "51004": (e.InvalidOrder, "The amount exceeds the current tier's limit.", None),  # [ccxt]
        "51006": (e.InvalidOrder, "The price is outside the allowed band.", None),  # [ccxt]
        "51008": (e.InsufficientFunds, None, None),
        "51010": (e.AccountRestricted, "The account mode does not allow this.", None),  # [ccxt]
        "51011": (e.InvalidOrder, "OKX saw this order id twice.", None),  # [ccxt]
        "51012": (e.BadSymbol, "No such currency.", None),  # [ccxt]
        "51015": (e.BadSymbol, "The instrument does not match the instrument type.", None),
        # ccxt's okx table: "Duplicated client order ID" (https://github.com/ccxt/ccxt).
        "51016": (e.DuplicateOrderId, None, None),
        "51020": (e.InvalidOrder, "The amount is below the minimum (Market.min_amount).", None),
        "51024": (e.AccountRestricted, "The trading account is blocked.", None),  # [ccxt]
        # "maximum {n} orders in bulk": the library splits batches at 20 before sending.
        "51111": (e.BadRequest, "Too many orders in one batch (20 at most).", None),
        "51119": (e.InsufficientFunds, None, None),  # [ccxt]
        "51121": (
            e.InvalidOrder,
            "The amount is not a multiple of the lot size (Market.amount_step).",
            None,
        ),
        "51127": (e.InsufficientFunds, None, None),  # [ccxt]
        "51131": (e.InsufficientFunds, None, None),
        "51149": (e.ExchangeNotAvailable, _UNKNOWN_OUTCOME, True),
        "51155": (e.AccountRestricted, "Local compliance rules block this pair.", None),  # [ccxt]
        "51148": (
            e.InvalidOrder,
            "The reduce-only order is larger than the position it may reduce (OKX refuses it "
            "whole, it is not trimmed).",
            None,
        ),
        "51169": (
            e.InvalidOrder,
            "The reduce-only order has no position in this direction to reduce.",
            None,
        ),
        "51170": (
            e.InvalidOrder,
            "A reduce-only order must go against the position, not with it.",
            None,
        ),
        "51400": (
            e.OrderNotFound,
            "The order is already filled or cancelled, or does not exist.",
            None,
        ),
        "51401": (e.OrderNotFound, "The order is already cancelled.", None),
        "51402": (e.OrderNotFound, "The order is already completed.", None),
        "51410": (e.InvalidOrder, "The order is already being cancelled.", None),  # [ccxt]
        "51502": (e.InsufficientFunds, None, None),  # [ccxt]
        "51503": (e.OrderNotFound, "The order is already filled or cancelled.", None),
        "51509": (e.OrderNotFound, "The order was already cancelled.", None),  # [ccxt]
        "51603": (e.OrderNotFound, None, None),
        # -- algo orders and TP/SL ("Error codes", Trade section) -----------------------------
        "51065": (e.DuplicateOrderId, "This algoClOrdId is already in use.", None),
        "51088": (
            e.InvalidOrder,
            "A position takes one TP/SL order closing it whole (closeFraction): cancel the "
            "other first.",
            None,
        ),
        "51100": (e.InvalidOrder, "A reduce-only order cannot carry TP/SL.", None),
        "51277": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price.", None),
        "51278": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price.", None),
        "51279": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price.", None),
        "51280": (e.InvalidOrder, "The TP/SL trigger is on the wrong side of the price.", None),
        "51327": (e.InvalidOrder, "closeFraction applies to TP/SL orders only.", None),
        "51328": (e.InvalidOrder, "closeFraction needs reduceOnly in net mode.", None),
        "51329": (e.InvalidOrder, "closeFraction orders execute at market.", None),
        "54070": (
            e.InvalidOrder,
            "OKX takes TP/SL on an order only in attachAlgoOrds.",
            None,
        ),
        # -- account: position mode ("Error codes", Account section) --------------------------
        "59000": (
            e.BadRequest,
            "The setting cannot change while positions or open orders exist: close and cancel "
            "them first.",
            None,
        ),
        # -- account: set-leverage ("Error codes", Account section) ----------------------------
        "59102": (
            e.BadRequest,
            "The leverage is above the instrument's maximum (Market.raw 'lever').",
            None,
        ),
        "59105": (e.BadRequest, "The leverage is below the minimum (1).", None),
    }
)

_ENVIRONMENTS = {
    "mainnet": "live trading (no x-simulated-trading header)",
    "demo": "demo trading (header x-simulated-trading: 1)",
}


def _hint(code: str, default: str | None, env: str) -> str | None:
    if code == "50101":
        used = _ENVIRONMENTS.get(env, env)
        other = (
            "env='demo' with a demo key" if env == "mainnet" else "env='mainnet' with a live key"
        )
        return (
            f"The request went to OKX {used}, and OKX says the key belongs to the other "
            "environment. Live and demo keys are separate: demo keys are created under Trade → "
            "Demo Trading → Personal Center → Demo Trading API and read from OKX_DEMO_API_KEY / "
            f"_API_SECRET / _API_PASSPHRASE; connect with {other}."
        )
    if code == "50111":
        return (
            "OKX does not know this key. Live and demo keys are separate: a demo key needs "
            "env='demo', a live key env='mainnet'."
        )
    return default


def error_for_code(
    code: str,
    message: str,
    *,
    env: str,
    http_status: int | None,
    endpoint: str | None,
    sub_code: str | None = None,
    retry_after: float | None = None,
) -> e.ExchangeError:
    """The normalised error for a non-zero OKX ``code`` or ``sCode`` (unknown codes kept as is)."""
    if "_" in code and not sub_code:
        # OKX's error table writes sub-codes as "51008_1000"; accept that spelling too.
        code, _, sub_code = code.partition("_")
    text = f"{message} (subCode {sub_code})" if sub_code else message
    entry = CODES.get(code)
    if entry is None:
        return unlisted_code(
            text,
            exchange="okx",
            venue="OKX",
            code=code,
            http_status=http_status,
            endpoint=endpoint,
        )
    cls, hint, retryable = entry
    if code == "51000":
        cls, hint = _params_error(message, cls, hint)
    return listed_code(
        cls,
        text,
        exchange="okx",
        code=code,
        hint=_hint(code, hint, env),
        retryable=retryable,
        http_status=http_status,
        endpoint=endpoint,
        retry_after=retry_after,
    )


# 51000 "Parameter {0} error" names the parameter: an order's own fields make it a refused
# order, whatever else it names stays a bad request.
_ORDER_PARAMETERS = {
    "px": "The price is not valid for this instrument (Market.price_step).",
    "sz": "The amount is not valid for this instrument (Market.amount_step, min_amount).",
    "newpx": "The new price is not valid for this instrument (Market.price_step).",
    "newsz": "The new amount is not valid for this instrument (Market.amount_step).",
    "posside": "The order's posSide does not match the position mode (long or short in "
    "long/short mode, net otherwise).",
}


def _params_error(
    message: str, cls: type[e.ExchangeError], hint: str | None
) -> tuple[type[e.ExchangeError], str | None]:
    words = message.lower().replace(":", " ").split()
    if len(words) >= 2 and words[0] == "parameter" and words[1] in _ORDER_PARAMETERS:
        return e.InvalidOrder, _ORDER_PARAMETERS[words[1]]
    return cls, hint


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def item_error(
    item: Any, *, env: str, http_status: int | None, endpoint: str | None
) -> e.ExchangeError | None:
    """The error of one ``data`` item (``sCode``/``sMsg``/``subCode``), or None if it succeeded."""
    if not isinstance(item, Mapping):
        return None
    code = _text(item.get("sCode"))
    if code in ("", "0"):
        return None
    return error_for_code(
        code,
        _text(item.get("sMsg")),
        env=env,
        http_status=http_status,
        endpoint=endpoint,
        sub_code=_text(item.get("subCode")) or None,
    )


def item_errors(
    items: Any, *, env: str, http_status: int | None = 200, endpoint: str | None = None
) -> list[e.ExchangeError | None]:
    """Per-item results of a batch (``None`` where an item succeeded), aligned with ``data``."""
    if not isinstance(items, list):
        return []
    return [item_error(i, env=env, http_status=http_status, endpoint=endpoint) for i in items]


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``Retry-After`` in seconds when present and numeric (OKX does not document one)."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    # "inf" and "nan" parse as floats: neither is a wait.
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def error_for_http(
    status: int, body: bytes, *, endpoint: str | None, retry_after: float | None = None
) -> e.ExchangeError:
    """The normalised error for a response whose body is not OKX's JSON envelope."""
    snippet = _snippet(body)
    common: dict[str, Any] = {"exchange": "okx", "http_status": status, "endpoint": endpoint}
    if status == 429:
        return e.RateLimitExceeded(
            f"HTTP 429: {snippet}",
            retry_after=retry_after,
            hint="OKX's rate limit (50011 comes as HTTP 429 too); the client backs off.",
            **common,
        )
    if status == 401:
        return e.AuthenticationError(f"HTTP 401: {snippet}", **common)
    if status == 403:
        return e.AccountRestricted(
            f"HTTP 403: {snippet}",
            hint="OKX or its CDN refused the request: a blocked region or IP. OKX serves some "
            "regions from their own hosts (region='eea' or region='us').",
            **common,
        )
    if status in (404, 405):
        return e.BadRequest(f"HTTP {status}: {snippet}", hint="No such OKX v5 route.", **common)
    if status == 410:
        return e.ExchangeNotAvailable(
            f"HTTP 410: {snippet}",
            hint="OKX says this endpoint is inactive.",
            retryable=False,
            **common,
        )
    if status >= 500:
        return e.ExchangeNotAvailable(f"HTTP {status}: {snippet}", **common)
    if status == 400:
        return e.BadRequest(f"HTTP 400: {snippet}", **common)
    return e.BadResponse(f"HTTP {status} with a body that is not OKX's JSON: {snippet}", **common)


def _snippet(body: bytes, limit: int = 160) -> str:
    text = " ".join(body[:limit].decode("utf-8", "replace").split())
    return (text + "…") if len(body) > limit else (text or "(empty body)")
