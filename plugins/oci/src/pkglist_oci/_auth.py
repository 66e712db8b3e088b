"""Registry auth as docker, podman and oras do it: anonymous, Basic, and the Bearer token challenge.

A request goes out as it is (with a token already cached for its scope, or
Basic credentials once the registry asked for them); once the registry has
named its token realm, a request for a scope without a token gets one first,
which saves the 401 round trip per repository. A ``401`` whose
``WWW-Authenticate`` says ``Basic`` is answered with the Basic credentials; one
that says ``Bearer realm=...,service=...,scope=...`` with a token from the realm
(``GET realm?service=&scope=`` with the Basic credentials, or anonymously
without them; ``POST`` with an identity token, the OAuth2 refresh-token grant
docker uses), then the request again with ``Authorization: Bearer``. Tokens are
cached per scope for the run; a cached token the registry refuses is fetched
once again.

Where credentials go: the registry's origin gets the Basic credentials (only
after it asked for them) and tokens; the token service gets the Basic
credentials or identity token, and only the realm a challenge from the registry
names (over https when the registry is on https). Nothing else gets either.

A token request that fails ends the flow with the token service's answer, so
the engine retries it (429, 5xx, a dropped connection) or reports it (401) like
any other response.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any

import attrs
import httpx

import pkglist
from pkglist.text import one_line

__all__ = ["Challenge", "RegistryAuth", "parse_challenge", "scope_of"]

#: Marks a request for a token (its answer is read by the flow, not handed to paging).
TOKEN_REQUEST = "pkglist_oci.token_request"
_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')


@attrs.frozen
class Challenge:
    """One ``WWW-Authenticate`` challenge: its scheme (lower-case) and parameters."""

    scheme: str
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """The challenge of a ``WWW-Authenticate`` header (quoted values may hold commas).

    >>> parse_challenge('Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull,push"')
    Challenge(scheme='bearer', params={'realm': 'https://auth.example/token', 'service': 'reg', 'scope': 'repository:a/b:pull,push'})
    >>> parse_challenge('Basic realm="registry"').scheme
    'basic'
    >>> parse_challenge("") is None
    True
    """
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        match.group(1).lower(): (match.group(2) if match.group(2) is not None else match.group(3)).replace(
            '\\"', '"'
        )
        for match in _PARAM.finditer(rest)
    }
    return Challenge(scheme=scheme.lower(), params=params)


def scope_of(url: httpx.URL) -> str:
    """The token scope a registry request needs, from its path (``/v2/<name>/...``).

    >>> scope_of(httpx.URL("https://r.example/v2/_catalog?n=2"))
    'registry:catalog:*'
    >>> scope_of(httpx.URL("https://r.example/v2/team/app/tags/list"))
    'repository:team/app:pull'
    >>> scope_of(httpx.URL("https://r.example/v2/team/app/manifests/1.0"))
    'repository:team/app:pull'
    >>> scope_of(httpx.URL("https://r.example/v2/"))
    ''
    """
    path = url.path
    start = path.find("/v2/")
    rest = path[start + 4 :] if start != -1 else ""
    if rest == "_catalog":
        return "registry:catalog:*"
    for marker in ("/tags/list", "/manifests/"):
        index = rest.rfind(marker)
        if index > 0:
            return f"repository:{rest[:index]}:pull"
    return ""


class RegistryAuth(httpx.Auth):
    """The auth flow of one run (see the module docstring)."""

    requires_response_body = False

    def __init__(
        self,
        registry_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        identity_token: str | None = None,
    ) -> None:
        self._registry = httpx.URL(registry_url)
        self._basic = (
            "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            if username is not None and password is not None
            else None
        )
        self._identity_token = identity_token
        self._tokens: dict[str, str] = {}  # scope -> token
        self._basic_wanted = False  # the registry answered a request with a Basic challenge
        self._realm: Challenge | None = None  # realm and service of the registry's Bearer challenges
        #: Tokens fetched in this run (for tests and debugging).
        self.tokens_fetched = 0

    def __repr__(self) -> str:
        return f"RegistryAuth(registry={str(self._registry)!r}, credentials=<redacted>)"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        flow = self._flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if _wants_body(response):
                response.read()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        flow = self._flow(request)
        outgoing = next(flow)
        while True:
            response = yield outgoing
            if _wants_body(response):
                await response.aread()
            try:
                outgoing = flow.send(response)
            except StopIteration:
                return

    # The flow, without I/O: requests out, responses in (their bodies read where needed).

    def _flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scope = scope_of(request.url)
        used = self._tokens.get(scope)
        if used is None and scope and self._realm is not None:
            # The registry wants tokens: ask for this scope's now rather than after a 401.
            answer = yield self._token_request(
                attrs.evolve(self._realm, params={**self._realm.params, "scope": scope})
            )
            used = self._accept(scope, answer)
            if used is None:
                return  # the token service's answer is the outcome (retried or reported by the engine)
        if used is not None:
            request.headers["Authorization"] = f"Bearer {used}"
        elif self._basic_wanted and self._basic is not None:
            request.headers["Authorization"] = self._basic
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return
        if challenge.scheme == "basic":
            if self._basic is None or request.headers.get("Authorization") == self._basic:
                return  # nothing (else) to offer: the 401 stands
            self._basic_wanted = True
            request.headers["Authorization"] = self._basic
            yield request
            return
        if challenge.scheme != "bearer":
            return
        self._realm = Challenge(
            "bearer", {key: challenge.params[key] for key in ("realm", "service") if key in challenge.params}
        )
        latest = self._tokens.get(scope)
        if used is None or latest == used:
            answer = yield self._token_request(challenge)
            latest = self._accept(scope, answer)
            if latest is None:
                return
        # else another request already replaced the refused token: try the new one.
        request.headers["Authorization"] = f"Bearer {latest}"
        yield request

    def _accept(self, scope: str, answer: httpx.Response) -> str | None:
        token = _token_of(answer)
        if token is not None:
            self.tokens_fetched += 1
            self._tokens[scope] = token
        return token

    def _token_request(self, challenge: Challenge) -> httpx.Request:
        realm = challenge.params.get("realm", "")
        try:
            url = httpx.URL(realm)
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise pkglist.ProtocolError(
                f"the registry's token challenge names no usable realm ({one_line(realm, 80)!r})"
            )
        if self._registry.scheme == "https" and url.scheme != "https":
            raise pkglist.ProtocolError(
                f"the registry's token realm {url.scheme}://{url.host} is not https; "
                "credentials are not sent there in clear text"
            )
        service = challenge.params.get("service")
        scopes = challenge.params.get("scope", "").split()
        headers = {"Accept": "application/json"}
        extensions = {TOKEN_REQUEST: True}
        if self._identity_token is not None:
            form = {
                "grant_type": "refresh_token",
                "refresh_token": self._identity_token,
                "client_id": "pkglist",
            }
            if service is not None:
                form["service"] = service
            if scopes:
                form["scope"] = " ".join(scopes)
            return httpx.Request("POST", url, data=form, headers=headers, extensions=extensions)
        if self._basic is not None:
            headers["Authorization"] = self._basic
        params = httpx.QueryParams({"service": service} if service is not None else {})
        for scope in scopes:
            params = params.add("scope", scope)
        url = url.copy_merge_params(params)
        return httpx.Request("GET", url, headers=headers, extensions=extensions)


def _wants_body(response: httpx.Response) -> bool:
    return response.status_code == 401 or bool(response.request.extensions.get(TOKEN_REQUEST))


def _token_of(answer: httpx.Response) -> str | None:
    """The token of a token service's answer; ``None`` for an error answer (it becomes the outcome)."""
    if not 200 <= answer.status_code < 300:
        return None
    try:
        body: Any = json.loads(answer.content)
    except (ValueError, RecursionError):
        body = None
    for key in ("token", "access_token"):
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, str) and value:
            return value
    raise pkglist.ProtocolError(
        f"the token service at {answer.request.url.host} answered HTTP {answer.status_code} without a token"
    )
