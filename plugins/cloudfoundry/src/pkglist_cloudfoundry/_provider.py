"""The Cloud Foundry provider: ``app-packages`` and ``packages`` from the V3 API.

Connecting follows the cf CLI: explicit values and environment variables
first, then the cf CLI's own login in ``$CF_HOME/.cf/config.json``. An app
given by name is looked up the way ``cf packages APP`` does it, as the
first "page" of the listing (``GET /v3/apps?names=...&space_guids=...``),
whose only content is the request for the app's first packages page.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

import pkglist
from pkglist import items as fields

from ._config import CfConfig, ConfigError, config_path, read_config, strip_bearer
from ._query import AppPackagesQuery, PackagesQuery, filter_params, is_guid

if TYPE_CHECKING:
    import httpx

    from ._emulator import CloudFoundryEmulator

__all__ = ["CloudFoundryProvider"]

#: Pages of 1000 packages: about 1 MB of JSON each, so eight pages in flight stay
#: small, and 5x fewer requests than CF's own default of 50 against the rate limit.
DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000

_PAGING = pkglist.PageNumber(
    items="resources",
    page_param="page",
    size_param="per_page",
    first=1,
    total_pages="pagination.total_pages",
    total_items="pagination.total_results",
    next_link="pagination.next.href",
)

APP_PACKAGES = pkglist.Listing(
    name="app-packages",
    query=AppPackagesQuery,
    paging=_PAGING,
    help="Packages of one app (GET /v3/apps/{guid}/packages). An app name is looked up in the "
    "targeted space, as `cf packages APP` does.",
    max_page_size=MAX_PAGE_SIZE,
    default_page_size=DEFAULT_PAGE_SIZE,
)
PACKAGES = pkglist.Listing(
    name="packages",
    query=PackagesQuery,
    paging=_PAGING,
    help="Every package the token can see (GET /v3/packages), filtered by app, space, org or labels.",
    max_page_size=MAX_PAGE_SIZE,
    default_page_size=DEFAULT_PAGE_SIZE,
)


class CloudFoundryProvider(pkglist.Provider):
    name = "cloudfoundry"
    title = "Cloud Foundry V3: the packages (bits and docker images) of apps."
    listings = (APP_PACKAGES, PACKAGES)
    credentials = (
        pkglist.Credential(
            "token",
            "Access token (what `cf oauth-token` prints) [default: the cf CLI login].",
            envvars=("CF_ACCESS_TOKEN",),
            required=False,
        ),
    )
    base_url_envvars = ("CF_API",)

    def __init__(self) -> None:
        # The space targeted in the cf config, by the base URL it was read for: the
        # first request of an app-by-name listing needs it, and only sees the base URL.
        self._targeted_spaces: MutableMapping[str, str | None] = {}

    # Connection ----------------------------------------------------------------------

    def connect(self, settings: pkglist.Settings) -> pkglist.Connection:
        import attrs

        from ._auth import CloudFoundryAuth

        where = settings.where
        environ = settings.environ
        explicit_url = settings.base_url or _first_env(environ, self.base_url_envvars)
        explicit_token = settings.credentials.get("token") or _first_env(environ, ("CF_ACCESS_TOKEN",))
        path = config_path(environ)
        try:
            config = read_config(path)
        except ConfigError as exc:
            if explicit_url and explicit_token:
                config = None  # not needed: a broken cf config must not stop an explicit call
            else:
                raise pkglist.UsageError(f"{where}: {exc}") from None
        raw_url = explicit_url or (config.target if config else None)
        if not raw_url:
            raise pkglist.UsageError(
                f"{where}: no Cloud Foundry API endpoint; pass --base-url, set CF_API or run `cf login`"
            )
        # The base class checks the URL (scheme, host, no credentials or query).
        base_url = (
            super().connect(attrs.evolve(settings, base_url=raw_url, credentials={}, environ={})).base_url
        )
        # The cf login belongs to its own API: never send its token (or trust its
        # settings) to another endpoint.
        login: CfConfig | None = None
        if config is not None and config.target and _origin(config.target) == _origin(base_url):
            login = config
        self._targeted_spaces[base_url] = login.space_guid if login else None
        listing = where.split(" ", 1)[1] if " " in where else ""
        if explicit_token:
            token = strip_bearer(explicit_token)
            auth = CloudFoundryAuth(token, provider=self.name, listing=listing)
            secrets: tuple[str, ...] = (token,)
        elif login is not None and login.access_token:
            token = login.access_token
            auth = CloudFoundryAuth(
                token,
                refresh_token=login.refresh_token,
                uaa_endpoint=login.uaa_endpoint,
                client_id=login.client_id,
                client_secret=login.client_secret,
                provider=self.name,
                listing=listing,
            )
            secrets = tuple(value for value in (token, login.refresh_token) if value)
        else:
            elsewhere = ""
            if config is not None and config.access_token and login is None:
                elsewhere = f" (the cf CLI is logged in to {config.target}, not {base_url})"
            raise pkglist.UsageError(
                f"{where}: no access token{elsewhere}; pass --token, set CF_ACCESS_TOKEN or run `cf login`"
            )
        if not token:
            raise pkglist.UsageError(f"{where}: the access token is empty; pass --token or run `cf login`")
        return pkglist.Connection(
            base_url=base_url,
            headers={},
            auth=auth,
            verify=not (login is not None and login.ssl_disabled),
            secrets=secrets,
        )

    # Listing ---------------------------------------------------------------------------

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        import httpx

        if isinstance(query, AppPackagesQuery):
            if is_guid(query.app):
                return _app_packages_request(listing, query, base_url, query.app, page_size)
            space = query.space_guid or self._targeted_spaces.get(base_url)
            if not space:
                raise pkglist.UsageError(
                    f"{self.name} {listing.name}: to look the app {query.app!r} up by name, pass "
                    "--space-guid or target a space with `cf target -s SPACE` (or pass the app's GUID)"
                )
            params = (("names", query.app), ("space_guids", space), ("per_page", str(page_size)))
            return httpx.Request("GET", pkglist.join_url(base_url, "/v3/apps"), params=params)
        assert isinstance(query, PackagesQuery)
        url = pkglist.join_url(base_url, "/v3/packages")
        return listing.paging.first_request(url, filter_params(query), page_size)

    def paginate(
        self,
        listing: pkglist.Listing,
        query: pkglist.Query,
        request: httpx.Request,
        response: httpx.Response,
    ) -> pkglist.Page:
        body = pkglist.decode_json(response)
        if isinstance(query, AppPackagesQuery) and request.url.path.endswith("/v3/apps"):
            return self._app_found(listing, query, request, body)
        pagination = body.get("pagination") if isinstance(body, dict) else None
        if isinstance(pagination, dict) and pagination.get("next", {}) is None:
            # The last page says ``"next": null``; the core's path lookup wants it absent.
            del pagination["next"]
        page = listing.paging.paginate(request, body)
        for item in page.items:
            _drop_password(item)
        return page

    def _app_found(
        self, listing: pkglist.Listing, query: AppPackagesQuery, request: httpx.Request, body: Any
    ) -> pkglist.Page:
        where = f"{self.name} {listing.name}"
        space = request.url.params.get("space_guids", "")
        resources = body.get("resources") if isinstance(body, Mapping) else None
        if not isinstance(resources, list):
            raise pkglist.ProtocolError(f"{where}: the app lookup answered without a 'resources' list")
        guids = []
        for resource in resources:
            item = fields.as_object(resource, "app")
            if fields.optional_str(item, "name") == query.app:  # CF splits names on commas
                guids.append(fields.require_str(item, "guid"))
        if not guids:
            raise pkglist.NotFoundError(
                f"{where}: app {query.app!r} not found in space {space}",
                provider=self.name,
                listing=listing.name,
                status=404,
                detail="App not found",
            )
        if len(guids) > 1:
            raise pkglist.UsageError(
                f"{where}: {len(guids)} apps are named {query.app!r} in space {space} "
                f"({', '.join(guids)}); pass --app GUID"
            )
        base_url = str(request.url.copy_with(query=None))[: -len("/v3/apps")]
        page_size = int(request.url.params.get("per_page", DEFAULT_PAGE_SIZE))
        first = _app_packages_request(listing, query, base_url, guids[0], page_size)
        return pkglist.Page(items=[], next=pkglist.derive_request(request, first.url))

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        item = fields.as_object(raw)
        relationships = fields.optional_object(item, "relationships")
        app = fields.optional_object(fields.optional_object(relationships, "app"), "data")
        app_guid = fields.optional_str(app, "guid")
        name = app_guid
        if isinstance(query, AppPackagesQuery):
            if is_guid(query.app):
                app_guid = app_guid or query.app
                name = app_guid
            else:
                name = query.app
        if not name:
            raise pkglist.InvalidItemError("field 'relationships.app.data.guid' is missing")
        package_type = fields.optional_str(item, "type")
        data = fields.optional_object(item, "data")
        checksum = fields.optional_object(data, "checksum")
        metadata = fields.optional_object(item, "metadata")
        image = fields.optional_str(data, "image")
        download = _href(fields.optional_object(item, "links"), "download")
        url = image if package_type == "docker" else download or image
        return pkglist.Package(
            provider=self.name,
            listing=listing.name,
            id=fields.require_str(item, "guid"),
            name=name,
            package_type=package_type,
            state=fields.optional_str(item, "state"),
            scope=app_guid,
            created_at=fields.optional_timestamp(item, "created_at"),
            updated_at=fields.optional_timestamp(item, "updated_at"),
            url=url,
            extra={
                "checksum": fields.optional_str(checksum, "value"),
                "checksum_type": fields.optional_str(checksum, "type"),
                "image": image,
                "error": fields.optional_str(data, "error"),
                "labels": dict(fields.optional_object(metadata, "labels")),
                "annotations": dict(fields.optional_object(metadata, "annotations")),
            },
        )

    # Emulation ---------------------------------------------------------------------------

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> CloudFoundryEmulator:
        from ._emulator import CloudFoundryEmulator

        return CloudFoundryEmulator(packages=120 if packages is None else packages, seed=seed)


def _app_packages_request(
    listing: pkglist.Listing, query: AppPackagesQuery, base_url: str, app_guid: str, page_size: int
) -> httpx.Request:
    url = pkglist.join_url(base_url, f"/v3/apps/{pkglist.quote_segment(app_guid)}/packages")
    return listing.paging.first_request(url, filter_params(query), page_size)


def _drop_password(item: Any) -> None:
    """The docker password (CF shows ``***``) never leaves pkglist, not even with ``--raw``."""
    if isinstance(item, dict):
        data = item.get("data")
        if isinstance(data, dict):
            data.pop("password", None)


def _href(links: Mapping[str, Any], name: str) -> str | None:
    return fields.optional_str(fields.optional_object(links, name), "href")


def _first_env(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        if environ.get(name):
            return environ[name]
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port
