"""Normalization rules, checked on the specs' own example items and field lists.

Expected datetimes are written out by hand from the millisecond values
(1736360000123 ms is 2025-01-08T18:13:20.123Z).
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist.testing import validate_package
from pkglist_harness import HarnessProvider
from pkglist_harness._normalize import _REGISTRY_KNOWN, _SPACE_KNOWN, _V3_KNOWN

from .helpers import SPACE, listing, served
from .openapi import V1_CLI, V1_SDK, V1_SERVER, V1_SPECS, V3, spec_dict

PROVIDER = HarnessProvider()
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
MODIFIED = datetime(2025, 1, 8, 18, 13, 20, 123000, tzinfo=UTC)  # 1736360000123
DELETED = datetime(2025, 1, 8, 18, 13, 20, 456000, tzinfo=UTC)  # 1736360000456


def normalize(listing_name: str, raw: Any) -> pkglist.Package:
    package = PROVIDER.normalize(PROVIDER.listing(listing_name), None, raw)  # type: ignore[arg-type]
    validate_package(package, provider="harness", listing=listing_name)
    return package


def schema(name: str, schema_name: str) -> dict[str, Any]:
    return spec_dict(name)["components"]["schemas"][schema_name]  # type: ignore[no-any-return]


def example_of(name: str, node: dict[str, Any]) -> Any:
    """A property's example, following one ``$ref``."""
    if "$ref" in node:
        node = schema(name, node["$ref"].rsplit("/", 1)[1])
    return node.get("example")


def seed_fields(seed: str, prefix: str) -> set[str]:
    """The top-level item fields a seed page documents (``items.X`` / ``data.artifacts.X``)."""
    path = next(SEEDS.glob(f"{seed}_*.txt"), None)
    if path is None:
        pytest.skip("the seed pages are not available")
    found = re.findall(rf"`{re.escape(prefix)}\.([A-Za-z]+)`", path.read_text())
    return set(found)


# Every documented field is mapped -----------------------------------------------------


def test_every_v3_field_is_mapped() -> None:
    documented = set(schema(V3, "Package")["properties"]) | seed_fields("000", "items")
    assert documented <= _V3_KNOWN


@pytest.mark.parametrize("spec", V1_SPECS)
def test_every_registry_artifact_field_is_mapped(spec: str) -> None:
    documented = set(schema(spec, "RegistryArtifactMetadata")["properties"]) | seed_fields(
        "001", "data.artifacts"
    )
    assert documented <= _REGISTRY_KNOWN


@pytest.mark.parametrize("spec", V1_SPECS)
def test_every_space_artifact_field_is_mapped(spec: str) -> None:
    documented = set(schema(spec, "ArtifactMetadata")["properties"]) | seed_fields("002", "data.artifacts")
    assert documented <= _SPACE_KNOWN


# v3 packages --------------------------------------------------------------------------


def v3_example() -> dict[str, Any]:
    """A v3 item from the spec: each property's own example where it has one."""
    properties = schema(V3, "Package")["properties"]
    registry_id = spec_dict(V3)["components"]["parameters"]["RegistryIdOptionalParam"]["example"]
    item = {
        "id": "0b0e3a36-5f44-4a51-9d2a-6f4f0f1b2c3d",
        "name": "payments-service",
        "registryId": registry_id,
        "registryName": "docker-local",
        "isPublic": False,
        "isQuarantined": False,
        "latestVersion": "1.4.2",
        "downloadCount": 42,
        "modifiedBy": {"uid": "alice", "display_name": "Alice", "email": "alice@example.com", "type": "user"},
        "latestVersionArtifactKey": {"groupId": "com.acme"},
    }
    for field in ("packageType", "packageKind", "deletedAt", "modifiedAt"):
        item[field] = example_of(V3, properties[field])
    return item


def test_v3_spec_example() -> None:
    item = v3_example()
    assert (item["packageType"], item["modifiedAt"], item["deletedAt"]) == (
        "DOCKER",
        1736360000123,
        1736360000456,
    )
    package = normalize("packages", item)
    assert package.id == "0b0e3a36-5f44-4a51-9d2a-6f4f0f1b2c3d"
    assert (package.name, package.version, package.package_type) == ("payments-service", "1.4.2", "DOCKER")
    assert package.scope == "docker-local"
    assert package.updated_at == MODIFIED
    assert package.extra["deleted_at"] == DELETED
    assert package.state == "deleted"
    assert package.extra["registry_id"] == "12345678-1234-1234-1234-123456789012"
    assert package.extra["package_kind"] == "model"
    assert package.extra["download_count"] == 42
    assert package.extra["is_public"] is False
    assert package.extra["modified_by"]["uid"] == "alice"
    assert package.extra["latest_version_artifact_key"] == {"groupId": "com.acme"}


