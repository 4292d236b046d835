"""Binance USD-M funding routes of the emulator, over the engine's schedule
(``exchanges.emulator.funding``).

``GET /fapi/v1/premiumIndex`` ("Mark Price",
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price):
``symbol`` optional (one object, else a list), fields ``symbol``, ``markPrice``, ``indexPrice``,
``estimatedSettlePrice``, ``lastFundingRate``, ``interestRate``, ``nextFundingTime``, ``time``.

``GET /fapi/v1/fundingRate`` ("Get Funding Rate History",
https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History):
``symbol``, ``startTime``, ``endTime`` (inclusive), ``limit`` default 100, at most 1000; oldest
first; ``fundingRate``, ``fundingTime``, ``markPrice``. With ``startTime`` the first ``limit``
records from it; without times the most recent ones (the page says 200 when no ``limit`` is
sent); with ``endTime`` alone the emulator answers the latest ``limit`` up to it, which the
page does not state. Rates and prices print with 8 decimals, as Binance's examples do;
``markPrice`` of a past settlement is the current mark (the engine keeps no mark history).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from exchanges.emulator.engine import InstrumentSpec

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd

__all__ = ["BinanceFunding"]


def _f8(value: Decimal) -> str:
    return format(value, ".8f")


class BinanceFunding:
    """The funding endpoints, over a Binance front-end's state."""

    def __init__(self, front: BinanceFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None, str]]:
        """(method, path) -> (handler, security, market), merged into the front-end's table."""
        return {
            ("GET", "/fapi/v1/premiumIndex"): (self.premium_index, None, "usdm"),
            ("GET", "/fapi/v1/fundingRate"): (self.funding_rate, None, "usdm"),
        }

    def _premium(self, spec: InstrumentSpec) -> dict[str, Any]:
        view = self.front.engine.funding(spec.symbol, category=spec.category)
        return {
            "symbol": spec.symbol,
            "markPrice": _f8(view.mark),
            "indexPrice": _f8(view.index),
            "estimatedSettlePrice": _f8(view.index),
            "lastFundingRate": _f8(view.rate),
            "interestRate": "0.00010000",
            "nextFundingTime": view.funding_time,
            "time": view.time_ms,
        }

    def premium_index(self, params: Mapping[str, str]) -> Any:
        """``/fapi/v1/premiumIndex``: one object for ``symbol``, else a list."""
        front = self.front
        specs = front.chosen({"symbol": params.get("symbol", "")}, "usdm")
        items = [self._premium(s) for s in specs]
        return items[0] if params.get("symbol") else items

    def funding_rate(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """``/fapi/v1/fundingRate``, oldest first."""
        front = self.front
        start, end = front._int(params, "startTime"), front._int(params, "endTime")
        timed = start is not None or end is not None
        limit = front._limit(params, 100 if timed else 200, 1000)
        rows: list[tuple[int, str, dict[str, Any]]] = []
        for spec in front.chosen({"symbol": params.get("symbol", "")}, "usdm"):
            engine = front.engine
            mark = engine.ticker(spec.symbol, category=spec.category).mark
            for item in engine.funding_history(
                spec.symbol, start_ms=start, end_ms=end, category=spec.category
            ):
                row = {
                    "symbol": spec.symbol,
                    "fundingRate": _f8(item.rate),
                    "fundingTime": item.time_ms,
                    "markPrice": _f8(mark),
                }
                rows.append((item.time_ms, spec.symbol, row))
        rows.sort(key=lambda r: (r[0], r[1]))
        chosen = rows[:limit] if start is not None else rows[-limit:]
        return [row for _, _, row in chosen]
