"""The emulator answers as the OCI Distribution spec documents and as a real registry does: the
same requests to a seeded docker-registry and to an emulator holding the same images are
compared answer by answer; then what only the emulator offers (token challenge, DENIED,
TOOMANYREQUESTS, paged tag lists)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import EmulatorServer, serve
from pkglist_oci import OciEmulator
from pkglist_oci._provider import MANIFEST_ACCEPT
from tests.support.oci import push_image
from tests.support.servers import Registry, docker_registry

IMAGES = {"b/x": ["2", "1", "10"], "a/y": ["z"], "c": ["q"], "d/e/f": ["1.0", "1.1"]}

REQUESTS = [
    ("GET", "/v2/", None),
    ("GET", "/v2/_catalog?n=2", None),
    ("GET", "/v2/_catalog?n=2&last=b%2Fx", None),
    ("GET", "/v2/_catalog?last=b/x", None),
    ("GET", "/v2/_catalog?n=0", None),
    ("GET", "/v2/_catalog?n=abc", None),
    ("GET", "/v2/_catalog?n=5000", None),
    ("GET", "/v2/b/x/tags/list", None),
    ("GET", "/v2/b/x/tags/list?n=1", None),
    ("GET", "/v2/d/e/f/tags/list", None),
    ("GET", "/v2/nope/tags/list", None),
    ("HEAD", "/v2/b/x/manifests/2", None),
    ("HEAD", "/v2/b/x/manifests/2", MANIFEST_ACCEPT),
    ("HEAD", "/v2/b/x/manifests/nope", MANIFEST_ACCEPT),
    ("GET", "/v2/b/x/manifests/nope", MANIFEST_ACCEPT),
]


@pytest.fixture(scope="module")
def both() -> Iterator[tuple[Registry, EmulatorServer]]:
    with docker_registry() as registry, serve(OciEmulator(IMAGES, auth="none", tags_paging=False)) as server:
        for repository, tags in IMAGES.items():
            for tag in tags:
                push_image(registry.url, repository, tag)
        yield registry, server


def _answer(base: str, method: str, path: str, accept: str | None) -> dict[str, Any]:
    headers = {"Accept": accept} if accept else {}
    response = httpx.request(method, base + path, headers=headers, timeout=10)
    body: Any = response.content
    if body:
        body = json.loads(body)
        if isinstance(body, dict) and isinstance(body.get("tags"), list):
            body["tags"] = sorted(body["tags"])  # 2.8 answers in storage order, whatever that is
    return {
        "status": response.status_code,
        "body": body,
        "link": response.headers.get("link"),
        "type": response.headers.get("content-type", "").split(";")[0],
        "version": response.headers.get("docker-distribution-api-version"),
        "has_digest": "docker-content-digest" in response.headers,
    }


@pytest.mark.parametrize(("method", "path", "accept"), REQUESTS)
def test_the_emulator_answers_as_the_real_registry(
    both: tuple[Registry, EmulatorServer], method: str, path: str, accept: str | None
) -> None:
    registry, server = both
    real, emulated = _answer(registry.url, method, path, accept), _answer(server.url, method, path, accept)
    if real["has_digest"]:  # the emulator's manifests are its own, so only the shape compares
        assert emulated["type"] == real["type"]
        real.pop("type")
        emulated.pop("type")
    assert emulated == real


def _tags(server: EmulatorServer, **options: Any) -> list[str]:
    found = pkglist.iter_packages("oci", "tags", base_url=server.url, retry_backoff=0.001, **options)
    return [package.id for package in found]


def test_tag_lists_page_with_link_headers_as_newer_registries_do() -> None:
    emulator = OciEmulator({"r": [f"t{n}" for n in range(7)]}, auth="none")
    with serve(emulator) as server:
        answer = httpx.get(f"{server.url}/v2/r/tags/list?n=3")
        assert answer.headers["link"] == '</v2/r/tags/list?last=t2&n=3>; rel="next"'
        assert _tags(server, repository="r", page_size=3) == [f"r:t{n}" for n in range(7)]
        assert [request.query.get("last") for request in server.requests if "tags" in request.path][-2:] == [
            ["t2"],
            ["t5"],
        ]


def test_the_token_challenge_names_realm_service_and_scope() -> None:
    with serve(OciEmulator({"team/app": ["1"]})) as server:
        answer = httpx.get(f"{server.url}/v2/team/app/tags/list")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == (
        f'Bearer realm="{server.url}/token",service="pkglist-emulator",scope="repository:team/app:pull"'
    )
    assert answer.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_a_denied_repository_is_an_auth_error_with_the_code() -> None:
    emulator = OciEmulator({"team/app": ["1"], "secret/app": ["1"]}, denied=["secret/app"])
    with serve(emulator) as server, pytest.raises(pkglist.AuthError) as caught:
        _tags(server, repository="secret/app", **emulator.credentials)
    assert caught.value.status == 403
    assert "DENIED: requested access to the resource is denied" in str(caught.value)


def test_too_many_requests_are_retried_and_reported_with_the_code() -> None:
    emulator = OciEmulator({"r": [f"t{n}" for n in range(9)]}, auth="none", too_many_every=3)
    with serve(emulator) as server:
        assert _tags(server, repository="r", page_size=2) == [f"r:t{n}" for n in range(9)]
        emulator.too_many_every = 1
        with pytest.raises(pkglist.RateLimitedError, match="TOOMANYREQUESTS: too many requests"):
            _tags(server, repository="r", retries=1)
