"""Small readers every adapter's parsers share: the JSON body, envelope codes, required fields,
numbers, times, book levels and candles.

Each raises ``BadResponse`` naming the exchange when an answer lacks what its API documents or
holds a number no market has, so that a malformed answer never surfaces as ``KeyError``,
``TypeError``, ``RecursionError``, ``OverflowError`` or ``decimal.InvalidOperation``, and never
reaches a user as a model.

Numbers (``exchanges.decimals.dec``): strings and ints are read exactly; a JSON number that
arrived as a float is read through its shortest repr (``65000.1``), never its binary expansion;
``NaN``, infinities and magnitudes of 1e30 and above are refused everywhere. On top of that
prices are > 0 and sizes and volumes >= 0 where a reader says so (``need_price``,
``need_amount``, ``opt_amount``, ``numbers``, ``levels``, ``candle``); fields where 0 means
"none" (an unused limit, an order's average before any fill) are read with the >= 0 readers and
keep that meaning in the parsers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import repeat
from typing import Any

from exchanges.decimals import ZERO, dec, exact, opt_dec, shown
from exchanges.errors import BadResponse, ExchangeError
from exchanges.models import Candle, FundingRecord
from exchanges.wire import Response

__all__ = [
    "MAX_MS",
    "NUMBER_HINT",
    "candle",
    "decode_json",
    "endpoint_of",
    "envelope_code",
    "iso_ms",
    "levels",
    "loads_json",
    "ms",
    "need",
    "need_amount",
    "need_decimal",
    "need_ms",
    "need_price",
    "need_str",
    "numbers",
    "opt_amount",
    "opt_decimal",
    "yymmdd",
]

#: The last millisecond of year 9999: later times (and negative ones) are garbage, not dates.
MAX_MS = 253_402_300_799_999
#: The hint of a refused number: what the user can do about it.
NUMBER_HINT = (
    "The exchange sent a number no market has (NaN, an infinity, a negative size, a zero price "
    "or a magnitude of 1e30 or more); nothing was built from it. Retry later, and report it "
    "(with the log) if it persists."
)
#: The hint of a body that is not JSON at all.
_NOT_JSON_HINT = (
    "The exchange (or a proxy before it) sent something that is not its JSON: a truncated body, "
    "a maintenance page or garbage. Retry later; if it persists, check the network path."
)
# Envelope codes are small integers; anything past int64 is garbage, not a code.
_CODE_LIMIT = 2**63


# -- the body -------------------------------------------------------------------------------


def loads_json(body: str | bytes) -> Any:
    """JSON text as Python values, or ``ValueError`` for anything that is not JSON.

    ``json.loads`` raises ``RecursionError`` on deeply nested input (``"[" * 100000``): that is
    a ``ValueError`` here like any other undecodable text (an ``OverflowError`` too, should a
    decoder raise one), and so are ``NaN`` and ``Infinity`` literals, which are not JSON (RFC
    8259, section 6) even though Python's decoder accepts them. ``1e999`` is JSON: it decodes to a
    float infinity, which the number readers refuse.
    """
    fast = _fast_loads
    if fast is not None and body.__class__ is bytes and _LONG_RUN not in body.translate(_RUNS):
        try:
            return fast(body)
        except ValueError:
            pass  # the reference decoder below decides: its value, or its error
    try:
        return _DECODER.decode(body if body.__class__ is str else _text_of(body))
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None
    except OverflowError as err:
        raise ValueError(f"JSON with a number out of range: {err}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


# orjson (when installed) decodes a body about three times faster than the stdlib; it is used
# only where its value is the stdlib's. It refuses what the stdlib may accept (NaN, 1e999, lone
# surrogates, a BOM, UTF-16): those go to the stdlib decoder, which gives its own value or
# error. It reads one thing differently: an integer beyond int64/uint64 becomes a float. Such an
# integer has 20 digits, or a minus and 19: a body with a run of 20 digits or minus signs
# anywhere (strings included) is left to the stdlib. _RUNS maps both to "0", the rest to " ".
def _optional_fast_loads() -> Callable[[bytes], Any] | None:
    try:
        from orjson import loads
    except ImportError:  # optional: ccxt brings it, this library does not need it
        return None
    return loads


def _first_fast_loads(body: bytes) -> Any:
    # orjson is imported with the first body, not with the library (import time counts).
    global _fast_loads
    _fast_loads = _optional_fast_loads()
    if _fast_loads is None:
        raise ValueError("no orjson: the stdlib decodes")
    return _fast_loads(body)


_fast_loads: Callable[[bytes], Any] | None = _first_fast_loads
_RUNS = bytes(48 if 48 <= i <= 57 or i == 45 else 32 for i in range(256))
_LONG_RUN = b"0" * 20


def _text_of(body: Any) -> str:
    if body.__class__ is bytes and body[:1] == b"{" and body[1:2] != b"\x00":
        # What json.detect_encoding says of any body that opens an object without a NUL after
        # it (no BOM starts with "{"): UTF-8. Checked here because it is every envelope.
        text: str = body.decode("utf-8", "surrogatepass")
        return text
    if isinstance(body, bytes | bytearray):
        # As json.loads does with bytes: UTF-8, or UTF-16/32 recognised by the leading bytes.
        return bytes(body).decode(json.detect_encoding(body), "surrogatepass")
    raise TypeError(f"a JSON body must be str or bytes, not {type(body).__name__}")


def decode_json(
    response: Response, exchange: str, http_error: Callable[[Response], ExchangeError]
) -> Any:
    """The JSON payload of a response, or the error a body that is not JSON stands for.

    A non-JSON body (an HTML error page, a truncated or garbled body, nesting too deep to
    decode) is ``BadResponse`` on HTTP 200 and ``http_error(response)``, the adapter's
    classification by HTTP status, otherwise.
    """
    try:
        return loads_json(response.body)
    except (ValueError, TypeError):
        status = response.status
        if status == 200:
            raise BadResponse(
                f"HTTP 200 with a body that is not JSON ({len(response.body)} bytes, "
                "truncated, nested too deep or a proxy page)",
                exchange=exchange,
                http_status=status,
                endpoint=endpoint_of(response),
                hint=_NOT_JSON_HINT,
            ) from None
        raise http_error(response) from None


def endpoint_of(response: Response) -> str | None:
    """The endpoint a response answers (``GET /v5/market/orderbook``), for errors."""
    request = response.request
    return request.endpoint if request is not None else None


def envelope_code(value: Any, response: Response, exchange: str, field: str) -> int:
    """An envelope's result code as an int: a JSON integer, or integer text (``"51000"``).

    Floats (``0.0``, ``1e999``), booleans, huge integers and other text are ``BadResponse``:
    no exchange sends them, and a code that cannot be read cannot be classified.
    """
    if value.__class__ is int and -_CODE_LIMIT < value < _CODE_LIMIT:
        code: int = value
        return code
    if value.__class__ is str and 0 < len(value) <= 20:
        text = value[1:] if value[0] == "-" else value
        if text.isascii() and text.isdigit() and -_CODE_LIMIT < int(value) < _CODE_LIMIT:
            return int(value)
    raise BadResponse(
        f"the envelope's {field} is not an integer code: {shown(value)}",
        exchange=exchange,
        http_status=response.status,
        endpoint=endpoint_of(response),
        hint="The exchange's answer cannot be classified; retry later and report it if it "
        "persists.",
    )


# -- fields ---------------------------------------------------------------------------------


def need(item: Mapping[str, Any], name: str, exchange: str) -> Any:
    """A field that must be present and non-empty."""
    value = item.get(name)
    if value is None or value == "":
        raise BadResponse(f"a {exchange} item lacks {name!r}", exchange=exchange)
    return value


def need_str(item: Mapping[str, Any], name: str, exchange: str) -> str:
    """An id or name that must be a non-empty string (or an integer, as Binance's ids are)."""
    value = item.get(name)
    if value.__class__ is str and value:
        text: str = value
        return text
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or value == "":
        raise BadResponse(f"a {exchange} item lacks {name!r}", exchange=exchange)
    raise BadResponse(
        f"a {exchange} item's {name!r} is not a string: {shown(value)}", exchange=exchange
    )


def _bad_number(exchange: str, name: str, value: Any, why: str) -> BadResponse:
    if value is None or value == "":
        return BadResponse(f"a {exchange} item lacks the number {name!r}", exchange=exchange)
    return BadResponse(
        f"a {exchange} item's {name!r} is {why}: {shown(value)}",
        exchange=exchange,
        hint=NUMBER_HINT,
    )


def need_decimal(item: Mapping[str, Any], name: str, exchange: str) -> Decimal:
    """A numeric field that must be present: finite and below 1e30 in magnitude, any sign."""
    value = item.get(name)
    try:
        return dec(value)
    except ValueError:
        raise _bad_number(exchange, name, value, "not a finite number in range") from None


def need_price(item: Mapping[str, Any], name: str, exchange: str) -> Decimal:
    """A price that must be present and above zero."""
    result = need_decimal(item, name, exchange)
    if result > 0:
        return result
    raise _bad_number(exchange, name, item.get(name), "not a price above zero")


def need_amount(item: Mapping[str, Any], name: str, exchange: str) -> Decimal:
    """A size, volume or quantity that must be present and not negative."""
    result = need_decimal(item, name, exchange)
    if result >= 0:
        # 0E-8 (and -0) read as 0: a zero prints the same whatever exponent came in.
        return result if result else ZERO
    raise _bad_number(exchange, name, item.get(name), "negative")


def opt_decimal(item: Mapping[str, Any], name: str, exchange: str) -> Decimal | None:
    """An optional numeric field (absent or ``""`` is None), any sign; garbage is refused."""
    value = item.get(name)
    # The hot path inline (markets, orders): a numeric string, converted and checked once.
    if value.__class__ is str:
        if not value:
            return None
        try:
            result = exact(value)
        except ArithmeticError:
            pass
        else:
            if result.is_finite():
                return result if result else ZERO
    elif value is None:
        return None
    try:
        checked = dec(value)
    except ValueError:
        raise _bad_number(exchange, name, value, "not a finite number in range") from None
    return checked if checked else ZERO


def opt_amount(item: Mapping[str, Any], name: str, exchange: str) -> Decimal | None:
    """An optional field that is never negative: a size, a volume, a limit, a price where 0 is
    allowed to mean "none" (a new market's last price, an order's average before a fill)."""
    value = item.get(name)
    if value.__class__ is str:
        if not value:
            return None
        try:
            result = exact(value)
        except ArithmeticError:
            pass
        else:
            if result.is_finite() and result >= 0:
                return result if result else ZERO
    elif value is None:
        return None
    try:
        checked = dec(value)
    except ValueError:
        raise _bad_number(exchange, name, value, "not a finite number in range") from None
    if checked >= 0:
        return checked if checked else ZERO
    raise _bad_number(exchange, name, value, "negative")


def numbers(
    item: Mapping[str, Any], keys: Sequence[str], exchange: str, signed: int = 0
) -> list[Decimal | None]:
    """Several optional numeric fields at once (absent or ``""`` is None), in ``keys`` order.

    Every value is finite and below 1e30 in magnitude; all but the last ``signed`` keys (a
    funding rate, say) are also >= 0. The hot path (a ticker's fields, all strings) checks the
    joined text once instead of each number.
    """
    texts = [*map(item.get, keys, repeat(""))]
    try:
        joined = "".join(texts)
    except TypeError:  # a JSON number, null or container among them
        return _numbers_checked(item, keys, exchange, signed)
    # Every non-finite spelling (nan, inf, infinity, snan) holds an "n"; plain numbers never do.
    if "n" in joined or "N" in joined:
        return _numbers_checked(item, keys, exchange, signed)
    if "-" in (joined if not signed else "".join(texts[:-signed])):
        return _numbers_checked(item, keys, exchange, signed)
    try:
        return [exact(text) if text else None for text in texts]
    except ArithmeticError:  # malformed, or 1e30 and above
        return _numbers_checked(item, keys, exchange, signed)


def _numbers_checked(
    item: Mapping[str, Any], keys: Sequence[str], exchange: str, signed: int
) -> list[Decimal | None]:
    cut = len(keys) - signed
    return [
        opt_amount(item, key, exchange) if index < cut else opt_decimal(item, key, exchange)
        for index, key in enumerate(keys)
    ]


# -- times ----------------------------------------------------------------------------------


def _instant(value: Any) -> int | None:
    # A time in ms from 0 (the epoch) to year 9999, from an int, integer text or integral float.
    if value.__class__ is int:
        stamp: int = value
    elif value.__class__ is str:
        if not value or len(value) > 20:
            return None
        try:
            stamp = int(value)
        except ValueError:
            return None
    elif value.__class__ is float:
        if not value.is_integer():  # NaN and infinities included
            return None
        stamp = int(value)
    else:
        return None
    return stamp if 0 <= stamp <= MAX_MS else None


def ms(value: Any) -> int | None:
    """A time in ms, or None for absent, empty, zero, negative, fractional or absurd values
    (exchanges' ways of saying none, and garbage)."""
    if value.__class__ is int:  # the common case, without a second call
        return value if 0 < value <= MAX_MS else None
    stamp = _instant(value)
    return stamp if stamp else None


def need_ms(item: Mapping[str, Any], name: str, exchange: str) -> int:
    """A time in ms that must be present: an integer (or its text) from 0 up to year 9999."""
    value = item.get(name)
    stamp = _instant(value)
    if stamp is not None:
        return stamp
    if value is None or value == "":
        raise BadResponse(f"a {exchange} item lacks the time {name!r}", exchange=exchange)
    raise BadResponse(
        f"a {exchange} item's {name!r} is not a time in ms: {shown(value)}", exchange=exchange
    )


def iso_ms(value: Any) -> int | None:
    """An ISO-8601 time as ms; None when absent, unparsable or at the epoch."""
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    result = int(stamp.timestamp() * 1000)
    return result if result > 0 else None


def yymmdd(stamp_ms: int) -> str:
    """The UTC date of a time in ms, as unified symbols write expiries."""
    return datetime.fromtimestamp(stamp_ms / 1000, tz=UTC).strftime("%y%m%d")


# -- order books and candles ----------------------------------------------------------------

_LIST_ONLY = {list}


def levels(rows: Any, exchange: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """Order book rows ``[price, size, ...]`` as (price, size) pairs, order kept.

    Prices are > 0, sizes >= 0 (a size of 0 is how a delta removes a level). The hot path (a
    list of string rows, all alike) converts each side in one pass and checks the joined text
    instead of each number; anything else takes the per-level path, which names the level.
    """
    if rows.__class__ is not list:
        raise BadResponse(
            f"{exchange} order book levels are not a list: {shown(rows)}", exchange=exchange
        )
    if len(rows) <= _FEW:
        return _few_levels(rows, exchange)
    try:
        if {*map(type, rows)} != _LIST_ONLY:
            return _levels_checked(rows, exchange)
        prices, sizes, *_ = zip(*rows, strict=True)
        price_text = "".join(prices)
        size_text = "".join(sizes)
    except (TypeError, ValueError):  # rows of unequal length, shorter than 2, or not strings
        return _levels_checked(rows, exchange)
    # No sign (no negative number) and no "n" (no nan, inf, infinity, snan) in the text.
    if (
        "-" in price_text
        or "n" in price_text
        or "N" in price_text
        or "-" in size_text
        or "n" in size_text
        or "N" in size_text
    ):
        return _levels_checked(rows, exchange)
    try:
        bid_or_ask = [*map(exact, prices)]
        if not all(bid_or_ask):  # a zero price
            return _levels_checked(rows, exchange)
        return tuple(zip(bid_or_ask, map(exact, sizes), strict=True))
    except ArithmeticError:  # malformed, or 1e30 and above
        return _levels_checked(rows, exchange)


# Up to this many rows (a stream's delta) a plain loop beats the one-pass setup of the hot path.
_FEW = 16


def _few_levels(rows: list[Any], exchange: str) -> tuple[tuple[Decimal, Decimal], ...]:
    out = []
    for row in rows:
        if row.__class__ is list and len(row) >= 2:
            price_text, size_text = row[0], row[1]
            # Strings with no sign and no "n" (nan, inf, infinity, snan): see levels().
            if (
                price_text.__class__ is str
                and size_text.__class__ is str
                and "-" not in price_text
                and "n" not in price_text
                and "N" not in price_text
                and "-" not in size_text
                and "n" not in size_text
                and "N" not in size_text
            ):
                try:
                    price, size = exact(price_text), exact(size_text)
                except ArithmeticError:
                    break
                if price:  # not a zero price
                    out.append((price, size))
                    continue
        break
    else:
        return tuple(out)
    return _levels_checked(rows, exchange)


def _levels_checked(rows: list[Any], exchange: str) -> tuple[tuple[Decimal, Decimal], ...]:
    out = []
    for index, row in enumerate(rows):
        if row.__class__ is not list or len(row) < 2:
            raise BadResponse(
                f"{exchange} order book level {index} is not [price, size, …]: {shown(row)}",
                exchange=exchange,
            )
        try:
            price, size = dec(row[0]), dec(row[1])
        except ValueError as err:
            raise BadResponse(
                f"{exchange} order book level {index}: {err}",
                exchange=exchange,
                hint=NUMBER_HINT,
            ) from None
        if not price > 0 or size < 0:
            raise BadResponse(
                f"{exchange} order book level {index} has price {price} and size {size} "
                "(a price must be above zero, a size not negative)",
                exchange=exchange,
                hint=NUMBER_HINT,
            )
        out.append((price, size))
    return tuple(out)


def candle(
    stamp: Any,
    prices: Sequence[Any],
    volume: Any,
    quote_volume: Any,
    *,
    exchange: str,
    raw: Any,
) -> Candle:
    """A candle from wire values: a time in ms, open/high/low/close above zero, volumes not
    negative (``quote_volume`` may be absent: None or ``""``)."""
    start = _instant(stamp)
    if start is None:
        raise BadResponse(
            f"a {exchange} candle's start is not a time in ms: {shown(stamp)}", exchange=exchange
        )
    try:
        o, h, low, c = [dec(value) for value in prices]
        base = dec(volume)
        quote = opt_dec(quote_volume)
    except ValueError as err:
        raise BadResponse(
            f"a {exchange} candle value is {err}", exchange=exchange, hint=NUMBER_HINT
        ) from None
    if not (o > 0 and h > 0 and low > 0 and c > 0) or base < 0 or (quote is not None and quote < 0):
        raise BadResponse(
            f"a {exchange} candle has a price that is not above zero or a negative volume "
            f"(open {o}, high {h}, low {low}, close {c}, volume {base}, quote volume {quote})",
            exchange=exchange,
            hint=NUMBER_HINT,
        )
    return Candle(
        timestamp=start,
        open=o,
        high=h,
        low=low,
        close=c,
        volume=base,
        quote_volume=quote,
        raw=raw,
    )


def funding_records(
    rows: Any, symbol: str, rate: str, time: str, exchange: str
) -> list[FundingRecord]:
    """Funding history rows (objects with a ``rate`` and a ``time`` field), in the order sent."""
    if not isinstance(rows, list):
        raise BadResponse("the funding history is not a list", exchange=exchange)
    records = []
    for row in rows:
        if not isinstance(row, Mapping):
            raise BadResponse("a funding history item is not an object", exchange=exchange)
        records.append(
            FundingRecord(
                symbol=symbol,
                rate=need_decimal(row, rate, exchange),
                timestamp=need_ms(row, time, exchange),
                raw=row,
            )
        )
    return records
