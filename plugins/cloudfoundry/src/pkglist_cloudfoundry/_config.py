"""Reading the cf CLI's own login: ``$CF_HOME/.cf/config.json`` (default ``~/.cf/config.json``).

Only what pkglist needs is read (the API endpoint, the tokens, the
authorization endpoint, the targeted space, ``SSLDisabled``); the file is
never written, and error messages name the file and the field, never a value
from it.

Like the cf CLI (Go's ``encoding/json`` into tagged structs), keys match
case-insensitively, an exact match first: ``SpaceFields.guid`` is the space
GUID too. The cf CLI only uses a config whose ``ConfigVersion`` is its own
current version (``util/configv3``: 3 in the sources at hand; the project's
spec snapshot records 4 for a later commit), so both are accepted and any
other version is refused with one line. A config without ``ConfigVersion`` is
read as it is (hand-written configs often leave it out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

__all__ = ["CONFIG_VERSIONS", "CfConfig", "ConfigError", "config_path", "read_config", "strip_bearer"]

#: The ``ConfigVersion`` values a cf CLI writes (see the module docstring).
CONFIG_VERSIONS = (3, 4)


class ConfigError(Exception):
    """The config file exists but cannot be used (the message never quotes its contents)."""


@attrs.frozen(repr=False)
class CfConfig:
    path: Path
    target: str | None
    access_token: str | None
    refresh_token: str | None
    authorization_endpoint: str | None
    client_id: str
    client_secret: str
    space_guid: str | None
    space_name: str | None
    ssl_disabled: bool

    def __repr__(self) -> str:
        return f"CfConfig(path={str(self.path)!r}, target={self.target!r}, tokens=<redacted>)"


def config_path(environ: Mapping[str, str]) -> Path:
    """Where the cf CLI keeps its config: ``$CF_HOME/.cf/config.json``, else under the home directory."""
    home = environ.get("CF_HOME") or environ.get("HOME")
    return Path(home or Path.home()) / ".cf" / "config.json"


def strip_bearer(token: str) -> str:
    """The cf CLI stores (and ``cf oauth-token`` prints) ``bearer <token>``; keep the token."""
    scheme, _, rest = token.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip()
    return token.strip()


def read_config(path: Path) -> CfConfig | None:
    """The config at ``path``, ``None`` if there is none; :class:`ConfigError` if it is unusable."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the cf CLI config {path}: {exc.strerror or type(exc).__name__}"
        ) from None
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        raise ConfigError(f"the cf CLI config {path} is not valid JSON") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"the cf CLI config {path} is not a JSON object")
    reader = _Reader(path, data)
    version = reader.integer("ConfigVersion")
    if version is not None and version not in CONFIG_VERSIONS:
        known = " or ".join(str(known) for known in CONFIG_VERSIONS)
        raise ConfigError(
            f"the cf CLI config {path} has ConfigVersion {version}, which pkglist cannot read "
            f"(it reads ConfigVersion {known})"
        )
    space = reader.object("SpaceFields")
    return CfConfig(
        path=path,
        target=reader.text("Target"),
        access_token=strip_bearer(reader.text("AccessToken") or "") or None,
        refresh_token=reader.text("RefreshToken"),
        # The cf CLI refreshes at <AuthorizationEndpoint>/oauth/token (api/uaa: the token
        # route is an authorization-endpoint resource), with no fallback to UaaEndpoint.
        authorization_endpoint=reader.text("AuthorizationEndpoint"),
        client_id=reader.text("UAAOAuthClient") or "cf",
        client_secret=reader.text("UAAOAuthClientSecret") or "",
        space_guid=_Reader(path, space, "SpaceFields.").text("GUID"),
        space_name=_Reader(path, space, "SpaceFields.").text("Name"),
        ssl_disabled=reader.flag("SSLDisabled"),
    )


@attrs.frozen
class _Reader:
    path: Path
    data: Mapping[str, Any]
    prefix: str = ""

    def _bad(self, key: str, kind: str) -> ConfigError:
        return ConfigError(
            f"the cf CLI config {self.path} has an invalid {self.prefix}{key} (expected {kind})"
        )

    def _get(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        folded = key.lower()
        found = None
        for name, value in self.data.items():  # the last one wins, as in Go
            if isinstance(name, str) and name.lower() == folded:
                found = value
        return found

    def text(self, key: str) -> str | None:
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value.strip() or None

    def integer(self, key: str) -> int | None:
        value = self._get(key)
        if value is None:
            return None
        if type(value) is not int:
            raise self._bad(key, "an integer")
        return value

    def flag(self, key: str) -> bool:
        value = self._get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def object(self, key: str) -> Mapping[str, Any]:
        value = self._get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self._bad(key, "an object")
        return value
