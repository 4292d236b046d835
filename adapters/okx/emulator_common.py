"""Shared parts of the OKX emulator front-end: instruments, errors, wire helpers, lookups.

The front-end (``adapters/okx/emulator.py``) is split by area: this module holds what every
area uses (the instrument table, ``OkxError``/``ItemError``, parameter readers), and
``emulator_market.py``, ``emulator_account.py`` and ``emulator_trading.py`` hold the handlers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError, InstrumentSpec
from exchanges.emulator.inputs import integer
from exchanges.emulator.server import EmulatorState

if TYPE_CHECKING:
    from adapters.okx.emulator_books import BookSequence

__all__ = ["CONTRACT_VALUES", "Instrument", "ItemError", "OkxCore", "OkxError"]

#: ctVal per (category, base): OKX's own contract sizes for these swaps.
CONTRACT_VALUES: Mapping[tuple[str, str], Decimal] = {
    ("linear", "BTC"): Decimal("0.01"),
    ("linear", "ETH"): Decimal("0.1"),
    ("linear", "SOL"): Decimal("1"),
    ("inverse", "BTC"): Decimal("100"),
    ("inverse", "ETH"): Decimal("10"),
}

_WINDOW_S = 30  # OKX rejects timestamps more than 30 s from its clock (50102)
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_EXP_TIME = re.compile(r"[0-9]{1,19}")  # Unix ms; ASCII digits only, as ``integer`` reads them
_CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_TYPES = ("SPOT", "SWAP", "FUTURES", "OPTION", "MARGIN")
_SCOPE = {"SPOT": "spot_trade", "SWAP": "derivatives_trade", "FUTURES": "derivatives_trade"}
_ORD_TYPES = {
    "limit": ("limit", "GTC"),
    "post_only": ("limit", "PostOnly"),
    "ioc": ("limit", "IOC"),
    "fok": ("limit", "FOK"),
    "market": ("market", "IOC"),
    "optimal_limit_ioc": ("market", "IOC"),
}
# Why OKX cancelled an order itself (cancelSource, "Get order details"; the FOK one has no
# documented number the emulator relies on, so it stays empty).
_CANCEL_SOURCES = {"post_only_would_take": "31"}
_STATES = {
    "new": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "cancelled": "canceled",
    "partially_filled_cancelled": "canceled",
    "rejected": "canceled",
}
_BARS = {
    "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30,
    "1H": 60, "2H": 120, "4H": 240, "6H": 360, "12H": 720,
    "1D": 1440, "2D": 2880, "3D": 4320, "1W": 10080, "1M": 43200, "3M": 129600,
    "6Hutc": 360, "12Hutc": 720, "1Dutc": 1440, "2Dutc": 2880, "3Dutc": 4320,
    "1Wutc": 10080, "1Mutc": 43200, "3Mutc": 129600,
}  # fmt: skip
# HTTP statuses of top-level codes in OKX's error table; business errors come with 200.
_HTTP = {
    "50000": 400, "50001": 503, "50002": 400, "50004": 400, "50006": 400, "50011": 429,
    "50014": 400, "50015": 400, "50101": 401, "50102": 401, "50103": 401, "50104": 401,
    "50105": 401, "50106": 401, "50107": 401, "50110": 401, "50111": 401, "50112": 401,
    "50113": 401, "51000": 400,
}  # fmt: skip


class OkxError(Exception):
    """A top-level OKX error: ``code``, ``msg`` and the HTTP status OKX's error table gives."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = _HTTP.get(code, 200)


