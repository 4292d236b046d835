"""Worker processes for the fleet tests (spawned: module-level functions only)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import exchanges

SYMBOL = "BTC/USDT:USDT"
KEY, SECRET = "test-key", "test-secret"


def _connect(base_url: str, fleet: str | None) -> exchanges.Exchange:
    return exchanges.connect(
        "bybit",
        base_url=base_url,
        credentials=exchanges.Credentials(KEY, SECRET),
        allow_withdrawal_keys=True,  # no key check: every worker's first write is timed alike
        fleet=fleet,
    )


def place_with_id(
    base_url: str, fleet: str, client_order_id: str, ready: Any, go: Any, results: Any
) -> None:
    """Place one order with ``client_order_id`` as soon as ``go`` is set; report what happened."""
    with _connect(base_url, fleet) as ex:
        ex.load_markets()
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        ex.fetch_balance()  # clock synced, budget warmed: both race from the same point
        ready.put(1)
        go.wait(60)
        try:
            ex.create_order(
                SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id=client_order_id
            )
        except exchanges.DuplicateOrderId as err:
            results.put(("duplicate", err.message))
        except exchanges.ExchangeError as err:
            results.put(("error", f"{type(err).__name__}: {err.message}"))
        else:
            results.put(("placed", ""))


def place_slowly(base_url: str, fleet: str, client_order_id: str, ready: Any, go: Any) -> None:
    """Place one order after ``go``; the test kills this process while the order is in flight."""
    from exchanges.retry import RetryPolicy

    with exchanges.connect(
        "bybit",
        base_url=base_url,
        credentials=exchanges.Credentials(KEY, SECRET),
        allow_withdrawal_keys=True,
        fleet=fleet,
        recv_window_ms=1000,
        retry=RetryPolicy(max_delay=1.0),
        timeout=30,
    ) as ex:
        ex.load_markets()
        bid = ex.fetch_ticker(SYMBOL).bid
        assert bid is not None
        price = (bid * Decimal("0.8")).quantize(Decimal("0.1"))
        ex.fetch_balance()
        ready.put(1)
        go.wait(60)
        ex.create_order(
            SYMBOL, "limit", "buy", Decimal("0.001"), price, client_order_id=client_order_id
        )
