"""The connection to a fleet's Redis, and the operations the drivers perform on it.

Operations are ``exchanges.flow.Shared`` effects: the pipeline yields one, ``run_sync`` calls its
``run()`` (redis-py's blocking client) and ``run_async`` awaits its ``run_async()``
(``redis.asyncio``). An operation never raises for Redis being away: it returns ``DOWN``, and the
caller applies the fleet's failure policy (``exchanges.fleet``). Every socket has a 0.5 s timeout
and no client-side retries, so a dead Redis costs at most one timeout, after which the link
*rests*: for ``REST`` seconds operations return ``DOWN`` without touching the network, then the
next one probes again. The first failure of an outage is logged once as a warning, the recovery
once as well.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DOWN", "REST", "TIMEOUT", "Down", "Link", "Operation", "Script", "cluster_client"]

#: Socket connect and read timeout of the clients this module creates, seconds.
TIMEOUT = 0.5
#: After a failure, operations skip Redis for this many seconds, then probe it again.
REST = 1.0

_log = logging.getLogger("exchanges.fleet")


class Down:
    """The result of an operation that could not reach Redis."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DOWN"


DOWN = Down()


def _redis() -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "fleet= needs the redis client: pip install 'exchanges[fleet]' (redis>=5)"
        ) from None
    return redis


def _where(target: str) -> str:
    """``host:port/db`` of a Redis URL: never its user name or password."""
    parts = urlsplit(target)
    host = parts.hostname or parts.path or "?"
    port = f":{parts.port}" if parts.port else ""
    db = parts.path if parts.hostname and parts.path not in ("", "/") else ""
    return f"{parts.scheme}://{host}{port}{db}"


