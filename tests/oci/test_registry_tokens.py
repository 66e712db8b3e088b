"""The Bearer token challenge against a real registry: docker-registry in ``auth.token`` mode,
its realm a JWT token service on loopback (``jwt_token_service.py``) that the registry trusts
through its root certificate bundle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import EmulatorServer, serve
from pkglist_oci._auth import RegistryAuth
from tests.support.oci import push_image
from tests.support.servers import Registry, docker_registry

from .jwt_token_service import JwtTokenService

USER, PASSWORD = "puller", "token-service-password"
SEED = {"team/api": ["1.0", "2.0"], "team/web": ["x"], "tools/cli": ["a", "b", "c"]}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Registry, EmulatorServer, JwtTokenService]]:
    service = JwtTokenService({USER: PASSWORD}, tmp_path_factory.mktemp("tokens"))
    with (
        serve(service) as token_server,
        docker_registry(token_auth=service.registry_settings(token_server.url)) as registry,
    ):
        # Seeding goes through the same token flow (push scopes), with httpx's sync client.
        pusher = RegistryAuth(registry.url, username=USER, password=PASSWORD)
        for repository, tags in SEED.items():
            for tag in tags:
                push_image(registry.url, repository, tag, auth=pusher)
        service.issued.clear()
        token_server.requests.clear()
        yield registry, token_server, service


def listed(registry: Registry, listing: str, **options: Any) -> list[pkglist.Package]:
    options = {"registry": registry.host, "plain_http": True, "page_size": 2, **options}
    return list(pkglist.iter_packages("oci", listing, **options))


@pytest.fixture(autouse=True)
def _no_auth_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "OCI_USERNAME", "OCI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_images_with_digests_through_tokens_one_per_scope(
    world: tuple[Registry, EmulatorServer, JwtTokenService],
) -> None:
    registry, token_server, service = world
    packages = listed(registry, "images", digests=True, username=USER, password=PASSWORD)
    assert sorted(package.id for package in packages) == sorted(
        f"{name}:{tag}" for name, tags in SEED.items() for tag in tags
    )
    assert [package.name for package in packages] == sorted(package.name for package in packages)
    assert all(package.extra["digest"].startswith("sha256:") for package in packages)
    scopes = sorted(scope for _, issued in service.issued for scope in issued)
    assert scopes == sorted(["registry:catalog:*", *(f"repository:{name}:pull" for name in SEED)])
    assert all(user == USER for user, _ in service.issued)
    assert all(request.path == "/token" for request in token_server.requests)


def test_named_repositories_start_from_the_api_check_without_a_scope(
    world: tuple[Registry, EmulatorServer, JwtTokenService],
) -> None:
    registry, _, service = world
    service.issued.clear()
    packages = listed(registry, "images", repository=["tools/cli"], username=USER, password=PASSWORD)
    assert sorted(package.version or "" for package in packages) == ["a", "b", "c"]
    assert sorted(scopes for _, scopes in service.issued) == [(), ("repository:tools/cli:pull",)]


def test_without_credentials_the_registry_refuses_the_anonymous_token(
    world: tuple[Registry, EmulatorServer, JwtTokenService],
) -> None:
    registry, _, _ = world
    with pytest.raises(pkglist.AuthError) as caught:
        listed(registry, "tags", repository="team/api")
    assert caught.value.status == 401
    assert "UNAUTHORIZED" in str(caught.value)


def test_a_wrong_password_is_refused_by_the_token_service(
    world: tuple[Registry, EmulatorServer, JwtTokenService],
) -> None:
    registry, _, _ = world
    with pytest.raises(pkglist.AuthError) as caught:
        listed(registry, "repositories", username=USER, password="not-" + PASSWORD)
    assert "from the token service 127.0.0.1" in str(caught.value)
    assert "not-" + PASSWORD not in str(caught.value)
