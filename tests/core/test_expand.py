"""Pages that expand into sub-listings (``Page.expand``), over real loopback HTTP.

A small "shelves" API: ``/shelves?n=N&last=S`` lists shelves (OCI-style ``Link`` header),
``/shelves/<s>/books?n=N&last=B`` a shelf's books (the same paging), and ``HEAD
/shelves/<s>/books/<b>`` a book's ISBN in a header. The ``books`` listing expands each
shelf page into its shelves' book listings, and with ``isbn`` each book page into one
``HEAD`` per book: two levels of expansion.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any

import attrs
import httpx
import pytest

import pkglist
from pkglist.testing import Faults, Request, Response, serve

_PAGING = pkglist.LinkHeader(items="items", size_param="n")


@attrs.frozen(kw_only=True)
class BooksQuery(pkglist.Query):
    isbn: bool = pkglist.option(default=False, help="HEAD each book for its ISBN.")


class ShelfProvider(pkglist.Provider):
    name = "shelf"
    listings = (pkglist.Listing("books", BooksQuery, _PAGING, help="Every book.", max_page_size=50),)

    def list_request(self, listing: pkglist.Listing, query: Any, base_url: str, page_size: int) -> Any:
        return _PAGING.first_request(pkglist.join_url(base_url, "/shelves"), [], page_size)

    def paginate(self, listing: pkglist.Listing, query: Any, request: Any, response: Any) -> pkglist.Page:
        if request.method == "HEAD":
            book = request.url.path.rsplit("/", 1)[1]
            return pkglist.Page(items=[{"book": book, "isbn": response.headers["x-isbn"]}])
        page = _PAGING.paginate(request, response)
        if request.url.path == "/shelves":
            size = request.url.params["n"]
            subs = [
                _PAGING.first_request(str(request.url.join(f"/shelves/{shelf}/books")), [], int(size))
                for shelf in page.items
            ]
            return attrs.evolve(page, expand=subs)
        if query.isbn:
            heads = [httpx.Request("HEAD", request.url.join(f"{request.url.path}/{b}")) for b in page.items]
            return attrs.evolve(page, expand=heads)
        return attrs.evolve(page, items=[{"book": book} for book in page.items])

    def normalize(self, listing: pkglist.Listing, query: Any, raw: Any) -> pkglist.Package:
        return pkglist.Package(
            provider=self.name, listing=listing.name, id=raw["book"], name=raw["book"], extra=raw
        )


class ShelfPlugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [ShelfProvider()]


MANAGER = pkglist.PluginManager.for_testing(ShelfPlugin())


class ShelfEmulator:
    credentials: dict[str, str] = {}  # noqa: RUF012

    def __init__(self, shelves: dict[str, int], missing: str | None = None) -> None:
        self.shelves = {
            shelf: [f"{shelf}-b{n:02d}" for n in range(count)] for shelf, count in shelves.items()
        }
        self.missing = missing  # a shelf listed in the catalog whose books answer 404
        self.looping: str | None = None  # a shelf whose book pages link back to the first
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def books(self) -> list[str]:
        return [book for books in self.shelves.values() for book in books]

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return self._route(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _route(self, request: Request) -> Response:
        parts = [urllib.parse.unquote(part) for part in request.path.strip("/").split("/")]
        if parts == ["shelves"]:
            return _linked(request, list(self.shelves))
        if len(parts) == 3 and parts[0] == "shelves" and parts[2] == "books":
            if parts[1] not in self.shelves or parts[1] == self.missing:
                return Response.json({"error": {"message": f"shelf {parts[1]} not found"}}, status=404)
            if parts[1] == self.looping:
                link = f'<{request.path}?n=1>; rel="next"'
                return Response.json({"items": self.shelves[parts[1]][:1]}, headers={"Link": link})
            return _linked(request, self.shelves[parts[1]])
        if len(parts) == 4 and request.method == "HEAD":
            return Response(200, b"", (("X-ISBN", f"isbn-{parts[3]}"),))
        return Response.json({"error": {"message": "no such route"}}, status=404)


def _linked(request: Request, names: list[str]) -> Response:
    size = int(request.param("n", "10") or 10)
    after = request.param("last")
    start = 0 if after is None else names.index(after) + 1
    chunk = names[start : start + size]
    headers = {}
    if start + size < len(names):
        headers["Link"] = f'<{request.path}?n={size}&last={chunk[-1]}>; rel="next"'
    return Response.json({"items": chunk}, headers=headers)


def books(server: Any, **options: Any) -> list[pkglist.Package]:
    options = {"base_url": server.url, "page_size": 2, "retry_backoff": 0.001, **options}
    return list(pkglist.iter_packages("shelf", "books", manager=MANAGER, **options))


SHELVES = {"a": 3, "b": 0, "c": 5, "d": 1, "e": 2}


@pytest.mark.parametrize("concurrency", [1, 2, 8])
def test_sub_listings_replace_the_page_in_order(concurrency: int) -> None:
    emulator = ShelfEmulator(SHELVES)
    with serve(emulator) as server:
        listed = books(server, concurrency=concurrency)
    assert [package.id for package in listed] == emulator.books()
    assert emulator.most_in_flight <= concurrency


def test_expansions_nest_and_keep_order() -> None:
    emulator = ShelfEmulator(SHELVES)
    with serve(emulator) as server:
        listed = books(server, isbn=True, concurrency=4)
    assert [package.id for package in listed] == emulator.books()
    assert all(package.extra["isbn"] == f"isbn-{package.id}" for package in listed)
    assert emulator.most_in_flight <= 4


def test_pages_whose_sub_listings_are_empty_are_not_the_end() -> None:
    # Three pages of empty shelves in a row would look like the end (an empty page) or a loop
    # (pages without a new package) if the expanded items were taken for the page's own.
    emulator = ShelfEmulator({"a": 0, "b": 0, "c": 0, "d": 0, "e": 0, "f": 0, "g": 0, "h": 2})
    with serve(emulator) as server:
        listed = books(server, isbn=True)
    assert [package.id for package in listed] == ["h-b00", "h-b01"]


def test_a_limit_stops_at_the_right_package() -> None:
    emulator = ShelfEmulator(SHELVES)
    with serve(emulator) as server:
        listed = books(server, limit=4)
    assert [package.id for package in listed] == emulator.books()[:4]


def test_expansions_survive_faults() -> None:
    emulator = ShelfEmulator({f"s{n}": n % 4 for n in range(12)})
    with serve(emulator) as server:
        server.set_faults(Faults(statuses={503: 0.15}, drop_before=0.05, seed=7))
        listed = books(server, isbn=True, retries=12)
        assert sum(server.injected.values()) > 0
    assert [package.id for package in listed] == emulator.books()


def test_a_failing_sub_request_fails_the_listing_with_its_error() -> None:
    emulator = ShelfEmulator(SHELVES, missing="c")
    with serve(emulator) as server, pytest.raises(pkglist.NotFoundError) as caught:
        books(server)
    assert "shelf c not found" in str(caught.value)


def test_a_sub_listing_whose_links_loop_is_stopped() -> None:
    emulator = ShelfEmulator(SHELVES)
    emulator.looping = "c"
    with serve(emulator) as server, pytest.raises(pkglist.ProtocolError, match="repeats an earlier page"):
        books(server)
