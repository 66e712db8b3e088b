"""The official example payloads (specs/) through paginate and normalize.

Expected values are read off the JSON files by hand, not computed by the code under test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import validate_package
from pkglist_cloudfoundry import CloudFoundryProvider
from pkglist_cloudfoundry._query import AppPackagesQuery, PackagesQuery

from .helpers import spec

PROVIDER = CloudFoundryProvider()
APP_PACKAGES = PROVIDER.listing("app-packages")
PACKAGES = PROVIDER.listing("packages")


def page_of(listing: pkglist.Listing, query: pkglist.Query, body: Any, url: str) -> pkglist.Page:
    request = httpx.Request("GET", url)
    response = httpx.Response(200, content=json.dumps(body).encode(), request=request)
    return PROVIDER.paginate(listing, query, request, response)


def test_package_list_example() -> None:
    query = PackagesQuery(type=("bits", "docker"))
    page = page_of(
        PACKAGES,
        query,
        spec("package_list.json"),
        "https://api.example.org/v3/packages?types=bits%2Cdocker&page=1&per_page=2",
    )
    assert page.linked is False  # pagination.next is null
    assert page.total_items == 2
    assert page.last_number == 1
    bits, docker = (PROVIDER.normalize(PACKAGES, query, item) for item in page.items)
    for package in (bits, docker):
        validate_package(package, provider="cloudfoundry", listing="packages")

    assert bits.id == "a57fd932-85db-483a-a27e-b00efbb3b0a4"
    assert bits.name == "fa3558ce-1c4d-46fc-9776-54b9c8021745"
    assert bits.scope == "fa3558ce-1c4d-46fc-9776-54b9c8021745"
    assert bits.package_type == "bits"
    assert bits.state == "AWAITING_UPLOAD"
    assert bits.version is None
    assert bits.created_at == datetime(2015, 11, 3, 0, 53, 54, tzinfo=UTC)
    assert bits.updated_at == datetime(2016, 6, 8, 16, 41, 26, tzinfo=UTC)
    assert bits.url == "https://api.example.org/v3/packages/a57fd932-85db-483a-a27e-b00efbb3b0a4/download"
    assert bits.extra == {
        "checksum": None,
        "checksum_type": "sha256",
        "image": None,
        "error": None,
        "labels": {},
        "annotations": {},
    }

    assert docker.id == "8f1f294d-cef8-4c11-9f0b-3bcdc0bd2691"
    assert docker.name == "fa3558ce-1c4d-46fc-9776-54b9c8021745"
    assert docker.package_type == "docker"
    assert docker.state == "READY"
    assert docker.url == "registry/image:latest"
    assert docker.extra["image"] == "registry/image:latest"
    assert docker.extra["checksum"] is None
    assert docker.extra["checksum_type"] is None


def test_app_package_list_example_by_guid_and_by_name() -> None:
    body = spec("app_package_list.json")
    url = "https://api.example.org/v3/apps/f2efe391-2b5b-4836-8518-ad93fa9ebf69/packages?states=READY&page=1&per_page=50"
    by_guid = AppPackagesQuery(app="f2efe391-2b5b-4836-8518-ad93fa9ebf69", state=("READY",))
    page = page_of(APP_PACKAGES, by_guid, body, url)
    assert page.linked is False
    assert page.total_items == 1
    package = PROVIDER.normalize(APP_PACKAGES, by_guid, page.items[0])
    validate_package(package, provider="cloudfoundry", listing="app-packages")
    assert package.id == "752edab0-2147-4f58-9c25-cd72ad8c3561"
    assert package.name == "f2efe391-2b5b-4836-8518-ad93fa9ebf69"
    assert package.scope == "f2efe391-2b5b-4836-8518-ad93fa9ebf69"
    assert (package.package_type, package.state) == ("bits", "READY")
    assert package.created_at == datetime(2016, 3, 17, 21, 41, 9, tzinfo=UTC)
    assert package.updated_at == datetime(2016, 6, 8, 16, 41, 26, tzinfo=UTC)
    assert package.url == "https://api.example.org/v3/packages/752edab0-2147-4f58-9c25-cd72ad8c3561/download"

    by_name = AppPackagesQuery(app="my-app", space_guid="4e8a2f35-9c7d-4b1e-8a41-2a1d5bd0b3c0")
    named = PROVIDER.normalize(APP_PACKAGES, by_name, page_of(APP_PACKAGES, by_name, body, url).items[0])
    assert named.name == "my-app"
    assert named.scope == "f2efe391-2b5b-4836-8518-ad93fa9ebf69"


def test_single_bits_package_example() -> None:
    package = PROVIDER.normalize(PACKAGES, PackagesQuery(), spec("package_bits.json"))
    assert package.id == "44f7c078-0934-470f-9883-4fcddc5b8f13"
    assert package.name == "1d3bf0ec-5806-43c4-b64e-8364dba1086a"
    assert package.state == "PROCESSING_UPLOAD"
    assert package.created_at == datetime(2015, 11, 13, 17, 2, 56, tzinfo=UTC)
    assert package.url == "https://api.example.org/v3/packages/44f7c078-0934-470f-9883-4fcddc5b8f13/download"


def test_docker_password_never_leaves() -> None:
    body = {
        "pagination": {"total_results": 1, "total_pages": 1, "next": None},
        "resources": [spec("package_docker.json")],
    }
    query = PackagesQuery()
    page = page_of(PACKAGES, query, body, "https://api.example.org/v3/packages?page=1&per_page=50")
    raw = page.items[0]
    assert raw["data"] == {"image": "registry/image:latest", "username": "username"}
    package = PROVIDER.normalize(PACKAGES, query, raw)
    assert package.id == "4cb65058-f04f-458f-aca1-5f4e43de6407"
    assert package.name == "d8b8148d-5798-44de-821a-64b85b15e968"
    assert package.url == "registry/image:latest"
    assert package.updated_at == datetime(2016, 6, 8, 16, 41, 26, tzinfo=UTC)
    dumped = json.dumps(pkglist.package_to_dict(package, raw=True) | {"raw": raw})
    assert "***" not in dumped
    assert "password" not in dumped


def test_pagination_example_next_link_is_followed() -> None:
    body = spec("pagination_example.json")
    page = page_of(PACKAGES, PackagesQuery(), body, "https://api.example.org/v3/people?page=1&per_page=1")
    assert page.next is not None
    assert str(page.next.url) == "https://api.example.org/v3/people?page=2&per_page=1"
    assert (page.number, page.last_number, page.total_items) == (1, 3, 3)
    assert page.request_for is not None
    assert page.request_for(3).url.params["page"] == "3"


def test_a_next_link_to_another_origin_gives_way_to_the_page_number() -> None:
    body = spec("pagination_example.json")  # its links point at https://api.example.org
    page = page_of(PACKAGES, PackagesQuery(), body, "https://api.other.example/v3/packages?page=1&per_page=1")
    assert page.linked  # the link still says there is more
    assert page.next is not None
    assert str(page.next.url) == "https://api.other.example/v3/packages?page=2&per_page=1"


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ([], "item"),
        ({"type": "bits"}, "relationships"),
        ({"guid": "x", "relationships": {"app": {"data": {"guid": ["a"]}}}}, "guid"),
        ({"guid": "x", "relationships": {"app": "nope"}}, "app"),
        (
            {"guid": "x", "relationships": {"app": {"data": {"guid": "a"}}}, "created_at": "soon"},
            "created_at",
        ),
        (
            {"guid": "x", "relationships": {"app": {"data": {"guid": "a"}}}, "data": {"checksum": 3}},
            "checksum",
        ),
        (
            {"guid": "x", "relationships": {"app": {"data": {"guid": "a"}}}, "metadata": {"labels": []}},
            "labels",
        ),
        ({"guid": ["x"], "relationships": {"app": {"data": {"guid": "a"}}}}, "guid"),
    ],
)
def test_hostile_items_are_invalid_items(item: Any, field: str) -> None:
    with pytest.raises(pkglist.InvalidItemError, match=field):
        PROVIDER.normalize(PACKAGES, PackagesQuery(), item)


def test_app_lookup_zero_one_or_several() -> None:
    query = AppPackagesQuery(app="web", space_guid="5c1f0e2a-3b4d-4e6f-8a9b-1c2d3e4f5a02")
    lookup = PROVIDER.list_request(APP_PACKAGES, query, "https://api.example.org", 7)
    assert isinstance(lookup, pkglist.Lookup)
    assert lookup.what == "app 'web' in space 5c1f0e2a-3b4d-4e6f-8a9b-1c2d3e4f5a02"
    assert lookup.request.url.path == "/v3/apps"

    def apps(*guids: str) -> httpx.Response:
        body = {
            "pagination": {"total_results": len(guids)},
            "resources": [{"guid": g, "name": "web"} for g in guids],
        }
        return httpx.Response(200, json=body, request=lookup.request)

    with pytest.raises(pkglist.NotFoundError, match="app 'web' not found in space 5c1f0e2a") as missing:
        lookup.then(apps())
    assert missing.value.status == 404

    with pytest.raises(pkglist.UsageError, match=r"2 apps are named 'web'.*aaaa.*bbbb"):
        lookup.then(apps("aaaa", "bbbb"))

    first = lookup.then(apps("f2efe391-2b5b-4836-8518-ad93fa9ebf69"))
    assert str(first.url) == (
        "https://api.example.org/v3/apps/f2efe391-2b5b-4836-8518-ad93fa9ebf69/packages?page=1&per_page=7"
    )

    # CF splits ``names`` on commas: an app whose name only shares a part does not count.
    comma = AppPackagesQuery(app="web,api", space_guid="5c1f0e2a-3b4d-4e6f-8a9b-1c2d3e4f5a02")
    by_comma = PROVIDER.list_request(APP_PACKAGES, comma, "https://api.example.org", 7)
    assert isinstance(by_comma, pkglist.Lookup)
    with pytest.raises(pkglist.NotFoundError):
        by_comma.then(apps("f2efe391-2b5b-4836-8518-ad93fa9ebf69"))
