"""Registry auth over real loopback HTTP: the Bearer token challenge (a realm on the registry's
origin or on another one), tokens cached per scope, identity tokens, Basic, and where each
credential may go."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

import pkglist
from pkglist.testing import EmulatorServer, Faults, emulator_transport, serve
from pkglist_oci import OciEmulator
from pkglist_oci._auth import RegistryAuth
from pkglist_oci._emulator import DEMO_IDENTITY_TOKEN, DEMO_PASSWORD, DEMO_USERNAME

REPOSITORIES = {"a/one": ["1", "2", "3"], "b/two": ["x"], "c/three": ["p", "q"]}
BASIC = "Basic " + base64.b64encode(f"{DEMO_USERNAME}:{DEMO_PASSWORD}".encode()).decode()


@pytest.fixture(autouse=True)
def _no_auth_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "OCI_USERNAME", "OCI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def images(server: EmulatorServer, **options: Any) -> list[str]:
    options = {"base_url": server.url, "page_size": 2, "retry_backoff": 0.001, **options}
    return [package.id for package in pkglist.iter_packages("oci", "images", **options)]


def credentials() -> dict[str, str]:
    return {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}


def test_a_token_per_scope_is_fetched_once_and_reused() -> None:
    emulator = OciEmulator(REPOSITORIES)
    with serve(emulator) as server:
        assert images(server, digests=True, **credentials()) == emulator.image_ids()
        requests = list(server.requests)
    # One token for the catalog and one per repository, however many pages and manifests.
    assert emulator.tokens_issued == 1 + len(REPOSITORIES)
    token_requests = [request for request in requests if request.path == "/token"]
    assert len(token_requests) == emulator.tokens_issued
    assert all(request.headers["authorization"] == BASIC for request in token_requests)
    registry_requests = [request for request in requests if request.path.startswith("/v2/")]
    # Only the first request meets the challenge: then each new scope's token is asked for first.
    anonymous = [request for request in registry_requests if "authorization" not in request.headers]
    assert [request.path for request in anonymous] == ["/v2/_catalog"]
    assert all(request.headers["authorization"].startswith("Bearer ") for request in registry_requests[1:])
    assert {request.query["scope"][0] for request in token_requests} == {
        "registry:catalog:*",
        *(f"repository:{name}:pull" for name in REPOSITORIES),
    }


def test_a_realm_on_another_origin_gets_the_basic_credentials_and_the_registry_only_tokens() -> None:
    emulator = OciEmulator(REPOSITORIES)
    with serve(emulator) as token_service:
        emulator.token_realm = f"{token_service.url}/token"
        with serve(emulator) as registry:
            assert images(registry, **credentials()) == emulator.image_ids()
            at_registry = list(registry.requests)
        at_token_service = list(token_service.requests)
    assert at_token_service
    assert all(request.path == "/token" for request in at_token_service)
    assert all(request.headers["authorization"] == BASIC for request in at_token_service)
    assert all(request.path.startswith("/v2/") for request in at_registry)
    assert not any(request.headers.get("authorization", "").startswith("Basic") for request in at_registry)
    assert any(request.headers.get("authorization", "").startswith("Bearer") for request in at_registry)


def test_anonymous_pull_gets_a_token_without_credentials() -> None:
    emulator = OciEmulator(REPOSITORIES, anonymous_pull=True)
    with serve(emulator) as server:
        assert images(server) == emulator.image_ids()
        assert not any(
            "authorization" in request.headers for request in server.requests if request.path == "/token"
        )


def test_without_credentials_a_registry_that_wants_them_says_how_to_give_them() -> None:
    emulator = OciEmulator(REPOSITORIES)
    with serve(emulator) as server, pytest.raises(pkglist.AuthError) as caught:
        images(server)
    assert "token service" in str(caught.value)
    assert "UNAUTHORIZED: invalid username or password" in str(caught.value)


def test_an_identity_token_is_exchanged_for_access_tokens(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    emulator = OciEmulator(REPOSITORIES)
    with serve(emulator) as server:
        host = server.url.removeprefix("http://")
        config = tmp_path / "docker"
        config.mkdir()
        (config / "config.json").write_text(
            f'{{"auths": {{"{host}": {{"identitytoken": "{DEMO_IDENTITY_TOKEN}"}}}}}}'
        )
        monkeypatch.setenv("DOCKER_CONFIG", str(config))
        assert images(server) == emulator.image_ids()
        posts = [request for request in server.requests if request.method == "POST"]
    assert posts
    assert all(request.path == "/token" for request in posts)
    assert not any("authorization" in request.headers for request in posts)


def test_a_catalog_the_registry_refuses_suggests_listing_one_repository() -> None:
    emulator = OciEmulator(REPOSITORIES, catalog_denied=True)
    with serve(emulator) as server:
        with pytest.raises(pkglist.AuthError) as caught:
            images(server, **credentials())
        assert "tags --repository" in str(caught.value)
        assert "Docker Hub and GHCR" in str(caught.value)
        named = images(server, repository=["c/three", "a/one"], **credentials())
    assert named == emulator.image_ids(["c/three", "a/one"])


def test_a_failing_token_service_is_retried_like_any_request() -> None:
    emulator = OciEmulator(REPOSITORIES)
    with serve(emulator) as server:
        server.set_faults(Faults(statuses={503: 0.5}, drop_before=0.1, only_paths="/token", seed=3))
        assert images(server, retries=20, **credentials()) == emulator.image_ids()
        assert sum(server.injected.values()) > 0


def test_basic_auth_is_sent_once_the_registry_asks_for_it() -> None:
    emulator = OciEmulator(REPOSITORIES, auth="basic")
    with serve(emulator) as server:
        assert images(server, concurrency=1, **credentials()) == emulator.image_ids()
        unauthorized = [request for request in server.requests if "authorization" not in request.headers]
    assert len(unauthorized) == 1  # the first request only; the others carry Basic from the start


async def _flow(auth: RegistryAuth, emulator: OciEmulator, url: str) -> httpx.Response:
    async with httpx.AsyncClient(
        auth=auth, transport=emulator_transport(emulator, "https://registry.test")
    ) as client:
        return await client.get(url)


def test_a_plain_http_realm_for_an_https_registry_is_refused() -> None:
    import asyncio

    emulator = OciEmulator(REPOSITORIES, token_realm="http://auth.test/token")
    auth = RegistryAuth("https://registry.test", username=DEMO_USERNAME, password=DEMO_PASSWORD)
    with pytest.raises(pkglist.ProtocolError, match="not https"):
        asyncio.run(_flow(auth, emulator, "https://registry.test/v2/_catalog"))
    assert DEMO_PASSWORD not in repr(auth)
