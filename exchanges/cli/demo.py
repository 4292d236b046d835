"""``exchanges demo``: a guided tour of the library against the embedded emulator, offline.

The tour is written against the public API only (unified symbols, ``connect``, the error
classes), so the same code runs on every exchange whose emulator front-end exists.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

import exchanges
from exchanges.cli import tables, values
from exchanges.cli.demo_bracket import step_bracket
from exchanges.cli.local import EXCHANGES, start_emulator, unavailable
from exchanges.cli.options import formatter
from exchanges.cli.render import Output, cell, fmt_time, short_id
from exchanges.cli.sizing import amount_for, price_below
from exchanges.errors import (
    AuthenticationError,
    ExchangeError,
    InsufficientFunds,
    InvalidSignature,
    NotSupported,
    PermissionDenied,
    UnsafeApiKey,
)
from exchanges.models import Fill, Market

if TYPE_CHECKING:
    from exchanges.emulator import Emulator

__all__ = ["DEMO_KEYS", "DemoKey", "add_parser", "run"]

E = TypeVar("E", bound=ExchangeError)

SYMBOL = "BTC/USDT"
#: Seconds the stream step may take; the emulator answers in milliseconds.
STREAM_TOUR_TIMEOUT = 30.0


@attrs.frozen
class DemoKey:
    """One of the demo's obviously fake API keys and what it is for."""

    role: str
    api_key: str
    secret: str
    passphrase: str
    permissions: tuple[str, ...]
    use: str

    @property
    def credentials(self) -> exchanges.Credentials:
        """The key as the library takes it."""
        return exchanges.Credentials(self.api_key, self.secret, passphrase=self.passphrase)


#: Distinct endings, because only the first and last four characters are ever shown.
DEMO_KEYS = (
    DemoKey(
        "read",
        "demo-key-read-only",
        "demo-secret-read-only",
        "demo-pass-read-only",
        ("read",),
        "credentials= (every read)",
    ),
    DemoKey(
        "trade",
        "demo-key-trade",
        "demo-secret-trade",
        "demo-pass-trade",
        ("read", "spot_trade", "derivatives_trade"),
        "trade_credentials= (orders)",
    ),
    DemoKey(
        "withdraw",
        "demo-key-withdraw",
        "demo-secret-withdraw",
        "demo-pass-withdraw",
        ("read", "spot_trade", "withdraw"),
        "nothing: the demo shows why",
    ),
)
WRONG_SECRET = "demo-secret-wrong"


class StepFailed(Exception):
    """A demo step saw something other than what it demonstrates."""


class NotOffered(Exception):
    """The exchange does not offer what a step shows; the message says why."""


