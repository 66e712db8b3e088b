"""Building pages that headers describe, so that an emulator does not hand-build them.

>>> from pkglist.testing import Request, header_page
>>> request = Request.from_target("GET", "/api/v4/packages?page=2&per_page=2", {}, b"", "https://gl.test")
>>> answer = header_page(request, [{"id": n} for n in range(5)])
>>> answer.body
b'[{"id":2},{"id":3}]'
>>> headers = dict(answer.headers)
>>> headers["X-Total"], headers["X-Total-Pages"], headers["X-Next-Page"], headers["X-Prev-Page"]
('5', '3', '3', '1')
>>> headers["Link"]  # doctest: +NORMALIZE_WHITESPACE
'<https://gl.test/api/v4/packages?page=3&per_page=2>; rel="next", <https://gl.test/api/v4/packages?page=1&per_page=2>;
rel="prev", <https://gl.test/api/v4/packages?page=1&per_page=2>; rel="first",
<https://gl.test/api/v4/packages?page=3&per_page=2>; rel="last"'
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from ._emulator import Request, Response

__all__ = ["header_page", "link_header"]


def link_header(links: Mapping[str, str]) -> str:
    """An RFC 8288 ``Link`` value: ``{"next": url, "last": url}`` -> ``<url>; rel="next", ...``."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items())


def header_page(
    request: Request,
    items: Sequence[Any],
    *,
    page_param: str = "page",
    size_param: str = "per_page",
    first: int = 1,
    default_size: int = 20,
    links: bool = True,
    totals: bool = True,
) -> Response:
    """The page ``request`` asks for of ``items``, as GitLab and Gitea answer: the body a bare
    JSON array, the paging in ``X-Total``, ``X-Total-Pages``, ``X-Page``, ``X-Per-Page``,
    ``X-Next-Page``/``X-Prev-Page`` (empty at the ends; with ``totals``) and a ``Link`` header
    with ``next``/``prev``/``first``/``last`` (with ``links``), absolute on the request's base URL."""
    size = int(request.param(size_param, str(default_size)) or default_size)
    page = int(request.param(page_param, str(first)) or first)
    index = page - first
    chunk = list(items[index * size : (index + 1) * size])
    pages = max(1, -(-len(items) // size))
    last = first + pages - 1
    headers: dict[str, str] = {}
    if totals:
        headers |= {
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Page": str(page),
            "X-Per-Page": str(size),
            "X-Next-Page": str(page + 1) if page < last else "",
            "X-Prev-Page": str(page - 1) if page > first else "",
        }
    if links:

        def url(number: int) -> str:
            query = {**request.query, page_param: [str(number)], size_param: [str(size)]}
            return f"{request.base_url}{request.path}?{urllib.parse.urlencode(query, doseq=True)}"

        rels = {}
        if page < last:
            rels["next"] = url(page + 1)
        if page > first:
            rels["prev"] = url(page - 1)
        rels |= {"first": url(first), "last": url(last)}
        headers["Link"] = link_header(rels)
    body = json.dumps(chunk, separators=(",", ":")).encode()
    return Response.raw(body, headers=headers)
