"""The Metabind provider: a project's published packages.

``GET /v1/organizations/{organizationId}/projects/{projectId}/packages`` with
``page`` (1-based) and ``limit`` (at most 100), newest first, answered with
``{data, pagination: {page, limit, total, pages}}``. Newer docs describe a
cursor variant (``pagination.lastKey``, passed back as ``lastKey``); a
response carrying a ``lastKey`` is followed that way whatever else it says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

import pkglist
from pkglist.text import one_line

from ._normalize import normalize_package

if TYPE_CHECKING:
    import httpx

    from ._emulator import MetabindEmulator

__all__ = ["MetabindProvider", "PackagesQuery"]

DEFAULT_BASE_URL = "https://api.metabind.ai"
MAX_LIMIT = 100

# Documented ids look like "org123" / "proj456"; allow UUIDs, slugs and dotted names too.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,127}")


def check_id(value: str) -> None:
    """Reject what cannot be one path segment of a Metabind id.

    >>> check_id("proj123")
    >>> check_id("proj..x")
    Traceback (most recent call last):
    ValueError: must not contain '..'
    """
    if not value:
        raise ValueError("must not be empty")
    if "/" in value:
        raise ValueError("must not contain '/'")
    if ".." in value:
        raise ValueError("must not contain '..'")
    if not _ID.fullmatch(value):
        raise ValueError("expected an id of letters, digits, '-', '_', '.' or '~' (at most 128)")


@attrs.frozen(kw_only=True)
class PackagesQuery(pkglist.Query):
    organization: str = pkglist.option(
        help="Organization id (organizationId), e.g. org123.",
        envvar="METABIND_ORGANIZATION",
        metavar="ORG_ID",
        check=check_id,
    )
    project: str = pkglist.option(
        help="Project id (projectId), e.g. proj123.",
        envvar="METABIND_PROJECT",
        metavar="PROJECT_ID",
        check=check_id,
    )


# The documented generation: numbered pages. Pages are addressable and the first
# response tells how many there are, so the engine fetches the rest concurrently.
_PAGES = pkglist.PageNumber(
    items="data",
    page_param="page",
    size_param="limit",
    first=1,
    total_pages="pagination.pages",
    total_items="pagination.total",
    reported_page="pagination.page",
    short_page_ends=False,  # `pages` is authoritative: a server capping `limit` lower must not end us early
)
# The same without `pages` in the body: then a short or empty page ends the listing.
_SHORT_PAGES = attrs.evolve(_PAGES, total_pages=None, short_page_ends=True)
# The newer generation: `lastKey` passed back until absent (`total` kept when sent, to notice changes).
_CURSOR = pkglist.Cursor(
    items="data",
    token="pagination.lastKey",
    param="lastKey",
    size_param="limit",
    total_items="pagination.total",
)


class MetabindProvider(pkglist.Provider):
    name = "metabind"
    title = "Metabind: the published packages of a project."
    listings = (
        pkglist.Listing(
            name="packages",
            query=PackagesQuery,
            paging=_PAGES,
            help=(
                "Packages published in a Metabind project, newest first "
                "(GET /v1/organizations/{organizationId}/projects/{projectId}/packages). "
                "--page-size is Metabind's own `limit` parameter (packages per page, at most 100); "
                "--limit stops the listing after N packages."
            ),
            max_page_size=MAX_LIMIT,
        ),
    )
    credentials = (
        pkglist.Credential(
            "api_key", "Metabind API key (sent as Authorization: Bearer).", envvars=("METABIND_API_KEY",)
        ),
    )
    default_base_url = DEFAULT_BASE_URL
    base_url_envvars = ("METABIND_API_URL",)

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {credentials['api_key']}"}

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        wanted = _packages_query(query)
        path = (
            f"/v1/organizations/{pkglist.quote_segment(wanted.organization)}"
            f"/projects/{pkglist.quote_segment(wanted.project)}/packages"
        )
        return listing.paging.first_request(pkglist.join_url(base_url, path), [], page_size)

    def paginate(
        self,
        listing: pkglist.Listing,
        query: pkglist.Query,
        request: httpx.Request,
        response: httpx.Response,
    ) -> pkglist.Page:
        body = pkglist.decode_json(response)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        if "lastKey" in request.url.params:
            return _CURSOR.paginate(request, response, body)  # once following keys, a missing key is the end
        if not isinstance(pagination, Mapping):
            return _SHORT_PAGES.paginate(request, response, body)
        if pagination.get("lastKey") not in (None, ""):
            # The cursor docs know no `page`: the next request is `lastKey` + `limit` only.
            following = pkglist.derive_request(request, request.url.copy_remove_param("page"))
            return _CURSOR.paginate(following, response, body)
        if pagination.get("pages") is None:
            pages = _pages_from_total(pagination)
            if pages is None:
                return _SHORT_PAGES.paginate(request, response, body)
            body = {**body, "pagination": {**pagination, "pages": pages}}
        return _PAGES.paginate(request, response, body)

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        wanted = _packages_query(query)
        return normalize_package(
            raw,
            provider=self.name,
            listing=listing.name,
            organization=wanted.organization,
            project=wanted.project,
        )

    def error_detail(self, response: httpx.Response) -> str | None:
        """``{"error": {code, message, details}}`` as ``CODE: message (key: value, ...)``."""
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):
            body = None
        error = body.get("error") if isinstance(body, Mapping) else None
        if isinstance(error, Mapping):
            text = _error_text(error)
            if text:
                return text
        return super().error_detail(response)

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> MetabindEmulator:
        from ._emulator import MetabindEmulator

        return MetabindEmulator(packages=120 if packages is None else packages, seed=seed)


def _pages_from_total(pagination: Mapping[str, Any]) -> int | None:
    """The page count from ``total`` and the ``limit`` the server says it applied, if it says both."""
    total, limit = pagination.get("total"), pagination.get("limit")
    if type(total) is not int or type(limit) is not int or total < 0 or limit < 1:
        return None
    return -(-total // limit)


def _packages_query(query: pkglist.Query) -> PackagesQuery:
    if not isinstance(query, PackagesQuery):
        raise TypeError(f"expected a metabind PackagesQuery, got {type(query).__name__}")
    return query


def _error_text(error: Mapping[str, Any], limit: int = 300) -> str | None:
    code, message = error.get("code"), error.get("message")
    parts = [part for part in (code, message) if isinstance(part, str) and part.strip()]
    if not parts:
        return None
    text = ": ".join(parts)
    details = error.get("details")
    if isinstance(details, Mapping):
        shown = [
            f"{key}: {value}"
            for key, value in details.items()
            if isinstance(value, (str, int, float)) and not isinstance(value, bool)
        ]
        if shown:
            text += " (" + ", ".join(shown[:4]) + ")"
    return one_line(text, limit)
