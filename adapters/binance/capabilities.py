"""What the Binance adapter offers (``BinanceAdapter.capabilities``, ``exchanges.capabilities``).

Sources: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints
"New order" (spot: timeInForce GTC, IOC, FOK; post-only is the LIMIT_MAKER type) and "Cancel an
Existing Order and Send a New Order" (cancelReplace: a new order, not an amend);
https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api "New Order"
(USD-M: GTC, IOC, FOK, GTX, GTD with goodTillDate) and "Modify Order"; COIN-M and options are the
separate APIs https://developers.binance.com/docs/derivatives/coin-margined-futures/general-info
and https://developers.binance.com/docs/derivatives/option/general-info.
"""

from __future__ import annotations

from adapters.binance.hosts import ENVIRONMENTS, sapi_unsupported_reason
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

__all__ = ["CAPABILITIES", "SPOT_AMEND_REASON"]

#: Why ``amend_order`` is refused on spot.
SPOT_AMEND_REASON = (
    "Binance spot has no in-place amend: POST /api/v3/order/cancelReplace places a new order "
    "(new orderId, queue priority lost) and can half-succeed (HTTP 409); use cancel_order and "
    "create_order"
)

_ONE_SYMBOL = "one symbol at a time (Binance lists them per symbol)"


def _sapi(env: str) -> Support:
    reason = sapi_unsupported_reason(env)
    return no(reason) if reason else yes()


_FUNDING = perpetual_only("Binance USD-M pays funding on perpetual swaps only")

_SPECIAL: dict[str, Support] = {
    "set_leverage": yes(
        "whole numbers only (Binance takes an int leverage)",
        markets={
            "spot": no("Binance spot has no leverage to set (POST /fapi/v1/leverage is USD-M)")
        },
    ),
    # "Change Margin Type" and "Change Position Mode" are USD-M endpoints (/fapi).
    "set_margin_mode": yes(
        "per symbol (POST /fapi/v1/marginType)",
        markets={"spot": no("Binance spot has no margin type to set (marginType is USD-M)")},
    ),
    "set_position_mode": yes(
        "account-wide: every USD-M symbol at once (and COIN-M, which shares the setting)",
        markets={"spot": no("Binance spot has no position mode (positionSide/dual is USD-M)")},
    ),
    "fetch_funding_rate": yes(markets=_FUNDING),
    "fetch_funding_rate_history": yes(markets=_FUNDING),
    "fetch_balance": yes(
        "spot and USD-M are separate wallets: fetch_balance('spot') or fetch_balance('swap')"
    ),
    "fetch_key_info": yes(
        environments={env: _sapi(env) for env in ENVIRONMENTS if not _sapi(env).supported}
    ),
    "amend_order": yes(markets={"spot": no(SPOT_AMEND_REASON)}),
    "fetch_closed_orders": yes(_ONE_SYMBOL),
    "fetch_my_trades": yes(_ONE_SYMBOL),
}

#: Batches, USD-M only ("Place Multiple Orders", "Cancel Multiple Orders";
#: adapters/binance/batch.py). Spot has no batch endpoint (nor does ccxt's Binance batch spot).
_NO_SPOT_BATCH = no(
    "Binance spot has no batch order endpoint (batchOrders is USD-M's)",
    hint="Place or cancel spot orders one by one (create_order, cancel_order).",
)
_SPECIAL.update(
    {
        "create_orders": yes(
            "USD-M /fapi/v1/batchOrders: 5 orders a request, any symbols, processed concurrently",
            markets={"spot": _NO_SPOT_BATCH},
        ),
        "cancel_orders": yes(
            "USD-M /fapi/v1/batchOrders (DELETE): 10 ids a request",
            markets={"spot": _NO_SPOT_BATCH},
        ),
    }
)

