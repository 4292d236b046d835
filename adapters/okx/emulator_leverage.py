"""OKX v5 leverage route of the emulator, over the engine's leverage per (account, instrument)
(``Engine.set_leverage``: the margin of the position and open orders is re-locked).

``POST /api/v5/account/set-leverage`` ("Set leverage",
https://www.okx.com/docs-v5/en/#trading-account-rest-api-set-leverage): ``instId`` (or ``ccy``
for margin, not emulated), ``lever``, ``mgnMode`` ``cross`` or ``isolated``, ``posSide`` only
for isolated in long/short mode; ``data`` is one item ``{lever, mgnMode, instId, posSide}``.
A SWAP's leverage is per contract; FUTURES under cross margin share one leverage per
underlying (any instId of it sets all), as the page's cases say. Setting the value in force
again answers like any change (OKX has no "not modified" code). The engine has one leverage per
instrument whatever the margin mode, so ``isolated`` sets the same value (posSide is ignored).
Refusals ("Error codes", https://www.okx.com/docs-v5/en/#error-code-rest-api-account):
59102 "Leverage exceeds the maximum leverage. Please adjust the leverage" above the
instrument's ``lever`` (its maximum, as ``/api/v5/public/instruments`` says here); 59105 below
1. A spot or option instId is answered 51000 (Parameter instId error): the code OKX gives
there is UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from exchanges.decimals import to_wire

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["OkxLeverage"]


class OkxLeverage:
    """The set-leverage endpoint, over an OKX front-end's state."""

    def __init__(self, front: OkxFrontEnd) -> None:
        self.front = front

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None]]:
        """(method, path) -> (handler, access), merged into the front-end's table."""
        return {("POST", "/api/v5/account/set-leverage"): (self.set_leverage, "trade")}

    def set_leverage(self, params: Mapping[str, Any], key: ApiKey) -> list[dict[str, str]]:
        """``/api/v5/account/set-leverage`` of a SWAP or FUTURES instrument."""
        from adapters.okx.emulator import OkxError, _text

        front = self.front
        if not isinstance(params, Mapping):
            raise OkxError("50014", "Parameter instId can not be empty.")
        mode = _text(params.get("mgnMode"))
        if not mode:
            raise OkxError("50014", "Parameter mgnMode can not be empty.")
        if mode not in ("cross", "isolated"):
            raise OkxError("51000", "Parameter mgnMode error")
        text = _text(params.get("lever"))
        if not text:
            raise OkxError("50014", "Parameter lever can not be empty.")
        inst = front._inst(params)
        if inst.inst_type not in ("SWAP", "FUTURES"):
            raise OkxError("51000", "Parameter instId error")
        try:
            lever = Decimal(text)
        except InvalidOperation:
            raise OkxError("51000", "Parameter lever error") from None
        if not lever.is_finite():
            raise OkxError("51000", "Parameter lever error")
        spec = inst.spec
        if lever < 1:
            raise OkxError("59105", "Leverage can not be less than 1. Please adjust the leverage")
        if lever > spec.max_leverage:
            raise OkxError(
                "59102", "Leverage exceeds the maximum leverage. Please adjust the leverage"
            )
        targets = [inst]
        if inst.inst_type == "FUTURES" and mode == "cross":
            targets = [
                other
                for other in front.instruments.values()
                if other.inst_type == "FUTURES" and other.family == inst.family
            ]
        for target in targets:
            front.engine.set_leverage(
                key.uid, target.spec.symbol, lever, category=target.spec.category
            )
        return [
            {
                "lever": to_wire(lever),
                "mgnMode": mode,
                "instId": inst.inst_id,
                "posSide": _text(params.get("posSide")) or "net",
            }
        ]
