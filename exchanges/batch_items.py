"""What a batch takes and gives back: an ``OrderRequest`` per order, a ``BatchResult``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import attrs

from exchanges.errors import ExchangeError
from exchanges.models import Order

__all__ = ["BatchItem", "BatchResult", "OrderRequest", "order_request"]


@attrs.frozen
class OrderRequest:
    """One order of ``create_orders``: ``create_order``'s arguments (plain limit and market
    orders; conditional orders and stops are placed with ``create_order``)."""

    symbol: str
    type: str
    side: str
    amount: Any
    price: Any = None
    client_order_id: str | None = None
    time_in_force: str | None = None
    post_only: bool = False
    reduce_only: bool = False
    params: dict[str, Any] | None = None
    good_till: int | None = None


_FIELDS = frozenset(attrs.fields_dict(OrderRequest))


def order_request(value: Any) -> OrderRequest:
    """An ``OrderRequest``, or a mapping with its fields (ccxt's ``create_orders`` items:
    ``symbol``, ``type``, ``side``, ``amount``, ``price``, ``params``)."""
    if isinstance(value, OrderRequest):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(
            f"each order must be an OrderRequest or a dict of its fields, not "
            f"{value.__class__.__name__}"
        )
    unknown = sorted(str(k) for k in value if k not in _FIELDS)
    if unknown:
        raise TypeError(
            f"unknown order field(s) {', '.join(unknown)}; an order takes "
            f"{', '.join(f.name for f in attrs.fields(OrderRequest))}"
        )
    missing = [name for name in ("symbol", "type", "side", "amount") if name not in value]
    if missing:
        raise TypeError(f"an order needs {', '.join(missing)}")
    return OrderRequest(**value)


@attrs.frozen
class BatchItem:
    """The outcome of one order of a batch: ``order`` when it succeeded, else ``error``."""

    #: Its place in the list the caller gave.
    index: int
    order: Order | None = None
    error: ExchangeError | None = None
    #: The order id asked for (``cancel_orders``).
    id: str | None = None
    #: The client order id it was placed with (``create_orders``).
    client_order_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


class BatchResult(Sequence[BatchItem]):
    """One ``BatchItem`` per order asked for, in the order asked."""

    __slots__ = ("_items",)

    def __init__(self, items: Sequence[BatchItem]) -> None:
        self._items = tuple(items)

    @overload
    def __getitem__(self, index: int) -> BatchItem: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[BatchItem]: ...

    def __getitem__(self, index: int | slice) -> BatchItem | Sequence[BatchItem]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[BatchItem]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"BatchResult({len(self.orders)} ok, {len(self.failed)} failed)"

    @property
    def orders(self) -> list[Order]:
        """The orders of the items that succeeded, in the order asked."""
        return [item.order for item in self._items if item.order is not None]

    @property
    def failed(self) -> list[BatchItem]:
        """The items that failed, each with its ``error``."""
        return [item for item in self._items if item.error is not None]

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return not self.failed

    def raise_first(self) -> list[Order]:
        """Every order when all succeeded; else raise the first failed item's error."""
        for item in self._items:
            if item.error is not None:
                raise item.error
        return self.orders
