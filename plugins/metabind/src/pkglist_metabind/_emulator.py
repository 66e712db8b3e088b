"""An emulator of the Metabind packages API, for tests, benchmarks and ``--emulate``.

It serves ``GET /v1/organizations/{organizationId}/projects/{projectId}/packages``
behind ``Authorization: Bearer <key>``: immutable packages, newest first, with
``page``/``limit`` (``pagination {page, limit, total, pages}``), or, with
``paging="cursor"`` or when a request carries ``lastKey``, the newer cursor
variant (``pagination {lastKey}``, the last item's version base64-encoded as in
the docs, present whenever a page is full). ``paging="hybrid"`` answers with
both (the docs' envelope variant A). Errors use the documented
``{"error": {code, message, details}}`` body.

Knobs for tests: ``rate_limit`` requests per ``rate_window`` seconds
(429 with ``Retry-After``, ``X-RateLimit-*`` on every response and
``retryAfter`` in the body, each can be left out with ``rate_signals``), and
``publish_after`` / ``publish_count``, which publish packages once the given
number of listing pages has been served, so that numbered pages shift under a
listing in progress as they do on the real service.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pkglist.testing import Request, Response

from ._data import ProjectData, index_of_version, version_of

__all__ = ["DEMO_API_KEY", "DEMO_ORGANIZATION", "DEMO_PROJECT", "MetabindEmulator"]

DEMO_API_KEY = "mb-emulator-key"
DEMO_ORGANIZATION = "org123"
DEMO_PROJECT = "proj123"
#: The project the demo project's packages depend on, and one without packages.
DEPENDENCY_PROJECT = "proj456"
EMPTY_PROJECT = "proj789"

PAGE_MAX_LIMIT = 100
CURSOR_MAX_LIMIT = 1000  # the cursor generation documents "max 1000"
DEFAULT_LIMIT = 20
RATE_SIGNALS = frozenset({"retry-after", "headers", "body"})

Paging = Literal["page", "cursor", "hybrid"]


def encode_key(version: str) -> str:
    """A ``lastKey`` as the docs show it: ``{"version":"1.0.0"}`` in base64."""
    return base64.b64encode(json.dumps({"version": version}, separators=(",", ":")).encode()).decode()


def decode_key(key: str) -> str | None:
    try:
        value = json.loads(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    version = value.get("version") if isinstance(value, dict) else None
    return version if isinstance(version, str) else None


def _error(status: int, code: str, message: str, details: Mapping[str, Any] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = dict(details)
    return Response.json({"error": error}, status=status)


class _BadRequest(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.response = _error(400, "VALIDATION_FAILED", "Request validation failed", {field: problem})


class MetabindEmulator:
    """Organization ``org123`` with project ``proj123`` holding ``packages``
    packages, ``proj456`` (3 packages, what they depend on) and ``proj789``
    (none); ``projects`` replaces that layout (``{org: {project: count}}``).
    """

    def __init__(
        self,
        packages: int = 120,
        seed: int = 0,
        *,
        api_key: str = DEMO_API_KEY,
        paging: Paging = "page",
        projects: Mapping[str, Mapping[str, int]] | None = None,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        rate_signals: Iterable[str] = RATE_SIGNALS,
        publish_after: int | None = None,
        publish_count: int = 0,
    ) -> None:
        if paging not in ("page", "cursor", "hybrid"):
            raise ValueError(f"paging must be page, cursor or hybrid, not {paging!r}")
        self.credentials: Mapping[str, str] = {"api_key": api_key}
        self.seed = seed
        self.paging: Paging = paging
        layout = projects or {
            DEMO_ORGANIZATION: {DEMO_PROJECT: packages, DEPENDENCY_PROJECT: 3, EMPTY_PROJECT: 0}
        }
        self._counts = {org: dict(counts) for org, counts in layout.items()}
        self._data: dict[tuple[str, str], ProjectData] = {}
        for org, counts in self._counts.items():
            dependency = (
                (DEPENDENCY_PROJECT, counts[DEPENDENCY_PROJECT]) if DEPENDENCY_PROJECT in counts else None
            )
            for project in counts:
                link = dependency if project != DEPENDENCY_PROJECT else None
                self._data[org, project] = ProjectData(org, project, seed, link)
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.rate_signals = frozenset(rate_signals)
        unknown = self.rate_signals - RATE_SIGNALS
        if unknown:
            raise ValueError(f"unknown rate signals: {sorted(unknown)}")
        self.publish_after = publish_after
        self.publish_count = publish_count
        self.pages_served = 0
        self.rejected = 0  # requests answered 429
        self._window_start = 0.0
        self._window_used = 0
        self._lock = threading.Lock()

    # Data ---------------------------------------------------------------------------

    def count(self, organization: str = DEMO_ORGANIZATION, project: str = DEMO_PROJECT) -> int:
        with self._lock:
            return self._counts[organization][project]

    def package_ids(self, organization: str = DEMO_ORGANIZATION, project: str = DEMO_PROJECT) -> list[str]:
        """The ids the listing holds now, newest first."""
        return self._data[organization, project].ids(self.count(organization, project))

    def packages(
        self, organization: str = DEMO_ORGANIZATION, project: str = DEMO_PROJECT
    ) -> list[dict[str, Any]]:
        """The listing's items now, newest first (small projects only: it builds them all)."""
        data = self._data[organization, project]
        return [data.package(index) for index in range(self.count(organization, project) - 1, -1, -1)]

    def publish(self, count: int, organization: str = DEMO_ORGANIZATION, project: str = DEMO_PROJECT) -> None:
        """Publish ``count`` new packages (they become the newest)."""
        with self._lock:
            self._counts[organization][project] += count

    # HTTP ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        headers, limited = self._rate(time.time())
        if limited is not None:
            return _with_headers(limited, headers)
        return _with_headers(self._route(request), headers)

    def _authenticate(self, request: Request) -> Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _error(401, "UNAUTHORIZED", "Missing or invalid authentication")
        if key.strip() != self.credentials["api_key"]:
            return _error(401, "UNAUTHORIZED", "Invalid API key")
        return None

    def _rate(self, now: float) -> tuple[dict[str, str], Response | None]:
        """Count the request in a fixed window; the headers to send and a 429 when over."""
        if self.rate_limit is None:
            return {}, None
        with self._lock:
            if now >= self._window_start + self.rate_window:
                self._window_start, self._window_used = now, 0
            self._window_used += 1
            used = self._window_used
            resets_at = self._window_start + self.rate_window
            if used > self.rate_limit:
                self.rejected += 1
        headers = {}
        if "headers" in self.rate_signals:
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(max(0, self.rate_limit - used)),
                "X-RateLimit-Reset": str(math.ceil(resets_at)),
            }
        if used <= self.rate_limit:
            return headers, None
        wait = max(1, math.ceil(resets_at - now))
        error: dict[str, Any] = {"code": "RATE_LIMIT_EXCEEDED", "message": "Too many requests"}
        if "body" in self.rate_signals:
            error["retryAfter"] = wait
        if "retry-after" in self.rate_signals:
            headers["Retry-After"] = str(wait)
        return headers, Response.json({"error": error}, status=429)

    def _route(self, request: Request) -> Response:
        parts = request.path.split("/")
        if (
            len(parts) != 7
            or parts[0] != ""
            or parts[1:3] != ["v1", "organizations"]
            or parts[4] != "projects"
            or parts[6] != "packages"
        ):
            return _error(404, "NOT_FOUND", "Route not found", {"path": request.path})
        if request.method not in ("GET", "HEAD"):
            return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not supported by the emulator")
        organization, project = urllib.parse.unquote(parts[3]), urllib.parse.unquote(parts[5])
        counts = self._counts.get(organization)
        if counts is None:
            return _error(
                404,
                "NOT_FOUND",
                "Organization not found",
                {"resourceType": "organization", "resourceId": organization},
            )
        if project not in counts:
            return _error(
                404, "NOT_FOUND", "Project not found", {"resourceType": "project", "resourceId": project}
            )
        try:
            return Response.json(self._list(request, organization, project))
        except _BadRequest as exc:
            return exc.response

    def _list(self, request: Request, organization: str, project: str) -> dict[str, Any]:
        last_key = request.param("lastKey")
        # A request carrying `lastKey` is answered in the cursor style, as the newer servers do.
        style = self.paging if last_key is None or self.paging == "hybrid" else "cursor"
        limit = _int_param(
            request, "limit", DEFAULT_LIMIT, 1, CURSOR_MAX_LIMIT if style == "cursor" else PAGE_MAX_LIMIT
        )
        page = 1 if style == "cursor" or last_key is not None else _int_param(request, "page", 1, 1, None)
        data = self._data[organization, project]
        with self._lock:
            total = self._counts[organization][project]
            if (organization, project) == (DEMO_ORGANIZATION, DEMO_PROJECT):
                self.pages_served += 1
                if self.pages_served == self.publish_after:
                    self._counts[organization][project] += self.publish_count
        start = (page - 1) * limit
        if last_key is not None:
            start = _start_after(last_key, total)
            page = start // limit + 1
        stop = min(start + limit, total)
        items = [data.package(total - 1 - position) for position in range(start, stop)]
        pagination: dict[str, Any] = {}
        if style != "cursor":
            pagination = {"page": page, "limit": limit, "total": total, "pages": math.ceil(total / limit)}
        if style != "page" and len(items) == limit:
            pagination["lastKey"] = encode_key(version_of(total - stop))
        return {"data": items, "pagination": pagination}


def _start_after(last_key: str, total: int) -> int:
    """The listing position right after the package a ``lastKey`` names."""
    version = decode_key(last_key)
    index = None if version is None else index_of_version(version)
    if index is None or index >= total:
        raise _BadRequest("lastKey", "Invalid pagination key")
    return total - index


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    text = request.param(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _BadRequest(name, f"{name} must be a number") from None
    if value < low:
        raise _BadRequest(name, f"{name} must be at least {low}")
    if high is not None and value > high:
        raise _BadRequest(name, f"{name} must be at most {high}")
    return value


def _with_headers(response: Response, headers: Mapping[str, str]) -> Response:
    if not headers:
        return response
    return Response(response.status, response.body, (*response.headers, *headers.items()))