class ItemError(Exception):
    """A failed item of an order write: ``sCode``, ``sMsg`` and ``subCode``."""

    def __init__(self, code: str, message: str, sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.sub_code = sub_code


@attrs.frozen
class Instrument:
    """One emulated OKX instrument over an engine instrument."""

    inst_id: str
    inst_type: str
    spec: InstrumentSpec
    ct_val: Decimal | None

    @property
    def family(self) -> str:
        """``BTC-USDT``: the instrument family (``uly``) of a contract."""
        return f"{self.spec.base}-{self.spec.quote}"

    def to_engine(self, size: Decimal) -> Decimal:
        """An OKX size (contracts for swaps) as the engine's quantity."""
        return size * self.ct_val if self.ct_val is not None else size

    def from_engine(self, qty: Decimal) -> Decimal:
        """An engine quantity as an OKX size (contracts without trailing zeros, like OKX's)."""
        return (qty / self.ct_val).normalize() if self.ct_val is not None else qty


def _numeric(engine_id: str) -> str:
    """An engine id (a UUID) as an OKX-style numeric id: 18 digits, stable across resets."""
    return str(int(engine_id.replace("-", ""), 16) % 10**18).rjust(18, "1")


def _w(value: Decimal | None) -> str:
    return "" if value is None else to_wire(value)


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


class OkxCore:
    """The instrument table and the parameter readers every area of the front-end uses."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.engine = state.engine
        self.instruments: dict[str, Instrument] = {}
        self._inst_of: dict[tuple[str, str], Instrument] = {}
        for (category, symbol), spec in sorted(state.engine.instruments.items()):
            if category == "spot":
                inst = Instrument(f"{spec.base}-{spec.quote}", "SPOT", spec, None)
            else:
                ct_val = CONTRACT_VALUES.get((category, spec.base), spec.lot_size)
                inst = Instrument(f"{spec.base}-{spec.quote}-SWAP", "SWAP", spec, ct_val)
            self.instruments[inst.inst_id] = inst
            self._inst_of[(category, symbol)] = inst
        # OKX's ids are numeric strings: engine UUIDs are shown as numbers, mapped back here.
        self._engine_ids: dict[str, str] = {}
        # Per instId: the book's seqId chain (emulator_books.py), made on first use.
        self.book_sequences: dict[str, BookSequence] = {}

    # -- helpers --------------------------------------------------------------------------

    def _inst(self, params: Mapping[str, Any], *, item: bool = False) -> Instrument:
        inst_id = _text(params.get("instId"))
        if not inst_id:
            raise OkxError("50014", "Parameter instId can not be empty.")
        inst = self.instruments.get(inst_id)
        if inst is None:
            text = "Instrument ID, Instrument ID code or Spread ID doesn't exist."
            if item:
                raise ItemError("51001", text)
            raise OkxError("51001", text)
        return inst

    def _ord_id(self, engine_id: str) -> str:
        number = _numeric(engine_id)
        self._engine_ids[number] = engine_id
        return number

    def _of(self, view: Any) -> Instrument:
        return self._inst_of[(view.category, view.symbol)]

    @staticmethod
    def _decimal(params: Mapping[str, Any], name: str) -> Decimal | None:
        value = params.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise OkxError("51000", f"Parameter {name} error")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise OkxError("51000", f"Parameter {name} error") from None
        if not number.is_finite():
            raise OkxError("51000", f"Parameter {name} error")
        return number

    @staticmethod
    def _limit(params: Mapping[str, Any], default: int, maximum: int, name: str = "limit") -> int:
        text = _text(params.get(name))
        if not text:
            return default
        value = integer(text)
        if value is None or not 1 <= value <= maximum:
            raise OkxError("51000", f"Parameter {name} error")
        return value

    @staticmethod
    def _ms(params: Mapping[str, Any], name: str) -> int | None:
        text = _text(params.get(name))
        if not text:
            return None
        value = integer(text)
        if value is None or value < 0:
            raise OkxError("51000", f"Parameter {name} error")
        return value

    def _types(self, params: Mapping[str, Any], *, required: bool) -> list[str]:
        inst_type = _text(params.get("instType"))
        if not inst_type:
            if required:
                raise OkxError("50014", "Parameter instType can not be empty.")
            return list(_TYPES)
        if inst_type not in _TYPES:
            raise OkxError("51000", "Parameter instType error")
        return [inst_type]

    def _selected(self, params: Mapping[str, Any], *, type_required: bool) -> list[Instrument]:
        types = self._types(params, required=type_required)
        family = _text(params.get("instFamily") or params.get("uly"))
        inst_id = _text(params.get("instId"))
        ids = set(inst_id.split(",")) if inst_id else None
        return [
            i
            for i in self.instruments.values()
            if i.inst_type in types
            and (not family or (i.ct_val is not None and i.family == family))
            and (ids is None or i.inst_id in ids)
        ]

    def _engine_item_error(self, err: EngineError, inst: Instrument) -> ItemError:
        kind = err.kind
        if kind == "insufficient_funds":
            coin = inst.spec.quote if inst.inst_type == "SPOT" else inst.spec.settle
            if inst.inst_type == "SPOT":
                return ItemError(
                    "51008", f"Order failed. Insufficient {coin} balance in account.", "1000"
                )
            return ItemError(
                "51008", f"Order failed. Insufficient {coin} margin in account.", "1001"
            )
        if kind == "duplicate_client_order_id":
            return ItemError("51016", "Duplicated clOrdId")
        if kind in ("min_notional",):
            return ItemError("51020", "Your order should meet or exceed the minimum order amount.")
        if kind == "invalid_qty":
            if "outside" in err.message:
                return ItemError(
                    "51020", "Your order should meet or exceed the minimum order amount."
                )
            return ItemError("51121", "Order quantity must be a multiple of the lot size.")
        if kind == "invalid_price":
            return ItemError("51000", "Parameter px error")
        if kind == "unknown_symbol":
            return ItemError(
                "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist."
            )
        if kind == "reduce_only_rejected":
            return _reduce_only_error(err.message)
        return ItemError("51000", f"Parameter error: {err.message}")


def _reduce_only_error(reason: str) -> ItemError:
    """OKX's refusal of a reduce-only order (error table, "Trade" codes; the whole order is
    refused, never trimmed: "Place order", reduceOnly): 51169 without a position in its
    direction, 51170 on the position's own side, 51148 larger than what it may reduce (the
    engine's reasons say which)."""
    if "position's side" in reason:
        return ItemError(
            "51170",
            "Failed to place order. A reduce-only order can't be the same trading direction as "
            "your existing positions.",
        )
    if "exceeds reducible" in reason:
        return ItemError("51148", "ReduceOnly cannot increase the position quantity.")
    return ItemError(
        "51169",
        "Order failed because you don't have any positions in this direction for this contract "
        "to reduce or close.",
    )
