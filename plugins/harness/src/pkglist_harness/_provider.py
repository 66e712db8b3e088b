"""The Harness Artifact Registry provider: three listings over the v3 and v1 APIs."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

import pkglist

from ._errors import error_detail, failed_status, missing_scope
from ._normalize import NORMALIZERS
from ._pushdown import PACKAGES_PUSHDOWN, SPACE_ARTIFACTS_PUSHDOWN
from ._queries import (
    PackagesQuery,
    RegistryArtifactsQuery,
    SpaceArtifactsQuery,
    normalize_package_type,
    normalize_sort,
    parse_ref,
)

if TYPE_CHECKING:
    import httpx

    from ._emulator import HarnessEmulator

__all__ = ["HarnessProvider"]

logger = logging.getLogger("pkglist.harness")

PACKAGES_PATH = "/har/api/v3/packages"
REGISTRY_PATH = "/har/api/v1/registry/{ref}/+/artifacts"
SPACE_PATH = "/har/api/v1/spaces/{ref}/+/artifacts"

_V1_PAGING = pkglist.PageNumber(
    items="data.artifacts",
    page_param="page",
    size_param="size",
    first=0,
    total_pages="data.pageCount",
    total_items="data.itemCount",
    exact_totals=False,  # they can count versions while the list has packages: upper bounds
    reported_page="data.pageIndex",
)

PACKAGES = pkglist.Listing(
    name="packages",
    query=PackagesQuery,
    paging=pkglist.PageNumber(
        items="items", page_param="page", size_param="size", first=0, has_more="hasMore", reported_page="page"
    ),
    help="Packages of an account, org or project (GET /har/api/v3/packages).",
    max_page_size=100,
    pushdown=PACKAGES_PUSHDOWN,
)
REGISTRY_ARTIFACTS = pkglist.Listing(
    name="registry-artifacts",
    query=RegistryArtifactsQuery,
    paging=_V1_PAGING,
    help="Artifacts of one registry, one row per package (GET /har/api/v1/registry/{ref}/+/artifacts).",
    max_page_size=100,
)
SPACE_ARTIFACTS = pkglist.Listing(
    name="space-artifacts",
    query=SpaceArtifactsQuery,
    paging=_V1_PAGING,
    help=(
        "Artifacts of an account, org or project, one row per version unless --latest-only "
        "(GET /har/api/v1/spaces/{ref}/+/artifacts)."
    ),
    max_page_size=100,
    pushdown=SPACE_ARTIFACTS_PUSHDOWN,
)

Params = list[tuple[str, str | int | float | bool]]


class HarnessProvider(pkglist.Provider):
    name = "harness"
    title = "Harness Artifact Registry: packages (v3), registry artifacts and space artifacts (v1)."
    listings = (PACKAGES, REGISTRY_ARTIFACTS, SPACE_ARTIFACTS)
    credentials = (
        pkglist.Credential(
            "api_key",
            "Harness API key (x-api-key).",
            envvars=("HARNESS_PLATFORM_API_KEY", "HARNESS_API_KEY"),
        ),
    )
    default_base_url = "https://app.harness.io"
    base_url_envvars = ("HARNESS_ENDPOINT",)

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        return {"x-api-key": credentials["api_key"]}

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        if isinstance(query, PackagesQuery):
            url, params = pkglist.join_url(base_url, PACKAGES_PATH), _packages_params(query)
        elif isinstance(query, RegistryArtifactsQuery):
            ref = parse_ref(query.registry_ref, shortest=2, longest=4, shape="registry ref")
            url = pkglist.join_url(base_url, REGISTRY_PATH.format(ref=_path(ref)))
            params = _registry_params(query)
        elif isinstance(query, SpaceArtifactsQuery):
            ref = parse_ref(query.space_ref, shortest=1, longest=3, shape="space ref")
            url = pkglist.join_url(base_url, SPACE_PATH.format(ref=_path(ref)))
            params = _space_params(query)
        else:
            raise pkglist.PluginError(f"harness: unexpected query {type(query).__name__} for {listing.name}")
        return listing.paging.first_request(url, params, page_size)

    def paginate(
        self, listing: pkglist.Listing, query: pkglist.Query, request: httpx.Request, response: httpx.Response
    ) -> pkglist.Page:
        body = pkglist.decode_json(response)
        if listing.name != PACKAGES.name:
            failure = failed_status(body, lambda: self.error_detail(response))
            if failure is not None:
                raise pkglist.ProtocolError(failure)
        page = listing.paging.paginate(request, response, body)
        meta = body.get("meta") if isinstance(body, Mapping) else None
        if not isinstance(meta, Mapping):
            return page
        if request.url.params.get("page") == "0":
            logger.info(
                "harness %s: activeCount=%s deletedCount=%s",
                listing.name,
                meta.get("activeCount"),
                meta.get("deletedCount"),
            )
        # v3 pages announce no total; the meta counts (--include-meta) are one, so that a
        # registry changing while it is listed is noticed and reported.
        total = _meta_total(meta, request.url.params.get("deleted"))
        return page if total is None else attrs.evolve(page, total_items=total)

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        return NORMALIZERS[listing.name](self.name, listing.name, raw)

    def error_class(self, response: httpx.Response) -> type[pkglist.ProviderError] | None:
        """A failed space or registry lookup (a 400, or a 500 on older servers) is "not found"."""
        return pkglist.NotFoundError if missing_scope(response) is not None else None

    def error_detail(self, response: httpx.Response) -> str | None:
        """The core's reading of the error body, made plain (see :mod:`pkglist_harness._errors`)."""
        return error_detail(response, super().error_detail(response))

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> HarnessEmulator:
        from ._emulator import HarnessEmulator

        return HarnessEmulator(packages=120 if packages is None else packages, seed=seed)


