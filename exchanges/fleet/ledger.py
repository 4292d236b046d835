"""One client-id space and one ledger of orders in doubt for a fleet.

* **Reservation.** Before a new order's request is sent, its client order id is reserved with
  ``SET … NX PX`` (``RESERVATION_TTL``). A second member sending the same id loses the race and
  gets ``DuplicateOrderId`` without sending anything. The reservation is not released: ids are
  not to be reused (``docs/guarantees.md``), and expiring is what frees the key.
* **Write-ahead.** The same script (``RESERVE_AND_RECORD``, one round trip) writes the order to
  the ledger as ``sending`` before its request leaves, with a lease: the exchange time until
  which the sender may still be acting on it (the request's receive window plus the retry
  budget), renewed on every resend. Once the call has an answer the entry is removed, riding
  on the client's next booking (``Budget.settled``) or its ``close``, so a sender killed
  mid-order (SIGKILL, a lost machine) leaves its order in the ledger, where any member settles
  it.
* **Orders in doubt.** When a placement ends in ``OutcomeUnknown`` (the order could be neither
  confirmed nor proven absent), its entry becomes ``unknown``, with the exchange's
  ``conclusive_after_ms``, before the error reaches the caller. ``reconcile`` looks each
  entry up by client order id through the adapter's own lookup (``fetch_order``) and removes
  the ones it settles: found (placed), or absent once the exchange can no longer act on the lost
  request (its ``conclusive_after_ms``; ``LONGEST_WINDOW_MS`` after it was recorded when the
  exchange gave no bound). A ``sending`` entry whose lease has not ended belongs to a live
  sender: it is left alone (``pending``) until then.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any, Literal

import attrs

from exchanges.effects import Shared, Sleep
from exchanges.errors import ExchangeError, OrderNotFound
from exchanges.fleet.link import DOWN, Link, Operation, Script
from exchanges.models import Order

if TYPE_CHECKING:
    from exchanges.effects import Effects
    from exchanges.fleet.keys import Keys
    from exchanges.flow import Session

__all__ = [
    "LONGEST_WINDOW_MS",
    "RESERVATION_TTL",
    "Claim",
    "Forget",
    "InDoubt",
    "Resolution",
    "forget",
    "reconcile",
    "record_in_doubt",
    "reserve_and_record",
    "reserve_client_id",
]

#: How long a reserved client order id stays reserved, seconds.
RESERVATION_TTL = 3600
#: The ledger of orders in doubt expires this long after its last write, seconds.
LEDGER_TTL = 7 * 86_400
#: When the exchange gave no receive window: a lookup this long after the loss is final.
LONGEST_WINDOW_MS = 65_000
#: Added to a receive window before an absent order counts as never placed.
_MARGIN_MS = 1000

#: Who reserved an id: host and process, for people reading Redis.
OWNER = f"{socket.gethostname()}:{os.getpid()}"


class _Call(Operation):
    """One Redis command, the same on both clients."""

    __slots__ = ("args", "name")

    def __init__(self, link: Link, name: str, *args: Any) -> None:
        super().__init__(link)
        self.name = name
        self.args = args

    def call(self, client: Any) -> Any:
        return client.execute_command(self.name, *self.args)

    async def call_async(self, client: Any) -> Any:
        return await client.execute_command(self.name, *self.args)


class _Record(Operation):
    """HSET one entry and refresh the ledger's expiry, in one round trip (MULTI)."""

    __slots__ = ("field", "key", "value")

    def __init__(self, link: Link, key: str, field: str, value: str) -> None:
        super().__init__(link)
        self.key, self.field, self.value = key, field, value

    def call(self, client: Any) -> Any:
        with client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, self.field, self.value).expire(self.key, LEDGER_TTL)
            return pipe.execute()

    async def call_async(self, client: Any) -> Any:
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, self.field, self.value).expire(self.key, LEDGER_TTL)
            return await pipe.execute()