def cluster_client(url: str) -> Any:
    """A blocking ``redis.RedisCluster`` reached through one node's ``redis://``/``rediss://`` URL,
    with this module's timeouts (the caller closes it); ``OSError`` when it cannot be reached."""
    redis = _redis()
    if urlsplit(url).scheme not in ("redis", "rediss"):
        raise ValueError(
            f"{_where(url)!r} is not a node's URL: pass redis://host:port or rediss://"
        )
    try:
        return redis.RedisCluster.from_url(
            url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
    # It reads the slots at once; an unreachable cluster is not a RedisError there.
    except (redis.RedisError, redis.exceptions.RedisClusterException, OSError) as err:
        raise OSError(
            f"the Redis Cluster at {_where(url)} is unreachable ({type(err).__name__})"
        ) from None


class Link:
    """One fleet's Redis: a URL (``redis://``, ``rediss://``, ``unix://``) or a ready client.

    A ready client may be a Redis Cluster client (``redis.RedisCluster``, or
    ``redis.asyncio.RedisCluster``): every key of an account carries one hash tag, so its
    scripts and transactions run on the one node that owns the account's slot.
    """

    def __init__(self, target: Any, *, asynchronous: bool) -> None:
        redis = _redis()
        self.asynchronous = asynchronous
        self._sync: Any = None
        self._async: Any = None
        self._url: str | None = None
        if isinstance(target, str):
            scheme = urlsplit(target).scheme
            if scheme not in ("redis", "rediss", "unix"):
                raise ValueError(
                    f"fleet={_where(target)!r} is not a Redis URL: pass redis://host:port/db, "
                    "rediss://... or a redis client"
                )
            self._url = target
            self.where = _where(target)
        elif isinstance(target, (redis.asyncio.Redis, redis.asyncio.RedisCluster)):
            if not asynchronous:
                raise TypeError(
                    "fleet= on connect() takes a URL, a redis.Redis or a redis.RedisCluster, "
                    "not an asyncio one"
                )
            self._async = target
            self.where = f"a redis.asyncio.{type(target).__name__} client"
        elif isinstance(target, (redis.Redis, redis.RedisCluster)):
            if asynchronous:
                raise TypeError(
                    "fleet= on connect_async() takes a URL, a redis.asyncio.Redis or a "
                    "redis.asyncio.RedisCluster: a blocking client would block the event loop"
                )
            self._sync = target
            self.where = f"a redis.{type(target).__name__} client"
        else:
            raise TypeError(
                f"fleet= takes a Redis URL or a redis client, not {type(target).__name__}"
            )
        # A cluster client's "no node answers" is a RedisClusterException, not a RedisError.
        self.errors: tuple[type[BaseException], ...] = (
            redis.RedisError,
            redis.exceptions.RedisClusterException,
            OSError,
        )
        self._scripts: dict[tuple[int, str], Any] = {}
        self.pinned = _Pinned()
        self._rest_until = 0.0
        #: Set while Redis is unreachable (the outage's first error), None when it answers.
        self.outage: str | None = None

    def _options(self, retry: Any) -> dict[str, Any]:
        return {
            "socket_timeout": TIMEOUT,
            "socket_connect_timeout": TIMEOUT,
            "retry": retry,
            "health_check_interval": 0,
        }

    def sync_client(self) -> Any:
        """The blocking client (created from the URL on first use)."""
        if self._sync is None:
            redis = _redis()
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            assert self._url is not None
            options = self._options(Retry(NoBackoff(), 0))
            self._sync = redis.Redis.from_url(self._url, **options)
        return self._sync

    def async_client(self) -> Any:
        """The asyncio client (created from the URL on first use)."""
        if self._async is None:
            redis = _redis()
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            assert self._url is not None
            options = self._options(Retry(NoBackoff(), 0))
            self._async = redis.asyncio.Redis.from_url(self._url, **options)
        return self._async

    def script(self, client: Any, text: str) -> Any:
        """``text`` registered on ``client`` (EVALSHA, loaded again after a restart)."""
        key = (id(client), text)
        script = self._scripts.get(key)
        if script is None:
            script = client.register_script(text)
            self._scripts[key] = script
        return script

    def resting(self) -> bool:
        """True while operations skip Redis after a failure."""
        return self._rest_until > 0.0 and time.monotonic() < self._rest_until

    def failed(self, exc: BaseException) -> Down:
        """Note a failure: rest, and warn at the first one of an outage."""
        self._rest_until = time.monotonic() + REST
        if self.outage is None:
            self.outage = f"{type(exc).__name__}: {str(exc)[:200]}"
            _log.warning(
                "fleet Redis %s is unreachable (%s): reads use this process's local share of "
                "each rate limit, new orders are refused unless fleet_fallback='local'; "
                "retrying every %.0f s",
                self.where,
                self.outage,
                REST,
            )
        return DOWN

    def answered(self) -> None:
        """Note a success: end an outage (logged once)."""
        if self.outage is not None:
            self.outage = None
            self._rest_until = 0.0
            _log.warning("fleet Redis %s answers again: the shared budget is back", self.where)

    def close(self) -> None:
        """Close the blocking client's connections (the asyncio one closes with ``aclose``)."""
        self.pinned.release()
        if self._sync is not None and self._url is not None:
            self._sync.close()

    async def aclose(self) -> None:
        """Close the asyncio client's connections, if this link created it."""
        await self.pinned.release_async()
        if self._async is not None and self._url is not None:
            await self._async.aclose()


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _packer() -> Any:
    """hiredis's ``pack_command``, or None when hiredis is not installed."""
    try:
        from hiredis import pack_command
    except ImportError:  # pragma: no cover - depends on the installation
        return None
    return pack_command


#: Packs a command in one C call: redis-py's own packing encodes each argument in Python, which
#: for a booking's ~25 arguments costs more than the script takes to run on the server.
_PACK = _packer()


def _evalsha_command(sha: str, keys: list[str], args: list[Any]) -> tuple[Any, ...]:
    return ("EVALSHA", sha, len(keys), *keys, *args)


def _send(conn: Any, command: tuple[Any, ...]) -> None:
    if _PACK is None:
        conn.send_command(*command)
    else:
        conn.send_packed_command([_PACK(command)], check_health=False)


async def _send_async(conn: Any, command: tuple[Any, ...]) -> None:
    if _PACK is None:
        await conn.send_command(*command)
    else:
        await conn.send_packed_command([_PACK(command)], check_health=False)


class _Pinned:
    """One pooled connection kept for this link's scripts, used when no other call holds it.

    Taking a connection from redis-py's pool and giving it back costs about as much as the
    loopback round trip itself; a client books every request in Redis, so it keeps one. A
    second call at the same time (another thread, another task) goes through the pool as
    usual. A connection that failed is dropped (redis-py disconnects it on error), and one
    inherited across ``fork`` is never used by the child.
    """

    __slots__ = ("busy", "client", "conn", "lock", "pid", "shas")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.busy = False
        self.client: Any = None
        self.conn: Any = None
        self.pid = 0
        self.shas: dict[str, str] = {}

    def _connection(self, client: Any, take: Any) -> Any:
        if self.conn is None or self.client is not client or self.pid != os.getpid():
            self.conn, self.client, self.pid = take(), client, os.getpid()
        return self.conn

    def evalsha(self, client: Any, text: str, keys: list[str], args: list[Any]) -> Any:
        """The script on the kept connection, or ``NotImplemented`` when it is busy."""
        pool = getattr(client, "connection_pool", None)
        if pool is None or not self.lock.acquire(blocking=False):
            return NotImplemented
        try:
            conn = self._connection(client, pool.get_connection)
            sha = self.shas.get(text) or self.shas.setdefault(text, _sha(text))
            command = _evalsha_command(sha, keys, args)
            try:
                _send(conn, command)
                return conn.read_response()
            except _redis().exceptions.NoScriptError:
                conn.send_command("SCRIPT", "LOAD", text)
                conn.read_response()
                _send(conn, command)
                return conn.read_response()
        except BaseException:
            self._drop()
            raise
        finally:
            self.lock.release()

    async def evalsha_async(self, client: Any, text: str, keys: list[str], args: list[Any]) -> Any:
        """The script on the kept asyncio connection, or ``NotImplemented`` when it is busy."""
        pool = getattr(client, "connection_pool", None)
        if pool is None or self.busy:
            return NotImplemented
        self.busy = True
        try:
            if self.conn is None or self.client is not client:
                self.conn, self.client = await pool.get_connection(), client
            conn = self.conn
            sha = self.shas.get(text) or self.shas.setdefault(text, _sha(text))
            command = _evalsha_command(sha, keys, args)
            try:
                await _send_async(conn, command)
                return await conn.read_response()
            except _redis().exceptions.NoScriptError:
                await conn.send_command("SCRIPT", "LOAD", text)
                await conn.read_response()
                await _send_async(conn, command)
                return await conn.read_response()
        except BaseException:
            # A cancelled or failed call may leave a reply unread: never reuse that socket.
            conn, self.conn = self.conn, None
            if conn is not None:
                await self.client.connection_pool.release(conn)
                await conn.disconnect(nowait=True)
            raise
        finally:
            self.busy = False

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and self.pid == os.getpid():
            conn.disconnect()
            self.client.connection_pool.release(conn)

    def release(self) -> None:
        """Give the kept blocking connection back to its pool."""
        with self.lock:
            conn, self.conn = self.conn, None
            if conn is not None and self.pid == os.getpid():
                self.client.connection_pool.release(conn)

    async def release_async(self) -> None:
        """Give the kept asyncio connection back to its pool."""
        conn, self.conn = self.conn, None
        if conn is not None and not self.busy:
            await self.client.connection_pool.release(conn)


class Operation:
    """A Redis operation for the drivers; subclasses implement ``call`` and ``call_async``."""

    __slots__ = ("link",)

    def __init__(self, link: Link) -> None:
        self.link = link

    def call(self, client: Any) -> Any:
        """The operation on the blocking client."""
        raise NotImplementedError

    async def call_async(self, client: Any) -> Any:
        """The operation on the asyncio client."""
        raise NotImplementedError

    def run(self) -> Any:
        """Perform it with blocking I/O; ``DOWN`` when Redis cannot be reached."""
        link = self.link
        if link.resting():
            return DOWN
        try:
            result = self.call(link.sync_client())
        except link.errors as exc:
            return link.failed(exc)
        link.answered()
        return result

    async def run_async(self) -> Any:
        """Perform it from asyncio; ``DOWN`` when Redis cannot be reached."""
        link = self.link
        if link.resting():
            return DOWN
        try:
            result = await self.call_async(link.async_client())
        except link.errors as exc:
            return link.failed(exc)
        link.answered()
        return result


class Script(Operation):
    """A Lua script run atomically, in one round trip (loaded once per client, then EVALSHA)."""

    __slots__ = ("args", "keys", "text")

    def __init__(self, link: Link, text: str, keys: list[str], args: list[Any]) -> None:
        super().__init__(link)
        self.text = text
        self.keys = keys
        self.args = args

    def call(self, client: Any) -> Any:
        """Run it on the blocking client."""
        got = self.link.pinned.evalsha(client, self.text, self.keys, self.args)
        if got is NotImplemented:
            got = self.link.script(client, self.text)(keys=self.keys, args=self.args)
        return got

    async def call_async(self, client: Any) -> Any:
        """Run it on the asyncio client."""
        got = await self.link.pinned.evalsha_async(client, self.text, self.keys, self.args)
        if got is NotImplemented:
            got = await self.link.script(client, self.text)(keys=self.keys, args=self.args)
        return got
