"""The sync API's driver: an async generator of batches run on an event loop in a thread of
its own, its batches handed over to the caller's thread.

The loop keeps running while the caller works on a batch, so requests in flight finish (and
time out) on their own clock, not only inside ``next()``. At most ``HANDOFF_BATCHES`` batches
wait; then the engine waits for the caller.

A batch crosses threads through a ``threading.Condition``: the loop thread appends it and
wakes the caller, if waiting. The loop is only woken from the caller's thread (a write to its
self-pipe) when the engine waits for room, so a caller that keeps up costs one thread wake-up
per batch, not the three of a ``run_coroutine_threadsafe`` per ``get``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import AsyncGenerator, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["HANDOFF_BATCHES", "Pump"]

T = TypeVar("T")
Item = TypeVar("Item")

HANDOFF_BATCHES = 2
_END = None


class Pump(Generic[Item]):
    """The engine's event loop thread and the bounded queue of batches it fills."""

    def __init__(self, batches: AsyncGenerator[list[Item], None]) -> None:
        self._ready: collections.deque[list[Item] | BaseException | None] = collections.deque()
        self._changed = threading.Condition()
        self._engine_waits = False
        self._loop = asyncio.new_event_loop()
        self._room = asyncio.Event()
        self._thread = threading.Thread(target=self._run_loop, name="pkglist-engine", daemon=True)
        self._thread.start()
        self._task = self._call(self._start(batches))

    def _run_loop(self) -> None:
        try:
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the engine's loop and wait for its result on this thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _start(self, batches: AsyncGenerator[list[Item], None]) -> asyncio.Task[None]:
        return asyncio.create_task(self._fill(batches))

    async def _fill(self, batches: AsyncGenerator[list[Item], None]) -> None:
        try:
            async with contextlib.aclosing(batches):
                async for batch in batches:
                    await self._put(batch)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised again on the caller's thread
            self._put_last(exc)
        else:
            self._put_last(_END)

    async def _put(self, batch: list[Item]) -> None:
        while True:
            with self._changed:
                if len(self._ready) < HANDOFF_BATCHES:
                    self._ready.append(batch)
                    self._changed.notify()
                    return
                self._engine_waits = True
                self._room.clear()
            await self._room.wait()

    def _put_last(self, item: BaseException | None) -> None:
        """The end or the engine's exception: queued whatever the room, since nothing follows."""
        with self._changed:
            self._ready.append(item)
            self._changed.notify()

    def get(self) -> list[Item] | None:
        """The next batch, ``None`` at the end; the engine's exception is raised here."""
        with self._changed:
            while not self._ready:
                self._changed.wait()
            item = self._ready.popleft()
            wake_engine, self._engine_waits = self._engine_waits, False
        if wake_engine:
            self._loop.call_soon_threadsafe(self._room.set)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        """Stop the engine (closing its connections), the loop and the thread."""
        if self._loop.is_closed():
            return
        try:
            self._call(self._stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()

    async def _stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
