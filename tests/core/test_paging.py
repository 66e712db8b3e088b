"""The paging strategies and the engine without sockets: the toy emulator behind an in-process
transport (``transport=`` and ``pkglist.testing.emulator_transport``). The same cases run over
real loopback HTTP in test_engine.py and the contract suites; these are the fast, exhaustive ones."""

from __future__ import annotations

import math
from typing import Any

import attrs
import httpx
import pytest

import pkglist
from pkglist._state import ListingState
from pkglist.testing import emulator_transport

from .toy import TOY_KEY, ToyEmulator, ToyProvider, manager

MANAGER = manager()
BASE = "http://emulator.test"
STYLES = ["numbered", "hasmore", "linked", "cursor", "headers", "link-pages", "link-last"]


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on to ``inner`` and remembers their URLs."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        return await self.inner.handle_async_request(request)


def listed(style: str, emulator: ToyEmulator, **options: Any) -> tuple[list[str], Recorder]:
    transport = Recorder(emulator_transport(emulator, BASE))
    options = {"base_url": BASE, "api_key": TOY_KEY, "team": "core", "transport": transport, **options}
    ids = [package.id for package in pkglist.iter_packages("toy", style, manager=MANAGER, **options)]
    return ids, transport


@pytest.mark.parametrize("concurrency", [1, 3, 8])
@pytest.mark.parametrize("page_size", [1, 5, 7, 50])
@pytest.mark.parametrize("count", [0, 1, 5, 23, 35])
@pytest.mark.parametrize("style", STYLES)
def test_every_strategy_lists_everything_once_in_order(
    style: str, count: int, page_size: int, concurrency: int
) -> None:
    emulator = ToyEmulator(packages=count)
    ids, _ = listed(style, emulator, page_size=page_size, concurrency=concurrency)
    assert ids == [item["id"] for item in emulator.items]


@pytest.mark.parametrize("count", [0, 1, 20, 21, 99])
def test_a_known_total_means_no_request_past_the_last_page(count: int) -> None:
    ids, transport = listed("numbered", ToyEmulator(packages=count), page_size=10, concurrency=8)
    assert len(ids) == count
    assert len(transport.urls) == max(1, math.ceil(count / 10))
    assert [url.params["page"] for url in transport.urls] == [
        str(n) for n in range(1, len(transport.urls) + 1)
    ]


@pytest.mark.parametrize("style", STYLES)
def test_limit_stops_early_and_shrinks_the_page(style: str) -> None:
    ids, transport = listed(style, ToyEmulator(packages=100), page_size=10, limit=15, concurrency=1)
    assert len(ids) == 15
    assert len(transport.urls) == 2


def test_query_options_reach_the_request() -> None:
    emulator = ToyEmulator(packages=30)
    ids, transport = listed("cursor", emulator, page_size=4, kind=["lib"], search="pkg-1")
    assert ids == [i["id"] for i in emulator.items if i["kind"] == "lib" and "pkg-1" in i["name"]]
    assert all(
        url.params.get_list("kind") == ["lib"] and url.params["q"] == "pkg-1" for url in transport.urls
    )
    assert "cursor" not in transport.urls[0].params


def test_a_transport_that_is_not_one_is_a_usage_error() -> None:
    with pytest.raises(pkglist.UsageError, match=r"transport must be an httpx\.AsyncBaseTransport"):
        pkglist.iter_packages(
            "toy", "numbered", manager=MANAGER, team="core", api_key=TOY_KEY, transport=object()
        )


# The strategies alone -------------------------------------------------------------------------


def page_of(style: str, body: Any, url: str = f"{BASE}/v1/teams/core/x?page=1&per_page=5") -> pkglist.Page:
    listing = ToyProvider().listing(style)
    return listing.paging.paginate(httpx.Request("GET", url), httpx.Response(200, json=body))


def items(n: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(n)]


def goes_on(page: pkglist.Page) -> bool:
    state = ListingState(where="toy", limit=None, max_pages=100)
    state.page_started(page, 1)
    return state.page_done(page, 1, len(page.items))


