"""Hostile or broken servers: pagination that loops or never ends, links and redirects to
another origin. Every case stops with a one-line :class:`pkglist.ProtocolError`
after a bounded number of requests (asserted), never loops, never hangs.

Which case applies to which listing follows from its paging style:

* A next link exists only in Cloud Foundry (``pagination.next.href``): Harness
  (v3 ``hasMore``, v1 ``pageCount``) and Metabind (``pages``) address pages by
  number and send no link, so a repeating link or a link to another origin
  cannot happen there. At concurrency 1 pkglist follows CF's link; above 1 it
  fetches pages by number, so a repeating link is harmless there (asserted),
  while a link to another origin is refused either way.
* A cursor exists only in Metabind's newer generation (``lastKey``).
* "The same page forever" applies to all six (``hasMore`` always true, a page
  count that is never reached, a next link always present), and so do a total
  that keeps growing while items keep coming (the page cap stops it; Harness v3
  has no total, only ``hasMore`` forever), a page count that is too high (must
  stop on the short or empty page; Harness v3 has none) and a redirect to
  another origin.
"""

from __future__ import annotations

import json
import re
import warnings
from typing import Any

import attrs
import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_metabind import MetabindEmulator

from .hostile import Bystander, Moved, Redirect, Rewrite, Stuck, dig, growing_totals, put
from .providers import CF_APP_PACKAGES, CF_PACKAGES, LISTINGS, METABIND_PACKAGES, Listing

PAGE_SIZE = 5
CF_LISTINGS = (CF_APP_PACKAGES, CF_PACKAGES)
COUNTED = tuple(listing for listing in LISTINGS if listing.page_count is not None)
BIG = 2000  # a data set that does not end within any page cap used here


def _one_line(caught: Any, listing: Listing, *fragments: str) -> str:
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"{listing.provider} {listing.name}: "), text
    for fragment in fragments:
        assert fragment in text, text
    return text


# A next link that repeats (Cloud Foundry) --------------------------------------------------------


def _link_to(listing: Listing, page: int) -> Any:
    """Every page's next link points at page ``page`` (an absolute link like CF's own)."""

    def change(body: Any, position: int) -> Any:
        href = dig(body, "pagination.first.href")
        put(body, "pagination.next", {"href": href.replace("page=1&", f"page={page}&")})
        return body

    return change


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("target", "requests"), [(1, [1]), (2, [1, 2]), (3, [1, 3])])
@pytest.mark.parametrize("listing", CF_LISTINGS, ids=str)
def test_a_next_link_that_repeats_stops_the_listing(
    listing: Listing, target: int, requests: list[int]
) -> None:
    emulator = listing.make(30)
    wrapper = Rewrite(emulator, listing, _link_to(listing, target))
    with serve(wrapper) as server, pytest.raises(pkglist.ProtocolError) as caught:
        listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1)
    _one_line(caught, listing, "repeats an earlier page", "loops")
    assert listing.page_requests(server, emulator) == requests


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", CF_LISTINGS, ids=str)
def test_a_repeating_next_link_is_not_followed_when_pages_are_fetched_by_number(listing: Listing) -> None:
    emulator = listing.make(30)
    with serve(Rewrite(emulator, listing, _link_to(listing, 2))) as server:
        ids = listing.ids(server, emulator, page_size=PAGE_SIZE, concurrency=8)
    assert ids == listing.expected(emulator)
    # The last page still has a next link, which says there is more: pkglist looks (and warns).
    requests = sorted(listing.page_requests(server, emulator))
    assert requests[:6] == [1, 2, 3, 4, 5, 6]
    assert len(requests) <= 6 + 8


# A cursor that never changes (Metabind's lastKey generation) --------------------------------------


class _CursorServer:
    """Metabind in the cursor generation whose ``lastKey`` misbehaves as ``mode`` says."""

    def __init__(self, mode: str) -> None:
        self.inner = MetabindEmulator(packages=BIG, seed=7, paging="cursor")
        self.credentials = self.inner.credentials
        self.mode = mode
        self.keys: list[str] = []
        self.answered = 0

    def handle(self, request: Request) -> Response:
        self.answered += 1
        if self.mode == "ignored" and request.param("lastKey") is not None:
            # The server ignores the cursor: always the first page, with a fresh key.
            request = attrs.evolve(request, query={"limit": request.params("limit")})
        response = self.inner.handle(request)
        body = json.loads(response.body)
        key = body["pagination"]["lastKey"]
        self.keys.append(key)
        if self.mode == "constant":
            body["pagination"]["lastKey"] = self.keys[0]
        elif self.mode == "alternating":
            body["pagination"]["lastKey"] = self.keys[(self.answered - 1) % 2] if self.answered > 2 else key
        elif self.mode == "ignored":
            body["pagination"]["lastKey"] = f"{key}-{self.answered}"
        return Response.json(body, response.status, dict(response.headers))


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("mode", "fragment", "requests"),
    [
        ("constant", "repeats an earlier page", 2),
        ("alternating", "repeats an earlier page", 3),
        ("ignored", "only repeat packages already listed", 4),
    ],
)
def test_a_cursor_that_never_moves_on_stops_the_listing(mode: str, fragment: str, requests: int) -> None:
    server_side = _CursorServer(mode)
    with serve(server_side) as server, pytest.raises(pkglist.ProtocolError) as caught:
        METABIND_PACKAGES.list(server, server_side.inner, page_size=PAGE_SIZE)
    _one_line(caught, METABIND_PACKAGES, fragment)
    assert len(server.requests) == requests