def _path(segments: tuple[str, ...]) -> str:
    return "/".join(pkglist.quote_segment(segment) for segment in segments)


def _packages_params(query: PackagesQuery) -> Params:
    params: Params = [("account_identifier", query.account)]
    if query.org is not None:
        params.append(("org_identifier", query.org))
    if query.project is not None:
        params.append(("project_identifier", query.project))
    params += [("registry_ids", value) for value in query.registry_id]
    params += [("metadata", value) for value in query.metadata]
    if query.package_kind is not None:
        params.append(("package_kind", query.package_kind))
    params += [("package_types", normalize_package_type(value)) for value in query.package_type]
    if query.deleted is not None:
        params.append(("deleted", query.deleted))
    if query.sort is not None:
        params.append(("sort", normalize_sort(query.sort)))
    if query.search is not None:
        params.append(("search_term", query.search))
    if query.include_meta:
        params.append(("include_meta", True))
    return params


def _sorting(params: Params, sort_field: str | None, sort_order: str | None, search: str | None) -> None:
    if sort_field is not None:
        params.append(("sort_field", sort_field))
    if sort_order is not None:
        params.append(("sort_order", sort_order))
    if search is not None:
        params.append(("search_term", search))


def _registry_params(query: RegistryArtifactsQuery) -> Params:
    params: Params = [("label", value) for value in query.label]
    _sorting(params, query.sort_field, query.sort_order, query.search)
    if query.artifact_type is not None:
        params.append(("artifact_type", query.artifact_type))
    return params


def _space_params(query: SpaceArtifactsQuery) -> Params:
    params: Params = [("reg_identifier", value) for value in query.registry]
    params += [("package_type", normalize_package_type(value)) for value in query.package_type]
    _sorting(params, query.sort_field, query.sort_order, query.search)
    if query.latest_only:
        params.append(("latest_version", True))
    if query.deployed_only:
        params.append(("deployed_artifact", True))
    return params


def _meta_total(meta: Mapping[str, Any], deleted: str | None) -> int | None:
    """How many packages the listing holds, by the v3 ``meta`` counts and the ``deleted`` filter."""
    active, removed = meta.get("activeCount"), meta.get("deletedCount")
    if not (type(active) is int and type(removed) is int and active >= 0 and removed >= 0):
        return None
    if deleted == "only":
        return removed
    if deleted == "include":
        return active + removed
    return active
