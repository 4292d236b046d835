from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from exchanges.decimals import opt_dec, to_decimal, to_wire
from tests.strategies import ANY_DECIMAL, DECIMALS


@settings(max_examples=1000)
@given(ANY_DECIMAL)
def test_wire_format_round_trips_without_exponent(value: Decimal) -> None:
    text = to_wire(value)
    assert "e" not in text.lower()
    assert Decimal(text) == value
    assert not text.startswith("+")
    # The value's own digits: nothing appended beyond its exponent.
    if value.as_tuple().exponent < 0:  # type: ignore[operator]
        assert len(text.split(".")[1]) == -value.as_tuple().exponent  # type: ignore[operator]


@settings(max_examples=500)
@given(DECIMALS)
def test_documented_range(value: Decimal) -> None:
    assert Decimal(to_wire(value)) == value


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (Decimal("1E-18"), "0.000000000000000001"),
        (Decimal("1e-05"), "0.00001"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("123456789012345678.123456789"), "123456789012345678.123456789"),
        (7, "7"),
        ("0.1", "0.1"),
    ],
)
def test_examples(value: Decimal | int | str, wire: str) -> None:
    assert to_wire(value) == wire


def test_wire_refuses_floats_and_non_finite() -> None:
    with pytest.raises(TypeError):
        to_wire(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_wire(Decimal("NaN"))
    with pytest.raises(ValueError):
        to_wire(Decimal("Infinity"))


def test_to_decimal_accepts_what_users_type() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal(1e-05) == Decimal("0.00001")
    assert to_decimal("  2.5 ") == Decimal("2.5")
    assert to_decimal(3) == Decimal(3)
    for bad in (float("nan"), float("inf"), "abc", "NaN", "-Infinity"):
        with pytest.raises(ValueError):
            to_decimal(bad)
    for wrong in (True, None, [1], object()):
        with pytest.raises(TypeError):
            to_decimal(wrong)


def test_opt_dec_treats_empty_as_none() -> None:
    assert opt_dec("") is None
    assert opt_dec(None) is None
    assert opt_dec("1.5") == Decimal("1.5")
    assert opt_dec(2) == Decimal(2)
    # Present but no finite number in range: refused, not mistaken for "none".
    for bad in ("x", "NaN", "-Infinity", "1e30", True, [1]):
        with pytest.raises(ValueError):
            opt_dec(bad)
