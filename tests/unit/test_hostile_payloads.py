"""Hostile answers for every native adapter (Bybit, Binance, OKX), one parametrised suite.

Each body is JSON *text*, decoded by the adapter's own ``decode`` and read by its own parser,
so numbers arrive exactly as a wire would hand them over: ``"NaN"`` and ``"Infinity"`` strings,
negative sizes, zero prices, JSON floats (``65000.1``), ``1e999`` (a float infinity once
decoded), ``NaN`` literals, bodies nested 100,000 deep, envelope codes that are no integers.
Every one must end as ``BadResponse`` naming the exchange, never as a model, and never as
``InvalidOperation``, ``OverflowError`` or ``RecursionError``; JSON floats must be read through
their shortest repr.

The WebSocket side is in ``test_hostile_streams.py``, the ccxt bridge in
``test_hostile_ccxt.py`` and a real client against a loopback proxy in
``test_hostile_end_to_end.py``; the venues and hostile values in ``hostile_bodies.py``.
"""

from __future__ import annotations

import pytest

from exchanges.errors import ExchangeError
from tests.unit.hostile_bodies import (
    BINANCE,
    DEEP,
    DEEP_OBJECT,
    NOT_FINITE,
    NOT_NUMBERS,
    OKX,
    D,
    Venue,
    book,
    refused,
    venues,
)

# -- order books -----------------------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS)
@pytest.mark.parametrize("where", ["bid price", "bid size", "ask price", "ask size"])
def test_book_levels_refuse_non_finite_values(venue: Venue, value: str, where: str) -> None:
    side, field = where.split()
    level = (value, '"1"') if field == "price" else ('"65000"', value)
    bids = [('"64999.5"', '"1"'), level] if side == "bid" else [('"64999.5"', '"1"')]
    asks = [('"65000.5"', '"1"'), level] if side == "ask" else [('"65000.5"', '"1"')]
    refused(venue, lambda: book(venue, bids, asks))


@venues
@pytest.mark.parametrize(("price", "size"), [('"0"', '"1"'), ('"-65000"', '"1"'),
                                             ('"65000"', '"-1"'), ('"0.000"', '"1"')])  # fmt: skip
def test_book_levels_refuse_zero_prices_and_negative_sizes(
    venue: Venue, price: str, size: str
) -> None:
    refused(venue, lambda: book(venue, [(price, size)], [('"65001"', '"1"')]))


@venues
def test_book_reads_json_floats_through_their_shortest_repr(venue: Venue) -> None:
    # A JSON number 65000.1 is a float once decoded: Decimal(float) would be
    # 65000.0999999999985448084771633148193359375.
    got = book(venue, [("65000.1", "0.3"), ('"64999"', '"0"')], [("65000.2", "1e-8")])
    assert [(str(p), str(s)) for p, s in got.bids] == [("65000.1", "0.3"), ("64999", "0")]
    assert [(str(p), str(s)) for p, s in got.asks] == [("65000.2", "1E-8")]
    assert got.best_bid is not None and got.best_ask is not None
    assert got.best_bid[0] < got.best_ask[0]  # comparable: no NaN can be in a book


# -- trades, candles, tickers ----------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"0"', '"-1"', "null", '""'])
def test_trade_prices_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_trade(venue.response(venue.trade_body(value, '"1"'))))


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"', "-0.5"])
def test_trade_sizes_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_trade(venue.response(venue.trade_body('"1"', value))))


@venues
def test_trades_read_floats_through_repr(venue: Venue) -> None:
    trade = venue.read_trade(venue.response(venue.trade_body("65000.1", "0.003")))
    assert (str(trade.price), str(trade.amount)) == ("65000.1", "0.003")


@venues
@pytest.mark.parametrize("value", [*NOT_FINITE, '"x"', "true", '"0"', '"-1"'])
@pytest.mark.parametrize("column", ["open", "low", "close", "volume"])
def test_candles_refuse_garbage(venue: Venue, value: str, column: str) -> None:
    if column == "volume" and value == '"0"':
        return  # a candle without trades has volume 0
    row = {"open": '"1"', "high": '"2"', "low": '"0.5"', "close": '"1.5"', "volume": '"10"'}
    row[column] = value
    body = venue.candle_body(row["open"], row["high"], row["low"], row["close"], row["volume"])
    refused(venue, lambda: venue.read_candles(venue.response(body)))


