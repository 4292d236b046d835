"""Validation of the interface's arguments, done once for every adapter before anything is sent."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.decimals import to_decimal
from exchanges.errors import BadRequest, InvalidOrder
from exchanges.models import StopSpec
from exchanges.symbols import Symbol, parse_symbol

if TYPE_CHECKING:
    from exchanges.models import MarginMode, TriggerBy, TriggerDirection

__all__ = [
    "CLIENT_ID_PARAM",
    "TRIGGER_BY",
    "AmendArgs",
    "OrderArgs",
    "OrderRef",
    "TradingStopArgs",
    "check_limit",
    "check_since",
    "check_stop",
    "check_symbol",
    "check_trigger_by",
    "new_client_order_id",
    "order_args",
    "trading_stop_args",
    "trailing_args",
]

_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_TIME_IN_FORCE = {"GTC", "IOC", "FOK", "PO", "GTD"}
#: The prices a trigger can watch (``models.TriggerBy``).
TRIGGER_BY = ("last", "mark", "index")
_DIRECTIONS = ("rise", "fall")

#: ccxt's unified name for a client order id in ``params``; adapters add their exchange's own.
CLIENT_ID_PARAM = "clientOrderId"

# Amounts and prices beyond these are no market's: refused before any formatting, so a value
# such as Decimal("1e300000000") never becomes a 300 MB request body.
_MAX_MAGNITUDE = 18  # below 1e18
_MAX_PLACES = 18  # at most 18 digits after the point
_MAX_DIGITS = 36


def new_client_order_id() -> str:
    """A fresh client order id: 32 hex characters, accepted by every supported exchange."""
    # 128 random bits, as uuid4 gives, at a fifth of its cost.
    return os.urandom(16).hex()


def _bad(message: str, hint: str) -> BadRequest:
    return BadRequest(message, hint=hint)


def check_symbol(symbol: Any) -> Symbol:
    """Parse a unified symbol argument."""
    if not isinstance(symbol, str):
        raise TypeError(f"symbol must be a str like 'BTC/USDT', not {type(symbol).__name__}")
    return parse_symbol(symbol)


def check_client_order_id(value: Any) -> str | None:
    """A client order id: 1-36 characters of ``[A-Za-z0-9_-]`` (adapters check their own rules)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"client_order_id must be a str, not {type(value).__name__}")
    if not _CLIENT_ID.match(value):
        raise _bad(
            f"client_order_id {value!r} is not 1-36 characters of A-Z, a-z, 0-9, _ and -",
            "Use a short id of letters, digits, '_' and '-' (uuid4().hex works everywhere).",
        )
    return value


MARKET_TYPES = ("spot", "swap", "future", "option")


def check_market_type(value: Any) -> str | None:
    """One of ``MARKET_TYPES`` or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"market_type must be a str, not {type(value).__name__}")
    if value not in MARKET_TYPES:
        raise _bad(
            f"market_type {value!r} is not one of {', '.join(MARKET_TYPES)}",
            "Pass the type of the markets whose wallet you want, e.g. market_type='swap'.",
        )
    return value


def check_limit(limit: Any, name: str = "limit") -> int | None:
    """A positive int or None."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"{name} must be an int, not {type(limit).__name__}")
    if limit <= 0:
        raise _bad(f"{name} must be positive, got {limit}", f"Pass {name}=None for the default.")
    return limit


# 2001-01-01T00:00:00Z in ms. A positive value below it, read as ms, is a date before 2001 and
# older than any exchange's data: it is a time in seconds (1733400000 s is 2024-12-05).
_SINCE_MIN_MS = 978_307_200_000


def check_since(since: Any) -> int | None:
    """A time in ms since the epoch (0 means from the beginning), or None."""
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int):
        raise TypeError(f"since must be an int (ms since the epoch), not {type(since).__name__}")
    if since < 0:
        raise _bad(f"since must not be negative, got {since}", "Pass ms since 1970-01-01 UTC.")
    if 0 < since < _SINCE_MIN_MS:
        # Sent as is, Bybit and OKX answer a 1970 window with nothing and Binance with its
        # oldest data: refused here so the mistake is not silent.
        raise ValueError(f"since={since} looks like seconds; pass milliseconds ({since * 1000})")
    return since


