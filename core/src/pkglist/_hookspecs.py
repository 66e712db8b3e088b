"""The plugin contract: four hooks, all synchronous and free of I/O.

A provider plugin implements :func:`pkglist_providers` and nothing else: the
core's default plugin (registered ``trylast``) runs the three stages by
calling the provider object's own methods. Another plugin can take over one
stage of an existing provider (``tryfirst``, returning ``None`` for the
providers it leaves alone) or post-process it (``wrapper=True``).

The examples below run as doctests. They use this throw-away provider::

    >>> import attrs, httpx, pkglist
    >>> @attrs.frozen(kw_only=True)
    ... class ToyQuery(pkglist.Query):
    ...     team: str = pkglist.option(help="Team name.")
    >>> class Toy(pkglist.Provider):
    ...     name = "toy"
    ...     listings = [pkglist.Listing(
    ...         name="packages", query=ToyQuery, help="Toy packages.", max_page_size=50,
    ...         paging=pkglist.PageNumber(items="items", first=1, has_more="more"))]
    ...     def list_request(self, listing, query, base_url, page_size):
    ...         return listing.paging.first_request(
    ...             pkglist.join_url(base_url, "/packages"), [("team", query.team)], page_size)
    ...     def normalize(self, listing, query, raw):
    ...         return pkglist.Package(provider=self.name, listing=listing.name,
    ...                                id=raw["id"], name=raw["name"])
    >>> toy = Toy()
    >>> packages = toy.listing("packages")
    >>> query = ToyQuery(team="core")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import httpx

    from ._model import Package, Page
    from ._provider import Listing, Provider
    from ._query import Query

__all__ = ["hookimpl", "hookspec"]

PROJECT = "pkglist"
hookspec = pluggy.HookspecMarker(PROJECT)
#: Decorate your plugin's hook implementations with this.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def pkglist_providers() -> Iterable[Provider]:
    """Register providers: return (or yield) the :class:`~pkglist.Provider` objects this plugin adds.

    Called once, when the plugins are loaded. Provider names must be unique
    across all installed plugins.

    >>> @pkglist.hookimpl
    ... def pkglist_providers():
    ...     return [Toy()]
    >>> [provider.name for provider in pkglist_providers()]
    ['toy']
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def pkglist_list_request(
    provider: Provider, listing: Listing, query: Query, base_url: str, page_size: int
) -> httpx.Request | None:
    """Build the first request of a listing (the *listing* stage).

    ``base_url`` is the configured origin (credentials are attached by the
    core, only for that origin); ``page_size`` is already capped to what the
    listing allows and to the caller's limit. Return ``None`` to leave the
    stage to the next implementation.

    >>> class PinnedTeam:
    ...     @pkglist.hookimpl(tryfirst=True)
    ...     def pkglist_list_request(self, provider, listing, query, base_url, page_size):
    ...         if provider.name != "toy":
    ...             return None
    ...         return provider.list_request(listing, attrs.evolve(query, team="ops"), base_url, 10)
    >>> request = PinnedTeam().pkglist_list_request(toy, packages, query, "http://127.0.0.1:8080", 50)
    >>> str(request.url)
    'http://127.0.0.1:8080/packages?team=ops&page=1&size=10'
    """


@hookspec(firstresult=True)
def pkglist_paginate(
    provider: Provider,
    listing: Listing,
    query: Query,
    request: httpx.Request,
    response: httpx.Response,
) -> Page | None:
    """Turn a 2xx response into a :class:`~pkglist.Page` (the *paginating* stage).

    The page holds the raw items, the way to the next page(s) (a ``next``
    request, and for addressable pages the page number, ``request_for(n)``
    and the last page number when the API tells it) and the signals the
    engine reconciles to decide whether the listing goes on (``has_more``...). Error statuses never get
    here: the core maps them to errors first. Raise
    :class:`~pkglist.ProtocolError` for a body you cannot use.

    >>> request = toy.list_request(packages, query, "http://127.0.0.1:8080", 2)
    >>> response = httpx.Response(200, json={"items": [{"id": "1", "name": "a"}], "more": False})
    >>> page = toy.paginate(packages, query, request, response)
    >>> page.items, page.has_more
    ([{'id': '1', 'name': 'a'}], False)
    """


@hookspec(firstresult=True)
def pkglist_normalize(provider: Provider, listing: Listing, query: Query, raw: Any) -> Package | None:
    """Turn one raw item into a :class:`~pkglist.Package` (the *normalizing* stage).

    Raise :class:`~pkglist.InvalidItemError` (the helpers in
    :mod:`pkglist.items` do) when the item cannot be normalized. A wrapper
    can post-process every provider's packages:

    >>> class Shout:
    ...     @pkglist.hookimpl(wrapper=True)
    ...     def pkglist_normalize(self, provider, listing, query, raw):
    ...         package = yield
    ...         return attrs.evolve(package, name=package.name.upper())
    >>> manager = pkglist.PluginManager.for_testing(Shout())
    >>> manager.hook.pkglist_normalize(
    ...     provider=toy, listing=packages, query=query, raw={"id": "1", "name": "left-pad"}).name
    'LEFT-PAD'
    """
