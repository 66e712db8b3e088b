"""Wrapper emulators: a real provider emulator behind a server that misbehaves.

Every wrapper keeps the wrapped emulator's ``credentials`` and only touches
the listing's page requests (the listing's route); everything else goes
through unchanged. Bodies are rewritten from the real emulator's answer, so
the envelope, the items and the headers stay the provider's own.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Container
from typing import Any

import attrs

from pkglist.testing import EmulatorServer, Faults, Request, Response

from .providers import Emulator, Listing

__all__ = [
    "Bystander",
    "FaultsAfter",
    "Moved",
    "Redirect",
    "Rewrite",
    "Stuck",
    "Switch",
    "dig",
    "growing_totals",
    "put",
    "remove",
]

Change = Callable[[Any, int], Any]


# Dotted paths in a JSON body ------------------------------------------------------------------


def dig(body: Any, path: str) -> Any:
    for key in path.split("."):
        body = body[key]
    return body


def put(body: Any, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body.setdefault(key, {}) if body.get(key) is None else body[key]
    body[last] = value


def remove(body: Any, path: str) -> None:
    *parents, last = path.split(".")
    for key in parents:
        body = body[key]
    del body[last]


def set_path(item: Any, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        item = item[key]
    item[path[-1]] = value


# Wrappers --------------------------------------------------------------------------------------


class Wrapper:
    """Passes everything to ``inner``; knows the listing's route and page positions."""

    def __init__(self, inner: Emulator, listing: Listing) -> None:
        self.inner = inner
        self.base: Emulator = getattr(inner, "base", inner)
        self.listing = listing
        self.credentials = inner.credentials
        self.lock = threading.Lock()

    def position(self, request: Request) -> int | None:
        return self.listing.position(request, self.base)

    def handle(self, request: Request) -> Response:
        return self.inner.handle(request)


class Rewrite(Wrapper):
    """Listing pages (200s) with the JSON body changed by ``change(body, position)``.

    ``change`` mutates or returns the body, or returns a :class:`Response` to
    send instead. Only pages at ``positions`` (all by default) are touched, and
    at most ``times`` of them (all by default). ``changed`` counts them.
    """

    def __init__(
        self,
        inner: Emulator,
        listing: Listing,
        change: Change,
        *,
        positions: Container[int] | None = None,
        times: int | None = None,
    ) -> None:
        super().__init__(inner, listing)
        self.change = change
        self.positions = positions
        self.times = times
        self.changed = 0

    def handle(self, request: Request) -> Response:
        response = self.inner.handle(request)
        position = self.position(request)
        if position is None or response.status != 200:
            return response
        if self.positions is not None and position not in self.positions:
            return response
        with self.lock:
            if self.times is not None and self.changed >= self.times:
                return response
            self.changed += 1
        body = json.loads(response.body)
        result = self.change(body, position)
        if isinstance(result, Response):
            return result
        return Response.json(body if result is None else result, response.status, dict(response.headers))


class Switch(Wrapper):
    """Answers from ``before`` until ``after_pages`` listing pages were served, then from ``after``.

    The provider emulators generate package ``i`` from ``(seed, i)``, so an
    emulator with more (or fewer) packages is the same data set with packages
    added (or removed) at the newest end: the head of a newest-first listing.
    """

    def __init__(self, before: Emulator, after: Emulator, listing: Listing, *, after_pages: int = 1) -> None:
        super().__init__(before, listing)
        self.after = after
        self.after_pages = after_pages
        self.served = 0

    def handle(self, request: Request) -> Response:
        with self.lock:
            switched = self.served >= self.after_pages
        response = (self.after if switched else self.inner).handle(request)
        if not switched and self.position(request) is not None and response.status == 200:
            with self.lock:
                self.served += 1
        return response


class Stuck(Wrapper):
    """Every page number answers the first page (whose envelope, from a big data set, says there is more)."""

    def handle(self, request: Request) -> Response:
        if self.position(request) is not None:
            query = {**request.query, self.listing.page_param: [str(self.listing.first)]}
            request = attrs.evolve(request, query=query)
        return self.inner.handle(request)


class Redirect(Wrapper):
    """Listing pages at ``positions`` answer ``status`` with a ``Location`` elsewhere."""

    def __init__(
        self,
        inner: Emulator,
        listing: Listing,
        location: str,
        *,
        positions: Container[int],
        status: int = 302,
    ) -> None:
        super().__init__(inner, listing)
        self.location = location
        self.positions = positions
        self.status = status

    def handle(self, request: Request) -> Response:
        position = self.position(request)
        if position is not None and position in self.positions:
            return Response(self.status, b"", (("Location", self.location), ("Content-Length", "0")))
        return self.inner.handle(request)


class Moved(Wrapper):
    """Listing pages at ``positions`` answer ``status`` with a relative ``Location`` to the same
    request under ``/moved``, which is served as the original (a same-origin redirect)."""

    PREFIX = "/moved"

    def __init__(self, inner: Emulator, listing: Listing, *, positions: Container[int], status: int = 301):
        super().__init__(inner, listing)
        self.positions = positions
        self.status = status

    def handle(self, request: Request) -> Response:
        if request.path.startswith(self.PREFIX + "/"):
            return self.inner.handle(attrs.evolve(request, path=request.path.removeprefix(self.PREFIX)))
        position = self.position(request)
        if position is not None and position in self.positions:
            query = urllib.parse.urlencode([(k, v) for k, values in request.query.items() for v in values])
            location = f"{self.PREFIX}{request.path}?{query}"
            return Response(self.status, b"", (("Location", location), ("Content-Length", "0")))
        return self.inner.handle(request)


class FaultsAfter(Wrapper):
    """Turns ``faults`` on in ``server`` once the page at ``position`` has been answered,
    so that the following page (and only it, at concurrency 1) meets them."""

    def __init__(self, inner: Emulator, listing: Listing, position: int, faults: Faults) -> None:
        super().__init__(inner, listing)
        self.at = position
        self.faults = faults
        self.server: EmulatorServer | None = None

    def handle(self, request: Request) -> Response:
        response = self.inner.handle(request)
        if self.position(request) == self.at and self.server is not None:
            self.server.set_faults(self.faults)
        return response


class Bystander:
    """Another origin: records what reaches it (the server does) and answers an empty object."""

    credentials: dict[str, str] = {}  # noqa: RUF012 - read only

    def handle(self, request: Request) -> Response:
        return Response.json({})


def growing_totals(listing: Listing, page_size: int) -> Change:
    """Each page announces one page more than the one it is, and as many more items."""

    def change(body: Any, position: int) -> Any:
        if listing.page_count is not None:
            put(body, listing.page_count, position + 1)
        if listing.item_count is not None:
            put(body, listing.item_count, (position + 1) * page_size)
        return body

    return change