def check_leverage(leverage: Any) -> Decimal:
    """A leverage: a Decimal or int of at least 1 (the exchange refuses one above its maximum)."""
    if isinstance(leverage, bool) or not isinstance(leverage, Decimal | int):
        raise TypeError(
            f"leverage must be a Decimal or an int such as 5 or Decimal('2.5'), "
            f"not {type(leverage).__name__}"
        )
    value = Decimal(leverage)
    if not value.is_finite() or value < 1:
        raise ValueError(f"leverage must be a finite number of at least 1, got {leverage!r}")
    # Judged from the exponent only, as amounts are: a huge exponent would take seconds to print.
    if value.adjusted() >= 6 or -value.as_tuple().exponent > _MAX_PLACES:  # type: ignore[operator]
        raise ValueError(
            f"leverage {value:.6e} is outside what any exchange takes (below 1e6, at most "
            f"{_MAX_PLACES} decimal places)"
        )
    return value


def check_margin_mode(mode: Any) -> MarginMode:
    """A margin mode: ``"cross"`` or ``"isolated"`` (lower case, as ccxt names them)."""
    if not isinstance(mode, str):
        raise TypeError(f"margin mode must be 'cross' or 'isolated', not {type(mode).__name__}")
    if mode == "cross":
        return "cross"
    if mode == "isolated":
        return "isolated"
    raise ValueError(f"margin mode must be 'cross' or 'isolated', got {mode!r}")


def check_hedged(hedged: Any) -> bool:
    """A position mode: True for hedge mode (long and short apart), False for one-way."""
    if not isinstance(hedged, bool):
        raise TypeError(
            f"hedged must be True (hedge mode) or False (one-way mode), not {type(hedged).__name__}"
        )
    return hedged


def _positive(value: Any, name: str) -> Decimal:
    try:
        number = to_decimal(value, name)
    except ValueError as exc:
        raise InvalidOrder(str(exc), hint=f"Pass {name} as a finite positive Decimal.") from None
    if number <= 0:
        raise InvalidOrder(
            f"{name} must be positive, got {value!r}", hint=f"Pass {name} as a positive Decimal."
        )
    # Judged from the exponent and digit count only: formatting a huge exponent takes seconds.
    _, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: checked by to_decimal
    if number.adjusted() >= _MAX_MAGNITUDE or -exponent > _MAX_PLACES or len(digits) > _MAX_DIGITS:
        shown = f"{number:.6e}"
        raise InvalidOrder(
            f"{name} {shown} is outside what any market takes (below 1e{_MAX_MAGNITUDE}, at most "
            f"{_MAX_PLACES} decimal places)",
            hint=f"Check {name}: round it to the market's step (Market.round_amount / "
            "round_price).",
        )
    return number


@attrs.frozen
class OrderArgs:
    """A validated new order; ``client_order_id`` is always set (generated when not given)."""

    symbol: Symbol
    type: str
    side: str
    amount: Decimal
    price: Decimal | None
    client_order_id: str
    time_in_force: str | None
    post_only: bool
    reduce_only: bool
    params: dict[str, Any]
    client_order_id_given: bool = False
    #: A conditional order: placed when the ``trigger_by`` price reaches ``trigger_price``,
    #: moving in ``trigger_direction`` (always set with ``trigger_price``).
    trigger_price: Decimal | None = None
    trigger_by: TriggerBy = "last"
    trigger_direction: TriggerDirection | None = None
    #: Attached stop-loss and take-profit of the position the order opens.
    stop_loss: StopSpec | None = None
    take_profit: StopSpec | None = None
    #: When a GTD order lapses, ms since the epoch (set exactly when ``time_in_force`` is GTD).
    good_till: int | None = None

    #: A trailing stop (``create_trailing_stop``): its distance, a percentage of the price or a
    #: price amount (one of them), and the price it starts trailing from (None: at once).
    trailing_percent: Decimal | None = None
    trailing_amount: Decimal | None = None
    activation_price: Decimal | None = None

    @property
    def conditional(self) -> bool:
        """True when the order waits for a trigger (a trailing stop included)."""
        return self.trigger_price is not None or self.trailing

    @property
    def trailing(self) -> bool:
        """True for a trailing stop."""
        return self.trailing_percent is not None or self.trailing_amount is not None

    @property
    def attached(self) -> bool:
        """True when a stop-loss or take-profit rides on the order."""
        return self.stop_loss is not None or self.take_profit is not None


