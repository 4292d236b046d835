"""Backpressure: conflating channels keep one value; event buffers stop at their bound, loudly."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from exchanges.errors import ExchangeError, StreamInterrupted
from exchanges.stream.channels import Buffer, Latest, StreamClosed, StreamOverflow, merged
from exchanges.stream.options import StreamOptions


async def test_latest_keeps_only_the_newest_and_builds_it_once() -> None:
    channel: Latest[int] = Latest()
    built: list[int] = []

    def make(n: int) -> object:
        def build() -> int:
            built.append(n)
            return n

        return build

    for n in range(10_000):
        channel.offer(make(n))  # type: ignore[arg-type]
    assert channel.pending() == 1
    assert await channel.get() == 9_999
    assert built == [9_999]  # the 9,999 older values were never materialised
    assert channel.pending() == 0


async def test_latest_per_key_keeps_order_and_a_bound() -> None:
    channel: Latest[str] = Latest(bound=3)
    for key, value in [(1, "a"), (2, "b"), (1, "c"), (3, "d")]:
        channel.offer(lambda v=value: v, key)
    assert channel.pending() == 3
    assert [await channel.get() for _ in range(3)] == ["c", "b", "d"]
    for key in range(4):
        channel.offer(lambda: "x", key)
    with pytest.raises(StreamOverflow) as caught:
        await channel.get()
    assert caught.value.bound == 3


async def test_buffer_raises_at_its_bound_instead_of_dropping() -> None:
    channel: Buffer[int] = Buffer(bound=5)
    for n in range(5):
        channel.push(n)
    assert channel.pending() == 5
    channel.push(5)  # one more than the bound
    assert channel.pending() == 0  # what waited is released: memory does not grow
    with pytest.raises(StreamOverflow) as caught:
        await channel.get()
    err = caught.value
    assert isinstance(err, ExchangeError) and err.bound == 5
    assert "buffer" in err.hint and "fetch_" in err.hint
    channel.push(6)  # a failed channel takes nothing more
    assert channel.pending() == 0
    restored = pickle.loads(pickle.dumps(err))
    assert restored.bound == 5 and restored.hint == err.hint


async def test_a_waiting_consumer_is_woken() -> None:
    channel: Buffer[int] = Buffer(bound=10)
    waiter = asyncio.ensure_future(channel.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    channel.push(7)
    assert await asyncio.wait_for(waiter, 5) == 7
    waiter = asyncio.ensure_future(channel.get())
    await asyncio.sleep(0)
    channel.close()
    with pytest.raises(StreamClosed):
        await asyncio.wait_for(waiter, 5)


async def test_failing_a_channel_wakes_the_consumer_with_the_error() -> None:
    channel: Latest[int] = Latest()
    waiter = asyncio.ensure_future(channel.get())
    await asyncio.sleep(0)
    channel.fail(ExchangeError("boom"))
    with pytest.raises(ExchangeError, match="boom"):
        await asyncio.wait_for(waiter, 5)
    assert channel.error is not None


def test_stream_options_are_read_and_checked() -> None:
    options = StreamOptions.from_options({"ws_ping_interval": 0.5, "region": "nl"})
    assert options.ping_interval == 0.5 and options.silence_timeout == 30.0
    with pytest.raises(ValueError, match="unknown stream option"):
        StreamOptions.from_options({"ws_pingg": 1})
    with pytest.raises(ValueError, match="positive"):
        StreamOptions.from_options({"ws_max_buffer": 0})
    with pytest.raises(ValueError, match="must exceed"):
        StreamOptions.from_options({"ws_ping_interval": 5, "ws_silence_timeout": 5})


async def test_interruptions_are_pulled_out_of_line_and_merged_events_kept_in_order() -> None:
    buffer: Buffer[int] = Buffer(10)
    first = StreamInterrupted("a", exchange="x", down_from=1.0, down_until=2.0)
    second = StreamInterrupted("b", exchange="x", down_from=1.5, down_until=3.0)
    buffer.push(1)
    buffer.interrupt(first)
    buffer.push(2)
    buffer.interrupt(second)
    assert buffer.pull_interruptions() == [first, second]
    assert buffer.pull_interruptions() == []
    assert [await buffer.get(), await buffer.get()] == [1, 2]
    both = merged(first, second)
    assert (both.down_from, both.down_until) == (1.0, 3.0)
