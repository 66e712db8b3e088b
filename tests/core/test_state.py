"""The listing state without sockets: signals reconciled, guards, de-duplication, limit, totals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import pkglist
from pkglist._state import ListingState

NEXT = httpx.Request("GET", "http://api.test/x?page=9")


def page(count: int, **signals: Any) -> pkglist.Page:
    return pkglist.Page(items=[{"id": f"i{n}"} for n in range(count)], next=NEXT, **signals)


def state(**options: Any) -> ListingState:
    return ListingState(where="p l", limit=options.pop("limit", None), max_pages=options.pop("max_pages", 50))


def feed(listing: ListingState, current: pkglist.Page, position: int = 1, new: int | None = None) -> bool:
    listing.page_started(current, position)
    return listing.page_done(current, position, len(current.items) if new is None else new)


def messages(listing: ListingState) -> list[str]:
    return [message for _, message in listing.notes]


@pytest.mark.parametrize(
    ("signals", "count", "goes_on"),
    [
        ({}, 20, True),  # no signal: the provider's next request decides
        ({"page_size": 20}, 20, True),  # a full page, nothing else known
        ({"page_size": 20}, 19, False),  # a short page with no other signal ends
        ({"page_size": 20}, 0, False),
        ({"has_more": True, "page_size": 100}, 20, True),  # a capped page size: keep going
        ({"has_more": False, "page_size": 100}, 100, False),
        ({"has_more": True, "page_size": 100}, 0, False),  # empty ends, with a warning
        ({"number": 1, "last_number": 5, "page_size": 100}, 20, True),
        ({"number": 5, "last_number": 5, "page_size": 100}, 100, False),
        ({"total_items": 95, "page_size": 100}, 20, True),
        ({"total_items": 20, "page_size": 100}, 20, False),
        ({"linked": True, "page_size": 100}, 20, True),
        ({"linked": False, "page_size": 100}, 100, False),
        ({"linked": True}, 0, False),
    ],
)
def test_the_listing_goes_on_while_any_signal_says_more(
    signals: dict[str, Any], count: int, goes_on: bool
) -> None:
    assert feed(state(), page(count, **signals)) is goes_on


def test_a_short_page_with_a_trusted_more_signal_is_named_once() -> None:
    listing = state()
    for position in (1, 2, 3):
        assert feed(listing, page(20, has_more=True, page_size=100), position)
    assert messages(listing) == [
        "p l: server said hasMore=true on a page of 20 items when 100 were asked; continuing"
    ]


def test_signals_that_disagree_are_named() -> None:
    listing = state()
    assert feed(listing, page(100, has_more=False, number=1, last_number=3, page_size=100))
    assert messages(listing) == [
        "p l: at page 1 the server said the last page is 3 but also hasMore=false; continuing"
    ]


def test_an_empty_page_after_a_promise_of_more_ends_with_a_warning() -> None:
    listing = state()
    assert not feed(listing, page(0, has_more=True, page_size=100))
    assert messages(listing) == ["p l: page 1 is empty although the server said hasMore=true; stopping"]


def test_upper_bound_totals_keep_a_listing_going_but_stay_quiet() -> None:
    listing = state()
    assert feed(listing, page(20, number=0, last_number=4, total_items=95, page_size=100, exact_totals=False))
    assert not feed(
        listing, page(0, number=1, last_number=4, total_items=95, page_size=100, exact_totals=False), 2
    )
    listing.finish()
    assert messages(listing) == []


def test_the_total_is_checked_at_the_end() -> None:
    listing = state()
    feed(listing, page(5, total_items=7, page_size=5))
    listing.admit(pkglist.Package(provider="p", listing="l", id=f"i{n}", name="n") for n in range(5))
    feed(listing, page(0, total_items=7, page_size=5), 2)
    listing.finish()
    assert messages(listing)[-1] == "p l: listed 5 package(s) but the server announced 7"


def test_a_listing_that_changed_explains_a_total_that_differs() -> None:
    listing = state()
    feed(listing, page(5, total_items=7, page_size=5))
    assert not feed(listing, page(3, total_items=8, page_size=5), 2)
    listing.finish()
    assert messages(listing) == ["p l: the listing changed while it ran (total went from 7 to 8 at page 2)"]


def test_duplicates_are_dropped_within_the_window_and_reported() -> None:
    listing = ListingState(where="p l", limit=None, max_pages=10, window=3)
    packages = [pkglist.Package(provider="p", listing="l", id=key, name="n") for key in "abcab"]
    assert [p.id for p in listing.admit(packages)] == ["a", "b", "c"]
    assert [p.id for p in listing.admit(packages[:1])] == []  # "a" is still in the window
    listing.admit(pkglist.Package(provider="p", listing="l", id=key, name="n") for key in "def")
    assert [p.id for p in listing.admit(packages[:1])] == ["a"]  # forgotten: the window is 3
    listing.finish()
    assert messages(listing) == ["p l: dropped 3 duplicate package(s); the listing changed while it ran"]


def test_the_limit_cuts_a_batch_and_ends_the_listing() -> None:
    listing = state(limit=3)
    admitted = listing.admit(
        pkglist.Package(provider="p", listing="l", id=str(n), name="n") for n in range(5)
    )
    assert len(admitted) == 3
    assert listing.done
    assert not listing.follows(page(5, has_more=True), 1)


def test_loop_guards() -> None:
    listing = state(max_pages=2)
    listing.check_position(2)
    with pytest.raises(pkglist.ProtocolError, match="stopped after 2 pages"):
        listing.check_position(3)
    listing.check_link("http://api.test/x?c=1", 1)
    with pytest.raises(pkglist.ProtocolError, match="the link to page 2 repeats an earlier page"):
        listing.check_link("http://api.test/x?c=1", 2)
    repeating = state()
    same = [pkglist.Package(provider="p", listing="l", id=f"i{n}", name="n") for n in range(5)]
    feed(repeating, page(5), 1, new=len(repeating.admit(same)))
    for position in (2, 3):
        repeating.page_started(page(5), position)
        new = len(repeating.admit(same))
        assert new == 0
        repeating.page_done(page(5), position, new)
    repeating.page_started(page(5), 4)
    new = len(repeating.admit(same))
    with pytest.raises(pkglist.ProtocolError, match="pages 2-4 only repeat packages already listed"):
        repeating.page_done(page(5), 4, new)
    skipping = state()  # pages whose items were all skipped as invalid repeat nothing
    for position in range(1, 6):
        feed(skipping, page(5), position, new=0)
