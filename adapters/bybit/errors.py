"""Bybit v5 error normalisation: one table from retCode (and HTTP status) to the error tree.

Codes, meanings and retry advice: Bybit v5 docs "Error Codes"
(https://bybit-exchange.github.io/docs/v5/error, source ``error.mdx`` at commit 072c197d of
https://github.com/bybit-exchange/docs) and real captures. Classification uses ``retCode`` only:
Bybit's ``retMsg`` wording has changed over time and differs from the docs.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from exchanges import errors as e
from exchanges.error_codes import Entry, listed_code, unlisted_code

__all__ = ["CODES", "error_for_code", "error_for_http", "item_errors"]

# code -> (class, hint or None for the class default, retryable override or None)
CODES: MappingProxyType[int, Entry] = MappingProxyType(
    {
        # -- common and auth (error.mdx "General") -------------------------------------------
        -1: (e.ClockSkew, "The request expired before Bybit processed it; it is resent.", None),
        429: (e.ExchangeNotAvailable, "Bybit's trading service is under high load.", True),
        -2015: (e.ApiKeyExpired, None, None),
        33004: (e.ApiKeyExpired, None, None),
        5004: (e.ExchangeNotAvailable, "Bybit timed out internally.", True),
        10000: (e.ExchangeNotAvailable, "Bybit timed out internally.", True),
        10001: (
            e.BadRequest,
            "A parameter is missing or invalid (Bybit also uses 10001 for some business "
            "rejections); the message names it.",
            None,
        ),
        10002: (e.ClockSkew, None, None),
        10003: (e.InvalidApiKey, None, None),
        10004: (e.InvalidSignature, None, None),
        10005: (
            e.PermissionDenied,
            "The key lacks the permission for this endpoint (read-only key, or trading scope "
            "of the category missing). Bybit also answers 10005 for an invalid category.",
            None,
        ),
        10006: (e.RateLimitExceeded, None, None),
        10007: (e.AuthenticationError, "Bybit could not authenticate the request.", None),
        10008: (e.AccountRestricted, "The account is banned or in the wrong account mode.", None),
        10009: (
            e.AccountRestricted,
            "Bybit restricts access from your region (before 2026-05 this code meant an IP ban).",
            None,
        ),
        10010: (e.IpNotAllowed, None, None),
        10014: (e.BadRequest, "Bybit saw this exact request twice.", None),
        10016: (e.ExchangeNotAvailable, "Bybit had an internal error.", True),
        10017: (e.BadRequest, "No such route or method on Bybit v5.", None),
        10018: (
            e.RateLimitExceeded,
            "The IP rate limit was exceeded; stop all sessions for at least 10 minutes.",
            False,
        ),
        10020: (e.AccountRestricted, "The account is not a unified trading account.", None),
        10024: (e.AccountRestricted, "Compliance rules blocked the request.", None),
        10027: (e.AccountRestricted, "Trading is banned for this account.", None),
        10028: (e.AccountRestricted, "This endpoint is for unified trading accounts only.", None),
        10029: (e.BadSymbol, "The key's symbol whitelist does not include this symbol.", None),
        100028: (e.AccountRestricted, "This endpoint is not for unified trading accounts.", None),
        30035: (e.RateLimitExceeded, "Options: cancelling too fast.", True),
        # -- trade, derivatives and UTA (error.mdx "UTA") -------------------------------------
        110001: (e.OrderNotFound, None, None),
        110003: (e.InvalidOrder, "The price is outside the allowed band.", None),
        110004: (e.InsufficientFunds, None, None),
        110005: (e.InvalidOrder, "The position's status does not allow this.", None),
        110006: (e.InsufficientFunds, "The assets cannot cover the position margin.", None),
        110007: (e.InsufficientFunds, None, None),
        110008: (e.OrderNotFound, "The order is already filled or cancelled.", None),
        110009: (e.InvalidOrder, "Too many stop orders.", None),
        110010: (e.OrderNotFound, "The order was already cancelled.", None),
        110012: (e.InsufficientFunds, None, None),
        110013: (
            e.BadRequest,
            "The leverage is not allowed at the position's risk limit level (above the "
            "symbol's maximum).",
            None,
        ),
        110014: (e.InsufficientFunds, None, None),
        110017: (
            e.InvalidOrder,
            "Reduce-only rule not met: the order would open or increase a position, or the "
            "quantity rounds to zero.",
            None,
        ),
        110020: (e.InvalidOrder, "At most 500 active orders per symbol.", None),
        110021: (e.InvalidOrder, "The position limit (open interest) would be exceeded.", None),
        110024: (
            e.BadRequest,
            "The position mode cannot change while the symbol has a position: close it first.",
            None,
        ),
        110025: (e.BadRequest, "Nothing changed: the position mode is already set.", None),
        110026: (e.BadRequest, "Nothing changed: the margin mode is already set.", None),
        110028: (
            e.BadRequest,
            "The position mode cannot change while the symbol has open orders: cancel them first.",
            None,
        ),
        110029: (
            e.NotSupported,
            "Hedge mode is not offered for this symbol (USDT perpetuals only).",
            None,
        ),
        110043: (e.BadRequest, "Nothing changed: the leverage is already set.", None),
        110044: (e.InsufficientFunds, None, None),
        110045: (e.InsufficientFunds, None, None),
        110072: (e.DuplicateOrderId, None, None),
        110079: (
            e.InvalidOrder,
            "The order is being processed; the request is retried shortly.",
            True,
        ),
        110086: (
            e.BadRequest,
            "The leverage is above the maximum of the current risk tier.",
            None,
        ),
        110092: (e.InvalidOrder, "The trigger price is on the wrong side of the market.", None),
        110093: (e.InvalidOrder, "The trigger price is on the wrong side of the market.", None),
        110094: (e.InvalidOrder, "The order's notional value is below the minimum.", None),
        110100: (e.NotSupported, "Pre-market orders are not available in demo trading.", None),
        181017: (e.InvalidOrder, "The order must be in a final status.", None),
        # -- spot (error.mdx "Spot Trade") ---------------------------------------------------
        170001: (e.ExchangeNotAvailable, "Bybit had an internal error.", True),
        170005: (e.RateLimitExceeded, "Too many new spot orders.", None),
        170007: (e.ExchangeNotAvailable, "Bybit's backend timed out.", True),
        170121: (e.BadSymbol, None, None),
        170124: (e.InvalidOrder, "The order amount is too large.", None),
        170130: (e.BadRequest, None, None),
        170131: (e.InsufficientFunds, None, None),
        170132: (e.InvalidOrder, "The price is too high.", None),
        170133: (e.InvalidOrder, "The price is below the minimum.", None),
        170134: (e.InvalidOrder, "The price has too many decimals (see Market.price_step).", None),
        170136: (e.InvalidOrder, "The quantity is below the minimum (Market.min_amount).", None),
        170137: (
            e.InvalidOrder,
            "The quantity has too many decimals (see Market.amount_step).",
            None,
        ),
        170139: (e.OrderNotFound, "The order is already filled.", None),
        170140: (
            e.InvalidOrder,
            "The order value is below the minimum (Market.min_notional).",
            None,
        ),
        170141: (e.DuplicateOrderId, None, None),
        170142: (e.OrderNotFound, "The order was already cancelled.", None),
        170143: (e.OrderNotFound, "The order is not on the order book.", None),
        170193: (e.InvalidOrder, "A buy price may not be that high.", None),
        170194: (e.InvalidOrder, "A sell price may not be that low.", None),
        170209: (e.AccountRestricted, "The pair is not available in your region.", None),
        170210: (e.InvalidOrder, "Bybit rejected the new order.", None),
        170213: (e.OrderNotFound, None, None),
        170222: (e.RateLimitExceeded, None, None),
        170371: (e.InvalidOrder, "The price is below the price limit.", None),
        170372: (e.InvalidOrder, "The price is above the price limit.", None),
        170810: (e.InvalidOrder, "At most 500 conditional, TP/SL and active orders.", None),
    }
)

_ENV_HOSTS = {
    "mainnet": "mainnet (api.bybit.com)",
    "testnet": "testnet (api-testnet.bybit.com)",
    "demo": "demo trading (api-demo.bybit.com)",
}


def _hint(code: int, default: str | None, env: str) -> str | None:
    if code == 10003:
        where = _ENV_HOSTS.get(env, env)
        return (
            f"Bybit does not know this key on {where}. Keys of mainnet, testnet and demo "
            "trading are separate: create the key in the environment you connect to "
            "(testnet.bybit.com for testnet; Demo Trading on bybit.com for demo)."
        )
    return default


def error_for_code(
    code: int,
    message: str,
    *,
    env: str,
    http_status: int | None,
    endpoint: str | None,
    retry_after: float | None = None,
) -> e.ExchangeError:
    """The normalised error for a non-zero retCode (unknown codes keep code and message)."""
    entry = CODES.get(code)
    if entry is None:
        return unlisted_code(
            message,
            exchange="bybit",
            venue="Bybit",
            code=code,
            http_status=http_status,
            endpoint=endpoint,
        )
    cls, hint, retryable = entry
    if code == 10001:
        cls, hint = _params_error(message, cls, hint)
    return listed_code(
        cls,
        message,
        exchange="bybit",
        code=code,
        hint=_hint(code, hint, env),
        retryable=retryable,
        http_status=http_status,
        endpoint=endpoint,
        retry_after=retry_after,
    )


# 10001 is Bybit's generic "params error"; its message names what was wrong. These fragments
# (lowercase) name an order's own amount or price: the order was refused, not the request.
_ORDER_FRAGMENTS = (
    ("qty", "The amount is not valid for this market (Market.amount_step, min_amount)."),
    ("quantity", "The amount is not valid for this market (Market.amount_step, min_amount)."),
    ("number of contracts", "The amount is outside this market's limits (Market.min_amount)."),
    ("price", "The price is not valid for this market (Market.price_step)."),
    ("order value", "The order's value is below the minimum (Market.min_notional)."),
    ("zero position", "There is no open position: stops need one (set_trading_stop)."),
    ("tp/sl", "The stop-loss or take-profit is not valid for this order or position."),
    (
        "position idx",
        "The order's positionIdx does not match the symbol's position mode (1 or 2 in hedge "
        "mode, 0 in one-way mode).",
    ),
)


def _params_error(
    message: str, cls: type[e.ExchangeError], hint: str | None
) -> tuple[type[e.ExchangeError], str | None]:
    lowered = message.lower()
    for fragment, order_hint in _ORDER_FRAGMENTS:
        if fragment in lowered:
            return e.InvalidOrder, order_hint
    return cls, hint


def error_for_http(
    status: int, body: bytes, *, endpoint: str | None, retry_after: float | None = None
) -> e.ExchangeError:
    """The normalised error for a response whose body is not Bybit's JSON envelope."""
    snippet = _snippet(body)
    common: dict[str, Any] = {"exchange": "bybit", "http_status": status, "endpoint": endpoint}
    if status == 403:
        return e.RateLimitExceeded(
            f"HTTP 403 Forbidden: {snippet}",
            retry_after=600.0,
            retryable=False,
            hint="Bybit bans an IP for at least 10 minutes after too many requests (600 per 5 s), "
            "and blocks some regions (e.g. US IPs) with 403. Stop all sessions and wait; if it "
            "persists, your IP's region is blocked.",
            **common,
        )
    if status == 429:
        return e.RateLimitExceeded(
            f"HTTP 429: {snippet}",
            retry_after=retry_after,
            hint="Bybit's system-level frequency protection; the client backs off and retries.",
            **common,
        )
    if status == 401:
        return e.AuthenticationError(
            f"HTTP 401: {snippet}",
            hint="Bybit could not authenticate the request: check the key, and that the account "
            "type supports v5 for this category.",
            **common,
        )
    if status == 404:
        return e.BadRequest(
            f"HTTP 404: {snippet}",
            hint="Wrong path, or a category that does not match the account mode.",
            **common,
        )
    if status >= 500:
        return e.ExchangeNotAvailable(f"HTTP {status}: {snippet}", **common)
    if status == 400:
        return e.BadRequest(f"HTTP 400: {snippet}", **common)
    return e.BadResponse(
        f"HTTP {status} with a body that is not Bybit's JSON: {snippet}",
        **common,
    )


def _snippet(body: bytes, limit: int = 160) -> str:
    text = body[:limit].decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return (text + "…") if len(body) > limit else (text or "(empty body)")


def item_errors(data: Any, *, env: str, endpoint: str | None) -> list[e.ExchangeError | None]:
    """Per-item results of a batch endpoint (``retExtInfo.list``), aligned with ``result.list``.

    ``None`` marks an item that succeeded; the top-level retCode of a batch is 0 even when
    items fail (Bybit docs, batch-cancel example).
    """
    ext = data.get("retExtInfo") if isinstance(data, dict) else None
    items = ext.get("list") if isinstance(ext, dict) else None
    if not isinstance(items, list):
        return []
    out: list[e.ExchangeError | None] = []
    for item in items:
        code = item.get("code", 0) if isinstance(item, dict) else 0
        try:
            number = int(code)
        except (TypeError, ValueError):
            number = -999999
        if number == 0:
            out.append(None)
        else:
            message = str(item.get("msg", "")) if isinstance(item, dict) else json.dumps(item)
            out.append(error_for_code(number, message, env=env, http_status=200, endpoint=endpoint))
    return out
