"""What an exchange offers, declared in one structure users can read: ``ex.capabilities``.

Every adapter declares its ``Capabilities`` (the values live in ``adapters/<x>/capabilities.py``;
the ccxt bridge derives its own from ccxt's ``has``). Each entry is a ``Support``: offered
(with an optional note), or not offered with the short reason that ``NotSupported`` gives when
it is called anyway. The error always has one shape, naming the entry's key::

    binance does not offer amend_order.spot: Binance spot has no in-place amend ...

Keys: ``market.<type>``, ``order_type.<type>``, ``time_in_force.<value>``, ``env.<name>``, the
conditional-order intents (``ORDER_INTENTS``: ``order.trigger``, ``order.stop_loss`` ...), the
operations by method name (``fetch_ticker``, ``amend_order``, ``watch_trades`` ...) and, where an
operation differs per market type or environment, ``<operation>.<market type or env>``
(``amend_order.spot``, ``fetch_key_info.testnet``). The README's table of differences is
``markdown()`` of the native adapters' declarations (``exchanges capabilities --readme``
rewrites it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from exchanges.errors import NotSupported

if TYPE_CHECKING:
    from exchanges.symbols import Symbol

__all__ = [
    "ENVIRONMENTS",
    "MARKET_TYPES",
    "ORDER_INTENTS",
    "ORDER_TYPES",
    "PRIVATE_OPERATIONS",
    "PUBLIC_OPERATIONS",
    "STREAMS",
    "TIME_IN_FORCE",
    "UNDECLARED",
    "Capabilities",
    "Support",
    "Table",
    "capabilities_of",
    "funding_market",
    "intent_keys",
    "markdown",
    "market_type",
    "no",
    "order_keys",
    "perpetual_only",
    "table",
    "trailing_keys",
    "yes",
]

#: Market types: spot, linear perpetual swaps, dated linear futures, inverse (coin-margined)
#: contracts, options.
MARKET_TYPES = ("spot", "swap", "future", "inverse", "option")
ORDER_TYPES = ("market", "limit")
#: ``PO`` is post-only (``post_only=True``); ``GTD`` is listed to say where it is native.
TIME_IN_FORCE = ("GTC", "IOC", "FOK", "PO", "GTD")
PUBLIC_OPERATIONS = (
    "fetch_time",
    "fetch_markets",
    "fetch_ticker",
    "fetch_tickers",
    "fetch_order_book",
    "fetch_trades",
    "fetch_ohlcv",
    "fetch_funding_rate",
    "fetch_funding_rate_history",
)
PRIVATE_OPERATIONS = (
    "fetch_balance",
    "fetch_trading_fee",
    "fetch_key_info",
    "create_order",
    "create_orders",
    "amend_order",
    "cancel_order",
    "cancel_orders",
    "cancel_all_orders",
    "fetch_order",
    "fetch_open_orders",
    "fetch_closed_orders",
    "fetch_my_trades",
    "fetch_positions",
    "set_leverage",
    "set_margin_mode",
    "set_position_mode",
)
STREAMS = (
    "watch_ticker",
    "watch_order_book",
    "watch_trades",
    "watch_ohlcv",
    "watch_orders",
    "watch_my_trades",
    "watch_positions",
    "watch_balance",
)
ENVIRONMENTS = ("mainnet", "testnet", "demo")
#: Conditional orders and stops: a trigger order (``create_order(trigger_price=...)``), a
#: trigger on the mark or index price (``trigger_by``), a stop-loss and a take-profit attached
#: to an order, a trailing stop order (``create_trailing_stop``) by a percentage or a price
#: amount, and stops on an open position (``set_trading_stop``), trailing included;
#: ``order.amend``: ``amend_order`` changing a waiting conditional order's amount and price; and
#: ``order.streamed``: conditional orders reported on ``watch_orders`` (placed, triggered,
#: cancelled), whatever channel the exchange pushes them on. Each may differ per market type
#: (``order.trigger.spot``).
ORDER_INTENTS = (
    "order.trigger",
    "order.trigger_by.mark",
    "order.trigger_by.index",
    "order.amend",
    "order.stop_loss",
    "order.take_profit",
    "order.trailing_percent",
    "order.trailing_amount",
    "position.trading_stop",
    "position.trailing_stop",
    "order.streamed",
)

_GROUPS = {
    "market": "markets",
    "order_type": "order_types",
    "time_in_force": "time_in_force",
    "env": "environments",
}


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # Declarations are shared by every client of an exchange: nobody may change them.
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class Support:
    """One entry: offered (maybe with a note), or not offered with the reason why."""

    supported: bool
    #: Why it is not offered: the text ``NotSupported`` gives (empty when supported).
    reason: str = ""
    #: A caveat of a supported entry (e.g. "one symbol at a time").
    note: str = ""
    #: What to do instead, for ``NotSupported``'s hint.
    hint: str | None = None
    #: Where a market type differs from this entry (``amend_order`` on ``spot``).
    markets: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: Where an environment differs from this entry (``fetch_key_info`` on ``testnet``).
    environments: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)

    def __attrs_post_init__(self) -> None:
        if not self.supported and not self.reason:
            raise ValueError("an entry that is not supported needs a reason")
        if self.supported and self.reason:
            raise ValueError("a supported entry has a note, not a reason")

    def __bool__(self) -> bool:
        return self.supported

    @property
    def text(self) -> str:
        """The reason, or the note of a supported entry."""
        return self.reason or self.note


def yes(
    note: str = "",
    *,
    markets: Mapping[str, Support] | None = None,
    environments: Mapping[str, Support] | None = None,
) -> Support:
    """A supported entry (``markets``/``environments`` say where it differs)."""
    return Support(True, note=note, markets=markets or {}, environments=environments or {})


def no(reason: str, hint: str | None = None) -> Support:
    """An entry that is not offered, with the reason ``NotSupported`` gives."""
    return Support(False, reason=reason, hint=hint)


_UNKNOWN = yes("not declared by this adapter")


def market_type(symbol: Symbol) -> str:
    """The market type of a unified symbol: ``spot swap future inverse option``."""
    kind = symbol.kind
    if kind in ("spot", "option"):
        return kind
    return "inverse" if symbol.inverse else kind


def perpetual_only(reason: str) -> dict[str, Support]:
    """The market types that refuse an operation of perpetual swaps only (funding)."""
    return {market: no(reason) for market in ("spot", "future", "option")}


def funding_market(symbol: Symbol) -> str:
    """The market type deciding a funding operation: dated futures, linear or inverse, are
    ``future`` (they have no funding), inverse perpetuals ``inverse``."""
    return "future" if symbol.kind == "future" else market_type(symbol)


def order_keys(order_type: Any, time_in_force: Any, post_only: Any) -> list[str]:
    """The entries an order with these arguments uses (unknown values are left to validation)."""
    keys = [f"order_type.{order_type}"] if order_type in ORDER_TYPES else []
    if post_only is True or time_in_force == "PO":
        keys.append("time_in_force.PO")
    elif time_in_force in TIME_IN_FORCE:
        keys.append(f"time_in_force.{time_in_force}")
    return keys


def trailing_keys(trailing_percent: Any, trailing_amount: Any) -> list[str]:
    """The ``ORDER_INTENTS`` entries a trailing stop uses (by its distance's unit)."""
    keys = ["order.trailing_percent"] if trailing_percent is not None else []
    if trailing_amount is not None:
        keys.append("order.trailing_amount")
    return keys


def intent_keys(trigger_price: Any, trigger_by: Any, *stops: Any) -> list[str]:
    """The ``ORDER_INTENTS`` entries an order uses: ``order.trigger`` (and its ``trigger_by``)
    for a trigger price, ``order.stop_loss``/``order.take_profit`` (and theirs) for attached
    stops given as ``(name, value)`` pairs. Unknown values are left to validation."""
    keys: list[str] = []
    watched: list[Any] = []
    if trigger_price is not None:
        keys.append("order.trigger")
        watched.append(trigger_by)
    for name, stop in stops:
        if stop is not None:
            keys.append(f"order.{name}")
            watched.append(getattr(stop, "trigger_by", None))
    for by in watched:
        key = f"order.trigger_by.{by}"
        if by in ("mark", "index") and key not in keys:
            keys.append(key)
    return keys


@attrs.frozen
class Capabilities:
    """What one exchange offers through this library, and why not where it does not."""

    #: The exchange's name, as in ``connect()`` and errors.
    exchange: str
    #: By market type (``MARKET_TYPES``).
    markets: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: ``market`` and ``limit``.
    order_types: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: ``GTC IOC FOK PO GTD``.
    time_in_force: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: The REST operations by method name (``PUBLIC_OPERATIONS``, ``PRIVATE_OPERATIONS``).
    operations: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: The ``watch_*`` streams of ``AsyncExchange``.
    streams: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: ``mainnet``, ``testnet``, ``demo``.
    environments: Mapping[str, Support] = attrs.field(factory=dict, converter=_frozen)
    #: How the exchange counts amounts natively, by market type (the library always takes and
    #: returns base currency, quote for inverse contracts, converting where they differ).
    native_units: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)

    def _table(self, key: str) -> tuple[Mapping[str, Support], str]:
        group, _, name = key.partition(".")
        if group in _GROUPS:
            return getattr(self, _GROUPS[group]), name
        return (self.streams if group.startswith("watch_") else self.operations), key

    def __getitem__(self, key: str) -> Support:
        """The entry of ``key`` (``"amend_order"``, ``"amend_order.spot"``, ``"market.option"``)."""
        table, name = self._table(key)
        if name in table:
            return table[name]
        base, _, qualifier = name.rpartition(".")
        found = table.get(base) if base else None
        if found is not None:
            if qualifier in found.markets:
                return found.markets[qualifier]
            if qualifier in found.environments:
                return found.environments[qualifier]
            return found
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        """Every declared key, qualified variants included (``amend_order.spot``)."""
        for group, attr in _GROUPS.items():
            for name in getattr(self, attr):
                yield f"{group}.{name}"
        for table in (self.operations, self.streams):
            for name, entry in table.items():
                yield name
                for qualifier in (*entry.markets, *entry.environments):
                    yield f"{name}.{qualifier}"

    def resolve(
        self, key: str, *, market: str | None = None, env: str | None = None
    ) -> tuple[str, Support]:
        """The most specific entry deciding ``key`` in ``market`` and ``env``, with its key.

        A market type or environment this exchange does not offer decides before the operation.
        Undeclared keys count as supported (an adapter that declares nothing refuses nothing).
        """
        for group, table, name in (
            ("market", self.markets, market),
            ("env", self.environments, env),
        ):
            offered = table.get(name) if name is not None else None
            if offered is not None and not offered.supported and not key.startswith(group + "."):
                return f"{group}.{name}", offered
        try:
            entry = self[key]
        except KeyError:
            return key, _UNKNOWN
        if env is not None and env in entry.environments:
            return f"{key}.{env}", entry.environments[env]
        if market is not None and market in entry.markets:
            return f"{key}.{market}", entry.markets[market]
        return key, entry

    def supports(self, key: str, *, market: str | None = None, env: str | None = None) -> bool:
        """Whether ``key`` is offered (in ``market`` and ``env`` when given)."""
        return self.resolve(key, market=market, env=env)[1].supported

    def error(
        self, key: str, *, market: str | None = None, env: str | None = None, subject: str = ""
    ) -> NotSupported:
        """The ``NotSupported`` for ``key``: ``"<exchange> does not offer <key>: <reason>"``."""
        decided, entry = self.resolve(key, market=market, env=env)
        about = f" ({subject})" if subject else ""
        reason = entry.reason or "not offered by this adapter"
        return NotSupported(
            f"{self.exchange} does not offer {decided}{about}: {reason}",
            exchange=self.exchange,
            hint=entry.hint,
        )

    def require(
        self, key: str, *, market: str | None = None, env: str | None = None, subject: str = ""
    ) -> None:
        """Raise ``NotSupported`` (see ``error``) unless ``key`` is offered."""
        if not self.supports(key, market=market, env=env):
            raise self.error(key, market=market, env=env, subject=subject)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: every key with ``supported`` and its reason or note."""
        entries: dict[str, Any] = {}
        for key in self:
            entry = self[key]
            entries[key] = {"supported": entry.supported, "reason": entry.text}
        return {
            "exchange": self.exchange,
            "entries": entries,
            "native_units": dict(self.native_units),
        }


#: What an adapter that declares nothing has: every lookup answers "supported".
UNDECLARED = Capabilities("undeclared")


def capabilities_of(exchange: str) -> Capabilities:
    """The declared capabilities of ``exchange`` (``"bybit"``, ``"ccxt:kraken"``), unconnected."""
    from exchanges.registry import adapter_class

    cls = adapter_class(exchange)
    options = {"ccxt_id": exchange.split(":", 1)[1]} if exchange.startswith("ccxt:") else {}
    # Adapters do no I/O when built: this only reads their declarations.
    return cls(options=options).capabilities


# -- the README table ----------------------------------------------------------------------------


def _rows(columns: Sequence[Capabilities]) -> list[tuple[str, str | None]]:
    """(key, section title or None) in table order, variants under their operation."""
    rows: list[tuple[str, str | None]] = []
    fixed: tuple[tuple[str, str, tuple[str, ...]], ...] = (
        ("Markets", "market", MARKET_TYPES),
        ("Orders", "order_type", ORDER_TYPES),
        ("Time in force", "time_in_force", TIME_IN_FORCE),
    )
    for title, group, names in fixed:
        rows.append((title, None))
        rows.extend((f"{group}.{name}", title) for name in names)
    listed: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("Public REST", PUBLIC_OPERATIONS),
        ("Private REST", PRIVATE_OPERATIONS),
        ("Conditional orders and stops", ORDER_INTENTS),
        ("Streams (AsyncExchange)", STREAMS),
    )
    for title, names in listed:
        rows.append((title, None))
        for name in names:
            rows.append((name, title))
            variants: list[str] = []
            for caps in columns:
                try:
                    entry = caps[name]
                except KeyError:
                    continue
                variants.extend(
                    q for q in (*entry.markets, *entry.environments) if q not in variants
                )
            order = {q: i for i, q in enumerate((*MARKET_TYPES, *ENVIRONMENTS))}
            rows.extend(
                (f"{name}.{q}", title) for q in sorted(variants, key=lambda q: order.get(q, 99))
            )
    rows.append(("Environments", None))
    rows.extend((f"env.{name}", "Environments") for name in ENVIRONMENTS)
    return rows


def _split(key: str) -> tuple[str, str | None, str | None]:
    """(base key, market, env) of a row key such as ``fetch_key_info.testnet`` or
    ``order.trigger.spot``."""
    base, _, qualifier = key.rpartition(".")
    if not base or base.partition(".")[0] in _GROUPS:
        return key, None, None
    if qualifier in ENVIRONMENTS:
        return base, None, qualifier
    if qualifier in MARKET_TYPES:
        return base, qualifier, None
    return key, None, None


@attrs.frozen
class Table:
    """The table of differences: sections of rows (key, one cell per exchange), then notes."""

    exchanges: tuple[str, ...]
    sections: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]
    #: Footnotes: ``"[n]"`` in a cell is ``notes[n - 1]``.
    notes: tuple[str, ...]


_UNITS_TITLE = "Amounts as the exchange counts them"


def table(columns: Sequence[Capabilities]) -> Table:
    """One row per key, one column per exchange: ✓ or —, with ``[n]`` for a reason or note."""
    notes: dict[str, int] = {}

    def mark(caps: Capabilities, key: str) -> str:
        base, market, env = _split(key)
        _, entry = caps.resolve(base, market=market, env=env)
        symbol = "✓" if entry.supported else "—"
        if not entry.text:
            return symbol
        # One number per distinct text, so a reason shared by many rows is listed once.
        number = notes.setdefault(f"{caps.exchange}: {entry.text}", len(notes) + 1)
        return f"{symbol} [{number}]"

    sections: list[tuple[str, list[tuple[str, ...]]]] = []
    for key, section in _rows(columns):
        if section is None:
            sections.append((key, []))
        else:
            sections[-1][1].append((key, *(mark(c, key) for c in columns)))
    units = sorted({m for c in columns for m in c.native_units}, key=MARKET_TYPES.index)
    if units:
        rows = [(m, *(c.native_units.get(m, "—") for c in columns)) for m in units]
        sections.append((_UNITS_TITLE, rows))
    return Table(
        tuple(c.exchange for c in columns),
        tuple((title, tuple(rows)) for title, rows in sections),
        tuple(notes),
    )


def markdown(columns: Sequence[Capabilities]) -> str:
    """The table of differences as Markdown, the notes as a list below it."""
    data = table(columns)
    lines = [
        "| capability | " + " | ".join(f"`{name}`" for name in data.exchanges) + " |",
        "|---|" + "---|" * len(data.exchanges),
    ]
    for title, rows in data.sections:
        lines.append(f"| **{title}** |" + " |" * len(data.exchanges))
        lines.extend(f"| `{key}` | " + " | ".join(cells) + " |" for key, *cells in rows)
    lines.append("")
    lines.extend(f"- [{number}] {text}" for number, text in enumerate(data.notes, 1))
    return "\n".join(lines).rstrip() + "\n"
