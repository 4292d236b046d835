"""The data commands: ``time markets ticker book trades ohlcv balance orders positions``.

Each command is one fetch (``fetch``), its JSON form (``to_json``) and its table (``show``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

import exchanges
from exchanges.cli import tables, values
from exchanges.cli.options import add_connection_arguments, connect_from, formatter
from exchanges.cli.render import Output, cell, fmt_time, to_jsonable
from exchanges.cli.values import UsageError
from exchanges.models import Balances, Candle, Market, Order, OrderBook, Position, Ticker, Trade

__all__ = ["COMMANDS", "DataCommand", "add_parsers", "run"]

Fetch = Callable[[exchanges.Exchange, argparse.Namespace], Any]
Show = Callable[[Output, Any, argparse.Namespace], None]


def _identity(value: Any) -> Any:
    return value


@attrs.frozen
class DataCommand:
    """One data command: what it fetches, how it prints, which arguments it takes."""

    name: str
    help: str
    fetch: Fetch
    show: Show
    symbol: Literal["required", "optional", "none"] = "none"
    limit: int | None = None
    timeframe: bool = False
    example: str = ""
    to_json: Callable[[Any], Any] = _identity
    extra: Callable[[argparse.ArgumentParser], None] | None = None


# -- time ------------------------------------------------------------------------------------


def _fetch_time(ex: exchanges.Exchange, args: argparse.Namespace) -> dict[str, Any]:
    sent = time.time() * 1000
    started = time.perf_counter()
    server = ex.fetch_time()
    rtt = (time.perf_counter() - started) * 1000
    local = round(sent + rtt / 2)
    return {
        "exchange": ex.name,
        "env": ex.env,
        "server_time": server,
        "server_time_utc": fmt_time(server),
        "local_time": local,
        "offset_ms": server - local,
        "rtt_ms": round(rtt, 1),
    }


def _show_time(out: Output, result: dict[str, Any], args: argparse.Namespace) -> None:
    out.table(
        ["time", "value"],
        [
            ("exchange", f"{result['exchange']} ({result['env']})"),
            ("server time", f"{result['server_time']} ms = {result['server_time_utc']} UTC"),
            ("offset", f"{result['offset_ms']:+d} ms (server minus local, at the RTT midpoint)"),
            ("round trip", f"{result['rtt_ms']} ms"),
        ],
        text=(1,),
    )


# -- market data -----------------------------------------------------------------------------


def _fetch_markets(ex: exchanges.Exchange, args: argparse.Namespace) -> list[Market]:
    if args.symbol:
        return [ex.market(args.symbol)]
    markets = list(ex.load_markets().values())
    if args.type:
        markets = [m for m in markets if m.type == args.type]
    return markets


def _show_markets(out: Output, markets: list[Market], args: argparse.Namespace) -> None:
    tables.show_markets(out, markets)
    out.note(f"{len(markets)} market(s)")


def _markets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type", choices=("spot", "swap", "future", "option"), help="only markets of this type"
    )


def _fetch_ticker(ex: exchanges.Exchange, args: argparse.Namespace) -> Ticker:
    return ex.fetch_ticker(args.symbol)


def _show_ticker(out: Output, ticker: Ticker, args: argparse.Namespace) -> None:
    tables.show_ticker(out, ticker)


def _fetch_book(ex: exchanges.Exchange, args: argparse.Namespace) -> OrderBook:
    return ex.fetch_order_book(args.symbol, limit=args.limit)


def _show_book(out: Output, book: OrderBook, args: argparse.Namespace) -> None:
    title = f"{book.symbol} at {fmt_time(book.timestamp)} UTC, sequence {cell(book.sequence)}"
    tables.show_book(out, book, title)


def _fetch_trades(ex: exchanges.Exchange, args: argparse.Namespace) -> list[Trade]:
    return ex.fetch_trades(args.symbol, limit=args.limit)


def _show_trades(out: Output, trades: list[Trade], args: argparse.Namespace) -> None:
    tables.show_trades(out, trades)
    out.note(f"{len(trades)} trade(s), oldest first")


def _fetch_ohlcv(ex: exchanges.Exchange, args: argparse.Namespace) -> list[Candle]:
    _check_timeframe(ex, args.timeframe)
    return ex.fetch_ohlcv(args.symbol, args.timeframe, limit=args.limit)


def _check_timeframe(ex: exchanges.Exchange, timeframe: str) -> None:
    # The native adapters publish the timeframes they map: a wrong one is a usage error found
    # before any request. The ccxt bridge has no such table; ccxt itself says so.
    known = getattr(sys.modules.get(type(ex.adapter).__module__), "TIMEFRAMES", None)
    if isinstance(known, Mapping) and timeframe not in known:
        raise UsageError(
            f"--timeframe: {timeframe!r}: {ex.name} has no such timeframe; one of "
            f"{' '.join(known)}, e.g. --timeframe 1h"
        )


def _show_ohlcv(out: Output, candles: list[Candle], args: argparse.Namespace) -> None:
    tables.show_candles(out, candles, title=f"{args.symbol} {args.timeframe}, oldest first")


# -- account ---------------------------------------------------------------------------------


def _fetch_balance(ex: exchanges.Exchange, args: argparse.Namespace) -> Balances:
    return ex.fetch_balance()


def _balance_json(balances: Balances) -> dict[str, Any]:
    return {"timestamp": balances.timestamp, "balances": to_jsonable(dict(balances))}


def _show_balance(out: Output, balances: Balances, args: argparse.Namespace) -> None:
    shown = [b for b in balances.values() if args.all or b.total != 0]
    tables.show_balances(out, shown)
    hidden = len(balances) - len(shown)
    if hidden:
        out.note(f"{hidden} zero balance(s) hidden (--all shows them)")


def _balance_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="also show zero balances")


def _fetch_orders(ex: exchanges.Exchange, args: argparse.Namespace) -> list[Order]:
    if args.closed:
        return ex.fetch_closed_orders(args.symbol, limit=args.limit)
    return ex.fetch_open_orders(args.symbol)


def _show_orders(out: Output, orders: list[Order], args: argparse.Namespace) -> None:
    tables.show_orders(out, orders)
    out.note(f"{len(orders)} {'closed' if args.closed else 'open'} order(s)")


def _orders_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--closed", action="store_true", help="closed orders instead of open")


def _fetch_positions(ex: exchanges.Exchange, args: argparse.Namespace) -> list[Position]:
    return ex.fetch_positions([args.symbol] if args.symbol else None)


def _show_positions(out: Output, positions: list[Position], args: argparse.Namespace) -> None:
    tables.show_positions(out, positions)
    out.note(f"{len(positions)} open position(s)")


COMMANDS = (
    DataCommand(
        "time",
        "the exchange's clock: server time, offset and round trip",
        _fetch_time,
        _show_time,
        example="exchanges time bybit",
    ),
    DataCommand(
        "markets",
        "markets with their precision and limits",
        _fetch_markets,
        _show_markets,
        symbol="optional",
        extra=_markets_arguments,
        example="exchanges markets bybit --type swap",
    ),
    DataCommand(
        "ticker",
        "best prices and 24-hour statistics of a market",
        _fetch_ticker,
        _show_ticker,
        symbol="required",
        example="exchanges ticker bybit BTC/USDT:USDT",
    ),
    DataCommand(
        "book",
        "the order book, best levels first",
        _fetch_book,
        _show_book,
        symbol="required",
        limit=10,
        example="exchanges book bybit BTC/USDT --limit 5",
    ),
    DataCommand(
        "trades",
        "recent public trades",
        _fetch_trades,
        _show_trades,
        symbol="required",
        limit=20,
        example="exchanges trades bybit ETH/USDT",
    ),
    DataCommand(
        "ohlcv",
        "candles, oldest first",
        _fetch_ohlcv,
        _show_ohlcv,
        symbol="required",
        limit=20,
        timeframe=True,
        example="exchanges ohlcv bybit BTC/USDT --timeframe 1h --limit 24",
    ),
    DataCommand(
        "balance",
        "the account's balances (needs a key)",
        _fetch_balance,
        _show_balance,
        to_json=_balance_json,
        extra=_balance_arguments,
        example="BYBIT_TESTNET_API_KEY=... BYBIT_TESTNET_API_SECRET=... "
        "exchanges balance bybit --env testnet",
    ),
    DataCommand(
        "orders",
        "open (or closed) orders (needs a key)",
        _fetch_orders,
        _show_orders,
        symbol="optional",
        limit=50,
        extra=_orders_arguments,
        example="exchanges orders bybit BTC/USDT --env testnet --closed",
    ),
    DataCommand(
        "positions",
        "open derivatives positions (needs a key)",
        _fetch_positions,
        _show_positions,
        symbol="optional",
        example="exchanges positions bybit --env testnet --json",
    ),
)


def run(command: DataCommand, args: argparse.Namespace, out: Output) -> int:
    """Fetch and print one data command's result."""
    ex = connect_from(args, out)
    with ex:
        with out.progress(f"{command.name}: asking {ex.name} ({ex.env})"):
            result = command.fetch(ex, args)
        if args.json:
            out.json(command.to_json(result))
        else:
            command.show(out, result, args)
    return 0


