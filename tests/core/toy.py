"""A tiny provider and its emulator, for the core's own tests.

The toy API serves one team's packages, newest first, in seven paging styles
(one listing each), so every core paging strategy is exercised over HTTP:

* ``numbered``: ``?page=N&per_page=M`` (1-based) with ``total``/``pages``;
* ``hasmore``:  ``?page=N&size=M`` (0-based) with only ``hasMore``;
* ``linked``:   a relative ``next`` href;
* ``cursor``:   an opaque ``cursor`` token;
* ``headers``:  a bare array, totals in ``X-Total``/``X-Total-Pages``/``X-Next-Page`` (GitLab);
* ``link-pages``: a bare array, ``Link`` ``rel="next"``/``rel="last"`` with page numbers (GitHub);
* ``link-last``: a relative ``Link`` ``rel="next"`` carrying ``last=<id>`` (OCI registries).

``x-toy-key`` carries the credential. Knobs on the emulator make it hostile
(repeat a page, loop a link, never change a cursor, grow the total) so the
engine's guards can be tested for real.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

import pkglist
from pkglist import items as fields
from pkglist.testing import Request, Response, header_page, link_header

TOY_KEY = "toy-secret-key-123"


@attrs.frozen(kw_only=True)
class ToyQuery(pkglist.Query):
    team: str = pkglist.option(help="Team whose packages to list.", envvar="TOY_TEAM")
    kind: tuple[str, ...] = pkglist.option(default=(), help="Package kinds.", choices=("lib", "app", "tool"))
    search: str | None = pkglist.option(default=None, help="Substring of the name.")


def _listing(name: str, paging: pkglist.Paging) -> pkglist.Listing:
    return pkglist.Listing(
        name=name,
        query=ToyQuery,
        paging=paging,
        help=f"Toy packages ({name} paging).",
        max_page_size=50,
        default_page_size=20,
    )


class ToyProvider(pkglist.Provider):
    name = "toy"
    title = "A toy packages API for the core's tests."
    listings = (
        _listing(
            "numbered",
            pkglist.PageNumber(
                items="items",
                page_param="page",
                size_param="per_page",
                first=1,
                total_pages="pages",
                total_items="total",
            ),
        ),
        _listing("hasmore", pkglist.PageNumber(items="items", first=0, has_more="hasMore")),
        _listing("linked", pkglist.NextLink(items="items", next="links.next", size_param="size")),
        _listing("cursor", pkglist.Cursor(items="items", token="cursor", param="cursor", size_param="size")),
        _listing(
            "headers",
            pkglist.PageNumber(
                items=pkglist.ROOT,
                page_param="page",
                size_param="per_page",
                first=1,
                total_items_header="X-Total",
                total_pages_header="X-Total-Pages",
                next_page_header="X-Next-Page",
            ),
        ),
        _listing("link-pages", pkglist.LinkHeader(size_param="per_page", page_param="page", first=1)),
        _listing("link-last", pkglist.LinkHeader(items="items", size_param="n")),
    )
    credentials = (pkglist.Credential("api_key", "Toy API key.", envvars=("TOY_API_KEY",)),)
    base_url_envvars = ("TOY_URL",)

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        return {"x-toy-key": credentials["api_key"]}

    def list_request(self, listing: pkglist.Listing, query: Any, base_url: str, page_size: int) -> Any:
        params: list[tuple[str, str]] = [("kind", kind) for kind in query.kind]
        if query.search:
            params.append(("q", query.search))
        url = pkglist.join_url(base_url, f"/v1/teams/{pkglist.quote_segment(query.team)}/{listing.name}")
        return listing.paging.first_request(url, params, page_size)

    def normalize(self, listing: pkglist.Listing, query: Any, raw: Any) -> pkglist.Package:
        item = fields.as_object(raw)
        return pkglist.Package(
            provider=self.name,
            listing=listing.name,
            id=fields.require_str(item, "id"),
            name=fields.require_str(item, "name"),
            version=fields.optional_str(item, "version"),
            package_type=fields.optional_str(item, "kind"),
            scope=query.team,
            updated_at=fields.optional_timestamp(item, "updated", unit="ms"),
            extra={"downloads": fields.optional_int(item, "downloads")},
        )

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> ToyEmulator:
        return ToyEmulator(packages=12 if packages is None else packages)


def make_items(count: int, start: int = 0) -> list[dict[str, Any]]:
    kinds = ("lib", "app", "tool")
    return [
        {
            "id": f"p{n:05d}",
            "name": f"pkg-{n}",
            "version": f"1.{n}.0",
            "kind": kinds[n % 3],
            "updated": 1_700_000_000_000 + n * 1000,
            "downloads": n * 7,
        }
        for n in range(start + count - 1, start - 1, -1)  # newest first
    ]


class ToyEmulator:
    """Serves ``team`` "core" with ``packages`` items; other teams are 404."""

    credentials: ClassVar[dict[str, str]] = {"api_key": TOY_KEY}

    def __init__(self, packages: int = 12, team: str = "core") -> None:
        self.team = team
        self.items = make_items(packages)
        self.lock = threading.Lock()
        self.repeat_page = False  # every page is page 1, with "more" forever
        self.loop_link = False  # the next link always points at the same page
        self.stuck_cursor = False  # the cursor never changes
        self.grow_total = False  # each response claims one more page
        self.other_origin: str | None = None  # next links point there
        self.publish_after_first = 0  # items to publish (at the head) after page 1 is served
        self.body_override: bytes | None = None  # serve this body (200) instead of the page
        self.bad_item: tuple[int, Any] | None = None  # (index, item) replacing one item
        self.served = 0

    def publish(self, count: int) -> None:
        with self.lock:
            start = len(self.items)
            self.items = make_items(count, start=start) + self.items

    def handle(self, request: Request) -> Response:
        if request.headers.get("x-toy-key") != TOY_KEY:
            return Response.json({"error": {"message": "bad key"}}, status=401)
        parts = request.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["v1", "teams"]:
            return Response.json({"error": {"message": "no such route"}}, status=404)
        team, style = parts[2], parts[3]
        if team != self.team:
            return Response.json({"error": {"message": f"team {team} not found"}}, status=404)
        with self.lock:
            items = list(self.items)
            self.served += 1
            served = self.served
        kinds = request.params("kind")
        if kinds:
            items = [item for item in items if item["kind"] in kinds]
        search = request.param("q")
        if search:
            items = [item for item in items if search in item["name"]]
        if self.bad_item is not None:
            index, bad = self.bad_item
            items[index] = bad
        if self.body_override is not None:
            return Response.raw(self.body_override, content_type="text/html")
        body = self._page(style, request, items, served)
        if self.publish_after_first and served == 1:
            self.publish(self.publish_after_first)
        return body if isinstance(body, Response) else Response.json(body)

    def _page(self, style: str, request: Request, items: list[dict[str, Any]], served: int) -> Any:
        if style == "numbered":
            size = int(request.param("per_page", "20") or 20)
            page = int(request.param("page", "1") or 1)
            if self.repeat_page:
                page = 1
            chunk = items[(page - 1) * size : page * size]
            pages = max(1, -(-len(items) // size)) + (served if self.grow_total else 0)
            return {"items": chunk, "total": len(items) + (served if self.grow_total else 0), "pages": pages}
        if style == "hasmore":
            size = int(request.param("size", "20") or 20)
            page = 0 if self.repeat_page else int(request.param("page", "0") or 0)
            chunk = items[page * size : (page + 1) * size]
            more = self.repeat_page or (page + 1) * size < len(items)
            return {"items": chunk, "hasMore": more, "page": page, "size": size}
        if style == "linked":
            size = int(request.param("size", "20") or 20)
            offset = int(request.param("offset", "0") or 0)
            chunk = items[offset : offset + size]
            following = None
            if offset + size < len(items):
                following = f"{request.path}?size={size}&offset={0 if self.loop_link else offset + size}"
                if self.other_origin:
                    following = self.other_origin + following
            return {"items": chunk, "links": {"next": following}}
        if style == "cursor":
            size = int(request.param("size", "20") or 20)
            token = request.param("cursor")
            offset = json.loads(base64.b64decode(token))["o"] if token else 0
            chunk = items[offset : offset + size]
            cursor = None
            if offset + size < len(items):
                position = offset if self.stuck_cursor else offset + size
                cursor = base64.b64encode(json.dumps({"o": position}).encode()).decode()
            return {"items": chunk, "cursor": cursor}
        if style == "headers":  # GitLab's spelling: a bare array, the totals in headers
            return header_page(request, items, links=False)
        if style == "link-pages":  # GitHub's spelling: a bare array, Link rel="next" and rel="last"
            return header_page(request, items, totals=False)
        if style == "link-last":  # the OCI spelling: ?n=N&last=ID, a relative rel="next" link only
            size = int(request.param("n", "20") or 20)
            after = request.param("last")
            start = 0 if after is None else next(i for i, item in enumerate(items) if item["id"] == after) + 1
            chunk = items[start : start + size]
            headers = {}
            if start + size < len(items):
                headers["Link"] = link_header({"next": f"{request.path}?n={size}&last={chunk[-1]['id']}"})
            return Response.json({"items": chunk}, headers=headers)
        return Response.json({"error": {"message": f"unknown listing {style}"}}, status=404)


class ToyPlugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [ToyProvider()]


def manager(*extra: object) -> pkglist.PluginManager:
    return pkglist.PluginManager.for_testing(ToyPlugin(), *extra)