def test_page_number_reads_the_announced_last_page() -> None:
    last = page_of("numbered", {"items": items(5), "pages": 1, "total": 5})
    assert (last.number, last.last_number, last.total_items, last.page_size) == (1, 1, 5, 5)
    assert not goes_on(last)
    middle = page_of("numbered", {"items": items(5), "pages": 3, "total": 15})
    assert goes_on(middle)
    assert middle.next is not None
    assert middle.next.url.params["page"] == "2"
    assert middle.addressable
    assert middle.request_for is not None
    assert middle.request_for(3).url.params["page"] == "3"


@pytest.mark.parametrize(
    ("body", "more"),
    [
        ({"items": items(5), "hasMore": True}, True),
        ({"items": items(5), "hasMore": False}, False),
        ({"items": [], "hasMore": True}, False),
        ({"items": items(5)}, True),
        ({"items": items(3)}, False),
        ({"items": items(3), "hasMore": True}, True),
    ],
)
def test_page_number_reads_the_has_more_flag(body: Any, more: bool) -> None:
    page = page_of("hasmore", body, f"{BASE}/v1/teams/core/hasmore?page=0&size=5")
    assert page.has_more is body.get("hasMore")
    assert goes_on(page) is more


def test_page_number_rejects_a_has_more_that_is_not_a_boolean() -> None:
    with pytest.raises(pkglist.ProtocolError, match="expected a boolean at 'hasMore'"):
        page_of("hasmore", {"items": items(5), "hasMore": "yes"}, f"{BASE}/x?page=0&size=5")


def test_next_link_resolves_relative_links_and_stops_on_null() -> None:
    page = page_of("linked", {"items": items(2), "links": {"next": "/v1/teams/core/linked?after=9"}})
    assert page.next is not None
    assert str(page.next.url) == f"{BASE}/v1/teams/core/linked?after=9"
    assert page.linked
    assert goes_on(page)
    assert not goes_on(page_of("linked", {"items": items(2), "links": {"next": None}}))


def test_cursor_passes_the_token_back_and_stops_without_one() -> None:
    page = page_of("cursor", {"items": items(2), "cursor": "abc"}, f"{BASE}/x?size=2")
    assert page.next is not None
    assert page.next.url.params["cursor"] == "abc"
    assert page.next.url.params["size"] == "2"
    assert goes_on(page)
    assert not goes_on(page_of("cursor", {"items": items(2)}))


@pytest.mark.parametrize(
    ("paging", "body", "url"),
    [
        (
            pkglist.PageNumber(items="items", reported_page="page"),
            {"items": [], "page": 0},
            "/x?page=2&size=5",
        ),
        (
            pkglist.PageNumber(items="data", reported_page="pagination.page", first=1),
            {"data": [], "pagination": {"page": "1"}},
            "/x?page=3&size=5",
        ),
        (
            pkglist.PageNumber(
                items="r",
                first=1,
                next_link="p.next.href",
                previous_link="p.previous.href",
                size_param="per_page",
            ),
            {"r": [], "p": {"next": {"href": "/x?page=2&per_page=5"}, "previous": None}},
            "/x?page=3&per_page=5",
        ),
        (
            pkglist.PageNumber(
                items="r",
                first=1,
                next_link="p.next.href",
                previous_link="p.previous.href",
                size_param="per_page",
            ),
            {"r": [], "p": {"next": None, "previous": {"href": "/x?page=4&per_page=5"}}},
            "/x?page=3&per_page=5",
        ),
    ],
    ids=["field", "nested-text", "first-page", "from-previous-link"],
)
def test_a_response_for_another_page_is_a_wrong_page(paging: pkglist.PageNumber, body: Any, url: str) -> None:
    with pytest.raises(pkglist.WrongPageError, match="the response is page="):
        paging.paginate(httpx.Request("GET", BASE + url), httpx.Response(200, json=body))


