"""``exchanges compare``: one scenario on several exchanges, printed as one table.

Rows are the scenario's steps, columns the exchanges. Each cell holds the normalised result, or
the error class and native code, with the step's latency. An exchange that cannot run here (no
adapter, or no emulator front-end for ``--env local``) gets a column saying why.

Exit status: 0 when every step went as expected everywhere, 1 when one did not (or an exchange
could not run), 2 for a usage error such as an unknown exchange name. The last line says which.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import attrs

import exchanges
from exchanges.cli import values
from exchanges.cli.local import EXCHANGES, start_emulator, unavailable
from exchanges.cli.options import formatter
from exchanges.cli.render import Output, cell
from exchanges.cli.sizing import amount_for, price_below
from exchanges.errors import ExchangeError, InsufficientFunds, OrderNotFound
from exchanges.models import Market

__all__ = ["SCENARIOS", "Result", "add_parser", "run", "run_scenario"]

#: An order id no exchange will know (numeric, so it is well-formed everywhere).
UNKNOWN_ORDER_ID = "1234567890123"


@attrs.frozen
class Result:
    """One step on one exchange: a value (Decimals kept exact) or an error, and its latency.

    ``offered`` is False when the step does not apply to this market or exchange: such a step
    is neither a pass nor a failure.
    """

    ok: bool
    text: str
    latency_ms: float | None = None
    error: str | None = None
    code: str | None = None
    message: str | None = None
    value: Any = None
    offered: bool = True

    @property
    def failed(self) -> bool:
        """True when the step ran (or should have) and did not go as expected."""
        return self.offered and not self.ok

    def to_json(self) -> dict[str, Any]:
        """The result as JSON."""
        return {
            "ok": self.ok,
            "offered": self.offered,
            "value": self.value,
            "error": self.error,
            "code": self.code,
            "message": self.message,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 2),
        }


def _failure(err: ExchangeError, latency_ms: float | None, expected: str = "") -> Result:
    code = None if err.code is None else str(err.code)
    head = f"{type(err).__name__} {code}" if code else type(err).__name__
    text = f"✗ {head}: {err.message}" + (f" (expected {expected})" if expected else "")
    return Result(False, text, latency_ms, type(err).__name__, code, err.message)


class _Timer:
    """Milliseconds spent inside ``with timer:`` blocks, summed."""

    def __init__(self) -> None:
        self.ms = 0.0

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.ms += (time.perf_counter() - started) * 1000


class Scenario:
    """The basic scenario on one connected exchange; steps may use earlier steps' results."""

    def __init__(self, ex: exchanges.Exchange, symbol: str) -> None:
        self.ex = ex
        self.symbol = symbol
        self.market: Market | None = None
        self.bid: Decimal | None = None
        #: Steps run on another market than ``symbol`` say which (step key -> symbol).
        self.ran_on: dict[str, str] = {}

    def server_time(self, timer: _Timer) -> Result:
        """Server-time offset (server minus local at the RTT midpoint) and round trip."""
        sent = time.time() * 1000
        with timer():
            server = self.ex.fetch_time()
        received = time.time() * 1000
        offset = round(server - (sent + received) / 2)
        value = {"server_time": server, "offset_ms": offset}
        return Result(True, f"{offset:+d} ms", timer.ms, value=value)

    def ticker(self, timer: _Timer) -> Result:
        """Best bid and ask."""
        with timer():
            ticker = self.ex.fetch_ticker(self.symbol)
        self.bid = ticker.bid or ticker.last
        value = {"bid": ticker.bid, "ask": ticker.ask, "last": ticker.last}
        return Result(True, f"{cell(ticker.bid)} / {cell(ticker.ask)}", timer.ms, value=value)

    def min_order(self, timer: _Timer) -> Result:
        """The market's minimum amount and notional."""
        with timer():
            self.market = self.ex.market(self.symbol)
        m = self.market
        value = {
            "min_amount": m.min_amount,
            "min_notional": m.min_notional,
            "amount_step": m.amount_step,
            "price_step": m.price_step,
        }
        text = f"{cell(m.min_amount)} {m.base} / ≥ {cell(m.min_notional)} {m.quote}"
        return Result(True, text, timer.ms, value=value)

    def _far_order(self, notional: Decimal) -> tuple[Decimal, Decimal]:
        if self.market is None or self.bid is None:
            raise _Skip("needs the ticker and the market")
        price = price_below(self.market, self.bid, Decimal("0.8"))
        return price, amount_for(self.market, notional, price)

    def post_only(self, timer: _Timer) -> Result:
        """A post-only buy 20 % below the bid: open on the book, then cancelled."""
        price, amount = self._far_order(Decimal(20))
        with timer():
            placed = self.ex.create_order(
                self.symbol, "limit", "buy", amount, price, post_only=True
            )
            # A post-only order the exchange refused to rest also ends "canceled": only an
            # open order before the cancel shows the placement worked.
            opened = self.ex.fetch_order(placed.id, self.symbol)
            self.ex.cancel_order(placed.id, self.symbol)
            final = self.ex.fetch_order(placed.id, self.symbol)
        value = {"price": price, "amount": amount, "status": final.status}
        ok = opened.status == "open" and final.status == "canceled"
        text = f"✓ {final.status}" if ok else f"✗ {opened.status} → {final.status}"
        return Result(ok, text, timer.ms, value=value)

    def unknown_order(self, timer: _Timer) -> Result:
        """Fetching an order that does not exist (expect ``OrderNotFound``)."""
        with timer():
            self.ex.fetch_order(UNKNOWN_ORDER_ID, self.symbol)
        return Result(False, "✗ no error (expected OrderNotFound)", timer.ms)

    def over_balance(self, timer: _Timer) -> Result:
        """A spot buy worth twice the free quote balance (expect ``InsufficientFunds``).

        On a contract market the margin an order needs is its value divided by the leverage,
        which the library neither reports nor sets: twice the balance may well fit. So a
        contract symbol is tested on the spot market of the same pair, where twice the free
        balance cannot be paid; without such a market the step is not offered.
        """
        if self.market is None:
            raise _Skip("needs the market")
        market = self.market
        if market.contract:
            spot = f"{market.base}/{market.quote}"
            with timer():
                markets = self.ex.load_markets()
            if spot not in markets:
                return Result(
                    False,
                    f"not offered: no spot {spot} (a contract's margin depends on its leverage)",
                    timer.ms,
                    offered=False,
                )
            market = markets[spot]
            self.ran_on["over_balance"] = spot
            with timer():
                ticker = self.ex.fetch_ticker(spot)
            reference = ticker.bid or ticker.last
            if reference is None:
                raise _Skip(f"{spot} has no bid to price the order")
        elif self.bid is None:
            raise _Skip("needs the ticker")
        else:
            reference = self.bid
        with timer():
            balances = self.ex.fetch_balance()
        free = balances[market.quote].free if market.quote in balances else Decimal(0)
        price = price_below(market, reference, Decimal("0.8"))
        amount = amount_for(market, free * 2 + Decimal(100), price)
        with timer():
            placed = self.ex.create_order(
                market.symbol, "limit", "buy", amount, price, post_only=True
            )
        # It fitted after all (a capped or huge balance): do not leave it behind.
        with contextlib.suppress(ExchangeError):
            self.ex.cancel_order(placed.id, market.symbol)
        return Result(False, "✗ accepted (expected InsufficientFunds)", timer.ms)


