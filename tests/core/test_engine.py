"""The engine over real loopback HTTP: concurrency, speculation, limits, guards, retries."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from typing import Any

import pytest

import pkglist
from pkglist.testing import Faults, Request, Response, serve

from .toy import TOY_KEY, ToyEmulator, manager

MANAGER = manager()


def listing(style: str, server: Any, **options: Any) -> list[pkglist.Package]:
    options = {"base_url": server.url, "api_key": TOY_KEY, "team": "core", "retry_backoff": 0.001, **options}
    return list(pkglist.iter_packages("toy", style, manager=MANAGER, **options))


def page_requests(server: Any) -> list[Request]:
    return [request for request in server.requests if "/teams/" in request.path]


def test_pages_are_fetched_concurrently_and_yielded_in_order() -> None:
    emulator = ToyEmulator(packages=60)
    with serve(emulator, latency=0.03) as server:
        packages = listing("numbered", server, page_size=5, concurrency=8)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items]
    assert server.max_in_flight > 1


def test_concurrency_one_fetches_one_page_at_a_time() -> None:
    emulator = ToyEmulator(packages=30)
    with serve(emulator, latency=0.01) as server:
        packages = listing("numbered", server, page_size=5, concurrency=1)
    assert len(packages) == 30
    assert server.max_in_flight == 1


@pytest.mark.parametrize("count", [19, 20, 21, 57])
def test_speculative_paging_stays_within_the_window(count: int) -> None:
    emulator = ToyEmulator(packages=count)
    with serve(emulator, latency=0.01) as server:
        packages = listing("hasmore", server, page_size=5, concurrency=4)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items]
    needed = count // 5 + 1  # the page that says "no more" (short, or empty after a full one)
    if count % 5 == 0:
        needed -= 1  # a full last page already says hasMore=false
    beyond = len(page_requests(server)) - needed
    assert 0 <= beyond <= 4 - 1


def test_limit_shrinks_the_page_and_stops_early() -> None:
    emulator = ToyEmulator(packages=100)
    with serve(emulator) as server:
        packages = listing("numbered", server, limit=7)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items[:7]]
    requests = page_requests(server)
    assert len(requests) == 1
    assert requests[0].query["per_page"] == ["7"]


def test_limit_with_small_pages_fetches_only_the_pages_needed() -> None:
    emulator = ToyEmulator(packages=100)
    with serve(emulator) as server:
        packages = listing("hasmore", server, limit=7, page_size=3, concurrency=8)
    assert len(packages) == 7
    assert len(page_requests(server)) == math.ceil(7 / 3)


def test_leaving_the_loop_cancels_what_is_in_flight() -> None:
    emulator = ToyEmulator(packages=400)
    with serve(emulator, latency=0.05) as server:
        iterator = pkglist.iter_packages(
            "toy",
            "hasmore",
            manager=MANAGER,
            base_url=server.url,
            api_key=TOY_KEY,
            team="core",
            page_size=5,
            concurrency=4,
        )
        first = next(iterator)
        iterator.close()  # type: ignore[attr-defined]
        time.sleep(0.2)
        seen = len(page_requests(server))
    assert first.id == emulator.items[0]["id"]
    assert seen <= 1 + 4


def test_async_api_matches_sync_and_works_inside_a_running_loop() -> None:
    emulator = ToyEmulator(packages=23)
    with serve(emulator) as server:
        options = {"base_url": server.url, "api_key": TOY_KEY, "team": "core", "page_size": 4}

        async def both() -> tuple[list[str], list[str]]:
            async_ids = [
                p.id async for p in pkglist.aiter_packages("toy", "cursor", manager=MANAGER, **options)
            ]
            # a sync call from inside a running loop (a notebook) runs the engine on a worker thread
            sync_ids = [p.id for p in pkglist.iter_packages("toy", "cursor", manager=MANAGER, **options)]
            return async_ids, sync_ids

        async_ids, sync_ids = asyncio.run(both())
    assert async_ids == sync_ids == [item["id"] for item in emulator.items]


# Pages bigger than a batch --------------------------------------------------------------


@pytest.fixture
def batches_of_four(monkeypatch: pytest.MonkeyPatch) -> None:
    from pkglist import _engine

    monkeypatch.setattr(_engine, "BATCH_SIZE", 4)


def batch_sizes(server: Any, **options: Any) -> list[list[str]]:
    from pkglist import _api

    values = {"base_url": server.url, "api_key": TOY_KEY, "team": "core", "concurrency": 1, **options}
    prepared = _api.prepare("toy", "numbered", values, manager=MANAGER)

    async def collect() -> list[list[str]]:
        return [[package.id for package in batch] async for batch in _api._batches(prepared)]

    return asyncio.run(collect())


@pytest.mark.usefixtures("batches_of_four")
def test_a_page_is_handed_on_in_slices_in_order() -> None:
    emulator = ToyEmulator(packages=23)
    with serve(emulator) as server:
        batches = batch_sizes(server, page_size=10)
    assert [len(batch) for batch in batches] == [4, 4, 2, 4, 4, 2, 3]
    assert [id_ for batch in batches for id_ in batch] == [item["id"] for item in emulator.items]


@pytest.mark.usefixtures("batches_of_four")
def test_limit_stops_inside_a_slice() -> None:
    emulator = ToyEmulator(packages=40)
    with serve(emulator) as server:
        batches = batch_sizes(server, page_size=10, limit=13)
    assert [len(batch) for batch in batches] == [4, 4, 2, 3]
    assert len(page_requests(server)) == 2


@pytest.mark.usefixtures("batches_of_four")
def test_an_invalid_item_in_a_later_slice_is_named_by_its_place_in_the_page() -> None:
    emulator = ToyEmulator(packages=30)
    emulator.bad_item = (16, {"id": "x", "name": 42.5})
    with serve(emulator) as server, pytest.raises(pkglist.InvalidItemError, match="page 2, item 7:"):
        listing("numbered", server, page_size=10, concurrency=1)


@pytest.mark.usefixtures("batches_of_four")
def test_pages_that_only_repeat_are_caught_across_slices() -> None:
    emulator = ToyEmulator(packages=30)
    emulator.repeat_page = True
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="only repeat packages"):
        listing("hasmore", server, page_size=10, concurrency=1)
    assert len(page_requests(server)) == 1 + 3


# Loop guards ---------------------------------------------------------------------------


def test_a_next_link_that_repeats_is_a_protocol_error() -> None:
    emulator = ToyEmulator(packages=30)
    emulator.loop_link = True
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="repeats an earlier page"):
        listing("linked", server, page_size=5)


def test_a_cursor_that_never_changes_is_a_protocol_error() -> None:
    emulator = ToyEmulator(packages=30)
    emulator.stuck_cursor = True
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="loops"):
        listing("cursor", server, page_size=5)


@pytest.mark.parametrize("concurrency", [1, 8])
def test_has_more_forever_with_the_same_page_is_a_protocol_error(concurrency: int) -> None:
    emulator = ToyEmulator(packages=30)
    emulator.repeat_page = True
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="only repeat packages"):
        listing("hasmore", server, page_size=5, concurrency=concurrency)
    assert len(page_requests(server)) < 20


def test_the_page_cap_stops_a_listing_and_says_how_to_raise_it() -> None:
    emulator = ToyEmulator(packages=40)
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="--max-pages"):
        listing("numbered", server, page_size=3, max_pages=4)


def test_a_growing_total_ends_with_the_data_and_is_reported() -> None:
    emulator = ToyEmulator(packages=20)
    emulator.grow_total = True
    with serve(emulator) as server, pytest.warns(pkglist.ListingChangedWarning, match="total went from"):
        packages = listing("numbered", server, page_size=5, concurrency=1)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items]


def test_a_next_link_to_another_origin_is_refused_and_gets_no_credential() -> None:
    bystander = ToyEmulator(packages=5)
    emulator = ToyEmulator(packages=30)
    with serve(bystander) as other, serve(emulator) as server:
        emulator.other_origin = other.url
        with pytest.raises(pkglist.ProtocolError, match="another origin") as caught:
            listing("linked", server, page_size=5)
    assert not other.requests
    assert "--rebase-links" in str(caught.value)


def test_rebase_links_follows_them_on_the_configured_origin() -> None:
    bystander = ToyEmulator(packages=5)
    emulator = ToyEmulator(packages=30)
    with serve(bystander) as other, serve(emulator) as server:
        emulator.other_origin = other.url
        packages = listing("linked", server, page_size=5, rebase_links=True)
    assert [p.id for p in packages] == [item["id"] for item in emulator.items]
    assert not other.requests
    assert len(page_requests(server)) == 6


# Changing data -------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 8])
def test_packages_published_mid_listing_are_not_listed_twice(concurrency: int) -> None:
    emulator = ToyEmulator(packages=30)
    original = [item["id"] for item in emulator.items]
    emulator.publish_after_first = 4
    with serve(emulator) as server, pytest.warns(pkglist.ListingChangedWarning) as caught:
        packages = listing("numbered", server, page_size=5, concurrency=concurrency)
    ids = [p.id for p in packages]
    assert len(ids) == len(set(ids))
    assert ids == original  # shifted pages repeat old items; the new ones sort before page 1
    messages = " ".join(str(w.message) for w in caught)
    assert "duplicate" in messages
    assert "total went from 30 to 34" in messages


# Bad items and bodies ----------------------------------------------------------------------


def test_an_invalid_item_fails_the_listing_naming_page_and_item() -> None:
    emulator = ToyEmulator(packages=12)
    emulator.bad_item = (6, {"id": "x", "name": 42.5})
    with serve(emulator) as server, pytest.raises(pkglist.InvalidItemError) as caught:
        listing("numbered", server, page_size=5, concurrency=1)
    assert "page 2, item 2" in str(caught.value)
    assert "'name' must be a string" in str(caught.value)


def test_skip_invalid_reports_and_skips_the_item() -> None:
    emulator = ToyEmulator(packages=12)
    emulator.bad_item = (3, ["not", "an", "object"])
    with serve(emulator) as server, pytest.warns(pkglist.InvalidItemWarning, match="item 4"):
        packages = listing("numbered", server, page_size=5, skip_invalid=True)
    assert len(packages) == 11


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html><title>Login</title></html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"total": 3}', "no 'items' list"),
        (b'{"items": {"a": 1}}', "expected a list at 'items'"),
        (b'{"items": [], "pages": "many"}', "non-negative integer at 'pages'"),
    ],
)
def test_unusable_bodies_are_one_line_protocol_errors(body: bytes, message: str) -> None:
    emulator = ToyEmulator(packages=3)
    emulator.body_override = body
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match=message) as caught:
        listing("numbered", server, retries=1)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("toy numbered: page 1")


# Retries and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("faults", "error", "message"),
    [
        (Faults(statuses={503: 1.0}), pkglist.ServerError, "HTTP 503"),
        (Faults(statuses={429: 1.0}), pkglist.RateLimitedError, "HTTP 429"),
        (Faults(drop_before=1.0), pkglist.NetworkError, "connection failed"),
        (Faults(truncate=1.0), pkglist.ProtocolError, "not JSON"),
    ],
)
def test_when_the_retry_budget_is_spent_the_error_says_so_and_names_the_page(
    faults: Faults, error: type[Exception], message: str
) -> None:
    with serve(ToyEmulator(packages=3), faults=faults) as server, pytest.raises(error) as caught:
        listing("numbered", server, retries=2)
    text = str(caught.value)
    assert message in text
    assert "page 1" in text
    assert "gave up after 3 attempts" in text
    assert len(page_requests(server)) == 3


def test_retry_after_is_honoured_but_capped() -> None:
    faults = Faults(statuses={429: 0.5}, retry_after="3600", seed=3)
    with serve(ToyEmulator(packages=20), faults=faults) as server:
        started = time.monotonic()
        packages = listing("numbered", server, page_size=5, retries=20, max_retry_wait=0.02)
    assert len(packages) == 20
    assert server.injected["429"] > 0
    assert time.monotonic() - started < 60  # an uncapped wait would be an hour


def test_slow_responses_time_out_and_are_retried() -> None:
    faults = Faults(slow=0.4, slow_seconds=1.0, seed=1)
    with serve(ToyEmulator(packages=20), faults=faults) as server:
        packages = listing("numbered", server, page_size=5, timeout=0.2, retries=10)
    assert len(packages) == 20
    assert server.injected["slow"] > 0


def test_http_errors_map_to_classes_with_the_providers_message() -> None:
    with serve(ToyEmulator(packages=3)) as server:
        with pytest.raises(
            pkglist.AuthError, match=r"toy numbered: HTTP 401 Unauthorized: bad key \(page 1\)"
        ):
            listing("numbered", server, api_key="nope")
        with pytest.raises(pkglist.NotFoundError, match="team nobody not found") as caught:
            listing("numbered", server, team="nobody")
    assert caught.value.status == 404
    assert caught.value.provider == "toy"


class RateLimited:
    """Wraps the toy emulator with a CF-style rate limit (X-RateLimit-* headers, 429 when exceeded)."""

    def __init__(self, inner: ToyEmulator, limit: int, window: float) -> None:
        self.inner = inner
        self.credentials = inner.credentials
        self.limit = limit
        self.window = window
        self.lock = threading.Lock()
        self.window_start = time.time()
        self.used = 0
        self.rejected = 0

    def handle(self, request: Request) -> Response:
        with self.lock:
            now = time.time()
            if now - self.window_start >= self.window:
                self.window_start, self.used = now, 0
            self.used += 1
            remaining = self.limit - self.used
            reset = self.window_start + self.window
            if remaining < 0:
                self.rejected += 1
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(remaining, 0)),
            "X-RateLimit-Reset": f"{reset:.3f}",
        }
        if remaining < 0:
            return Response.json(
                {"error": {"message": "Rate Limit Exceeded"}}, 429, {**headers, "Retry-After": "1"}
            )
        answer = self.inner.handle(request)
        return Response(answer.status, answer.body, (*answer.headers, *headers.items()))


def test_the_rate_gate_slows_down_to_the_limit_instead_of_hammering() -> None:
    emulator = RateLimited(ToyEmulator(packages=60), limit=6, window=0.5)
    with serve(emulator) as server:
        packages = listing("numbered", server, page_size=5, concurrency=8)
    assert len(packages) == 60
    assert emulator.rejected == 0


def test_many_skipped_items_are_summed_up_after_the_first_few() -> None:
    """Each skipped item's message is unique and Python's warning registry keeps every one:
    past the first few they are counted, and one warning at the end says how many."""
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"items": [["bad"]] * 50, "total": 500, "pages": 10, "page": page})

    with pytest.warns(pkglist.InvalidItemWarning) as caught:
        packages = list(
            pkglist.iter_packages(
                "toy",
                "numbered",
                manager=MANAGER,
                base_url="http://toy.test",
                api_key=TOY_KEY,
                team="core",
                page_size=50,
                skip_invalid=True,
                transport=httpx.MockTransport(handler),
            )
        )
    assert packages == []
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 6
    assert messages[-1] == "toy numbered: 495 more invalid item(s) skipped (500 in all)"


def test_rebase_links_keeps_to_the_listings_path() -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"items": [{"id": "a", "name": "a"}], "links": {"next": "http://other.test/admin/secrets"}},
        )

    with pytest.raises(pkglist.ProtocolError, match="is not under the listing's '/v1/teams/core/linked'"):
        list(
            pkglist.iter_packages(
                "toy",
                "linked",
                manager=MANAGER,
                base_url="http://toy.test",
                api_key=TOY_KEY,
                team="core",
                rebase_links=True,
                transport=httpx.MockTransport(handler),
            )
        )
