"""The emulator's items as the three Harness endpoints spell them."""

from __future__ import annotations

from typing import Any

from ._data import Artifact, Registry

__all__ = ["package_item", "registry_artifact_item", "space_artifact_item"]

_PURL_TYPES = {
    "DOCKER": "docker",
    "MAVEN": "maven",
    "NPM": "npm",
    "PYTHON": "pypi",
    "GO": "golang",
    "NUGET": "nuget",
    "CARGO": "cargo",
    "HUGGINGFACE": "huggingface",
    "RPM": "rpm",
}


def _user(uid: str) -> dict[str, str]:
    return {
        "uid": uid,
        "display_name": uid.replace("-", " ").title(),
        "email": f"{uid}@acme.example",
        "type": "service_account" if uid.endswith("-bot") else "user",
    }


def package_item(artifact: Artifact) -> dict[str, Any]:
    """An item of ``GET /har/api/v3/packages`` (``Package`` in ar_v3/openapi.yaml)."""
    registry = artifact.registry
    item: dict[str, Any] = {
        "id": artifact.uuid,
        "name": artifact.name,
        "packageType": registry.package_type,
        "registryId": registry.uuid,
        "registryName": registry.identifier,
        "isPublic": artifact.is_public,
        "isQuarantined": artifact.quarantine_reason is not None,
        "latestVersion": artifact.latest,
        "downloadCount": artifact.downloads,
        "deletedAt": artifact.deleted_ms,
        "modifiedAt": artifact.modified_ms,
        "modifiedBy": _user(artifact.owner),
    }
    if artifact.package_kind is not None:
        item["packageKind"] = artifact.package_kind
    if artifact.quarantine_reason is not None:
        item["quarantineReason"] = artifact.quarantine_reason
    if artifact.deleted_ms is not None:
        item["deletedBy"] = _user("alice")
    if registry.package_type == "MAVEN":
        item["latestVersionArtifactKey"] = {"groupId": "com.acme", "artifactId": artifact.name}
    return item


def registry_artifact_item(artifact: Artifact) -> dict[str, Any]:
    """An item of ``GET /har/api/v1/registry/{ref}/+/artifacts`` (``RegistryArtifactMetadata``)."""
    registry = artifact.registry
    item: dict[str, Any] = {
        "uuid": artifact.uuid,
        "name": artifact.name,
        "registryIdentifier": registry.identifier,
        "registryPath": registry.path,
        "registryUUID": registry.uuid,
        "packageType": registry.package_type,
        "latestVersion": artifact.latest,
        "labels": None if artifact.labels is None else list(artifact.labels),
        "downloadsCount": artifact.downloads,
        "lastModified": str(artifact.modified_ms),
        "isPublic": artifact.is_public,
        "isQuarantined": artifact.quarantine_reason is not None,
    }
    if artifact.package_kind is not None:
        item["artifactType"] = artifact.package_kind
    if artifact.deleted_ms is not None:
        item["deletedAt"] = str(artifact.deleted_ms)
    return item


def space_artifact_item(artifact: Artifact, k: int) -> dict[str, Any]:
    """An item of ``GET /har/api/v1/spaces/{ref}/+/artifacts``: version ``k`` of ``artifact``."""
    registry = artifact.registry
    version = artifact.versions[k]
    latest = k == len(artifact.versions) - 1
    item: dict[str, Any] = {
        "uuid": artifact.uuid,
        "name": artifact.name,
        "version": version,
        "latestVersion": artifact.latest,
        "registryIdentifier": registry.identifier,
        "registryPath": registry.path,
        "registryUUID": registry.uuid,
        "registryType": registry.registry_type,
        "packageType": registry.package_type,
        "labels": None if artifact.labels is None else list(artifact.labels),
        "downloadsCount": artifact.version_downloads(k),
        "lastModified": str(artifact.version_ms(k)),
        "isQuarantined": artifact.quarantine_reason is not None,
        "deploymentMetadata": {
            "prodEnvCount": artifact.prod_envs if latest else 0,
            "nonProdEnvCount": artifact.non_prod_envs if latest else 0,
        },
        "purl": _purl(registry, artifact.name, version),
        "metadata": dict(artifact.metadata),
    }
    if registry.package_type == "DOCKER":
        item["digestCount"] = 1 + k % 2
    else:
        item["fileCount"] = 1 + len(artifact.name) % 3
    command = _pull_command(registry, artifact.name, version)
    if command:
        item["pullCommand"] = command
    if artifact.package_kind is not None:
        item["artifactType"] = artifact.package_kind
    if artifact.quarantine_reason is not None:
        item["quarantineReason"] = artifact.quarantine_reason
    if artifact.deleted_ms is not None:
        item["deletedAt"] = str(artifact.deleted_ms)
    if registry.registry_type == "UPSTREAM":
        item["firewallMode"] = "QUARANTINE" if artifact.quarantine_reason else "ALLOW"
    if artifact.scan_status is not None:
        item["scanId"] = f"scan-{artifact.uuid[:8]}-{k}"
        item["scanStatus"] = artifact.scan_status
        item["lastScannedAt"] = str(artifact.version_ms(k) + 60_000)
    return item


def _host_path(registry: Registry) -> str:
    return f"pkg.harness.io/{registry.account}/{registry.identifier}"


def _pull_command(registry: Registry, name: str, version: str) -> str | None:
    """What the real server puts in ``pullCommand`` per package type (none for Maven)."""
    kind = registry.package_type
    if kind == "DOCKER":
        return f"docker pull {_host_path(registry)}/{name}:{version}"
    if kind == "HELM":
        return f"helm pull oci://{_host_path(registry)}/{name} --version {version}"
    if kind in ("GENERIC", "HUGGINGFACE"):
        return (
            f"curl --location 'https://{_host_path(registry)}/{name}/{version}/<FILENAME>'"
            " --header 'x-api-key <API_KEY>' -J -O"
        )
    if kind == "PYTHON":
        return f"pip install {name}=={version}"
    if kind == "NPM":
        return f"npm install {name}@{version}"
    if kind == "GO":
        return f"go get {name}@{version}"
    return None


def _purl(registry: Registry, name: str, version: str) -> str:
    kind = _PURL_TYPES.get(registry.package_type, "generic")
    return f"pkg:{kind}/{name.replace('@', '%40')}@{version}"
