"""What ``connect("ccxt:<id>")`` offers: derived from ccxt's ``has`` and ``features`` of the id,
within the bridge's own limits (no streams, no key permissions; GTD where ccxt's features
have it on linear swaps).

ccxt's ``has`` says per unified method whether an exchange implements it (True, ``"emulated"``,
False or None); ``features`` says per market type which ``timeInForce`` values ``createOrder``
takes. The bridge calls a method only when ``has`` says so, so the same reading decides both
what is declared here and what the adapter refuses (``CcxtAdapter._require``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.binance.capabilities import SPOT_AMEND_REASON
from adapters.ccxt_bridge.client import SANDBOX_IS_DEMO
from exchanges.capabilities import (
    MARKET_TYPES,
    ORDER_INTENTS,
    STREAMS,
    Capabilities,
    Support,
    no,
    perpetual_only,
    yes,
)

__all__ = ["FEATURES", "OPERATION_OF", "derive"]

#: The ccxt methods an operation may use, any one sufficing (fetch_markets always works).
FEATURES: Mapping[str, tuple[str, ...]] = {
    "fetch_time": ("fetchTime",),
    "fetch_ticker": ("fetchTicker",),
    "fetch_tickers": ("fetchTickers",),
    "fetch_order_book": ("fetchOrderBook",),
    "fetch_trades": ("fetchTrades",),
    "fetch_ohlcv": ("fetchOHLCV",),
    "fetch_funding_rate": ("fetchFundingRate",),
    "fetch_funding_rate_history": ("fetchFundingRateHistory",),
    "fetch_balance": ("fetchBalance",),
    "fetch_trading_fee": ("fetchTradingFee", "fetchTradingFees"),
    "create_order": ("createOrder",),
    "create_orders": ("createOrders",),
    "cancel_orders": ("cancelOrders",),
    "amend_order": ("editOrder",),
    "cancel_order": ("cancelOrder",),
    "fetch_order": (
        "fetchOrder",
        "fetchOrders",
        "fetchOpenOrders",
        "fetchClosedOrders",
        "fetchCanceledOrders",
        "fetchCanceledAndClosedOrders",
    ),
    "fetch_open_orders": ("fetchOpenOrders",),
    "fetch_closed_orders": ("fetchCanceledAndClosedOrders", "fetchClosedOrders"),
    "fetch_my_trades": ("fetchMyTrades",),
    "fetch_positions": ("fetchPositions",),
    "set_leverage": ("setLeverage",),
    "set_margin_mode": ("setMarginMode",),
    "set_position_mode": ("setPositionMode",),
}

#: The operation whose entry decides each ccxt method the adapter requires.
OPERATION_OF: Mapping[str, str] = {
    feature: operation
    for operation, features in FEATURES.items()
    if operation != "fetch_order"
    for feature in features
}

#: Funding is paid on perpetual swaps only, whatever ``has`` says for the id.
_FUNDING = ("fetch_funding_rate", "fetch_funding_rate_history")
_PERPETUAL_ONLY = perpetual_only("funding is paid on perpetual swaps only")

#: Leverage is set on contracts only, whatever ``has`` says for the id.
_LEVERAGE_MARKETS = {
    "spot": no("spot markets have no leverage to set"),
    "option": no("the bridge sets leverage on swaps and futures only"),
}

#: Margin and position modes are set on contracts only; where ccxt's call covers more than the
#: symbol, the note says so (Bybit's margin mode is account-wide: ccxt switches the account).
_MODE_MARKETS = {
    "spot": no("spot markets have no margin or position mode to set"),
    "option": no("the bridge sets modes on swaps and futures only"),
}
_MODE_NOTES: Mapping[tuple[str, str], str] = {
    ("bybit", "set_margin_mode"): "account-wide: ccxt switches the whole unified account",
    ("bybit", "set_position_mode"): "per symbol; without one, every USDT perpetual",
    ("binance", "set_position_mode"): "account-wide: every USD-M symbol",
    ("binanceusdm", "set_position_mode"): "account-wide: every USD-M symbol",
    ("okx", "set_margin_mode"): "per order on OKX (tdMode): the bridge passes it on later orders",
    ("okx", "set_position_mode"): "account-wide: every swap and future",
}

_NO_STREAMS = no(
    "the ccxt bridge has no WebSocket streams (ccxt.pro's watch_* are not bridged)",
    hint="Poll with fetch_* here, or connect to the native adapter for streams.",
)


def _mapping(source: Any, name: str) -> Mapping[str, Any]:
    # Read from the instance: a class holds ccxt's defaults only, and stand-ins answer anything.
    value = getattr(source, name, None)
    return value if isinstance(value, Mapping) else {}


def _operations(name: str, has: Mapping[str, Any]) -> dict[str, Support]:
    def on(feature: str) -> bool:
        return bool(has.get(feature))

    found: dict[str, Support] = {"fetch_markets": yes()}
    for operation, features in FEATURES.items():
        if any(on(f) for f in features):
            found[operation] = yes()
        else:
            found[operation] = no(f"ccxt's {name} does not offer {' or '.join(features)}")
    if on("cancelAllOrders"):
        found["cancel_all_orders"] = yes()
    elif on("fetchOpenOrders") and on("cancelOrder"):
        found["cancel_all_orders"] = yes("each open order is cancelled in turn")
    else:
        found["cancel_all_orders"] = no(f"ccxt's {name} does not offer cancelAllOrders")
    found["fetch_key_info"] = no("ccxt has no unified call for a key's permissions")
    for operation in _FUNDING:
        if found[operation].supported:
            found[operation] = yes(markets=_PERPETUAL_ONLY)
    if found["set_leverage"].supported:
        found["set_leverage"] = yes(markets=_LEVERAGE_MARKETS)
    for operation in ("set_margin_mode", "set_position_mode"):
        if found[operation].supported:
            found[operation] = yes(_MODE_NOTES.get((name, operation), ""), markets=_MODE_MARKETS)
    return found


def _markets(name: str, has: Mapping[str, Any], features: Mapping[str, Any]) -> dict[str, Support]:
    found: dict[str, Support] = {}
    for market in MARKET_TYPES:
        if market == "inverse":
            kinds = [features.get(k) for k in ("swap", "future")]
            listed = [k for k in kinds if isinstance(k, Mapping)]
            # features name inverse swaps and futures (None where ccxt has none).
            if listed and all(k.get("inverse") is None for k in listed):
                found[market] = no(f"ccxt's {name} lists no inverse swaps or futures")
                continue
        elif has.get(market) is False:
            found[market] = no(f"ccxt's {name} has no {market} markets")
            continue
        found[market] = yes()
    return found


def _time_in_force(name: str, features: Mapping[str, Any]) -> dict[str, Support]:
    spot = features.get("spot")
    create = spot.get("createOrder") if isinstance(spot, Mapping) else None
    said = create.get("timeInForce") if isinstance(create, Mapping) else None
    said = said if isinstance(said, Mapping) else {}
    found = {
        value: no(f"ccxt's {name} does not take timeInForce {value}")
        if said.get(value) is False
        else yes()
        for value in ("GTC", "IOC", "FOK", "PO")
    }
    found["GTD"] = _gtd(name, features)
    return found


def _gtd(name: str, features: Mapping[str, Any]) -> Support:
    """GTD on the market types whose ccxt features offer it (Binance USD-M: ``goodTillDate``,
    which ``good_till`` becomes), refused on the others with the reason."""
    offered = [m for m in ("spot", "swap", "future") if _create_feature(features, m, "GTD")]
    if not offered:
        return no(f"ccxt's {name} takes no GTD time in force")
    refused = no(f"ccxt's {name} takes GTD on {', '.join(offered)} markets only")
    return yes(
        "good_till is sent as goodTillDate",
        markets={m: refused for m in MARKET_TYPES if m not in offered},
    )


def _create_feature(features: Mapping[str, Any], market: str, tif: str) -> bool:
    """Whether ccxt's ``features`` say ``createOrder`` takes ``tif`` on ``market`` (linear
    contracts for swaps and futures)."""
    found = features.get(market)
    if market != "spot" and isinstance(found, Mapping):
        found = found.get("linear")
    create = found.get("createOrder") if isinstance(found, Mapping) else None
    said = create.get("timeInForce") if isinstance(create, Mapping) else None
    return isinstance(said, Mapping) and said.get(tif) is True


#: Market types ccxt's cancelOrders refuses although its features batch them (ccxt's bybit:
#: "cancelOrders does not allow inverse orders"; binance: "only supported for swap markets").
_NO_CANCEL_BATCH: Mapping[tuple[str | None, str], str] = {
    ("bybit", "inverse"): "ccxt's bybit cancelOrders does not allow inverse orders",
}


def _batches(
    name: str, features: Mapping[str, Any], family: str | None, found: Mapping[str, Support]
) -> dict[str, Support]:
    """create_orders and cancel_orders where ``has`` offers them, refused on the market types
    whose ccxt ``features`` list no ``createOrders`` (ccxt's own ``max`` is the batch size)."""
    from adapters.ccxt_bridge.batch import batch_max

    keys = {"spot": "spot", "swap": "linear", "future": "linear", "inverse": "inverse"}
    sizes = {market: batch_max(features, key) for market, key in keys.items()}
    sizes["option"] = batch_max(features, "option")
    batched = sorted({size for size in sizes.values() if size is not None})
    out: dict[str, Support] = {}
    for operation in ("create_orders", "cancel_orders"):
        if not found[operation].supported:
            out[operation] = found[operation]
            continue
        refused = {
            market: no(f"ccxt's {name} does not batch {market} orders")
            for market, size in sizes.items()
            if size is None
        }
        if operation == "cancel_orders":
            refused.update({m: no(why) for (f, m), why in _NO_CANCEL_BATCH.items() if f == family})
        if len(refused) == len(sizes):
            out[operation] = no(f"ccxt's {name} lists no market type it batches")
            continue
        note = (
            f"ccxt's createOrders: {'/'.join(map(str, batched))} orders a request"
            if operation == "create_orders"
            else "ccxt's cancelOrders: one symbol a request"
        )
        out[operation] = yes(note, markets=refused)
    return out


def _environments(name: str, source: Any, family: str | None) -> dict[str, Support]:
    from adapters.ccxt_bridge.client import _base_attr

    urls = _mapping(source, "urls")
    sandbox_is_demo = family in SANDBOX_IS_DEMO
    if sandbox_is_demo:
        testnet = no(f"{name} has no testnet; its sandbox is demo trading")
    elif urls.get("test"):
        testnet = yes("ccxt's sandbox mode")
    else:
        testnet = no(f"ccxt's {name} has no sandbox (testnet) URL")
    cls = type(source)
    demo_switch = getattr(cls, "enable_demo_trading", None)
    overridden = demo_switch is not None and demo_switch is not _base_attr(
        cls, "enable_demo_trading"
    )
    if (sandbox_is_demo and urls.get("test")) or urls.get("demo") or overridden:
        demo = yes()
    else:
        demo = no(f"ccxt's {name} has no demo trading")
    return {"mainnet": yes(), "testnet": testnet, "demo": demo}


#: Conditional orders and stops, per ccxt family (adapters/ccxt_bridge/triggers.py): the bridge
#: maps them where ccxt's unified params and the exchange's own mechanism were checked together.
_NOT_MAPPED = no("the ccxt bridge maps conditional orders and stops for bybit, binance and okx")
_NO_SPOT_STOPS = {"spot": no("the bridge maps conditional orders of contracts only here")}
_NO_SPOT = {"spot": no("a spot market has no position")}
_NO_TRAILING_ORDER = no(
    "the bridge maps trailing stop orders for binance (a percentage) and okx only"
)
_FAMILY_INTENTS: Mapping[str, Mapping[str, Support]] = {
    "bybit": {
        "order.trigger": yes("triggerPrice, triggerDirection", markets=_NO_SPOT_STOPS),
        "order.trigger_by.mark": yes(markets=_NO_SPOT_STOPS),
        "order.trigger_by.index": yes(markets=_NO_SPOT_STOPS),
        "order.amend": yes("ccxt's editOrder: /v5/order/amend", markets=_NO_SPOT_STOPS),
        "order.stop_loss": yes("ccxt's stopLoss dict", markets=_NO_SPOT_STOPS),
        "order.take_profit": yes("ccxt's takeProfit dict", markets=_NO_SPOT_STOPS),
        "position.trading_stop": yes("ccxt's tradingStopEndpoint (Full mode)", markets=_NO_SPOT),
        "position.trailing_stop": yes("ccxt's trailingAmount: a price distance", markets=_NO_SPOT),
        "order.trailing_percent": no(
            "Bybit has no trailing stop order: it trails a whole position by a price distance"
        ),
        "order.trailing_amount": no(
            "Bybit has no trailing stop order: it trails a whole position by a price distance"
        ),
    },
    "binance": {
        "order.trigger": yes(
            "algo orders: ccxt's triggerPrice (STOP) or takeProfitPrice (TAKE_PROFIT)",
            markets={
                "spot": yes(
                    "ccxt's triggerPrice (STOP_LOSS) or takeProfitPrice (TAKE_PROFIT), "
                    "_LIMIT with a price"
                )
            },
        ),
        "order.trigger_by.mark": yes(
            "workingType MARK_PRICE",
            markets={"spot": no("Binance spot stops trigger on the last trade price only")},
        ),
        "order.trigger_by.index": no("Binance triggers on the last or the mark price only"),
        "order.amend": no(
            "Binance's algo orders cannot be amended",
            hint="Cancel the conditional order and place it again with the new values.",
        ),
        "order.stop_loss": no(
            "Binance has no stop-loss or take-profit attached to an order (nor does ccxt's Binance)"
        ),
        "order.take_profit": no(
            "Binance has no stop-loss or take-profit attached to an order (nor does ccxt's Binance)"
        ),
        "position.trading_stop": yes(
            "STOP_MARKET/TAKE_PROFIT_MARKET with closePosition", markets=_NO_SPOT
        ),
        "position.trailing_stop": no("Binance has no trailing stop on a position"),
        "order.trailing_percent": yes(
            "ccxt's trailingPercent: TRAILING_STOP_MARKET",
            markets={
                "spot": no(
                    "Binance spot trails by trailingDelta, which ccxt sends only with its own "
                    "stopLossOrTakeProfit param; not mapped here"
                )
            },
        ),
        "order.trailing_amount": no("Binance trails by a percentage only (callbackRate)"),
    },
    "okx": {
        "order.trigger": yes(
            "algo orders; the watched price is read first (OKX takes no direction)",
            markets=_NO_SPOT_STOPS,
        ),
        "order.trigger_by.mark": yes(markets=_NO_SPOT_STOPS),
        "order.trigger_by.index": yes(markets=_NO_SPOT_STOPS),
        "order.amend": no(
            "the bridge does not map OKX's amend-algos (ccxt's editOrder with an algo type)",
            hint="Cancel the conditional order and place it again with the new values.",
        ),
        "order.stop_loss": yes("attachAlgoOrds (ccxt's stopLoss dict)", markets=_NO_SPOT_STOPS),
        "order.take_profit": yes("attachAlgoOrds (ccxt's takeProfit dict)", markets=_NO_SPOT_STOPS),
        "position.trading_stop": yes(
            "one conditional/oco algo order with closeFraction 1", markets=_NO_SPOT
        ),
        "position.trailing_stop": no("OKX has no trailing stop on a position"),
        "order.trailing_percent": yes("ccxt's trailingPercent: move_order_stop"),
        "order.trailing_amount": yes("ccxt's trailingAmount: move_order_stop"),
    },
}


def _intents(name: str, family: str | None, has: Mapping[str, Any]) -> dict[str, Support]:
    mapped = _FAMILY_INTENTS.get(family or "", {})
    found: dict[str, Support] = {}
    for intent in ORDER_INTENTS:
        if intent == "order.streamed":
            found[intent] = _NO_STREAMS
        elif intent.startswith("order.trailing") and intent not in mapped:
            found[intent] = _NO_TRAILING_ORDER
        elif not has.get("createOrder"):
            found[intent] = no(f"ccxt's {name} does not offer createOrder")
        else:
            found[intent] = mapped.get(intent, _NOT_MAPPED)
    return found


def derive(name: str, source: Any, family: str | None) -> Capabilities:
    """The capabilities of ccxt exchange ``name`` from ``source`` (a ccxt client instance)."""
    has = _mapping(source, "has")
    features = _mapping(source, "features")
    orders = {
        kind: no(f"ccxt's {name} does not offer {feature}") if has.get(feature) is False else yes()
        for kind, feature in (("market", "createMarketOrder"), ("limit", "createLimitOrder"))
    }
    contracts = "contracts where ccxt counts them (converted)"
    operations = _operations(name, has)
    operations.update(_batches(name, features, family, operations))
    operations.update(_intents(name, family, has))
    if family == "binance" and operations["amend_order"].supported:
        # ccxt edits a Binance spot order with cancelReplace: a new order, not an amend. The
        # bridge refuses it for the reason the native adapter does.
        operations["amend_order"] = yes(markets={"spot": no(SPOT_AMEND_REASON)})
    return Capabilities(
        name,
        markets=_markets(name, has, features),
        order_types=orders,
        time_in_force=_time_in_force(name, features),
        operations=operations,
        streams=dict.fromkeys(STREAMS, _NO_STREAMS),
        environments=_environments(name, source, family),
        native_units={"spot": "base", **dict.fromkeys(MARKET_TYPES[1:], contracts)},
    )
