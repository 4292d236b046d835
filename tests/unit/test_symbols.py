from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchanges.errors import BadSymbol
from exchanges.symbols import Symbol, parse_symbol

CODE = st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True)
EXPIRY = st.dates(min_value=__import__("datetime").date(2000, 1, 1)).map(
    lambda d: d.strftime("%y%m%d")
)


@pytest.mark.parametrize(
    ("text", "kind", "linear", "inverse"),
    [
        ("BTC/USDT", "spot", None, None),
        ("BTC/USDT:USDT", "swap", True, False),
        ("BTC/USD:BTC", "swap", False, True),
        ("BTC/USDT:USDT-251226", "future", True, False),
        ("BTC/USDC:USDC-251226-100000-C", "option", True, False),
    ],
)
def test_grammar(text: str, kind: str, linear: bool | None, inverse: bool | None) -> None:
    sym = parse_symbol(text)
    assert sym.kind == kind
    assert sym.linear is linear
    assert sym.inverse is inverse
    assert str(sym) == text


def test_option_parts() -> None:
    sym = parse_symbol("ETH/USDC:USDC-260327-3500.5-P")
    assert sym.strike == Decimal("3500.5") and sym.right == "P"
    assert sym.expiry_date is not None and sym.expiry_date.isoformat() == "2026-03-27"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "BTC",
        "BTC/",
        "/USDT",
        "BTC-USDT",
        "BTC/USDT:",
        "BTC/USDT:USDT-2512",
        "BTC/USDT:USDT-251332",
        "BTC/USDT:USDT-251226-100-X",
        "BTC/USDT USDT",
        "BTC/USDT/ETH",
    ],
)
def test_malformed_symbols_say_what_is_expected(bad: str) -> None:
    with pytest.raises(BadSymbol) as info:
        parse_symbol(bad)
    assert "BASE/QUOTE" in info.value.hint or "expiry" in info.value.message


def test_type_errors() -> None:
    with pytest.raises(TypeError):
        parse_symbol(None)  # type: ignore[arg-type]


@given(CODE, CODE, st.none() | CODE, EXPIRY, st.integers(1, 10**7), st.sampled_from("CP"))
def test_round_trip(
    base: str, quote: str, settle: str | None, expiry: str, strike: int, right: str
) -> None:
    for sym in (
        Symbol(base, quote),
        Symbol(base, quote, settle or quote),
        Symbol(base, quote, settle or base, expiry),
        Symbol(base, quote, settle or quote, expiry, Decimal(strike), right),
    ):
        assert parse_symbol(str(sym)) == sym


def test_market_rounds_to_its_steps() -> None:
    from decimal import ROUND_UP

    from exchanges.models import Market

    market = Market("BTC/USDT", "BTCUSDT", "spot", "BTC", "USDT", None, None, None, None,
                    Decimal("0.01000000"), Decimal("0.5"), None, None, None, True)  # fmt: skip
    assert market.round_price(Decimal("58499.991")) == Decimal("58499.99")
    assert market.round_price(Decimal("1.005"), ROUND_UP) == Decimal("1.01")
    assert market.round_amount(Decimal("1.7")) == Decimal("1.5")
    assert market.round_amount(Decimal("0.4")) == 0
