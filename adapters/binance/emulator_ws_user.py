"""Binance emulator WebSocket: user data (spot over the WebSocket API, USD-M over a listenKey).

Spot ("WebSocket API", https://developers.binance.com/docs/binance-spot-api-docs/web-socket-api,
"User Data Stream" https://developers.binance.com/docs/binance-spot-api-docs/user-data-stream):
``userDataStream.subscribe.signature`` with ``apiKey``, ``timestamp``, ``signature`` (over the
params sorted by name, joined ``k=v&...`` without percent-encoding; HMAC hex, RSA/Ed25519
base64) answers ``{"subscriptionId": N}``; events then come as ``{"subscriptionId", "event"}``.
Refusals: ``-1102`` a missing parameter, ``-2015`` an unknown key (HTTP 401), ``-1022`` a bad
signature, ``-1021`` a timestamp outside ``recvWindow``, ``-2035`` the account is subscribed on
this connection already. ``userDataStream.unsubscribe`` ends them with ``eventStreamTerminated``.
``POST /api/v3/userDataStream`` is gone (HTTP 410, since 2026-02-20: spot CHANGELOG).

USD-M ("User Data Streams",
https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams):
``POST /fapi/v1/listenKey`` returns the account's active key (extending it) or a new one, valid
``ttl`` (60 min); ``PUT`` extends it (``-1125`` "This listenKey does not exist." once it is gone);
``DELETE`` closes it. When a key expires (or is deleted) its sockets get ``listenKeyExpired``
(``E`` a string, as seen in the wild) and then nothing more while they stay open.

Events, diffed from the engine on each publisher tick: spot ``executionReport`` (NEW, one TRADE
per fill, CANCELED/EXPIRED; a cancel carries the cancel's id in ``c`` and the order's in ``C``;
stop orders too, ``emulator_ws_spot_stops.py``) and ``outboundAccountPosition`` (changed
assets of the spot wallet); USD-M
``ORDER_TRADE_UPDATE`` (NEW, TRADE, CANCELED/EXPIRED, AMENDMENT), ``TRADE_LITE`` per fill,
``ALGO_UPDATE`` for conditional orders (``emulator_ws_algo.py``), and ``ACCOUNT_UPDATE`` when the
USD-M wallet balance or a position changes (a resting order sends none, as on Binance).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.binance.emulator_base import (
    SPOT_WALLET,
    USDM_WALLET,
    BinanceError,
    _f8,
    _verify,
    _w,
)
from adapters.binance.emulator_ws_algo import AlgoEvents
from adapters.binance.emulator_ws_spot_stops import SpotStopEvents
from exchanges.emulator.engine import EngineError, FillView, OrderView

if TYPE_CHECKING:
    from adapters.binance.emulator import BinanceFrontEnd
    from exchanges.emulator.keys import ApiKey

__all__ = ["ListenKey", "UserData"]

_ZERO = Decimal(0)
_CLOSED = ("CANCELED", "EXPIRED", "EXPIRED_IN_MATCH")
Event = tuple[str, dict[str, Any]]  # (market "spot" | "usdm", event)


class ListenKey:
    """A USD-M listenKey: whose, until when, and whether it still delivers."""

    def __init__(self, key: str, uid: int, expires_ms: int) -> None:
        self.key = key
        self.uid = uid
        self.expires_ms = expires_ms
        self.alive = True


class _Account:
    """What one account's subscribers have been told; ``poll`` returns the events since."""

    def __init__(self, front: BinanceFrontEnd, uid: int) -> None:
        self.front = front
        self.engine = front.engine
        self.uid = uid
        self.orders = {o.order_id: self._print(o) for o in self._orders()}
        self.fills = len(self.engine.fills(uid))
        self.spot = self._wallet(SPOT_WALLET)
        self.usdm = self._usdm_state()
        self.algos = AlgoEvents(front.algo, uid)
        self.stops = SpotStopEvents(front, uid)

    @staticmethod
    def _print(o: OrderView) -> tuple[Any, ...]:
        return (o.status, o.filled, o.qty, o.price)

    def _orders(self) -> list[OrderView]:
        return self.engine.open_orders(self.uid) + self.engine.closed_orders(self.uid)

    def _wallet(self, wallet: str) -> dict[str, tuple[Decimal, Decimal]]:
        balances = self.engine.balances(self.uid, wallet=wallet)
        return {coin: (b.free, b.locked) for coin, b in balances.items()}

    def _usdm_state(self) -> tuple[Any, ...]:
        # The wallet balance (not what open orders reserve) and the positions.
        balances = self.engine.balances(self.uid, wallet=USDM_WALLET)
        wallet = tuple(sorted((c, b.total) for c, b in balances.items()))
        positions = tuple(
            (p.symbol, p.side, p.size, p.entry_price)
            for p in self.engine.positions(self.uid, category="linear")
        )
        return wallet, positions

    def poll(self, now: int) -> list[Event]:
        """Order, fill and balance events since the last poll, in order."""
        fills = self.engine.fills(self.uid)
        fresh = list(reversed(fills[: len(fills) - self.fills]))
        self.fills = len(fills)
        by_order: dict[str, list[FillView]] = {}
        for fill in fresh:
            by_order.setdefault(fill.order_id, []).append(fill)
        algos_before, algos_after = self.algos.poll(now)
        events: list[Event] = [("usdm", event) for event in algos_before]
        # A spot stop's placement comes before the events of the order it places as it fires.
        events += [("spot", event) for event in self.stops.poll(now)]
        for order in sorted(self._orders(), key=lambda o: o.updated_ms):
            before = self.orders.get(order.order_id)
            now_print = self._print(order)
            if before == now_print and order.order_id not in by_order:
                continue
            self.orders[order.order_id] = now_print
            events += self._order_events(order, before, by_order.get(order.order_id, []), now)
        events += [("usdm", event) for event in algos_after]
        spot = self._wallet(SPOT_WALLET)
        changed = [coin for coin, value in spot.items() if self.spot.get(coin) != value]
        self.spot = spot
        if changed:
            assets = [{"a": c, "f": _f8(spot[c][0]), "l": _f8(spot[c][1])} for c in changed]
            event = {"e": "outboundAccountPosition", "E": now, "u": now, "B": assets}
            events.append(("spot", event))
        usdm = self._usdm_state()
        if usdm != self.usdm:
            self.usdm = usdm
            events.append(("usdm", self._account_update(now)))
        return events

    def _order_events(
        self, o: OrderView, before: tuple[Any, ...] | None, fills: list[FillView], now: int
    ) -> list[Event]:
        market = "spot" if o.category == "spot" else "usdm"
        status = self.front._status(o)
        out: list[Event] = []
        if before is None:
            out.append((market, self._report(o, "NEW", "NEW", None, _ZERO, _ZERO, now)))
        cum = o.filled - sum((f.qty for f in fills), _ZERO)
        quote = o.cum_quote - sum((f.value for f in fills), _ZERO)
        for fill in fills:
            cum += fill.qty
            quote += fill.value
            done = cum >= o.qty or (fill is fills[-1] and status == "FILLED")
            state = "FILLED" if done else "PARTIALLY_FILLED"
            out.append((market, self._report(o, "TRADE", state, fill, cum, quote, now)))
            if market == "usdm":
                out.append((market, self._lite(o, fill, now)))
        if status in _CLOSED and (before is None or before[0] != o.status):
            kind = "CANCELED" if status == "CANCELED" else "EXPIRED"
            out.append((market, self._report(o, kind, status, None, o.filled, o.cum_quote, now)))
        elif market == "usdm" and before is not None and before[2:] != self._print(o)[2:]:
            out.append((market, self._report(o, "AMENDMENT", status, None, cum, quote, now)))
        return out

    def _report(
        self,
        o: OrderView,
        kind: str,
        status: str,
        fill: FillView | None,
        cum: Decimal,
        quote: Decimal,
        now: int,
    ) -> dict[str, Any]:
        front = self.front
        order_id = front._order_ids.of(o.order_id)
        client_id = front._client_id(o)
        trade_id = front._trade_ids.of(fill.exec_id) if fill is not None else -1
        last_qty = fill.qty if fill is not None else _ZERO
        last_px = fill.price if fill is not None else _ZERO
        fee = fill.fee if fill is not None else _ZERO
        order_type = "MARKET" if o.type == "market" else "LIMIT"
        tif = "GTC" if o.type == "market" else "GTX" if o.post_only else o.time_in_force
        if o.category == "spot":
            canceled = kind == "CANCELED"
            if o.post_only:
                order_type = "LIMIT_MAKER"
            report = {
                "e": "executionReport", "E": now, "s": o.symbol,
                # A cancel's own id (here generated, as when none is given) and the order's.
                "c": f"emucancel{order_id}" if canceled else client_id,
                "S": o.side.upper(), "o": order_type, "f": tif, "q": _f8(o.qty),
                "p": _f8(o.price), "P": _f8(_ZERO), "F": _f8(_ZERO), "g": -1,
                "C": client_id if canceled else "", "x": kind, "X": status, "r": "NONE",
                "i": order_id, "l": _f8(last_qty), "z": _f8(cum), "L": _f8(last_px),
                "n": _f8(fee), "N": fill.fee_currency if fill is not None else None,
                "T": fill.time_ms if fill is not None else o.updated_ms, "t": trade_id,
                "I": order_id, "w": status in ("NEW", "PARTIALLY_FILLED"),
                "m": fill.is_maker if fill is not None else False, "M": False,
                "O": o.created_ms, "Z": _f8(quote), "Y": _f8(last_qty * last_px),
                "Q": _f8(_ZERO), "W": o.created_ms, "V": "EXPIRE_MAKER",
            }  # fmt: skip
            return self.stops.decorate(o, report)
        average = quote / cum if cum else _ZERO
        item = {
            "s": o.symbol, "c": client_id, "S": o.side.upper(), "o": order_type, "f": tif,
            "q": _w(o.qty), "p": _w(o.price or _ZERO), "ap": _w(average), "sp": "0",
            "x": kind, "X": status, "i": order_id, "l": _w(last_qty), "z": _w(cum),
            "L": _w(last_px), "T": fill.time_ms if fill is not None else o.updated_ms,
            "t": trade_id if fill is not None else 0, "b": "0", "a": "0",
            "m": fill.is_maker if fill is not None else False, "R": o.reduce_only,
            "wt": "CONTRACT_PRICE", "ot": order_type, "ps": "BOTH", "cp": False, "rp": "0",
            "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_TAKER", "pm": "NONE", "gtd": 0,
        }  # fmt: skip
        if fill is not None:
            item.update({"N": fill.fee_currency, "n": _w(fee)})
        return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": item}

    def _lite(self, o: OrderView, fill: FillView, now: int) -> dict[str, Any]:
        front = self.front
        return {
            "e": "TRADE_LITE", "E": now, "T": fill.time_ms, "s": o.symbol, "q": _w(o.qty),
            "p": _w(o.price or _ZERO), "m": fill.is_maker, "c": front._client_id(o),
            "S": o.side.upper(), "L": _w(fill.price), "l": _w(fill.qty),
            "t": front._trade_ids.of(fill.exec_id), "i": front._order_ids.of(o.order_id),
        }  # fmt: skip

    def _account_update(self, now: int) -> dict[str, Any]:
        balances = self.engine.balances(self.uid, wallet=USDM_WALLET)
        assets = [
            {"a": coin, "wb": _w(b.total), "cw": _w(b.total), "bc": "0"}
            for coin, b in sorted(balances.items())
        ]
        positions = []
        for p in self.engine.positions(self.uid, category="linear"):
            amount = -p.size if p.side == "sell" else p.size
            entry = _w(p.entry_price or _ZERO)
            positions.append(
                {
                    "s": p.symbol,
                    "pa": _w(amount),
                    "ep": entry,
                    "bep": entry,
                    "cr": _w(p.realized_pnl),
                    "up": _w(p.unrealized_pnl),
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
            )
        update = {"m": "ORDER", "B": assets, "P": positions}
        return {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": update}


class UserData:
    """listenKeys, WebSocket API subscriptions and the per-account event diffs."""

    def __init__(self, front: BinanceFrontEnd, *, ttl_ms: int = 3_600_000) -> None:
        self.front = front
        self.state = front.state
        #: How long a listenKey lives without a keepalive (Binance: 60 minutes).
        self.ttl_ms = ttl_ms
        self.keys: dict[str, ListenKey] = {}
        self.accounts: dict[int, _Account] = {}

    def routes(self) -> dict[tuple[str, str], tuple[Callable[..., Any], str | None, str]]:
        """The USD-M listenKey endpoints (key only: "USER_STREAM" security)."""
        path = "/fapi/v1/listenKey"
        return {
            ("POST", path): (self.start, "USER_STREAM", "usdm"),
            ("PUT", path): (self.keepalive, "USER_STREAM", "usdm"),
            ("DELETE", path): (self.close, "USER_STREAM", "usdm"),
        }

    def _active(self, uid: int) -> ListenKey | None:
        now = self.state.now_ms()
        for entry in self.keys.values():
            if entry.uid == uid and entry.alive and entry.expires_ms > now:
                return entry
        return None

    def start(self, params: Mapping[str, str], key: ApiKey) -> dict[str, str]:
        """``POST``: the active key, extended, or a new one."""
        entry = self._active(key.uid)
        if entry is None:
            token = secrets.token_urlsafe(48)[:64]
            entry = self.keys[token] = ListenKey(token, key.uid, 0)
        entry.expires_ms = self.state.now_ms() + self.ttl_ms
        return {"listenKey": entry.key}

    def keepalive(self, params: Mapping[str, str], key: ApiKey) -> dict[str, str]:
        """``PUT``: extend the account's key, ``-1125`` when it has none."""
        entry = self._active(key.uid)
        wanted = params.get("listenKey")
        if entry is None or (wanted and wanted != entry.key):
            raise BinanceError(-1125, "This listenKey does not exist.")
        entry.expires_ms = self.state.now_ms() + self.ttl_ms
        return {"listenKey": entry.key}

    def close(self, params: Mapping[str, str], key: ApiKey) -> dict[str, str]:
        """``DELETE``: the key expires now (its sockets are told on the next tick)."""
        entry = self._active(key.uid)
        if entry is not None:
            entry.expires_ms = self.state.now_ms()
        return {}

    def expire_all(self) -> None:
        """Let every key expire now (tests)."""
        now = self.state.now_ms()
        for entry in self.keys.values():
            entry.expires_ms = min(entry.expires_ms, now)

    def expired(self, now: int) -> list[ListenKey]:
        """Keys that expired since the last call (each reported once)."""
        gone = [e for e in self.keys.values() if e.alive and e.expires_ms <= now]
        for entry in gone:
            entry.alive = False
        return gone

    def track(self, uid: int) -> None:
        """Start diffing an account's events (on its first subscriber)."""
        if uid not in self.accounts:
            self.accounts[uid] = _Account(self.front, uid)

    def poll(self, now: int, watched: set[int]) -> dict[int, list[Event]]:
        """Events per account with a subscriber; accounts without one are forgotten."""
        for uid in list(self.accounts):
            if uid not in watched:
                del self.accounts[uid]
        out: dict[int, list[Event]] = {}
        for uid, account in list(self.accounts.items()):
            try:
                events = account.poll(now)
            except EngineError:
                del self.accounts[uid]  # the account is gone (a reset without its key)
                continue
            if events:
                out[uid] = events
        return out

    # -- the spot WebSocket API ---------------------------------------------------------------

    def subscribe_signature(self, params: Any, remote: str, active: Mapping[int, int]) -> int:
        """Check a ``userDataStream.subscribe.signature``: the account's uid, or raise."""
        if not isinstance(params, dict):
            raise BinanceError(-1102, "Mandatory parameter 'apiKey' was not sent.")
        for name in ("apiKey", "timestamp", "signature"):
            if params.get(name) in (None, ""):
                raise BinanceError(
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        key = self.state.keys.get(str(params["apiKey"]))
        if key is None:
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        signed = {k: v for k, v in params.items() if k != "signature"}
        payload = "&".join(f"{k}={_text(signed[k])}" for k in sorted(signed)).encode()
        if not _verify(key, payload, str(params["signature"])):
            raise BinanceError(-1022, "Signature for this request is not valid.")
        try:
            timestamp = int(params["timestamp"])
            window = Decimal(str(params.get("recvWindow", 5000)))
        except (ValueError, ArithmeticError):
            raise BinanceError(-1100, "Illegal characters found in a parameter.") from None
        now = self.state.now_ms()
        if timestamp >= now + 1000 or now - timestamp > window:
            raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
        if not key.ip_allowed(remote) or (key.expires_at is not None and key.expires_at <= now):
            raise BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        if key.uid in active.values():
            raise BinanceError(-2035, "User Data Stream subscription already active.")
        return key.uid


def _text(value: Any) -> str:
    # JSON values as they are written in the signed payload (booleans lowercase).
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
