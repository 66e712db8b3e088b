"""An emulator of an OCI Distribution registry, for tests, benchmarks and ``--emulate``.

It serves what the OCI Distribution spec documents for listing (and what Debian's
docker-registry 2.8.2 was seen to do, see ``shared/API-NOTES.md``):

* ``GET /v2/`` answers ``{}``; every answer carries ``Docker-Distribution-Api-Version``;
* ``GET /v2/_catalog?n=N&last=L``: repositories in lexical order, at most ``n`` after ``last``,
  with ``Link: </v2/_catalog?last=X&n=N>; rel="next"`` (relative) while more remain;
* ``GET /v2/<name>/tags/list?n=N&last=L``: tags in lexical order, paged the same way, or,
  with ``tags_paging=False``, every tag at once in storage order as 2.8 does;
* ``HEAD``/``GET /v2/<name>/manifests/<tag>``: ``Docker-Content-Digest`` and ``Content-Type``,
  404 ``MANIFEST_UNKNOWN`` unless ``Accept`` allows the manifest's media type;
* errors as ``{"errors": [{"code", "message", "detail"}]}``: ``NAME_UNKNOWN``,
  ``MANIFEST_UNKNOWN``, ``UNAUTHORIZED``, ``DENIED``, ``PAGINATION_NUMBER_INVALID``;
* auth: ``"token"`` (401 with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``;
  ``GET /token`` gives a token for the scopes asked for, with Basic credentials or, with
  ``anonymous_pull``, without; ``POST /token`` takes an identity token as docker sends it),
  ``"basic"`` (401 with ``WWW-Authenticate: Basic``) or ``"none"``. ``token_realm`` puts
  the realm elsewhere (another server in front of the same emulator). ``catalog_denied``
  refuses the catalog to every token, as Docker Hub and GHCR do; ``denied`` repositories
  answer 403 ``DENIED`` to every token; ``too_many_every=N`` answers every Nth request with
  429 ``TOOMANYREQUESTS``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pkglist.testing import Request, Response

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAME", "OciEmulator"]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-registry-password"
DEMO_IDENTITY_TOKEN = "demo-identity-token"
SERVICE = "pkglist-emulator"
MAX_N = 1000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_VERSION_HEADER = ("Docker-Distribution-Api-Version", "registry/2.0")

Auth = Literal["token", "basic", "none"]


def _error(status: int, code: str, message: str, detail: Any = None, **headers: str) -> Response:
    body = {"errors": [{"code": code, "message": message, "detail": detail}]}
    return Response.json(body, status=status, headers=headers)


class OciEmulator:
    """A registry holding ``repositories`` (name -> tags, in storage order)."""

    def __init__(
        self,
        repositories: Mapping[str, Sequence[str]],
        *,
        auth: Auth = "token",
        username: str = DEMO_USERNAME,
        password: str = DEMO_PASSWORD,
        identity_token: str | None = DEMO_IDENTITY_TOKEN,
        anonymous_pull: bool = False,
        tags_paging: bool = True,
        catalog_denied: bool = False,
        token_realm: str | None = None,
        denied: Sequence[str] = (),
        too_many_every: int | None = None,
    ) -> None:
        if auth not in ("token", "basic", "none"):
            raise ValueError(f"auth must be token, basic or none, not {auth!r}")
        self.repositories = {name: list(tags) for name, tags in repositories.items()}
        self.auth: Auth = auth
        self.username, self.password = username, password
        self.identity_token = identity_token
        self.anonymous_pull = anonymous_pull
        self.tags_paging = tags_paging
        self.catalog_denied = catalog_denied
        self.token_realm = token_realm
        self.denied = frozenset(denied)
        self.too_many_every = too_many_every
        self.requests_seen = 0
        self._tokens: dict[str, frozenset[str]] = {}  # token -> scopes granted
        self._lock = threading.Lock()
        self.tokens_issued = 0

    @classmethod
    def demo(cls, tags: int | None = None, seed: int = 0, **options: Any) -> OciEmulator:
        """Seeded demo repositories: ``library/alpine``, ``team/api``... with ``tags`` tags in all
        (default 40), and one repository without tags."""
        names = ["library/alpine", "library/busybox", "team/api", "team/web", "team/worker", "tools/ci"]
        total = 40 if tags is None else tags
        repositories: dict[str, list[str]] = {name: [] for name in names}
        repositories["team/empty"] = []
        for index in range(total):
            name = names[(index * 7 + seed) % len(names)]
            repositories[name].append(f"1.{len(repositories[name])}.{seed}")
        for name in names:
            if repositories[name]:
                repositories[name].append("latest")
                break
        return cls(repositories, **options)

    @property
    def credentials(self) -> Mapping[str, str]:
        if self.auth == "none":
            return {}
        return {"username": self.username, "password": self.password}

    # What a listing must yield ------------------------------------------------------------

    def catalog(self) -> list[str]:
        return sorted(self.repositories)

    def tags(self, repository: str) -> list[str]:
        tags = self.repositories[repository]
        return sorted(tags) if self.tags_paging else list(tags)

    def image_ids(self, repositories: Sequence[str] | None = None) -> list[str]:
        return [f"{name}:{tag}" for name in (repositories or self.catalog()) for tag in self.tags(name)]

    def digest(self, repository: str, tag: str) -> str:
        return "sha256:" + hashlib.sha256(self._manifest(repository, tag)).hexdigest()

    def media_type(self, repository: str, tag: str) -> str:
        return DOCKER_MANIFEST if tag == "latest" else OCI_MANIFEST

    def _manifest(self, repository: str, tag: str) -> bytes:
        body = {
            "schemaVersion": 2,
            "mediaType": self.media_type(repository, tag),
            "annotations": {"ref": tag},
        }
        return json.dumps({**body, "repository": repository}, sort_keys=True).encode()

    # HTTP ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests_seen += 1
            limited = self.too_many_every is not None and self.requests_seen % self.too_many_every == 0
        if limited:
            response = _error(429, "TOOMANYREQUESTS", "too many requests", **{"Retry-After": "0"})
        else:
            response = self._handle(request)
        body = b"" if request.method == "HEAD" else response.body
        return Response(response.status, body, (*response.headers, _VERSION_HEADER))

    def _handle(self, request: Request) -> Response:
        if request.path == "/token":
            return self._token(request)
        if not request.path.startswith("/v2/"):
            return _error(404, "NOT_FOUND", "no such route")
        if request.method not in ("GET", "HEAD"):
            return _error(405, "UNSUPPORTED", "the emulator only lists")
        rest = request.path[len("/v2/") :]
        scope = _scope(rest)
        denied = self._authorize(request, scope)
        if denied is not None:
            return denied
        if rest == "":
            return Response.json({})
        if rest == "_catalog":
            return self._list(request, self.catalog(), "repositories", {})
        name, kind, reference = _split(rest)
        if name is None or name not in self.repositories:
            return _error(404, "NAME_UNKNOWN", "repository name not known to registry", {"name": name})
        if kind == "tags":
            return self._list(request, self.tags(name), "tags", {"name": name}, sort=self.tags_paging)
        if kind == "manifests" and reference is not None:
            return self._manifest_answer(request, name, reference)
        return _error(404, "NOT_FOUND", "no such route")

    def _list(
        self, request: Request, names: list[str], key: str, extra: dict[str, Any], *, sort: bool = True
    ) -> Response:
        n_text, last = request.param("n"), request.param("last")
        if not sort:  # 2.8's tag listing: everything at once, `n` ignored
            return Response.json({**extra, key: names})
        # As 2.8 does: an `n` that is not a number (or negative) is ignored, 0 lists nothing.
        n = int(n_text) if n_text is not None and n_text.isdigit() else None
        if n is not None and n > MAX_N:
            return _error(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", {"n": n})
        start = 0 if last is None else sum(1 for name in names if name <= last)
        size = n if n is not None else len(names)
        chunk = names[start : start + size]
        headers = {}
        if n and start + size < len(names):
            query = urllib.parse.urlencode({"last": chunk[-1], "n": size})
            headers["Link"] = f'<{request.path}?{query}>; rel="next"'
        return Response.json({**extra, key: chunk}, headers=headers)

    def _manifest_answer(self, request: Request, name: str, reference: str) -> Response:
        tag = urllib.parse.unquote(reference)
        if tag not in self.repositories[name]:
            return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Tag": tag})
        media_type = self.media_type(name, tag)
        accepted = {part.split(";")[0].strip() for part in request.headers.get("accept", "").split(",")}
        if media_type == OCI_MANIFEST and media_type not in accepted:
            return _error(
                404,
                "MANIFEST_UNKNOWN",
                "OCI manifest found, but accept header does not support OCI manifests",
            )
        manifest = self._manifest(name, tag)
        headers = {"Docker-Content-Digest": self.digest(name, tag)}
        body = b"" if request.method == "HEAD" else manifest
        return Response(200, body, (("Content-Type", media_type), *headers.items()))

    # Auth ---------------------------------------------------------------------------------

    def _authorize(self, request: Request, scope: str) -> Response | None:
        if self.auth == "none":
            return None
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if self.auth == "basic":
            if scheme.lower() == "basic" and self._basic_ok(value):
                return None
            return _error(
                401,
                "UNAUTHORIZED",
                "authentication required",
                **{"WWW-Authenticate": 'Basic realm="pkglist-emulator"'},
            )
        with self._lock:
            granted = self._tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if granted is not None and (not scope or scope in granted):
            if scope.startswith("repository:") and scope.split(":")[1] in self.denied:
                return _error(403, "DENIED", "requested access to the resource is denied")
            if scope == "registry:catalog:*" and self.catalog_denied:
                return _error(
                    401,
                    "UNAUTHORIZED",
                    "authentication required",
                    [{"Type": "registry", "Name": "catalog", "Action": "*"}],
                )
            return None
        realm = self.token_realm or f"{request.base_url}/token"
        challenge = f'Bearer realm="{realm}",service="{SERVICE}"'
        if scope:
            challenge += f',scope="{scope}"'
        if granted is not None:
            challenge += ',error="insufficient_scope"'
        return _error(401, "UNAUTHORIZED", "authentication required", **{"WWW-Authenticate": challenge})

    def _basic_ok(self, value: str) -> bool:
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(password, self.password)

    def _token(self, request: Request) -> Response:
        if self.auth != "token":
            return _error(404, "NOT_FOUND", "no token service here")
        if request.method == "POST":
            form = request.form()
            if (
                form.get("grant_type") != "refresh_token"
                or self.identity_token is None
                or not secrets.compare_digest(form.get("refresh_token", ""), self.identity_token)
            ):
                return Response.json(
                    {"error": "invalid_grant", "error_description": "bad refresh token"}, status=401
                )
            scopes = form.get("scope", "").split()
            return self._issue(scopes, "access_token")
        if request.method != "GET":
            return _error(405, "UNSUPPORTED", "GET or POST")
        if request.param("service") != SERVICE:
            return _error(400, "INVALID_REQUEST", "unknown service", {"service": request.param("service")})
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        anonymous = not scheme and self.anonymous_pull
        if not anonymous and (scheme.lower() != "basic" or not self._basic_ok(value)):
            return _error(401, "UNAUTHORIZED", "invalid username or password")
        return self._issue(request.params("scope"), "token")

    def _issue(self, scopes: list[str], key: str) -> Response:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = frozenset(scopes)
            self.tokens_issued += 1
        return Response.json({key: token, "expires_in": 300})


def _scope(rest: str) -> str:
    if rest == "":
        return ""
    if rest == "_catalog":
        return "registry:catalog:*"
    name, _, _ = _split(rest)
    return f"repository:{name}:pull" if name else ""


def _split(rest: str) -> tuple[str | None, str | None, str | None]:
    """``<name>/tags/list`` or ``<name>/manifests/<reference>`` into (name, kind, reference)."""
    if rest.endswith("/tags/list"):
        return urllib.parse.unquote(rest[: -len("/tags/list")]), "tags", None
    name, marker, reference = rest.rpartition("/manifests/")
    if marker and name and reference:
        return urllib.parse.unquote(name), "manifests", reference
    return None, None, None
