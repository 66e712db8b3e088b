"""Over real HTTP: next links to another origin, 429s served as text/plain, Retry-After and rate limits."""

from __future__ import annotations

import time

import pytest

import pkglist
from pkglist.testing import serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator

from .helpers import MAIN_APP, listing


@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_next_link_to_another_origin_is_refused(concurrency: int) -> None:
    sink = CloudFoundryEmulator(packages=20)
    emulator = CloudFoundryEmulator(packages=20)
    with (
        serve(sink) as elsewhere,
        serve(emulator, external_url=elsewhere.url) as server,
        pytest.raises(pkglist.ProtocolError, match="another origin") as caught,
    ):
        listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=3,
            concurrency=concurrency,
        )
    assert len(server.requests) == 1  # page 1 only
    assert ACCESS_TOKEN not in str(caught.value)
    assert list(elsewhere.requests) == []  # nothing at all, let alone the token


def test_a_429_json_body_served_as_text_plain_is_read() -> None:
    emulator = CloudFoundryEmulator(packages=10, rate_limit=1, rate_window=3600)
    with serve(emulator) as server, pytest.raises(pkglist.RateLimitedError) as caught:
        listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=2,
            retries=0,
            max_retry_wait=0,
        )
    error = caught.value
    assert error.status == 429
    assert error.detail == "CF-RateLimitExceeded: Rate Limit Exceeded"
    assert "CF-RateLimitExceeded: Rate Limit Exceeded" in str(error)
    assert "\n" not in str(error)


def test_an_hour_long_retry_after_is_capped() -> None:
    emulator = CloudFoundryEmulator(packages=10, rate_limit=1, rate_window=3600)
    started = time.monotonic()
    with serve(emulator) as server, pytest.raises(pkglist.RateLimitedError, match="gave up after 3 attempts"):
        listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=2,
            concurrency=1,
            retries=2,
            max_retry_wait=0.2,
        )
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"waited {elapsed:.1f}s although max_retry_wait is 0.2s"
    assert emulator.rate_limited == 3


def test_the_listing_slows_to_the_rate_limit() -> None:
    emulator = CloudFoundryEmulator(packages=12, rate_limit=2, rate_window=1.0)
    started = time.monotonic()
    with serve(emulator) as server:
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=3,
            concurrency=8,
            max_retry_wait=5,
        )
    elapsed = time.monotonic() - started
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert elapsed >= 0.9, "4 pages at 2 requests per second cannot take less than a window"
    assert emulator.rate_limited <= 2, "pkglist should wait for the window instead of hammering"


def test_retry_after_of_a_429_is_honoured() -> None:
    """More pages in flight than the window allows: the extra ones get 429 with Retry-After, wait
    and succeed. Retrying without waiting would burn the 5 retries within milliseconds and fail."""
    emulator = CloudFoundryEmulator(packages=24, rate_limit=3, rate_window=1.0)
    started = time.monotonic()
    with serve(emulator) as server:
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=3,
            concurrency=8,
            retries=5,
            max_retry_wait=5,
        )
    elapsed = time.monotonic() - started
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert emulator.rate_limited > 0, "no 429 was sent; the test proves nothing"
    assert elapsed >= 1.9, "8 pages at 3 requests per second need three windows"
    assert emulator.rate_limited < 8, "a 429 must be followed by a wait, not by a burst of retries"
