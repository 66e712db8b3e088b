"""Normalizing hostile or unusual package objects: a clear error naming the field, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

import pkglist
from pkglist.testing import serve, validate_package
from pkglist_metabind import MetabindProvider, PackagesQuery

from .helpers import Canned, list_packages

PROVIDER = MetabindProvider()
LISTING = PROVIDER.listing("packages")
QUERY = PackagesQuery(organization="org123", project="proj123")


def normalize(raw: Any) -> pkglist.Package:
    return PROVIDER.normalize(LISTING, QUERY, raw)


def test_full_package() -> None:
    package = normalize(
        {
            "id": "pkg1",
            "projectId": "proj123",
            "version": "1.2.3",
            "components": [{"id": "comp1", "name": "Card", "type": "view", "version": 4, "content": "..."}],
            "assets": [{"id": "a1"}, {"id": "a2"}],
            "dependencies": [{"projectId": "proj456", "version": "2.0.0"}, "proj789@1.0.0"],
            "metadata": {"author": "user123", "description": "Initial release", "tags": ["ui", "core"]},
            "createdAt": "2024-03-20T10:00:00Z",
            "updatedAt": "2024-03-21T12:30:00.250+02:00",
        }
    )
    assert package.updated_at == datetime(2024, 3, 21, 10, 30, 0, 250000, tzinfo=UTC)
    assert package.extra == {
        "author": "user123",
        "description": "Initial release",
        "tags": ["ui", "core"],
        "component_count": 1,
        "components": [{"id": "comp1", "name": "Card", "type": "view", "version": 4}],
        "asset_count": 2,
        "dependencies": [{"project_id": "proj456", "version": "2.0.0"}, "proj789@1.0.0"],
    }
    validate_package(package, provider="metabind", listing="packages")


def test_minimal_package() -> None:
    package = normalize({"id": "pkg1"})
    assert (package.name, package.scope, package.version, package.created_at) == (
        "proj123",
        "org123/proj123",
        None,
        None,
    )
    assert package.extra == {
        "author": None,
        "description": None,
        "tags": [],
        "component_count": 0,
        "components": [],
        "asset_count": 0,
        "dependencies": [],
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("pkg1", "item is not a JSON object but a string"),
        ({"version": "1.0.0"}, "field 'id' is missing"),
        ({"id": ["x"]}, "field 'id' must be a string"),
        ({"id": "p", "version": {}}, "field 'version' must be a string"),
        ({"id": "p", "createdAt": "yesterday"}, "field 'createdAt': not a timestamp"),
        ({"id": "p", "updatedAt": True}, "field 'updatedAt'"),
        ({"id": "p", "metadata": []}, "field 'metadata' must be an object"),
        ({"id": "p", "metadata": {"author": {}}}, "field 'metadata.author' must be a string"),
        ({"id": "p", "metadata": {"tags": "ui"}}, "field 'metadata.tags' must be a list"),
        ({"id": "p", "metadata": {"tags": ["ui", 3]}}, "field 'metadata.tags' must be a list of strings"),
        ({"id": "p", "components": {}}, "field 'components' must be a list"),
        ({"id": "p", "components": ["comp1"]}, "field 'components[0]' is not a JSON object"),
        ({"id": "p", "components": [{}, {"name": []}]}, "field 'components[1].name' must be a string"),
        ({"id": "p", "components": [{"version": 1.5}]}, "field 'components[0].version' must be an integer"),
        ({"id": "p", "assets": "none"}, "field 'assets' must be a list"),
        ({"id": "p", "dependencies": [3]}, "field 'dependencies[0]' is not a JSON object"),
    ],
)
def test_hostile_items(raw: Any, message: str) -> None:
    with pytest.raises(pkglist.InvalidItemError) as caught:
        normalize(raw)
    assert message in str(caught.value)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "id",
        "projectId",
        "version",
        "components",
        "assets",
        "dependencies",
        "metadata",
        "createdAt",
        "updatedAt",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=9))
def test_any_json_normalizes_or_is_an_invalid_item(overrides: dict[str, Any]) -> None:
    raw = {"id": "pkg1", **overrides}
    try:
        package = normalize(raw)
    except pkglist.InvalidItemError:
        return
    validate_package(package, provider="metabind", listing="packages")
    json.dumps(pkglist.package_to_dict(package))


def test_one_bad_item_fails_the_listing_or_is_skipped() -> None:
    body = json.dumps(
        {
            "data": [{"id": "pkg3"}, {"id": "pkg2", "components": "all"}, {"id": "pkg1"}],
            "pagination": {"page": 1, "limit": 100, "total": 3, "pages": 1},
        }
    ).encode()
    canned = Canned([body])
    with serve(canned) as server:
        with pytest.raises(
            pkglist.InvalidItemError, match=r"page 1, item 2: invalid item: field 'components'"
        ):
            list_packages(server, canned)
        with pytest.warns(pkglist.InvalidItemWarning, match="field 'components' must be a list"):
            ids = [package.id for package in list_packages(server, canned, skip_invalid=True)]
    assert ids == ["pkg3", "pkg1"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "expected a JSON object"),
        (b'{"items": []}', "no 'data' list"),
        (b'{"data": {}, "pagination": {"pages": 1}}', "expected a list at 'data'"),
        (b'{"data": [], "pagination": []}', "expected a JSON object at 'pagination'"),
        (
            b'{"data": [{"id": "a"}], "pagination": {"lastKey": 5}}',
            "expected a string at 'pagination.lastKey'",
        ),
        (b'{"data": [], "pagination": {"page": 1, "pages": "many"}}', "'pagination.pages'"),
    ],
)
def test_unusable_envelopes_are_protocol_errors(body: bytes, message: str) -> None:
    canned = Canned([body])
    with serve(canned) as server, pytest.raises(pkglist.ProtocolError, match=message):
        list_packages(server, canned)
