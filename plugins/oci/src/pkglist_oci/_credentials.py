"""Registry credentials from the files people already have, read only (never written).

In order, for the registry's host (``host[:port]``):

1. ``REGISTRY_AUTH_FILE``, else ``$XDG_RUNTIME_DIR/containers/auth.json`` (podman, skopeo,
   buildah): ``auths.<host>.auth``;
2. ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``: ``credHelpers.<host>``, else
   ``credsStore`` (run ``docker-credential-<name> get`` with the host on stdin, as docker
   does), else ``auths.<host>`` (``auth`` is base64 ``user:password``; ``identitytoken`` is
   an OAuth2 refresh token for the token service).

Keys are matched as docker matches them: ``host``, ``https://host``, ``http://host``, with or
without a path (``https://index.docker.io/v1/`` stands for Docker Hub).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

import pkglist

__all__ = ["RegistryLogin", "find_login"]

_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")
_HUB_KEY = "https://index.docker.io/v1/"
_HELPER_TIMEOUT = 30.0


@attrs.frozen(repr=False)
class RegistryLogin:
    """A username and password, or an identity token; ``source`` says where they came from."""

    source: str
    username: str | None = None
    password: str | None = None
    identity_token: str | None = None

    def __repr__(self) -> str:
        return f"RegistryLogin(source={self.source!r}, <redacted>)"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(value for value in (self.password, self.identity_token) if value)


def find_login(host: str, environ: Mapping[str, str], *, where: str) -> RegistryLogin | None:
    """The first login for ``host`` in the auth files (see the module docstring), or ``None``."""
    for path in _containers_files(environ):
        config = _read_json(path, where=where)
        if config is not None:
            login = _from_auths(config, host, str(path), where=where)
            if login is not None:
                return login
    docker = _docker_file(environ)
    config = _read_json(docker, where=where) if docker is not None else None
    if config is None:
        return None
    helpers = config.get("credHelpers")
    helper = _lookup(helpers, host) if isinstance(helpers, Mapping) else None
    if not isinstance(helper, str) or not helper:
        store = config.get("credsStore")
        helper = store if isinstance(store, str) and store else None
    if helper is not None:
        login = _from_helper(helper, host, environ, where=where)
        if login is not None:
            return login
    return _from_auths(config, host, str(docker), where=where)


def _containers_files(environ: Mapping[str, str]) -> list[Path]:
    if environ.get("REGISTRY_AUTH_FILE"):
        return [Path(environ["REGISTRY_AUTH_FILE"])]
    runtime = environ.get("XDG_RUNTIME_DIR")
    return [Path(runtime) / "containers" / "auth.json"] if runtime else []


def _docker_file(environ: Mapping[str, str]) -> Path | None:
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    home = environ.get("HOME")
    return Path(home) / ".docker" / "config.json" if home else None


def _read_json(path: Path, *, where: str) -> Mapping[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise pkglist.UsageError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise pkglist.UsageError(
            f"{where}: {path} is not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(config, Mapping):
        raise pkglist.UsageError(f"{where}: {path} is not a JSON object")
    return config


def _keys(host: str) -> list[str]:
    if host in _DOCKER_HUB:
        return [_HUB_KEY, *_DOCKER_HUB]
    return [host]


def _lookup(table: Mapping[str, Any], host: str) -> Any:
    wanted = _keys(host)
    for key in wanted:
        if key in table:
            return table[key]
    for key, value in table.items():  # "https://host", "http://host/v2/" ...
        bare = key.split("://", 1)[-1].split("/", 1)[0]
        if bare in wanted:
            return value
    return None


def _from_auths(config: Mapping[str, Any], host: str, source: str, *, where: str) -> RegistryLogin | None:
    auths = config.get("auths")
    entry = _lookup(auths, host) if isinstance(auths, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    identity = entry.get("identitytoken")
    if isinstance(identity, str) and identity:
        return RegistryLogin(source=source, identity_token=identity)
    encoded = entry.get("auth")
    if not isinstance(encoded, str) or not encoded:
        return None
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if not sep:
        raise pkglist.UsageError(
            f"{where}: the auth entry for {host} in {source} is not base64 user:password"
        )
    return RegistryLogin(source=source, username=username, password=password)


def _from_helper(name: str, host: str, environ: Mapping[str, str], *, where: str) -> RegistryLogin | None:
    program = f"docker-credential-{name}"
    server = _HUB_KEY if host in _DOCKER_HUB else host
    try:
        finished = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            timeout=_HELPER_TIMEOUT,
            env={**os.environ, **environ},
            check=False,
        )
    except FileNotFoundError:
        raise pkglist.UsageError(
            f"{where}: the docker config names the credential helper {name!r}, but {program} is not on PATH"
        ) from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise pkglist.UsageError(f"{where}: the credential helper {program} failed ({exc})") from None
    if finished.returncode != 0:
        said = finished.stdout.decode("utf-8", "replace").strip()
        if "credentials not found" in said.lower():
            return None
        raise pkglist.UsageError(
            f"{where}: the credential helper {program} failed with exit status {finished.returncode}"
        )
    try:
        answer = json.loads(finished.stdout)
    except ValueError:
        answer = None
    if not isinstance(answer, Mapping) or not isinstance(answer.get("Secret"), str):
        raise pkglist.UsageError(
            f"{where}: the credential helper {program} answered something other than JSON"
        )
    username, secret = answer.get("Username"), answer["Secret"]
    if username == "<token>":  # docker's marker: the secret is an identity token
        return RegistryLogin(source=program, identity_token=secret)
    return RegistryLogin(source=program, username=str(username or ""), password=secret)
