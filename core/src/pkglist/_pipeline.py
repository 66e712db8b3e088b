"""Scheduling the page requests of a listing whose pages are addressable by number.

:class:`Pipeline` keeps as many page requests in flight as the concurrency
limit allows, tops the window up the moment a request finishes (from the
task's completion, not when the consumer next asks, so CPU work on ready
pages never leaves the window half empty), and hands the responses over in
page order. Pages fetched ahead of their turn wait undecoded, at most a
window's worth. Without a known last page every request past the end is
wasted, so the window starts small and doubles with each page the listing
proves to have, up to 8, and counts every page asked for and not yet judged
(a listing of 1-3 pages sends at most 2 requests past its end, a longer one at
most 7); with a known last page it goes straight to the limit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from ._limiter import Limit

__all__ = ["SPECULATIVE_DOUBLINGS", "Pipeline"]

T = TypeVar("T")
#: Without a known last page the window doubles from 1 at most this often: fewer than 8 requests
#: ever go past the end, however many the server could take (they would all be wasted).
SPECULATIVE_DOUBLINGS = 3
#: The bytes the pages fetched ahead may hold at once (judged by the size of the pages so far):
#: a wide window of large pages would otherwise make memory grow with the concurrency.
AHEAD_BYTES = 8 * 1024 * 1024


class Pipeline(Generic[T]):
    """Fetches pages ``after + 1``, ``after + 2``... with ``fetch(number)``; use :meth:`next` in order.

    ``bound`` is the last page when known; ``wanted`` (how many more pages the
    limit could use) and ``cap`` (the page cap) stop it early. Update them with
    :meth:`consumed` after each page; :meth:`aclose` cancels what is in flight.
    """

    def __init__(
        self,
        fetch: Callable[[int], Awaitable[T]],
        limit: Limit,
        *,
        after: int,
        bound: int | None,
        wanted: int | None,
        cap: int,
        page_bytes: Callable[[], int] = lambda: 0,
    ) -> None:
        self._fetch = fetch
        self._limit = limit
        self._consumed = after  # the last page number handed over
        self._next = after + 1  # the next page number to ask for
        self._bound = bound
        self._wanted = wanted
        self._cap = cap
        self._page_bytes = page_bytes
        self._proven = 1  # pages known to exist (the first one): the speculative window
        self._pending: deque[tuple[int, asyncio.Future[T]]] = deque()
        self._closed = False

    def consumed(self, number: int, *, bound: int | None, wanted: int | None, cap: int) -> None:
        """Page ``number`` was handed over and says the listing goes on."""
        self._consumed = number
        self._bound = bound
        self._wanted = wanted
        self._cap = cap
        self._proven += 1
        self._fill()

    @property
    def in_flight(self) -> int:
        return sum(1 for _, task in self._pending if not task.done())

    async def next(self) -> tuple[int, T] | None:
        """The next page's number and result, in order; ``None`` when nothing more is wanted."""
        self._fill()
        if not self._pending:
            return None
        number, task = self._pending.popleft()
        try:
            return number, await task
        finally:
            self._fill()

    def _window(self) -> int:
        window = self._limit.limit
        if self._bound is None:  # past the last page known to exist, every request may be wasted
            window = min(window, 2 ** min(self._proven - 1, SPECULATIVE_DOUBLINGS))
        return max(1, window)

    def _may_send(self) -> bool:
        number = self._next
        if self._closed or number > self._cap:
            return False
        if self._bound is not None and number > self._bound:
            return False
        if self._wanted is not None and number > self._consumed + self._wanted:
            return False
        window = self._window()
        if self.in_flight >= window:
            return False
        pending = len(self._pending)
        if pending >= max(2, AHEAD_BYTES // max(1, self._page_bytes())):
            return False  # bounded memory, whatever the window
        if self._bound is None:
            # Every page asked for and not yet judged may lie past the end, the one handed over
            # included (its "no more" is not known until it is consumed): at most a window of them.
            return number - self._consumed <= window
        return pending < 2 * window  # at most a window waiting beside a window in flight

    def _fill(self) -> None:
        while self._may_send():
            task = asyncio.ensure_future(self._fetch(self._next))
            task.add_done_callback(self._on_done)
            self._pending.append((self._next, task))
            self._next += 1

    def _on_done(self, task: asyncio.Future[T]) -> None:
        if not self._closed and not task.cancelled():
            self._fill()

    async def aclose(self) -> None:
        self._closed = True
        tasks = [task for _, task in self._pending]
        self._pending.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
