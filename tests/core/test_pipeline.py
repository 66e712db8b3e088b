"""The pipeline's window without a known last page: I/O-free, every fetch answered at once, so
the schedule is the same on every run (no race decides it)."""

from __future__ import annotations

import asyncio

import pytest

from pkglist._limiter import Fixed
from pkglist._pipeline import Pipeline


async def _list_until(last: int, window: int) -> list[int]:
    """Page numbers fetched by a speculative listing whose page ``last`` says "no more"."""
    fetched: list[int] = []

    async def fetch(number: int) -> int:
        fetched.append(number)
        return number

    pipeline = Pipeline(fetch, Fixed(window), after=1, bound=None, wanted=None, cap=10_000)
    try:
        for _ in range(last):
            found = await pipeline.next()
            assert found is not None
            number, _ = found
            await asyncio.sleep(0)  # the fetches already sent complete before the page is judged
            if number == last:
                break
            pipeline.consumed(number, bound=None, wanted=None, cap=10_000)
    finally:
        await pipeline.aclose()
    return fetched


@pytest.mark.parametrize("window", [1, 2, 4, 8])
@pytest.mark.parametrize("last", [2, 3, 12, 40])
def test_requests_past_the_end_stay_below_the_window(last: int, window: int) -> None:
    fetched = asyncio.run(_list_until(last, window))
    assert fetched[: last - 1] == list(range(2, last + 1))
    beyond = [number for number in fetched if number > last]
    # the page in hand counts until it is judged: at most window - 1 past the end
    assert len(beyond) <= window - 1, fetched