class _Skip(Exception):
    """A step cannot run because an earlier one failed."""


Step = tuple[str, str, Callable[[Scenario, _Timer], Result], type[ExchangeError] | None]

SCENARIOS: dict[str, tuple[Step, ...]] = {
    "basic": (
        ("server_time", "clock offset", Scenario.server_time, None),
        ("min_order", "min order", Scenario.min_order, None),
        ("ticker", "bid / ask", Scenario.ticker, None),
        ("post_only", "post-only + cancel", Scenario.post_only, None),
        ("unknown_order", "unknown order", Scenario.unknown_order, OrderNotFound),
        ("over_balance", "over balance (spot)", Scenario.over_balance, InsufficientFunds),
    ),
}


def run_scenario(ex: exchanges.Exchange, name: str, symbol: str) -> dict[str, Result]:
    """Run scenario ``name`` on a connected exchange; every step gets a result, never a crash."""
    scenario = Scenario(ex, symbol)
    results: dict[str, Result] = {}
    for key, _, step, expected in SCENARIOS[name]:
        timer = _Timer()
        try:
            results[key] = step(scenario, timer)
        except _Skip as skip:
            results[key] = Result(False, f"skipped: {skip}")
        except ExchangeError as err:
            if expected is not None and isinstance(err, expected):
                code = None if err.code is None else str(err.code)
                text = f"✓ {type(err).__name__}" + (f" {code}" if code else "")
                results[key] = Result(True, text, timer.ms, type(err).__name__, code, err.message)
            else:
                results[key] = _failure(err, timer.ms, expected.__name__ if expected else "")
        if key in scenario.ran_on:
            result = results[key]
            results[key] = attrs.evolve(result, text=f"{result.text} on {scenario.ran_on[key]}")
    return results


