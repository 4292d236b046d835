"""One rate budget for a fleet: each request books its slot in Redis, atomically, in one trip.

The Lua script ``RESERVE`` does, on Redis's own clock (``TIME``, so machines need not agree on
the time), what ``exchanges.ratelimit.RateLimiter.reserve`` does in one process: for each limit
a request counts towards it finds the earliest send time that (1) keeps the limit's pacing (GCRA:
a theoretical arrival time ``tat`` advanced by ``period / limit`` per request, ``burst`` of them
back to back at most), (2) keeps at most ``limit`` bookings in any rolling ``period`` (a log of
the last ``limit`` booked times) and (3) is past any block the exchange asked for. The send
time is the latest of those over all the request's limits; it is then booked on all of them, or,
when a block is longer than the caller may wait, on none. It returns the wait in ms (0: go),
then 0 (or the 1-based index of the limit whose block is too long: nothing booked), then the
booked time (ms on Redis's clock, as text).

Two more jobs ride on the same round trip. After the limits' keys may come the ledger of orders
in doubt and a client order id's reservation: the answered orders listed last are removed from
the ledger (``Budget.settled``), and a new order's *claim* (``ledger.Claim``) reserves its id and
writes it ahead to the ledger once the request is booked, or returns ``-1`` as the index when
another member holds the id (nothing booked). ARGV: weight, longest wait ms, the number of
limits, three per limit, then ``1`` and the claim's five values or ``0``, then the settled ids.
Periods are lengthened by ``MARGIN``: the exchange counts arrivals, which jitter.

``CORRECT`` applies what the exchange's headers said (a spent quota and when it resets, a
``Retry-After``) to every member of the fleet, bounded by the limit's own period: a wrong header
cannot stop the fleet for longer than one window. A header's new ``limit`` (a VIP tier) becomes
the limit this client books with.

When Redis cannot be reached, requests book on a local limiter holding this process's share of
each limit (the limit divided by ``fleet_size``, at least one request); see ``exchanges.fleet``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from exchanges.effects import Shared
from exchanges.fleet.link import DOWN, Link, Script
from exchanges.ratelimit import Limit, RateLimiter, RouteBlocked

if TYPE_CHECKING:
    from exchanges.effects import Effects
    from exchanges.fleet.keys import Keys
    from exchanges.fleet.ledger import Claim
    from exchanges.wire import Request

__all__ = ["CORRECT", "MARGIN", "RESERVE", "SETTLED_MAX", "Booking", "Budget", "ShareLimiter"]


class Booking(Script):
    """One request's booking (``RESERVE``); a new order's placement may attach its claim."""

    __slots__ = ("claim", "request")

    def __init__(self, link: Link, keys: list[str], args: list[Any], request: Request) -> None:
        super().__init__(link, RESERVE, keys, args)
        self.request = request
        self.claim: Claim | None = None

    def attach(self, claim: Claim, doubt: str, reservation: str) -> None:
        """Settle ``claim`` in this booking's round trip (see ``RESERVE``)."""
        n = int(self.args[2])
        head, settled = self.args[: 3 * n + 3], self.args[3 * n + 4 :]
        self.keys = [*self.keys[: 2 * n], doubt, reservation]
        self.args = [*head, "1", *claim.arguments(), *settled]
        self.claim = claim


#: Periods as the fleet books them are this much longer than documented.
MARGIN = 0.05
#: Answered orders whose ledger entries wait for the next booking; beyond this, the oldest are
#: left to ``reconcile_in_doubt`` (which finds them placed or absent).
SETTLED_MAX = 1000

RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local weight = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local extra = 3 * n + 4
local claim = ARGV[extra] == '1'
local doubt, reservation = KEYS[2 * n + 1], KEYS[2 * n + 2]
local settled_from = extra + (claim and 6 or 1)
if doubt and #ARGV >= settled_from then
  -- Orders answered since this client's last booking leave the ledger here: no extra trip.
  redis.call('HDEL', doubt, unpack(ARGV, settled_from, #ARGV))
end
if claim and redis.call('EXISTS', reservation) == 1 then
  return {0, -1}
end
local at = now
local seen = {}
for i = 1, n do
  local state, log = KEYS[2 * i - 1], KEYS[2 * i]
  local limit = tonumber(ARGV[3 * i + 1])
  local period = tonumber(ARGV[3 * i + 2])
  local burst = math.min(tonumber(ARGV[3 * i + 3]), limit)
  local s = redis.call('HMGET', state, 'tat', 'blocked')
  local tat = tonumber(s[1]) or 0
  local blocked = tonumber(s[2]) or 0
  if blocked - now > longest then
    return {math.ceil(blocked - now), i}
  end
  if blocked > at then at = blocked end
  local interval = period / limit
  local paced = tat - interval * (burst - 1)
  if paced > at then at = paced end
  local count = redis.call('LLEN', log)
  if count > 0 then
    local last = tonumber(redis.call('LINDEX', log, -1))
    if last > at then at = last end
    local over = count + math.min(weight, limit) - limit
    if over > 0 then
      local freed = tonumber(redis.call('LINDEX', log, over - 1)) + period
      if freed > at then at = freed end
    end
  end
  seen[i] = {limit, period, interval, tat, blocked}
end
local stamp = string.format('%.3f', at)
for i = 1, n do
  local state, log = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, period, interval, tat, blocked = unpack(seen[i])
  local stamps = {}
  for j = 1, math.min(weight, limit) do stamps[j] = stamp end
  redis.call('RPUSH', log, unpack(stamps))
  redis.call('LTRIM', log, -limit, -1)
  if tat < at then tat = at end
  tat = tat + interval * weight
  -- limit and period too, for 'exchanges fleet status' to read the use against.
  redis.call('HSET', state, 'tat', string.format('%.3f', tat), 'limit', limit, 'period', period)
  local ttl = math.ceil(math.max(tat, at + period) - now) + 1000
  redis.call('PEXPIRE', log, ttl)
  redis.call('PEXPIRE', state, math.max(ttl, math.ceil(blocked - now) + 1000))
end
if claim then
  -- A new order: its client order id reserved and the order written ahead to the ledger,
  -- only now that it is booked (a refused booking leaves the id free).
  redis.call('SET', reservation, ARGV[extra + 1], 'PX', ARGV[extra + 2])
  redis.call('HSET', doubt, ARGV[extra + 3], ARGV[extra + 4])
  redis.call('EXPIRE', doubt, ARGV[extra + 5])
end
return {math.ceil(at - now), 0, stamp}
"""

CORRECT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
for i = 1, #KEYS do
  local wait = math.min(tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i]))
  if wait > 0 then
    local blocked = tonumber(redis.call('HGET', KEYS[i], 'blocked')) or 0
    if now + wait > blocked then
      redis.call('HSET', KEYS[i], 'blocked', string.format('%.3f', now + wait))
    end
    if redis.call('PTTL', KEYS[i]) < wait + 1000 then
      redis.call('PEXPIRE', KEYS[i], math.ceil(wait) + 1000)
    end
  end
end
return #KEYS
"""


def _scaled(limit: Limit | None, factor: float) -> Limit | None:
    if limit is None or factor == 1.0:
        return limit
    burst = None if limit.burst is None else max(1, math.floor(limit.burst * factor))
    return Limit(max(1, math.floor(limit.limit * factor)), limit.period, burst)


class Budget:
    """A client's view of the fleet's shared budget: its limits, and the requests it books."""

    def __init__(
        self,
        link: Link,
        keys: Keys,
        limits: Mapping[str, Limit],
        default: Callable[[str], Limit | None] | None,
        *,
        factor: float,
        fleet_size: int,
        enabled: bool = True,
    ) -> None:
        self.link = link
        self.keys = keys
        self._limits = dict(limits)
        self._default = default
        self._factor = factor
        self.share = 1.0 / fleet_size
        self.enabled = enabled
        self._seen: dict[str, int] = {}
        self._specs: dict[str, Limit | None] = {}
        self._plans: dict[tuple[tuple[str, ...], int], tuple[list[str], list[Any], list[str]]] = {}
        #: Header corrections not yet sent to Redis: (limiter key, seconds).
        self.pending: list[tuple[str, float]] = []
        #: Client order ids answered since the last booking: their write-ahead entries leave
        #: the ledger with the next booking (``Fleet.place``), at most ``SETTLED_MAX`` kept.
        self.settled: list[str] = []
        #: This process's share of every limit, booked while Redis is away.
        self.local = ShareLimiter(self)

    def spec(self, key: str) -> Limit | None:
        """The limit the fleet books ``key`` with (documented, scaled, or as headers said)."""
        try:
            return self._specs[key]
        except KeyError:
            pass
        limit = self._limits.get(key)
        if limit is None and self._default is not None:
            limit = self._default(key)
        limit = _scaled(limit, self._factor)
        seen = self._seen.get(key)
        if seen is not None:
            limit = Limit(seen, limit.period if limit else 1.0, limit.burst if limit else None)
        self._specs[key] = limit
        return limit

    def local_spec(self, key: str) -> Limit | None:
        """This process's share of ``key``'s limit: for the local limiter while Redis is away."""
        return _scaled(self.spec(key), self.share)

    def limit_seen(self, key: str, limit: int) -> None:
        """The exchange reported ``limit`` for ``key``: book with it from now on."""
        if self._seen.get(key) != limit:
            self._seen[key] = limit
            self._specs.pop(key, None)
            self._plans.clear()

    def spent(self, key: str, seconds: float | None) -> None:
        """The exchange said ``key`` is spent for ``seconds``: tell the fleet (bounded)."""
        if seconds is not None and math.isfinite(seconds) and seconds > 0:
            self.pending.append((key, seconds))

    def _plan(self, keys: tuple[str, ...], weight: int) -> tuple[list[str], list[Any], list[str]]:
        plan = self._plans.get((keys, weight))
        if plan is None:
            redis_keys: list[str] = []
            args: list[Any] = []
            names: list[str] = []
            for key in keys:
                limit = self.spec(key)
                if limit is None:
                    continue
                names.append(key)
                redis_keys.extend(self.keys.limit(key))
                period_ms = limit.period * 1000 * (1 + MARGIN)
                args.extend((limit.limit, f"{period_ms:.3f}", limit.burst or limit.limit))
            plan = (redis_keys, args, names)
            self._plans[(keys, weight)] = plan
        return plan

    def reserve(self, request: Request) -> Effects[float]:
        """Book ``request`` on the fleet's budget; seconds to wait before sending it.

        ``RouteBlocked`` (nothing booked) when a limit is blocked for longer than the caller
        may wait. While Redis is away, the local share limiter decides instead. A claim that
        ``Fleet.place`` attached to the booking is settled in the same round trip:
        ``claim.won`` True, or ``claim.refusal`` raised (nothing booked).
        """
        local = self.local
        keys = request.rate_keys
        if not self.enabled or not keys:
            return 0.0
        longest = local.max_blocked_wait
        held = 0.0
        for key in keys:
            # Blocks longer than a window (a Retry-After, a ban) stay with who received them.
            blocked = local.blocked_for(key)
            if blocked > longest:
                raise RouteBlocked(key, blocked)
            held = max(held, blocked)
        redis_keys, limit_args, names = self._plan(keys, request.weight)
        if not names:
            return held
        if self.link.resting():
            return max(held, local.reserve(keys, request.weight))
        args: list[Any] = [request.weight, round(longest * 1000), len(names), *limit_args, "0"]
        settled = self.settled
        if settled:
            redis_keys = [*redis_keys, self.keys.doubt]
            args.extend(settled)
        booking = Booking(self.link, redis_keys, args, request)
        result = yield Shared(booking)
        if result is DOWN:
            return max(held, local.reserve(keys, request.weight))
        if settled:
            self.settled = []
        wait_ms, index = int(result[0]), int(result[1])
        claim = booking.claim
        if index < 0 and claim is not None:
            raise claim.refusal
        if index:
            raise RouteBlocked(names[index - 1], wait_ms / 1000)
        if claim is not None:
            claim.won = True
        return max(held, wait_ms / 1000)

    def correct(self) -> Effects[None]:
        """Send the pending header corrections to Redis (best effort)."""
        pending, self.pending = self.pending, []
        redis_keys: list[str] = []
        args: list[Any] = []
        for key, seconds in pending:
            limit = self.spec(key)
            if limit is None:
                continue
            redis_keys.append(self.keys.limit(key)[0])
            args.extend((f"{seconds * 1000:.3f}", f"{limit.period * 1000:.3f}"))
        if redis_keys and not self.link.resting():
            yield Shared(Script(self.link, CORRECT, redis_keys, args))


class ShareLimiter(RateLimiter):
    """The local limiter of a fleet member: its share of each limit, and the headers' recorder.

    ``Adapter.observe`` feeds it as it would any limiter; what matters to the whole fleet (a
    spent quota, a block, a new limit) is passed on to the ``Budget``.
    """

    def __init__(self, budget: Budget) -> None:
        super().__init__({}, default=budget.local_spec)
        self._budget = budget

    def update(
        self,
        key: str,
        *,
        limit: int | None = None,
        remaining: int | None = None,
        reset_in: float | None = None,
    ) -> None:
        """Record the report for the fleet, and apply this process's share of it locally."""
        budget = self._budget
        if limit is not None and limit > 0:
            budget.limit_seen(key, limit)
            limit = max(1, math.floor(limit * budget.share))
        if remaining is not None and remaining <= 0:
            spec = budget.spec(key)
            budget.spent(key, spec.period if reset_in is None and spec else reset_in)
        super().update(key, limit=limit, remaining=remaining, reset_in=reset_in)

    def block_until(self, key: str, seconds_from_now: float) -> None:
        """Record the block for the fleet (bounded there by the window), and hold it locally."""
        self._budget.spent(key, seconds_from_now)
        super().block_until(key, seconds_from_now)
