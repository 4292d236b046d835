"""Runs the bridge's ccxt calls: the "transport" of ``connect("ccxt:<id>")``.

The adapter's flows yield ``Request``s whose ``context`` is a ``CcxtCall`` (a ccxt method name
and its arguments). The library's pipeline treats them like any request (retries of reads,
``OutcomeUnknown`` for writes whose result is unknown, rate-limit waits, secret scrubbing), and
hands each to the runner instead of an HTTP transport: ``SyncRunner`` calls the ccxt method,
``AsyncRunner`` awaits it; both put ccxt's answer in ``Response.data`` or raise the mapped error.

Reads go to the client built with ``credentials``, writes (orders) to the one built with
``trade_credentials`` when they were given. An ``InvalidNonce`` (timestamp outside the window)
is answered once by measuring the clock offset against the exchange's ``fetch_time`` (midpoint
of the round trip, stored in ccxt's ``options['timeDifference']``, which ccxt's ``nonce()``
subtracts) and repeating the call: the exchange refused the request before acting, so even a
write may be repeated.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import attrs

from adapters.ccxt_bridge.errors import Scrubber, family_of, map_exception
from exchanges.errors import ExchangeError
from exchanges.wire import Prepared, Request, Response, Role

__all__ = ["AsyncRunner", "CcxtCall", "SyncRunner", "ccxt_request"]

_log = logging.getLogger("exchanges.ccxt_bridge")


@attrs.frozen
class CcxtCall:
    """One ccxt method call: its (snake_case) name and positional arguments."""

    method: str
    args: tuple[Any, ...] = ()


def ccxt_request(method: str, *args: Any, write: bool = False) -> Request:
    """A pipeline ``Request`` that runs ``client.<method>(*args)``; writes use the trade key."""
    role: Role = "trade" if write else "read"
    return Request(
        "ccxt", "", method, write=write, role=role, context=CcxtCall(method, tuple(args))
    )


def _is_nonce_error(exc: BaseException) -> bool:
    names = {klass.__name__ for klass in type(exc).__mro__}
    return "InvalidNonce" in names and "ChecksumError" not in names


class _Runner:
    """What the sync and async runners share: the clients and the error mapping."""

    def __init__(self, read: Any, trade: Any, scrub: Scrubber) -> None:
        self.read = read
        self.trade = trade
        self.scrub = scrub
        self.exchange = str(read.id)
        self.family = family_of(type(read))

    def client_for(self, request: Request) -> Any:
        """The ccxt client that serves ``request``."""
        return self.trade if request.role == "trade" else self.read

    def error(self, exc: BaseException, request: Request) -> ExchangeError:
        """The library's error for what the ccxt call raised."""
        body = getattr(self.client_for(request), "last_http_response", None)
        return map_exception(
            exc,
            exchange=self.exchange,
            family=self.family,
            endpoint=request.endpoint,
            scrub=self.scrub,
            last_body=body if isinstance(body, str) else None,
        )

    def answer(self, request: Request, data: Any, started: float) -> Response:
        """A ``Response`` carrying ccxt's result as ``data``."""
        call: CcxtCall = request.context
        if call.method == "load_markets" and self.trade is not self.read:
            # The trade client places orders with ccxt's market cache: share the one loaded.
            self.trade.set_markets(self.read.markets, self.read.currencies)
        response = Response(200, {}, b"", request, time.perf_counter() - started)
        response.data = data
        return response

    @staticmethod
    def offset(client: Any, before: int, server: Any, after: int) -> None:
        """Store the clock offset ccxt's ``nonce()`` subtracts (RTT midpoint)."""
        difference = (before + after) // 2 - int(server)
        client.options["timeDifference"] = difference
        _log.debug("ccxt %s clock offset resynced: %d ms", client.id, difference)


class SyncRunner(_Runner):
    """Runs ccxt calls on a blocking ccxt client (the sync transport of the bridge)."""

    def send(self, prepared: Prepared) -> Response:
        """Run the call of ``prepared``; raise the mapped error when ccxt raises."""
        request = prepared.request
        call: CcxtCall = request.context
        client = self.client_for(request)
        started = time.perf_counter()
        failure: ExchangeError | None = None
        try:
            data = getattr(client, call.method)(*call.args)
        except Exception as exc:
            if _is_nonce_error(exc) and client.has.get("fetchTime"):
                data, failure = self._resync_and_repeat(client, call, exc, request)
            else:
                failure = self.error(exc, request)
        if failure is not None:
            # Raised outside the handler: ccxt's exception (whose text holds what the mapped
            # error scrubs) is neither its cause nor its context.
            raise failure
        return self.answer(request, data, started)

    def _resync_and_repeat(
        self, client: Any, call: CcxtCall, first: Exception, request: Request
    ) -> tuple[Any, ExchangeError | None]:
        try:
            before = client.milliseconds()
            server = client.fetch_time()
            self.offset(client, before, server, client.milliseconds())
        except Exception:
            return None, self.error(first, request)
        try:
            return getattr(client, call.method)(*call.args), None
        except Exception as again:
            return None, self.error(again, request)

    def close(self) -> None:
        """Close the ccxt clients' HTTP sessions."""
        self.read.close()
        if self.trade is not self.read:
            self.trade.close()


class AsyncRunner(_Runner):
    """Runs ccxt calls on a ``ccxt.async_support`` client (the async transport of the bridge)."""

    async def send(self, prepared: Prepared) -> Response:
        """Await the call of ``prepared``; raise the mapped error when ccxt raises."""
        request = prepared.request
        call: CcxtCall = request.context
        client = self.client_for(request)
        started = time.perf_counter()
        failure: ExchangeError | None = None
        try:
            data = await getattr(client, call.method)(*call.args)
        except Exception as exc:
            if _is_nonce_error(exc) and client.has.get("fetchTime"):
                data, failure = await self._resync_and_repeat(client, call, exc, request)
            else:
                failure = self.error(exc, request)
        if failure is not None:
            raise failure
        return self.answer(request, data, started)

    async def _resync_and_repeat(
        self, client: Any, call: CcxtCall, first: Exception, request: Request
    ) -> tuple[Any, ExchangeError | None]:
        try:
            before = client.milliseconds()
            server = await client.fetch_time()
            self.offset(client, before, server, client.milliseconds())
        except Exception:
            return None, self.error(first, request)
        try:
            return await getattr(client, call.method)(*call.args), None
        except Exception as again:
            return None, self.error(again, request)

    async def close(self) -> None:
        """Close the ccxt clients' aiohttp sessions."""
        await self.read.close()
        if self.trade is not self.read:
            await self.trade.close()
