"""The clients' checks of ``create_orders``' orders and ``cancel_orders``' ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from exchanges.batch_items import order_request
from exchanges.errors import ExchangeError

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs

__all__ = ["checked_ids", "checked_orders"]


def checked_orders(client: Any, orders: Any) -> list[OrderArgs | ExchangeError]:
    """``create_orders``' orders checked as ``create_order`` checks one: each becomes its
    ``OrderArgs`` or the ``ExchangeError`` that call would raise before sending. Python usage
    errors raise at once (``TypeError``/``ValueError``: not a list, an unknown field, two
    orders with one client order id), and so does ``NotSupported`` for a market type the
    exchange has no batch for: then nothing is sent."""
    from exchanges import arguments
    from exchanges.capabilities import order_keys

    if isinstance(orders, str | bytes | Mapping) or not isinstance(orders, Sequence):
        raise TypeError(
            f"orders must be a list of OrderRequest (or dicts), not {orders.__class__.__name__}"
        )
    requests = [order_request(order) for order in orders]
    checked: list[OrderArgs | ExchangeError] = []
    for request in requests:
        try:
            arguments.check_symbol(request.symbol)
        except ExchangeError as err:
            checked.append(err)
            continue
        client._offers("create_orders", symbol=request.symbol)
        try:
            client._offers(*order_keys(request.type, request.time_in_force, request.post_only))
            checked.append(
                arguments.order_args(
                    request.symbol,
                    request.type,
                    request.side,
                    request.amount,
                    request.price,
                    client_order_id=request.client_order_id,
                    time_in_force=request.time_in_force,
                    post_only=request.post_only,
                    reduce_only=request.reduce_only,
                    params=request.params,
                    reserved=client.adapter.reserved_order_params,
                    client_id_params=client.adapter.client_id_params,
                    good_till=request.good_till,
                )
            )
        except ExchangeError as err:
            checked.append(err)
    seen: set[str] = set()
    for item in checked:
        if isinstance(item, ExchangeError):
            continue
        if item.client_order_id in seen:
            raise ValueError(
                f"two orders of the batch have client_order_id {item.client_order_id!r}: "
                "each order needs its own"
            )
        seen.add(item.client_order_id)
    return checked


def checked_ids(ids: Any) -> list[str]:
    """``cancel_orders``' ids: a list of distinct, non-empty order ids (str or int)."""
    if isinstance(ids, str | bytes | Mapping) or not isinstance(ids, Sequence):
        raise TypeError(f"ids must be a list of order ids, not {ids.__class__.__name__}")
    found: list[str] = []
    for value in ids:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise TypeError(f"an order id must be a str, not {value.__class__.__name__}")
        text = str(value)
        if not text:
            raise ValueError("an order id is empty: pass the ids the exchange returned")
        if text in found:
            raise ValueError(f"order id {text!r} is listed twice")
        found.append(text)
    return found