def test_v3_nullable_timestamps() -> None:
    item = v3_example() | {"deletedAt": None, "modifiedAt": None}
    package = normalize("packages", item)
    assert (package.updated_at, package.extra["deleted_at"], package.state) == (None, None, "active")


def test_v3_quarantined() -> None:
    item = v3_example() | {"deletedAt": None, "isQuarantined": True, "quarantineReason": "CVE-2024-1"}
    package = normalize("packages", item)
    assert package.state == "quarantined"
    assert package.extra["quarantine_reason"] == "CVE-2024-1"


def test_deleted_wins_over_quarantined() -> None:
    assert normalize("packages", v3_example() | {"isQuarantined": True}).state == "deleted"


def test_unknown_package_type_and_fields_pass_through() -> None:
    item = v3_example() | {"packageType": "WASM", "scanPolicyURL": "https://x", "x-vendor": {"a": 1}}
    package = normalize("packages", item)
    assert package.package_type == "WASM"
    assert package.extra["scan_policy_url"] == "https://x"
    assert package.extra["x_vendor"] == {"a": 1}


# v1 registry artifacts ----------------------------------------------------------------


def sdk_example(schema_name: str) -> dict[str, Any]:
    return copy.deepcopy(schema(V1_SDK, schema_name)["example"])


def test_registry_artifact_sdk_example() -> None:
    item = sdk_example("RegistryArtifactMetadata")
    # The example's timestamp is a placeholder word; the real API sends milliseconds.
    with pytest.raises(pkglist.InvalidItemError, match="lastModified"):
        normalize("registry-artifacts", item)
    item["lastModified"] = "1736360000123"
    package = normalize("registry-artifacts", item)
    assert (package.name, package.version, package.package_type) == ("name", "latestVersion", "DOCKER")
    assert package.scope == "registryPath"
    assert package.id == "registryPath/name"  # no uuid in this (older) schema
    assert package.updated_at == MODIFIED
    assert package.extra["labels"] == ["labels", "labels"]
    assert package.extra["download_count"] == 0
    assert package.extra["registry_identifier"] == "registryIdentifier"
    assert package.state == "active"


def test_registry_artifact_full_item() -> None:
    item = sdk_example("RegistryArtifactMetadata") | {
        "lastModified": "1736360000123",
        "deletedAt": "1736360000456",
        "uuid": "5b1d1f0e-1111-4c4c-8888-123456789abc",
        "registryUUID": "12345678-1234-1234-1234-123456789012",
        "isPublic": True,
        "isQuarantined": True,
        "artifactType": "dataset",
        "labels": None,
    }
    package = normalize("registry-artifacts", item)
    assert package.id == "5b1d1f0e-1111-4c4c-8888-123456789abc"
    assert package.extra["deleted_at"] == DELETED
    assert package.state == "deleted"
    assert package.extra["labels"] == []
    assert package.extra["is_public"] is True
    assert package.extra["artifact_type"] == "dataset"
    assert package.extra["registry_uuid"] == "12345678-1234-1234-1234-123456789012"


@pytest.mark.parametrize("unset", ["0", "", None])
def test_zero_or_empty_deleted_at_is_not_deleted(unset: Any) -> None:
    item = sdk_example("RegistryArtifactMetadata") | {"lastModified": "1736360000123", "deletedAt": unset}
    package = normalize("registry-artifacts", item)
    assert (package.state, package.extra["deleted_at"]) == ("active", None)


# v1 space artifacts -------------------------------------------------------------------


def test_space_artifact_sdk_example() -> None:
    item = sdk_example("ArtifactMetadata") | {"lastModified": "1736360000123"}
    package = normalize("space-artifacts", item)
    assert (package.name, package.version) == ("name", "version")
    assert package.id == "registryPath/name@version"
    assert package.url == "pullCommand"
    assert package.extra["latest_version"] == "latestVersion"
    assert (package.extra["prod_env_count"], package.extra["non_prod_env_count"]) == (6, 0)
    assert package.updated_at == MODIFIED


