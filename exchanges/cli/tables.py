"""How each model prints: one function per model, fitted to the terminal by ``Output.table``.

Columns of symbols, ids, numbers and times are never wrapped; only those passed as ``text``
(prose) are, between words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exchanges.cli.render import Output, cell, fmt_time, short_id
from exchanges.models import (
    Balance,
    Candle,
    Fill,
    KeyAudit,
    Market,
    Order,
    OrderBook,
    Position,
    Ticker,
    Trade,
)

__all__ = [
    "show_audit",
    "show_balances",
    "show_book",
    "show_candles",
    "show_fills",
    "show_markets",
    "show_orders",
    "show_positions",
    "show_ticker",
    "show_trades",
]


def show_ticker(out: Output, t: Ticker) -> None:
    """A ticker as field/value rows (too many fields for one row)."""
    rows = [
        ("symbol", t.symbol),
        ("time (UTC)", fmt_time(t.timestamp)),
        ("bid × size", f"{cell(t.bid)} × {cell(t.bid_size)}"),
        ("ask × size", f"{cell(t.ask)} × {cell(t.ask_size)}"),
        ("last", cell(t.last)),
        ("24h open / high / low", f"{cell(t.open)} / {cell(t.high)} / {cell(t.low)}"),
        ("24h volume base / quote", f"{cell(t.base_volume)} / {cell(t.quote_volume)}"),
    ]
    if t.mark_price is not None or t.funding_rate is not None:
        rows += [
            ("mark / index", f"{cell(t.mark_price)} / {cell(t.index_price)}"),
            ("funding rate", cell(t.funding_rate)),
            ("next funding (UTC)", fmt_time(t.next_funding_time)),
        ]
    out.table(["ticker", "value"], rows, text=(0, 1))


def show_book(out: Output, book: OrderBook, title: str | None = None) -> None:
    """Bids and asks side by side, best first."""
    depth = max(len(book.bids), len(book.asks))
    rows = []
    for i in range(depth):
        bid = book.bids[i] if i < len(book.bids) else (None, None)
        ask = book.asks[i] if i < len(book.asks) else (None, None)
        rows.append((bid[1], bid[0], ask[0], ask[1]))
    out.table(["bid amount", "bid", "ask", "ask amount"], rows, title=title, right=(0, 1))


def show_balances(out: Output, balances: Iterable[Balance]) -> None:
    """Balances by currency."""
    out.table(
        ["currency", "free", "used", "total"],
        [(b.currency, b.free, b.used, b.total) for b in balances],
        right=(1, 2, 3),
    )


def show_markets(out: Output, markets: Sequence[Market]) -> None:
    """Markets with their precision and limits."""
    out.table(
        ["symbol", "type", "id", "price step", "amount step", "min amount", "min notional"],
        [
            (
                m.symbol,
                m.type if m.active else f"{m.type} (inactive)",
                m.id,
                m.price_step,
                m.amount_step,
                m.min_amount,
                m.min_notional,
            )
            for m in markets
        ],
        right=(3, 4, 5, 6),
        text=(1,),
    )


def show_trades(out: Output, trades: Sequence[Trade]) -> None:
    """Public trades."""
    out.table(
        ["time (UTC)", "id", "side", "price", "amount"],
        [(fmt_time(t.timestamp), short_id(t.id), t.side, t.price, t.amount) for t in trades],
        right=(3, 4),
    )


def show_candles(out: Output, candles: Sequence[Candle], title: str | None = None) -> None:
    """OHLCV bars."""
    out.table(
        ["start (UTC)", "open", "high", "low", "close", "volume"],
        [(fmt_time(c.timestamp), c.open, c.high, c.low, c.close, c.volume) for c in candles],
        title=title,
        right=(1, 2, 3, 4, 5),
    )


def show_orders(out: Output, orders: Sequence[Order], labels: Sequence[str] = ()) -> None:
    """Orders; ``labels`` names each row (e.g. the action that led to that state)."""
    first = labels or [o.symbol for o in orders]
    out.table(
        ["" if labels else "symbol", "id", "type", "side", "status", "price", "amount", "filled"],
        [
            (label, short_id(o.id), o.type, o.side, o.status, o.price, o.amount, o.filled)
            for label, o in zip(first, orders, strict=True)
        ],
        right=(5, 6, 7),
    )


def show_fills(out: Output, fills: Sequence[Fill], title: str | None = None) -> None:
    """The account's fills."""
    out.table(
        ["fill", "side", "price", "amount", "fee", "liquidity"],
        [
            (
                short_id(f.id),
                f.side,
                f.price,
                f.amount,
                f"{cell(f.fee)} {f.fee_currency or ''}",
                None if f.is_maker is None else ("maker" if f.is_maker else "taker"),
            )
            for f in fills
        ],
        title=title,
        right=(2, 3, 4),
    )


def show_positions(out: Output, positions: Sequence[Position]) -> None:
    """Open derivatives positions."""
    out.table(
        ["symbol", "side", "size", "entry", "mark", "liq.", "uPnL", "lev."],
        [
            (
                p.symbol,
                p.side,
                p.size,
                p.entry_price,
                p.mark_price,
                p.liquidation_price,
                p.unrealized_pnl,
                p.leverage,
            )
            for p in positions
        ],
        right=(2, 3, 4, 5, 6, 7),
    )
    if positions:
        out.note("liq. liquidation price, uPnL unrealised profit and loss, lev. leverage")


def show_audit(out: Output, audits: Sequence[tuple[str, KeyAudit]]) -> None:
    """Findings of one or more key audits; each audit is labelled (e.g. with the key's role)."""
    rows = []
    for label, audit in audits:
        for finding in audit.findings:
            rows.append((audit.key, label, finding.severity.upper(), finding.message))
        if not audit.findings:
            rows.append((audit.key, label, "OK", "no findings"))
    out.table(["key", "role", "severity", "finding"], rows, text=(3,))