#: Reserve a client order id and write the order ahead to the ledger, atomically: both or
#: neither. KEYS: the reservation, the ledger. ARGV: owner, reservation TTL ms, client order id,
#: the entry's JSON, the ledger's TTL s.
RESERVE_AND_RECORD = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  return 1
end
return 0
"""


def reserve_and_record(link: Link, keys: Keys, entry: InDoubt) -> Effects[bool | None]:
    """Reserve ``entry``'s client order id and write it ahead to the ledger in one round trip.

    True when this client has the id (and the entry is written), False when another member
    has it (nothing written), None when Redis cannot be reached.
    """
    cid = entry.client_order_id
    op = Script(
        link,
        RESERVE_AND_RECORD,
        [keys.client_id(cid), keys.doubt],
        [OWNER, RESERVATION_TTL * 1000, cid, entry.to_json(), LEDGER_TTL],
    )
    result = yield Shared(op)
    if result is DOWN:
        return None
    return bool(result)


def forget(link: Link, keys: Keys, client_order_id: str) -> Effects[bool]:
    """Remove a settled order from the ledger; False when Redis cannot be reached."""
    return (yield Shared(Forget(link, keys, [client_order_id]))) is not DOWN


class Forget(_Call):
    """Remove answered orders' entries from the ledger (HDEL)."""

    __slots__ = ()

    def __init__(self, link: Link, keys: Keys, client_order_ids: list[str]) -> None:
        super().__init__(link, "HDEL", keys.doubt, *client_order_ids)


def reserve_client_id(link: Link, keys: Keys, client_order_id: str) -> Effects[bool | None]:
    """Reserve the id fleet-wide: True when this client has it, False when another has, None
    when Redis cannot be reached.
    """
    key = keys.client_id(client_order_id)
    result = yield Shared(_Call(link, "SET", key, OWNER, "NX", "PX", RESERVATION_TTL * 1000))
    if result is DOWN:
        return None
    return result is not None and result is not False


@attrs.frozen
class InDoubt:
    """An order whose placement could not be confirmed, as the ledger holds it."""

    client_order_id: str
    symbol: str
    #: Exchange time after which a lookup is final (None: the exchange gave no bound).
    conclusive_after_ms: int | None
    #: Wall-clock time it was recorded, ms since the epoch.
    recorded_ms: int
    #: Host and process that recorded it.
    owner: str = OWNER
    #: ``sending``: written ahead, its sender may be acting on it until ``conclusive_after_ms``;
    #: ``unknown``: the sender gave up with ``OutcomeUnknown``.
    state: Literal["sending", "unknown"] = "unknown"

    def to_json(self) -> str:
        """The ledger's value."""
        fields = {
            "client_order_id": self.client_order_id,
            "symbol": self.symbol,
            "conclusive_after_ms": self.conclusive_after_ms,
            "recorded_ms": self.recorded_ms,
            "owner": self.owner,
            "state": self.state,
        }
        # Spelled out rather than attrs.asdict: it runs on every order a fleet member places.
        return json.dumps(fields, separators=(",", ":"))

    @classmethod
    def from_json(cls, client_order_id: str, text: str | bytes) -> InDoubt:
        """Read a ledger value back (``ValueError`` for one that is not ours)."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("symbol"), str):
            raise ValueError("not an entry of the ledger of orders in doubt")
        after = data.get("conclusive_after_ms")
        return cls(
            client_order_id=client_order_id,
            symbol=data["symbol"],
            conclusive_after_ms=int(after) if after is not None else None,
            recorded_ms=int(data.get("recorded_ms", 0)),
            owner=str(data.get("owner", "?")),
            state="sending" if data.get("state") == "sending" else "unknown",
        )


class Claim:
    """A new order's claim on its client order id, settled with its request's booking.

    ``won``: True once Redis reserved the id and wrote ``entry`` ahead; None while not tried or
    when Redis did not answer (the id is then reserved on its own just before the send).
    """

    __slots__ = ("client_order_id", "entry", "refusal", "tried", "won")

    def __init__(self, client_order_id: str, refusal: ExchangeError) -> None:
        self.client_order_id = client_order_id
        #: What the placement raises when another member holds the id.
        self.refusal = refusal
        self.entry: InDoubt | None = None
        self.tried = False
        self.won: bool | None = None

    def arguments(self) -> list[Any]:
        """The script's five claim values: owner, reservation TTL ms, id, entry, ledger TTL."""
        assert self.entry is not None
        return [
            OWNER,
            RESERVATION_TTL * 1000,
            self.client_order_id,
            self.entry.to_json(),
            LEDGER_TTL,
        ]


@attrs.frozen
class Resolution:
    """What ``reconcile_in_doubt`` found for one order in doubt.

    ``placed``: the order exists (``order``); ``absent``: it was never placed and can no longer
    be; both are removed from the ledger. ``pending``: not settled yet (``reason``), kept.
    """

    client_order_id: str
    symbol: str
    status: Literal["placed", "absent", "pending"]
    order: Order | None = None
    reason: str | None = None