def test_space_artifact_seed_fields() -> None:
    item = sdk_example("ArtifactMetadata") | {
        "uuid": "5b1d1f0e-1111-4c4c-8888-123456789abc",
        "lastModified": "1736360000123",
        "deletedAt": "1736360000456",
        "isQuarantined": True,
        "quarantineReason": "bad",
        "digestCount": 2,
        "fileCount": 3,
        "firewallMode": "QUARANTINE",
        "lastScannedAt": "1736360000123",
        "scanId": "scan-1",
        "scanStatus": "BLOCKED",
        "purl": "pkg:docker/name@version",
        "registryType": "UPSTREAM",
        "registryUUID": "12345678-1234-1234-1234-123456789012",
        "metadata": {"anything": ["goes"]},
        "artifactType": "model",
    }
    package = normalize("space-artifacts", item)
    assert package.id == "5b1d1f0e-1111-4c4c-8888-123456789abc@version"
    assert package.state == "deleted"
    extra = package.extra
    assert (extra["digest_count"], extra["file_count"], extra["firewall_mode"]) == (2, 3, "QUARANTINE")
    assert (extra["scan_id"], extra["scan_status"], extra["last_scanned_at"]) == (
        "scan-1",
        "BLOCKED",
        MODIFIED,
    )
    assert (extra["purl"], extra["registry_type"], extra["artifact_type"]) == (
        "pkg:docker/name@version",
        "UPSTREAM",
        "model",
    )
    assert extra["metadata"] == {"anything": ["goes"]}
    assert extra["quarantine_reason"] == "bad"
    assert extra["deleted_at"] == DELETED


# Hostile items ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listing_name", "item", "field"),
    [
        ("packages", [], "item"),
        ("packages", {"name": "x"}, "'id'"),
        ("packages", {"id": "i", "name": "x", "modifiedAt": "yesterday"}, "modifiedAt"),
        ("packages", {"id": "i", "name": "x", "isQuarantined": "yes"}, "isQuarantined"),
        ("packages", {"id": "i", "name": "x", "modifiedBy": "alice"}, "modifiedBy"),
        ("registry-artifacts", {"uuid": "u"}, "'name'"),
        ("registry-artifacts", {"uuid": "u", "name": "n", "labels": "a,b"}, "labels"),
        ("registry-artifacts", {"uuid": "u", "name": "n", "labels": [1]}, "labels"),
        ("registry-artifacts", {"uuid": "u", "name": "n", "downloadsCount": "many"}, "downloadsCount"),
        (
            "space-artifacts",
            {"uuid": "u", "name": "n", "deploymentMetadata": {"prodEnvCount": "x"}},
            "prodEnvCount",
        ),
        ("space-artifacts", {"uuid": "u", "name": "n", "deploymentMetadata": 3}, "deploymentMetadata"),
        ("space-artifacts", {"uuid": "u", "name": "n", "metadata": []}, "metadata"),
    ],
)
def test_hostile_items_raise_invalid_item_error(listing_name: str, item: Any, field: str) -> None:
    with pytest.raises(pkglist.InvalidItemError, match=re.escape(field)):
        normalize(listing_name, item)


# End to end on the emulator's catalog -------------------------------------------------


def test_states_and_types_end_to_end() -> None:
    with served(packages=0) as (server, _):
        packages = {p.name: p for p in listing(server, "packages", account="acme", deleted="include")}
        artifacts = {
            p.name: p for p in listing(server, "registry-artifacts", registry_ref=f"{SPACE}/npm-internal")
        }
        rows = listing(server, "space-artifacts", space_ref=SPACE, registry=["hf-models"])
    assert packages["payments-api"].state == "quarantined"
    assert packages["legacy-client"].state == "deleted"
    assert packages["fraud-sdk"].state == "deleted"  # deleted and quarantined
    assert packages["ledger-core"].state == "active"
    assert packages["edge-filter"].package_type == "WASM"
    assert artifacts["@acme/ui-kit"].raw is None
    assert artifacts["@acme/ui-kit"].extra["labels"] == []  # sent as null
    assert [(row.name, row.version) for row in rows] == [
        ("fraud-detector", "v1"),
        ("fraud-detector", "v2"),
        ("transactions-2024", "v1"),
    ]
    assert len({row.id for row in rows}) == 3
    assert rows[0].url is not None
    assert rows[0].url.startswith("curl ")


def test_server_spec_enums_are_older_than_the_data() -> None:
    """Why unknown types must pass: the server spec's enum lacks types the SDK spec has."""
    server_types = set(schema(V1_SERVER, "PackageType")["enum"])
    sdk_types = set(schema(V1_SDK, "PackageType")["enum"])
    cli_types = set(schema(V1_CLI, "PackageType")["enum"])
    assert "NPM" not in cli_types
    assert sdk_types - server_types
