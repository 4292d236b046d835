"""The OKX emulator's WebSocket channels: what each publishes, diffed from the engine's state.

Market channels (https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-...):
``books`` (a 400-level snapshot with ``prevSeqId`` -1, unless the snapshot push is off, then
updates chained by ``prevSeqId``/``seqId``; ``checksum`` always 0 since 2026-06-23), ``trades``
(one message per trade with ``count`` and ``seqId``), ``tickers`` (on a change), and
``candle<bar>`` on /business (rows ``[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]``).

Private channels (https://www.okx.com/docs-v5/en/#order-book-trading-trade-ws-order-channel,
#trading-account-websocket-account-channel, #trading-account-websocket-positions-channel):
``orders`` (no initial push; one item per state change, and one per fill carrying that fill's
``fillPx``/``fillSz``/``tradeId``/``fillFee``/``execType``, which is how a client below VIP4,
who cannot subscribe ``fills``, learns its fills), ``account`` and ``positions`` (a snapshot on
subscribing, split into pages of ``page_size`` items with ``curPage``/``lastPage``, then
``eventType: event_update`` pushes on a change; the emulator sends no periodic pushes, as with
``updateInterval: "0"``). A position that closes is pushed once with ``pos`` "0".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from adapters.okx.emulator_common import _BARS, _numeric, _w
from adapters.okx.emulator_ws_algo import ALGO_CHANNELS, AlgoChannels
from exchanges.decimals import to_wire
from exchanges.emulator.engine import EngineError
from exchanges.emulator.stream_cursors import CandleCursor

if TYPE_CHECKING:
    from adapters.okx.emulator import OkxFrontEnd
    from adapters.okx.emulator_books import BookSequence
    from adapters.okx.emulator_common import Instrument
    from exchanges.emulator.engine import CandleView, FillView, OrderView, PositionView
    from exchanges.emulator.keys import ApiKey

__all__ = ["ACCOUNT", "AccountChannels", "Channel", "make_channel", "refusal"]

PUBLIC = frozenset({"books", "trades", "tickers"})
BUSINESS_PREFIX = "candle"
PRIVATE = frozenset({"orders", "account", "positions"})
#: The channels of an account: /private's and the algo order channels of /business.
ACCOUNT = PRIVATE | ALGO_CHANNELS


class Channel:
    """A public channel of one instrument; ``poll`` returns the frames of what changed."""

    def __init__(self, arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> None:
        self.arg = arg
        self.inst = inst
        self.front = front
        self.subscribers: set[Any] = set()

    def initial(self, now: int) -> list[dict[str, Any]]:
        """Frames a new subscriber gets at once."""
        return []

    def poll(self, now: int) -> list[dict[str, Any]]:
        """Frames for every subscriber, of what changed since the last poll."""
        return []

    def close(self) -> None:
        """The last subscriber left."""


class BookChannel(Channel):
    """``books``: snapshot (optional) and updates from the instrument's shared seqId chain."""

    def __init__(self, arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> None:
        super().__init__(arg, inst, front)
        self.sequence: BookSequence = front.book_sequence(inst)
        self.sequence.listened = True
        #: False: no snapshot on subscribing (OKX's announced change); clients start from REST.
        self.push_snapshot = True

    def _frame(self, action: str, prev: int, seq: int, item: dict[str, Any]) -> dict[str, Any]:
        data = {**item, "checksum": 0, "prevSeqId": prev, "seqId": seq}
        return {"arg": dict(self.arg), "action": action, "data": [data]}

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The 400-level snapshot (``prevSeqId`` -1), unless snapshots are off."""
        if not self.push_snapshot:
            return []
        snap = self.sequence.snapshot(400)
        seq = snap.pop("seqId")
        return [self._frame("snapshot", -1, seq, snap)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """One ``update`` per recorded change (REST reads may have recorded some)."""
        self.sequence.refresh(now)
        return [
            self._frame("update", u.prev, u.seq, {"asks": u.asks, "bids": u.bids, "ts": str(u.ts)})
            for u in self.sequence.drain()
        ]

    def close(self) -> None:
        """Stop keeping updates for nobody."""
        self.sequence.listened = False
        self.sequence.drain()


class TradesChannel(Channel):
    """``trades``: one message per new public trade (``count`` 1, ``seqId`` of the book)."""

    def __init__(self, arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> None:
        super().__init__(arg, inst, front)
        spec = inst.spec
        recent = front.engine.public_trades(spec.symbol, 1, category=spec.category)
        self.last_id = recent[0].trade_id if recent else None

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The trades since the last poll, oldest first."""
        spec = self.inst.spec
        recent = self.front.engine.public_trades(spec.symbol, 500, category=spec.category)
        ids = [t.trade_id for t in recent]
        fresh = recent[: ids.index(self.last_id)] if self.last_id in ids else recent
        if not fresh:
            return []
        self.last_id = fresh[0].trade_id
        seq = self.front.book_sequence(self.inst).seq
        inst = self.inst
        return [
            {
                "arg": dict(self.arg),
                "data": [
                    {
                        "instId": inst.inst_id,
                        "tradeId": _numeric(t.trade_id),
                        "px": to_wire(t.price.quantize(spec.tick_size)),
                        "sz": _w(inst.from_engine(t.qty)),
                        "side": t.side,
                        "ts": str(t.time_ms),
                        "count": "1",
                        "source": "0",
                        "seqId": seq,
                    }
                ],
            }
            for t in reversed(fresh)
        ]


class TickerChannel(Channel):
    """``tickers``: the ticker whenever one of its fields changed."""

    def __init__(self, arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> None:
        super().__init__(arg, inst, front)
        self.last = front._ticker_json(inst)

    def _frame(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"arg": dict(self.arg), "data": [item]}

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The current ticker."""
        return [self._frame(self.last)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The ticker if it changed."""
        item = self.front._ticker_json(self.inst)
        if item == self.last:
            return []
        self.last = item
        return [self._frame(item)]


class CandleChannel(Channel):
    """``candle<bar>`` (business): the current candle on a change, the closed one once."""

    def __init__(self, arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> None:
        super().__init__(arg, inst, front)
        self.interval = _BARS[arg["channel"][len(BUSINESS_PREFIX) :]] * 60_000
        self.candles = CandleCursor(front.engine, inst.spec, self.interval)
        self.last = self.candles.current()

    def _frame(self, candle: CandleView, now: int, closed: bool = False) -> dict[str, Any]:
        row = self.front.candle_row(self.inst, candle, self.interval, now)
        if closed:
            row[-1] = "1"
        return {"arg": dict(self.arg), "data": [row]}

    def initial(self, now: int) -> list[dict[str, Any]]:
        """The current candle."""
        return [self._frame(self.last, now)]

    def poll(self, now: int) -> list[dict[str, Any]]:
        """The closed candle (``confirm`` "1") when a new one starts, then the current one."""
        current = self.candles.current()
        last = self.last
        if current == last:
            return []
        frames = []
        if current.start_ms != last.start_ms:
            frames.append(self._frame(self.candles.final(last), now, closed=True))
        frames.append(self._frame(current, now))
        self.last = current
        return frames


def make_channel(arg: dict[str, str], inst: Instrument, front: OkxFrontEnd) -> Channel:
    """The channel object of a public or business subscription."""
    name = arg["channel"]
    if name == "books":
        return BookChannel(arg, inst, front)
    if name == "trades":
        return TradesChannel(arg, inst, front)
    if name == "tickers":
        return TickerChannel(arg, inst, front)
    return CandleChannel(arg, inst, front)


def refusal(
    kind: str, logged_in: bool, arg: dict[str, Any], instruments: Mapping[str, Any]
) -> tuple[str, str] | None:
    """Why a subscription on a connection of ``kind`` (public, business, private) is refused:
    (code, message), or None when it is not."""
    channel = arg.get("channel")
    if not isinstance(channel, str) or not channel:
        return "60013", "Invalid args"
    inst_id = arg.get("instId")
    missing = f"Wrong URL or channel:{channel},instId:{inst_id} doesn't exist."
    if channel == "fills":
        if kind != "private":
            return "60018", missing
        if not logged_in:
            return "60011", "Please log in"
        return (
            "64003",
            "Your trading fee tier doesn't meet the requirement to access this channel",
        )
    if channel in ALGO_CHANNELS:
        if kind != "business":
            return "60018", missing
        if not logged_in:
            return "60011", "Please log in"
        return None if isinstance(arg.get("instType"), str) else ("60013", "Invalid args")
    if channel in PRIVATE:
        if kind != "private":
            return "60018", missing
        if not logged_in:
            return "60011", "Please log in"
        if channel != "account" and not isinstance(arg.get("instType"), str):
            return "60013", "Invalid args"
        return None
    business = channel.startswith(BUSINESS_PREFIX) and channel[len(BUSINESS_PREFIX) :] in _BARS
    if business and kind != "business":
        return "64001", f"{channel} channel has been migrated to the /business URL."
    if channel in PUBLIC and kind == "business":
        return "64002", f"{channel} channel is not supported by business URL."
    if not (business or channel in PUBLIC) or kind == "private":
        return "60018", missing
    if not isinstance(inst_id, str) or inst_id not in instruments:
        return "60018", missing
    return None


# -- private -------------------------------------------------------------------------------------


def _order_print(order: OrderView) -> tuple[Any, ...]:
    return (order.status, order.filled, order.qty, order.price, order.updated_ms)


def _position_print(p: PositionView) -> tuple[Any, ...]:
    # Mark price and upl move with the book; pushes follow trades and settings.
    return (p.side, p.size, p.entry_price, p.leverage, p.position_margin, p.realized_pnl)


class AccountChannels:
    """What one account's private subscribers were told; ``poll`` returns what changed."""

    def __init__(self, front: OkxFrontEnd, key: ApiKey) -> None:
        self.front = front
        self.engine = front.engine
        self.key = key
        self.uid = key.uid
        self.subscribers: set[Any] = set()
        self.orders = {o.order_id: _order_print(o) for o in self._orders()}
        self.fills = len(self.engine.fills(self.uid))
        self.positions = self._positions()
        self.wallet = self._wallet()
        self.algos = AlgoChannels(front.algo, self.uid)

    def _orders(self) -> list[OrderView]:
        return self.engine.open_orders(self.uid) + self.engine.closed_orders(self.uid)

    def _positions(self) -> dict[str, tuple[Any, ...]]:
        out = {}
        for p in self.engine.positions(self.uid):
            if p.size != 0:
                out[self.front._of(p).inst_id] = _position_print(p)
        return out

    def _wallet(self) -> tuple[Any, ...]:
        return tuple(
            (coin, b.total, b.locked) for coin, b in self.engine.balances(self.uid).items()
        )

    def balance_item(self) -> dict[str, Any]:
        """The ``account`` item: ``/api/v5/account/balance``'s ``data[0]``."""
        return self.front.account_balance({}, self.key)[0]

    def position_items(self) -> list[dict[str, Any]]:
        """The open positions as ``/api/v5/account/positions`` shows them."""
        return self.front.account_positions({}, self.key)

    def snapshot(self, arg: dict[str, str], page_size: int) -> list[dict[str, Any]]:
        """``account`` and ``positions`` start with a paged snapshot; ``orders`` with nothing."""
        if arg["channel"] == "account":
            items = [self.balance_item()]
        elif arg["channel"] == "positions":
            items = self.position_items()
        else:
            live = self.algos.snapshot(arg["channel"])
            wanted = arg.get("instType", "ANY")
            live = [i for i in live if wanted in ("ANY", i["instType"])]
            return [{"arg": {**arg, "uid": str(self.uid)}, "data": live}] if live else []
        pages = [items[i : i + page_size] for i in range(0, len(items), page_size)] or [[]]
        return [
            {
                "arg": {**arg, "uid": str(self.uid)},
                "eventType": "snapshot",
                "curPage": number,
                "lastPage": number == len(pages),
                "data": page,
            }
            for number, page in enumerate(pages, 1)
        ]

    def poll(self) -> dict[str, list[dict[str, Any]]]:
        """Items per channel (``orders``, ``account``, ``positions``, the algo order channels)
        since the last poll."""
        out = self.algos.poll()
        orders = self._order_items()
        if orders:
            out["orders"] = orders
        wallet = self._wallet()
        if wallet != self.wallet:
            self.wallet = wallet
            out["account"] = [self.balance_item()]
        current = self._positions()
        if current != self.positions:
            items = {i["instId"]: i for i in self.position_items()}
            changed = [items[i] for i in sorted(current) if self.positions.get(i) != current[i]]
            changed += [self._closed(i) for i in sorted(set(self.positions) - set(current))]
            self.positions = current
            if changed:
                out["positions"] = changed
        return out

    def _order_items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        covered: set[str] = set()
        fills = self.engine.fills(self.uid)
        if len(fills) > self.fills:
            fresh = fills[: len(fills) - self.fills]
            self.fills = len(fills)
            for fill in reversed(fresh):
                item = self._fill_item(fill)
                if item is not None:
                    items.append(item)
                    covered.add(fill.order_id)
        for order in sorted(self._orders(), key=lambda o: o.updated_ms):
            printed = _order_print(order)
            if self.orders.get(order.order_id) == printed:
                continue
            self.orders[order.order_id] = printed
            if order.order_id not in covered:
                items.append(self.front._order_json(order))
        return items

    def _fill_item(self, fill: FillView) -> dict[str, Any] | None:
        try:
            order = self.engine.get_order(self.uid, order_id=fill.order_id)
        except EngineError:
            return None
        inst = self.front._of(fill)
        item = self.front._order_json(order)
        item.update(
            {
                "fillPx": _w(fill.price),
                "fillSz": _w(inst.from_engine(fill.qty)),
                "fillTime": str(fill.time_ms),
                "tradeId": _numeric(fill.exec_id),
                "fillFee": _w(-fill.fee) if fill.fee else "0",
                "fillFeeCcy": fill.fee_currency,
                "execType": "M" if fill.is_maker else "T",
                "uTime": str(fill.time_ms),
            }
        )
        return item

    def _closed(self, inst_id: str) -> dict[str, Any]:
        inst = self.front.instruments[inst_id]
        return {
            "instId": inst_id,
            "instType": inst.inst_type,
            "mgnMode": "cross",
            "posSide": "net",
            "pos": "0",
            "avgPx": "",
            "upl": "0",
            "ccy": inst.spec.settle,
            "uTime": str(self.front.state.now_ms()),
        }