class Tour:
    """The demo's state: the emulator, the keys, the bot's client and the steps' results."""

    def __init__(self, out: Output, emu: Emulator, exchange: str) -> None:
        self.out = out
        self.emu = emu
        self.exchange = exchange
        self.keys = {key.role: key for key in DEMO_KEYS}
        self._clients: list[exchanges.Exchange] = []
        self.ex = self.connect(
            credentials=self.keys["read"].credentials,
            trade_credentials=self.keys["trade"].credentials,
        )
        self.market: Market | None = None
        self.bid = Decimal(0)
        self.ask = Decimal(0)

    def connect(self, **kwargs: Any) -> exchanges.Exchange:
        """A client of the emulator, as a bot would create it."""
        ex = exchanges.connect(self.exchange, base_url=self.emu.base_url, **kwargs)
        self._clients.append(ex)
        return ex

    def close(self) -> None:
        """Close every client the tour opened."""
        for ex in self._clients:
            ex.close()

    # -- helpers ---------------------------------------------------------------------------

    def expect(self, cls: type[E], call: Callable[[], object], what: str) -> E:
        """Run ``call``, which must raise ``cls``; show the error as a user would see it."""
        try:
            call()
        except cls as err:
            self.out.ok(f"{what} → {type(err).__name__}")
            self.out.line(str(err), indent=2)
            return err
        except ExchangeError as err:
            raise StepFailed(f"expected {cls.__name__}, got {type(err).__name__}: {err}") from err
        raise StepFailed(f"expected {cls.__name__}, but the call succeeded")

    def prices(self) -> tuple[Decimal, Decimal]:
        """The best bid and ask, from the ticker (fetched when no step has fetched it yet)."""
        if not (self.bid and self.ask):
            ticker = self.ex.fetch_ticker(SYMBOL)
            if not (ticker.bid and ticker.ask):
                raise StepFailed(f"{SYMBOL} has no bid and ask to place orders against")
            self.bid, self.ask = ticker.bid, ticker.ask
        return self.bid, self.ask

    def far_price(self, factor: str) -> Decimal:
        """A buy price ``factor`` × the bid, on the market's price grid: it cannot fill."""
        return price_below(self._market(), self.prices()[0], Decimal(factor))

    def amount_for(self, notional: Decimal, price: Decimal) -> Decimal:
        """An amount worth about ``notional`` in quote currency, valid for the market."""
        return amount_for(self._market(), notional, price)

    def _market(self) -> Market:
        if self.market is None:
            self.market = self.ex.market(SYMBOL)
        return self.market

    # -- the steps -------------------------------------------------------------------------

    def step_keys(self) -> None:
        """The emulator and the three keys."""
        self.out.line(f"Emulator for {self.exchange} on {self.emu.base_url} (loopback only)")
        self.out.table(
            ["role", "api key", "permissions", "passed to connect() as"],
            [
                (k.role, k.credentials.masked_key, ", ".join(k.permissions), k.use)
                for k in DEMO_KEYS
            ],
            text=(2, 3),
        )
        self.out.note(
            f'ex = exchanges.connect("{self.exchange}", base_url="{self.emu.base_url}", '
            "credentials=read_key, trade_credentials=trade_key)"
        )
        # connect() sends nothing: only an answer shows the client reaches the emulator.
        server = self.ex.fetch_time()
        self.out.ok(f"connected: {self.ex!r} answered fetch_time(): {fmt_time(server)} UTC")

    def step_audit(self) -> None:
        """Audit every key; the withdrawal key is critical and refused for trading."""
        withdraw = self.keys["withdraw"]
        risky = self.connect(credentials=withdraw.credentials)
        audits = [
            ("read", self.ex.audit_key()),
            ("trade", self.ex.audit_key("trade")),
            ("withdraw", risky.audit_key()),
        ]
        tables.show_audit(self.out, audits)
        if not audits[2][1].critical:
            raise StepFailed("the withdrawal-enabled key was not flagged critical")
        self.out.ok(f"{withdraw.credentials.masked_key} is flagged CRITICAL (it can withdraw)")
        price = self.far_price("0.8")
        accepted = len(self.emu.ledger())
        self.expect(
            UnsafeApiKey,
            lambda: risky.create_order(
                SYMBOL, "limit", "buy", self.amount_for(Decimal(100), price), price, post_only=True
            ),
            "an order with the withdrawal-enabled key is refused",
        )
        if len(self.emu.ledger()) != accepted:
            raise StepFailed("the order reached the emulator's order book all the same")
        self.out.ok("it was never sent: the emulator's ledger holds no new order")

    def step_balances(self) -> None:
        """Balances, read with the read-only key."""
        tables.show_balances(self.out, self.ex.fetch_balance().values())

    def step_market_data(self) -> None:
        """Market limits, ticker and the top of the order book."""
        market = self._market()
        self.out.line(
            f"{market.symbol} ({market.type}, native id {market.id}): price step "
            f"{cell(market.price_step)}, amount step {cell(market.amount_step)}, min amount "
            f"{cell(market.min_amount)}, min notional {cell(market.min_notional)}"
        )
        ticker = self.ex.fetch_ticker(SYMBOL)
        if ticker.bid is None or ticker.ask is None:
            raise StepFailed("the ticker has no bid/ask")
        self.bid, self.ask = ticker.bid, ticker.ask
        tables.show_ticker(self.out, ticker)
        book = self.ex.fetch_order_book(SYMBOL, limit=5)
        tables.show_book(self.out, book, title=f"fetch_order_book({SYMBOL!r}, limit=5)")
        if not book.bids or not book.asks or book.bids[0][0] >= book.asks[0][0]:
            raise StepFailed("the order book is empty or crossed")

    def step_limit_order(self) -> None:
        """A post-only limit order far below the market: placed, then cancelled."""
        price = self.far_price("0.8")
        amount = self.amount_for(Decimal(500), price)
        placed = self.ex.create_order(SYMBOL, "limit", "buy", amount, price, post_only=True)
        self.out.note(f"client order id {placed.client_order_id} (generated: exactly-once)")
        opened = self.ex.fetch_order(placed.id, SYMBOL)
        self.ex.cancel_order(placed.id, SYMBOL)
        cancelled = self.ex.fetch_order(placed.id, SYMBOL)
        tables.show_orders(self.out, [opened, cancelled], labels=["placed", "cancelled"])
        if opened.status != "open" or opened.price != price:
            raise StepFailed(f"expected an open order at {price}, saw {opened}")
        if cancelled.status != "canceled" or cancelled.filled:
            raise StepFailed(
                f"expected a canceled order with nothing filled, saw status "
                f"{cancelled.status}, filled {cancelled.filled}"
            )
        self.out.ok(f"open at {price}, then canceled; nothing filled")

    def step_amend(self) -> None:
        """An open order's price changed in place: the same order id, at the new price."""
        price = self.far_price("0.8")
        new_price = self.far_price("0.79")
        amount = self.amount_for(Decimal(500), price)
        placed = self.ex.create_order(SYMBOL, "limit", "buy", amount, price, post_only=True)
        try:
            opened = self.ex.fetch_order(placed.id, SYMBOL)
            try:
                self.ex.amend_order(placed.id, SYMBOL, price=new_price)
            except NotSupported as err:
                raise NotOffered(f"amend_order: {err.message}") from None
            amended = self.ex.fetch_order(placed.id, SYMBOL)
        finally:
            # Also when amend is not offered: the order placed to try it must not stay open.
            self.ex.cancel_order(placed.id, SYMBOL)
        tables.show_orders(self.out, [opened, amended], labels=["placed", "amended"])
        if opened.status != "open" or opened.price != price:
            raise StepFailed(f"expected an open order at {price}, saw {opened}")
        if amended.id != placed.id or amended.status != "open" or amended.price != new_price:
            raise StepFailed(f"expected order {placed.id} open at {new_price}, saw {amended}")
        self.out.ok(f"order {short_id(placed.id)} moved from {price} to {new_price} in place")

    def step_market_order(self) -> None:
        """A market buy that fills; its fills and the balances after."""
        market = self._market()
        before = self.ex.fetch_balance()
        amount = self.amount_for(Decimal(1000), self.prices()[1])
        placed = self.ex.create_order(SYMBOL, "market", "buy", amount)
        order = self.ex.fetch_order(placed.id, SYMBOL)
        tables.show_orders(self.out, [order], labels=["market buy"])
        fills = [f for f in self.ex.fetch_my_trades(SYMBOL) if f.order_id == placed.id]
        tables.show_fills(self.out, fills, title=f"fetch_my_trades({SYMBOL!r})")
        after = self.ex.fetch_balance()
        rows = []
        for currency in (market.base, market.quote):
            old = before[currency].total if currency in before else Decimal(0)
            new = after[currency].total if currency in after else Decimal(0)
            rows.append((currency, old, new, f"{new - old:+f}"))
        self.out.table(
            ["currency", "before", "after", "change"], rows, title="Balances", right=(1, 2, 3)
        )
        filled = sum((f.amount for f in fills), Decimal(0))
        if order.status != "closed" or filled != amount:
            raise StepFailed(f"expected {amount} filled, saw {filled} (status {order.status})")
        self.out.ok(f"bought {filled} {market.base} in {len(fills)} fill(s)")

    def step_streams(self) -> None:
        """A live order book over WebSocket, and a market order's fill on the private stream."""
        try:
            self.ex.adapter.stream_dialect()
        except NotSupported as err:
            raise NotOffered(f"{err.message}. {err.hint}") from None
        asyncio.run(asyncio.wait_for(self._stream_tour(), STREAM_TOUR_TIMEOUT))

    async def _stream_tour(self) -> None:
        market = self._market()
        async with (
            exchanges.connect_async(
                self.exchange,
                base_url=self.emu.base_url,
                credentials=self.keys["read"].credentials,
                trade_credentials=self.keys["trade"].credentials,
            ) as client,
            client.watch_order_book(SYMBOL, limit=5) as books,
            client.watch_my_trades(SYMBOL) as fills,
        ):
            book = await anext(books)
            tables.show_book(self.out, book, title=f"watch_order_book({SYMBOL!r}, limit=5)")
            amount = self.amount_for(Decimal(1000), book.asks[0][0])
            started = time.perf_counter()
            placed = await client.create_order(SYMBOL, "market", "buy", amount)
            received: list[Fill] = []
            while sum((f.amount for f in received), Decimal(0)) < amount:
                fill = await anext(fills)
                if fill.order_id == placed.id:
                    received.append(fill)
            arrived_ms = (time.perf_counter() - started) * 1000
            tables.show_fills(self.out, received, title="watch_my_trades(): the order's fills")
            updates = 0
            moved = book
            while moved.asks == book.asks:
                moved = await anext(books)
                updates += 1
            tables.show_book(self.out, moved, title="the same stream after the market buy")
        if not moved.bids or not moved.asks or moved.bids[0][0] >= moved.asks[0][0]:
            raise StepFailed("the streamed book is empty or crossed")
        self.out.ok(
            f"bought {amount} {market.base}: {len(received)} fill(s) on the private stream "
            f"{arrived_ms:.0f} ms after the order was sent; the book moved after "
            f"{updates} update(s), kept from a snapshot and deltas"
        )

    def step_wrong_secret(self) -> None:
        """A wrong secret: the exchange says the signature is invalid, with a hint."""
        read = self.keys["read"]
        wrong = exchanges.Credentials(read.api_key, WRONG_SECRET, passphrase=read.passphrase)
        self.out.protect(wrong)
        client = self.connect(credentials=wrong)
        self.expect(InvalidSignature, client.fetch_balance, "fetch_balance() with a wrong secret")

    def step_read_only_order(self) -> None:
        """The read-only key placing an order: permission denied."""
        client = self.connect(credentials=self.keys["read"].credentials)
        price = self.far_price("0.8")
        amount = self.amount_for(Decimal(100), price)
        err = self.expect(
            AuthenticationError,
            lambda: client.create_order(SYMBOL, "limit", "buy", amount, price, post_only=True),
            "create_order() with only the read-only key",
        )
        if not isinstance(err, PermissionDenied):
            # Binance answers -2015 for an unknown key, a foreign IP and a missing permission
            # alike: the class is as precise as the exchange's code allows.
            self.out.note(
                f"the exchange's code {err.code} does not tell a missing permission apart"
            )

    def step_insufficient_funds(self) -> None:
        """An order worth more than the account holds."""
        market = self._market()
        balances = self.ex.fetch_balance()
        free = balances[market.quote].free if market.quote in balances else Decimal(0)
        price = self.far_price("0.8")
        amount = self.amount_for(free * 2 + Decimal(100), price)
        self.out.line(f"free {market.quote}: {free}; order: buy {amount} {market.base} @ {price}")
        self.expect(
            InsufficientFunds,
            lambda: self.ex.create_order(SYMBOL, "limit", "buy", amount, price, post_only=True),
            "an order worth twice the free balance",
        )

    def step_clock(self) -> None:
        """The exchange's clock moves: the client resyncs and resends, transparently."""
        clock = self.ex.session.clock
        first = clock.resyncs
        try:
            for offset in (3000, -3000, -60_000):
                self.emu.set_clock_offset(offset)
                before = clock.resyncs
                self.ex.fetch_balance()
                after = clock.resyncs
                ahead = "ahead of" if offset > 0 else "behind"
                self.out.line(
                    f"exchange clock {abs(offset) / 1000:g} s {ahead} ours: fetch_balance() OK; "
                    f"clock.resyncs {before} → {after}, offset estimate {clock.offset_ms} ms"
                )
        finally:
            self.emu.set_clock_offset(0)
        if clock.resyncs == first:
            raise StepFailed("the client never resynced its clock")
        self.out.note(
            "Inside the exchange's receive window (seconds behind, about one ahead; wider on some "
            "exchanges) a stamp is accepted as it is. Outside it the exchange refuses it "
            "(ClockSkew); the client resyncs, resends once, and the call succeeds."
        )
        self.out.ok("no error reached the caller")


