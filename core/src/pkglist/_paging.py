"""Paging strategies a provider picks instead of writing its own loop.

A strategy builds the first request of a listing and turns each response
(headers and body) into a :class:`~pkglist.Page`. Strategies only read and
build ``httpx`` objects; the engine does the I/O, the concurrency, the loop
guards and the reconciling of the signals a page carries. The shapes:

* :class:`PageNumber`: ``?page=N&size=M``, 0- or 1-based; its signals (a
  has-more flag, total pages or items, a next link or a next-page number)
  come from the body or from headers (``X-Total-Pages``...). Pages are
  addressable, so the engine fetches them concurrently.
* :class:`NextLink`: follow an absolute or relative href found in the body.
* :class:`Cursor`: pass a token from the body back as a query parameter.
* :class:`LinkHeader`: follow RFC 8288 ``Link: <...>; rel="next"`` headers;
  with ``page_param``, a ``rel="last"`` link gives the last page and pages
  go concurrently.

``items`` is the dotted path of the item list in the body, or ``"$"`` for a
body that is the list itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from ._errors import ProtocolError
from ._model import Page
from ._urls import origin_of

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ROOT",
    "BadPageError",
    "Cursor",
    "LinkHeader",
    "NextLink",
    "PageNumber",
    "Paging",
    "QueryParams",
    "WrongPageError",
    "decode_json",
    "derive_request",
    "lookup",
]

QueryParams = Sequence[tuple[str, str | int | float | bool]]
_MISSING: Any = object()
#: The ``items`` path of a body that is the item list itself.
ROOT = "$"


class Paging(Protocol):
    """What every paging strategy offers.

    ``paginate`` gets the response (its headers and body); ``body`` is the
    decoded body when the caller already has it (it is decoded otherwise).
    """

    def first_request(self, url: str, params: QueryParams, page_size: int) -> httpx.Request: ...

    def paginate(self, request: httpx.Request, response: httpx.Response, body: Any = _MISSING) -> Page: ...


class BadPageError(ProtocolError):
    """A 2xx response that cannot be this page, but another try may give it: it is fetched again."""


class InvalidJSONError(BadPageError):
    """The body is not JSON (often a truncated or proxied response)."""


class WrongPageError(BadPageError):
    """The response says it is another page (a desynchronised connection, a confused cache)."""


def decode_json(response: httpx.Response) -> Any:
    """The response body as JSON, whatever its content type claims."""
    from ._json import loads

    try:
        return loads(response.content)
    except (ValueError, RecursionError):
        content_type = response.headers.get("content-type", "no content type").split(";")[0]
        preview = response.content[:60].decode("utf-8", "replace")
        preview = "".join(ch if ch.isprintable() else " " for ch in preview).strip()
        shown = f": {preview!r}" if preview else " (empty body)"
        raise InvalidJSONError(f"response body is not JSON ({content_type}){shown}") from None


def lookup(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``body``; ``_MISSING`` if a key is absent or a parent is null."""
    value = body
    walked: list[str] = []
    for key in path.split("."):
        if value is None and walked:  # {"next": null} has no "next.href": absent, not malformed
            return _MISSING
        if not isinstance(value, Mapping):
            where = ".".join(walked) or "the response body"
            raise ProtocolError(f"expected a JSON object at {where!r}, got {_kind(value)}")
        walked.append(key)
        value = value.get(key, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _body(response: httpx.Response, body: Any) -> Any:
    return decode_json(response) if body is _MISSING else body


def _items(body: Any, path: str) -> list[Any]:
    value = body if path == ROOT else lookup(body, path)
    if value is _MISSING:
        raise ProtocolError(f"response has no {path!r} list")
    if not isinstance(value, list):
        raise ProtocolError(f"expected a list at {path!r}, got {_kind(value)}")
    return value


def _count(body: Any, path: str | None) -> int | None:
    if path is None:
        return None
    value = lookup(body, path)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"expected a non-negative integer at {path!r}, got {value!r:.40}")
    return value


def _text(body: Any, path: str) -> str | None:
    value = lookup(body, path)
    if value is _MISSING or value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"expected a string at {path!r}, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    if value is None:
        return "null"
    return type(value).__name__


def _int_param(request: httpx.Request, name: str) -> int | None:
    value = request.url.params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def derive_request(request: httpx.Request, url: httpx.URL | str) -> httpx.Request:
    """A request like ``request`` (method, headers, extensions) for another URL."""
    import httpx

    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
    return httpx.Request(request.method, url, headers=headers, extensions=request.extensions)


