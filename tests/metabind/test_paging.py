"""Paging over real HTTP: numbered pages fetched concurrently once page 1 tells how many,
the cursor variant, and packages published while a listing runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from collections.abc import Mapping
from typing import Any

import pytest

import pkglist
from pkglist.testing import Request, Response, serve
from pkglist_metabind import MetabindEmulator

from .helpers import ROUTE, list_packages


def _dedupe(ids: list[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _page_numbers(server: Any) -> list[int]:
    return sorted(int(request.query["page"][0]) for request in server.requests if "page" in request.query)


def test_pages_after_the_first_are_fetched_concurrently_and_not_beyond_the_last() -> None:
    emulator = MetabindEmulator(packages=60)
    with serve(emulator, latency=0.15) as server:
        packages = list_packages(server, emulator, page_size=10, concurrency=8)
    assert [package.id for package in packages] == emulator.package_ids()
    assert _page_numbers(server) == [1, 2, 3, 4, 5, 6]  # pages=6 is believed: no speculative page 7
    assert server.max_in_flight > 1, "pages 2-6 were not fetched concurrently"


def test_page_size_defaults_to_the_maximum_limit() -> None:
    emulator = MetabindEmulator(packages=250)
    with serve(emulator) as server:
        packages = list_packages(server, emulator)
    assert len(packages) == 250
    assert {request.query["limit"][0] for request in server.requests} == {"100"}
    assert _page_numbers(server) == [1, 2, 3]


def test_cursor_variant_follows_last_key_without_page_numbers() -> None:
    emulator = MetabindEmulator(packages=7, paging="cursor")
    with serve(emulator) as server:
        packages = list_packages(server, emulator, page_size=3)
    assert [package.id for package in packages] == emulator.package_ids()
    queries = [dict(request.query) for request in server.requests]
    assert queries[0] == {"page": ["1"], "limit": ["3"]}
    assert all(set(query) == {"limit", "lastKey"} for query in queries[1:])
    assert len(queries) == 3  # 3 + 3 + 1: the short page carries no lastKey


class _Unnumbered:
    """A server whose pagination omits ``pages`` (and ``total`` unless ``with_total``),
    and which applies at most ``cap`` items per page whatever the ``limit`` asked for."""

    def __init__(self, total: int, with_total: bool = False, cap: int = 100) -> None:
        self.credentials: Mapping[str, str] = {"api_key": "k"}
        self.total = total
        self.with_total = with_total
        self.cap = cap

    def handle(self, request: Request) -> Response:
        page, limit = int(request.param("page") or 1), min(self.cap, int(request.param("limit") or 20))
        ids = range((page - 1) * limit, min(page * limit, self.total))
        pagination = {"page": page, "limit": limit, **({"total": self.total} if self.with_total else {})}
        return Response.json({"data": [{"id": f"p{n}"} for n in ids], "pagination": pagination})


@pytest.mark.parametrize(("total", "concurrency"), [(6, 1), (7, 1), (6, 4), (7, 4)])
def test_without_a_page_count_a_short_or_empty_page_ends(total: int, concurrency: int) -> None:
    emulator = _Unnumbered(total)
    with serve(emulator) as server:
        packages = list_packages(server, emulator, page_size=3, concurrency=concurrency)
    assert [package.id for package in packages] == [f"p{n}" for n in range(total)]
    assert all(package.name == "proj123" for package in packages)  # no projectId: the query's project


@pytest.mark.parametrize("concurrency", [1, 4])
def test_total_and_the_applied_limit_give_the_page_count(concurrency: int) -> None:
    """The server applies 4 per page though 10 were asked for: its echoed limit and total count."""
    emulator = _Unnumbered(18, with_total=True, cap=4)
    with serve(emulator) as server:
        packages = list_packages(server, emulator, page_size=10, concurrency=concurrency)
    assert [package.id for package in packages] == [f"p{n}" for n in range(18)]
    assert _page_numbers(server) == [1, 2, 3, 4, 5]  # nothing asked beyond ceil(18 / 4)


# Packages published while a listing runs -------------------------------------------------------


@pytest.mark.parametrize(
    ("publish_after", "publish_count", "concurrency"),
    [(1, 3, 8), (1, 13, 8), (3, 13, 1), (2, 4, 1)],
)
def test_publishing_during_a_listing_gives_no_duplicate_and_a_warning(
    publish_after: int, publish_count: int, concurrency: int
) -> None:
    size, page_size = 45, 10
    emulator = MetabindEmulator(packages=size, publish_after=publish_after, publish_count=publish_count)
    before = emulator.package_ids()
    with serve(emulator) as server, pytest.warns(pkglist.ListingChangedWarning) as caught:
        ids = [p.id for p in list_packages(server, emulator, page_size=page_size, concurrency=concurrency)]
    after = emulator.package_ids()
    assert len(after) == size + publish_count
    # the first pages were served before the publication, the others after it
    served_before = publish_after * page_size
    assert ids == _dedupe(before[:served_before] + after[served_before:])
    assert len(ids) == len(set(ids))
    assert set(before) <= set(ids)
    messages = [str(warning.message) for warning in caught]
    assert (
        f"metabind packages: the listing changed while it ran (total went from {size} to "
        f"{size + publish_count} at page {publish_after + 1})"
    ) in messages
    duplicates = len(before[:served_before] + after[served_before:]) - len(ids)
    assert duplicates > 0
    assert (
        f"metabind packages: dropped {duplicates} duplicate package(s); the listing changed while it ran"
        in messages
    )


def test_cursor_listing_is_not_shifted_by_publishing() -> None:
    emulator = MetabindEmulator(packages=20, paging="cursor", publish_after=1, publish_count=5)
    before = emulator.package_ids()
    with serve(emulator) as server, warnings.catch_warnings():
        warnings.simplefilter("error", pkglist.ListingChangedWarning)
        ids = [package.id for package in list_packages(server, emulator, page_size=6)]
    assert ids == before  # keys, not positions: nothing repeats and nothing new slips in


def test_publishing_during_a_cli_listing_warns_on_stderr() -> None:
    executable = shutil.which("pkglist")
    assert executable, "the pkglist console script is not installed"
    emulator = MetabindEmulator(packages=30, publish_after=1, publish_count=4)
    before = emulator.package_ids()
    with serve(emulator) as server:
        env = {
            **os.environ,
            "METABIND_API_KEY": emulator.credentials["api_key"],
            "METABIND_API_URL": server.url,
        }
        done = subprocess.run(
            [
                executable,
                "metabind",
                "packages",
                "--organization",
                "org123",
                "--project",
                "proj123",
                "-o",
                "jsonl",
                "--page-size",
                "10",
                "--retries",
                "0",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in done.stdout.splitlines()]
    assert ids == before
    assert (
        "pkglist: warning: metabind packages: the listing changed while it ran (total went from 30 to 34"
        in done.stderr
    )
    assert "pkglist: warning: metabind packages: dropped 4 duplicate package(s)" in done.stderr


def test_publish_switch_counts_only_the_demo_listing() -> None:
    emulator = MetabindEmulator(packages=5, publish_after=2, publish_count=1)
    headers = {"authorization": "Bearer " + emulator.credentials["api_key"]}
    other = Request("GET", "/v1/organizations/org123/projects/proj456/packages", {}, headers)
    mine = Request("GET", ROUTE, {}, headers)
    assert emulator.handle(other).status == 200
    assert emulator.handle(mine).status == 200
    assert emulator.count() == 5
    emulator.handle(mine)
    assert emulator.count() == 6  # published once, after the second page of the demo listing
    emulator.handle(mine)
    assert emulator.count() == 6
