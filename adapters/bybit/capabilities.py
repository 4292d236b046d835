"""What the Bybit adapter offers (``BybitAdapter.capabilities``, ``exchanges.capabilities``).

Sources: Bybit v5 docs, https://bybit-exchange.github.io/docs/v5/enum "timeInForce" (GTC, IOC,
FOK, PostOnly, RPI: no GTD), https://bybit-exchange.github.io/docs/v5/market/kline "Get Kline"
(category: spot, linear, inverse), https://bybit-exchange.github.io/docs/v5/market/tickers
"Get Tickers" (options need baseCoin or symbol) and https://bybit-exchange.github.io/docs/v5/demo
"Demo Trading Service" (the endpoints demo trading offers).
"""

from __future__ import annotations

from adapters.bybit.hosts import DEMO_UNSUPPORTED, ENVIRONMENTS
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

_NO_OPTION_KLINES = no("Bybit has no klines for options")

_FUNDING = perpetual_only("Bybit pays funding on perpetual swaps only (linear and inverse)")

#: "Set Leverage" (https://bybit-exchange.github.io/docs/v5/position/leverage): category linear
#: or inverse only.
_LEVERAGE = {
    "spot": no("Bybit spot has no leverage to set (set-leverage takes linear or inverse)"),
    "option": no("Bybit options have no leverage to set (set-leverage takes linear or inverse)"),
}

#: "Set Margin Mode" (https://bybit-exchange.github.io/docs/v5/account/set-margin-mode): one mode
#: for the whole unified account; "Switch Position Mode"
#: (https://bybit-exchange.github.io/docs/v5/position/position-mode): USDT perpetuals only.
_MARGIN_MODE = yes(
    "account-wide: Bybit's margin mode covers every contract of the account, whatever the symbol",
    markets={
        "spot": no("Bybit spot has no margin mode to set here"),
        "option": no("Bybit options have no margin mode to set here"),
    },
)
_POSITION_MODE = yes(
    "per USDT perpetual; without a symbol, every USDT perpetual with no position or order",
    markets={
        "spot": no("Bybit spot has no position mode"),
        "option": no("Bybit options have no position mode"),
        "future": no("Bybit dated futures are one-way only (hedge mode is for USDT perpetuals)"),
        "inverse": no("Bybit inverse contracts are one-way only on unified accounts"),
    },
)

_SPECIAL: dict[str, Support] = {
    "set_leverage": yes(markets=_LEVERAGE),
    "set_margin_mode": _MARGIN_MODE,
    "set_position_mode": _POSITION_MODE,
    "fetch_funding_rate": yes(markets=_FUNDING),
    "fetch_funding_rate_history": yes(markets=_FUNDING),
    "fetch_tickers": yes(
        markets={
            "option": no(
                "Bybit lists option tickers per base coin only; fetch_tickers does not list "
                "options",
                hint="Use fetch_ticker per option.",
            )
        }
    ),
    "fetch_ohlcv": yes(markets={"option": _NO_OPTION_KLINES}),
    "fetch_trading_fee": yes(environments={"demo": no(DEMO_UNSUPPORTED["/v5/account/fee-rate"])}),
    "fetch_open_orders": yes("across spot, linear and inverse when no symbol is given"),
    "fetch_closed_orders": yes("7-day windows from since"),
    "fetch_my_trades": yes("7-day windows from since"),
    # "Batch Place Order" / "Batch Cancel Order" (adapters/bybit/batch.py).
    "create_orders": yes(
        "/v5/order/create-batch, one category a request: 20 orders (linear, inverse, option), "
        "10 spot; demo trading batches linear and option only"
    ),
    "cancel_orders": yes("/v5/order/cancel-batch: 20 orders a request (10 spot)"),
}

#: Conditional orders and stops ("Place Order",
#: https://bybit-exchange.github.io/docs/v5/order/create-order; "Set Trading Stop",
#: https://bybit-exchange.github.io/docs/v5/position/trading-stop; adapters/bybit/triggers.py).
_NO_OPTION_STOPS = no("conditional orders and stops on Bybit options are not mapped here")
_SPOT_LAST = no("Bybit spot conditional orders trigger on the last price only")
_TRAILING_ORDER = no(
    "Bybit has no trailing stop order: it trails a whole position by a price distance",
    hint="Use set_trading_stop(symbol, trailing_amount=..., activation_price=...).",
)
_ATTACHED = yes(
    "tpslMode Full (the position's stop, at market); with a limit price, Partial (the filled "
    "amount)",
    markets={
        "spot": no("Bybit spot TP/SL orders (orderFilter=tpslOrder) are not mapped here"),
        "option": _NO_OPTION_STOPS,
    },
)
_POSITION_STOP = {"spot": no("a spot market has no position"), "option": _NO_OPTION_STOPS}
_SPECIAL.update(
    {
        "order.trigger": yes(
            "triggerDirection from trigger_direction; spot (orderFilter=StopOrder) takes the "
            "direction from the price at placement",
            markets={"option": _NO_OPTION_STOPS},
        ),
        "order.trigger_by.mark": yes(markets={"spot": _SPOT_LAST, "option": _NO_OPTION_STOPS}),
        "order.trigger_by.index": yes(markets={"spot": _SPOT_LAST, "option": _NO_OPTION_STOPS}),
        "order.amend": yes(
            "/v5/order/amend changes a waiting conditional order's qty and price",
            markets={"option": _NO_OPTION_STOPS},
        ),
        "order.stop_loss": _ATTACHED,
        "order.take_profit": _ATTACHED,
        "order.trailing_percent": _TRAILING_ORDER,
        "order.trailing_amount": _TRAILING_ORDER,
        "position.trading_stop": yes(
            "trading-stop, Full mode: the whole position, at market", markets=_POSITION_STOP
        ),
        "position.trailing_stop": yes(
            "trailingStop: a price distance, from activePrice when given",
            markets=_POSITION_STOP,
        ),
        "order.streamed": yes(
            "the order topic: Untriggered, Triggered, then the active order",
            markets={"option": _NO_OPTION_STOPS},
        ),
    }
)

CAPABILITIES = Capabilities(
    "bybit",
    markets={
        "spot": yes(),
        "swap": yes(),
        "future": yes(),
        "inverse": yes(),
        "option": yes("options load per base coin on first use"),
    },
    order_types={
        "market": yes("spot market buys count the base coin (marketUnit=baseCoin)"),
        "limit": yes(),
    },
    time_in_force={
        "GTC": yes(),
        "IOC": yes(),
        "FOK": yes(),
        "PO": yes(),
        "GTD": no("Bybit has no GTD time in force (GTC, IOC, FOK, PostOnly only)"),
    },
    operations={
        name: _SPECIAL.get(name, yes())
        for name in (*PUBLIC_OPERATIONS, *PRIVATE_OPERATIONS, *ORDER_INTENTS)
    },
    streams={
        name: yes(markets={"option": _NO_OPTION_KLINES}) if name == "watch_ohlcv" else yes()
        for name in STREAMS
    },
    environments={
        env: yes() if env in ENVIRONMENTS else no(f"Bybit has no {env}") for env in ALL_ENVIRONMENTS
    },
    native_units={
        "spot": "base",
        "swap": "base",
        "future": "base",
        "inverse": "quote (USD)",
        "option": "base",
    },
)
