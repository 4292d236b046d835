"""``connect`` and ``connect_async``: check the arguments, build the session, pick a transport."""

from __future__ import annotations

import warnings
from typing import Any

from exchanges.adapter import Adapter
from exchanges.async_client import AsyncExchange
from exchanges.client import Exchange
from exchanges.clock import ServerClock
from exchanges.credentials import Credentials
from exchanges.flow import Session
from exchanges.ratepolicy import RateLimits, check_rate_limits, limiter_for
from exchanges.registry import adapter_class
from exchanges.retry import RetryPolicy
from exchanges.transport.base import Transport
from exchanges.transport.limits import MAX_BODY_BYTES
from exchanges.transport.stdlib import StdlibTransport

__all__ = ["connect", "connect_async"]

_LOOPBACK_HOSTS = frozenset({"localhost", "::1"})


def _check_limits(timeout: Any, max_body_bytes: Any) -> None:
    """``timeout`` a positive number of seconds, ``max_body_bytes`` a positive int."""
    import math

    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
        raise TypeError(f"max_body_bytes must be an int, not {type(max_body_bytes).__name__}")
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in _LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(base_url: Any) -> None:
    """``scheme://host[:port][/path]``: what a bare ``127.0.0.1:8080`` would fail on later."""
    if base_url is None:
        return
    if not isinstance(base_url, str):
        raise TypeError(
            f"base_url must be a str like 'https://host', not {type(base_url).__name__}"
        )
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme in ("http", "https") and parts.hostname:
        if not port_ok:
            raise ValueError(f"base_url={base_url!r} has no valid port (1-65535)")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url={base_url!r} must not carry a query or fragment")
        return
    if parts.scheme in ("http", "https"):
        raise ValueError(f"base_url={base_url!r} names no host, e.g. https://api.example.com")
    bare = base_url.split("://", 1)[-1]
    host = urlsplit(f"//{bare}").hostname or ""
    scheme = "http" if _is_loopback(host) else "https"
    raise ValueError(
        f"base_url={base_url!r} needs a scheme and a host: pass {scheme}://{bare!s}"
        + (" (http:// is fine for this machine)" if scheme == "http" else "")
    )


def check_plain_http(url: str | None, keyed: bool, allowed: bool, what: str = "base_url") -> None:
    """Refuse to send keys over plain HTTP (or ``ws://``) to a host that is not this machine.

    Headers carry the API key and signature, and OKX's passphrase in clear: readable by anyone
    on the path. Loopback (an emulator, a local proxy) stays allowed; anything else needs
    ``allow_insecure_http=True`` and then warns.
    """
    if url is None or not keyed:
        return
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "ws") or _is_loopback(parts.hostname or ""):
        return
    if not allowed:
        raise ValueError(
            f"{what}={url!r} is plain {parts.scheme} to {parts.hostname}, which is not this "
            "machine: the API key, signatures (and OKX's passphrase) would travel unencrypted. "
            f"Use {'https' if parts.scheme == 'http' else 'wss'}://, or pass "
            "allow_insecure_http=True if the network in between is yours."
        )
    warnings.warn(
        f"sending API credentials over plain {parts.scheme} to {parts.hostname} "
        "(allow_insecure_http=True)",
        stacklevel=4,
    )


def _build(
    exchange: str,
    *,
    env: str,
    credentials: Credentials | None,
    trade_credentials: Credentials | None,
    base_url: str | None,
    recv_window_ms: int,
    allow_withdrawal_keys: bool,
    clock: ServerClock | None,
    retry: RetryPolicy | None,
    options: dict[str, Any],
    allow_insecure_http: bool = False,
    timeout: float = 10.0,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    asynchronous: bool = False,
) -> tuple[Adapter, Session]:
    if credentials is not None and not isinstance(credentials, Credentials):
        raise TypeError("credentials must be exchanges.Credentials")
    if trade_credentials is not None and not isinstance(trade_credentials, Credentials):
        raise TypeError("trade_credentials must be exchanges.Credentials")
    if isinstance(recv_window_ms, bool) or not isinstance(recv_window_ms, int):
        raise TypeError("recv_window_ms must be an int")
    _check_limits(timeout, max_body_bytes)
    _check_base_url(base_url)
    policy = check_rate_limits(rate_limits)
    cls = adapter_class(exchange)
    sync_clock = bool(options.pop("sync_clock", True))
    if exchange.lower().startswith("ccxt:"):
        options["ccxt_id"] = exchange.split(":", 1)[1]
    adapter = cls(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=options)
    problem = None
    if credentials is None:
        credentials, problem = Credentials.read_env(adapter.env_prefix())
        if problem is not None:
            # Public calls still work; a private one fails with this same message.
            warnings.warn(f"{problem}; connecting without credentials", stacklevel=3)
    keyed = credentials is not None or trade_credentials is not None
    check_plain_http(base_url, keyed, allow_insecure_http)
    check_plain_http(options.get("ws_url"), keyed, allow_insecure_http, "ws_url")
    limits, default = adapter.rate_limits()
    limiter = limiter_for(limits, default, policy)
    member = None
    if fleet is not None:
        # Here only: `redis` is imported when a fleet is asked for, never by `import exchanges`.
        from exchanges.fleet import open_fleet

        member = open_fleet(
            fleet,
            adapter=adapter,
            credentials=credentials or trade_credentials,
            policy=policy,
            fleet_size=fleet_size,
            fallback=fleet_fallback,
            asynchronous=asynchronous,
        )
        limiter = member.budget.local
        limiter.enabled = policy != "off"
    session = Session(
        adapter,
        credentials=credentials,
        trade_credentials=trade_credentials,
        clock=clock,
        limiter=limiter,
        retry=retry,
        allow_withdrawal_keys=allow_withdrawal_keys,
        sync_clock=sync_clock,
    )
    session.credentials_problem = problem
    session.fleet = member
    return adapter, session