def record_in_doubt(link: Link, keys: Keys, entry: InDoubt) -> Effects[bool]:
    """Write ``entry`` to the ledger; False when Redis cannot be reached."""
    op = _Record(link, keys.doubt, entry.client_order_id, entry.to_json())
    return (yield Shared(op)) is not DOWN


def entries(link: Link, keys: Keys) -> Effects[list[InDoubt] | None]:
    """The account's orders in doubt, oldest first; None when Redis cannot be reached."""
    raw = yield Shared(_Call(link, "HGETALL", keys.doubt))
    if raw is DOWN:
        return None
    if isinstance(raw, list):  # RESP2 without the client's parser: a flat list
        raw = dict(zip(raw[::2], raw[1::2], strict=True))
    found: list[InDoubt] = []
    for field, value in raw.items():
        cid = field.decode() if isinstance(field, bytes) else str(field)
        try:
            found.append(InDoubt.from_json(cid, value))
        except (ValueError, TypeError):
            continue
    return sorted(found, key=lambda e: e.recorded_ms)


def _final_after_ms(entry: InDoubt) -> int:
    if entry.conclusive_after_ms is not None:
        return entry.conclusive_after_ms + _MARGIN_MS
    return entry.recorded_ms + LONGEST_WINDOW_MS


def _server_now_ms(session: Session) -> int:
    clock = session.clock
    return clock.now_ms() + clock.offset_ms - clock.uncertainty_ms


def _still_listed(link: Link, keys: Keys, client_order_id: str) -> Effects[bool]:
    found = yield Shared(_Call(link, "HEXISTS", keys.doubt, client_order_id))
    return found is not DOWN and bool(found)


def _look_up(session: Session, entry: InDoubt) -> Effects[Order | None]:
    from exchanges.arguments import order_ref

    ref = order_ref(None, entry.symbol, entry.client_order_id)
    try:
        return (yield from session.execute(session.adapter.fetch_order(ref)))
    except OrderNotFound:
        return None


def reconcile(
    session: Session,
    link: Link,
    keys: Keys,
    *,
    wait: bool,
    limit: int | None = None,
    deadline: float | None = None,
) -> Effects[list[Resolution]]:
    """Settle the account's orders in doubt; remove those settled from the ledger.

    ``wait``: an entry still inside its receive window is looked up again once the window has
    closed (at most ``LONGEST_WINDOW_MS``); otherwise it stays pending. ``limit`` entries at
    most, and none started after ``deadline`` (``time.monotonic()``).
    """
    found = yield from entries(link, keys)
    if found is None:
        from exchanges.fleet.policy import unavailable

        raise unavailable(link, "the ledger of orders in doubt cannot be read")
    results: list[Resolution] = []
    for entry in found[:limit]:
        if deadline is not None and time.monotonic() > deadline:
            break
        cid, symbol = entry.client_order_id, entry.symbol
        final_at = _final_after_ms(entry)
        if entry.state == "sending" and _server_now_ms(session) <= final_at:
            if not wait:
                reason = f"being placed by {entry.owner}"
                results.append(Resolution(cid, symbol, "pending", reason=reason))
                continue
            # A live sender removes its own entry once it has an answer; a dead one cannot.
            yield Sleep(min(final_at - _server_now_ms(session), LONGEST_WINDOW_MS) / 1000)
            if not (yield from _still_listed(link, keys, cid)):
                continue
        try:
            order = yield from _look_up(session, entry)
            if order is None and wait and _server_now_ms(session) <= final_at:
                pause = min(final_at - _server_now_ms(session), LONGEST_WINDOW_MS)
                yield Sleep(max(pause, 0) / 1000)
                order = yield from _look_up(session, entry)
        except ExchangeError as err:
            results.append(Resolution(cid, symbol, "pending", reason=f"lookup failed: {err}"))
            continue
        if order is not None:
            resolution = Resolution(cid, symbol, "placed", order=order)
        elif _server_now_ms(session) > final_at:
            resolution = Resolution(cid, symbol, "absent")
        else:
            results.append(Resolution(cid, symbol, "pending", reason="inside the receive window"))
            continue
        yield Shared(_Call(link, "HDEL", keys.doubt, cid))
        results.append(resolution)
    return results
