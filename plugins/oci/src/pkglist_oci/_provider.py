"""The OCI provider: repositories, tags and images of any OCI Distribution registry.

* ``repositories``: ``GET /v2/_catalog?n=N`` following the ``Link`` header;
* ``tags``: ``GET /v2/<name>/tags/list?n=N``, the same (a server that ignores ``n``
  answers everything at once, without a ``Link``);
* ``images``: each catalog page (or, for named repositories, the ``GET /v2/`` check)
  expands into its repositories' tag listings (:attr:`pkglist.Page.expand`), fetched
  concurrently and output in catalog order.

With ``digests``, each page of tags expands into one manifest ``HEAD`` per tag, whose
``Docker-Content-Digest`` and ``Content-Type`` give the digest and media type.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

import pkglist
from pkglist import items as fields
from pkglist.text import one_line

from ._credentials import RegistryLogin, find_login

if TYPE_CHECKING:
    import httpx

    from ._emulator import OciEmulator

__all__ = ["MANIFEST_ACCEPT", "ImagesQuery", "OciProvider", "RepositoriesQuery", "TagsQuery"]

logger = logging.getLogger("pkglist")

#: What a manifest HEAD accepts: without the OCI types a 2.8 registry answers 404 for OCI images.
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
MAX_PAGE_SIZE = 1000  # distribution's default catalog cap (catalog.maxentries)
DEFAULT_PAGE_SIZE = 100
#: The page size an expanded listing's sub-requests ask for (carried on the requests).
_PAGE_SIZE = "pkglist_oci.page_size"

# The distribution spec's grammar of repository names.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")

_DOCKER_HUB_API = "registry-1.docker.io"
_CATALOG = pkglist.LinkHeader(items="repositories", size_param="n")
_TAGS = pkglist.LinkHeader(items="tags", size_param="n")


def check_repository(value: str) -> None:
    """A repository name as the spec defines it.

    >>> check_repository("team/app")
    >>> check_repository("Team/App")
    Traceback (most recent call last):
    ValueError: expected a repository name such as team/app (lower-case letters, digits, separators . _ __ -)
    """
    if len(value) > 255 or not _REPOSITORY.fullmatch(value):
        raise ValueError(
            "expected a repository name such as team/app (lower-case letters, digits, separators . _ __ -)"
        )


def check_host(value: str) -> None:
    """A registry host, with an optional port: ``ghcr.io``, ``localhost:5000``.

    >>> check_host("localhost:5000")
    >>> check_host("https://ghcr.io")
    Traceback (most recent call last):
    ValueError: expected a host such as ghcr.io or localhost:5000 (a URL goes in --base-url)
    """
    if not _HOST.fullmatch(value):
        raise ValueError("expected a host such as ghcr.io or localhost:5000 (a URL goes in --base-url)")


@attrs.frozen(kw_only=True)
class _RegistryQuery(pkglist.Query):
    registry: str | None = pkglist.option(
        default=None,
        help="Registry host (ghcr.io, localhost:5000): https://HOST, or http:// with --plain-http "
        "(--base-url takes a whole URL).",
        metavar="HOST",
        check=check_host,
    )
    plain_http: bool = pkglist.option(default=False, help="Talk to --registry over plain HTTP.")
    password_stdin: bool = pkglist.option(
        default=False, help="Read the password from stdin (with --username or OCI_USERNAME)."
    )


@attrs.frozen(kw_only=True)
class RepositoriesQuery(_RegistryQuery):
    pass


@attrs.frozen(kw_only=True)
class TagsQuery(_RegistryQuery):
    repository: str = pkglist.option(
        help="Repository whose tags to list (team/app).", metavar="NAME", check=check_repository
    )
    digests: bool = pkglist.option(
        default=False, help="HEAD each tag's manifest for its digest and media type (a request per tag)."
    )


@attrs.frozen(kw_only=True)
class ImagesQuery(_RegistryQuery):
    repository: tuple[str, ...] = pkglist.option(
        default=(),
        help="Only these repositories [default: every repository in the catalog].",
        metavar="NAME",
        check=check_repository,
    )
    digests: bool = pkglist.option(
        default=False, help="HEAD each tag's manifest for its digest and media type (a request per tag)."
    )


def _listing(name: str, query: type[pkglist.Query], paging: pkglist.Paging, help: str) -> pkglist.Listing:
    columns = ("name",) if name == "repositories" else ("name", "version", "extra.digest")
    return pkglist.Listing(
        name=name,
        query=query,
        paging=paging,
        help=help,
        max_page_size=MAX_PAGE_SIZE,
        default_page_size=DEFAULT_PAGE_SIZE,
        columns=columns,
    )


class OciProvider(pkglist.Provider):
    name = "oci"
    title = "OCI registries (Docker Registry HTTP API v2): repositories, tags and images."
    listings = (
        _listing(
            "repositories",
            RepositoriesQuery,
            _CATALOG,
            "Repositories in the registry's catalog (GET /v2/_catalog), in the registry's order. "
            "Docker Hub and GHCR refuse the catalog: list one repository with `tags --repository`.",
        ),
        _listing(
            "tags",
            TagsQuery,
            _TAGS,
            "Tags of one repository (GET /v2/<name>/tags/list). --digests adds each tag's manifest "
            "digest and media type.",
        ),
        _listing(
            "images",
            ImagesQuery,
            _CATALOG,
            "Every tag of every repository in the catalog (or of each --repository), one record per "
            "tag, in catalog order; the tag listings run concurrently.",
        ),
    )
    credentials = (
        pkglist.Credential("username", "Registry user name.", envvars=("OCI_USERNAME",), required=False),
        pkglist.Credential(
            "password",
            "Registry password or token (never on the command line: --password-stdin).",
            envvars=("OCI_PASSWORD",),
            required=False,
            cli=False,
        ),
    )
    base_url_envvars = ("OCI_REGISTRY",)

    # Connection -------------------------------------------------------------------------

    def connect(self, settings: pkglist.Settings) -> pkglist.Connection:
        import httpx  # here, not at import: listing the providers must not pay for httpx

        from ._auth import RegistryAuth

        query = settings.query if isinstance(settings.query, _RegistryQuery) else None
        base_url = self._base_url(settings, query)
        host = httpx.URL(base_url).netloc.decode("ascii")
        login = self._login(settings, query, host)
        logger.debug("%s: credentials for %s: %s", settings.where, host, login.source if login else "none")
        auth = RegistryAuth(
            base_url,
            username=login.username if login else None,
            password=login.password if login else None,
            identity_token=login.identity_token if login else None,
        )
        return pkglist.Connection(
            base_url=base_url, auth=auth, secrets=login.secrets if login else (), context={"host": host}
        )

    def _base_url(self, settings: pkglist.Settings, query: _RegistryQuery | None) -> str:
        plain = query is not None and query.plain_http
        given = settings.base_url
        if given is not None and not given.strip():
            raise pkglist.UsageError(f"{settings.where}: --base-url is empty")
        if not given and query is not None and query.registry:
            given = query.registry
        if not given:
            given = settings.environ.get("OCI_REGISTRY")
        if not given:
            raise pkglist.UsageError(
                f"{settings.where}: no registry; pass --registry HOST (or --base-url URL, or set OCI_REGISTRY)"
            )
        if "://" not in given:
            # Docker Hub's API lives on another host than its name, as docker knows.
            given = _DOCKER_HUB_API if given in ("docker.io", "index.docker.io") else given
            given = ("http://" if plain else "https://") + given
        elif plain and not given.startswith("http://"):
            raise pkglist.UsageError(f"{settings.where}: --plain-http contradicts the base URL {given}")
        return pkglist.check_base_url(given, where=settings.where)

    def _login(
        self, settings: pkglist.Settings, query: _RegistryQuery | None, host: str
    ) -> RegistryLogin | None:
        values = self.resolve_credentials(settings)
        username, password = values.get("username"), values.get("password")
        if query is not None and query.password_stdin:
            if password is not None and settings.credentials.get("password"):
                raise pkglist.UsageError(f"{settings.where}: --password-stdin and a password were both given")
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise pkglist.UsageError(f"{settings.where}: --password-stdin read an empty password")
        if username and password:
            return RegistryLogin(source="options", username=username, password=password)
        if username:
            raise pkglist.UsageError(
                f"{settings.where}: --username needs a password: --password-stdin or OCI_PASSWORD"
            )
        if password:
            raise pkglist.UsageError(f"{settings.where}: a password needs --username or OCI_USERNAME")
        return find_login(host, settings.environ, where=settings.where)

    # Requests and pages -------------------------------------------------------------------

    def list_request(
        self, listing: pkglist.Listing, query: pkglist.Query, base_url: str, page_size: int
    ) -> httpx.Request:
        import httpx

        if isinstance(query, TagsQuery):
            request = _tags_request(base_url, query.repository, page_size)
        elif isinstance(query, ImagesQuery) and query.repository:
            # The API check: its page expands into the named repositories' tag listings.
            request = httpx.Request("GET", pkglist.join_url(base_url, "/v2/"))
        else:
            request = _CATALOG.first_request(pkglist.join_url(base_url, "/v2/_catalog"), [], page_size)
        request.extensions[_PAGE_SIZE] = page_size
        return request

    def paginate(
        self,
        listing: pkglist.Listing,
        query: pkglist.Query,
        request: httpx.Request,
        response: httpx.Response,
    ) -> pkglist.Page:
        host = request.url.netloc.decode("ascii")
        page_size = int(request.extensions.get(_PAGE_SIZE, DEFAULT_PAGE_SIZE))
        digests = isinstance(query, (TagsQuery, ImagesQuery)) and query.digests
        if request.method == "HEAD":
            return pkglist.Page(items=[_manifest_item(host, request, response)])
        path = request.url.path
        if path.endswith("/v2/_catalog"):
            page = _CATALOG.paginate(request, response)
            names = [_name(item, "repository") for item in page.items]
            if isinstance(query, ImagesQuery):
                base = _base_of(request)
                return attrs.evolve(page, expand=[_tags_request(base, name, page_size) for name in names])
            return attrs.evolve(page, items=[{"registry": host, "repository": name} for name in names])
        if path.endswith("/tags/list"):
            body = pkglist.decode_json(response)
            if isinstance(body, Mapping) and body.get("tags") is None:
                body = {**body, "tags": []}  # a repository without tags says null
            page = _TAGS.paginate(request, response, body)
            repository = _repository_of(request)
            tags = [_name(tag, "tag") for tag in page.items]
            if digests:
                heads = [_manifest_request(request, repository, tag) for tag in tags]
                return attrs.evolve(page, expand=heads)
            items = [{"registry": host, "repository": repository, "tag": tag} for tag in tags]
            return attrs.evolve(page, items=items)
        if isinstance(query, ImagesQuery):  # the GET /v2/ check of named repositories
            base = _base_of(request)
            return pkglist.Page(
                items=[], expand=[_tags_request(base, name, page_size) for name in query.repository]
            )
        raise pkglist.ProtocolError(f"unexpected response for {path}")

    def normalize(self, listing: pkglist.Listing, query: pkglist.Query, raw: Any) -> pkglist.Package:
        item = fields.as_object(raw)
        registry = fields.require_str(item, "registry")
        repository = fields.require_str(item, "repository")
        tag = fields.optional_str(item, "tag")
        reference = f"{repository}:{tag}" if tag is not None else repository
        extra = {
            key: item[key] for key in ("digest", "media_type") if isinstance(item.get(key), str) and item[key]
        }
        return pkglist.Package(
            provider=self.name,
            listing=listing.name,
            id=reference,
            name=repository,
            version=tag,
            package_type="OCI",
            scope=registry,
            url=f"{registry}/{reference}",
            extra=extra,
        )

    # Errors and emulation -------------------------------------------------------------------

    def error_detail(self, response: httpx.Response) -> str | None:
        """The spec's ``{"errors": [{code, message, detail}]}`` as ``CODE: message``, with a hint
        where the registry refuses what ordinary accounts are refused (the catalog), and the
        token service named when it is the one that answered."""
        detail = _spec_errors(response) or super().error_detail(response)
        request = response.request
        if "/v2/" not in request.url.path:
            return f"from the token service {request.url.host}: {detail or 'no details'}"
        hint = None
        if response.status_code == 401 and "authorization" not in request.headers:
            hint = (
                "the registry wants credentials: --username with --password-stdin, "
                "OCI_USERNAME/OCI_PASSWORD, or a docker/podman login"
            )
        elif response.status_code in (401, 403, 404) and request.url.path.endswith("/v2/_catalog"):
            hint = (
                "the registry does not let this account list its catalog (Docker Hub and GHCR refuse "
                "it to everyone); list one repository with `pkglist oci tags --repository NAME`"
            )
        if hint is None:
            return detail
        return f"{detail}; {hint}" if detail else hint

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> OciEmulator:
        from ._emulator import OciEmulator

        return OciEmulator.demo(tags=packages, seed=seed)


def _tags_request(base_url: str, repository: str, page_size: int) -> httpx.Request:
    url = pkglist.join_url(base_url, f"/v2/{_quote_name(repository)}/tags/list")
    request = _TAGS.first_request(url, [], page_size)
    request.extensions[_PAGE_SIZE] = page_size
    return request


def _manifest_request(tags_request: httpx.Request, repository: str, tag: str) -> httpx.Request:
    import httpx

    base = _base_of(tags_request)
    url = pkglist.join_url(
        base, f"/v2/{_quote_name(repository)}/manifests/{urllib.parse.quote(tag, safe='')}"
    )
    return httpx.Request("HEAD", url, headers={"Accept": MANIFEST_ACCEPT})


def _manifest_item(host: str, request: httpx.Request, response: httpx.Response) -> dict[str, Any]:
    path = request.url.path
    repository, _, tag = path[path.index("/v2/") + 4 :].rpartition("/manifests/")
    item: dict[str, Any] = {"registry": host, "repository": repository, "tag": urllib.parse.unquote(tag)}
    digest = response.headers.get("docker-content-digest")
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if digest:
        item["digest"] = digest
    if media_type:
        item["media_type"] = media_type
    return item


def _quote_name(repository: str) -> str:
    return "/".join(pkglist.quote_segment(part) for part in repository.split("/"))


def _base_of(request: httpx.Request) -> str:
    """The registry's base URL (with any path prefix) from one of its ``/v2/`` requests."""
    path = request.url.path
    prefix = path[: path.index("/v2/")] if "/v2/" in path else ""
    return str(request.url.copy_with(path=prefix or "/", query=None)).rstrip("/")


def _repository_of(request: httpx.Request) -> str:
    path = request.url.path
    return path[path.index("/v2/") + 4 : -len("/tags/list")]


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise pkglist.ProtocolError(f"expected a {what} name, got {one_line(repr(value), 40)}")
    return value


def _spec_errors(response: httpx.Response) -> str | None:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return None
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(errors, list):
        return None
    parts = []
    for error in errors[:3]:
        if not isinstance(error, Mapping):
            continue
        words = [error.get("code"), error.get("message")]
        if isinstance(error.get("detail"), str):
            words.append(error["detail"])
        text = ": ".join(word for word in words if isinstance(word, str) and word)
        if text:
            parts.append(text)
    return one_line("; ".join(parts), 300) or None
