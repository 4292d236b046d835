"""A client's membership of a fleet: what the pipeline and the clients call.

``Session.exchange`` books each request through ``Fleet.reserve`` and sends header corrections
through ``Fleet.correct``; ``create_order`` runs through ``Fleet.place`` (client id reserved
just before the order's request is sent, an unknown outcome recorded before it is raised);
``reconcile_in_doubt`` through ``Fleet.reconcile``. All are effect generators: they yield
``Shared`` effects (and the pipeline's own) and never touch a socket.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING

from exchanges.effects import Send, Shared
from exchanges.errors import DuplicateOrderId, ExchangeError, OutcomeUnknown
from exchanges.fleet import ledger
from exchanges.fleet.budget import SETTLED_MAX, Booking
from exchanges.fleet.policy import Fallback, unavailable

if TYPE_CHECKING:
    from exchanges.arguments import OrderArgs
    from exchanges.effects import Effects, Flow
    from exchanges.fleet.budget import Budget
    from exchanges.fleet.keys import Keys
    from exchanges.fleet.link import Link, Operation
    from exchanges.flow import Session
    from exchanges.models import Order
    from exchanges.wire import Request

__all__ = ["STARTUP_LOOKUPS", "STARTUP_SECONDS", "Fleet"]

#: On start, a client settles at most this many orders in doubt, for at most this long.
STARTUP_LOOKUPS = 10
STARTUP_SECONDS = 5.0
#: Ids reserved in this process while Redis was away (``fleet_fallback="local"``).
_LOCAL_IDS = 100_000

_log = logging.getLogger("exchanges.fleet")


class Fleet:
    """One client's link to its fleet: shared budget, client-id space, ledger of orders in doubt."""

    def __init__(
        self, link: Link, keys: Keys, budget: Budget, *, fallback: Fallback, exchange: str
    ) -> None:
        self.link = link
        self.keys = keys
        self.budget = budget
        self.fallback = fallback
        self.exchange = exchange
        self.started = False
        self._local_ids: OrderedDict[str, None] = OrderedDict()

    @property
    def corrections(self) -> list[tuple[str, float]]:
        """Header corrections waiting to be sent to Redis (the pipeline checks after observe)."""
        return self.budget.pending

    @property
    def account(self) -> str:
        """The account's id in Redis (a hash of exchange, environment and API key)."""
        return self.keys.account

    # -- the pipeline ----------------------------------------------------------------------

    def reserve(self, session: Session, request: Request) -> Effects[float]:
        """Seconds to wait before sending ``request``, booked on the fleet's budget.

        The first request of a client settles the account's orders in doubt first (bounded).
        """
        if not self.started:
            self.started = True
            yield from self._start(session)
        return (yield from self.budget.reserve(request))

    def correct(self) -> Effects[None]:
        """Share what the last response's rate-limit headers said."""
        yield from self.budget.correct()

    def _start(self, session: Session) -> Effects[None]:
        if session.credentials is None and session.trade_credentials is None:
            return
        if self.link.resting():
            return
        deadline = time.monotonic() + STARTUP_SECONDS
        try:
            results = yield from ledger.reconcile(
                session, self.link, self.keys, wait=False, limit=STARTUP_LOOKUPS, deadline=deadline
            )
        except ExchangeError as err:
            _log.warning("settling the fleet's orders in doubt on start failed: %s", err)
            return
        if results:
            counts = {
                s: sum(r.status == s for r in results) for s in ("placed", "absent", "pending")
            }
            _log.warning(
                "settled the fleet's orders in doubt on start: %d placed, %d absent, %d pending",
                counts["placed"],
                counts["absent"],
                counts["pending"],
            )

    # -- orders ----------------------------------------------------------------------------

    def place(self, session: Session, flow: Flow[Order], order: OrderArgs) -> Effects[Order]:
        """Run a ``create_order`` flow with its client order id reserved fleet-wide.

        The id is reserved, and the order written ahead to the ledger, with the booking of the
        order's request (not earlier, so an order refused by a local check does not use its id
        up); a loser gets ``DuplicateOrderId`` at that point, nothing sent. Each resend renews
        the entry's lease. An answer removes the entry; an ``OutcomeUnknown`` leaving the flow
        turns it into an order in doubt before it is raised; a sender that dies mid-order
        leaves it for any member to settle.
        """
        cid = order.client_order_id
        claim = ledger.Claim(cid, self._duplicate(cid))
        base = ledger.InDoubt(cid, str(order.symbol), None, 0)
        effects = session.execute(flow)
        reserved = recorded = False
        try:
            effect = next(effects)
            while True:
                if effect.__class__ is Shared and not claim.tried:
                    booking = effect.operation
                    if booking.__class__ is Booking and booking.request.write:
                        # The order's first write: id reserved and written ahead in its booking.
                        claim.tried = True
                        claim.entry = self._sending(session, booking.request, cid, base)
                        booking.attach(claim, self.keys.doubt, self.keys.client_id(cid))
                elif effect.__class__ is Send and effect.prepared.request.write:
                    request = effect.prepared.request
                    if not reserved:
                        reserved = True
                        if claim.won:
                            recorded = True
                        else:  # not booked in Redis (no shared limit, or Redis away)
                            refusal, recorded = yield from self._reserve_id(session, request, order)
                            if refusal is not None:
                                effect = effects.throw(refusal)
                                continue
                    elif recorded:
                        entry = self._sending(session, request, cid, base)
                        yield from ledger.record_in_doubt(self.link, self.keys, entry)
                try:
                    value = yield effect
                except ExchangeError as err:  # a transport failure, thrown in by the driver
                    effect = effects.throw(err)
                else:
                    effect = effects.send(value)
        except StopIteration as done:
            if recorded:
                yield from self._settle(order.client_order_id)
            result: Order = done.value
            return result
        except OutcomeUnknown as unknown:
            if reserved:
                yield from self._in_doubt(unknown, order)
            raise
        except ExchangeError:
            # Refused: the exchange holds no order under this id.
            if recorded:
                yield from self._settle(order.client_order_id)
            raise
        finally:
            effects.close()

    def _settle(self, client_order_id: str) -> Effects[None]:
        """The order has its answer: its write-ahead entry leaves the ledger.

        With a shared budget, the removal rides on this client's next booking (no round trip
        of its own); ``close`` flushes what is left. Without one (``rate_limits="off"``), now.
        """
        budget = self.budget
        if budget.enabled:
            budget.settled.append(client_order_id)
            if len(budget.settled) > SETTLED_MAX:
                del budget.settled[0]
            return
        yield from ledger.forget(self.link, self.keys, client_order_id)

    def flush(self) -> Operation | None:
        """The removal of entries still waiting for a booking, for ``close`` to run (or None)."""
        settled, self.budget.settled = self.budget.settled, []
        if not settled:
            return None
        return ledger.Forget(self.link, self.keys, settled)

    def _sending(
        self, session: Session, request: Request, client_order_id: str, base: ledger.InDoubt | None
    ) -> ledger.InDoubt:
        """The write-ahead entry of an order, leased until its sender can no longer act on it."""
        clock = session.clock
        # Its booking may make it wait up to the longest block a caller accepts before sending.
        waits = int(self.budget.local.max_blocked_wait * 1000)
        stamp = clock.now_ms() + clock.offset_ms + clock.uncertainty_ms + waits
        window_ends = session.adapter.acts_until_ms(request, stamp)
        if window_ends is None:
            window_ends = stamp + ledger.LONGEST_WINDOW_MS
        # Retries of this same call may send it again until the retry budget is spent.
        lease = window_ends + int(session.retry.max_delay * 1000)
        return ledger.InDoubt(
            client_order_id=client_order_id,
            symbol=base.symbol if base is not None else "",
            conclusive_after_ms=lease,
            recorded_ms=time.time_ns() // 1_000_000,
            state="sending",
        )

    def _duplicate(self, client_order_id: str) -> DuplicateOrderId:
        return DuplicateOrderId(
            f"client order id {client_order_id} is already reserved by a member of the fleet; "
            "the order was not sent",
            exchange=self.exchange,
        )

    def _reserve_id(
        self, session: Session, request: Request, order: OrderArgs
    ) -> Effects[tuple[ExchangeError | None, bool]]:
        """Reserve the order's id and write it ahead: (refusal or None, whether it was written)."""
        client_order_id = order.client_order_id
        base = ledger.InDoubt(client_order_id, str(order.symbol), None, 0)
        entry = self._sending(session, request, client_order_id, base)
        won = yield from ledger.reserve_and_record(self.link, self.keys, entry)
        if won:
            return None, True
        if won is None:
            if self.fallback != "local":
                return unavailable(self.link, f"order {client_order_id} was not sent"), False
            _log.warning(
                "fleet Redis %s is unreachable: order %s is placed with its client order id "
                "reserved in this process only; another process may send the same id "
                "(fleet_fallback='local')",
                self.link.where,
                client_order_id,
            )
            if client_order_id not in self._local_ids:
                self._local_ids[client_order_id] = None
                if len(self._local_ids) > _LOCAL_IDS:
                    self._local_ids.popitem(last=False)
                return None, False
        return self._duplicate(client_order_id), False

    def _in_doubt(self, unknown: OutcomeUnknown, order: OrderArgs) -> Effects[None]:
        entry = ledger.InDoubt(
            client_order_id=unknown.client_order_id or order.client_order_id,
            symbol=str(order.symbol),
            conclusive_after_ms=unknown.conclusive_after_ms,
            recorded_ms=time.time_ns() // 1_000_000,
        )
        recorded = yield from ledger.record_in_doubt(self.link, self.keys, entry)
        if not recorded:
            _log.error(
                "order %s is in doubt and could not be written to the fleet's ledger (Redis "
                "%s unreachable): settle it yourself",
                entry.client_order_id,
                self.link.where,
            )
            unknown.message += "; not recorded in the fleet's ledger (Redis unreachable)"
            unknown.args = (unknown.message,)

    def reconcile(self, session: Session, *, wait: bool = True) -> Effects[list[ledger.Resolution]]:
        """Settle every order in doubt of the account (``Exchange.reconcile_in_doubt``)."""
        return (yield from ledger.reconcile(session, self.link, self.keys, wait=wait))
