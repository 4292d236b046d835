"""The shared pre-flight check for a trigger the watched price has already reached (for
exchanges that take no trigger direction and would fire it at once)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchanges.errors import InvalidOrder
from exchanges.preflight import check_trigger_ahead

D = Decimal


@pytest.mark.parametrize(
    ("direction", "watched", "refused"),
    [
        ("rise", D(99), False),
        ("rise", D(100), True),  # reached counts: it would fire at once
        ("rise", D(101), True),
        ("fall", D(101), False),
        ("fall", D(100), True),
        ("fall", D(99), True),
        ("rise", None, False),  # price unknown: left to the exchange
    ],
)
def test_a_trigger_is_refused_only_when_the_price_has_reached_it(
    direction: str, watched: Decimal | None, refused: bool
) -> None:
    def check() -> None:
        check_trigger_ahead(D(100), direction, watched, trigger_by="mark", exchange="okx")

    if not refused:
        check()
        return
    with pytest.raises(InvalidOrder) as err:
        check()
    assert err.value.exchange == "okx"
    assert "mark price" in err.value.message and "above the price" in (err.value.hint or "")