#: Conditional orders and stops: USD-M's Algo Order API ("New Algo Order",
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order;
#: adapters/binance/algo.py); spot's stop types on /api/v3/order ("New order (TRADE)",
#: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/trading-endpoints;
#: adapters/binance/spot_stops.py), which trigger on the last price only.
_SPOT_STOPS = {
    "spot": yes("STOP_LOSS/TAKE_PROFIT(_LIMIT) with stopPrice, type from side and direction")
}
_SPOT_LAST = no("Binance spot stops trigger on the last trade price only")
_SPOT_TRAILING = no(
    "Binance spot trails by trailingDelta (basis points from the best price since placement), "
    "which is not mapped here",
    hint="Place a stop with trigger_price=... and move it yourself.",
)
_NO_ATTACHED = no(
    "Binance has no stop-loss or take-profit attached to an order (nor does ccxt's Binance)",
    hint="Place the entry, then set_trading_stop(symbol, stop_loss=..., take_profit=...).",
)
_SPECIAL.update(
    {
        "order.trigger": yes(
            "algo orders (/fapi/v1/algoOrder), STOP or TAKE_PROFIT by direction; ids are algoIds",
            markets=_SPOT_STOPS,
        ),
        "order.trigger_by.mark": yes("workingType MARK_PRICE", markets={"spot": _SPOT_LAST}),
        "order.trigger_by.index": no("Binance triggers on the last or the mark price only"),
        "order.amend": no(
            "Binance's algo orders cannot be amended (PUT /fapi/v1/order knows ordinary orders "
            "only)",
            hint="Cancel the conditional order and place it again with the new values.",
        ),
        "order.stop_loss": _NO_ATTACHED,
        "order.take_profit": _NO_ATTACHED,
        "order.trailing_percent": yes(
            "TRAILING_STOP_MARKET algo order: callbackRate, a percentage 0.1-20",
            markets={"spot": _SPOT_TRAILING},
        ),
        "order.trailing_amount": no(
            "Binance trails by a percentage only (callbackRate, 0.1-20)",
            hint="Use trailing_percent=...",
        ),
        "position.trading_stop": yes(
            "algo STOP_MARKET/TAKE_PROFIT_MARKET with closePosition, at market",
            markets={"spot": no("a spot market has no position")},
        ),
        "position.trailing_stop": no(
            "Binance has no trailing stop on a position (closePosition takes no trailing type)",
        ),
        "order.streamed": yes(
            "USD-M: ALGO_UPDATE on the listenKey stream, with the orders",
            markets={"spot": yes("executionReport, as any spot order")},
        ),
    }
)

CAPABILITIES = Capabilities(
    "binance",
    markets={
        "spot": yes(),
        "swap": yes("USD-M (/fapi)"),
        "future": yes("USD-M quarterly (/fapi)"),
        "inverse": no(
            "Binance serves COIN-margined (inverse) contracts on the COIN-M API (dapi), which "
            "this adapter does not cover",
            hint="USD-M contracts are BASE/USDT:USDT or BASE/USDC:USDC; use ccxt:binance for "
            "COIN-M.",
        ),
        "option": no(
            "Binance options live on a separate API (eapi) that this adapter does not cover",
            hint="Use ccxt:binance for Binance options.",
        ),
    },
    order_types={"market": yes(), "limit": yes()},
    time_in_force={
        "GTC": yes(),
        "IOC": yes(),
        "FOK": yes(),
        "PO": yes("spot LIMIT_MAKER, USD-M GTX"),
        "GTD": yes(
            "USD-M: good_till becomes goodTillDate (at least 600 s ahead, else -5040; whole "
            "seconds)",
            markets={"spot": no("Binance spot has no GTD time in force (GTC, IOC, FOK only)")},
        ),
    },
    operations={
        name: _SPECIAL.get(name, yes())
        for name in (*PUBLIC_OPERATIONS, *PRIVATE_OPERATIONS, *ORDER_INTENTS)
    },
    # adapters/binance/stream.py: spot and USD-M; private streams follow connect(wallet=),
    # positions are USD-M's.
    streams={name: yes("USD-M") if name == "watch_positions" else yes() for name in STREAMS},
    environments={
        env: yes() if env in ENVIRONMENTS else no(f"Binance has no {env}")
        for env in ALL_ENVIRONMENTS
    },
    native_units={"spot": "base", "swap": "base", "future": "base"},
)
