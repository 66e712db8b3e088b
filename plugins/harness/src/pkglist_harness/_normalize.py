"""Raw Harness items to :class:`pkglist.Package` records.

Rules shared by the three listings:

* ``state`` is ``deleted`` when ``deletedAt`` is set, else ``quarantined``
  when ``isQuarantined`` is true, else ``active``.
* ``updated_at`` is ``modifiedAt`` (v3, integer milliseconds) or
  ``lastModified`` (v1, a string of milliseconds); ``deletedAt`` becomes the
  datetime ``extra["deleted_at"]``. A zero or empty timestamp means unset, and
  so does Go's zero time (``time.Time{}``, which the server sends as
  ``-62135596800000`` milliseconds or ``0001-01-01T00:00:00Z``).
* ``downloadCount`` (v3) and ``downloadsCount`` (v1) are both
  ``extra["download_count"]``.
* ``packageType`` is kept as sent, known or not; fields this module does not
  know are kept in ``extra`` under their snake_case name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from pkglist import InvalidItemError, Package, items as fields

__all__ = ["normalize_package", "normalize_registry_artifact", "normalize_space_artifact"]

_NOT_SNAKE = re.compile(r"[^a-z0-9]+")
_GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


def normalize_package(provider: str, listing: str, raw: Any) -> Package:
    """One item of ``GET /har/api/v3/packages``."""
    item = fields.as_object(raw)
    deleted_at = _ms_timestamp(item, "deletedAt")
    quarantined = fields.optional_bool(item, "isQuarantined")
    registry_name = fields.optional_str(item, "registryName")
    extra: dict[str, Any] = {
        "registry_id": fields.optional_str(item, "registryId"),
        "registry_name": registry_name,
        "package_kind": fields.optional_str(item, "packageKind"),
        "is_public": fields.optional_bool(item, "isPublic"),
        "is_quarantined": quarantined,
        "quarantine_reason": fields.optional_str(item, "quarantineReason"),
        "download_count": fields.optional_int(item, "downloadCount"),
        "deleted_at": deleted_at,
        "deleted_by": _optional_dict(item, "deletedBy"),
        "modified_by": _optional_dict(item, "modifiedBy"),
        "latest_version_artifact_key": _optional_dict(item, "latestVersionArtifactKey"),
    }
    _pass_through(item, _V3_KNOWN, extra)
    return Package(
        provider=provider,
        listing=listing,
        id=fields.require_str(item, "id"),
        name=fields.require_str(item, "name"),
        version=fields.optional_str(item, "latestVersion"),
        package_type=fields.optional_str(item, "packageType"),
        state=_state(deleted_at, quarantined),
        scope=registry_name,
        updated_at=_ms_timestamp(item, "modifiedAt"),
        extra=extra,
    )


def normalize_registry_artifact(provider: str, listing: str, raw: Any) -> Package:
    """One item of ``GET /har/api/v1/registry/{registry_ref}/+/artifacts`` (one per package)."""
    item = fields.as_object(raw)
    name = fields.require_str(item, "name")
    scope = _registry_scope(item)
    deleted_at = _ms_timestamp(item, "deletedAt")
    quarantined = fields.optional_bool(item, "isQuarantined")
    extra: dict[str, Any] = {
        "uuid": fields.optional_str(item, "uuid"),
        "registry_identifier": fields.optional_str(item, "registryIdentifier"),
        "registry_uuid": fields.optional_str(item, "registryUUID"),
        "artifact_type": fields.optional_str(item, "artifactType"),
        "labels": _labels(item),
        "is_public": fields.optional_bool(item, "isPublic"),
        "is_quarantined": quarantined,
        "quarantine_reason": fields.optional_str(item, "quarantineReason"),
        "download_count": fields.optional_int(item, "downloadsCount"),
        "deleted_at": deleted_at,
    }
    _pass_through(item, _REGISTRY_KNOWN, extra)
    return Package(
        provider=provider,
        listing=listing,
        id=extra["uuid"] or _path_id(scope, name),
        name=name,
        version=fields.optional_str(item, "latestVersion"),
        package_type=fields.optional_str(item, "packageType"),
        state=_state(deleted_at, quarantined),
        scope=scope,
        updated_at=_ms_timestamp(item, "lastModified"),
        extra=extra,
    )


def normalize_space_artifact(provider: str, listing: str, raw: Any) -> Package:
    """One item of ``GET /har/api/v1/spaces/{space_ref}/+/artifacts`` (one per version).

    The id is ``uuid@version``: the same package comes once per version.
    """
    item = fields.as_object(raw)
    name = fields.require_str(item, "name")
    scope = _registry_scope(item)
    version = fields.optional_str(item, "version") or fields.optional_str(item, "latestVersion")
    deleted_at = _ms_timestamp(item, "deletedAt")
    quarantined = fields.optional_bool(item, "isQuarantined")
    deployments = _optional_dict(item, "deploymentMetadata") or {}
    extra: dict[str, Any] = {
        "uuid": fields.optional_str(item, "uuid"),
        "latest_version": fields.optional_str(item, "latestVersion"),
        "registry_identifier": fields.optional_str(item, "registryIdentifier"),
        "registry_uuid": fields.optional_str(item, "registryUUID"),
        "registry_type": fields.optional_str(item, "registryType"),
        "artifact_type": fields.optional_str(item, "artifactType"),
        "labels": _labels(item),
        "is_quarantined": quarantined,
        "quarantine_reason": fields.optional_str(item, "quarantineReason"),
        "download_count": fields.optional_int(item, "downloadsCount"),
        "deleted_at": deleted_at,
        "prod_env_count": _nested_int(deployments, "prodEnvCount", "deploymentMetadata"),
        "non_prod_env_count": _nested_int(deployments, "nonProdEnvCount", "deploymentMetadata"),
        "digest_count": fields.optional_int(item, "digestCount"),
        "file_count": fields.optional_int(item, "fileCount"),
        "firewall_mode": fields.optional_str(item, "firewallMode"),
        "scan_id": fields.optional_str(item, "scanId"),
        "scan_status": fields.optional_str(item, "scanStatus"),
        "last_scanned_at": _timestamp(item, "lastScannedAt", "auto"),
        "purl": fields.optional_str(item, "purl"),
        "metadata": _optional_dict(item, "metadata"),
        "artifact_key": _optional_dict(item, "artifactKey"),
    }
    _pass_through(item, _SPACE_KNOWN, extra)
    base = extra["uuid"] or _path_id(scope, name)
    return Package(
        provider=provider,
        listing=listing,
        id=f"{base}@{version}" if version else base,
        name=name,
        version=version,
        package_type=fields.optional_str(item, "packageType"),
        state=_state(deleted_at, quarantined),
        scope=scope,
        updated_at=_ms_timestamp(item, "lastModified"),
        url=fields.optional_str(item, "pullCommand") or None,
        extra=extra,
    )


NORMALIZERS: Mapping[str, Callable[[str, str, Any], Package]] = {
    "packages": normalize_package,
    "registry-artifacts": normalize_registry_artifact,
    "space-artifacts": normalize_space_artifact,
}

# Fields each normalizer maps itself; every other field passes through to ``extra``.
_V3_KNOWN = frozenset(
    {
        "id", "name", "latestVersion", "packageType", "packageKind", "registryId", "registryName",
        "isPublic", "isQuarantined", "quarantineReason", "downloadCount", "deletedAt", "deletedBy",
        "modifiedAt", "modifiedBy", "latestVersionArtifactKey",
    }
)  # fmt: skip
_REGISTRY_KNOWN = frozenset(
    {
        "uuid", "name", "latestVersion", "packageType", "artifactType", "registryIdentifier",
        "registryPath", "registryUUID", "labels", "isPublic", "isQuarantined", "quarantineReason",
        "downloadsCount", "deletedAt", "lastModified",
    }
)  # fmt: skip
_SPACE_KNOWN = frozenset(
    {
        "uuid", "name", "version", "latestVersion", "packageType", "artifactType", "registryIdentifier",
        "registryPath", "registryUUID", "registryType", "labels", "isQuarantined", "quarantineReason",
        "downloadsCount", "deletedAt", "lastModified", "pullCommand", "deploymentMetadata", "digestCount",
        "fileCount", "firewallMode", "scanId", "scanStatus", "lastScannedAt", "purl", "metadata",
        "artifactKey",
    }
)  # fmt: skip


def _state(deleted_at: datetime | None, quarantined: bool | None) -> str:
    if deleted_at is not None:
        return "deleted"
    if quarantined:
        return "quarantined"
    return "active"


def _timestamp(item: Mapping[str, Any], key: str, unit: fields.TimestampUnit) -> datetime | None:
    value = item.get(key)
    if not isinstance(value, bool) and value in (0, "0", ""):  # False == 0, but is not a timestamp
        return None
    moment = fields.optional_timestamp(item, key, unit=unit)
    return None if moment == _GO_ZERO_TIME else moment


def _ms_timestamp(item: Mapping[str, Any], key: str) -> datetime | None:
    return _timestamp(item, key, "ms")


def _registry_scope(item: Mapping[str, Any]) -> str | None:
    return fields.optional_str(item, "registryPath") or fields.optional_str(item, "registryIdentifier")


def _path_id(scope: str | None, name: str) -> str:
    """The id of an item without ``uuid`` (older servers): its registry path and name."""
    return f"{scope}/{name}" if scope else name


def _labels(item: Mapping[str, Any]) -> list[str]:
    labels = fields.optional_list(item, "labels")
    for label in labels:
        if not isinstance(label, str):
            raise InvalidItemError("field 'labels' must be a list of strings")
    return labels


def _optional_dict(item: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    if item.get(key) is None:
        return None
    return dict(fields.optional_object(item, key))


def _nested_int(holder: Mapping[str, Any], key: str, parent: str) -> int | None:
    try:
        return fields.optional_int(holder, key)
    except InvalidItemError:
        raise InvalidItemError(f"field '{parent}.{key}' must be an integer") from None


def extra_key(name: str) -> str:
    """A snake_case ``extra`` key for any field name.

    >>> extra_key("scanPolicyURL"), extra_key("x-vendor field"), extra_key("3d")
    ('scan_policy_url', 'x_vendor_field', 'x_3d')
    """
    key = _NOT_SNAKE.sub("_", fields.snake_case(name)).strip("_")
    if not key or not key[0].isalpha():
        key = "x_" + key if key else "x"
    return key


def _pass_through(item: Mapping[str, Any], known: frozenset[str], extra: dict[str, Any]) -> None:
    for name, value in item.items():
        if name in known:
            continue
        key = extra_key(name)
        if key not in extra:
            extra[key] = value
