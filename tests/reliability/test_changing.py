"""Data changing while a listing runs: packages published at the head of a newest-first
listing, and packages deleted, for every bundled provider.

How the change is made: the provider emulators generate package ``i`` from
``(seed, i)`` and number packages in creation order, so an emulator with
``n + k`` packages is the one with ``n`` plus ``k`` newer ones, and with
``n - d`` the one whose ``d`` newest were deleted. :class:`~.hostile.Switch`
answers from the first until page ``p`` has been served, then from the
second; listed newest first (Harness sorted by modification time descending,
Cloud Foundry ``order_by=-created_at``, Metabind's only order), the change is
at the head of the listing. Neither the Harness nor the Cloud Foundry
emulator can add packages to a running instance; Metabind's can
(``publish_after``), and that switch is used too.

What is guaranteed with numbered pages (every provider here pages by
position):

* Insertion at the head shifts every later page: items repeat, the engine
  drops them (no duplicate in the output), and every package that existed
  for the whole listing is present. Packages published meanwhile may or may
  not be. A ``ListingChangedWarning`` says the listing changed.
* Deletion at the head shifts later pages the other way: the ``d`` packages
  that move from page ``p + 1`` onto page ``p`` after page ``p`` was read
  are skipped, though they existed for the whole listing. No client of a
  position-paged API can avoid that; what it can do is say so, and the
  listings that report a total do (the total moved). Nothing is duplicated.
* Deletion at the tail (the newest end of an oldest-first listing) loses
  nothing that still exists.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import pkglist
from pkglist.testing import serve
from pkglist_metabind import MetabindEmulator

from .hostile import Switch
from .providers import LISTINGS, METABIND_PACKAGES, Listing, one_per_provider

PAGE_SIZE = 5
SIZE = 33


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


@contextmanager
def _recorded() -> Iterator[list[str]]:
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield messages
    messages.extend(str(w.message) for w in caught if issubclass(w.category, pkglist.ListingChangedWarning))


def _check_changed_warning(listing: Listing, messages: list[str], *, duplicates: int) -> None:
    where = f"{listing.provider} {listing.name}"
    if duplicates:
        assert (
            f"{where}: dropped {duplicates} duplicate package(s); the listing changed while it ran"
            in messages
        ), messages
    if listing.item_count is not None:
        assert any(
            message.startswith(f"{where}: the listing changed while it ran (total went from")
            for message in messages
        ), messages
    assert messages, "no warning that the listing changed"


# Insertion at the head ---------------------------------------------------------------------------

INSERTIONS = [
    pytest.param(2, 1, 1, id="2-new-after-page-1-c1"),
    pytest.param(2, 1, 8, id="2-new-after-page-1-c8"),
    pytest.param(7, 1, 1, id="7-new-after-page-1-c1"),
    pytest.param(7, 1, 8, id="7-new-after-page-1-c8"),
    pytest.param(3, 2, 1, id="3-new-after-page-2-c1"),
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("new", "after_pages", "concurrency"), INSERTIONS)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_packages_published_at_the_head_are_never_duplicated(
    listing: Listing, new: int, after_pages: int, concurrency: int
) -> None:
    before_emulator, after_emulator = listing.make(SIZE), listing.make(SIZE + new)
    before = listing.newest_expected(before_emulator)
    after = listing.newest_expected(after_emulator)
    assert after[new:] == before, "the bigger data set is not the smaller one plus newer packages"
    switch = Switch(before_emulator, after_emulator, listing, after_pages=after_pages)
    with serve(switch) as server, _recorded() as messages:
        ids = [
            package.id
            for package in listing.list(
                server,
                before_emulator,
                newest=True,
                page_size=PAGE_SIZE,
                concurrency=concurrency,
                **_with_a_total(listing),
            )
        ]
    served = after_pages * PAGE_SIZE
    seen = before[:served] + after[served:]
    assert ids == _dedupe(seen)
    assert len(ids) == len(set(ids)), "a package was listed twice"
    assert set(before) <= set(ids), "a package that existed for the whole listing is missing"
    _check_changed_warning(listing, messages, duplicates=len(seen) - len(ids))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
def test_metabinds_own_publish_switch(concurrency: int) -> None:
    emulator = MetabindEmulator(packages=SIZE, seed=7, publish_after=1, publish_count=4)
    before = emulator.package_ids()
    with serve(emulator) as server, _recorded() as messages:
        ids = METABIND_PACKAGES.ids(server, emulator, page_size=PAGE_SIZE, concurrency=concurrency)
    after = emulator.package_ids()
    assert len(after) == SIZE + 4
    assert ids == before  # 4 new at the head: page 2 onward repeats 4 already listed, dropped
    _check_changed_warning(METABIND_PACKAGES, messages, duplicates=4)


# Deletion --------------------------------------------------------------------------------------


def _deletion_cases() -> list[Any]:
    cases = []
    for listing in LISTINGS:
        for deleted in (2, PAGE_SIZE):
            for concurrency in (1, 8):
                cases.append(
                    pytest.param(listing, deleted, concurrency, id=f"{listing}-{deleted}-c{concurrency}")
                )
    return cases


def _with_a_total(listing: Listing) -> dict[str, Any]:
    """Harness v3 pages announce no total unless asked for the meta counts (--include-meta)."""
    return {"include_meta": True} if listing.item_count is None else {}


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("listing", "deleted", "concurrency"), _deletion_cases())
def test_packages_deleted_at_the_head_are_never_duplicated_and_the_change_is_reported(
    listing: Listing, deleted: int, concurrency: int
) -> None:
    before_emulator, after_emulator = listing.make(SIZE), listing.make(SIZE - deleted)
    before = listing.newest_expected(before_emulator)
    assert listing.newest_expected(after_emulator) == before[deleted:]
    switch = Switch(before_emulator, after_emulator, listing, after_pages=1)
    with serve(switch) as server, _recorded() as messages:
        ids = [
            package.id
            for package in listing.list(
                server,
                before_emulator,
                newest=True,
                page_size=PAGE_SIZE,
                concurrency=concurrency,
                **_with_a_total(listing),
            )
        ]
    assert len(ids) == len(set(ids)), "a package was listed twice"
    assert set(ids) <= set(before)
    # Page 1 came from before the deletion, the rest after: the packages that moved up onto
    # page 1 are skipped. That is what position paging gives; it must not go unreported.
    assert ids == before[:PAGE_SIZE] + before[PAGE_SIZE + deleted :]
    _check_changed_warning(listing, messages, duplicates=0)


@pytest.mark.timeout(30)
def test_harness_v3_without_meta_counts_has_nothing_to_notice_a_deletion_by() -> None:
    """The documented limit: v3 pages carry only hasMore; without --include-meta a deletion at the
    head shifts the pages unnoticed (the README says to ask for the meta counts)."""
    listing = next(item for item in LISTINGS if item.item_count is None)
    before_emulator, after_emulator = listing.make(SIZE), listing.make(SIZE - 2)
    before = listing.newest_expected(before_emulator)
    with (
        serve(Switch(before_emulator, after_emulator, listing, after_pages=1)) as server,
        _recorded() as messages,
    ):
        ids = listing.ids(server, before_emulator, newest=True, page_size=PAGE_SIZE, concurrency=1)
    assert ids == before[:PAGE_SIZE] + before[PAGE_SIZE + 2 :]
    assert messages == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", [item for item in LISTINGS if item.provider != "metabind"], ids=str)
def test_packages_deleted_at_the_tail_lose_nothing_that_still_exists(
    listing: Listing, concurrency: int
) -> None:
    """Oldest first (the default order of Harness and Cloud Foundry), the newest packages are deleted."""
    deleted = 4
    before_emulator, after_emulator = listing.make(SIZE), listing.make(SIZE - deleted)
    before = listing.expected(before_emulator)
    assert listing.expected(after_emulator) == before[:-deleted]
    switch = Switch(before_emulator, after_emulator, listing, after_pages=1)
    with serve(switch) as server, _recorded() as messages:
        ids = listing.ids(server, before_emulator, page_size=PAGE_SIZE, concurrency=concurrency)
    assert ids == before[:-deleted]
    if listing.item_count is not None:
        _check_changed_warning(listing, messages, duplicates=0)
    else:
        assert messages == []  # v3 has no total and nothing repeated: there is nothing to notice


# Through the real CLI ------------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_the_cli_warns_on_stderr_when_the_listing_changed(listing: Listing) -> None:
    before_emulator, after_emulator = listing.make(SIZE), listing.make(SIZE + 3)
    before = listing.newest_expected(before_emulator)
    switch = Switch(before_emulator, after_emulator, listing, after_pages=1)
    with serve(switch) as server:
        done = listing.cli(
            server,
            before_emulator,
            "-o",
            "jsonl",
            "--page-size",
            str(PAGE_SIZE),
            "--concurrency",
            "1",
            newest=True,
        )
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in done.stdout.splitlines()]
    assert ids == before
    where = f"{listing.provider} {listing.name}"
    lines = done.stderr.splitlines()
    assert (
        f"pkglist: warning: {where}: dropped 3 duplicate package(s); the listing changed while it ran"
        in lines
    )
    assert all(line.startswith("pkglist: warning: ") for line in lines), done.stderr
    assert "Traceback" not in done.stderr
