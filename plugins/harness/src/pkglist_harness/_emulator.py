"""An in-memory Harness Artifact Registry behind the three real routes.

Routes (also under a ``/gateway`` prefix, as the SaaS serves them):

* ``GET /har/api/v3/packages``: ``{page, size, hasMore, items, meta?}``;
  ``page`` 0-indexed, ``size`` 1-100 (default 20, more is a 400), errors
  ``{"error": {type, code, message, param}}``.
* ``GET /har/api/v1/registry/{registry_ref}/+/artifacts`` and
  ``GET /har/api/v1/spaces/{space_ref}/+/artifacts``: ``{status, data:
  {artifacts, itemCount, pageCount, pageIndex, pageSize}}``; errors
  ``{code, message, details}``. The ref is ``a/b/c/+`` or one
  percent-encoded segment (``a%2Fb%2Fc``); a multi-segment ref without ``/+``
  matches no route (plain-text 404, like the real router).

The quirks of the real API (``shared/API-NOTES.md``) are kept: v1 pages are
0-indexed (offset = page x size) and ``pageIndex`` echoes ``page`` (1 when
absent); without ``size`` the page size is 10 and ``page`` is ignored; a page
past the end is an empty 200; ``itemCount``/``pageCount`` count versions in
non-Docker registries (too high: the list has one row per package) and in
``latest_version=true`` space listings; ``lastModified``/``deletedAt`` are
strings of milliseconds; ``labels`` may be ``null``; ``sort_order`` is
descending only for exactly ``DESC`` and an unknown ``sort_field`` sorts by
creation; a malformed ref is a 400; a malformed integer or boolean is a
plain-text 400. A ref whose account, space or registry does not exist is what
the open-source server answers (``registry/app/api/controller/metadata``: the
scope lookups of ``GetRegistryRequestBaseInfo``): a 400 whose ``message`` is
``root space not found: ...``, ``parent space not found: ...`` or ``registry
not found: ...`` (no ``details``). Listings cover the given account, org or
project and the spaces below it. A missing or wrong ``x-api-key`` is a 401.
Setting ``v1_failure = (status, message)`` makes the v1 routes answer 200 with
that ``status`` (``FAILURE``, ``ERROR``), that ``message`` and no artifacts,
which the envelope allows.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from pkglist.testing import Request, Response

from ._data import DEMO_ACCOUNT, DEMO_API_KEY, DEMO_ORG, DEMO_PROJECT, DEMO_SPACE, Artifact, Catalog, Registry
from ._render import package_item, registry_artifact_item, space_artifact_item
from ._select import Row, Selector

__all__ = ["HarnessEmulator"]

PACKAGES_ROUTE = "/har/api/v3/packages"
REGISTRY_PREFIX = "/har/api/v1/registry/"
SPACES_PREFIX = "/har/api/v1/spaces/"
ARTIFACTS_SUFFIX = "/artifacts"

V3_MAX_SIZE = 100
V3_DEFAULT_SIZE = 20
V1_DEFAULT_SIZE = 10
V3_SORT_FIELDS: dict[str, Callable[[Artifact], object]] = {
    "name": lambda a: a.name,
    "modifiedAt": lambda a: a.modified_ms,
    "createdAt": lambda a: a.created_ms,
    "downloadCount": lambda a: a.downloads,
    "registryName": lambda a: a.registry.identifier,
    "packageType": lambda a: a.registry.package_type,
}
V1_SORT_FIELDS: dict[str, Callable[[Row], object]] = {
    "repoKey": lambda row: row[0].registry.identifier,
    "name": lambda row: row[0].name,
    "lastModified": lambda row: row[0].version_ms(row[1]),
    "downloadsCount": lambda row: row[0].version_downloads(row[1]),
    "createdAt": lambda row: row[0].created_ms,
}

_SEGMENT = re.compile(r"[A-Za-z0-9_.$-]{1,128}")
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_SORT = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*):(asc|desc)")
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
# How the server's lookups fail: its own prefixes, then the space finder's wrapping
# (app/services/refcache), the registry store's ("Failed to find repo") and the store's
# not-found error (store.ErrResourceNotFound); whatever the space cache adds in between is
# left out.
_NOT_FOUND = "resource not found"
_NO_ROOT_SPACE = f"root space not found: failed to get space ID by space path from cache: {_NOT_FOUND}"
_NO_PARENT_SPACE = f"parent space not found: failed to get space ID by space path from cache: {_NOT_FOUND}"
_NO_REGISTRY = f"registry not found: Failed to find repo: {_NOT_FOUND}"


class _Reply(Exception):
    """Ends a request early with ``response``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class HarnessEmulator:
    """The emulator. ``packages`` sizes the main registry (``<type>-local`` in
    ``acme/platform/payments``, Docker by default); ``seed`` varies names,
    UUIDs and counts. See the module docstring for the API it serves."""

    account = DEMO_ACCOUNT
    org = DEMO_ORG
    project = DEMO_PROJECT
    space = DEMO_SPACE

    def __init__(
        self,
        *,
        packages: int = 120,
        seed: int = 0,
        main_package_type: str = "DOCKER",
        api_key: str = DEMO_API_KEY,
    ) -> None:
        self.catalog = Catalog(packages=packages, seed=seed, main_package_type=main_package_type)
        self.selector = Selector(self.catalog)
        self.credentials: Mapping[str, str] = {"api_key": api_key}
        self._api_key = api_key
        #: ``(status, message)``: every v1 listing answers 200 with that failed status.
        self.v1_failure: tuple[str, str] | None = None

    @property
    def main_registry(self) -> Registry:
        return self.catalog.main_registry

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except _Reply as reply:
            return reply.response

    def _route(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/gateway/"):
            path = path[len("/gateway") :]
        if path == PACKAGES_ROUTE:
            handler: Callable[[Request, list[str]], Response] = self._packages
            ref: list[str] = []
        elif _between(path, REGISTRY_PREFIX, ARTIFACTS_SUFFIX):
            handler, ref = self._registry_artifacts, _ref(path, REGISTRY_PREFIX)
        elif _between(path, SPACES_PREFIX, ARTIFACTS_SUFFIX):
            handler, ref = self._space_artifacts, _ref(path, SPACES_PREFIX)
        else:
            return _no_route()
        if request.method not in ("GET", "HEAD"):
            return Response.text("Method Not Allowed\n", status=405)
        if request.headers.get("x-api-key") != self._api_key:
            if path == PACKAGES_ROUTE:
                _v3_error(
                    401, "AUTHENTICATION_ERROR", "invalid_api_key", "Invalid or missing API key (x-api-key)"
                )
            _v1_error(401, "Unauthorized: invalid or missing API key (x-api-key)")
        return handler(request, ref)

    # GET /har/api/v3/packages ------------------------------------------------------

    def _packages(self, request: Request, _: list[str]) -> Response:
        page = _int_param(request, "page")
        size = _int_param(request, "size")
        include_meta = _bool_param(request, "include_meta")
        account = request.param("account_identifier") or ""
        org = request.param("org_identifier") or None
        project = request.param("project_identifier") or None
        if not account:
            _invalid("account_identifier", "account_identifier is required")
        page = 0 if page is None else page
        size = V3_DEFAULT_SIZE if size is None else size
        if page < 0:
            _invalid("page", "page must be 0 or more")
        if not 1 <= size <= V3_MAX_SIZE:
            _invalid("size", f"size must be between 1 and {V3_MAX_SIZE}")
        deleted = request.param("deleted") or "exclude"
        if deleted not in ("exclude", "include", "only"):
            _invalid("deleted", "deleted must be one of exclude, include, only")
        registry_ids = tuple(request.params("registry_ids"))
        if any(not _UUID.fullmatch(value) for value in registry_ids):
            _invalid("registry_ids", "registry_ids must be UUIDs")
        metadata = []
        for value in request.params("metadata"):
            key, colon, wanted = value.partition(":")
            if not colon or not key:
                _invalid("metadata", f"metadata filter {value!r} is not key:value")
            metadata.append((key, wanted))
        sort = self._v3_sort(request.param("sort"))
        if project and not org:
            _invalid("project_identifier", "project_identifier needs org_identifier")
        space = self._v3_space(account, org, project)
        types = tuple(request.params("package_types"))
        kind = request.param("package_kind") or None
        search = (request.param("search_term") or "").lower()
        registries = [
            r
            for r in self.catalog.registries
            if r.in_space(space)
            and (not registry_ids or r.uuid in registry_ids)
            and (not types or r.package_type in types)
        ]

        def matches(artifact: Artifact) -> bool:
            return (
                all(artifact.metadata.get(key) == wanted for key, wanted in metadata)
                and (kind is None or artifact.package_kind == kind)
                and search in artifact.name.lower()
            )

        filtered = bool(metadata or kind or search)
        selection = self.selector.packages(
            registries,
            deleted=deleted,
            predicate=matches if filtered else None,
            sort=sort,
            cache_key=(space, registry_ids, types, tuple(metadata), kind, search, request.param("sort")),
        )
        start = page * size
        items = selection.items.window(start, start + size)
        body: dict[str, Any] = {
            "page": page,
            "size": size,
            "hasMore": start + len(items) < len(selection.items),
            "items": [package_item(artifact) for artifact in items],
        }
        if include_meta:
            body["meta"] = {"activeCount": selection.active, "deletedCount": selection.deleted}
        return Response.json(body)

    def _v3_sort(self, value: str | None) -> tuple[Callable[[Artifact], object], bool] | None:
        if not value:
            return None
        match = _SORT.fullmatch(value)
        if match is None or match.group(1) not in V3_SORT_FIELDS:
            fields = ", ".join(V3_SORT_FIELDS)
            _invalid("sort", f"sort must be field:asc or field:desc with a field among {fields}")
        return V3_SORT_FIELDS[match.group(1)], match.group(2) == "desc"

    def _v3_space(self, account: str, org: str | None, project: str | None) -> str:
        if account not in self.catalog.accounts:
            _v3_error(
                404,
                "INVALID_REQUEST_ERROR",
                "resource_missing",
                f"No account {account!r}",
                "account_identifier",
            )
        space = account
        for param, value in (("org_identifier", org), ("project_identifier", project)):
            if value is None:
                break
            space += "/" + value
            if space not in self.catalog.spaces:
                what = param.split("_")[0]
                _v3_error(404, "INVALID_REQUEST_ERROR", "resource_missing", f"No {what} {space!r}", param)
        return space

    # GET /har/api/v1/registry/{registry_ref}/+/artifacts ----------------------------

    def _registry_artifacts(self, request: Request, ref: list[str]) -> Response:
        page, size = _int_param(request, "page"), _int_param(request, "size")
        _check_ref(ref, 2, 4, "registry_ref")
        space, identifier = self._space("/".join(ref[:-1])), ref[-1]
        registry = self.catalog.registry(space, identifier)
        if registry is None:
            _v1_error(400, _NO_REGISTRY)
        self._check_v1_failure()
        labels = set(request.params("label"))
        search = (request.param("search_term") or "").lower()
        artifact_type = request.param("artifact_type") or None
        if artifact_type is not None:
            if registry.package_type != "HUGGINGFACE":
                _v1_error(400, "invalid package type", {"field": "artifact_type", "value": artifact_type})
            if artifact_type not in ("model", "dataset"):
                _v1_error(400, "invalid artifact type for package type", {"field": "artifact_type"})

        def matches(artifact: Artifact) -> bool:
            return (
                (not labels or bool(labels.intersection(artifact.labels or ())))
                and search in artifact.name.lower()
                and (artifact_type is None or artifact.package_kind == artifact_type)
            )

        row_sort = _v1_sort(request)
        sort = None if row_sort is None else (_on_latest(row_sort[0]), row_sort[1])
        selection = self.selector.registry_artifacts(
            registry,
            predicate=matches if labels or search or artifact_type else None,
            sort=sort,
            cache_key=(registry.uuid, tuple(sorted(labels)), search, artifact_type, _sort_key(request)),
        )
        return _v1_page(page, size, selection.item_count, selection.items.window, registry_artifact_item)

    # GET /har/api/v1/spaces/{space_ref}/+/artifacts ---------------------------------

    def _space_artifacts(self, request: Request, ref: list[str]) -> Response:
        page, size = _int_param(request, "page"), _int_param(request, "size")
        latest_only = bool(_bool_param(request, "latest_version"))
        deployed_only = bool(_bool_param(request, "deployed_artifact"))
        _check_ref(ref, 1, 3, "space_ref")
        space = self._space("/".join(ref))
        self._check_v1_failure()
        names = tuple(request.params("reg_identifier"))
        types = tuple(request.params("package_type"))
        search = (request.param("search_term") or "").lower()
        registries = [
            r
            for r in self.catalog.registries
            if r.in_space(space)
            and (not names or r.identifier in names)
            and (not types or r.package_type in types)
        ]

        def deployed(row: Row) -> bool:
            artifact, k = row
            return k == len(artifact.versions) - 1 and artifact.prod_envs + artifact.non_prod_envs > 0

        selection = self.selector.space_artifacts(
            registries,
            latest_only=latest_only,
            predicate=(lambda artifact: search in artifact.name.lower()) if search else None,
            row_predicate=deployed if deployed_only else None,
            sort=_v1_sort(request),
            cache_key=(space, names, types, search, deployed_only, _sort_key(request)),
        )
        return _v1_page(page, size, selection.item_count, selection.items.window, _space_item)

    def _space(self, space: str) -> str:
        account = space.split("/", 1)[0]
        if account not in self.catalog.accounts:
            _v1_error(400, _NO_ROOT_SPACE)
        if space not in self.catalog.spaces:
            _v1_error(400, _NO_PARENT_SPACE)
        return space

    def _check_v1_failure(self) -> None:
        if self.v1_failure is not None:
            status, message = self.v1_failure
            raise _Reply(Response.json({"status": status, "data": _empty_v1_data(), "message": message}))


# Requests ---------------------------------------------------------------------------


def _between(path: str, prefix: str, suffix: str) -> bool:
    return path.startswith(prefix) and path.endswith(suffix) and len(path) > len(prefix) + len(suffix)


def _ref(path: str, prefix: str) -> list[str]:
    """The decoded segments of a ref: ``a/b/c/+`` or one encoded segment ``a%2Fb%2Fc``."""
    middle = path[len(prefix) : -len(ARTIFACTS_SUFFIX)]
    if middle.endswith("/+"):
        parts = middle[:-2].split("/")
    elif middle == "+":
        parts = [""]
    elif "/" not in middle:
        parts = [middle]
    else:
        raise _Reply(_no_route())
    return [segment for part in parts for segment in urllib.parse.unquote(part).split("/")]


def _check_ref(ref: list[str], shortest: int, longest: int, field: str) -> None:
    value = "/".join(ref)
    reason = None
    if not shortest <= len(ref) <= longest:
        reason = f"expected {shortest} to {longest} path segments"
    elif any(not _SEGMENT.fullmatch(segment) or set(segment) == {"."} for segment in ref):
        reason = "a segment is empty or has characters outside [A-Za-z0-9_.$-]"
    if reason is not None:
        _v1_error(
            400, f"invalid {field.replace('_', ' ')}", {"field": field, "reason": reason, "value": value}
        )


def _int_param(request: Request, name: str) -> int | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        return int(value, 10)
    except ValueError:
        raise _Reply(_binding_error(name, f'strconv.ParseInt: parsing "{value}": invalid syntax')) from None


def _bool_param(request: Request, name: str) -> bool | None:
    value = request.param(name)
    if value is None:
        return None
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise _Reply(_binding_error(name, f'strconv.ParseBool: parsing "{value}": invalid syntax'))


def _v1_sort(request: Request) -> tuple[Callable[[Row], object], bool] | None:
    field = request.param("sort_field") or "createdAt"
    descending = request.param("sort_order") == "DESC"
    if field not in V1_SORT_FIELDS:
        field = "createdAt"
    if field == "createdAt" and not descending:
        return None  # the natural order
    return V1_SORT_FIELDS[field], descending


def _sort_key(request: Request) -> tuple[str | None, bool]:
    return request.param("sort_field"), request.param("sort_order") == "DESC"


def _on_latest(key: Callable[[Row], object]) -> Callable[[Artifact], object]:
    return lambda artifact: key((artifact, len(artifact.versions) - 1))


def _space_item(row: Row) -> dict[str, Any]:
    return space_artifact_item(*row)


# Responses --------------------------------------------------------------------------


def _v1_page(
    page: int | None,
    size: int | None,
    count: int,
    window: Callable[[int, int], list[Any]],
    render: Callable[[Any], dict[str, Any]],
) -> Response:
    if size is not None and size < 1:
        _v1_error(400, "invalid page size", {"field": "size", "value": str(size)})
    if page is not None and page < 0:
        _v1_error(400, "invalid page number", {"field": "page", "value": str(page)})
    limit = V1_DEFAULT_SIZE if size is None else size
    offset = limit * page if size is not None and page is not None else 0
    data = {
        "artifacts": [render(item) for item in window(offset, offset + limit)],
        "itemCount": count,
        "pageCount": math.ceil(count / limit),
        "pageIndex": 1 if page is None else page,
        "pageSize": limit,
    }
    return Response.json({"status": "SUCCESS", "data": data})


def _empty_v1_data() -> dict[str, Any]:
    return {"artifacts": [], "itemCount": 0, "pageCount": 0, "pageIndex": 0, "pageSize": V1_DEFAULT_SIZE}


def _no_route() -> Response:
    return Response.text("404 page not found\n", status=404)


def _binding_error(name: str, reason: str) -> Response:
    return Response.text(
        f"Invalid format for parameter {name}: error binding string parameter: {reason}\n", 400
    )


def _v1_error(status: int, message: str, details: dict[str, str] | None = None) -> NoReturn:
    body: dict[str, Any] = {"code": str(status), "message": message}
    if details:
        body["details"] = details
    raise _Reply(Response.json(body, status=status))


def _v3_error(status: int, kind: str, code: str, message: str, param: str | None = None) -> NoReturn:
    error = {"type": kind, "code": code, "message": message}
    if param is not None:
        error["param"] = param
    raise _Reply(Response.json({"error": error}, status=status))


def _invalid(param: str, message: str) -> NoReturn:
    _v3_error(400, "INVALID_REQUEST_ERROR", "parameter_invalid", message, param)