@pytest.mark.timeout(30)
def test_a_cursor_that_never_ends_stops_at_the_page_cap() -> None:
    emulator = MetabindEmulator(packages=BIG, seed=7, paging="cursor")
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError) as caught:
        METABIND_PACKAGES.list(server, emulator, page_size=PAGE_SIZE, max_pages=6)
    _one_line(caught, METABIND_PACKAGES, "stopped after 6 pages", "--max-pages / max_pages")
    assert len(server.requests) == 6


# The same page forever ---------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_the_same_page_forever_stops_the_listing(listing: Listing, concurrency: int) -> None:
    """``hasMore`` always true (Harness v3), a page count never reached (v1, Metabind),
    a next link always there (Cloud Foundry), and every page is the first one again: each
    of these APIs says which page a response is, so page 2 is asked for again, then given up."""
    emulator = listing.make(BIG)
    with serve(Stuck(emulator, listing)) as server, pytest.raises(pkglist.ProtocolError) as caught:
        listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency, retries=2)
    second = listing.first + 1
    _one_line(
        caught,
        listing,
        "page 2: gave up after 3 attempts",
        f"asked for {listing.page_param}={second}, the response is {listing.page_param}={listing.first}",
    )
    requests = listing.page_requests(server, emulator)
    assert sorted(requests)[:4] == [1, 2, 2, 2]
    # Pipelined, a window is in flight and at most another one waits, fetched ahead.
    assert len(requests) <= 4 + (2 * concurrency if concurrency > 1 else 0)


# A total that keeps growing, and the page cap ------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_listing_that_keeps_growing_stops_at_the_page_cap(listing: Listing, concurrency: int) -> None:
    """Every page announces one more page (and more items) and new items keep coming
    (Harness v3 says ``hasMore`` forever): ``max_pages`` ends it, saying how to raise it."""
    emulator = listing.make(BIG)
    wrapper = Rewrite(emulator, listing, growing_totals(listing, PAGE_SIZE))
    with serve(wrapper) as server, warnings.catch_warnings(record=True) as caught_warnings:
        warnings.simplefilter("always")
        with pytest.raises(pkglist.ProtocolError) as caught:
            listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency, max_pages=6)
    where = f"{listing.provider} {listing.name}"
    assert str(caught.value) == (
        f"{where}: stopped after 6 pages without reaching the end (raise the cap with --max-pages / max_pages)"
    )
    requests = listing.page_requests(server, emulator)
    assert sorted(requests)[:6] == [1, 2, 3, 4, 5, 6]
    # Sequentially nothing past the cap is asked for; pipelined, at most the page after it.
    assert len(requests) == 6 if concurrency == 1 else len(requests) <= 7
    if listing.item_count is not None:
        messages = [str(w.message) for w in caught_warnings]
        assert any(
            "the listing changed while it ran (total went from 10 to 15 at page 2)" in m for m in messages
        )


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_the_page_cap_can_be_raised(listing: Listing, concurrency: int) -> None:
    emulator = listing.make(40)  # 14 pages of 3
    with serve(emulator) as server:
        with pytest.raises(
            pkglist.ProtocolError, match=re.escape("raise the cap with --max-pages / max_pages")
        ):
            listing.list(server, emulator, page_size=3, concurrency=concurrency, max_pages=10)
        # 14 pages, and room for one more: after a count that is only an upper bound (Harness
        # space-artifacts counts versions), the empty page after the short one ends the listing.
        ids = listing.ids(server, emulator, page_size=3, concurrency=concurrency, max_pages=15)
    assert ids == listing.expected(emulator)


# A page count that is too high -------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("size", "pages"), [(33, 7), (30, 6)])
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", COUNTED, ids=str)
def test_a_page_count_that_is_too_high_ends_on_the_short_or_empty_page(
    listing: Listing, concurrency: int, size: int, pages: int
) -> None:
    """``pageCount`` (Harness v1), ``total_pages`` (CF) and ``pages`` (Metabind) claim a
    million pages; the data runs out: the listing ends at the first empty page (a short page
    is not the end while a count says more), without asking much further."""
    assert listing.page_count is not None

    def inflate(body: Any, position: int) -> Any:
        put(body, listing.page_count, 1_000_000)
        return body

    emulator = listing.make(size)
    with serve(Rewrite(emulator, listing, inflate)) as server:
        ids = listing.ids(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency)
    assert ids == listing.expected(emulator)
    requests = listing.page_requests(server, emulator)
    # The end is the short page, else the empty page after the last full one (CF: the null
    # next link). Metabind believes its page count over a short page: the empty one ends it.
    # The page count says more, so the short page is not the end: the empty page after it is.
    needed = pages + 1
    assert sorted(requests)[:needed] == list(range(1, needed + 1))
    assert len(requests) <= needed + (concurrency if concurrency > 1 else 0)


