"""``connect(..., rate_limits=...)``: the documented limits, scaled, or none, chosen in public.

Each check books reservations back to back (microseconds apart, far inside any window) on the
keys of a real request and counts how many go out before the first wait.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.ratepolicy import check_rate_limits


def free_sends(ex: Any, request: Any, most: int = 2_000) -> int:
    """How many of ``request`` the limiter lets out before asking to wait."""
    limiter = ex.session.limiter
    for sent in range(most):
        if limiter.reserve(request.rate_keys, request.weight) > 0:
            return sent
    return most


def linear_order(ex: Any) -> Any:
    return ex.adapter.build.create_order({"symbol": "BTCUSDT"}, "linear")


def test_documented_limits_are_the_default_and_a_number_scales_them() -> None:
    with exchanges.connect("bybit", base_url="http://127.0.0.1:9") as documented:
        baseline = free_sends(documented, linear_order(documented))
    # Bybit documents 10 linear orders a second per UID ("Rate limit rules"); the limiter lets
    # a short burst out at once and paces the rest.
    assert 1 <= baseline <= 10
    with exchanges.connect("bybit", base_url="http://127.0.0.1:9", rate_limits=3) as tripled:
        assert free_sends(tripled, linear_order(tripled)) == 3 * baseline
    with exchanges.connect("bybit", base_url="http://127.0.0.1:9", rate_limits=0.5) as halved:
        assert free_sends(halved, linear_order(halved)) == max(1, baseline // 2)


def test_off_books_nothing() -> None:
    with exchanges.connect("bybit", base_url="http://127.0.0.1:9", rate_limits="off") as ex:
        assert free_sends(ex, linear_order(ex)) == 2_000


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("fast", ValueError),
        (0, ValueError),
        (-1, ValueError),
        (float("inf"), ValueError),
        (float("nan"), ValueError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_a_bad_value_is_refused_at_connect(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        exchanges.connect("bybit", base_url="http://127.0.0.1:9", rate_limits=value)
    assert "rate_limits" in str(caught.value)


def test_accepted_values() -> None:
    assert check_rate_limits("documented") == "documented"
    assert check_rate_limits("off") == "off"
    assert check_rate_limits(Decimal("1.5")) == 1.5
    assert check_rate_limits(2) == 2.0
