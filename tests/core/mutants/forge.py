"""A header-paged provider (GitLab's spelling) with deliberate bugs, one per mutation name.

The mutation study: the stock contract suite must catch every bug that changes what a user
gets; ``MUTANTS`` says which ones do not (they change nothing observable).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

import pkglist
from pkglist import items as fields
from pkglist.testing import Request, Response, header_page

FORGE_TOKEN = "forge-token-123"

#: Each mutation, and whether it changes what a user gets (the suite must then catch it).
MUTANTS: dict[str, bool] = {
    "page-size-param-name": True,  # asks ?size= where the API reads ?per_page=
    "page-param-name": True,  # asks ?p= where the API reads ?page=
    "first-page-off-by-one": True,  # starts at page 0 of a 1-based API
    "total-items-wrong-header": True,  # reads X-Per-Page as the total
    "total-pages-wrong-header": True,  # reads X-Page as the page count
    "next-page-wrong-header": True,  # reads X-Prev-Page as the next page
    "items-wrong-root": True,  # reads the items under a key of a bare array
    "id-from-name": True,  # the record's id is the package's name (not unique)
    "naive-timestamps": True,  # created_at without a time zone
    "auth-header-name": True,  # sends the token as X-Token, not PRIVATE-TOKEN
    "query-ignored": True,  # lists project 1 whatever is asked
    "limit-not-a-page-size": True,  # asks for twice the page size (more than the listing allows)
    "short-page-never-ends": False,  # short_page_ends=False: the counts still end it right
    "totals-upper-bounds": False,  # exact_totals=False: the counts still keep it going right
}


@attrs.frozen(kw_only=True)
class ForgeQuery(pkglist.Query):
    project: str = pkglist.option(help="Project id.")


def forge_provider(mutation: str | None) -> pkglist.Provider:
    paging = pkglist.PageNumber(
        items=pkglist.ROOT,
        page_param="page",
        size_param="per_page",
        first=1,
        total_items_header="X-Total",
        total_pages_header="X-Total-Pages",
        next_page_header="X-Next-Page",
    )
    changes: dict[str, Any] = {
        "page-size-param-name": {"size_param": "size"},
        "page-param-name": {"page_param": "p"},
        "first-page-off-by-one": {"first": 0},
        "total-items-wrong-header": {"total_items_header": "X-Per-Page"},
        "total-pages-wrong-header": {"total_pages_header": "X-Page"},
        "next-page-wrong-header": {"next_page_header": "X-Prev-Page"},
        "items-wrong-root": {"items": "items"},
        "short-page-never-ends": {"short_page_ends": False},
        "totals-upper-bounds": {"exact_totals": False},
    }.get(mutation or "", {})
    paging = attrs.evolve(paging, **changes)

    class Forge(pkglist.Provider):
        name = "forge"
        listings = (
            pkglist.Listing(
                name="packages",
                query=ForgeQuery,
                help="Packages of a project.",
                max_page_size=50,
                paging=paging,
            ),
        )
        credentials = (pkglist.Credential("token", "Forge token."),)

        def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
            name = "X-Token" if mutation == "auth-header-name" else "PRIVATE-TOKEN"
            return {name: credentials["token"]}

        def list_request(self, listing: pkglist.Listing, query: Any, base_url: str, page_size: int) -> Any:
            project = "1" if mutation == "query-ignored" else query.project
            size = page_size * 2 if mutation == "limit-not-a-page-size" else page_size
            url = pkglist.join_url(base_url, f"/projects/{pkglist.quote_segment(project)}/packages")
            return listing.paging.first_request(url, [], size)

        def normalize(self, listing: pkglist.Listing, query: Any, raw: Any) -> pkglist.Package:
            item = fields.as_object(raw)
            created = fields.optional_timestamp(item, "created_at")
            if mutation == "naive-timestamps" and created is not None:
                created = datetime(created.year, created.month, created.day)
            return pkglist.Package(
                provider=self.name,
                listing=listing.name,
                id=fields.require_str(item, "name" if mutation == "id-from-name" else "id"),
                name=fields.require_str(item, "name"),
                version=fields.optional_str(item, "version"),
                scope=query.project,
                created_at=created,
            )

    return Forge()


class ForgeEmulator:
    """Two projects; ``size`` packages in project 7 (names repeat: a package has versions)."""

    credentials: ClassVar[dict[str, str]] = {"token": FORGE_TOKEN}

    def __init__(self, size: int) -> None:
        self.projects = {
            "7": [self._package(n) for n in range(size)],
            "1": [self._package(n + 1000) for n in range(4)],
        }

    @staticmethod
    def _package(n: int) -> dict[str, Any]:
        return {
            "id": str(5000 + n),
            "name": f"lib-{n // 2}",
            "version": f"1.{n}.0",
            "created_at": f"2026-01-{1 + n % 28:02d}T10:00:00Z",
        }

    def handle(self, request: Request) -> Response:
        if request.headers.get("private-token") != FORGE_TOKEN:
            return Response.json({"message": "401 Unauthorized"}, status=401)
        parts = request.path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "projects" or parts[2] != "packages":
            return Response.json({"message": "404 Not Found"}, status=404)
        packages = self.projects.get(parts[1])
        if packages is None:
            return Response.json({"message": "404 Project Not Found"}, status=404)
        size = request.param("per_page", "20") or "20"
        if not size.isdigit() or not 1 <= int(size) <= 50:
            return Response.json({"message": "per_page is invalid"}, status=400)
        return header_page(request, packages)
