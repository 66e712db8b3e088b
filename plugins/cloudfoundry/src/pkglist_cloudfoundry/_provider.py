"""The Cloud Foundry provider: ``app-packages`` and ``packages`` from the V3 API.

Connecting follows the cf CLI: explicit values and environment variables
first, then the cf CLI's own login in ``$CF_HOME/.cf/config.json``. An app
given by name is looked up the way ``cf packages APP`` does it, as the
first "page" of the listing (``GET /v3/apps?names=...&space_guids=...``),
whose only content is the request for the app's first packages page.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pkglist
from pkglist import items as fields

from ._config import CfConfig, ConfigError, config_path, read_config, strip_bearer
from ._pushdown import PUSHDOWN
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
    previous_link="pagination.previous.href",  # with the next link, tells which page a response is
)

# The table's default columns: the package guid tells rows apart (as `cf packages` shows it).
COLUMNS = ("id", "package_type", "state", "created_at")

APP_PACKAGES = pkglist.Listing(
    name="app-packages",
    query=AppPackagesQuery,
    paging=_PAGING,
    help="Packages of one app (GET /v3/apps/{guid}/packages). An app name is looked up in the "
    "targeted space, as `cf packages APP` does.",
    max_page_size=MAX_PAGE_SIZE,
    default_page_size=DEFAULT_PAGE_SIZE,
    pushdown=PUSHDOWN,
    columns=COLUMNS,
)
PACKAGES = pkglist.Listing(
    name="packages",
    query=PackagesQuery,
    paging=_PAGING,
    help="Every package the token can see (GET /v3/packages), filtered by app, space, org or labels.",
    max_page_size=MAX_PAGE_SIZE,
    default_page_size=DEFAULT_PAGE_SIZE,
    pushdown=PUSHDOWN,
    columns=COLUMNS,
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

    # Connection ----------------------------------------------------------------------

    def connect(self, settings: pkglist.Settings) -> pkglist.Connection:
        import attrs

        where = settings.where
        explicit_url = self.configured_base_url(settings)
        explicit_token = self.resolve_credentials(settings).get("token")
        try:
            config = read_config(config_path(settings.environ))
        except ConfigError as exc:
            if not (explicit_url and explicit_token):
                raise pkglist.UsageError(f"{where}: {exc}") from None
            config = None  # not needed: a broken cf config must not stop an explicit call
        raw_url = explicit_url or (config.target if config else None)
        if not raw_url:
            raise pkglist.UsageError(
                f"{where}: no Cloud Foundry API endpoint; pass --base-url, set CF_API or run `cf login`"
            )
        # The base class checks the URL (scheme, host, no credentials or query).
        checked = attrs.evolve(settings, base_url=raw_url, credentials={}, environ={})
        base_url = super().connect(checked).base_url
        # The cf login belongs to its own API: never send its token (or trust its
        # settings) to another endpoint.
        login = config if config and config.target and _same_origin(config.target, base_url) else None
        auth, secrets = self._auth(where, explicit_token, login, config, base_url)
        return pkglist.Connection(
            base_url=base_url,
            headers={},
            auth=auth,
            verify=not (login is not None and login.ssl_disabled),
            secrets=secrets,
            context={"space_guid": login.space_guid if login else None},
        )

    def complete_query(
        self, listing: pkglist.Listing, query: pkglist.Query, connection: pkglist.Connection
    ) -> pkglist.Query:
        """An app given by name is looked up in ``--space-guid`` or the space the cf login targets."""
        import attrs

        if not isinstance(query, AppPackagesQuery) or is_guid(query.app) or query.space_guid:
            return query
        space = connection.context.get("space_guid")
        if not space:
            raise pkglist.UsageError(
                f"{self.name} {listing.name}: to look the app {query.app!r} up by name, pass "
                "--space-guid or target a space with `cf target -s SPACE` (or pass the app's GUID)"
            )
        return attrs.evolve(query, space_guid=space)

    def _auth(
        self,
        where: str,
        explicit_token: str | None,
        login: CfConfig | None,
        config: CfConfig | None,
        base_url: str,
    ) -> tuple[httpx.Auth, tuple[str, ...]]:
        """The bearer auth (refreshable for a cf login) and the secrets to redact."""
        from ._auth import CloudFoundryAuth

        listing = where.partition(" ")[2]
        if explicit_token:
            token = strip_bearer(explicit_token)
            if not token:
                raise pkglist.UsageError(
                    f"{where}: the access token is empty; pass --token or run `cf login`"
                )
            return CloudFoundryAuth(token, provider=self.name, listing=listing), (token,)
        if login is not None and (login.access_token or login.refresh_token):
            if not login.access_token and not login.authorization_endpoint:
                raise pkglist.UsageError(
                    f"{where}: the cf CLI config {login.path} has a refresh token but no access token "
                    "and no AuthorizationEndpoint to refresh it at; run `cf login`"
                )
            auth = CloudFoundryAuth(
                login.access_token,
                refresh_token=login.refresh_token,
                authorization_endpoint=login.authorization_endpoint,
                client_id=login.client_id,
                client_secret=login.client_secret,
                provider=self.name,
                listing=listing,
            )
            return auth, tuple(value for value in (login.access_token, login.refresh_token) if value)
        elsewhere = ""
        if config is not None and (config.access_token or config.refresh_token) and login is None:
            elsewhere = f" (the cf CLI is logged in to {config.target}, not {base_url})"
        raise pkglist.UsageError(
            f"{where}: no access token{elsewhere}; pass --token, set CF_ACCESS_TOKEN or run `cf login`"
        )

    # Listing ---------------------------------------------------------------------------

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request | pkglist.Lookup:
        import httpx

        if isinstance(query, AppPackagesQuery):
            if is_guid(query.app):
                return _app_packages_request(listing, query, base_url, query.app, page_size)
            if not query.space_guid:  # complete_query fills it in; a direct caller must give it
                raise pkglist.UsageError(
                    f"{self.name} {listing.name}: looking an app up by name needs a space"
                )
            params = (("names", query.app), ("space_guids", query.space_guid))
            return pkglist.Lookup(
                request=httpx.Request("GET", pkglist.join_url(base_url, "/v3/apps"), params=params),
                what=f"app {query.app!r} in space {query.space_guid}",
                then=functools.partial(self._app_found, listing, query, base_url, page_size),
            )
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
        page = listing.paging.paginate(request, response, body)
        for item in page.items:  # the docker password (CF shows ***) never leaves pkglist, not even --raw
            data = item.get("data") if type(item) is dict else None
            if type(data) is dict and "password" in data:
                del data["password"]
        return page

    def _app_found(
        self,
        listing: pkglist.Listing,
        query: AppPackagesQuery,
        base_url: str,
        page_size: int,
        response: httpx.Response,
    ) -> httpx.Request:
        """The app lookup's answer: the first request for the packages of the one app so named."""
        where = f"{self.name} {listing.name}"
        space = query.space_guid
        body = pkglist.decode_json(response)
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
        return _app_packages_request(listing, query, base_url, guids[0], page_size)

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        item = fields.as_object(raw)
        app_guid = fields.optional_str_at(item, "relationships", "app", "data", "guid")
        name = app_guid
        if isinstance(query, AppPackagesQuery):
            if _is_guid(query.app):
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
        download = fields.optional_str_at(item, "links", "download", "href")
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
            url=image if package_type == "docker" else download or image,
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


_is_guid = functools.lru_cache(maxsize=64)(is_guid)  # asked once per package, of the same app


def _same_origin(target: str, base_url: str) -> bool:
    """Whether the cf CLI's target is the API being listed (a target with a port that is not
    a number is not)."""
    try:
        return pkglist.origin_of(target.strip()) == pkglist.origin_of(base_url)
    except ValueError:
        return False