def _follow(request: httpx.Request, href: str) -> httpx.Request:
    """The request for a next link (absolute or relative to ``request``), on whatever origin
    it names: the engine decides whether to follow a link to another origin."""
    import httpx

    try:
        url = request.url.join(href)
        origin_of(url)
    except (httpx.InvalidURL, ValueError):
        raise ProtocolError(f"the next link is not a valid URL ({href!r:.80})") from None
    return derive_request(request, url)


def same_origin(first: httpx.Request, second: httpx.Request) -> bool:
    return origin_of(first.url) == origin_of(second.url)


def _header_count(response: httpx.Response, name: str | None) -> int | None:
    if name is None:
        return None
    value = response.headers.get(name)
    if value is None or not value.strip():
        return None
    try:
        count = int(value.strip())
    except ValueError:
        raise ProtocolError(f"expected a non-negative integer in header {name}, got {value!r:.40}") from None
    if count < 0:
        raise ProtocolError(f"expected a non-negative integer in header {name}, got {value!r:.40}")
    return count


def _build(url: str, params: QueryParams) -> httpx.Request:
    import httpx

    return httpx.Request("GET", url, params=[(key, _param(value)) for key, value in params])


def _with_size(params: QueryParams, size_param: str | None, page_size: int) -> QueryParams:
    return [*params, (size_param, page_size)] if size_param else params