def order_args(
    symbol: Any,
    type: Any,
    side: Any,
    amount: Any,
    price: Any = None,
    *,
    client_order_id: Any = None,
    time_in_force: Any = None,
    post_only: Any = False,
    reduce_only: Any = False,
    params: Any = None,
    reserved: Mapping[str, str] | None = None,
    client_id_params: tuple[str, ...] = (),
    trigger_price: Any = None,
    trigger_by: Any = None,
    trigger_direction: Any = None,
    stop_loss: Any = None,
    take_profit: Any = None,
    good_till: Any = None,
) -> OrderArgs:
    """Validate ``create_order``'s arguments (``InvalidOrder``/``BadRequest``/``TypeError``).

    ``reserved`` maps the exchange's native order parameters that named arguments set to the
    argument that sets them: such a key in ``params`` is refused, since it would replace a
    validated value after validation. A client order id in ``params``, under ccxt's
    ``clientOrderId`` or one of the exchange's ``client_id_params``, becomes ``client_order_id``.
    """
    sym = check_symbol(symbol)
    if type not in ("limit", "market"):
        raise _bad(f"type must be 'limit' or 'market', got {type!r}", "Use 'limit' or 'market'.")
    if side not in ("buy", "sell"):
        raise _bad(f"side must be 'buy' or 'sell', got {side!r}", "Use 'buy' or 'sell'.")
    qty = _positive(amount, "amount")
    px: Decimal | None = None
    if type == "limit":
        if price is None:
            raise InvalidOrder("a limit order needs a price", hint="Pass price=Decimal(...).")
        px = _positive(price, "price")
    elif price is not None:
        raise InvalidOrder("a market order takes no price", hint="Drop price, or use type='limit'.")
    if time_in_force is not None and time_in_force not in _TIME_IN_FORCE:
        raise _bad(
            f"time_in_force must be one of GTC, IOC, FOK, PO, GTD, got {time_in_force!r}",
            "Use post_only=True for maker-only orders.",
        )
    expiry = _good_till(good_till, time_in_force, type, post_only)
    for flag, name in ((post_only, "post_only"), (reduce_only, "reduce_only")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, not {flag.__class__.__name__}")
    if time_in_force == "PO":
        post_only = True
    if post_only and type == "market":
        raise InvalidOrder("a market order cannot be post-only", hint="Use a limit order.")
    if post_only and time_in_force in ("IOC", "FOK"):
        raise InvalidOrder(
            f"post_only conflicts with time_in_force={time_in_force}", hint="Pick one of them."
        )
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict, not {params.__class__.__name__}")
    extra = dict(params or {})
    for name, value in extra.items():
        if not isinstance(name, str):
            raise TypeError(f"params keys must be str, not {name.__class__.__name__}")
        if isinstance(value, float):
            # A float would reach the wire as its binary approximation: refused here, before
            # anything is sent, rather than when the body is built.
            raise TypeError(f"params[{name!r}] is a float; pass Decimal or str")
    if reduce_only and sym.kind == "spot":
        raise InvalidOrder("reduce_only applies to derivatives only", hint="Drop reduce_only.")
    trigger = _trigger(trigger_price, trigger_by, trigger_direction, side)
    stops = _stops(stop_loss, take_profit, side, reduce_only)
    given = check_client_order_id(client_order_id)
    given = _client_id_from_params(extra, given, (CLIENT_ID_PARAM, *client_id_params))
    for name in extra:
        argument = (reserved or {}).get(name)
        if argument is not None:
            raise _bad(
                f"params[{name!r}] would replace what {argument} sets, after it was checked",
                f"Pass {argument} instead; params= is for parameters the interface does not name.",
            )
    return OrderArgs(
        symbol=sym,
        type=type,
        side=side,
        amount=qty,
        price=px,
        client_order_id=given or new_client_order_id(),
        time_in_force=None if time_in_force == "PO" else time_in_force,
        post_only=post_only,
        reduce_only=reduce_only,
        params=extra,
        client_order_id_given=given is not None,
        trigger_price=trigger[0],
        trigger_by=trigger[1],
        trigger_direction=trigger[2],
        stop_loss=stops[0],
        take_profit=stops[1],
        good_till=expiry,
    )


def _good_till(good_till: Any, time_in_force: Any, type: str, post_only: Any) -> int | None:
    """The expiry of a GTD order: ms since the epoch, given exactly when ``time_in_force`` is
    GTD, on a limit order that is not post-only (Binance USD-M, the one exchange with GTD, has
    post-only as a time in force of its own, GTX)."""
    if time_in_force != "GTD":
        if good_till is not None:
            raise ValueError("good_till is the expiry of a GTD order: pass time_in_force='GTD'")
        return None
    if good_till is None:
        raise ValueError("a GTD order needs good_till: when it lapses, in ms since the epoch")
    if isinstance(good_till, bool) or not isinstance(good_till, int):
        raise TypeError(
            f"good_till must be an int (ms since the epoch), not {good_till.__class__.__name__}"
        )
    if good_till < _SINCE_MIN_MS:
        raise ValueError(
            f"good_till={good_till} is not a time in ms since the epoch (seconds? pass "
            f"{good_till * 1000})"
        )
    if type != "limit":
        raise InvalidOrder("a GTD order is a limit order", hint="Use type='limit'.")
    if post_only is True:
        raise InvalidOrder("post_only conflicts with time_in_force=GTD", hint="Pick one of them.")
    return good_till


def check_trigger_by(value: Any, name: str = "trigger_by") -> TriggerBy:
    """``"last"``, ``"mark"`` or ``"index"``: the price a trigger watches."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be 'last', 'mark' or 'index', not {type(value).__name__}")
    if value == "last":
        return "last"
    if value == "mark":
        return "mark"
    if value == "index":
        return "index"
    raise ValueError(f"{name} must be 'last', 'mark' or 'index', got {value!r}")


def check_stop(value: Any, name: str) -> StopSpec | None:
    """A stop-loss or take-profit: a price (a market stop on the last price) or a ``StopSpec``,
    its prices positive (``InvalidOrder``) and its ``trigger_by`` one of ``TRIGGER_BY``."""
    if value is None:
        return None
    if isinstance(value, StopSpec):
        limit = value.price
        return StopSpec(
            _positive(value.trigger_price, f"{name}.trigger_price"),
            None if limit is None else _positive(limit, f"{name}.price"),
            check_trigger_by(value.trigger_by, f"{name}.trigger_by"),
        )
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(
            f"{name} must be a price (Decimal) or a StopSpec(trigger_price, price=None, "
            f"trigger_by='last'), not {type(value).__name__}"
        )
    return StopSpec(_positive(value, name))


def _trigger(
    price: Any, by: Any, direction: Any, side: str
) -> tuple[Decimal | None, TriggerBy, TriggerDirection | None]:
    """(trigger price, the price it watches, the way that price must move) of an order."""
    if price is None:
        if by is not None or direction is not None:
            raise ValueError(
                "trigger_by and trigger_direction describe trigger_price: pass trigger_price too "
                "(a stop-loss or take-profit names its own trigger_by in a StopSpec)"
            )
        return None, "last", None
    trigger = _positive(price, "trigger_price")
    watched = check_trigger_by("last" if by is None else by)
    if direction is None:
        # The stop convention (Binance STOP, ccxt's default): a buy triggers as the price rises
        # to the trigger, a sell as it falls to it.
        return trigger, watched, "rise" if side == "buy" else "fall"
    if not isinstance(direction, str):
        raise TypeError(
            f"trigger_direction must be 'rise' or 'fall', not {type(direction).__name__}"
        )
    if direction not in _DIRECTIONS:
        raise ValueError(f"trigger_direction must be 'rise' or 'fall', got {direction!r}")
    return trigger, watched, "rise" if direction == "rise" else "fall"


def _stops(
    stop_loss: Any, take_profit: Any, side: str, reduce_only: bool
) -> tuple[StopSpec | None, StopSpec | None]:
    """The attached stop-loss and take-profit, checked against each other and the order."""
    sl, tp = check_stop(stop_loss, "stop_loss"), check_stop(take_profit, "take_profit")
    if (sl is not None or tp is not None) and reduce_only:
        # Bybit refuses TP/SL on a reduce-only order, OKX too (51100): it would guard nothing.
        raise InvalidOrder(
            "a reduce-only order cannot carry a stop-loss or take-profit",
            hint="Attach them to the order that opens the position, or use set_trading_stop.",
        )
    if sl is not None and tp is not None:
        low, high = (sl, tp) if side == "buy" else (tp, sl)
        if low.trigger_price >= high.trigger_price:
            raise InvalidOrder(
                f"a {side} order's stop-loss ({sl.trigger_price}) must be "
                f"{'below' if side == 'buy' else 'above'} its take-profit ({tp.trigger_price})",
                hint="A long position stops below and takes profit above; a short the reverse.",
            )
    return sl, tp


def trailing_args(
    order: OrderArgs, trailing_percent: Any, trailing_amount: Any, activation_price: Any
) -> OrderArgs:
    """``order`` (a market order, validated) as a trailing stop: exactly one distance, a
    percentage above 0 and below 100 or a price amount, and an optional activation price."""
    if (trailing_percent is None) == (trailing_amount is None):
        raise ValueError("a trailing stop trails by trailing_percent or trailing_amount (one)")
    percent = None if trailing_percent is None else _positive(trailing_percent, "trailing_percent")
    if percent is not None and percent >= 100:
        raise InvalidOrder(
            f"trailing_percent is a percentage of the price below 100, got {percent}",
            hint="Pass 1 for 1 %.",
        )
    amount = None if trailing_amount is None else _positive(trailing_amount, "trailing_amount")
    active = None if activation_price is None else _positive(activation_price, "activation_price")
    return attrs.evolve(
        order, trailing_percent=percent, trailing_amount=amount, activation_price=active
    )


@attrs.frozen
class TradingStopArgs:
    """A validated ``set_trading_stop``: the stops of ``symbol``'s open position (of ``side``
    in hedge mode; None for the one position of one-way mode)."""

    symbol: Symbol
    side: str | None
    stop_loss: StopSpec | None
    take_profit: StopSpec | None
    trailing_amount: Decimal | None
    activation_price: Decimal | None


def trading_stop_args(
    symbol: Any,
    stop_loss: Any,
    take_profit: Any,
    trailing_amount: Any,
    activation_price: Any,
    side: Any,
) -> TradingStopArgs:
    """Validate ``set_trading_stop``'s arguments (``TypeError``/``ValueError``/``InvalidOrder``)."""
    sym = check_symbol(symbol)
    if sym.kind == "spot":
        raise InvalidOrder(
            "a spot market has no position to guard", hint="Use a derivatives symbol."
        )
    if side is not None and side not in ("long", "short"):
        raise ValueError(f"side must be 'long', 'short' or None, got {side!r}")
    sl, tp = check_stop(stop_loss, "stop_loss"), check_stop(take_profit, "take_profit")
    for spec, name in ((sl, "stop_loss"), (tp, "take_profit")):
        if spec is not None and spec.price is not None:
            # Bybit's whole-position stops, Binance's closePosition and OKX's closeFraction
            # orders all close at market.
            raise InvalidOrder(
                f"a position's {name} closes it at market: drop {name}.price",
                hint="For a limit exit, place a reduce-only conditional order with "
                "create_order(..., trigger_price=..., reduce_only=True).",
            )
    trail = None if trailing_amount is None else _positive(trailing_amount, "trailing_amount")
    active = None if activation_price is None else _positive(activation_price, "activation_price")
    if active is not None and trail is None:
        raise ValueError("activation_price starts a trailing stop: pass trailing_amount too")
    if sl is None and tp is None and trail is None:
        raise ValueError("nothing to set: pass stop_loss, take_profit and/or trailing_amount")
    return TradingStopArgs(sym, side, sl, tp, trail, active)


