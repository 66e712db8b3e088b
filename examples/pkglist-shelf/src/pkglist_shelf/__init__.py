"""pkglist-shelf: list the packages on a Shelf, an internal artifact shelf.

``pkglist shelf packages --shelf tools`` on the command line, or
``pkglist.iter_packages("shelf", "packages", shelf="tools")`` from Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pkglist
from pkglist import items

if TYPE_CHECKING:
    import httpx

    from ._emulator import ShelfEmulator

__all__ = ["PackagesQuery", "ShelfEmulator", "ShelfProvider", "pkglist_providers"]

KINDS = ("wheel", "tarball", "container")
_SHELF_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def check_shelf(value: str) -> None:
    """Reject a shelf name before any request is sent."""
    if not _SHELF_NAME.fullmatch(value):
        raise ValueError("expected lower-case letters, digits and dashes, e.g. tools")


@attrs.frozen(kw_only=True)
class PackagesQuery(pkglist.Query):
    shelf: str = pkglist.option(
        help="Shelf to list, e.g. tools.", envvar="SHELF_NAME", metavar="SHELF", check=check_shelf
    )
    kind: tuple[str, ...] = pkglist.option(default=(), choices=KINDS, help="Only packages of this kind.")


def shelf_query(query: pkglist.Query) -> PackagesQuery:
    """The hooks hand over a ``pkglist.Query``; this narrows it to ours."""
    if not isinstance(query, PackagesQuery):
        raise TypeError(f"expected a shelf PackagesQuery, got {type(query).__name__}")
    return query


PACKAGES = pkglist.Listing(
    name="packages",
    query=PackagesQuery,
    paging=pkglist.PageNumber(
        items="packages", page_param="page", size_param="per_page", first=1, total_pages="total_pages"
    ),
    help="Packages on a shelf, newest first (GET /api/shelves/{shelf}/packages).",
    max_page_size=100,
    default_page_size=50,
)


class ShelfProvider(pkglist.Provider):
    name = "shelf"
    title = "Shelf: the packages on an internal artifact shelf."
    listings = (PACKAGES,)
    credentials = (
        pkglist.Credential("token", "Shelf API token (sent as X-Shelf-Token).", envvars=("SHELF_TOKEN",)),
    )
    base_url_envvars = ("SHELF_URL",)

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        return {"X-Shelf-Token": credentials["token"]}

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        wanted = shelf_query(query)
        path = f"/api/shelves/{pkglist.quote_segment(wanted.shelf)}/packages"
        params = [("kind", kind) for kind in wanted.kind]
        return listing.paging.first_request(pkglist.join_url(base_url, path), params, page_size)

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        item = items.as_object(raw)
        labels = items.optional_list(item, "labels")
        if not all(isinstance(label, str) for label in labels):
            raise pkglist.InvalidItemError("field 'labels' must be a list of strings")
        published = items.optional_timestamp(item, "published_at", unit="ms")
        return pkglist.Package(
            provider=self.name,
            listing=listing.name,
            id=items.require_str(item, "id"),
            name=items.require_str(item, "name"),
            version=items.optional_str(item, "version"),
            package_type=items.optional_str(item, "kind"),
            state="yanked" if items.optional_bool(item, "yanked") else "published",
            scope=shelf_query(query).shelf,
            created_at=published,
            updated_at=published,  # a package never changes once it is on a shelf
            extra={"labels": labels},
        )

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> ShelfEmulator:
        from ._emulator import ShelfEmulator

        return ShelfEmulator(packages=40 if packages is None else packages, seed=seed)


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [ShelfProvider()]


def __getattr__(name: str) -> Any:
    # The emulator is imported on first use, so that loading the plugin stays quick.
    if name == "ShelfEmulator":
        from ._emulator import ShelfEmulator

        return ShelfEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
