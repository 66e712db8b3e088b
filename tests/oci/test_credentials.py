"""Credentials from the files people already have (podman/skopeo auth.json, docker's config.json
and credential helpers), the options and the environment, checked against the emulator with
Basic auth: the registry lets a listing in only with the right ones."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import EmulatorServer, serve
from pkglist_oci import OciEmulator
from pkglist_oci._emulator import DEMO_PASSWORD, DEMO_USERNAME

REPOSITORIES = {"a/one": ["1", "2"], "b/two": ["x"]}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    for name in ("REGISTRY_AUTH_FILE", "XDG_RUNTIME_DIR", "DOCKER_CONFIG", "OCI_USERNAME", "OCI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with serve(OciEmulator(REPOSITORIES, auth="basic")) as running:
        yield running


def host_of(server: EmulatorServer) -> str:
    return server.url.removeprefix("http://")


def repositories(server: EmulatorServer, **options: Any) -> list[str]:
    found = pkglist.iter_packages("oci", "repositories", registry=host_of(server), plain_http=True, **options)
    return [package.name for package in found]


def auth_entry(username: str = DEMO_USERNAME, password: str = DEMO_PASSWORD) -> dict[str, str]:
    return {"auth": base64.b64encode(f"{username}:{password}".encode()).decode()}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_without_credentials_the_registry_refuses(server: EmulatorServer) -> None:
    with pytest.raises(pkglist.AuthError, match="wants credentials"):
        repositories(server)


def test_the_environment_gives_username_and_password(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCI_USERNAME", DEMO_USERNAME)
    monkeypatch.setenv("OCI_PASSWORD", DEMO_PASSWORD)
    assert repositories(server) == ["a/one", "b/two"]


def test_docker_config_auth_entries_match_the_host_with_a_scheme_too(
    server: EmulatorServer, tmp_path: Path
) -> None:
    write(tmp_path / ".docker" / "config.json", {"auths": {f"http://{host_of(server)}/v2/": auth_entry()}})
    assert repositories(server) == ["a/one", "b/two"]


def test_the_podman_auth_file_comes_before_the_docker_config(
    server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".docker" / "config.json", {"auths": {host_of(server): auth_entry(password="stale")}})
    runtime = tmp_path / "run"
    write(runtime / "containers" / "auth.json", {"auths": {host_of(server): auth_entry()}})
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert repositories(server) == ["a/one", "b/two"]
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(write(tmp_path / "other.json", {"auths": {}})))
    with pytest.raises(pkglist.AuthError):
        repositories(server)  # REGISTRY_AUTH_FILE replaces the runtime file; the docker one is stale


def _helper(directory: Path, name: str, answers: dict[str, dict[str, str]]) -> None:
    """A credential helper speaking docker's protocol: ``get`` with the server on stdin."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / f"docker-credential-{name}"
    program.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        f"answers = {answers!r}\n"
        "assert sys.argv[1:] == ['get'], sys.argv\n"
        "server = sys.stdin.read().strip()\n"
        "if server not in answers:\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps(answers[server]))\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IXUSR)


def test_a_credential_helper_is_asked_with_the_host_on_stdin(
    server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _helper(tmp_path / "bin", "pass", {host_of(server): {"Username": DEMO_USERNAME, "Secret": DEMO_PASSWORD}})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    write(
        tmp_path / ".docker" / "config.json",
        {"credHelpers": {host_of(server): "pass"}, "auths": {host_of(server): auth_entry(password="stale")}},
    )
    assert repositories(server) == ["a/one", "b/two"]


def test_a_creds_store_without_the_host_falls_back_to_the_auth_entries(
    server: EmulatorServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _helper(tmp_path / "bin", "store", {})
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    write(
        tmp_path / ".docker" / "config.json",
        {"credsStore": "store", "auths": {host_of(server): auth_entry()}},
    )
    assert repositories(server) == ["a/one", "b/two"]


def test_a_missing_helper_is_one_clear_usage_error(server: EmulatorServer, tmp_path: Path) -> None:
    write(tmp_path / ".docker" / "config.json", {"credsStore": "no-such-helper-xyz"})
    with pytest.raises(pkglist.UsageError, match="docker-credential-no-such-helper-xyz is not on PATH"):
        repositories(server)


def test_a_broken_auth_entry_is_a_usage_error_without_its_content(
    server: EmulatorServer, tmp_path: Path
) -> None:
    write(tmp_path / ".docker" / "config.json", {"auths": {host_of(server): {"auth": "bm90LWEtcGFpcg=="}}})
    with pytest.raises(pkglist.UsageError) as caught:
        repositories(server)
    assert "not base64 user:password" in str(caught.value)
    assert "bm90" not in str(caught.value)


def test_the_files_are_never_written(server: EmulatorServer, tmp_path: Path) -> None:
    config = write(tmp_path / ".docker" / "config.json", {"auths": {host_of(server): auth_entry()}})
    before = (config.read_bytes(), config.stat().st_mtime_ns)
    repositories(server)
    assert (config.read_bytes(), config.stat().st_mtime_ns) == before


def test_a_username_without_a_password_is_a_usage_error(server: EmulatorServer) -> None:
    with pytest.raises(pkglist.UsageError, match="--password-stdin or OCI_PASSWORD"):
        repositories(server, username=DEMO_USERNAME)
