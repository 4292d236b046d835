"""Where a fleet keeps its state in Redis: one hash-tagged namespace per account.

An account is named by a hash, never by its API key or secret: the first 16 hex digits of
SHA-256 over the exchange, the environment and the API key (``account_id``). Every key of one
account carries that id as a Redis Cluster hash tag, ``{…}``, so they all live in one slot and a
script may touch several of them:

==========================================  ===============================================
``exchanges:fleet:{ACCT}:rl:LIMITKEY:s``     a limit's state: a hash with ``tat`` (next paced
                                             time) and ``blocked`` (until when the exchange
                                             said stop), ms on Redis's clock
``exchanges:fleet:{ACCT}:rl:LIMITKEY:l``     a limit's booked send times, a list, newest last,
                                             at most ``limit`` long
``exchanges:fleet:{ACCT}:cid:CLIENTID``      a client order id reserved before it is sent
``exchanges:fleet:{ACCT}:doubt``             orders in doubt: a hash, client order id to JSON
==========================================  ===============================================

``LIMITKEY`` is the adapter's own limiter key (``bybit:/v5/order/create:deriv``, ``bybit:ip``).
Every key expires: the limit keys a period after their last booking, reservations after
``RESERVATION_TTL``, the ledger of orders in doubt a week after its last write.
"""

from __future__ import annotations

import hashlib

__all__ = ["PREFIX", "Keys", "account_id"]

PREFIX = "exchanges:fleet"


def account_id(exchange: str, env: str, api_key: str | None) -> str:
    """A stable, non-reversible name for the account behind ``api_key`` (16 hex digits)."""
    text = "\0".join((exchange.lower(), env, api_key or ""))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Keys:
    """The Redis key names of one account."""

    __slots__ = ("account", "doubt", "root")

    def __init__(self, account: str) -> None:
        self.account = account
        self.root = f"{PREFIX}:{{{account}}}"
        self.doubt = f"{self.root}:doubt"

    def limit(self, key: str) -> tuple[str, str]:
        """The state hash and the booking log of a limiter key."""
        base = f"{self.root}:rl:{key}"
        return f"{base}:s", f"{base}:l"

    def client_id(self, client_order_id: str) -> str:
        """The reservation of a client order id."""
        return f"{self.root}:cid:{client_order_id}"
