"""Over real HTTP: next links to another origin, 429s served as text/plain, Retry-After and rate limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator

from .helpers import DEV_SPACE, MAIN_APP, listing


@pytest.mark.parametrize("concurrency", [1, 8])
def test_links_written_for_another_host_are_not_needed(concurrency: int) -> None:
    """The API writes its links with its external host name (``external_url``); reached by
    another name, pages are asked for by number on the configured origin, as the peer client
    ``cloudfoundry-client`` lists them all: nothing ever goes to the links' host."""
    sink = CloudFoundryEmulator(packages=20)
    emulator = CloudFoundryEmulator(packages=20)
    with serve(sink) as elsewhere, serve(emulator, external_url=elsewhere.url) as server:
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            page_size=3,
            concurrency=concurrency,
        )
    assert len({package.id for package in packages}) == len(packages) == 20
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
    """Another client has spent the window: the first page gets a 429 with Retry-After, waits and
    succeeds. Retrying without waiting would burn the only retry within milliseconds and fail."""
    emulator = CloudFoundryEmulator(packages=6, rate_limit=2, rate_window=1.0)
    with serve(emulator) as server:
        for _ in range(2):
            httpx.get(
                f"{server.url}/v3/apps/{MAIN_APP}/packages",
                headers={"Authorization": f"bearer {ACCESS_TOKEN}"},
            )
        started = time.monotonic()
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app=MAIN_APP,
            retries=1,
            max_retry_wait=5,
        )
    elapsed = time.monotonic() - started
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    assert emulator.rate_limited == 1
    assert elapsed >= 0.2, "the retry must wait for the window the 429 announced"


def test_cf_error_bodies_become_errors_with_title_and_detail() -> None:
    emulator = CloudFoundryEmulator(packages=3)
    with serve(emulator) as server:
        with pytest.raises(pkglist.NotFoundError) as missing:
            listing(
                "app-packages",
                base_url=server.url,
                token=ACCESS_TOKEN,
                app="0badc0de-0000-4000-8000-000000000000",
            )
        with pytest.raises(pkglist.BadRequestError) as bad:
            listing("packages", base_url=server.url, token=ACCESS_TOKEN, label_selector="env in ()")
    assert missing.value.detail == "CF-ResourceNotFound: App not found"
    assert str(missing.value) == (
        "cloudfoundry app-packages: HTTP 404 Not Found: CF-ResourceNotFound: App not found (page 1)"
    )
    assert bad.value.status == 400
    assert bad.value.detail == (
        "CF-BadQueryParameter: The query parameter is invalid: Label selector has an invalid format: 'env in ()'"
    )


class CountsInFlight(CloudFoundryEmulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(0.03)
            return super().handle(request)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.mark.parametrize("concurrency", [1, 4])
def test_pages_after_the_first_are_fetched_concurrently(concurrency: int) -> None:
    emulator = CountsInFlight(packages=30)
    with serve(emulator) as server:
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app="web",
            space_guid=DEV_SPACE,
            page_size=3,
            concurrency=concurrency,
        )
    assert [package.id for package in packages] == emulator.package_guids(MAIN_APP)
    if concurrency == 1:
        assert emulator.peak == 1
    else:
        assert 1 < emulator.peak <= concurrency


class _LookupFails:
    """The Cloud Foundry emulator whose app lookup (``GET /v3/apps``) answers 500."""

    def __init__(self, inner: CloudFoundryEmulator) -> None:
        self.inner = inner
        self.credentials = inner.credentials

    def handle(self, request: Request) -> Response:
        if request.path == "/v3/apps":
            return Response.json(
                {"errors": [{"title": "CF-ServerError", "detail": "boom", "code": 10001}]}, 500
            )
        return self.inner.handle(request)


def test_the_app_lookup_comes_before_the_listing_and_is_not_a_page() -> None:
    emulator = CloudFoundryEmulator(packages=6)
    with serve(emulator) as server:
        packages = listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app="web",
            space_guid=DEV_SPACE,
            max_pages=1,
        )
        lookups = [request for request in server.requests if request.path == "/v3/apps"]
    assert len(packages) == 6
    assert len(lookups) == 1


def test_a_failed_app_lookup_says_it_was_the_lookup() -> None:
    with (
        serve(_LookupFails(CloudFoundryEmulator(packages=6))) as server,
        pytest.raises(pkglist.ServerError) as caught,
    ):
        listing(
            "app-packages",
            base_url=server.url,
            token=ACCESS_TOKEN,
            app="web",
            space_guid=DEV_SPACE,
            retries=1,
        )
    message = str(caught.value)
    assert message.startswith(
        f"cloudfoundry app-packages: looking up app 'web' in space {DEV_SPACE}: HTTP 500"
    )
    assert "page" not in message
    assert "gave up after 2 attempts" in message
