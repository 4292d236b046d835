"""The two drivers of a pipeline: ``run_sync`` (blocking I/O) and ``run_async`` (asyncio).

They perform the effects a pipeline yields (``exchanges.effects``); that is the only code that
differs between the sync and the async client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from exchanges.effects import Effects, Send, Shared, Sleep
from exchanges.errors import ExchangeError
from exchanges.wire import Response

if TYPE_CHECKING:
    from exchanges.transport.base import AsyncTransport, Transport

__all__ = ["forget_locals", "run_async", "run_sync"]

T = TypeVar("T")


def run_sync(
    effects: Effects[T], transport: Transport, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Drive a pipeline with blocking I/O."""
    try:
        effect = next(effects)
        while True:
            if type(effect) is Send:
                try:
                    response = transport.send(effect.prepared)
                except ExchangeError as err:
                    effect = effects.throw(err)
                else:
                    effect = effects.send(response)
            elif type(effect) is Sleep:
                sleep(effect.seconds)
                effect = effects.send(None)
            else:
                assert type(effect) is Shared
                effect = effects.send(effect.operation.run())
    except StopIteration as done:
        result: T = done.value
        return result
    except BaseException as exc:
        forget_locals(exc)
        raise
    finally:
        # Interrupted (Ctrl-C, an exception from the transport): run the pipeline's cleanup now.
        effects.close()


async def run_async(effects: Effects[T], transport: AsyncTransport) -> T:
    """Drive a pipeline from asyncio.

    A transport that also offers ``attempt(prepared)``, returning the ``ExchangeError`` that
    ``send`` would raise instead of raising it, is driven through that: one coroutine less per
    request, and the error is thrown into the pipeline without a transport frame behind it.
    """
    attempt = getattr(transport, "attempt", None)
    try:
        effect = next(effects)
        while True:
            if effect.__class__ is Send:
                if attempt is not None:
                    outcome = await attempt(effect.prepared)
                    if isinstance(outcome, Response):
                        effect = effects.send(outcome)
                    else:
                        effect = effects.throw(outcome)
                    continue
                try:
                    response = await transport.send(effect.prepared)
                except ExchangeError as err:
                    effect = effects.throw(err)
                else:
                    effect = effects.send(response)
            elif type(effect) is Sleep:
                import asyncio  # here: sync users should not pay asyncio's import time

                await asyncio.sleep(effect.seconds)
                effect = effects.send(None)
            else:
                assert type(effect) is Shared
                effect = effects.send(await effect.operation.run_async())
    except StopIteration as done:
        result: T = done.value
        return result
    except BaseException as exc:
        forget_locals(exc)
        raise
    finally:
        # Cancelled or timed out (asyncio.wait_for): run the pipeline's cleanup now, so state
        # such as a trade-key check in progress is released before the next call.
        effects.close()


def forget_locals(exc: BaseException) -> None:
    """Clear the local variables of the finished frames an escaping error passed through.

    Tracebacks rendered with their locals (``pytest --showlocals``, error trackers such as
    Sentry, ``TracebackException(capture_locals=True)``) would otherwise show what the pipeline
    held: signed headers, the query string carrying a signature, a passphrase. Line numbers
    stay; only the variables go. Chained errors (``__cause__``, ``__context__``) too.
    """
    import traceback  # only failures pay for it

    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        err = pending.pop()
        if id(err) in seen:
            continue
        seen.add(id(err))
        traceback.clear_frames(err.__traceback__)
        pending.extend(e for e in (err.__cause__, err.__context__) if e is not None)
