"""A property of the engine: against a server that, page by page, caps the page size, answers
with another page, repeats a page or drops one, a strict listing ends with every package
exactly once in server order, or raises a one-line pkglist error. Never a quiet loss.

The server is a stub behind an in-process transport (``transport=``), so hypothesis can try
hundreds of schedules quickly; the same cases run over loopback in tests/reliability.
"""

from __future__ import annotations

import json
import threading
import warnings
from typing import Any

import attrs
import httpx
from hypothesis import HealthCheck, given, settings, strategies as st

import pkglist
from pkglist import items as fields

ACTIONS = ("ok", "cap", "other-page", "repeat", "drop")


@attrs.frozen(kw_only=True)
class ChaosQuery(pkglist.Query):
    pass


class ChaosProvider(pkglist.Provider):
    name = "chaos"
    listings = (
        pkglist.Listing(
            name="things",
            query=ChaosQuery,
            help="Things.",
            max_page_size=50,
            default_page_size=10,
            paging=pkglist.PageNumber(
                items="items", first=1, has_more="hasMore", total_items="total", reported_page="page"
            ),
        ),
    )

    def list_request(self, listing: pkglist.Listing, query: Any, base_url: str, page_size: int) -> Any:
        return listing.paging.first_request(base_url + "/things", [], page_size)

    def normalize(self, listing: pkglist.Listing, query: Any, raw: Any) -> pkglist.Package:
        item = fields.as_object(raw)
        return pkglist.Package(
            provider=self.name, listing=listing.name, id=fields.require_str(item, "id"), name="n"
        )


class ChaosPlugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [ChaosProvider()]


MANAGER = pkglist.PluginManager.for_testing(ChaosPlugin())


class ChaosServer:
    """Answers page requests; the n-th answer misbehaves as ``actions[n]`` says (then all ok)."""

    def __init__(self, count: int, actions: list[str]) -> None:
        self.items = [{"id": f"p{n}"} for n in range(count)]
        self.actions = actions
        self.answered = 0
        self.previous: bytes | None = None
        self.lock = threading.Lock()

    def body(self, page: int, size: int, served: int | None = None) -> bytes:
        chunk = self.items[(page - 1) * size : page * size]
        if served is not None:
            chunk = chunk[:served]
        more = page * size < len(self.items)
        return json.dumps({"items": chunk, "page": page, "hasMore": more, "total": len(self.items)}).encode()

    def handle(self, request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["page"]), int(request.url.params["size"])
        with self.lock:
            action = self.actions[self.answered] if self.answered < len(self.actions) else "ok"
            self.answered += 1
            previous = self.previous
        if action == "cap":
            content = self.body(page, size, served=max(0, size // 3))
        elif action == "other-page":
            content = self.body(max(1, page - 1) if page > 1 else page + 1, size)
        elif action == "repeat" and previous is not None:
            content = previous
        elif action == "drop":
            content = self.body(page + 1, size).replace(b'"page": %d' % (page + 1), b'"page": %d' % page)
        else:
            content = self.body(page, size)
        with self.lock:
            self.previous = content
        return httpx.Response(200, content=content, headers={"content-type": "application/json"})


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=60),
    page_size=st.integers(min_value=1, max_value=12),
    concurrency=st.sampled_from([1, 4]),
    actions=st.lists(st.sampled_from(ACTIONS), max_size=12),
)
def test_a_strict_listing_is_complete_or_fails_loudly(
    count: int, page_size: int, concurrency: int, actions: list[str]
) -> None:
    server = ChaosServer(count, actions)
    options: dict[str, Any] = {
        "base_url": "http://chaos.test",
        "transport": httpx.MockTransport(server.handle),
        "page_size": page_size,
        "concurrency": concurrency,
        "retries": 3,
        "retry_backoff": 0,
        "strict": True,
    }
    listed: list[str] = []
    failure: pkglist.PkglistError | None = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings become the StrictError this test expects
            for package in pkglist.iter_packages("chaos", "things", manager=MANAGER, **options):
                listed.append(package.id)
    except pkglist.PkglistError as exc:
        failure = exc
    if failure is None:
        assert listed == [item["id"] for item in server.items]
    else:
        assert "\n" not in str(failure)
        assert str(failure).startswith("chaos things: ")
        assert len(listed) == len(set(listed))  # even a failing listing never repeats a package