def _client_id_from_params(
    params: dict[str, Any], given: str | None, names: tuple[str, ...]
) -> str | None:
    """Move a client order id found in ``params`` into the argument (one id, sent and tracked)."""
    for name in names:
        if name not in params:
            continue
        value = params.pop(name)
        if value is None:
            raise _bad(
                f"params[{name!r}] is None: an order without a client order id cannot be "
                "reconciled after a lost answer",
                "Leave it out (an id is generated) or pass client_order_id=...",
            )
        found = check_client_order_id(value)
        if given is not None and found != given:
            raise _bad(
                f"client_order_id={given!r} and params[{name!r}]={found!r} disagree",
                "Pass the id once, as client_order_id=...",
            )
        given = found
    return given


@attrs.frozen
class OrderRef:
    """An order named by exchange id or client order id (at least one)."""

    symbol: Symbol
    id: str | None
    client_order_id: str | None


def order_ref(id: Any, symbol: Any, client_order_id: Any) -> OrderRef:
    """Validate an order reference."""
    sym = check_symbol(symbol)
    if id is not None and not isinstance(id, str | int):
        raise TypeError(f"id must be a str, not {type(id).__name__}")
    cid = check_client_order_id(client_order_id)
    if id is None and cid is None:
        raise _bad(
            "give the order's id or its client_order_id", "Pass id=... or client_order_id=..."
        )
    if id is not None and str(id) == "":
        raise _bad("the order id is empty", "Pass the id the exchange returned.")
    return OrderRef(sym, None if id is None else str(id), cid)


@attrs.frozen
class AmendArgs:
    """A validated amendment: the order plus its new amount and/or price."""

    ref: OrderRef
    amount: Decimal | None
    price: Decimal | None


def amend_args(id: Any, symbol: Any, amount: Any, price: Any, client_order_id: Any) -> AmendArgs:
    """Validate ``amend_order``'s arguments."""
    ref = order_ref(id, symbol, client_order_id)
    if amount is None and price is None:
        raise _bad("nothing to amend", "Pass amount=... and/or price=...")
    return AmendArgs(
        ref,
        None if amount is None else _positive(amount, "amount"),
        None if price is None else _positive(price, "price"),
    )
