"""Binance error normalisation: ``{"code", "msg"}`` bodies and HTTP statuses into the error tree.

Codes and messages: https://developers.binance.com/docs/binance-spot-api-docs/errors (spot) and
https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code (USD-M); HTTP
statuses: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/http-return-codes.
"Codes are universal, but messages can vary", so classification is by ``code``; only the codes
Binance defines by their message (``-2010`` NEW_ORDER_REJECTED, ``-2011`` CANCEL_REJECTED,
``-1003`` TOO_MANY_REQUESTS) also look at ``msg``. The table is scoped by market: spot
``-2021``/``-2022`` are cancel-replace failures while futures ``-2021``/``-2022`` are
would-trigger and reduce-only rejections.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from exchanges import errors as e
from exchanges.error_codes import Entry, listed_code, unlisted_code

__all__ = ["FUTURES", "SHARED", "SPOT", "MarketKind", "error_for_code", "error_for_http"]

MarketKind = Literal["spot", "usdm"]

# code -> (class, hint or None for the class default, retryable override or None)

_UNKNOWN_OUTCOME = (
    "Binance says the execution status is unknown: reads are retried; an order is looked up by "
    "its client order id before anything is resent."
)

#: Codes with the same meaning on spot and USD-M (the USD-M error page repeats the 10xx/11xx).
SHARED: MappingProxyType[int, Entry] = MappingProxyType(
    {
        -1000: (
            e.ExchangeNotAvailable,
            "Binance hit an unknown internal error. " + _UNKNOWN_OUTCOME,
            True,
        ),
        -1001: (e.ExchangeNotAvailable, "Binance's internal connection dropped; retry.", True),
        -1002: (
            e.PermissionDenied,
            "Binance says the key is not authorised for this request: enable the permission "
            "the endpoint needs on the key.",
            None,
        ),
        -1003: (e.RateLimitExceeded, None, None),
        -1006: (e.ExchangeNotAvailable, _UNKNOWN_OUTCOME, True),
        -1007: (e.ExchangeNotAvailable, _UNKNOWN_OUTCOME, True),
        -1013: (
            e.InvalidOrder,
            "A symbol filter refused the order (the message names it: LOT_SIZE → amount_step, "
            "PRICE_FILTER → price_step, NOTIONAL/MIN_NOTIONAL → min_notional of the Market).",
            None,
        ),
        -1014: (e.InvalidOrder, "Binance does not support this combination of order fields.", None),
        -1015: (e.RateLimitExceeded, "Too many new orders: slow down order placement.", None),
        -1016: (
            e.ExchangeNotAvailable,
            "Binance is shutting this service down; retry later.",
            True,
        ),
        -1020: (e.NotSupported, "Binance does not support this operation here.", None),
        -1021: (e.ClockSkew, None, None),
        -1022: (e.InvalidSignature, None, None),
        -1100: (e.BadRequest, "A parameter holds characters Binance does not allow.", None),
        -1101: (e.BadRequest, "Too many parameters for this endpoint.", None),
        -1102: (
            e.BadRequest,
            "A mandatory parameter is missing or malformed (see the message).",
            None,
        ),
        -1103: (e.BadRequest, "Binance does not know a parameter that was sent.", None),
        -1104: (e.BadRequest, "Binance did not read every parameter that was sent.", None),
        -1105: (e.BadRequest, "A parameter was sent empty.", None),
        -1106: (e.BadRequest, "A parameter was sent that this request does not take.", None),
        -1108: (e.BadRequest, "A parameter value overflowed.", None),
        -1111: (
            e.InvalidOrder,
            "The amount or price has more decimals than the market allows (Market.amount_step, "
            "Market.price_step).",
            None,
        ),
        -1112: (e.InvalidOrder, "There are no orders on the book for this symbol.", None),
        -1114: (e.BadRequest, "time_in_force is not allowed for this order type.", None),
        -1115: (e.BadRequest, "Invalid time_in_force.", None),
        -1116: (e.BadRequest, "Invalid order type.", None),
        -1117: (e.BadRequest, "Invalid side.", None),
        -1118: (e.BadRequest, "The new client order id was empty.", None),
        -1119: (e.BadRequest, "The original client order id was empty.", None),
        -1120: (e.BadRequest, "Invalid interval: use a timeframe Binance lists (1m … 1M).", None),
        -1121: (e.BadSymbol, None, None),
        -1122: (e.BadSymbol, "The symbol is not trading (halted, delisted or pre-trading).", None),
        -1125: (e.BadRequest, "The listen key does not exist.", None),
        -1127: (e.BadRequest, "The time range is too long for this endpoint.", None),
        -1128: (e.BadRequest, "These optional parameters cannot be combined.", None),
        -1130: (e.BadRequest, "A parameter value is invalid (see the message).", None),
        -1131: (e.BadRequest, "recvWindow must not exceed 60000 ms.", None),
        -2013: (e.OrderNotFound, None, None),
        -2014: (
            e.InvalidApiKey,
            "Binance could not read the API key: check X-MBX-APIKEY holds the whole key, "
            "without spaces or quotes.",
            None,
        ),
        -2015: (e.InvalidApiKey, None, None),
        -2026: (e.OrderNotFound, "The order is over 90 days old and archived by Binance.", None),
    }
)

#: Spot-only meanings (-2021/-2022 are cancelReplace failures on spot).
SPOT: MappingProxyType[int, Entry] = MappingProxyType(
    {
        -1008: (e.ExchangeNotAvailable, "Binance spot is overloaded; retried with backoff.", True),
        -2021: (
            e.InvalidOrder,
            "The cancel-replace partly failed: check which of the cancel and the new order "
            "happened with fetch_order before acting again.",
            None,
        ),
        -2022: (e.InvalidOrder, "The cancel-replace failed; nothing changed.", None),
    }
)

#: USD-M-only meanings (its error-code page, and its "General Info" page for -1008).
FUTURES: MappingProxyType[int, Entry] = MappingProxyType(
    {
        # "Request throttled by system-level protection ... means failure": safe to resend.
        -1008: (e.RateLimitExceeded, "Binance futures throttled the request; it is retried.", True),
        -1023: (e.BadRequest, "The start time is after the end time.", None),
        -1099: (
            e.AuthenticationError,
            "Binance futures answered 'not found, unauthenticated, or unauthorized': check the "
            "key, its futures permission and the path.",
            None,
        ),
        -2017: (e.AccountRestricted, "The key is locked on this account.", None),
        -2018: (e.InsufficientFunds, None, None),
        -2019: (e.InsufficientFunds, "Not enough margin for this order.", None),
        -2020: (e.InvalidOrder, "The order could not be filled.", None),
        -2021: (e.InvalidOrder, "The order would trigger immediately.", None),
        -2022: (
            e.InvalidOrder,
            "The reduce-only order was rejected: it would open or increase a position.",
            None,
        ),
        -2024: (e.InvalidOrder, "The position is smaller than the order.", None),
        -2025: (e.InvalidOrder, "Too many open orders on this symbol.", None),
        -4003: (e.InvalidOrder, "The quantity must be positive.", None),
        -4014: (e.InvalidOrder, "The price is not a multiple of Market.price_step.", None),
        -4023: (e.InvalidOrder, "The quantity is not a multiple of Market.amount_step.", None),
        -4028: (
            e.BadRequest,
            "The leverage is not valid for this symbol: a whole number from 1 to its maximum "
            "(the first bracket's initialLeverage of /fapi/v1/leverageBracket).",
            None,
        ),
        # Margin type and position mode ("Error Codes"; -4046 and -4059 are success in modes.py).
        -4046: (e.BadRequest, "Nothing changed: the margin type is already set.", None),
        -4047: (
            e.BadRequest,
            "The margin type cannot change while the symbol has open orders: cancel them first.",
            None,
        ),
        -4048: (
            e.BadRequest,
            "The margin type cannot change while the symbol has a position: close it first.",
            None,
        ),
        -4059: (e.BadRequest, "Nothing changed: the position mode is already set.", None),
        -4061: (
            e.InvalidOrder,
            "The order's positionSide does not match the position mode (LONG/SHORT in hedge "
            "mode, BOTH in one-way mode).",
            None,
        ),
        -4067: (
            e.BadRequest,
            "The position mode cannot change while any symbol has open orders: cancel them first.",
            None,
        ),
        -4068: (
            e.BadRequest,
            "The position mode cannot change while any symbol has a position: close them first.",
            None,
        ),
        -4116: (e.DuplicateOrderId, None, None),
        -4164: (e.InvalidOrder, "The order's notional is below Market.min_notional.", None),
        -4168: (
            e.BadRequest,
            "Isolated margin is not available in Multi-Assets mode: switch that off first.",
            None,
        ),
        -5021: (
            e.OrderNotFillable,
            "The FOK order could not be filled in full and was rejected.",
            None,
        ),
        -5022: (
            e.OrderImmediatelyFillable,
            "The post-only order would have taken liquidity and was rejected: move the price "
            "away from the other side of the book.",
            None,
        ),
        -5027: (e.InvalidOrder, "The modification changes nothing.", None),
        # "The goodTillDate timestamp must be greater than the current time plus 600 seconds
        # and smaller than 253402300799000" (Error Codes, USD-M).
        -5040: (
            e.InvalidOrder,
            "A GTD order's good_till must be more than 600 s after Binance's current time.",
            None,
        ),
    }
)

# -2010 NEW_ORDER_REJECTED and -2011 CANCEL_REJECTED carry their reason in ``msg``:
# lowercase fragments of the messages Binance lists, matched as substrings.
_BY_MESSAGE: tuple[tuple[str, type[e.ExchangeError], str | None], ...] = (
    ("insufficient balance", e.InsufficientFunds, None),
    ("duplicate order", e.DuplicateOrderId, None),
    ("unknown order", e.OrderNotFound, None),
    (
        "would immediately match and take",
        e.OrderImmediatelyFillable,
        "The post-only (LIMIT_MAKER) order would have taken liquidity: move the price away "
        "from the other side of the book.",
    ),
    (
        "would trigger immediately",
        e.InvalidOrder,
        "The last price has already reached the stop price: a stop that fires as the price "
        "rises must be above the last price, one that fires as it falls below it (check "
        "trigger_direction).",
    ),
    ("market is closed", e.InvalidOrder, "The market is closed; wait until it trades again."),
    (
        "not permitted for this account",
        e.AccountRestricted,
        "This account may not trade this symbol (region or account type).",
    ),
    (
        "restricted for this account",
        e.AccountRestricted,
        "This account may not trade this symbol (region or account type).",
    ),
    (
        "rest api trading is not enabled",
        e.PermissionDenied,
        "Trading over the REST API is disabled for this account: enable it on Binance.",
    ),
    (
        "may not place or cancel orders",
        e.AccountRestricted,
        "Binance has disabled trading for this account; contact Binance support.",
    ),
    ("price * qty is zero or less", e.InvalidOrder, "Price × amount must be positive."),
)

_ENV_HOSTS = {
    "mainnet": "mainnet (api.binance.com / fapi.binance.com)",
    "testnet": "the testnet (testnet.binance.vision / demo-fapi.binance.com)",
    "demo": "demo mode (demo-api.binance.com / demo-fapi.binance.com)",
}

_BAN_UNTIL = re.compile(r"banned until (\d{12,14})")


def _key_hint(env: str) -> str:
    where = _ENV_HOSTS.get(env, env)
    return (
        f"Binance refused the key on {where}. Binance answers -2015 for three causes: the key "
        "is unknown here, the request's IP is not on the key's whitelist, or the key lacks the "
        "permission for this endpoint. Keys of mainnet, the testnet "
        "(testnet.binance.vision) and demo mode (demo.binance.com) are separate: create the "
        "key in the environment you connect to, add this machine's IP to its whitelist, and "
        "enable 'Spot & Margin Trading' or 'Futures' on it for orders."
    )


def _table(market: MarketKind) -> Mapping[int, Entry]:
    return SPOT if market == "spot" else FUTURES


def _lookup(code: int, message: str, market: MarketKind) -> Entry | None:
    entry = _table(market).get(code) or SHARED.get(code)
    if entry is not None:
        return entry
    if code in (-2010, -2011):
        text = message.lower()
        for fragment, cls, hint in _BY_MESSAGE:
            if fragment in text:
                return cls, hint, None
        if code == -2011:
            return e.InvalidOrder, "Binance refused to cancel the order (see the message).", None
        return e.InvalidOrder, "Binance refused the new order (see the message).", None
    return None


def error_for_code(
    code: int,
    message: str,
    *,
    market: MarketKind,
    env: str,
    http_status: int | None,
    endpoint: str | None,
    retry_after: float | None = None,
) -> e.ExchangeError:
    """The normalised error for a Binance ``code`` (unknown codes keep code and message)."""
    common: dict[str, Any] = {
        "exchange": "binance",
        "code": code,
        "http_status": http_status,
        "endpoint": endpoint,
    }
    if http_status in (418, 429) or code == -1003:
        return _rate_limited(message, http_status, retry_after, common)
    entry = _lookup(code, message, market)
    if entry is None:
        return unlisted_code(
            message,
            exchange="binance",
            venue="Binance",
            code=code,
            http_status=http_status,
            endpoint=endpoint,
        )
    cls, hint, retryable = entry
    if code == -2015:
        hint = _key_hint(env)
    return listed_code(
        cls,
        message,
        exchange="binance",
        code=code,
        hint=hint,
        retryable=retryable,
        http_status=http_status,
        endpoint=endpoint,
        retry_after=retry_after,
    )


def _rate_limited(
    message: str, status: int | None, retry_after: float | None, common: dict[str, Any]
) -> e.RateLimitExceeded:
    # 418 is an IP ban "from 2 minutes to 3 days" after ignoring 429s ("LIMITS"): never retried.
    ban = _BAN_UNTIL.search(message)
    if status == 418 or ban is not None:
        return e.RateLimitExceeded(
            message,
            retry_after=retry_after,
            retryable=False,
            hint="Binance banned this IP for ignoring 429s (HTTP 418; bans last 2 minutes to 3 "
            "days). Stop every client on this IP until Retry-After has passed.",
            **common,
        )
    return e.RateLimitExceeded(
        message,
        retry_after=retry_after,
        hint="Binance's request-weight or order-count limit was hit (HTTP 429): the client "
        "waits Retry-After seconds; keep going after a 429 and Binance bans the IP (418).",
        **common,
    )


def error_for_http(
    status: int,
    body: bytes,
    *,
    market: MarketKind,
    endpoint: str | None,
    retry_after: float | None = None,
) -> e.ExchangeError:
    """The normalised error for a response whose body is not Binance's ``{code, msg}`` JSON."""
    snippet = _snippet(body)
    common: dict[str, Any] = {"exchange": "binance", "http_status": status, "endpoint": endpoint}
    if status in (418, 429):
        return _rate_limited(f"HTTP {status}: {snippet}", status, retry_after, common)
    if status == 403:
        # "HTTP Return Codes": the WAF's 403 "can indicate a rate limit violation or a security
        # block".
        return e.RateLimitExceeded(
            f"HTTP 403 Forbidden: {snippet}",
            retry_after=retry_after,
            retryable=False,
            hint="Binance's web application firewall refused the request (a rate-limit "
            "violation or a security rule: avoid SQL keywords in parameters). It is not "
            "retried: slow down, check the parameters, and try again later.",
            **common,
        )
    if status == 408 or status >= 500:
        # "HTTP Return Codes": 5XX "execution status is UNKNOWN"; futures 408 is a backend timeout.
        return e.ExchangeNotAvailable(f"HTTP {status}: {snippet}", hint=_UNKNOWN_OUTCOME, **common)
    if status == 401:
        return e.AuthenticationError(
            f"HTTP 401: {snippet}",
            hint="Binance did not accept the credentials; check the key and its environment.",
            **common,
        )
    if status == 404:
        return e.BadRequest(
            f"HTTP 404: {snippet}",
            hint="No such Binance endpoint on this host (spot /api, /sapi and futures /fapi "
            "live on different hosts outside the emulator).",
            **common,
        )
    if 400 <= status < 500:
        return e.BadRequest(f"HTTP {status}: {snippet}", **common)
    return e.BadResponse(
        f"HTTP {status} with a body that is not Binance's JSON: {snippet}", **common
    )


def _snippet(body: bytes, limit: int = 160) -> str:
    text = " ".join(body[:limit].decode("utf-8", "replace").split())
    return (text + "…") if len(body) > limit else (text or "(empty body)")
