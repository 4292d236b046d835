"""Declarations and behaviour agree: ``ex.capabilities`` against the emulators.

For every adapter (bybit, binance, okx and the ccxt bridge to each) every declared key is
exercised for real on the exchange's emulator: what is declared not offered must raise
``NotSupported`` naming the key, in the one shape ``"<exchange> does not offer <key>: <reason>"``;
what is declared offered must not raise ``NotSupported`` (other errors, such as ``BadSymbol`` for
a market type the emulator does not list, say nothing about the declaration). Streams are opened
and read, environments connected to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest

import exchanges
from exchanges.capabilities import ENVIRONMENTS, MARKET_TYPES, Capabilities
from exchanges.emulator import Emulator
from exchanges.errors import BadRequest, BadSymbol, ExchangeError, InvalidOrder, NotSupported
from exchanges.registry import adapter_class
from exchanges.stream import watch
from exchanges.symbols import parse_symbol

pytestmark = pytest.mark.timeout(300)

D = Decimal
KEY, SECRET, PASSPHRASE = "test-key", "test-secret", "test-passphrase"

#: A symbol of each market type (the emulators list no futures or options: those lookups end in
#: BadSymbol where the type is offered, in NotSupported where it is not).
SYMBOLS = {
    "spot": "BTC/USDT",
    "swap": "BTC/USDT:USDT",
    "future": "BTC/USDT:USDT-301227",
    "inverse": "BTC/USD:BTC",
    "option": "BTC/USDT:USDT-301227-100000-C",
}
ADAPTERS = ("bybit", "binance", "okx", "ccxt:bybit", "ccxt:binance", "ccxt:okx")
AMOUNT, FAR = D("0.01"), D("30000")  # a limit buy that rests: far below the emulators' prices


def family(name: str) -> str:
    return name.split(":", 1)[-1]


def connect_options(name: str) -> dict[str, Any]:
    credentials = exchanges.Credentials(
        KEY, SECRET, passphrase=PASSPHRASE if family(name) == "okx" else None
    )
    options: dict[str, Any] = {"credentials": credentials}
    if name.startswith("ccxt:"):
        # ccxt's defaults, with its throttle's sleeping off (the emulators answer at once).
        options["ccxt_config"] = {"enableRateLimit": False}
    return options


@pytest.fixture(params=ADAPTERS)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu(name: str) -> Iterator[Emulator]:
    with Emulator(family(name), seed=7) as emulator:
        yield emulator


# -- probes: one real call per key ----------------------------------------------------------

Probe = Callable[[exchanges.Exchange, str], Any]


def _place(ex: exchanges.Exchange, symbol: str, **kwargs: Any) -> Any:
    return ex.create_order(symbol, "limit", "buy", AMOUNT, FAR, **kwargs)


def _amend(ex: exchanges.Exchange, symbol: str) -> Any:
    placed = _place(ex, symbol)
    return ex.amend_order(placed.id, symbol, price=FAR - 1000)


def _cancel(ex: exchanges.Exchange, symbol: str) -> Any:
    return ex.cancel_order(_place(ex, symbol).id, symbol)


def _place_batch(ex: exchanges.Exchange, symbol: str) -> Any:
    return ex.create_orders([exchanges.OrderRequest(symbol, "limit", "buy", AMOUNT, FAR)])


def _cancel_batch(ex: exchanges.Exchange, symbol: str) -> Any:
    # An id nobody issued: an offered cancel_orders answers it as the item's OrderNotFound.
    result = ex.cancel_orders(["987654321"], symbol)
    assert isinstance(result[0].error, exchanges.OrderNotFound)
    return result


def _fetch_order(ex: exchanges.Exchange, symbol: str) -> Any:
    return ex.fetch_order(_place(ex, symbol).id, symbol)


OPERATIONS: dict[str, Probe] = {
    "fetch_time": lambda ex, s: ex.fetch_time(),
    "fetch_markets": lambda ex, s: ex.fetch_markets(),
    "fetch_ticker": lambda ex, s: ex.fetch_ticker(s),
    "fetch_tickers": lambda ex, s: ex.fetch_tickers([s]),
    "fetch_order_book": lambda ex, s: ex.fetch_order_book(s, 5),
    "fetch_trades": lambda ex, s: ex.fetch_trades(s, 5),
    "fetch_ohlcv": lambda ex, s: ex.fetch_ohlcv(s, "1m", limit=3),
    "fetch_funding_rate": lambda ex, s: ex.fetch_funding_rate(s),
    "fetch_funding_rate_history": lambda ex, s: ex.fetch_funding_rate_history(s, limit=3),
    "fetch_balance": lambda ex, s: ex.fetch_balance(),
    "fetch_trading_fee": lambda ex, s: ex.fetch_trading_fee(s),
    "fetch_key_info": lambda ex, s: ex.fetch_key_info(),
    "create_order": _place,
    "create_orders": lambda ex, s: _place_batch(ex, s).raise_first(),
    "cancel_orders": _cancel_batch,
    "amend_order": _amend,
    "cancel_order": _cancel,
    "cancel_all_orders": lambda ex, s: ex.cancel_all_orders(s),
    "fetch_order": _fetch_order,
    "fetch_open_orders": lambda ex, s: ex.fetch_open_orders(s),
    "fetch_closed_orders": lambda ex, s: ex.fetch_closed_orders(s),
    "fetch_my_trades": lambda ex, s: ex.fetch_my_trades(s),
    "fetch_positions": lambda ex, s: ex.fetch_positions(),
    "set_leverage": lambda ex, s: ex.set_leverage(2, s),
    "set_margin_mode": lambda ex, s: ex.set_margin_mode("isolated", s),
    "set_position_mode": lambda ex, s: ex.set_position_mode(True, s),
}


def _market_order(ex: exchanges.Exchange, symbol: str) -> Any:
    return ex.create_order(symbol, "market", "buy", D("0.001"))


def _time_in_force(value: str) -> Probe:
    if value == "GTD":
        # GTD needs its expiry: an hour ahead of the exchange's clock, in whole seconds.
        return lambda ex, s: _place(
            ex, s, time_in_force="GTD", good_till=(ex.fetch_time() // 1000 + 3600) * 1000
        )
    return lambda ex, s: _place(ex, s, time_in_force=value)


KINDS: dict[str, Probe] = {
    **{f"market.{m}": lambda ex, s, m=m: ex.fetch_ticker(SYMBOLS[m]) for m in MARKET_TYPES},
    "order_type.market": _market_order,
    "order_type.limit": _place,
    **{f"time_in_force.{v}": _time_in_force(v) for v in ("GTC", "IOC", "FOK", "PO", "GTD")},
}


def default_market(name: str, caps: Capabilities, key: str) -> str:
    """The market a key is tried on: one where its plain (unqualified) entry applies."""
    preferred = "spot"
    try:
        differs = caps[key].markets
    except KeyError:
        differs = {}
    for market in (preferred, *MARKET_TYPES):
        if market not in differs and caps.supports(f"market.{market}"):
            return market
    raise AssertionError(f"{name}: no market where {key} applies")


#: What a native adapter's offered key may still raise on the emulator: it lists no futures
#: or options, and a far limit order with IOC or FOK is refused or killed unfilled.
EXPECTED_FAILURES: dict[str, tuple[type[ExchangeError], ...]] = {
    "market.future": (BadSymbol,),
    "market.option": (BadSymbol,),
    "time_in_force.IOC": (InvalidOrder,),
    "time_in_force.FOK": (InvalidOrder,),
    # Earlier probes leave orders and positions: the exchanges refuse a mode change then
    # (Binance -4047/-4067, Bybit 110024/110028, OKX 59000), which is the offered behaviour.
    "set_margin_mode": (BadRequest,),
    "set_position_mode": (BadRequest,),
}


def outcome(probe: Probe, ex: exchanges.Exchange, symbol: str) -> ExchangeError | None:
    """The exchange error the call raised, or None when it worked."""
    try:
        probe(ex, symbol)
    except ExchangeError as err:
        return err
    return None


def disagreement(caps: Capabilities, key: str, decided: str, err: ExchangeError | None) -> str:
    """What is wrong with ``err`` for ``key`` (empty when declaration and behaviour agree)."""
    declared = caps[decided]
    if declared.supported:
        return f"{key}: declared offered, raised {err}" if isinstance(err, NotSupported) else ""
    if not isinstance(err, NotSupported):
        return f"{key}: declared not offered ({declared.reason}), but no NotSupported"
    expected = f"{caps.exchange} does not offer {decided}"
    if not err.message.startswith(expected) or declared.reason not in err.message:
        return f"{key}: NotSupported says {err.message!r}, not {expected}: {declared.reason}"
    return ""


def test_rest_operations_do_what_is_declared(name: str, emu: Emulator) -> None:
    problems: list[str] = []
    tried = 0
    with exchanges.connect(name, base_url=emu.base_url, **connect_options(name)) as ex:
        caps = ex.capabilities
        assert caps is ex.adapter.capabilities and caps.exchange == ex.name
        for key in caps:
            base, _, qualifier = key.partition(".")
            if key in KINDS:
                probe, market, env = KINDS[key], default_market(name, caps, key), None
            elif base in OPERATIONS and qualifier in ENVIRONMENTS:
                # Refused in another environment: tried there (nothing is sent before that).
                probe, market, env = OPERATIONS[base], default_market(name, caps, base), qualifier
            elif base in OPERATIONS:
                probe, env = OPERATIONS[base], None
                market = qualifier or default_market(name, caps, key)
            else:
                continue  # streams and environments: tested below
            tried += 1
            if env is None:
                err = outcome(probe, ex, SYMBOLS[market])
            else:
                other = connect_options(name)
                with exchanges.connect(name, env=env, base_url=emu.base_url, **other) as there:
                    err = outcome(probe, there, SYMBOLS[market])
            decided, declared = caps.resolve(key if env is None else base, market=market, env=env)
            if problem := disagreement(caps, key, decided, err):
                problems.append(problem)
            elif (
                declared.supported
                and err is not None
                and not name.startswith("ccxt:")
                and not isinstance(err, EXPECTED_FAILURES.get(key, ()))
            ):
                # The native adapters' offered keys work on their emulators, so these probes
                # really reach the exchange rather than failing on their own arguments.
                problems.append(f"{key}: declared offered, failed on the emulator: {err}")
    assert tried >= len(OPERATIONS) + len(KINDS)
    assert not problems, "\n".join(problems)


async def test_streams_do_what_is_declared(name: str, emu: Emulator) -> None:
    problems: list[str] = []
    options = connect_options(name)
    async with exchanges.connect_async(name, base_url=emu.base_url, **options) as ex:
        caps = ex.capabilities
        offered = [key for key in caps if key.startswith("watch_") and caps[key].supported]
        # The stream registry decides on its own whether an exchange has streams at all.
        try:
            ex.adapter.stream_dialect()
            has_dialect = True
        except NotSupported:
            has_dialect = False
        assert has_dialect == bool(offered), f"{name}: dialect {has_dialect}, declared {offered}"
        calls: dict[str, Callable[[str], Any]] = {
            "watch_ticker": lambda s: ex.watch_ticker(s),
            "watch_order_book": lambda s: ex.watch_order_book(s, limit=5),
            "watch_trades": lambda s: ex.watch_trades(s),
            "watch_ohlcv": lambda s: ex.watch_ohlcv(s, "1m"),
            "watch_orders": lambda s: ex.watch_orders(s),
            "watch_my_trades": lambda s: ex.watch_my_trades(s),
            "watch_positions": lambda s: ex.watch_positions(),
            "watch_balance": lambda s: ex.watch_balance(),
        }
        for key in caps:
            base, _, market = key.partition(".")
            if base not in calls:
                continue
            symbol = SYMBOLS[market or default_market(name, caps, base)]
            err = await _stream_outcome(calls[base], symbol)
            decided, declared = caps.resolve(base, market=market or None)
            if problem := disagreement(caps, key, decided, err):
                problems.append(problem)
            elif not declared.supported:
                # The client refuses from the declaration; below it the stream layer must
                # refuse too, or the declaration withholds a stream that works.
                below = await _stream_outcome(lambda s, b=base: _unchecked(ex, b, s), symbol)
                unlisted = isinstance(below, BadSymbol) and market in ("future", "option")
                if not isinstance(below, NotSupported) and not unlisted:
                    problems.append(f"{key}: declared not offered, but the stream gave {below}")
    assert not problems, "\n".join(problems)


def _unchecked(ex: exchanges.AsyncExchange, name: str, symbol: str) -> Any:
    """The stream of ``watch.<name>`` without the client's check of the declarations."""
    parsed = parse_symbol(symbol)
    args: dict[str, tuple[Any, ...]] = {
        "watch_order_book": (parsed, 5),
        "watch_ohlcv": (parsed, "1m"),
        "watch_orders": (None,),
        "watch_my_trades": (None,),
        "watch_positions": (None,),
        "watch_balance": (),
    }
    return getattr(watch, name)(ex, *args.get(name, (parsed,)))


async def _stream_outcome(call: Callable[[str], Any], symbol: str) -> ExchangeError | None:
    """``NotSupported`` from starting the stream or its first read (a quiet stream times out)."""
    try:
        stream = call(symbol)
        async with stream:
            await asyncio.wait_for(stream.__anext__(), 2.0)
    except ExchangeError as err:
        return err
    except TimeoutError:
        pass
    return None


def test_environments_do_what_is_declared(name: str, emu: Emulator) -> None:
    options = connect_options(name)
    with exchanges.connect(name, base_url=emu.base_url, **options) as ex:
        caps = ex.capabilities
    for env in ENVIRONMENTS:
        declared = caps[f"env.{env}"]
        try:
            exchanges.connect(name, env=env, base_url=emu.base_url, **options).close()
        except (NotSupported, ValueError) as err:
            # OKX refuses its missing testnet with ValueError, as an unknown environment.
            assert not declared.supported, f"{name} {env}: declared offered, refused: {err}"
        else:
            assert declared.supported, f"{name} {env}: declared {declared.reason!r}, connected"
    if not name.startswith("ccxt:"):
        offered = {env for env in ENVIRONMENTS if caps[f"env.{env}"].supported}
        assert offered == set(adapter_class(name).environments)