@attrs.frozen
class Column:
    """One exchange's column: where it ran, or why it could not."""

    exchange: str
    target: str | None
    unavailable: ExchangeError | None = None
    results: dict[str, Result] = attrs.field(factory=dict)

    def failures(self, scenario: str) -> list[str]:
        """The titles of the steps that did not go as expected (all of them when it never ran)."""
        if self.unavailable is not None:
            return ["cannot run here"]
        return [
            title
            for key, title, _, _ in SCENARIOS[scenario]
            if key not in self.results or self.results[key].failed
        ]

    def to_json(self) -> dict[str, Any]:
        """The column as JSON."""
        out: dict[str, Any] = {"available": self.unavailable is None, "target": self.target}
        if self.unavailable is not None:
            out["error"] = {
                "class": type(self.unavailable).__name__,
                "message": self.unavailable.message,
                "hint": self.unavailable.hint,
            }
        out["steps"] = {k: r.to_json() for k, r in self.results.items()}
        return out


def _connect_error(exchange: str, exc: Exception) -> ExchangeError:
    if isinstance(exc, ExchangeError):
        return exc
    return exchanges.NotSupported(str(exc), exchange=exchange)


def _run_one(exchange: str, args: argparse.Namespace, out: Output) -> Column:
    missing = unavailable(exchange, emulator=args.env == "local")
    if missing is not None:
        return Column(exchange, None, missing)
    if args.env == "local":
        emu = start_emulator(exchange, seed=args.seed)
        credentials = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")
        out.protect(credentials)
        try:
            with exchanges.connect(exchange, base_url=emu.base_url, credentials=credentials) as ex:
                results = run_scenario(ex, args.scenario, args.symbol)
        finally:
            emu.stop()
        return Column(exchange, f"emulator {emu.base_url}", results=results)
    try:
        client = exchanges.connect(exchange, env=args.env)
    except (ExchangeError, ValueError) as exc:
        return Column(exchange, args.env, _connect_error(exchange, exc))
    with client as ex:
        out.protect(ex.session.credentials)
        results = run_scenario(ex, args.scenario, args.symbol)
    return Column(exchange, args.env, results=results)


def _latency(result: Result) -> str:
    return "" if result.latency_ms is None else f"\n{result.latency_ms:.1f} ms"