def _param(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@attrs.frozen
class PageNumber:
    """Numbered pages: ``?{page_param}=N&{size_param}=M``.

    ``items`` is the dotted path of the item list (``"$"``: the body is the
    list). Each response's signals go to the engine, which reconciles them: a
    has-more flag (``has_more``), a next link (``next_link``: null means no
    more), the last page from ``total_pages``, the item count ``total_items``,
    and the page's own length (a page shorter than asked ends the listing only
    when no other signal says there is more, and ``short_page_ends`` is true).
    Signals may come from headers instead: ``total_pages_header``,
    ``total_items_header`` and ``next_page_header`` (the next page's number,
    empty on the last page), as GitLab and Gitea send ``X-Total-Pages``,
    ``X-Total`` and ``X-Next-Page``. ``exact_totals`` is false for an API whose
    counts are only upper bounds: they keep a listing going, but an empty page
    after them is no surprise.

    Page identity: ``reported_page`` is the dotted path of the page number the
    response says it is, or ``previous_link`` the path of a previous-page link
    (null on the first page; else the number is read from its ``page_param``).
    A response for another page raises :class:`WrongPageError`, so the
    engine asks again instead of merging it.

    The following page is the server's next link when it stays on the
    request's origin, else the same request with the next page number (so a
    link written with another host name for the same API is not needed).
    """

    items: str
    page_param: str = "page"
    size_param: str = "size"
    first: int = 0
    has_more: str | None = None
    total_pages: str | None = None
    total_items: str | None = None
    next_link: str | None = None
    short_page_ends: bool = True
    exact_totals: bool = True
    reported_page: str | None = None
    previous_link: str | None = None
    total_pages_header: str | None = None
    total_items_header: str | None = None
    next_page_header: str | None = None

    def first_request(self, url: str, params: QueryParams, page_size: int) -> httpx.Request:
        return _build(url, [*params, (self.page_param, self.first), (self.size_param, page_size)])

    def request_for(self, request: httpx.Request, number: int) -> httpx.Request:
        return derive_request(request, request.url.copy_set_param(self.page_param, str(number)))

    def paginate(self, request: httpx.Request, response: httpx.Response, body: Any = _MISSING) -> Page:
        body = _body(response, body)
        items = _items(body, self.items)
        number = _int_param(request, self.page_param)
        if number is None:
            number = self.first
        href = None if self.next_link is None else _text(body, self.next_link)
        reported = self._reported(request, body)
        if reported is not None and reported != number:
            raise WrongPageError(
                f"asked for {self.page_param}={number}, the response is {self.page_param}={reported}"
            )
        total_pages = _count(body, self.total_pages)
        if total_pages is None:
            total_pages = _header_count(response, self.total_pages_header)
        total_items = _count(body, self.total_items)
        if total_items is None:
            total_items = _header_count(response, self.total_items_header)
        has_more = None
        if self.has_more is not None:
            more = lookup(body, self.has_more)
            if more is not _MISSING and more is not None:
                if not isinstance(more, bool):
                    raise ProtocolError(f"expected a boolean at {self.has_more!r}, got {_kind(more)}")
                has_more = more
        linked = None if self.next_link is None else href is not None
        if self.next_page_header is not None:
            following_number = response.headers.get(self.next_page_header, "").strip()
            linked = bool(following_number) if linked is None else linked or bool(following_number)
        following = None if href is None else _follow(request, href)
        if following is None or not same_origin(following, request):
            following = self.request_for(request, number + 1)
        return Page(
            items=items,
            next=following,
            number=number,
            last_number=None if total_pages is None else self.first + max(total_pages, 1) - 1,
            total_items=total_items,
            request_for=functools.partial(self.request_for, request),
            has_more=has_more,
            linked=linked,
            page_size=_int_param(request, self.size_param) if self.short_page_ends else None,
            exact_totals=self.exact_totals,
        )

    def _reported(self, request: httpx.Request, body: Any) -> int | None:
        if self.reported_page is not None:
            value = lookup(body, self.reported_page)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().isdigit():
                return int(value)
            return None
        if self.previous_link is None:
            return None
        # The previous link, not the next one: a next link that loops is a loop to report as
        # such, while the previous link of page N names N - 1 (and is null on the first page).
        previous = _text(body, self.previous_link)
        if previous is None:
            return self.first
        preceding = _link_page(request, previous, self.page_param)
        return None if preceding is None else preceding + 1


def _link_page(request: httpx.Request, href: str, page_param: str) -> int | None:
    try:
        value = request.url.join(href).params.get(page_param)
    except ValueError:
        return None
    return int(value) if value is not None and value.isdigit() else None


@attrs.frozen
class _Following:
    """Shared by the strategies that only know the next request from each response."""

    items: str
    size_param: str | None = None
    total_items: str | None = None

    def first_request(self, url: str, params: QueryParams, page_size: int) -> httpx.Request:
        return _build(url, _with_size(params, self.size_param, page_size))

    def paginate(self, request: httpx.Request, response: httpx.Response, body: Any = _MISSING) -> Page:
        body = _body(response, body)
        following = self._next(request, response, body)
        return Page(
            items=_items(body, self.items),
            next=following,
            total_items=_count(body, self.total_items),
            linked=following is not None,
        )

    def _next(self, request: httpx.Request, response: httpx.Response, body: Any) -> httpx.Request | None:
        raise NotImplementedError


@attrs.frozen
class NextLink(_Following):
    """Follow the href at the dotted path ``next`` (absolute or relative); null ends."""

    next: str = attrs.field(kw_only=True)

    def _next(self, request: httpx.Request, response: httpx.Response, body: Any) -> httpx.Request | None:
        href = _text(body, self.next)
        return None if href is None else _follow(request, href)


@attrs.frozen
class Cursor(_Following):
    """Pass the token at the dotted path ``token`` back as ``?{param}=token``; absent ends."""

    token: str = attrs.field(kw_only=True)
    param: str = attrs.field(default="cursor", kw_only=True)

    def _next(self, request: httpx.Request, response: httpx.Response, body: Any) -> httpx.Request | None:
        token = _text(body, self.token)
        if token is None:
            return None
        return derive_request(request, request.url.copy_set_param(self.param, token))


@attrs.frozen
class LinkHeader:
    """Follow the RFC 8288 ``Link`` header's ``rel="next"`` (absolute or relative); none ends.

    ``items`` is the item list's path (``"$"`` for a bare JSON array). With
    ``page_param``, pages are numbered (``first`` is the first number): a
    ``rel="last"`` link whose URL carries a page number gives the last page,
    and the engine fetches pages concurrently. Without it, the next link is
    the only way on (as with a ``last=`` or ``cursor=`` parameter).
    """

    items: str = ROOT
    size_param: str | None = None
    page_param: str | None = None
    first: int = 1

    def first_request(self, url: str, params: QueryParams, page_size: int) -> httpx.Request:
        return _build(url, _with_size(params, self.size_param, page_size))

    def request_for(self, request: httpx.Request, number: int) -> httpx.Request:
        assert self.page_param is not None
        return derive_request(request, request.url.copy_set_param(self.page_param, str(number)))

    def paginate(self, request: httpx.Request, response: httpx.Response, body: Any = _MISSING) -> Page:
        body = _body(response, body)
        links = response.links
        following = _link_url(links, "next")
        page = Page(
            items=_items(body, self.items),
            next=None if following is None else _follow(request, following),
            linked=following is not None,
        )
        if self.page_param is None:
            return page
        number = _int_param(request, self.page_param)
        number = self.first if number is None else number
        last_href = _link_url(links, "last")
        last = None if last_href is None else _link_page(request, last_href, self.page_param)
        return attrs.evolve(
            page,
            number=number,
            last_number=last,
            request_for=functools.partial(self.request_for, request),
        )


def _link_url(links: Mapping[str | None, Mapping[str, str]], rel: str) -> str | None:
    link = links.get(rel)
    url = link.get("url") if link is not None else None
    return url or None
