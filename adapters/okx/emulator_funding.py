"""OKX funding routes of the emulator, over the engine's schedule (``exchanges.emulator.funding``).

``GET /api/v5/public/funding-rate`` ("Get funding rate",
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate): ``instId`` of a swap;
``fundingRate`` is the forecast of the rate settling at ``fundingTime`` (in the emulator the
forecast is what settles), ``nextFundingTime`` the settlement after, ``settFundingRate`` the
last settled rate with ``settState`` ``settled``, ``minFundingRate``/``maxFundingRate`` the caps,
``nextFundingRate`` empty (deprecated), ``ts`` the time.

``GET /api/v5/public/funding-rate-history`` ("Get funding rate history",
https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate-history): ``instId``,
``after`` (records earlier than that ``fundingTime``), ``before`` (later), ``limit`` up to 400
(default 400); newest first; ``fundingRate`` is the forecast that was shown and ``realizedRate``
the rate charged (the emulator draws the forecast from a second series, so the two differ).
With ``before`` alone the newest records come, as OKX's pagination does elsewhere (candles say
so; the funding page does not). OKX keeps about three months; the emulator keeps the engine's
whole schedule, so paging goes further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire

if TYPE_CHECKING:
    from adapters.okx.emulator import Instrument, OkxFrontEnd

__all__ = ["OkxFunding"]


class OkxFunding:
    """The funding endpoints, over an OKX front-end's state."""

    def __init__(self, front: OkxFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {
            ("GET", "/api/v5/public/funding-rate"): (self.funding_rate, None),
            ("GET", "/api/v5/public/funding-rate-history"): (self.history, None),
        }

    def _swap(self, params: Mapping[str, Any]) -> Instrument:
        from adapters.okx.emulator import OkxError

        inst = self.front._inst(params)
        if inst.inst_type != "SWAP":
            raise OkxError("51000", "Parameter instId error")
        return inst

    def funding_rate(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/public/funding-rate`` of one swap."""
        from exchanges.emulator.funding import MAX_RATE

        inst = self._swap(params)
        spec = inst.spec
        view = self.front.engine.funding(spec.symbol, category=spec.category)
        return [
            {
                "instType": "SWAP",
                "instId": inst.inst_id,
                "method": "current_period",
                "formulaType": "withRate",
                "fundingRate": to_wire(view.rate),
                "fundingTime": str(view.funding_time),
                "nextFundingRate": "",
                "nextFundingTime": str(view.funding_time + view.interval_ms),
                "minFundingRate": to_wire(-MAX_RATE),
                "maxFundingRate": to_wire(MAX_RATE),
                "settFundingRate": to_wire(view.previous_rate),
                "settState": "settled",
                "premium": "0",
                "interestRate": "0.0001",
                "impactValue": "",
                "ts": str(view.time_ms),
            }
        ]

    def history(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """``/api/v5/public/funding-rate-history``, newest first."""
        front = self.front
        inst = self._swap(params)
        spec = inst.spec
        limit = front._limit(params, 400, 400)
        after, before = front._ms(params, "after"), front._ms(params, "before")
        rows = front.engine.funding_history(
            spec.symbol,
            start_ms=None if before is None else before + 1,
            end_ms=None if after is None else after - 1,
            category=spec.category,
        )
        return [
            {
                "instType": "SWAP",
                "instId": inst.inst_id,
                "formulaType": "withRate",
                "fundingRate": to_wire(front.engine.funding_rate(spec, row.time_ms, "forecast")),
                "realizedRate": to_wire(row.rate),
                "fundingTime": str(row.time_ms),
                "method": "current_period",
            }
            for row in reversed(rows[-limit:])
        ]
