"""Unusable bodies, for every listing of every bundled provider, through the Python API
and the real CLI: a one-line protocol error naming the page (never a traceback), or,
for one bad item, an error naming the page and the item unless the user asks to skip
it (then a warning, and the rest is listed). Huge numbers and names full of unicode
and control characters list fine.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import pkglist
from pkglist.testing import Response, serve

from .hostile import Rewrite, dig, put, remove, set_path
from .providers import LISTINGS, Listing, one_per_provider

PAGE_SIZE = 5
SIZE = 23  # 5 pages
HUGE = 10**30
#: A name a hostile or careless server could send: scripts, emoji, terminal escapes,
#: a bell, a right-to-left override, a tab, a newline and a NUL.
WEIRD = "pkg-ünïcødé-名前-📦-\x1b[31mred\x1b[0m-\x07-\u202eevil-\ttab-\nline-\x00nul"

Change = Callable[[Any, int], Any]


def _items(listing: Listing) -> Callable[[Any], list[Any]]:
    return lambda body: dig(body, listing.items)


def _run(
    listing: Listing,
    change: Change,
    *,
    positions: set[int] | None = None,
    times: int | None = None,
    **options: Any,
) -> tuple[list[pkglist.Package], list[int], Any]:
    emulator = listing.make(SIZE)
    wrapper = Rewrite(emulator, listing, change, positions=positions, times=times)
    with serve(wrapper) as server:
        packages = listing.list(server, emulator, page_size=PAGE_SIZE, **options)
    return packages, listing.page_requests(server, emulator), emulator


def _fails(listing: Listing, change: Change, *, positions: set[int], **options: Any) -> tuple[Any, list[int]]:
    emulator = listing.make(SIZE)
    wrapper = Rewrite(emulator, listing, change, positions=positions)
    with serve(wrapper) as server, pytest.raises(pkglist.PkglistError) as caught:
        listing.list(server, emulator, page_size=PAGE_SIZE, **options)
    return caught, listing.page_requests(server, emulator)


def _one_line(listing: Listing, text: str) -> None:
    assert "\n" not in text
    assert "Traceback" not in text
    assert text.startswith(f"{listing.provider} {listing.name}: "), text


# Bodies that are not a page ------------------------------------------------------------------


def _html(body: Any, position: int) -> Response:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>...</form></body></html>"
    return Response.raw(page, content_type="text/html; charset=utf-8")


def _empty(body: Any, position: int) -> Response:
    return Response.raw(b"")


def _deeply_nested(body: Any, position: int) -> Response:
    return Response.raw(b"[" * 200_000 + b"]" * 200_000)


def _not_json_cases() -> list[Any]:
    return [
        pytest.param(_html, "response body is not JSON (text/html): '<!DOCTYPE html>", id="html"),
        pytest.param(_empty, "response body is not JSON (application/json) (empty body)", id="empty"),
        pytest.param(_deeply_nested, "response body is not JSON", id="deeply-nested"),
    ]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize(("change", "message"), _not_json_cases())
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_body_that_is_not_json_is_retried_then_a_protocol_error(
    listing: Listing, change: Change, message: str, concurrency: int
) -> None:
    caught, requests = _fails(listing, change, positions={2}, retries=1, concurrency=concurrency)
    assert type(caught.value) is pkglist.ProtocolError
    text = str(caught.value)
    _one_line(listing, text)
    assert f"page 2: gave up after 2 attempts: {message}" in text
    assert requests.count(2) == 2


def _shape_cases(listing: Listing) -> list[tuple[str, Change, str]]:
    items = listing.items
    cases: list[tuple[str, Change, str]] = [
        (
            "array",
            lambda body, position: dig(body, items),
            "expected a JSON object at 'the response body', got a list",
        ),
        ("items-missing", lambda body, position: remove(body, items), f"response has no {items!r} list"),
        (
            "items-object",
            lambda body, position: put(body, items, {"0": dig(body, items)[0]}),
            f"expected a list at {items!r}, got an object",
        ),
        (
            "items-null",
            lambda body, position: put(body, items, None),
            f"expected a list at {items!r}, got null",
        ),
        (
            "items-string",
            lambda body, position: put(body, items, "[]"),
            f"expected a list at {items!r}, got str",
        ),
    ]
    if listing.page_count is not None:
        path = listing.page_count
        cases.append(
            (
                "page-count-string",
                lambda body, position: put(body, path, "many"),
                f"expected a non-negative integer at {path!r}, got 'many'",
            )
        )
        cases.append(
            (
                "page-count-negative",
                lambda body, position: put(body, path, -3),
                f"expected a non-negative integer at {path!r}, got -3",
            )
        )
    else:
        cases.append(
            (
                "has-more-string",
                lambda body, position: put(body, "hasMore", "yes"),
                "expected a boolean at 'hasMore', got str",
            )
        )
    if listing.next_link is not None:
        link = listing.next_link
        cases.append(
            (
                "next-link-number",
                lambda body, position: put(body, link, 42),
                f"expected a string at {link!r}, got int",
            )
        )
    return cases


def _shapes() -> list[Any]:
    return [
        pytest.param(listing, change, message, id=f"{listing}-{name}")
        for listing in LISTINGS
        for name, change, message in _shape_cases(listing)
    ]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize(("listing", "change", "message"), _shapes())
def test_a_body_of_the_wrong_shape_is_a_one_line_protocol_error(
    listing: Listing, change: Change, message: str, concurrency: int
) -> None:
    caught, requests = _fails(listing, change, positions={2}, retries=3, concurrency=concurrency)
    assert type(caught.value) is pkglist.ProtocolError
    text = str(caught.value)
    _one_line(listing, text)
    assert f"page 2: {message}" in text
    assert caught.value.page == 2
    assert requests.count(2) == 1  # a well-formed JSON body of the wrong shape is not retried


# One bad item ------------------------------------------------------------------------------------


def _bad_item_cases(listing: Listing) -> list[tuple[str, Change, str]]:
    def item(body: Any) -> Any:
        return dig(body, listing.items)[1]

    def replace(body: Any, value: Any) -> None:
        dig(body, listing.items)[1] = value

    name = listing.name_path
    cases: list[tuple[str, Change, str]] = [
        (
            "string",
            lambda body, position: replace(body, "not-an-object"),
            "item is not a JSON object but a string",
        ),
        ("null", lambda body, position: replace(body, None), "item is not a JSON object but null"),
        (
            "id-a-list",
            lambda body, position: item(body).__setitem__(listing.id_field, ["a", "b"]),
            f"field {listing.id_field!r} must be a string, got a list",
        ),
        (
            "name-an-object",
            lambda body, position: set_path(item(body), name, {"first": "x"}),
            f"field {'.'.join(name)!r} must be a string, got an object",
        ),
        (
            "timestamp-huge",
            lambda body, position: item(body).__setitem__(listing.time_field, HUGE),
            f"field {listing.time_field!r}: timestamp out of range",
        ),
        (
            "timestamp-nan",
            lambda body, position: item(body).__setitem__(listing.time_field, math.nan),
            f"field {listing.time_field!r}",
        ),
        (
            "timestamp-garbage",
            lambda body, position: item(body).__setitem__(listing.time_field, "yesterday\x1b[2J"),
            f"field {listing.time_field!r}: not a timestamp: 'yesterday\\x1b[2J'",
        ),
    ]
    if listing.count_field is not None:
        count = listing.count_field
        cases.append(
            (
                "count-a-string",
                lambda body, position: item(body).__setitem__(count, "lots"),
                f"field {count!r} must be an integer, got a string",
            )
        )
    return cases


def _bad_items() -> list[Any]:
    return [
        pytest.param(
            listing,
            change,
            message,
            id=f"{listing}-{name}",
        )
        for listing in LISTINGS
        for name, change, message in _bad_item_cases(listing)
    ]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("listing", "change", "message"), _bad_items())
def test_a_bad_item_fails_the_listing_naming_page_and_item(
    listing: Listing, change: Change, message: str
) -> None:
    caught, _ = _fails(listing, change, positions={2}, concurrency=8)
    assert type(caught.value) is pkglist.InvalidItemError
    text = str(caught.value)
    _one_line(listing, text)
    assert f"{listing.provider} {listing.name}: page 2, item 2: invalid item: {message}" in text


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("listing", "change", "message"), _bad_items())
def test_skip_invalid_reports_the_bad_item_and_lists_the_rest(
    listing: Listing, change: Change, message: str
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        packages, _, emulator = _run(listing, change, positions={2}, skip_invalid=True, concurrency=8)
    expected = listing.expected(emulator)
    bad = expected[PAGE_SIZE + 1]  # page 2, item 2
    assert [package.id for package in packages] == [id_ for id_ in expected if id_ != bad]
    reported = [str(w.message) for w in caught if issubclass(w.category, pkglist.InvalidItemWarning)]
    assert len(reported) == 1
    assert reported[0].startswith(
        f"{listing.provider} {listing.name}: page 2, item 2: invalid item: {message}"
    )
    assert reported[0].endswith(" (skipped)")
    assert "\n" not in reported[0]


# Huge numbers ----------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", [item for item in LISTINGS if item.page_count is not None], ids=str)
def test_huge_counts_in_the_envelope_list_fine(listing: Listing, concurrency: int) -> None:
    assert listing.page_count is not None
    assert listing.item_count is not None
    page_count, item_count = listing.page_count, listing.item_count

    def huge(body: Any, position: int) -> None:
        put(body, page_count, HUGE)
        put(body, item_count, HUGE)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        packages, requests, emulator = _run(listing, huge, concurrency=concurrency)
    assert [package.id for package in packages] == listing.expected(emulator)
    # The same huge total on every page: the listing did not change, but the data ran out
    # long before the counts said, which is named (the listing is complete, yet in doubt).
    shown = [w for w in caught if issubclass(w.category, pkglist.PkglistWarning)]
    assert not [w for w in shown if issubclass(w.category, pkglist.ListingChangedWarning)]
    if listing.provider == "harness":
        assert not shown  # v1 counts are upper bounds (they count versions): no surprise there
    else:
        assert shown
        assert all(str(HUGE) in str(w.message) for w in shown)
    assert len(requests) <= math.ceil(SIZE / PAGE_SIZE) + 1 + (concurrency if concurrency > 1 else 0)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", [item for item in LISTINGS if item.count_field is not None], ids=str)
def test_a_huge_count_in_an_item_is_kept_exactly(listing: Listing) -> None:
    assert listing.count_field is not None
    count = listing.count_field

    def huge(body: Any, position: int) -> None:
        dig(body, listing.items)[0][count] = HUGE

    packages, _, emulator = _run(listing, huge, positions={1})
    assert [package.id for package in packages] == listing.expected(emulator)
    assert packages[0].extra[listing.count_extra] == HUGE
    assert type(packages[0].extra[listing.count_extra]) is int  # not turned into a float


# Names full of unicode and control characters --------------------------------------------------


def _weird_names(listing: Listing) -> Change:
    def change(body: Any, position: int) -> None:
        for item in dig(body, listing.items):
            set_path(item, listing.name_path, WEIRD)

    return change


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_unicode_and_control_characters_in_names_list_fine(listing: Listing) -> None:
    packages, _, emulator = _run(listing, _weird_names(listing), positions={1})
    assert [package.id for package in packages] == listing.expected(emulator)
    assert [package.name for package in packages[:PAGE_SIZE]] == [WEIRD] * PAGE_SIZE
    assert all(package.name != WEIRD for package in packages[PAGE_SIZE:])


# Truncated JSON ----------------------------------------------------------------------------------


def _truncated(body: Any, position: int) -> Response:
    whole = json.dumps(body).encode()
    return Response.raw(whole[: len(whole) // 2])


@pytest.mark.timeout(30)
@pytest.mark.parametrize("concurrency", [1, 8])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_truncated_page_is_fetched_again(listing: Listing, concurrency: int) -> None:
    packages, requests, emulator = _run(listing, _truncated, positions={2}, times=2, concurrency=concurrency)
    assert [package.id for package in packages] == listing.expected(emulator)
    assert requests.count(2) == 3


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_page_that_stays_truncated_is_a_protocol_error(listing: Listing) -> None:
    caught, requests = _fails(listing, _truncated, positions={2}, retries=2)
    assert type(caught.value) is pkglist.ProtocolError
    text = str(caught.value)
    _one_line(listing, text)
    assert "page 2: gave up after 3 attempts: response body is not JSON" in text
    assert requests.count(2) == 3


# Through the real CLI ----------------------------------------------------------------------------


def _cli(listing: Listing, change: Change, *args: str, positions: set[int] | None = None) -> Any:
    emulator = listing.make(SIZE)
    wrapper = Rewrite(emulator, listing, change, positions=positions)
    with serve(wrapper) as server:
        done = listing.cli(
            server,
            emulator,
            "--page-size",
            str(PAGE_SIZE),
            "--retries",
            "1",
            "--max-retry-wait",
            "0.05",
            *args,
        )
    return done, emulator


def _assert_cli_error(listing: Listing, done: Any, *fragments: str) -> str:
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"pkglist: error: {listing.provider} {listing.name}: "), lines[0]
    assert "internal error" not in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("change", "message"), _not_json_cases()[:2])
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_cli_a_body_that_is_not_json(listing: Listing, change: Change, message: str) -> None:
    done, _ = _cli(listing, change, "-o", "jsonl", positions={1})
    _assert_cli_error(listing, done, f"page 1: gave up after 2 attempts: {message}")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_cli_a_body_of_the_wrong_shape(listing: Listing) -> None:
    done, _ = _cli(listing, lambda body, position: dig(body, listing.items), "-o", "table", positions={1})
    _assert_cli_error(listing, done, "page 1: expected a JSON object at 'the response body', got a list")


def _bad_id(listing: Listing) -> Change:
    def change(body: Any, position: int) -> None:
        dig(body, listing.items)[1][listing.id_field] = ["a", "b"]

    return change


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_cli_a_bad_item_fails_without_the_flag(listing: Listing) -> None:
    done, _ = _cli(listing, _bad_id(listing), "-o", "jsonl", positions={1})
    _assert_cli_error(
        listing,
        done,
        f"page 1, item 2: invalid item: field {listing.id_field!r} must be a string, got a list",
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_cli_skip_invalid_reports_the_item_and_lists_the_rest(listing: Listing) -> None:
    done, emulator = _cli(listing, _bad_id(listing), "-o", "jsonl", "--skip-invalid", positions={1})
    assert done.returncode == 0, done.stderr
    expected = listing.expected(emulator)
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == expected[:1] + expected[2:]
    assert done.stderr.splitlines() == [
        f"pkglist: warning: {listing.provider} {listing.name}: page 1, item 2: invalid item: "
        f"field {listing.id_field!r} must be a string, got a list (skipped)"
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_cli_weird_names_survive_jsonl_and_the_table_shows_no_control_character(listing: Listing) -> None:
    done, emulator = _cli(listing, _weird_names(listing), "-o", "jsonl", positions={1})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["id"] for row in rows] == listing.expected(emulator)
    assert [row["name"] for row in rows[:PAGE_SIZE]] == [WEIRD] * PAGE_SIZE

    done, _ = _cli(listing, _weird_names(listing), "-o", "table", "--fields", "id,name", positions={1})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        len(lines) == 1 + SIZE
    )  # a header and one line per package: the newline in the name did not split a row
    assert all(ch.isprintable() for line in lines for ch in line), [
        line for line in lines if not line.isprintable()
    ]
    assert "名前" in done.stdout


# Bodies that cannot even be read, and names that cannot be encoded ------------------------------------


def _false_gzip(body: Any, position: int) -> Response:
    return Response.raw(json.dumps(body).encode(), headers={"Content-Encoding": "gzip"})


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_a_body_that_cannot_be_decoded_is_a_one_line_error(listing: Listing) -> None:
    caught, _ = _fails(listing, _false_gzip, positions={1}, retries=1)
    assert isinstance(caught.value, pkglist.ProviderError)
    _one_line(listing, str(caught.value))
    assert "page 1" in str(caught.value)


LONE_SURROGATE = "bad-\ud800-surrogate"  # valid JSON ("\ud800"), not encodable as UTF-8


def _lone_surrogate_names(listing: Listing) -> Change:
    def change(body: Any, position: int) -> None:
        for item in dig(body, listing.items):
            set_path(item, listing.name_path, LONE_SURROGATE)

    return change


@pytest.mark.timeout(30)
@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_lone_surrogate_in_a_name_is_kept_by_the_python_api(listing: Listing) -> None:
    packages, _, emulator = _run(listing, _lone_surrogate_names(listing), positions={1})
    assert [package.id for package in packages] == listing.expected(emulator)
    assert packages[0].name == LONE_SURROGATE


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "output",
    [
        "jsonl",
        "json",
        "csv",
        "table",
    ],
)
@pytest.mark.parametrize("listing", one_per_provider(), ids=str)
def test_cli_a_lone_surrogate_in_a_name_lists_fine(listing: Listing, output: str) -> None:
    done, emulator = _cli(listing, _lone_surrogate_names(listing), "-o", output, positions={1})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    if output == "jsonl":
        rows = [json.loads(line) for line in done.stdout.splitlines()]
        assert [row["id"] for row in rows] == listing.expected(emulator)
        assert rows[0]["name"] == LONE_SURROGATE
    elif output == "table":
        assert all(ch.isprintable() for line in done.stdout.splitlines() for ch in line)
