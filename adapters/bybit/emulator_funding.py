"""Bybit v5 funding routes of the emulator, over the engine's schedule
(``exchanges.emulator.funding``).

``GET /v5/market/funding/history`` ("Get Funding Rate History",
https://bybit-exchange.github.io/docs/v5/market/history-fund-rate): ``category`` linear or
inverse, ``symbol`` required, ``startTime`` and ``endTime`` in ms (``startTime`` alone is
refused), ``limit`` 1 to 200 (default 200); ``result.list`` of ``symbol``, ``fundingRate`` and
``fundingRateTimestamp``, newest first. The current rate is in ``/v5/market/tickers``
(``fundingRate``, ``nextFundingTime``, ``fundingIntervalHour``: ``ticker_fields``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from adapters.bybit.emulator_base import BybitError, _ms
from exchanges.decimals import to_wire
from exchanges.emulator.engine import InstrumentSpec

if TYPE_CHECKING:
    from adapters.bybit.emulator import BybitFrontEnd

__all__ = ["BybitFunding"]

_HOUR_MS = 3_600_000


class BybitFunding:
    """The funding endpoints, over a Bybit front-end's state."""

    def __init__(self, front: BybitFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {("GET", "/v5/market/funding/history"): (self.history, None)}

    def ticker_fields(self, spec: InstrumentSpec) -> dict[str, str]:
        """The funding fields of a linear or inverse ticker."""
        view = self.front.engine.funding(spec.symbol, category=spec.category)
        return {
            "fundingRate": to_wire(view.rate),
            "nextFundingTime": str(view.funding_time),
            "fundingIntervalHour": str(view.interval_ms // _HOUR_MS),
            "fundingCap": "0.00375",
        }

    def history(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``/v5/market/funding/history``, newest first."""

        front = self.front
        category = front._category(params)
        if category not in ("linear", "inverse"):
            raise BybitError(10001, f"params error: category invalid [{category}]")
        spec = front._spec(params, category)
        start, end = _ms(params, "startTime"), _ms(params, "endTime")
        if start is not None and end is None:
            raise BybitError(10001, "params error: endTime is required with startTime")
        limit = front._limit(params, 200, 200)
        rows = front.engine.funding_history(
            spec.symbol, start_ms=start, end_ms=end, category=category
        )
        return {
            "category": category,
            "list": [
                {
                    "symbol": spec.symbol,
                    "fundingRate": to_wire(row.rate),
                    "fundingRateTimestamp": str(row.time_ms),
                }
                for row in reversed(rows[-limit:])
            ],
        }