def _handler(command: DataCommand) -> Callable[[argparse.Namespace, Output], int]:
    def handle(args: argparse.Namespace, out: Output) -> int:
        return run(command, args, out)

    return handle


def add_parsers(commands: Any) -> None:
    """Register every data command."""
    for command in COMMANDS:
        parser = commands.add_parser(
            command.name,
            help=command.help,
            description=command.help[0].upper() + command.help[1:] + ".",
            epilog=f"example:\n  {command.example}",
            formatter_class=formatter,
        )
        add_connection_arguments(parser)
        if command.symbol == "required":
            parser.add_argument(
                "symbol",
                metavar="SYMBOL",
                type=values.symbol,
                help="a unified symbol: BTC/USDT, "
                "BTC/USDT:USDT (linear perpetual), BTC/USD:BTC (inverse)",
            )
        elif command.symbol == "optional":
            parser.add_argument(
                "symbol",
                metavar="SYMBOL",
                nargs="?",
                type=values.symbol,
                help="a unified symbol (default: all)",
            )
        if command.limit is not None:
            parser.add_argument(
                "--limit",
                type=values.limit,
                default=command.limit,
                help=f"how many (default: {command.limit})",
            )
        if command.timeframe:
            parser.add_argument(
                "--timeframe",
                type=values.timeframe,
                default="1m",
                help="1m 5m 15m 1h 4h 1d ... (default: 1m)",
            )
        if command.extra is not None:
            command.extra(parser)
        parser.set_defaults(handler=_handler(command))
