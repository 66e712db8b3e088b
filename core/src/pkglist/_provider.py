"""What a provider plugin implements: a :class:`Provider` subclass with its listings."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from ._errors import UsageError
from ._paging import Paging
from ._query import Query
from ._urls import check_base_url
from .text import closest

if TYPE_CHECKING:
    import httpx

    from ._errors import ProviderError
    from ._model import Package, Page
    from ._pushdown import Pushdown
    from .testing import Emulator

__all__ = ["Connection", "Credential", "Listing", "Provider", "Settings"]


@attrs.frozen
class Listing:
    """One listing a provider offers (``pkglist <provider> <listing>``).

    ``query`` is the attrs class of its options; ``paging`` the strategy its
    responses follow; ``max_page_size`` the largest page the API accepts and
    ``default_page_size`` what pkglist asks for by default (the maximum when
    not given). ``pushdown`` declares the query options that express
    ``--where`` conditions, so that the server filters (see :class:`Pushdown`).
    ``columns`` are the fields the table shows by default (package fields or
    ``extra.<key>``; the core's default when empty): enough to tell rows apart.
    """

    name: str
    query: type[Query]
    paging: Paging
    help: str
    max_page_size: int
    default_page_size: int | None = None
    pushdown: tuple[Pushdown, ...] = ()
    columns: tuple[str, ...] = ()

    @property
    def page_size(self) -> int:
        return self.default_page_size or self.max_page_size


@attrs.frozen
class Lookup:
    """A request the listing needs answered before its first page (an app name to its guid).

    ``list_request`` may return one instead of the first request: the engine
    sends ``request`` (with the same retries, not counted as a page; errors
    read ``<provider> <listing>: looking up <what>: ...``) and calls
    ``then(response)`` with the 2xx answer for the listing's first request.
    """

    request: httpx.Request
    what: str
    then: Callable[[httpx.Response], httpx.Request] = attrs.field(eq=False)


@attrs.frozen
class Credential:
    """A secret the provider needs (``api_key`` -> ``--api-key``), read from the
    keyword argument, the CLI option or the first environment variable set.

    ``cli=False`` offers no CLI option (a password that must not appear on a
    command line): the keyword argument and the environment still work.
    """

    name: str
    help: str
    envvars: tuple[str, ...] = ()
    required: bool = True
    cli: bool = True

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@attrs.frozen
class Settings:
    """The connection inputs of one call, before the provider resolves them.

    ``query`` is the call's validated query, for a provider whose query options
    say where to connect (a registry host, plain HTTP).
    """

    where: str
    base_url: str | None
    credentials: Mapping[str, str | None]
    environ: Mapping[str, str]
    query: Query | None = None


@attrs.frozen(repr=False)
class Connection:
    """Where and how to talk to the provider for one listing.

    ``headers`` carry the credential and are only ever attached to requests
    for ``base_url``'s origin; ``auth`` replaces them when a provider needs a
    flow (a token refresh). ``secrets`` are values redacted from debug logs.
    ``context`` carries what else the provider learned while connecting and
    its queries may need (the space a cf login targets); never secrets.
    """

    base_url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    auth: httpx.Auth | None = None
    verify: bool = True
    secrets: tuple[str, ...] = ()
    context: Mapping[str, Any] = attrs.field(factory=dict)

    def __repr__(self) -> str:
        return f"Connection(base_url={self.base_url!r}, headers=<{len(self.headers)} redacted>)"


class Provider:
    """Base class of providers. Subclass it, set the class attributes, and
    implement :meth:`list_request` and :meth:`normalize`; the default
    :meth:`paginate` applies the listing's paging strategy.
    """

    name: ClassVar[str]
    title: ClassVar[str] = ""
    listings: ClassVar[Sequence[Listing]] = ()
    credentials: ClassVar[Sequence[Credential]] = ()
    default_base_url: ClassVar[str | None] = None
    base_url_envvars: ClassVar[Sequence[str]] = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {getattr(self, 'name', '?')!r}>"

    def listing(self, name: str) -> Listing:
        for listing in self.listings:
            if listing.name == name:
                return listing
        names = [listing.name for listing in self.listings]
        hint = closest(name, names)
        suggestion = f"; did you mean {hint!r}?" if hint else f"; choose from {', '.join(names)}"
        raise UsageError(f"{self.name}: unknown listing {name!r}{suggestion}")

    # Connection --------------------------------------------------------------

    def configured_base_url(self, settings: Settings) -> str | None:
        """The base URL the user gave: ``--base-url``, else the first of ``base_url_envvars`` set."""
        if settings.base_url is not None and not settings.base_url.strip():
            raise UsageError(f"{settings.where}: --base-url is empty")
        return settings.base_url or _first_env(settings.environ, self.base_url_envvars)

    def connect(self, settings: Settings) -> Connection:
        """Resolve the base URL and credentials: explicit value, then environment, then defaults."""
        base_url = self.configured_base_url(settings) or self.default_base_url
        if not base_url:
            env = " or set " + " / ".join(self.base_url_envvars) if self.base_url_envvars else ""
            raise UsageError(f"{settings.where}: no base URL; pass --base-url{env}")
        values = self.resolve_credentials(settings)
        headers = dict(self.auth_headers(values))
        return Connection(
            base_url=check_base_url(base_url, where=settings.where),
            headers=headers,
            secrets=tuple(value for value in values.values() if value),
        )

    def resolve_credentials(self, settings: Settings) -> dict[str, str]:
        values: dict[str, str] = {}
        for credential in self.credentials:
            value = settings.credentials.get(credential.name) or _first_env(
                settings.environ, credential.envvars
            )
            if value:
                values[credential.name] = value
            elif credential.required:
                env = " or set " + " / ".join(credential.envvars) if credential.envvars else ""
                raise UsageError(f"{settings.where}: missing credential; pass {credential.flag}{env}")
        return values

    def complete_query(self, listing: Listing, query: Query, connection: Connection) -> Query:
        """Fill in what the query leaves to the connection (default: nothing).

        Called once per call, after :meth:`connect` and before any request;
        raise :class:`~pkglist.UsageError` when the query cannot be completed.
        """
        return query

    def auth_headers(self, credentials: Mapping[str, str]) -> Mapping[str, str]:
        """The headers that carry the credentials (only sent to the configured origin)."""
        return {}

    # The three stages (the default plugin calls these) -----------------------

    def list_request(
        self, listing: Listing, query: Query, base_url: str, page_size: int
    ) -> httpx.Request | Lookup:
        """The first request of ``listing``, or a :class:`Lookup` that leads to it."""
        raise NotImplementedError(f"{type(self).__name__}.list_request")

    def paginate(
        self, listing: Listing, query: Query, request: httpx.Request, response: httpx.Response
    ) -> Page:
        """Turn one 2xx response into a page (default: the listing's paging strategy)."""
        return listing.paging.paginate(request, response)

    def normalize(self, listing: Listing, query: Query, raw: Any) -> Package:
        """One raw item to a :class:`~pkglist.Package`."""
        raise NotImplementedError(f"{type(self).__name__}.normalize")

    # Errors and emulation -----------------------------------------------------

    def error_class(self, response: httpx.Response) -> type[ProviderError] | None:
        """The error an error response stands for when its status alone would say otherwise.

        Return, say, :class:`~pkglist.NotFoundError` for a 500 whose body says the
        registry does not exist: pkglist reports that class and does not retry the
        request. The default, ``None``, lets the status decide.
        """
        return None

    def error_detail(self, response: httpx.Response) -> str | None:
        """The provider's own error text from an error response (any body shape we know)."""
        from ._http import error_detail

        return error_detail(response)

    def emulator(self, *, packages: int | None = None, seed: int = 0) -> Emulator | None:
        """A seeded emulator of this provider's API, or ``None`` if it has none."""
        return None


def _first_env(environ: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        if environ.get(name):
            return environ[name]
    return None
