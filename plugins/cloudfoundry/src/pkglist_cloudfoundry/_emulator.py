"""An emulator of the Cloud Foundry V3 API (packages and apps) and of UAA's token endpoint.

Routes: ``GET /`` (the root document clients read first), ``GET /v3/apps``,
``/v3/apps/{guid}``, ``/v3/apps/{guid}/packages``, ``/v3/packages``,
``/v3/packages/{guid}`` and ``POST <login_path>/oauth/token`` (the
authorization server's token route, where the cf CLI refreshes: ``password``
and ``refresh_token`` grants for client ``cf`` with an empty secret;
``login_path`` is empty unless given, and the root document's ``login`` link
points there, as the cf CLI's ``AuthorizationEndpoint`` would). The data set
is :class:`~pkglist_cloudfoundry._data.DataSet`; its docstring lists the demo
scope.

Like Cloud Controller it checks ``Authorization: bearer <token>`` (401
``CF-NotAuthenticated`` / ``CF-InvalidAuthToken``), validates the list
parameters (400 ``CF-BadQueryParameter``), answers 404 ``App not found``,
builds absolute ``pagination`` links from the server's external URL with
sorted query keys, and, when ``rate_limit`` is set, sends
``X-RateLimit-Limit/-Remaining/-Reset`` on every V3 response and a 429 with
``Retry-After`` and its JSON body served as ``text/plain`` once the window
is used up. :meth:`CloudFoundryEmulator.expire_tokens` makes the current
access tokens stop working until a client refreshes them.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pkglist.testing import Request, Response

from ._data import DataSet
from ._filters import (
    BadQuery,
    PackageFilter,
    Paging,
    Selector,
    check_known,
    csv_values,
    parse_package_filter,
    parse_paging,
)

__all__ = ["ACCESS_TOKEN", "PASSWORD", "REFRESH_TOKEN", "USERNAME", "CloudFoundryEmulator"]

ACCESS_TOKEN = "cf-emulator-access-token"
REFRESH_TOKEN = "cf-emulator-refresh-token"
USERNAME = "admin"
PASSWORD = "cf-emulator-password"
CLIENT = ("cf", "")
_APP_PARAMS = (
    "page",
    "per_page",
    "order_by",
    "names",
    "guids",
    "space_guids",
    "organization_guids",
    "label_selector",
    "created_ats",
    "updated_ats",
)


def cf_error(
    status: int, code: int, title: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response.json({"errors": [{"detail": detail, "title": title, "code": code}]}, status, headers)


def bad_query(detail: str) -> Response:
    return cf_error(400, 10005, "CF-BadQueryParameter", f"The query parameter is invalid: {detail}")


class CloudFoundryEmulator:
    """Serves ``packages`` packages of the demo app ``web`` (plus a few other apps, unless
    ``other_apps`` is false). ``rate_limit`` requests per ``rate_window`` seconds, when set.
    The token route is served under ``login_path`` (e.g. ``/login``) and nowhere else."""

    def __init__(
        self,
        packages: int = 120,
        seed: int = 0,
        *,
        other_apps: bool = True,
        rate_limit: int | None = None,
        rate_window: float = 3600.0,
        login_path: str = "",
    ) -> None:
        self.data = DataSet(packages, seed, other_apps=other_apps)
        self.login_path = login_path.rstrip("/")
        self.selector = Selector(self.data)
        self.credentials: Mapping[str, str] = {"token": ACCESS_TOKEN}
        self.refresh_token = REFRESH_TOKEN
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self._lock = threading.Lock()
        self._valid_tokens = {ACCESS_TOKEN}
        self._issued = itertools.count(1)
        self._window_end = 0.0
        self._window_used = 0
        #: Grant types UAA answered successfully, in order (for tests).
        self.grants: list[str] = []
        #: How many 429s were sent.
        self.rate_limited = 0

    # Test knobs -------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working (a refresh gives a new one)."""
        with self._lock:
            self._valid_tokens.clear()

    def package_guids(self, app_guid: str | None = None) -> list[str]:
        """The package GUIDs in default order, of one app or of all (for tests)."""
        data = self.data
        app = data.app(app_guid) if app_guid else None
        indices = range(app.start, app.stop) if app else range(data.total)
        return [data.package_guid(index) for index in indices]

    # Dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        segments = [urllib.parse.unquote(part) for part in request.path.split("/") if part]
        if not segments:
            return self._root(request)
        if request.path.rstrip("/") == f"{self.login_path}/oauth/token":
            return self._token(request)
        if segments[0] != "v3":
            return cf_error(404, 10000, "CF-NotFound", "Unknown request")
        rate_headers, limited = self._count_request()
        if limited is not None:
            return limited
        response = self._v3(request, segments[1:])
        if rate_headers:
            response = Response(response.status, response.body, (*response.headers, *rate_headers.items()))
        return response

    def _v3(self, request: Request, segments: list[str]) -> Response:
        denied = self._check_token(request)
        if denied is not None:
            return denied
        if request.method != "GET":
            return cf_error(404, 10000, "CF-NotFound", "Unknown request")
        match segments:
            case ["apps"]:
                return self._apps(request)
            case ["apps", guid]:
                app = self.data.app(guid)
                if app is None:
                    return cf_error(404, 10010, "CF-ResourceNotFound", "App not found")
                return Response.json(self.data.app_resource(app, request.base_url))
            case ["apps", guid, "packages"]:
                return self._packages(request, nested_app=guid)
            case ["packages"]:
                return self._packages(request)
            case ["packages", guid]:
                index = self.data.index_of(guid)
                if index is None:
                    return cf_error(404, 10010, "CF-ResourceNotFound", "Package not found")
                return Response.json(self.data.package(index, request.base_url))
        return cf_error(404, 10000, "CF-NotFound", "Unknown request")

    # Auth and rate limiting ---------------------------------------------------------------

    def _check_token(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        if not header.strip():
            return cf_error(401, 10002, "CF-NotAuthenticated", "Authentication error")
        with self._lock:
            valid = scheme.lower() == "bearer" and token.strip() in self._valid_tokens
        if not valid:
            return cf_error(401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token")
        return None

    def _count_request(self) -> tuple[dict[str, str], Response | None]:
        limit = self.rate_limit
        if limit is None:
            return {}, None
        with self._lock:
            now = time.time()
            if now >= self._window_end:
                self._window_end = now + self.rate_window
                self._window_used = 0
            allowed = self._window_used < limit
            if allowed:
                self._window_used += 1
            else:
                self.rate_limited += 1
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(limit - self._window_used),
                # Whole epoch seconds, rounded up: a client that waits for it is never early.
                "X-RateLimit-Reset": str(math.ceil(self._window_end)),
            }
            wait = self._window_end - now
        if allowed:
            return headers, None
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
        body = b'{"errors":[{"detail":"Rate Limit Exceeded","title":"CF-RateLimitExceeded","code":10013}]}'
        return headers, Response.raw(body, 429, headers, content_type="text/plain; charset=utf-8")

    # Root document and UAA ----------------------------------------------------------------

    def _root(self, request: Request) -> Response:
        base = request.base_url
        host = urllib.parse.urlsplit(base).hostname or "localhost"
        return Response.json(
            {
                "links": {
                    "self": {"href": base},
                    "cloud_controller_v2": {"href": f"{base}/v2", "meta": {"version": "2.155.0"}},
                    "cloud_controller_v3": {"href": f"{base}/v3", "meta": {"version": "3.90.0"}},
                    "network_policy_v0": {"href": f"{base}/networking/v0/external"},
                    "network_policy_v1": {"href": f"{base}/networking/v1/external"},
                    "login": {"href": base + self.login_path},
                    "uaa": {"href": base},
                    "credhub": None,
                    "routing": {"href": f"{base}/routing"},
                    "logging": {"href": f"wss://doppler.{host}:443"},
                    "log_cache": {"href": f"https://log-cache.{host}"},
                    "log_stream": {"href": f"https://log-stream.{host}"},
                    "app_ssh": {
                        "href": f"ssh.{host}:2222",
                        "meta": {
                            "host_key_fingerprint": "Y411oivJwZCUQnXHq83mdM5SKCK4ftyoSXI31RRe4Zs",
                            "oauth_client": "ssh-proxy",
                        },
                    },
                }
            }
        )

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return _oauth_error(405, "method_not_allowed", "Request method 'GET' is not supported")
        form = request.form()
        client = _basic_client(request.headers.get("authorization", ""))
        if client is None and "client_id" in form:
            client = (form["client_id"], form.get("client_secret", ""))
        if client != CLIENT:
            return _oauth_error(401, "unauthorized", "Bad credentials")
        grant = form.get("grant_type", "")
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
                return _oauth_error(401, "unauthorized", "Bad credentials")
        elif grant == "refresh_token":
            given = form.get("refresh_token", "")
            if given != self.refresh_token:
                # UAA quotes the rejected token; a client must not echo it.
                return _oauth_error(401, "invalid_token", f"Invalid refresh token: {given}")
        else:
            return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        with self._lock:
            token = f"{ACCESS_TOKEN}-{next(self._issued)}"
            self._valid_tokens.add(token)
            self.grants.append(grant)
        return Response.json(
            {
                "access_token": token,
                "token_type": "bearer",
                "refresh_token": self.refresh_token,
                "expires_in": 599,
                "scope": "cloud_controller.read cloud_controller.write openid",
                "jti": token.rsplit("-", 1)[-1],
            },
            content_type="application/json;charset=UTF-8",
        )

    # Listings ---------------------------------------------------------------------------

    def _apps(self, request: Request) -> Response:
        try:
            check_known(request.query, _APP_PARAMS)
            paging = parse_paging(request.query, ("created_at", "updated_at", "name", "state"))
        except BadQuery as exc:
            return bad_query(str(exc))
        data = self.data
        apps = list(data.apps)
        for key, attribute in (("names", "name"), ("guids", "guid"), ("space_guids", "space_guid")):
            values = csv_values(request.query, key)
            if values is not None:
                apps = [app for app in apps if getattr(app, attribute) in values]
        orgs = csv_values(request.query, "organization_guids")
        if orgs is not None:
            apps = [app for app in apps if data.org_of(app) in orgs]
        sort_key = {"name": lambda app: app.name, "state": lambda app: bool(app.count)}.get(
            paging.order, lambda app: app.created_at
        )
        apps.sort(key=sort_key, reverse=paging.descending)
        offset = (paging.page - 1) * paging.per_page
        chosen = apps[offset : offset + paging.per_page]
        resources = [data.app_resource(app, request.base_url) for app in chosen]
        return Response.json(_envelope(request, paging, len(apps), resources))

    def _packages(self, request: Request, nested_app: str | None = None) -> Response:
        try:
            paging = parse_paging(request.query)
            flt: PackageFilter = parse_package_filter(request.query, nested=nested_app is not None)
        except BadQuery as exc:
            return bad_query(str(exc))
        if nested_app is not None:
            app = self.data.app(nested_app)
            if app is None:
                return cf_error(404, 10010, "CF-ResourceNotFound", "App not found")
            nested_app = app.guid
        selection = self.selector.select(flt, paging.order, paging.descending, nested_app)
        indices = selection.window((paging.page - 1) * paging.per_page, paging.per_page)
        resources = self.data.packages_json(indices, request.base_url)
        return Response.raw(_envelope_json(request, paging, selection.size, resources))


def _envelope(request: Request, paging: Paging, total: int, resources: list[Any]) -> dict[str, Any]:
    pages = max(1, math.ceil(total / paging.per_page))
    kept = [(key, values[-1]) for key, values in request.query.items() if key not in ("page", "per_page")]

    def link(page: int) -> dict[str, str]:
        params = sorted([*kept, ("page", str(page)), ("per_page", str(paging.per_page))])
        return {"href": f"{request.base_url}{request.path}?{urllib.parse.urlencode(params)}"}

    return {
        "pagination": {
            "total_results": total,
            "total_pages": pages,
            "first": link(1),
            "last": link(pages),
            "next": link(paging.page + 1) if paging.page < pages else None,
            "previous": link(paging.page - 1) if paging.page > 1 else None,
        },
        "resources": resources,
    }


def _envelope_json(request: Request, paging: Paging, total: int, resources: list[str]) -> bytes:
    """The envelope around resources that are already JSON text."""
    head = json.dumps(_envelope(request, paging, total, []), separators=(",", ":"))
    assert head.endswith(',"resources":[]}')
    return (head[: -len("]}")] + ",".join(resources) + "]}").encode()


def _oauth_error(status: int, error: str, description: str) -> Response:
    return Response.json(
        {"error": error, "error_description": description},
        status,
        content_type="application/json;charset=UTF-8",
    )


def _basic_client(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