# Links and redirects to another origin -------------------------------------------------------------


def _elsewhere(kind: str, href: str, main: str, other: str) -> str:
    path = href.split("/", 3)[3]
    port = other.rsplit(":", 1)[1]
    main_port = main.rsplit(":", 1)[1]
    return {
        "other-port": f"{other}/{path}",
        "scheme-relative": f"//127.0.0.1:{port}/{path}",
        "userinfo-trick": f"http://127.0.0.1:{main_port}@127.0.0.1:{port}/{path}",
        "https-same-host": f"https://127.0.0.1:{main_port}/{path}",
        "localhost-alias": f"http://localhost:{main_port}/{path}",  # the same server, another origin
    }[kind]


ELSEWHERE = ["other-port", "scheme-relative", "userinfo-trick", "https-same-host", "localhost-alias"]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("kind", ELSEWHERE)
@pytest.mark.parametrize("listing", CF_LISTINGS, ids=str)
def test_a_next_link_to_another_origin_is_not_needed_and_no_credential_leaves(
    listing: Listing, kind: str, concurrency: int
) -> None:
    """Cloud Foundry writes absolute links with its external host name; a user who reaches the
    same API by another name still lists everything: pages are asked for by number on the
    configured origin, and nothing is ever sent to the link's origin."""
    emulator = listing.make(30)
    token = emulator.credentials["token"]
    with serve(Bystander()) as other:
        addresses: dict[str, str] = {}

        def elsewhere(body: Any, position: int) -> Any:
            if dig(body, "pagination.next") is not None:
                href = dig(body, "pagination.next.href")
                put(body, "pagination.next.href", _elsewhere(kind, href, addresses["main"], other.url))
            return body

        with serve(Rewrite(emulator, listing, elsewhere)) as server:
            addresses["main"] = server.url
            ids = listing.ids(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency)
    assert ids == listing.expected(emulator)
    for seen in other.requests:  # the design sends nothing; if it ever did, never the credential
        assert all(token not in value for value in seen.headers.values())
    assert list(other.requests) == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_redirect_to_another_origin_is_not_followed(listing: Listing, status: int) -> None:
    emulator = listing.make(30)
    secret = next(iter(emulator.credentials.values()))
    with serve(Bystander()) as other:
        location = f"{other.url}{listing.route(emulator)}?page=2"
        wrapper = Redirect(emulator, listing, location, positions={2}, status=status)
        with serve(wrapper) as server, pytest.raises(pkglist.ProtocolError) as caught:
            listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1)
    _one_line(caught, listing, f"HTTP {status} redirect to {other.url}", "refused", "page 2")
    assert secret not in str(caught.value)
    assert listing.page_requests(server, emulator) == [1, 2]
    assert list(other.requests) == []


@pytest.mark.timeout(30)
def test_a_redirect_from_http_to_https_suggests_the_https_base_url() -> None:
    listing = LISTINGS[0]
    emulator = listing.make(30)
    wrapper = Redirect(emulator, listing, "", positions={1}, status=301)
    with serve(wrapper) as server:
        https_base = server.url.replace("http://", "https://", 1)
        wrapper.location = https_base + listing.route(emulator)
        with pytest.raises(pkglist.ProtocolError) as caught:
            listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1)
    _one_line(caught, listing, "HTTP 301 redirect to https://", f"use --base-url {https_base}")


@pytest.mark.timeout(30)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_redirect_within_the_origin_is_followed_with_the_credential(listing: Listing, status: int) -> None:
    emulator = listing.make(30)
    secret = next(iter(emulator.credentials.values()))
    wrapper = Moved(emulator, listing, positions={1, 2}, status=status)
    with serve(wrapper) as server:
        packages = listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1)
    assert len({package.id for package in packages}) == len(packages) == 30
    moved = [seen for seen in server.requests if seen.path.startswith(Moved.PREFIX)]
    assert len(moved) == 2
    assert all(any(secret in value for value in seen.headers.values()) for seen in moved)


# A next link that is not a URL ----------------------------------------------------------------------

MALFORMED = [
    pytest.param("http://127.0.0.1:99999/v3/packages?page=2", id="port-out-of-range"),
    pytest.param("http://127.0.0.1:abc/v3/packages?page=2", id="port-not-a-number"),
    pytest.param("http://[::1/v3/packages", id="broken-ipv6"),
    pytest.param("/v3/packages?page=2\r\nX-Injected: yes", id="crlf-in-link"),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("href", MALFORMED)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_a_next_link_that_is_not_a_url_is_a_protocol_error(concurrency: int, href: str) -> None:
    listing = CF_PACKAGES
    emulator = listing.make(30)
    with (
        serve(
            Rewrite(emulator, listing, lambda body, position: put(body, "pagination.next.href", href))
        ) as server,
        pytest.raises(pkglist.ProtocolError) as caught,
    ):
        listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency)
    _one_line(caught, listing, "page 1")
    assert listing.page_requests(server, emulator) == [1]