def connect(
    exchange: str,
    *,
    env: str = "mainnet",
    credentials: Credentials | None = None,
    trade_credentials: Credentials | None = None,
    base_url: str | None = None,
    recv_window_ms: int = 5000,
    timeout: float = 10.0,
    allow_withdrawal_keys: bool = False,
    clock: ServerClock | None = None,
    retry: RetryPolicy | None = None,
    transport: str = "stdlib",
    allow_insecure_http: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    **options: Any,
) -> Exchange:
    """Connect to ``exchange`` (``bybit``, ``binance``, ``okx``, ``ccxt:<id>``) with blocking I/O.

    Credentials default to ``<EXCHANGE>[_TESTNET|_DEMO]_API_KEY`` / ``_API_SECRET`` from the
    environment; public methods work without any. ``transport="urllib3"`` selects the urllib3
    transport instead of the (faster) standard-library one. Credentials never go over plain
    ``http://`` to a host other than this machine unless ``allow_insecure_http=True``. A
    response body larger than ``max_body_bytes`` (64 MiB; counted after decompression) is
    refused as ``BadResponse``. ``rate_limits`` paces requests: ``"documented"`` (the
    exchange's default tier, corrected from its headers), a number that scales every limit
    (a VIP tier), or ``"off"`` for one's own test servers (``exchanges.ratepolicy``).

    ``fleet="redis://host:port/db"`` (or ``rediss://``, or a ``redis.Redis`` or
    ``redis.RedisCluster``) makes this client
    one of a fleet sharing the account's rate budget, client order ids and orders in doubt
    through Redis (``exchanges.fleet``, needs ``pip install 'exchanges[fleet]'``):
    ``fleet_size`` is how many processes share the budget when Redis is away (each then takes
    1/``fleet_size`` of every limit), ``fleet_fallback`` what new orders do then (``"refuse"``,
    or ``"local"``: placed with their id reserved in this process only).
    """
    adapter, session = _build(
        exchange,
        env=env,
        credentials=credentials,
        trade_credentials=trade_credentials,
        base_url=base_url,
        recv_window_ms=recv_window_ms,
        allow_withdrawal_keys=allow_withdrawal_keys,
        clock=clock,
        retry=retry,
        options=options,
        allow_insecure_http=allow_insecure_http,
        timeout=timeout,
        max_body_bytes=max_body_bytes,
        rate_limits=rate_limits,
        fleet=fleet,
        fleet_size=fleet_size,
        fleet_fallback=fleet_fallback,
    )
    custom = getattr(adapter, "connect_sync", None)
    if custom is not None:
        client: Exchange = custom(session, timeout)
        return client
    if transport == "stdlib":
        sender: Transport = StdlibTransport(
            timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes
        )
    elif transport == "urllib3":
        from exchanges.transport.sync import SyncTransport

        sender = SyncTransport(
            timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes
        )
    else:
        raise ValueError(f"transport must be 'stdlib' or 'urllib3', not {transport!r}")
    return Exchange(adapter, session, sender)


def connect_async(
    exchange: str,
    *,
    env: str = "mainnet",
    credentials: Credentials | None = None,
    trade_credentials: Credentials | None = None,
    base_url: str | None = None,
    recv_window_ms: int = 5000,
    timeout: float = 10.0,
    allow_withdrawal_keys: bool = False,
    clock: ServerClock | None = None,
    retry: RetryPolicy | None = None,
    allow_insecure_http: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    rate_limits: RateLimits = "documented",
    fleet: Any = None,
    fleet_size: int = 4,
    fleet_fallback: str = "refuse",
    **options: Any,
) -> AsyncExchange:
    """Like ``connect`` but returns an ``AsyncExchange`` whose methods are coroutines.

    ``fleet=`` takes a Redis URL, a ``redis.asyncio.Redis`` or a ``redis.asyncio.RedisCluster``.
    """
    if any(key.startswith("ws_") for key in options):
        from exchanges.stream.options import StreamOptions

        StreamOptions.from_options(options)  # a bad stream option fails here, not on first watch
    adapter, session = _build(
        exchange,
        env=env,
        credentials=credentials,
        trade_credentials=trade_credentials,
        base_url=base_url,
        recv_window_ms=recv_window_ms,
        allow_withdrawal_keys=allow_withdrawal_keys,
        clock=clock,
        retry=retry,
        options=options,
        allow_insecure_http=allow_insecure_http,
        timeout=timeout,
        max_body_bytes=max_body_bytes,
        rate_limits=rate_limits,
        fleet=fleet,
        fleet_size=fleet_size,
        fleet_fallback=fleet_fallback,
        asynchronous=True,
    )
    custom = getattr(adapter, "connect_async", None)
    if custom is not None:
        client: AsyncExchange = custom(session, timeout)
        return client
    # aiohttp costs ~160 ms to import: only async users pay for it.
    from exchanges.transport.aio import AioTransport

    return AsyncExchange(
        adapter,
        session,
        AioTransport(timeout=timeout, exchange=adapter.name, max_body_bytes=max_body_bytes),
    )