def test_a_response_that_says_it_is_the_page_asked_for_is_fine() -> None:
    paging = pkglist.PageNumber(
        items="r", first=1, next_link="p.next.href", previous_link="p.previous.href", size_param="per_page"
    )
    body = {"r": items(5), "p": {"next": {"href": "/x?page=4&per_page=5"}, "previous": {"href": "/x?page=2"}}}
    assert (
        paging.paginate(
            httpx.Request("GET", BASE + "/x?page=3&per_page=5"), httpx.Response(200, json=body)
        ).number
        == 3
    )
    last = {"r": items(1), "p": {"next": None, "previous": {"href": "/x?page=2&per_page=5"}}}
    assert (
        paging.paginate(
            httpx.Request("GET", BASE + "/x?page=3&per_page=5"), httpx.Response(200, json=last)
        ).number
        == 3
    )


# Headers: GitLab's totals, RFC 8288 links --------------------------------------------------------


@pytest.mark.parametrize("style", ["headers", "link-pages"])
def test_header_totals_and_last_links_make_pages_addressable(style: str) -> None:
    emulator = ToyEmulator(packages=95)
    ids, transport = listed(style, emulator, page_size=10, concurrency=8)
    assert ids == [item["id"] for item in emulator.items]
    assert sorted(int(url.params.get("page", "1")) for url in transport.urls) == list(range(1, 11))


def test_a_link_header_with_a_cursor_is_followed_one_page_at_a_time() -> None:
    emulator = ToyEmulator(packages=23)
    ids, transport = listed("link-last", emulator, page_size=5, concurrency=8)
    assert ids == [item["id"] for item in emulator.items]
    assert [url.params.get("last") for url in transport.urls] == [
        None,
        *(ids[n - 1] for n in (5, 10, 15, 20)),
    ]


def test_link_header_pages_read_next_and_last() -> None:
    paging = pkglist.LinkHeader(size_param="per_page", page_param="page", first=1)
    response = httpx.Response(
        200,
        json=[{"id": 1}],
        headers={
            "Link": '</x?per_page=1&page=3>; rel="next", <https://api.test/x?per_page=1&page=9>; rel="last"'
        },
    )
    page = paging.paginate(httpx.Request("GET", "https://api.test/x?per_page=1&page=2"), response)
    assert page.items == [{"id": 1}]
    assert page.next is not None
    assert str(page.next.url) == "https://api.test/x?per_page=1&page=3"
    assert (page.number, page.last_number, page.linked) == (2, 9, True)
    last = paging.paginate(httpx.Request("GET", "https://api.test/x?page=9"), httpx.Response(200, json=[]))
    assert last.next is None
    assert last.linked is False


def test_header_counts_must_be_numbers() -> None:
    paging = pkglist.PageNumber(items=pkglist.ROOT, total_pages_header="X-Total-Pages")
    response = httpx.Response(200, json=[], headers={"X-Total-Pages": "many"})
    with pytest.raises(
        pkglist.ProtocolError, match="expected a non-negative integer in header X-Total-Pages"
    ):
        paging.paginate(httpx.Request("GET", "https://api.test/x?page=0&size=5"), response)


def test_a_normalizer_can_make_a_relative_path_absolute_on_the_listings_origin() -> None:
    """GitLab's ``web_path`` is relative; ``pkglist.items.absolute_url`` joins it to the base URL."""
    from pkglist import items as fields

    class PathProvider(ToyProvider):
        name = "paths"

        def normalize(self, listing: pkglist.Listing, query: Any, raw: Any) -> pkglist.Package:
            package = super().normalize(listing, query, raw)
            return attrs.evolve(package, url=fields.absolute_url(f"/{query.team}/{package.name}"))

    class Plugin:
        @pkglist.hookimpl
        def pkglist_providers(self) -> list[pkglist.Provider]:
            return [PathProvider()]

    emulator = ToyEmulator(packages=3)
    packages = list(
        pkglist.iter_packages(
            "paths",
            "numbered",
            manager=pkglist.PluginManager.for_testing(Plugin()),
            base_url="http://emulator.test",
            api_key=TOY_KEY,
            team="core",
            transport=emulator_transport(emulator),
        )
    )
    assert [package.url for package in packages] == [
        f"http://emulator.test/core/{item['name']}" for item in emulator.items
    ]
