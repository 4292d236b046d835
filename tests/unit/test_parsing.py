"""The shared readers (``exchanges.parsing``, ``exchanges.decimals``) on hostile input.

Every number they return is finite and below 1e30 in magnitude, a JSON float is read through its
shortest repr, prices are above zero and sizes not negative where the reader says so, and every
refusal is a ``BadResponse`` naming the exchange with a hint: never ``InvalidOperation``,
``OverflowError`` or ``RecursionError``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchanges import parsing
from exchanges.decimals import MAX_MAGNITUDE, dec, opt_dec, shown
from exchanges.errors import BadResponse, ExchangeError, ExchangeNotAvailable
from exchanges.wire import Request, Response

D = Decimal
EX = "testex"
DEEP_ARRAY = "[" * 100_000
DEEP_OBJECT = '{"a":' * 100_000
#: Values no market has, as a JSON decoder hands them over.
NOT_FINITE: list[Any] = [
    "NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e999", "1e30", "-1e30",
    float("nan"), float("inf"), float("-inf"), 10**30, True, False, [], {}, [1], "x", "1,5",
    " 1", "1 ", "0x10", "",
]  # fmt: skip


def nested(depth: int) -> list[Any]:
    # Built without recursion, as a decoder would hand it over.
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def response(body: bytes | str, status: int = 200) -> Response:
    raw = body.encode() if isinstance(body, str) else body
    return Response(status, {}, raw, Request("GET", "https://api.test", "/v5/market/orderbook"))


# -- numbers ---------------------------------------------------------------------------------


def test_floats_are_read_through_their_shortest_repr() -> None:
    # Decimal(65000.1) would be 65000.0999999999985448084771633148193359375.
    assert str(dec(65000.1)) == "65000.1"
    assert str(dec(json.loads("[0.1]")[0])) == "0.1"
    assert str(dec(1e-05)) == "0.00001"
    assert str(opt_dec(64999.98)) == "64999.98"


def test_strings_and_ints_are_exact() -> None:
    assert str(dec("65000.10")) == "65000.10"
    assert str(dec("1E-18")) == "1E-18"
    assert dec(7) == 7 and dec(-3) == -3
    assert dec("9" * 30) == D("9" * 30)  # just below 1e30


@pytest.mark.parametrize("value", NOT_FINITE)
def test_dec_refuses_what_no_market_has(value: Any) -> None:
    if value == "":
        assert opt_dec(value) is None
    with pytest.raises(ValueError):
        dec(value)


def test_the_magnitude_bound() -> None:
    assert D("1e30") == MAX_MAGNITUDE
    assert dec("999999999999999999999999999999.99") < MAX_MAGNITUDE
    for value in ("1000000000000000000000000000000", "1E+30", "-1e30", 10**40):
        with pytest.raises(ValueError, match="1e30"):
            dec(value)


def test_shown_never_recurses() -> None:
    assert shown(nested(100_000)) == "a list of 1 items"
    assert shown("x" * 100).endswith("…'")
    assert shown(10**100) == "a huge int"


# -- the body and the envelope -----------------------------------------------------------------


@pytest.mark.parametrize("text", [DEEP_ARRAY, DEEP_OBJECT, "[NaN]", '{"a": Infinity}', "{", ""])
def test_loads_json_turns_everything_undecodable_into_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parsing.loads_json(text)
    with pytest.raises(ValueError):
        parsing.loads_json(text.encode())


def test_loads_json_reads_what_json_loads_reads() -> None:
    body = '{"a": [1, 2.5, "x", null, true], "b": 1e999}'
    assert parsing.loads_json(body.encode()) == json.loads(body)
    assert parsing.loads_json("[1]".encode("utf-16")) == json.loads("[1]".encode("utf-16")) == [1]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, "<html>502</html>", "", "[NaN]"])
def test_decode_json_classifies_a_body_that_is_not_json(body: str) -> None:
    seen: list[int] = []

    def http_error(resp: Response) -> ExchangeError:
        seen.append(resp.status)
        return ExchangeNotAvailable(f"HTTP {resp.status}", exchange=EX)

    with pytest.raises(BadResponse) as caught:
        parsing.decode_json(response(body), EX, http_error)
    err = caught.value
    assert (err.exchange, err.http_status, err.endpoint) == (EX, 200, "GET /v5/market/orderbook")
    assert "not JSON" in err.message and err.hint
    with pytest.raises(ExchangeNotAvailable):
        parsing.decode_json(response(body, 502), EX, http_error)
    assert seen == [502]


@pytest.mark.parametrize(
    ("value", "code"), [(0, 0), (10006, 10006), (-1121, -1121), ("0", 0), ("51000", 51000)]
)
def test_envelope_codes_that_are_integers(value: Any, code: int) -> None:
    assert parsing.envelope_code(value, response("{}"), EX, "retCode") == code


@pytest.mark.parametrize(
    "text", ["1e999", "-1e999", "0.0", "1.5", "true", "false", "10000000000000000000000", '"x"',
             '""', '"1.0"', '"-"', "[0]", '{"a": 0}', '"٣"', '"99999999999999999999"', '" 0"'],
)  # fmt: skip
def test_envelope_codes_that_are_not_integers_are_bad_responses(text: str) -> None:
    value = json.loads(text)
    with pytest.raises(BadResponse) as caught:
        parsing.envelope_code(value, response("{}"), EX, "retCode")
    assert caught.value.exchange == EX and caught.value.http_status == 200
    assert "retCode" in caught.value.message and caught.value.hint


# -- fields ----------------------------------------------------------------------------------


def test_required_numbers_by_sign() -> None:
    item = {"p": "65000.5", "z": "0", "n": "-2", "f": 0.3}
    assert parsing.need_decimal(item, "n", EX) == -2
    assert parsing.need_price(item, "p", EX) == D("65000.5")
    assert str(parsing.need_price(item, "f", EX)) == "0.3"
    assert parsing.need_amount(item, "z", EX) == 0
    for reader, name in ((parsing.need_price, "z"), (parsing.need_price, "n"),
                         (parsing.need_amount, "n"), (parsing.need_decimal, "absent")):  # fmt: skip
        with pytest.raises(BadResponse) as caught:
            reader(item, name, EX)
        assert caught.value.exchange == EX and repr(name) in caught.value.message


@pytest.mark.parametrize("value", [v for v in NOT_FINITE if v != ""])
@pytest.mark.parametrize(
    "reader",
    [parsing.need_decimal, parsing.need_price, parsing.need_amount, parsing.opt_decimal,
     parsing.opt_amount],
)  # fmt: skip
def test_every_number_reader_refuses_garbage(value: Any, reader: Any) -> None:
    with pytest.raises(BadResponse) as caught:
        reader({"price": value}, "price", EX)
    assert caught.value.exchange == EX and caught.value.hint
    assert "'price'" in caught.value.message


def test_optional_numbers() -> None:
    item = {"e": "", "z": "0", "n": "-1.5", "f": 1.1}
    assert parsing.opt_decimal(item, "e", EX) is None
    assert parsing.opt_decimal(item, "absent", EX) is None
    assert parsing.opt_decimal(item, "n", EX) == D("-1.5")
    assert parsing.opt_amount(item, "z", EX) == 0  # zero keeps meaning "none" to the caller
    assert str(parsing.opt_amount(item, "f", EX)) == "1.1"
    with pytest.raises(BadResponse, match="negative"):
        parsing.opt_amount(item, "n", EX)


KEYS = ("bid", "ask", "volume", "funding")


def test_numbers_fast_path_and_signed_tail() -> None:
    item = {"bid": "100.5", "ask": "", "volume": "0", "funding": "-0.0001"}
    assert parsing.numbers(item, KEYS, EX, 1) == [D("100.5"), None, D(0), D("-0.0001")]
    assert parsing.numbers({}, KEYS, EX) == [None] * 4
    floats = parsing.numbers({"bid": 65000.1, "funding": -0.1}, KEYS, EX, 1)
    assert [str(v) for v in floats] == ["65000.1", "None", "None", "-0.1"]
    assert parsing.numbers({"bid": "1e-8"}, KEYS, EX)[0] == D("1e-8")


@pytest.mark.parametrize(
    ("name", "value"),
    [("bid", "NaN"), ("ask", "-Infinity"), ("volume", "-1"), ("bid", "1e30"), ("ask", 1e999),
     ("volume", True), ("bid", [1]), ("funding", "nan"), ("funding", "1e999"), ("bid", "12x")],
)  # fmt: skip
def test_numbers_refuse_garbage_and_name_the_field(name: str, value: Any) -> None:
    item = {"bid": "1", "ask": "2", "volume": "3", "funding": "0.1", name: value}
    with pytest.raises(BadResponse) as caught:
        parsing.numbers(item, KEYS, EX, 1)
    assert repr(name) in caught.value.message and caught.value.exchange == EX


def test_ids_must_be_text_or_integers() -> None:
    assert parsing.need_str({"id": 12}, "id", EX) == "12"
    assert parsing.need_str({"id": "a"}, "id", EX) == "a"
    for value in (None, "", True, 1.5, nested(100_000), {"a": 1}):
        with pytest.raises(BadResponse):
            parsing.need_str({"id": value}, "id", EX)


# -- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [float("inf"), float("nan"), 1e999, 1.5, -5, "-5", "9" * 30, "9" * 5000, True, [],
              parsing.MAX_MS + 1, "", None, 0, "0"],
)  # fmt: skip
def test_times_that_are_none_or_garbage(value: Any) -> None:
    assert parsing.ms(value) is None


def test_times() -> None:
    assert parsing.ms(1_700_000_000_000) == parsing.ms("1700000000000") == 1_700_000_000_000
    assert parsing.ms(1.7e12) == 1_700_000_000_000
    assert parsing.need_ms({"t": "0"}, "t", EX) == 0
    for value in (float("inf"), "NaN", -1, None, "1e3"):
        with pytest.raises(BadResponse):
            parsing.need_ms({"t": value}, "t", EX)


# -- book levels -----------------------------------------------------------------------------


def test_levels_keep_order_and_allow_a_zero_size() -> None:
    rows = [["65000.5", "1.25"], ["64999", "0"], ["1e-3", "2"]]
    assert parsing.levels(rows, EX) == (
        (D("65000.5"), D("1.25")), (D(64999), D(0)), (D("0.001"), D(2))
    )  # fmt: skip
    okx_rows = [["65000.5", "1", "0", "3"], ["65000", "2", "0", "1"]]
    assert parsing.levels(okx_rows, EX) == ((D("65000.5"), D(1)), (D(65000), D(2)))
    assert parsing.levels([], EX) == ()
    floats = parsing.levels(json.loads("[[65000.1, 0.3], [1, 2]]"), EX)
    assert [(str(p), str(s)) for p, s in floats] == [("65000.1", "0.3"), ("1", "2")]


@pytest.mark.parametrize(
    "row",
    [["NaN", "1"], ["Infinity", "1"], ["-Infinity", "1"], ["1", "NaN"], ["1", "-1"],
     ["0", "1"], ["0.000", "1"], ["-0", "1"], ["-5", "1"], ["1e30", "1"], ["1", "1e30"],
     [1e999, "1"], ["1", float("nan")], [True, "1"], [None, "1"], ["1"], [], "12",
     {"p": "1", "s": "2"}, ["1", ["2"]], ["x", "1"], [" 1", "1"]],
)  # fmt: skip
def test_levels_refuse_what_no_book_has(row: Any) -> None:
    rows = [["100", "1"], row, ["99", "1"]]
    with pytest.raises(BadResponse) as caught:
        parsing.levels(rows, EX)
    assert caught.value.exchange == EX and "level 1" in caught.value.message


@pytest.mark.parametrize("rows", [None, "rows", {"b": []}, 5])
def test_levels_must_be_a_list(rows: Any) -> None:
    with pytest.raises(BadResponse, match="not a list"):
        parsing.levels(rows, EX)


def test_levels_of_unequal_rows_are_read_row_by_row() -> None:
    assert parsing.levels([["2", "1"], ["1", "1", "x"]], EX) == ((D(2), D(1)), (D(1), D(1)))


TEXT = st.one_of(
    st.decimals(min_value=D("1e-12"), max_value=D("1e20"), places=8).map(str),
    st.sampled_from(["0", "1", "0.0", "NaN", "-1", "1e-5", "1E+3", "Infinity", "", "1e40"]),
)


@settings(max_examples=300)
@given(st.lists(st.lists(TEXT, min_size=2, max_size=4), max_size=12), st.booleans())
def test_the_fast_paths_agree_with_the_level_by_level_path(
    rows: list[list[str]], long: bool
) -> None:
    if long:  # past the few-rows loop: the one-pass path of full books
        rows = rows + [["1", "1"]] * 20

    def reference() -> tuple[tuple[Decimal, Decimal], ...]:
        out = []
        for row in rows:
            price, size = dec(row[0]), dec(row[1])
            if not price > 0 or size < 0:
                raise ValueError(row)
            out.append((price, size))
        return tuple(out)

    try:
        expected: Any = reference()
    except ValueError:
        expected = BadResponse
    if expected is BadResponse:
        with pytest.raises(BadResponse):
            parsing.levels(rows, EX)
    else:
        got = parsing.levels(rows, EX)
        assert got == expected
        assert [tuple(map(str, level)) for level in got] == [
            tuple(map(str, level)) for level in expected
        ]


# -- candles ---------------------------------------------------------------------------------


def test_candles() -> None:
    candle = parsing.candle("60000", ("1", "2", "0.5", 1.1), "10", "", exchange=EX, raw=None)
    assert (candle.timestamp, candle.low, str(candle.close), candle.quote_volume) == (
        60000, D("0.5"), "1.1", None,
    )  # fmt: skip
    for prices, volume, quote in (
        (("NaN", "1", "1", "1"), "1", "1"),
        (("1", "1", "0", "1"), "1", "1"),
        (("1", "1", "1", "1"), "-1", "1"),
        (("1", "1", "1", "1"), "1", "-1"),
        (("1", "1", "1", "Infinity"), "1", "1"),
        (("1", "1", "1", "1"), "1e999", "1"),
    ):
        with pytest.raises(BadResponse) as caught:
            parsing.candle(1, prices, volume, quote, exchange=EX, raw=None)
        assert caught.value.exchange == EX and caught.value.hint
    for stamp in ("x", float("inf"), None, -1):
        with pytest.raises(BadResponse):
            parsing.candle(stamp, ("1", "1", "1", "1"), "1", "1", exchange=EX, raw=None)
