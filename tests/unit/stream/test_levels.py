"""The stream's fast readers give what the shared readers give: levels, and frames' JSON.

``LevelReader`` (prices remembered per book) must return exactly ``parsing.levels``'s value
for any rows, across a sequence of messages (the cache is warm), and refuse exactly what it
refuses, with the same error; ``StreamDialect.loads`` reads a text frame through its UTF-8 bytes
and must give ``loads_json``'s value or a ``ValueError`` where ``loads_json`` gives one.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bybit.adapter import BybitAdapter
from adapters.bybit.stream import BybitDialect
from exchanges.parsing import levels, loads_json
from exchanges.stream.levels import LevelReader

# Texts a level's price or size may be: ordinary numbers (often repeated, so that the reader's
# cache is hit), and everything a hostile push sends.
NUMBERS = st.sampled_from(["65000.1", "65000.10", "0.001", "1", "1.50000000", "99.5", "0"])
GARBAGE = st.sampled_from(
    ["NaN", "nan", "sNaN", "-1", "-0", "Infinity", "inf", "1e30", "1e29", "1E2", " 1", "1_0",
     "", "abc", "0x10", "１２"]
)  # fmt: skip
CELL = st.one_of(
    NUMBERS,
    NUMBERS,
    GARBAGE,
    st.integers(-2, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.just([]),
)
# Mostly good rows with now and then one bad number: the cache is hit, and a refusal is not
# masked by another one in the same message.
MOSTLY_GOOD = st.one_of(NUMBERS, NUMBERS, NUMBERS, NUMBERS, GARBAGE)
GOOD_ROW = st.tuples(MOSTLY_GOOD, MOSTLY_GOOD).map(list)
ROW = st.one_of(GOOD_ROW, st.lists(CELL, min_size=2, max_size=4), st.lists(CELL, max_size=1), CELL)
ROWS = st.one_of(
    st.lists(GOOD_ROW, max_size=8),
    st.lists(ROW, max_size=8),
    st.lists(GOOD_ROW, min_size=60, max_size=90),
    CELL,
)


def outcome(read: Any, rows: Any) -> Any:
    try:
        return "ok", read(rows)
    except Exception as exc:
        return "error", type(exc), str(exc)


@settings(max_examples=400, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=12))
def test_the_level_reader_is_parsing_levels(messages: list[Any]) -> None:
    reader = LevelReader("okx", limit=6)  # small: the cache starts over now and then
    for rows in messages:
        mine, theirs = outcome(reader.read, rows), outcome(lambda r: levels(r, "okx"), rows)
        assert mine == theirs
        if mine[0] == "ok":  # the same numbers, written the same way (exponent included)
            assert [(str(p), str(q)) for p, q in mine[1]] == [
                (str(p), str(q)) for p, q in theirs[1]
            ]


TEXTS = ["65000.1", "65000.10", "0.001", "1", "1.50000000", "0", "NaN", "nan", "sNaN", "-1", "-0",
         "Infinity", "inf", "1e30", "1e29", "1E2", " 1", "", "abc", "１２"]  # fmt: skip


@pytest.mark.parametrize("price", TEXTS)
def test_every_price_and_size_text_reads_the_same_with_the_price_seen_before(price: str) -> None:
    # Deterministic: every pair of texts, the price first read in a good row (cached when it
    # is one), then with each size alone, after a good row, and in a snapshot-sized message.
    for size in TEXTS:
        reader = LevelReader("okx")
        outcome(reader.read, [[price, "1"]])  # remembered if it is a price
        for rows in (
            [[price, size]],
            [["1", "1"], [price, size]],
            [["1", "1"]] * 70 + [[price, size]],
        ):
            mine, theirs = outcome(reader.read, rows), outcome(lambda r: levels(r, "okx"), rows)
            assert mine == theirs, (price, size)


def test_a_price_seen_before_is_the_same_decimal_with_its_hash_known() -> None:
    reader = LevelReader("binance")
    ((first, _),) = reader.read([["65000.01000000", "1.00000000"]])
    ((again, size),) = reader.read([["65000.01000000", "2.50000000"]])
    assert again is first and size == Decimal("2.5")
    # A refusal still names the level, as parsing.levels does, cache or not.
    with pytest.raises(Exception, match="level 1") as caught:
        reader.read([["65000.01000000", "1"], ["65000.01000000", "-1"]])
    with pytest.raises(type(caught.value), match="level 1"):
        levels([["65000.01000000", "1"], ["65000.01000000", "-1"]], "binance")


def test_the_cache_is_bounded() -> None:
    reader = LevelReader("bybit", limit=10)
    for i in range(100):
        reader.read([[f"{65000 + i}.5", "1"]])
        assert len(reader._prices) <= 10
    reader.read([[f"{70000 + i}.5", "1"] for i in range(80)])  # a snapshot
    assert len(reader._prices) <= 80


FRAMES = st.one_of(
    st.builds(json.dumps, st.dictionaries(st.text(max_size=5), st.integers() | st.text())),
    st.builds(lambda d: json.dumps(d, ensure_ascii=False), st.dictionaries(st.text(), st.text())),
    st.sampled_from([
        '{"a":1}', '{"a":12345678901234567890}', '{"a":-1234567890123456789}', '{"a":1e999}',
        '{"a":NaN}', '{"a":Infinity}', '{"a":"\\ud800"}', '{"a":"\ud800"}', '\ufeff{"a":1}',
        '{"a":1', '{\x00"a":1}', '{"a":[' * 3000 + "]" * 3000 + "}", '{"a":1}{}', "{}", "{ }",
        '{"a":1.0}', '{"a":0.1e1}', '[1]', "pong", "", '{"a":"\\u0000"}',
    ]),
    st.text(max_size=30).map(lambda t: "{" + t),
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(FRAMES)
def test_a_text_frame_reads_as_loads_json_reads_it(text: str) -> None:
    dialect = BybitDialect(BybitAdapter(env="mainnet"))

    def shape(read: Any) -> Any:
        try:
            value = read(text)
        except ValueError:
            return "ValueError"
        return json.dumps(value, sort_keys=True), repr(value)

    assert shape(dialect.loads) == shape(loads_json)
