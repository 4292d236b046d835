"""The batch result and the checks of ``create_orders``' and ``cancel_orders``' arguments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.batch import BatchItem, BatchResult, OrderRequest, checked_ids, order_request
from exchanges.errors import InvalidOrder, NotSupported, OrderNotFound
from exchanges.models import Order


def order(order_id: str) -> Order:
    return Order(
        order_id, None, "BTC/USDT", "limit", "buy", "open", Decimal(1), Decimal(1), None, None,
        None, "GTC", False, False, None, None,
    )  # fmt: skip


def test_a_result_lists_successes_and_failures_in_order() -> None:
    refused = InvalidOrder("no")
    result = BatchResult(
        [
            BatchItem(0, order=order("a")),
            BatchItem(1, error=refused),
            BatchItem(2, order=order("c")),
        ]
    )
    assert len(result) == 3 and [item.ok for item in result] == [True, False, True]
    assert [o.id for o in result.orders] == ["a", "c"]
    assert result.failed == [result[1]] and not result.ok
    assert repr(result) == "BatchResult(2 ok, 1 failed)"
    with pytest.raises(InvalidOrder) as caught:
        result.raise_first()
    assert caught.value is refused
    assert BatchResult([BatchItem(0, order=order("a"))]).raise_first()[0].id == "a"


def test_orders_are_requests_or_dicts_of_their_fields() -> None:
    as_dict: dict[str, Any] = {"symbol": "BTC/USDT", "type": "limit", "side": "buy", "amount": 1}
    assert order_request({**as_dict, "price": 2}) == OrderRequest("BTC/USDT", "limit", "buy", 1, 2)
    with pytest.raises(TypeError, match="unknown order field"):
        order_request({**as_dict, "qty": 1})
    with pytest.raises(TypeError, match="needs amount"):
        order_request({k: v for k, v in as_dict.items() if k != "amount"})
    with pytest.raises(TypeError):
        order_request(("BTC/USDT", "limit", "buy", 1))


def test_cancel_ids_are_distinct_non_empty_ids() -> None:
    assert checked_ids(["1", 2]) == ["1", "2"]
    for bad, error in (("12", TypeError), ([None], TypeError), ([""], ValueError)):
        with pytest.raises(error):
            checked_ids(bad)
    with pytest.raises(ValueError, match="twice"):
        checked_ids(["1", 1])


def test_a_batch_is_checked_like_single_orders_before_anything_is_sent() -> None:
    # No network: every refusal here happens before a request is built.
    # Binance spot has no batch endpoint.
    with exchanges.connect("binance") as ex, pytest.raises(NotSupported, match="create_orders"):
        ex.create_orders([OrderRequest("BTC/USDT", "limit", "buy", 1, 1)])
    with exchanges.connect("bybit") as ex:
        with pytest.raises(ValueError, match="client_order_id 'x1'"):
            ex.create_orders(
                [
                    OrderRequest("BTC/USDT", "limit", "buy", 1, 1, client_order_id="x1"),
                    OrderRequest("BTC/USDT", "limit", "sell", 1, 2, client_order_id="x1"),
                ]
            )
        assert len(ex.create_orders([])) == 0


def test_an_unknown_cancel_is_order_not_found_in_the_result() -> None:
    item = BatchItem(0, error=OrderNotFound("gone"), id="7")
    assert not item.ok and item.id == "7"
