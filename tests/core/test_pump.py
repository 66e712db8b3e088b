"""The sync API's driver: batches cross from the engine's thread to the caller's, bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator

import pytest

from pkglist._pump import HANDOFF_BATCHES, Pump


async def _numbered(count: int, produced: list[int], delay: float = 0.0) -> AsyncGenerator[list[int], None]:
    for number in range(count):
        if delay:
            await asyncio.sleep(delay)
        produced.append(number)
        yield [number]


def _drain(pump: Pump[int]) -> list[int]:
    seen = []
    while (batch := pump.get()) is not None:
        seen.extend(batch)
    return seen


@pytest.mark.parametrize("delay", [0.0, 0.001])
def test_every_batch_arrives_once_in_order(delay: float) -> None:
    produced: list[int] = []
    pump = Pump(_numbered(300, produced, delay))
    try:
        assert _drain(pump) == list(range(300))
    finally:
        pump.close()


def test_the_engine_waits_for_a_slow_caller() -> None:
    produced: list[int] = []
    pump = Pump(_numbered(50, produced))
    try:
        for expected in range(10):
            time.sleep(0.02)  # the engine had time to run ahead, were it unbounded
            assert pump.get() == [expected]
            # what the caller took, what waits, and the one the engine holds until there is room
            assert len(produced) <= expected + 1 + HANDOFF_BATCHES + 1
        assert _drain(pump) == list(range(10, 50))
    finally:
        pump.close()


def test_the_engines_exception_reaches_the_caller_after_the_batches_before_it() -> None:
    async def failing() -> AsyncGenerator[list[int], None]:
        yield [1]
        yield [2]
        raise ValueError("page 3 is broken")

    pump = Pump(failing())
    try:
        assert pump.get() == [1]
        assert pump.get() == [2]
        with pytest.raises(ValueError, match="page 3 is broken"):
            pump.get()
    finally:
        pump.close()


def test_closing_while_the_engine_waits_for_room_cancels_it_and_ends_the_thread() -> None:
    closed = threading.Event()

    async def endless() -> AsyncGenerator[list[int], None]:
        try:
            number = 0
            while True:
                yield [number]
                number += 1
        finally:
            closed.set()

    before = {thread.ident for thread in threading.enumerate()}
    pump = Pump(endless())
    assert pump.get() == [0]
    time.sleep(0.05)  # the engine fills the queue and waits for room
    pump.close()
    assert closed.is_set()
    assert {thread.ident for thread in threading.enumerate()} <= before
