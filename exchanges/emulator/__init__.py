"""A local exchange emulator: an exchange's real wire format on loopback, with a matching engine.

>>> with Emulator("bybit", seed=7) as emu:
...     ex = exchanges.connect("bybit", base_url=emu.base_url,
...                            credentials=exchanges.Credentials("test-key", "test-secret"))

It verifies requests as the exchange does (signature over the raw bytes received, timestamp
window, key permissions, IP whitelist, rate limits), answers with the exchange's envelopes and
codes, and serves ``/_emulator/`` admin endpoints (ledger, faults, clock, keys, reset) that are
never part of an exchange's API.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from exchanges.emulator.faults import FaultRule, parse_faults
from exchanges.emulator.keys import ApiKey
from exchanges.emulator.server import (
    DEFAULT_BALANCES,
    DEFAULT_UID,
    EmulatorState,
    Server,
    default_key,
)

__all__ = ["DEFAULT_BALANCES", "DEFAULT_UID", "ApiKey", "Emulator", "FaultRule", "parse_faults"]


class Emulator:
    """One exchange's emulator on loopback, run in a background thread (a context manager)."""

    def __init__(
        self,
        exchange: str = "bybit",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        api_key: str | None = "test-key",
        api_secret: str | None = "test-secret",
        public_key: str | None = None,
        passphrase: str | None = "test-passphrase",
        permissions: Iterable[str] | None = None,
        ips: Iterable[str] = (),
        balances: Mapping[str, Decimal] | None = None,
        faults: str | Iterable[FaultRule] | None = None,
        ip_limit: bool = True,
        wall_ms: Callable[[], int] | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.exchange = exchange
        self.state = EmulatorState(seed=seed, ip_limit=ip_limit, wall_ms=wall_ms)
        # With a token, HTTP admin calls need it in X-Emulator-Token; in-process calls never do.
        self.server = Server(exchange, self.state, host=host, admin_token=admin_token)
        self._port = port
        if api_key is not None:
            key = default_key(
                api_key, api_secret, public_key=public_key, permissions=permissions, ips=ips
            )
            if passphrase is not None:
                key = attrs.evolve(key, passphrase=passphrase)
            self.state.add_key(key, balances)
        if faults:
            self.set_faults(faults)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return self.server.base_url

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start serving in a background thread; returns once the port is bound."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="exchanges-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("the emulator did not start within 15 s")
        if self._error is not None:
            raise RuntimeError(f"the emulator failed to start: {self._error}") from self._error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.server.start(self._port)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.stop()

    def stop(self) -> None:
        """Stop the server and wait for its thread."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        self._thread = None

    async def serve_forever(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve in the running loop until cancelled; ``ready(base_url)`` once bound."""
        await self.server.start(self._port)
        if ready is not None:
            ready(self.base_url)
        try:
            await asyncio.Event().wait()
        finally:
            await self.server.stop()

    # -- admin ----------------------------------------------------------------------------

    def _admin(self, method: str, name: str, body: Mapping[str, Any] | None = None) -> Any:
        return self.server.admin(method, name, body or {})

    def ledger(self) -> list[dict[str, Any]]:
        """Every order ever accepted since the last reset, with uid and client order id."""
        result: list[dict[str, Any]] = self._admin("GET", "ledger")
        return result

    def set_faults(
        self, faults: str | Iterable[FaultRule | Mapping[str, Any]], seed: int | None = None
    ) -> None:
        """Replace the fault rules (a spec string like ``drop_after:0.1@/v5/order/create``)."""
        rules = parse_faults(faults) if isinstance(faults, str) else list(faults)
        self.state.faults.set(rules, seed)

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        self.state.faults.clear()

    def set_clock_offset(self, offset_ms: int) -> None:
        """Move the emulator's clock away from the wall clock."""
        self._admin("POST", "clock", {"offset_ms": offset_ms})

    def add_key(
        self,
        api_key: str,
        secret: str | None = None,
        *,
        public_key: str | None = None,
        passphrase: str | None = None,
        permissions: Iterable[str] = ("read", "spot_trade", "derivatives_trade"),
        ips: Iterable[str] = (),
        expires_at: int | None = None,
        uid: int = DEFAULT_UID,
        balances: Mapping[str, Decimal] | None = None,
        environment: str | None = None,
    ) -> ApiKey:
        """Add a key (and its account, with ``balances``, if the uid is new)."""
        key = ApiKey(
            api_key=api_key,
            uid=uid,
            secret=secret,
            public_key=public_key,
            passphrase=passphrase,
            permissions=frozenset(permissions),
            ips=tuple(ips),
            expires_at=expires_at,
            environment=environment,
        )
        self.state.add_key(key, balances)
        return key

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial state (keys kept, faults and clock offset cleared)."""
        self.state.reset(seed)

    def stats(self) -> dict[str, Any]:
        """Requests served, faults injected, the most requests seen in one rate-limit window."""
        return self.state.stats()

    def balances(
        self, uid: int = DEFAULT_UID, *, wallet: str | None = None
    ) -> dict[str, dict[str, str]]:
        """One wallet of an account as the engine holds it (None: the main one, e.g. spot)."""
        body: dict[str, Any] = {"uid": uid}
        if wallet is not None:
            body["wallet"] = wallet
        result: dict[str, dict[str, str]] = self._admin("GET", "balances", body)
        return result

    def deposit(
        self, coin: str, amount: Decimal, *, uid: int = DEFAULT_UID, wallet: str | None = None
    ) -> None:
        """Add ``amount`` of ``coin`` to a wallet of an account (None: the main one)."""
        with self.state.lock:
            self.state.engine.deposit(uid, coin, Decimal(amount), wallet=wallet)

    def move_price(
        self,
        symbol: str,
        *,
        last: Decimal | str | None = None,
        mark: Decimal | str | None = None,
        index: Decimal | str | None = None,
        category: str | None = None,
    ) -> dict[str, str]:
        """Move ``symbol``'s last price (a sweep: resting orders it crosses fill) and/or set its
        mark and index prices (``None``: they follow the book again); conditional orders and
        stops that the new prices reach fire. ``symbol`` is the exchange's own id (``BTCUSDT``,
        ``BTC-USDT-SWAP``); ``category`` (``spot``, ``linear``, ``inverse``) picks one listed
        in several. Returns the new last, mark and index prices."""
        body: dict[str, Any] = {"symbol": symbol}
        for name, value in (("category", category), ("last", last), ("mark", mark)):
            if value is not None:
                body[name] = str(value)
        if index is not None:
            body["index"] = str(index)
        result: dict[str, str] = self._admin("POST", "price", body)
        return result

    @property
    def wallets(self) -> list[str]:
        """The names of an account's wallets, the main one first (one unless Binance)."""
        return self.state.engine.wallet_names