#: A step's result: neither passed nor failed when the exchange does not offer what it shows.
NOT_OFFERED = "not offered"
PASSED = "passed"
FAILED = "FAILED"

STEPS: tuple[tuple[str, Callable[[Tour], None]], ...] = (
    ("Emulator and API keys", Tour.step_keys),
    ("Key audit", Tour.step_audit),
    ("Balances", Tour.step_balances),
    ("Ticker and order book", Tour.step_market_data),
    ("Post-only limit order: place, cancel", Tour.step_limit_order),
    ("Amend an open order in place", Tour.step_amend),
    ("Market order, fills and balances", Tour.step_market_order),
    ("Streams: live order book and a fill", Tour.step_streams),
    ("Bracket order: entry, stop-loss hit", step_bracket),
    ("Error: wrong secret", Tour.step_wrong_secret),
    ("Error: read-only key places an order", Tour.step_read_only_order),
    ("Error: insufficient funds", Tour.step_insufficient_funds),
    ("Clock skew: transparent resync", Tour.step_clock),
)


def _run_steps(out: Output, tour: Tour) -> list[tuple[str, str, float]]:
    results = []
    for number, (title, step) in enumerate(STEPS, 1):
        out.section(f"Step {number}/{len(STEPS)}: {title}")
        started = time.perf_counter()
        try:
            step(tour)
            result = PASSED
        except NotOffered as why:
            out.note(f"{NOT_OFFERED} by {tour.exchange}: {why}")
            result = NOT_OFFERED
        except NotSupported as err:
            out.note(f"{NOT_OFFERED} by {tour.exchange}: {err.message}")
            result = NOT_OFFERED
        except (StepFailed, ExchangeError, TimeoutError) as exc:
            # A failed step is reported and the tour goes on: later steps do not depend on it.
            out.bad(f"step failed: {exc or type(exc).__name__}")
            result = FAILED
        results.append((title, result, (time.perf_counter() - started) * 1000))
    return results


