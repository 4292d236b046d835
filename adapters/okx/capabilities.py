"""What the OKX adapter offers (``OkxAdapter.capabilities``, ``exchanges.capabilities``).

Sources: https://www.okx.com/docs-v5/en/#order-book-trading-trade-post-place-order "Place order"
(ordType: market, limit, post_only, fok, ioc ...: no GTD; sz counts contracts for SWAP, FUTURES
and OPTION), https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments "Get
instruments" (ctVal, ctValCcy), https://www.okx.com/docs-v5/en/#overview-demo-trading-services
"Demo Trading Services" (no testnet) and the order history and fills pages cited in the adapter.
"""

from __future__ import annotations

from adapters.okx.hosts import ENVIRONMENTS
from exchanges.capabilities import (
    ENVIRONMENTS as ALL_ENVIRONMENTS,
)
from exchanges.capabilities import (
    ORDER_INTENTS,
    PRIVATE_OPERATIONS,
    PUBLIC_OPERATIONS,
    STREAMS,
    Capabilities,
    Support,
    no,
    perpetual_only,
    yes,
)

__all__ = ["CAPABILITIES"]

_CONTRACTS = "contracts of ctVal (converted)"

_FUNDING = perpetual_only("OKX pays funding on perpetual swaps only (SWAP instruments)")

_SPECIAL: dict[str, Support] = {
    "set_leverage": yes(
        "of the symbol's margin mode (cross unless set_margin_mode chose isolated); dated "
        "futures share one cross leverage per underlying",
        markets={
            "spot": no("OKX spot (cash) has no leverage to set"),
            "option": no("OKX options have no leverage to set"),
        },
    ),
    # OKX picks the margin mode per order (tdMode): the adapter remembers it per symbol.
    "set_margin_mode": yes(
        "per order on OKX (tdMode): the adapter's later orders on the symbol use it, after "
        "set-leverage under that mode checks it",
        markets={
            "spot": no("OKX spot (cash) has no margin mode to set"),
            "option": no("OKX options have no margin mode to set"),
        },
    ),
    "set_position_mode": yes(
        "account-wide: every swap and future at once (posMode)",
        markets={
            "spot": no("OKX spot has no position mode"),
            "option": no("OKX options have no position mode"),
        },
    ),
    "fetch_funding_rate": yes(markets=_FUNDING),
    "fetch_funding_rate_history": yes(markets=_FUNDING),
    "cancel_all_orders": yes(
        "batch-cancels the open orders, 20 a request (OKX has no cancel-all for regular orders)"
    ),
    "fetch_closed_orders": yes("the last 7 days; finished conditional (algo) orders 3 months"),
    "fetch_my_trades": yes("the last 3 days"),
}

#: Batches ("Place multiple orders", "Cancel multiple orders"; adapters/okx/batch.py).
_SPECIAL.update(
    {
        "create_orders": yes("/api/v5/trade/batch-orders: 20 orders a request, any instruments"),
        "cancel_orders": yes("/api/v5/trade/cancel-batch-orders: 20 orders a request"),
    }
)

#: Conditional orders and stops: algo orders ("Place algo order",
#: https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order) and
#: attachAlgoOrds ("Place order"); adapters/okx/algo.py.
_NO_OPTION_ALGOS = no("OKX algo orders on options are not mapped here")
_SPOT_LAST = no("OKX spot algo orders trigger on the last price only")
_ATTACHED = yes(
    "attachAlgoOrds: an algo order (oco for both) of the filled amount once the order fills",
    markets={
        "spot": no("OKX spot TP/SL on an order are not mapped here"),
        "option": _NO_OPTION_ALGOS,
    },
)
_POSITION = {"spot": no("a spot market has no position"), "option": _NO_OPTION_ALGOS}
_SPECIAL.update(
    {
        "order.trigger": yes(
            "ordType trigger; OKX takes no direction, so the adapter reads the watched price "
            "first and refuses a trigger already reached",
            markets={"option": _NO_OPTION_ALGOS},
        ),
        "order.trigger_by.mark": yes(markets={"spot": _SPOT_LAST, "option": _NO_OPTION_ALGOS}),
        "order.trigger_by.index": yes(markets={"spot": _SPOT_LAST, "option": _NO_OPTION_ALGOS}),
        "order.amend": yes(
            "trigger orders through /api/v5/trade/amend-algos (newSz, newOrdPx); a stop or "
            "trailing order is not amended (NotSupported)",
            markets={"option": _NO_OPTION_ALGOS},
        ),
        "order.stop_loss": _ATTACHED,
        "order.take_profit": _ATTACHED,
        "order.trailing_percent": yes(
            "move_order_stop: callbackRatio (percent / 100)", markets={"option": _NO_OPTION_ALGOS}
        ),
        "order.trailing_amount": yes(
            "move_order_stop: callbackSpread, a price distance",
            markets={"option": _NO_OPTION_ALGOS},
        ),
        "position.trading_stop": yes(
            "one conditional/oco algo order with closeFraction=1, at market", markets=_POSITION
        ),
        "position.trailing_stop": no(
            "OKX trails with move_order_stop orders of an amount, not a position's stop",
        ),
        "order.streamed": yes(
            "orders-algo and algo-advance (trailing) on a logged-in /ws/v5/business connection",
            markets={"option": _NO_OPTION_ALGOS},
        ),
    }
)

CAPABILITIES = Capabilities(
    "okx",
    markets={
        "spot": yes(),
        "swap": yes(),
        "future": yes(),
        "inverse": yes(),
        "option": yes("options load per instrument family on first use"),
    },
    order_types={
        "market": yes("spot market buys count the base currency (tgtCcy=base_ccy)"),
        "limit": yes(),
    },
    time_in_force={
        "GTC": yes(),
        "IOC": yes(),
        "FOK": yes(),
        "PO": yes(),
        "GTD": no("OKX has no GTD order type"),
    },
    operations={
        name: _SPECIAL.get(name, yes())
        for name in (*PUBLIC_OPERATIONS, *PRIVATE_OPERATIONS, *ORDER_INTENTS)
    },
    streams={name: yes() for name in STREAMS},
    environments={
        env: yes()
        if env in ENVIRONMENTS
        else no(f"OKX has no {env}; its sandbox is demo trading", hint="Connect with env='demo'.")
        for env in ALL_ENVIRONMENTS
    },
    native_units={
        "spot": "base",
        "swap": _CONTRACTS,
        "future": _CONTRACTS,
        "inverse": _CONTRACTS,
        "option": _CONTRACTS,
    },
)