def _show(out: Output, columns: list[Column], args: argparse.Namespace) -> None:
    first = ["runs on"]
    for column in columns:
        if column.unavailable is not None:
            first.append(f"{type(column.unavailable).__name__}: {column.unavailable.message}")
        else:
            first.append("emulator" if args.env == "local" else str(column.target))
    rows = [first]
    for key, title, _, _ in SCENARIOS[args.scenario]:
        row = [title]
        for column in columns:
            result = column.results.get(key)
            row.append("—" if result is None else result.text + _latency(result))
        rows.append(row)
    last = ["as expected"]
    for column in columns:
        offered = [r for r in column.results.values() if r.offered]
        tally = f"{sum(r.ok for r in offered)}/{len(offered)}"
        if len(offered) < len(column.results):
            tally += f" ({len(column.results) - len(offered)} not offered)"
        last.append("—" if column.unavailable else tally)
    rows.append(last)
    out.table(
        ["step", *(c.exchange for c in columns)],
        rows,
        title=f"scenario {args.scenario!r} on {args.symbol}, env {args.env}",
        text=range(len(columns) + 1),
    )


def _verdict(columns: list[Column], scenario: str) -> tuple[int, str]:
    """The exit status and the line that says it."""
    failed = [(c.exchange, c.failures(scenario)) for c in columns]
    failed = [(name, steps) for name, steps in failed if steps]
    if not failed:
        return 0, f"every step as expected on {', '.join(c.exchange for c in columns)}"
    # Short enough for one line: the table above (or the JSON's "failed") names the steps.
    where = ", ".join(
        f"{name} ({steps[0]})"
        if steps == ["cannot run here"]
        else f"{name} ({len(steps)} step{'s' * (len(steps) > 1)})"
        for name, steps in failed
    )
    return 1, f"not as expected on {where}: exit status 1"


def run(args: argparse.Namespace, out: Output) -> int:
    """Run the scenario on every exchange and print one table (or JSON); 1 if a step failed."""
    names: list[str] = args.exchanges
    columns = []
    for name in names:
        with out.progress(f"running {args.scenario!r} on {name} ({args.env})"):
            columns.append(_run_one(name, args, out))
    if args.json:
        out.json(
            {
                "scenario": args.scenario,
                "env": args.env,
                "symbol": args.symbol,
                "exchanges": {c.exchange: c.to_json() for c in columns},
                "failed": {
                    c.exchange: c.failures(args.scenario)
                    for c in columns
                    if c.failures(args.scenario)
                },
            }
        )
    else:
        _show(out, columns, args)
    status, verdict = _verdict(columns, args.scenario)
    if args.json:
        # stdout holds only the JSON document: the verdict goes to stderr.
        (out.info if status == 0 else out.error)(f"exchanges compare: {verdict}")
    elif status == 0:
        out.ok(verdict)
    else:
        out.bad(verdict)
    return status


def add_parser(commands: Any) -> None:
    """Register ``exchanges compare``."""
    parser = commands.add_parser(
        "compare",
        help="run one scenario on several exchanges, side by side",
        description="Run a scenario (server time, ticker, minimum order, a post-only order "
        "placed and cancelled, an unknown order, an order over the balance) on each exchange "
        "and print one table: normalised results, error classes and codes, latencies. "
        "--env local runs each exchange's emulator (no keys needed); testnet and demo read "
        "keys from <EXCHANGE>_TESTNET_API_KEY / _DEMO_API_KEY and their _API_SECRET.",
        epilog="examples:\n  exchanges compare --env local\n"
        "  exchanges compare --exchanges bybit,okx --env testnet --json",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--exchanges",
        type=values.exchange_list,
        default=",".join(EXCHANGES),
        help=f"comma-separated (default: {','.join(EXCHANGES)})",
    )
    parser.add_argument(
        "--env",
        choices=("local", "testnet", "demo"),
        default="local",
        help="where to run (default: local, the emulators)",
    )
    parser.add_argument(
        "--scenario",
        choices=sorted(SCENARIOS),
        default="basic",
        help="which scenario (default: basic)",
    )
    parser.add_argument(
        "--symbol",
        type=values.symbol,
        default="BTC/USDT",
        help="the market (default: BTC/USDT); on a contract the over-balance step uses the "
        "pair's spot market",
    )
    parser.add_argument(
        "--seed", type=values.seed, default=7, help="the emulators' seed (default: 7)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")
    parser.set_defaults(handler=run)
