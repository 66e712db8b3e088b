"""Exit 0 means complete: the two ways a listing used to lose packages silently, for every
listing, over loopback, through the Python API and the real CLI.

* A server that caps the page size (it serves at most 20 items a page, its envelope
  consistent with that) while pkglist asks for 100: the short page is not the end while
  ``hasMore``, the page count, the item count or a next link says more.
* A gateway that desynchronises a kept-alive connection (page 1's response is sent twice,
  so the next request on that connection gets the stale copy): every listing here says
  which page a response is, so the stale copy is asked for again, never merged.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest

import pkglist
from pkglist.testing import Request, serve
from tests.support.rawserver import serve_emulator_raw

from .hostile import Wrapper
from .providers import LISTINGS, Listing

COUNT = 95
CAP = 20
ASKED = 100


class Capped(Wrapper):
    """Serves listing pages of at most ``cap`` items, as a server with a lower page-size maximum."""

    def __init__(self, inner: Any, listing: Listing, cap: int) -> None:
        super().__init__(inner, listing)
        self.cap = cap

    def handle(self, request: Request) -> Any:
        if self.position(request) is not None:
            size = request.param(self.listing.size_param)
            if size is not None and int(size) > self.cap:
                query = {**request.query, self.listing.size_param: [str(self.cap)]}
                request = Request(
                    request.method, request.path, query, request.headers, request.body, request.base_url
                )
        return self.inner.handle(request)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_server_capping_the_page_size_loses_nothing(listing: Listing, concurrency: int) -> None:
    emulator = listing.make(COUNT)
    with serve(Capped(emulator, listing, CAP)) as server, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = listing.ids(server, emulator, page_size=ASKED, concurrency=concurrency)
    assert ids == listing.expected(emulator)
    assert len(set(ids)) == len(ids)
    shown = [
        str(warning.message) for warning in caught if issubclass(warning.category, pkglist.PkglistWarning)
    ]
    assert all("when 100 were asked; continuing" in message for message in shown), shown


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_server_capping_the_page_size_through_the_cli(listing: Listing) -> None:
    emulator = listing.make(COUNT)
    with serve(Capped(emulator, listing, CAP)) as server:
        result = listing.cli(server, emulator, "--page-size", str(ASKED), "-o", "jsonl", "--strict")
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == listing.expected(emulator)
    # Complete, yet the disagreement is named; --strict makes automation stop on it.
    assert result.returncode in (0, 1), result.stderr
    if result.returncode == 1:
        assert "server said" in result.stderr
        assert "--strict" in result.stderr


@pytest.mark.timeout(60)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_stale_response_on_a_desynchronised_connection_is_never_merged(
    listing: Listing, concurrency: int
) -> None:
    emulator = listing.make(60)

    def first_page(request: Request) -> bool:
        return listing.position(request, emulator) == 1

    with (
        serve_emulator_raw(emulator, answer_twice=first_page) as server,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        packages = listing.list(server, emulator, page_size=5, concurrency=concurrency, strict=True)
    assert [package.id for package in packages] == listing.expected(emulator)
    assert not [w for w in caught if issubclass(w.category, pkglist.ListingChangedWarning)]
