"""The values a flow and the pipeline yield: flow steps (``Pause``) and driver effects.

A flow (``Flow[T]``) yields ``Request``s and ``Pause``s; the pipeline (``exchanges.flow.Session``)
yields effects (``Send``, ``Sleep``, ``Shared``) that a driver (``exchanges.drivers``) performs.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol, TypeVar

from exchanges.wire import Prepared, Request, Response

__all__ = [
    "SHAPE_ERRORS",
    "Effect",
    "Effects",
    "Flow",
    "Pause",
    "Send",
    "Shared",
    "SharedOperation",
    "Sleep",
]

T = TypeVar("T")


class Pause:
    """Flow step: wait until the exchange's clock has passed ``until_server_ms``, then resume.

    The flow resumes with an empty ``Response`` (status 0) that carries nothing.
    """

    __slots__ = ("until_server_ms",)

    def __init__(self, until_server_ms: int) -> None:
        self.until_server_ms = until_server_ms


Flow = Generator["Request | Pause", Response, T]


class Send:
    """Effect: send this prepared request and resume with its ``Response``."""

    __slots__ = ("prepared",)

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared


class Sleep:
    """Effect: wait this many seconds, then resume with ``None``."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class SharedOperation(Protocol):
    """An operation on state shared with other processes, performed by a driver.

    ``run`` blocks (``run_sync``); ``run_async`` is awaited (``run_async``). Neither raises for
    the shared store being unreachable: they return a value saying so, and the pipeline decides.
    """

    def run(self) -> Any:
        """Perform the operation with blocking I/O."""

    async def run_async(self) -> Any:
        """Perform the operation from asyncio, without blocking the event loop."""


class Shared:
    """Effect: perform ``operation`` on a fleet's shared store (Redis) and resume with its result.

    Why an effect rather than a Redis call inside the pipeline: the pipeline stays sans-I/O and
    one flow serves both clients. ``run_sync`` performs it with redis-py's blocking client and
    ``run_async`` with ``redis.asyncio``, so the event loop is never blocked, and without a
    fleet no ``Shared`` is ever yielded, so the drivers' hot path is unchanged. (A blocking
    call from the pipeline would have blocked the event loop; a thread per call under asyncio
    would have cost a thread hop per request.)
    """

    __slots__ = ("operation",)

    def __init__(self, operation: SharedOperation) -> None:
        self.operation = operation


Effect = Send | Sleep | Shared

#: What reading an answer of an undocumented shape raises (a missing key, a list where an
#: object belongs, a number out of range, nesting deeper than the interpreter's stack).
SHAPE_ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    ValueError,
    ArithmeticError,
    RecursionError,
)
Effects = Generator[Effect, Any, T]
