"""The three listings against a real registry: Debian's docker-registry (the CNCF distribution
server), seeded through its own HTTP API, listed with a page size of 2.

Skipped where docker-registry is absent; failed instead when ``PKGLIST_REQUIRE_SERVERS=1``.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pkglist
from tests.support.oci import DOCKER_MANIFEST, OCI_MANIFEST, push_image
from tests.support.servers import Registry, docker_registry

# Pushed in this order; the registry lists repositories sorted, and (2.8) tags in storage order.
SEED = {
    "team/web": ["2.0", "1.0", "latest"],
    "library/alpine": ["3.20", "3.19"],
    "team/api": ["v1"],
    "tools/ci/runner": ["b", "a", "c", "d"],
    "zeta": ["only"],
}
# Repositories whose only image was deleted: still in the catalog, their tag list says null.
# Sorted first, they make three catalog pages in a row without a single tag.
GONE = [f"aa-gone/r{n}" for n in range(6)]
USER, PASSWORD = "ci-bot", "s3cret-registry-pass"


def _seed(registry: Registry) -> dict[str, str]:
    import httpx

    for repository in GONE:
        digest = push_image(registry.url, repository, "old", auth=registry.auth)
        deleted = httpx.delete(f"{registry.url}/v2/{repository}/manifests/{digest}", auth=registry.auth)
        assert deleted.status_code == 202, deleted.text
    digests = {}
    for repository, tags in SEED.items():
        for index, tag in enumerate(tags):
            media_type = DOCKER_MANIFEST if index % 2 else OCI_MANIFEST
            digests[f"{repository}:{tag}"] = push_image(
                registry.url, repository, tag, auth=registry.auth, media_type=media_type
            )
    return digests


@pytest.fixture(scope="module")
def open_registry() -> Iterator[tuple[Registry, dict[str, str]]]:
    with docker_registry() as registry:
        yield registry, _seed(registry)


@pytest.fixture(scope="module")
def locked_registry() -> Iterator[tuple[Registry, dict[str, str]]]:
    with docker_registry(htpasswd_users={USER: PASSWORD}) as registry:
        yield registry, _seed(registry)


def listed(registry: Registry, listing: str, **options: Any) -> list[pkglist.Package]:
    options = {"registry": registry.host, "plain_http": True, "page_size": 2, **options}
    return list(pkglist.iter_packages("oci", listing, **options))


def _tags_in_server_order(registry: Registry, repository: str) -> list[str]:
    import httpx

    answer = httpx.get(f"{registry.url}/v2/{repository}/tags/list", auth=registry.auth, timeout=10)
    return list(answer.json()["tags"])


def test_repositories_are_listed_once_in_catalog_order(
    open_registry: tuple[Registry, dict[str, str]],
) -> None:
    registry, _ = open_registry
    packages = listed(registry, "repositories")
    assert [package.name for package in packages] == sorted([*SEED, *GONE])
    assert {package.scope for package in packages} == {registry.host}
    assert packages[len(GONE)].url == f"{registry.host}/library/alpine"


def test_tags_are_listed_in_the_servers_order(open_registry: tuple[Registry, dict[str, str]]) -> None:
    registry, _ = open_registry
    packages = listed(registry, "tags", repository="tools/ci/runner")
    assert [package.version for package in packages] == _tags_in_server_order(registry, "tools/ci/runner")
    assert sorted(package.version or "" for package in packages) == ["a", "b", "c", "d"]
    assert packages[0].id == f"tools/ci/runner:{packages[0].version}"
    assert packages[0].url == f"{registry.host}/tools/ci/runner:{packages[0].version}"
    assert packages[0].package_type == "OCI"


@pytest.mark.parametrize("concurrency", [1, 8])
def test_images_are_every_tag_of_every_repository_in_catalog_order(
    open_registry: tuple[Registry, dict[str, str]], concurrency: int
) -> None:
    registry, _ = open_registry
    packages = listed(registry, "images", concurrency=concurrency)
    expected = [
        f"{repository}:{tag}"
        for repository in sorted(SEED)
        for tag in _tags_in_server_order(registry, repository)
    ]
    assert [package.id for package in packages] == expected
    assert len(expected) == sum(len(tags) for tags in SEED.values())


def test_digests_and_media_types_come_from_the_manifests(
    open_registry: tuple[Registry, dict[str, str]],
) -> None:
    registry, digests = open_registry
    packages = listed(registry, "images", repository=["team/web", "zeta"], digests=True)
    assert [package.id for package in packages] == [
        *(f"team/web:{tag}" for tag in _tags_in_server_order(registry, "team/web")),
        "zeta:only",
    ]
    for package in packages:
        assert package.extra["digest"] == digests[package.id]
        pushed_as = DOCKER_MANIFEST if SEED[package.name].index(package.version or "") % 2 else OCI_MANIFEST
        assert package.extra["media_type"] == pushed_as


def test_a_repository_whose_tags_were_deleted_has_none(
    open_registry: tuple[Registry, dict[str, str]],
) -> None:
    registry, _ = open_registry
    assert listed(registry, "tags", repository=GONE[0]) == []
    assert listed(registry, "images", repository=GONE[:2], digests=True) == []


def test_a_missing_repository_is_name_unknown(open_registry: tuple[Registry, dict[str, str]]) -> None:
    registry, _ = open_registry
    with pytest.raises(pkglist.NotFoundError, match="NAME_UNKNOWN"):
        listed(registry, "tags", repository="no/such")


def _cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("OCI_", "DOCKER_"))}
    environ.update({"HOME": str(home), "PKGLIST_NO_CACHE": "1"})
    environ.pop("REGISTRY_AUTH_FILE", None)
    environ.pop("XDG_RUNTIME_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "pkglist", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def test_basic_auth_credentials_come_from_the_docker_config(
    locked_registry: tuple[Registry, dict[str, str]], tmp_path: Path
) -> None:
    registry, _ = locked_registry
    (tmp_path / ".docker").mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (tmp_path / ".docker" / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    done = _cli(
        "oci",
        "images",
        "--registry",
        registry.host,
        "--plain-http",
        "--page-size",
        "2",
        "-o",
        "jsonl",
        home=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["id"] for line in done.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == sum(len(tags) for tags in SEED.values())
    assert PASSWORD not in done.stdout + done.stderr


def test_basic_auth_without_credentials_is_refused_in_one_line(
    locked_registry: tuple[Registry, dict[str, str]], tmp_path: Path
) -> None:
    registry, _ = locked_registry
    done = _cli("oci", "repositories", "--registry", registry.host, "--plain-http", home=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "HTTP 401" in done.stderr
    assert "UNAUTHORIZED" in done.stderr
    assert "wants credentials" in done.stderr


def test_username_and_password_stdin_let_the_cli_in(
    locked_registry: tuple[Registry, dict[str, str]], tmp_path: Path
) -> None:
    registry, _ = locked_registry
    done = _cli(
        "oci",
        "repositories",
        "--registry",
        registry.host,
        "--plain-http",
        "--username",
        USER,
        "--password-stdin",
        "-o",
        "jsonl",
        home=tmp_path,
        stdin=PASSWORD + "\n",
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["name"] for line in done.stdout.splitlines()] == sorted([*SEED, *GONE])


def test_a_wrong_password_is_an_auth_error_that_never_shows_it(
    locked_registry: tuple[Registry, dict[str, str]],
) -> None:
    registry, _ = locked_registry
    with pytest.raises(pkglist.AuthError) as caught:
        listed(registry, "repositories", username=USER, password="wrong-" + PASSWORD)
    assert "wrong-" + PASSWORD not in str(caught.value)
    assert caught.value.status == 401
