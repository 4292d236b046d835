"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from exchanges.decimals import to_wire

# Characters that break naive signers: separators, escapes, spaces, unicode (no surrogates).
TRICKY = st.sampled_from(list(" %,&=+?#/:;@!$'()*[]{}\"\\|^~`<>"))
TEXT = st.text(
    alphabet=st.one_of(
        TRICKY,
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=20,
)

# Decimals from 1e-18 to 1e18, with any number of significant digits up to 28.
DECIMALS = st.decimals(
    min_value=Decimal("1e-18"),
    max_value=Decimal("1e18"),
    allow_nan=False,
    allow_infinity=False,
    places=None,
)

ANY_DECIMAL = st.builds(
    lambda sign, digits, exp: Decimal((sign, tuple(digits), exp)),
    st.integers(0, 1),
    st.lists(st.integers(0, 9), min_size=1, max_size=30),
    st.integers(-40, 40),
)

PARAM_NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,11}", fullmatch=True)
PARAM_VALUES = st.one_of(TEXT, DECIMALS.map(to_wire), st.just(""))

PARAMS = st.dictionaries(PARAM_NAMES, PARAM_VALUES, min_size=0, max_size=8)