@venues
def test_candles_read_floats_through_repr(venue: Venue) -> None:
    (candle,) = venue.read_candles(venue.response(venue.candle_body("1.1", "2.2", "0.1", "1", "0")))
    assert (str(candle.open), str(candle.high), str(candle.low), candle.volume) == (
        "1.1", "2.2", "0.1", 0,
    )  # fmt: skip


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"'])
@pytest.mark.parametrize("field", ["last", "volume"])
def test_tickers_refuse_garbage(venue: Venue, value: str, field: str) -> None:
    body = venue.ticker_body(value, '"1"') if field == "last" else venue.ticker_body('"1"', value)
    refused(venue, lambda: venue.read_ticker(venue.response(body)))


@venues
def test_a_new_markets_ticker_keeps_its_zero_last_price(venue: Venue) -> None:
    ticker = venue.read_ticker(venue.response(venue.ticker_body('"0"', '""')))
    assert ticker.last == 0 and ticker.base_volume is None
    floats = venue.read_ticker(venue.response(venue.ticker_body("65000.1", "12.3")))
    assert (str(floats.last), str(floats.base_volume)) == ("65000.1", "12.3")


# -- orders, markets, balances ---------------------------------------------------------------


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-1"'])
def test_orders_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_order(venue.response(venue.order_body(value, '"1"'))))
    refused(venue, lambda: venue.read_order(venue.response(venue.order_body('"1"', value))))


@venues
def test_an_orders_zero_average_before_a_fill_still_means_none(venue: Venue) -> None:
    order = venue.read_order(venue.response(venue.order_body('"0"', "0.5")))
    assert order.average is None and str(order.amount) == "0.5"


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS + ['"-0.1"'])
def test_markets_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_market(venue.response(venue.market_body(value))))


@venues
def test_market_limits_keep_their_meaning(venue: Venue) -> None:
    market = venue.read_market(venue.response(venue.market_body('"0.1"')))
    assert market.price_step == D("0.1")
    if venue is BINANCE:
        assert market.max_amount is None  # Binance's "0.00000000": no limit


@venues
@pytest.mark.parametrize("value", NOT_FINITE + NOT_NUMBERS)
def test_balances_refuse_garbage(venue: Venue, value: str) -> None:
    refused(venue, lambda: venue.read_balance(venue.response(venue.balance_body(value))))


# -- bodies and envelopes --------------------------------------------------------------------


@venues
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[NaN]", b'{"a": Infinity}'])
def test_a_body_nested_too_deep_or_not_json_is_a_bad_response(venue: Venue, body: bytes) -> None:
    err = refused(venue, lambda: venue.response(body))
    assert err.http_status == 200 and "not JSON" in err.message


@venues
@pytest.mark.parametrize("status", [403, 502])
def test_a_deep_body_with_an_error_status_is_classified_by_status(
    venue: Venue, status: int
) -> None:
    with pytest.raises(ExchangeError) as caught:
        venue.response(DEEP, status=status)
    assert caught.value.http_status == status and caught.value.exchange == venue.name


@venues
@pytest.mark.parametrize(
    "code", ["1e999", "-1e999", "0.0", "200.0", "10006.5", "true", "false",
             "100000000000000000000000000000"],
)  # fmt: skip
def test_envelope_codes_that_are_not_plain_integers_are_bad_responses(
    venue: Venue, code: str
) -> None:
    err = refused(venue, lambda: venue.response(venue.code_body(code)))
    assert err.http_status == 200


@venues
def test_a_nested_error_message_does_not_recurse(venue: Venue) -> None:
    depth = 400  # decodable, and deep enough to matter if it were ever repr'd
    message = "[" * depth + "]" * depth
    body = venue.code_body('"51000"' if venue is OKX else "-1121" if venue is BINANCE else "10001")
    body = body.replace('"x"', message)
    with pytest.raises(ExchangeError) as caught:
        venue.response(body, status=400 if venue is BINANCE else 200)
    assert "[[[[" not in caught.value.message
