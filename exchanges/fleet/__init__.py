"""Fleets: many clients of one account, in many processes or machines, sharing one Redis.

``connect(..., fleet="redis://host:port/db")`` (also ``rediss://``, ``unix://``, or a ready
``redis.Redis`` or ``redis.RedisCluster``; ``connect_async`` takes a URL, a
``redis.asyncio.Redis`` or a ``redis.asyncio.RedisCluster``) makes every client
that names the same Redis and the same account (exchange, environment and API key, hashed:
``keys.account_id``) one fleet:

* **one rate budget**: each request books its send time in Redis, on every limit it counts
  towards, atomically and in one round trip (``budget.RESERVE``, a Lua script); the exchange's
  rate-limit headers correct the shared state, bounded by each limit's window;
* **one client-id space**: a new order's client order id is reserved fleet-wide (``SET NX`` with
  a TTL) just before it is sent; a second sender gets ``DuplicateOrderId``, nothing sent;
* **one ledger of orders in doubt**: a new order is written ahead before its request leaves
  and removed once answered; one whose placement ends in ``OutcomeUnknown``, or whose sender
  died mid-order, stays; ``reconcile_in_doubt()`` on any member settles the account's
  entries, and each client settles up to ``STARTUP_LOOKUPS`` of them before its first request
  (best effort, ``STARTUP_SECONDS`` at most).

The key layout is in ``exchanges.fleet.keys``. ``redis`` is imported only when ``fleet=`` is
given; ``import exchanges`` never imports it.

Redis failing
-------------

Every Redis call has a 0.5 s socket timeout and no client retries, and after a failure the
client skips Redis for a second before probing it again (``link.REST``), so nothing hangs:

* **reads** (and cancels and amends, which are safe to repeat) go on, paced by a local limiter
  holding this process's share of every limit, the documented limit divided by ``fleet_size``
  (``connect(..., fleet_size=4)`` by default; at least one request per window). One warning is
  logged when the outage starts and one when Redis answers again;
* **new orders** are refused with ``FleetUnavailable`` (an ``ExchangeNotAvailable``; nothing
  sent), because their client order id cannot be reserved across the fleet. With
  ``fleet_fallback="local"`` they are placed with the id reserved in this process only, and
  every such order logs a warning;
* an order in doubt that cannot be recorded is logged as an error and its ``OutcomeUnknown``
  says so;
* recovery is automatic: the first call after the rest period that reaches Redis ends the
  outage, and the shared budget applies again from that request on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exchanges.fleet.policy import FleetUnavailable, check_fallback

if TYPE_CHECKING:
    from exchanges.adapter import Adapter
    from exchanges.credentials import Credentials
    from exchanges.fleet.fleet import Fleet

__all__ = ["FleetUnavailable", "check_fleet_size", "open_fleet"]


def check_fleet_size(value: Any) -> int:
    """``fleet_size=`` checked: a whole number of processes, at least 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"fleet_size must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"fleet_size must be at least 1, got {value}")
    return value


def open_fleet(
    target: Any,
    *,
    adapter: Adapter,
    credentials: Credentials | None,
    policy: str | float,
    fleet_size: int = 4,
    fallback: str = "refuse",
    asynchronous: bool,
) -> Fleet:
    """The fleet membership of a client being built (``connect``'s ``fleet=``).

    ``policy`` is the checked ``rate_limits=``: ``"off"`` books nothing in Redis either (the
    client-id space and the ledger still apply); a factor scales the shared limits.
    """
    from exchanges.fleet.budget import Budget
    from exchanges.fleet.fleet import Fleet
    from exchanges.fleet.keys import Keys, account_id
    from exchanges.fleet.link import Link

    size = check_fleet_size(fleet_size)
    mode = check_fallback(fallback)
    link = Link(target, asynchronous=asynchronous)
    api_key = credentials.api_key if credentials is not None else None
    keys = Keys(account_id(adapter.name, adapter.env, api_key))
    limits, default = adapter.rate_limits()
    factor = 1.0 if isinstance(policy, str) else float(policy)
    budget = Budget(
        link, keys, limits, default, factor=factor, fleet_size=size, enabled=policy != "off"
    )
    return Fleet(link, keys, budget, fallback=mode, exchange=adapter.name)
