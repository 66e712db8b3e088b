"""pkglist-age's tests: the arithmetic, and the wrapper around another plugin's provider."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import attrs
import httpx
import pkglist
import pytest
from pkglist.testing import Request, Response, serve

import pkglist_age

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def package(**fields: Any) -> pkglist.Package:
    return pkglist.Package(provider="any", listing="any", id="1", name="left-pad", **fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"created_at": datetime(2025, 5, 1, 12, 0, tzinfo=UTC)}, 31),
        ({"created_at": datetime(2025, 5, 31, 12, 0, 1, tzinfo=UTC)}, 0),  # 23:59:59 ago: not a day yet
        (
            {"created_at": datetime(2024, 1, 1, tzinfo=UTC), "updated_at": datetime(2025, 5, 29, tzinfo=UTC)},
            3,
        ),
        ({"updated_at": datetime(2025, 7, 1, tzinfo=UTC)}, 0),  # clocks disagree: never negative
        ({}, None),
    ],
)
def test_age_days(fields: dict[str, Any], expected: int | None) -> None:
    assert pkglist_age.age_days(package(**fields), NOW) == expected


# "Any provider": a throw-away one, registered next to pkglist-age in a private plugin manager.

ITEMS: list[dict[str, Any]] = [
    {"id": "0", "name": "fresh", "updated": "2025-05-01T00:00:00Z", "extra": {"shelf_life": 3}},
    {"id": "1", "name": "timeless", "updated": None, "extra": {}},
    {"id": "2", "name": "opinionated", "updated": "2024-12-24T18:30:00Z", "extra": {"age_days": 99}},
]


class Catalog(pkglist.Provider):
    name = "catalog"
    listings = (
        pkglist.Listing(
            name="items",
            query=pkglist.Query,
            paging=pkglist.Cursor(items="items", token="next"),
            help="Everything in the catalog.",
            max_page_size=10,
        ),
    )

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        return listing.paging.first_request(pkglist.join_url(base_url, "/items"), [], page_size)

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        return pkglist.Package(
            provider=self.name,
            listing=listing.name,
            id=raw["id"],
            name=raw["name"],
            updated_at=pkglist.parse_timestamp(raw["updated"]),
            extra=raw["extra"],
        )


class CatalogEmulator:
    credentials: Mapping[str, str] = {}

    def handle(self, request: Request) -> Response:
        return Response.json({"items": ITEMS, "next": None})


class CatalogPlugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [Catalog()]


def list_catalog(*plugins: object) -> list[pkglist.Package]:
    manager = pkglist.PluginManager.for_testing(CatalogPlugin(), *plugins)
    with serve(CatalogEmulator()) as server:
        return list(pkglist.iter_packages("catalog", "items", manager=manager, base_url=server.url))


def test_the_wrapper_adds_age_days_to_another_plugins_packages() -> None:
    plain = list_catalog()
    before = datetime.now(UTC)
    fresh, timeless, opinionated = list_catalog(pkglist_age)
    after = datetime.now(UTC)
    assert [package.extra for package in plain] == [item["extra"] for item in ITEMS]
    age = fresh.extra["age_days"]
    assert age in {pkglist_age.age_days(plain[0], before), pkglist_age.age_days(plain[0], after)}
    assert fresh == attrs.evolve(plain[0], extra={"shelf_life": 3, "age_days": age})
    assert timeless == plain[1]  # no timestamp: left alone
    assert opinionated == plain[2]  # the provider's own age_days wins
