"""Faults survived: every listing of every bundled provider, over real loopback HTTP.

Seeded runs inject 5xx (20%), 429 with ``Retry-After`` (5%), connections
dropped before the response and mid-body (5%), truncated JSON (2%) and
responses slower than the timeout (2%); every listing still yields every
package exactly once, in server order, within the retry budget. When the
budget is spent, the error says so and names the page.
"""

from __future__ import annotations

import math
import random
import warnings
from collections import Counter
from typing import Any

import pytest

import pkglist
from pkglist.testing import Faults, serve

from .hostile import FaultsAfter
from .providers import LISTINGS, Listing, one_per_provider

SEEDS = range(8)
#: Data set size per seed: with pages of 5, from 5 to 12 pages (and exact multiples of the page size).
SIZES = (25, 31, 37, 43, 49, 55, 60, 28)
PAGE_SIZE = 5
RETRIES = 12
TIMEOUT = 0.5
SLOW_SECONDS = 0.8  # beyond TIMEOUT: a slow response is a timeout, retried

#: Faults injected over all the seeded runs, by kind (checked once every run is done).
MET: Counter[str] = Counter()
RUNS: list[str] = []


def mix(seed: int) -> Faults:
    return Faults(
        statuses={503: 0.0667, 502: 0.0667, 504: 0.0667, 429: 0.05},
        retry_after="0",
        drop_before=0.025,
        drop_mid_body=0.025,
        truncate=0.02,
        slow=0.02,
        slow_seconds=SLOW_SECONDS,
        seed=seed,
    )


def seed_with_faults(start: int, draws: int) -> int:
    """The first seed from ``start`` whose first ``draws`` fault decisions inject something.

    The server draws one number per request from ``random.Random(seed)``; a
    listing makes at least one request per page, so such a seed injects a
    fault in every run, whatever the order concurrent requests arrive in.
    """
    chance = sum(mix(0).statuses.values()) + 0.025 + 0.025 + 0.02 + 0.02
    seed = start
    while True:
        rolls = random.Random(seed)
        if any(rolls.random() < chance for _ in range(draws)):
            return seed
        seed += 1


@pytest.mark.timeout(90)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_every_package_once_and_in_order_despite_faults(listing: Listing, seed: int) -> None:
    size = SIZES[seed]
    concurrency = 1 if seed % 2 == 0 else 8
    emulator = listing.make(size)
    fault_seed = seed_with_faults(1000 * LISTINGS.index(listing) + 10 * seed, math.ceil(size / PAGE_SIZE))
    with serve(emulator, faults=mix(fault_seed)) as server:
        with warnings.catch_warnings():
            # Faults are not changes: a duplicate or a moved total would be a bug.
            warnings.simplefilter("error", pkglist.PkglistWarning)
            ids = listing.ids(
                server,
                emulator,
                page_size=PAGE_SIZE,
                concurrency=concurrency,
                retries=RETRIES,
                timeout=TIMEOUT,
            )
        injected = Counter(server.injected)
    assert ids == listing.expected(emulator)
    assert len(set(ids)) == len(ids) == size
    assert sum(injected.values()) > 0, "no fault was injected: this run proves nothing"
    per_page = Counter(listing.page_requests(server, emulator))
    assert max(per_page.values()) <= RETRIES + 1, f"a page took more than the retry budget: {per_page}"
    MET.update(injected)
    RUNS.append(f"{listing.key}#{seed}")


def test_the_seeded_runs_met_every_kind_of_fault() -> None:
    if len(RUNS) < len(LISTINGS) * len(SEEDS):
        pytest.skip("only meaningful after every seeded run (run the whole module)")
    assert set(MET) >= {"503", "502", "504", "429", "drop_before", "drop_mid_body", "truncate", "slow"}, MET


# The budget spent ------------------------------------------------------------------------------

BUDGET = [
    pytest.param(Faults(statuses={503: 1.0}), pkglist.ServerError, "HTTP 503", id="503"),
    pytest.param(Faults(statuses={429: 1.0}), pkglist.RateLimitedError, "HTTP 429", id="429"),
    pytest.param(Faults(drop_before=1.0), pkglist.NetworkError, "connection failed", id="dropped"),
    pytest.param(Faults(drop_mid_body=1.0), pkglist.NetworkError, "connection failed", id="dropped-mid-body"),
    pytest.param(Faults(truncate=1.0), pkglist.ProtocolError, "not JSON", id="truncated"),
]


def _assert_gave_up(caught: Any, error: type[Exception], message: str, page: int) -> None:
    assert type(caught.value) is error, repr(caught.value)
    text = str(caught.value)
    assert "\n" not in text
    assert message in text
    assert "gave up after 3 attempts" in text
    assert f"page {page}" in text
    assert caught.value.page == page


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("faults", "error", "message"), BUDGET)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_spent_budget_names_the_page_and_the_attempts(
    listing: Listing, faults: Faults, error: type[Exception], message: str
) -> None:
    """Pages 1 and 2 are fine, then every request fails: page 3 is tried 3 times (retries=2)."""
    emulator = listing.make(30)
    wrapper = FaultsAfter(emulator, listing, position=2, faults=faults)
    with serve(wrapper) as server:
        wrapper.server = server
        with pytest.raises(pkglist.PkglistError) as caught:
            listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1, retries=2)
    _assert_gave_up(caught, error, message, page=3)
    assert listing.page_requests(server, emulator) == [1, 2, 3, 3, 3]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_spent_budget_on_the_first_page_at_concurrency_8(listing: Listing) -> None:
    emulator = listing.make(30)
    faults = Faults(statuses={503: 1.0})
    with serve(emulator, faults=faults) as server, pytest.raises(pkglist.PkglistError) as caught:
        listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=8, retries=2)
    _assert_gave_up(caught, pkglist.ServerError, "HTTP 503", page=1)
    assert listing.page_requests(server, emulator) == [1, 1, 1]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_a_server_that_stays_too_slow_is_a_network_error_after_the_budget(listing: Listing) -> None:
    emulator = listing.make(30)
    wrapper = FaultsAfter(emulator, listing, position=2, faults=Faults(slow=1.0, slow_seconds=1.0))
    with serve(wrapper) as server:
        wrapper.server = server
        with pytest.raises(pkglist.PkglistError) as caught:
            listing.list(server, emulator, page_size=PAGE_SIZE, concurrency=1, retries=2, timeout=0.3)
    _assert_gave_up(caught, pkglist.NetworkError, "timed out", page=3)
    requests = listing.page_requests(server, emulator)
    # (pages 1 and 2 are fast; on a machine loaded enough to time them out too, they were retried)
    assert requests.count(3) == 3
    assert requests[-3:] == [3, 3, 3]
