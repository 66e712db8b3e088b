"""The docs' example payloads, served over loopback, normalize as the docs mean them.

Expectations are written by hand from ``specs/*.json`` (see ``specs/SOURCE.md``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import pkglist
from pkglist.testing import serve

from .helpers import SPECS, Canned, list_packages, spec_json

PRODUCT_CARD = {"id": "comp123", "name": "ProductCard", "type": "view", "version": 3}
ARTICLE_LAYOUT = {"id": "comp124", "name": "ArticleLayout", "type": "layout", "version": 2}


def expected(
    id: str, version: str, day: int, author: str, description: str, components: list[dict[str, Any]]
) -> pkglist.Package:
    moment = datetime(2024, 3, day, 10, 0, tzinfo=UTC)
    return pkglist.Package(
        provider="metabind",
        listing="packages",
        id=id,
        name="proj123",
        version=version,
        package_type=None,
        state=None,
        scope="org123/proj123",
        created_at=moment,
        updated_at=moment,
        url=None,
        extra={
            "author": author,
            "description": description,
            "tags": [],
            "component_count": len(components),
            "components": components,
            "asset_count": 0,
            "dependencies": [],
        },
    )


EXPECTED = [
    expected(
        "pkg789",
        "2.0.0",
        25,
        "jane.doe@metabind.ai",
        "Major update with new components",
        [PRODUCT_CARD, ARTICLE_LAYOUT],
    ),
    expected("pkg456", "1.1.0", 22, "john.smith@metabind.ai", "Bug fixes and improvements", []),
    expected("pkg123", "1.0.0", 20, "jane.doe@metabind.ai", "Initial release", []),
]


def test_page_generation_example() -> None:
    canned = Canned([(SPECS / "packages-list.page.normalized.json").read_bytes()])
    with serve(canned) as server:
        packages = list_packages(server, canned)
    assert packages == EXPECTED
    # pagination says page 1 of 1: nothing more is asked for
    assert [dict(request.query) for request in canned.seen] == [{"page": ["1"], "limit": ["100"]}]


def test_cursor_generation_example() -> None:
    canned = Canned(
        [
            (SPECS / "packages-list.cursor.normalized.json").read_bytes(),
            b'{"data": [], "pagination": {}}',
        ]
    )
    with serve(canned) as server:
        packages = list_packages(server, canned)
    assert packages == EXPECTED
    first, second = (dict(request.query) for request in canned.seen)
    assert first == {"page": ["1"], "limit": ["100"]}
    # the cursor docs know limit and lastKey only: no page number rides along
    assert second == {"limit": ["100"], "lastKey": ["eyJ2ZXJzaW9uIjoiMS4wLjAifQ=="]}


def test_raw_keeps_the_docs_item() -> None:
    canned = Canned([(SPECS / "packages-list.page.normalized.json").read_bytes()])
    with serve(canned) as server:
        packages = list_packages(server, canned, raw=True)
    assert [package.raw for package in packages] == spec_json("packages-list.page.normalized.json")["data"]


def test_verbatim_docs_text_is_not_json() -> None:
    """The docs' ``[...]`` placeholders make the verbatim example invalid JSON: a protocol error."""
    canned = Canned([(SPECS / "packages-list.page.example.txt").read_bytes()])
    with serve(canned) as server, pytest.raises(pkglist.ProtocolError, match="not JSON"):
        list_packages(server, canned, retries=0)


ERRORS = spec_json("errors.examples.json") + spec_json("package-create.errors.example.json")


@pytest.mark.parametrize(
    ("index", "status", "error", "text"),
    [
        (
            0,
            400,
            pkglist.BadRequestError,
            "HTTP 400 Bad Request: ERROR_CODE: Human readable message (field: Additional error context)",
        ),
        (
            1,
            422,
            pkglist.BadRequestError,
            "HTTP 422 Unprocessable Entity: VALIDATION_FAILED: Request validation failed "
            "(name: Name is required, email: Invalid email format)",
        ),
        (
            2,
            404,
            pkglist.NotFoundError,
            "HTTP 404 Not Found: NOT_FOUND: Content not found (resourceType: content, resourceId: cont123)",
        ),
        (
            3,
            409,
            pkglist.BadRequestError,
            "HTTP 409 Conflict: ALREADY_EXISTS: A component with this name already exists "
            "(field: name, value: ProductCard)",
        ),
        (
            4,
            409,
            pkglist.BadRequestError,
            "HTTP 409 Conflict: PACKAGE_VERSION_EXISTS: Package version 1.0.0 already exists",
        ),
    ],
)
def test_documented_error_bodies(index: int, status: int, error: type[Exception], text: str) -> None:
    import json

    canned = Canned([json.dumps(ERRORS[index]).encode()], status=status)
    with serve(canned) as server, pytest.raises(error) as caught:
        list_packages(server, canned)
    assert str(caught.value) == f"metabind packages: {text} (page 1)"