def run(args: argparse.Namespace, out: Output) -> int:
    """Run the tour; 0 when every step passed, 1 otherwise, 2 when the exchange is unavailable."""
    exchange: str = args.exchange
    missing = unavailable(exchange, emulator=True)
    if missing is not None:
        out.error(f"exchanges demo: {exchange} is not available yet: {missing.message}.")
        out.error("Try: exchanges demo --exchange bybit")
        return 2
    for key in DEMO_KEYS:
        out.protect(key.credentials)
    started = time.perf_counter()
    out.line(
        f"exchanges demo: {exchange} on a local emulator (seed {args.seed}). Nothing leaves "
        "this machine, and every key below is fake."
    )
    with out.progress(f"Starting the {exchange} emulator"):
        emu = start_emulator(exchange, seed=args.seed, default_key=False)
    try:
        for key in DEMO_KEYS:
            emu.add_key(
                key.api_key, key.secret, passphrase=key.passphrase, permissions=key.permissions
            )
        tour = Tour(out, emu, exchange)
        try:
            results = _run_steps(out, tour)
        finally:
            tour.close()
    finally:
        emu.stop()
    elapsed = time.perf_counter() - started
    failed = sum(result == FAILED for _, result, _ in results)
    out.section("Summary")
    out.table(
        ["step", "result", "ms"],
        [(title, result, f"{ms:.0f}") for title, result, ms in results],
        right=(2,),
        text=(0,),
    )
    ran = [result for _, result, _ in results if result != NOT_OFFERED]
    summary = f"{ran.count(PASSED)}/{len(ran)} steps passed in {elapsed:.1f} s"
    if len(ran) < len(results):
        summary += f" ({len(results) - len(ran)} not offered by {exchange})"
    if not failed:
        out.ok(summary)
        return 0
    out.bad(summary)
    return 1


def add_parser(commands: Any) -> None:
    """Register ``exchanges demo``."""
    parser = commands.add_parser(
        "demo",
        help="a guided tour on the embedded emulator (offline, fake keys)",
        description="Start a local emulator, create fake keys and walk through key audit, "
        "market data, orders, fills and the errors a bot meets. Nothing leaves this machine.",
        epilog="example:\n  exchanges demo\n  exchanges demo --exchange bybit --seed 42",
        formatter_class=formatter,
    )
    parser.add_argument(
        "--exchange", choices=EXCHANGES, default="bybit", help="which exchange (default: bybit)"
    )
    parser.add_argument(
        "--seed", type=values.seed, default=7, help="the emulator's random seed (default: 7)"
    )
    parser.set_defaults(handler=run)
