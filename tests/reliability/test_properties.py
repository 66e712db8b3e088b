"""Property-based tests of every normalizer, generated from the providers' item schemas.

For each of the six listings (Cloud Foundry ``app-packages`` twice: an app
given by GUID and by name), items are generated from a schema by the small
converter in ``schemas.py``:

* Harness: the OpenAPI specs in ``../shared/specs/harness/`` (``Package`` of
  ``ar_v3/openapi.yaml``; ``RegistryArtifactMetadata`` and
  ``ArtifactMetadata`` of the server's ``harness/api.yaml``), adjusted where
  the seed pages and the real API differ from them (each adjustment is
  commented in ``harness_*_schema`` below);
* Cloud Foundry and Metabind: the hand-written ``schemas/*.json`` (their
  ``$comment`` says where each field comes from).

Properties, for every listing:

1. every schema-valid item normalizes to a valid ``Package`` whose id,
   name, version, type, state, scope, url and timestamps are what the
   normalizer documents (an oracle written here, not the code under test),
   with aware UTC timestamps equal to the input instant, the item left
   unchanged, and no secret (CF's docker ``password``) anywhere in it;
2. every invalid item raises ``pkglist.InvalidItemError`` with a one-line
   message, and nothing else escapes: (a) a non-object, (b) a field the
   normalizer requires removed (the schema's other required fields are
   checked to be optional for the normalizer, its documented leniency),
   (c) one field the normalizer reads given a clearly wrong JSON type;
3. unknown fields never break normalization (Harness keeps top-level ones in
   ``extra`` under their snake_case name; the others ignore them).

What counts as schema-valid is what the APIs send: a timestamp whose spec
type is a bare ``string`` (Harness v1 ``lastModified``/``deletedAt``) is
generated as a string of Unix milliseconds, an integer one (v3
``modifiedAt``) as milliseconds a ``datetime`` can hold; RFC 3339
date-times stay one day inside ``datetime``'s range (the edges are
``test_bugs_the_properties_found_stay_fixed``). What counts as invalid follows what the normalizer
reads: its documented leniency (numbers accepted for strings, digit strings
for integers, ``null`` or absent for anything optional, ``0``/``""`` for an
unset Harness timestamp) is valid input and excluded from the invalid
generators, never weakened in the assertions.

Every test is derandomized (the same examples on every run) and has no
example database; the example counts are in ``EXAMPLES``.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pkglist
from pkglist.testing import validate_package

from .schemas import MAX_MS, SchemaConverter, any_json, load_json, load_yaml, ms_to_datetime, required_paths

SHARED = Path(__file__).resolve().parents[3] / "shared"
SPECS = SHARED / "specs"
SEEDS = SHARED / "seeds"
OWN_SCHEMAS = Path(__file__).resolve().parent / "schemas"

#: Examples per property and listing case (7 cases: CF app-packages by GUID and by name).
EXAMPLES = {
    "valid": 200,
    "non_object": 50,
    "missing": 150,
    "wrong_type": 250,
    "unknown_fields": 150,
    "unknown_nested_fields": 100,
}


def examples(name: str) -> settings:
    return settings(
        max_examples=EXAMPLES[name],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# Item schemas ---------------------------------------------------------------------------


@functools.cache
def spec(relative: str) -> dict[str, Any]:
    path = SPECS / relative
    if not path.is_file():
        pytest.skip(f"the spec {relative} is not at {path}")
    return load_yaml(path) if path.suffix in (".yaml", ".yml") else load_json(path)


@functools.cache
def seed_text(number: str) -> str:
    path = next(SEEDS.glob(f"{number}_*.txt"), None)
    if path is None:
        pytest.skip("the seed pages are not available")
    return path.read_text(encoding="utf-8")


def seed_fields(number: str, prefix: str) -> dict[str, bool]:
    """A Harness seed page's top-level item fields (``items.X``), each with whether it is required."""
    found = re.findall(rf"`{re.escape(prefix)}\.([A-Za-z]+)` \(([^)]*)\)", seed_text(number))
    return {name: "required" in kinds for name, kinds in found}


def seed_enum(number: str, field: str) -> tuple[str, ...]:
    """The ``Enum:`` values a seed page lists for one field."""
    text = seed_text(number)
    block = text.split(f".{field}`", 1)[1].split("\n  - ", 1)[0]
    return tuple(re.findall(r'"([^"]+)"', block.split("Enum:", 1)[1]))


def harness_v3_schema() -> tuple[SchemaConverter, dict[str, Any]]:
    """``Package`` of ``GET /packages`` in ``harness-cli/ar_v3/openapi.yaml`` (seed 000 lists the same fields)."""
    document = copy.deepcopy(spec("harness/harness-cli/ar_v3/openapi.yaml"))
    schemas = document["components"]["schemas"]
    package = schemas["Package"]
    # An empty name is no name: the normalizer reports it as missing (`id` is a uuid, never empty).
    package["properties"]["name"]["minLength"] = 1
    # DeletedAtMs / LastModifiedAtMs are int64 milliseconds; the API sends instants, so they are
    # generated as milliseconds a datetime can hold (larger int64 are in the invalid set).
    schemas["DeletedAtMs"]["format"] = schemas["LastModifiedAtMs"]["format"] = "unix-ms"
    return SchemaConverter(document), package


def _v1_document() -> dict[str, Any]:
    document = copy.deepcopy(spec("harness/harness/api.yaml"))
    schemas = document["components"]["schemas"]
    # The server spec's PackageType enum is older than the data: add the seed pages' values
    # (COMPOSER, CONDA, DART, SWIFT, PUPPET, RAW).
    enum = schemas["PackageType"]["enum"]
    enum += [
        value
        for value in (*seed_enum("001", "packageType"), *seed_enum("002", "packageType"))
        if value not in enum
    ]
    return document


def _v1_common(item: dict[str, Any]) -> None:
    """Adjustments both v1 artifact schemas need."""
    properties = item["properties"]
    # An empty name is no name (the normalizer reports it as missing).
    properties["name"]["minLength"] = 1
    # `labels: null` is what the real API sends for no labels (API-NOTES; the emulator does it too).
    properties["labels"]["nullable"] = True
    # `lastModified` / `deletedAt` are `string` in the spec but strings of Unix milliseconds in the API
    # (seed: "Timestamp in milliseconds"); a non-numeric string is in the invalid set.
    properties["lastModified"]["format"] = "unix-ms"
    properties["deletedAt"]["format"] = "unix-ms"
    # Seed 002: "Null if not deleted." (the same server field serves both listings).
    properties["deletedAt"]["nullable"] = True


def harness_registry_schema() -> tuple[SchemaConverter, dict[str, Any]]:
    """``RegistryArtifactMetadata`` (the items of ``ListRegistryArtifact``) in ``harness/api.yaml``."""
    document = _v1_document()
    item = document["components"]["schemas"]["RegistryArtifactMetadata"]
    _v1_common(item)
    return SchemaConverter(document), item


def harness_space_schema() -> tuple[SchemaConverter, dict[str, Any]]:
    """``ArtifactMetadata`` (the items of ``ListArtifact``) in ``harness/api.yaml``, plus seed 002's fields."""
    document = _v1_document()
    item = document["components"]["schemas"]["ArtifactMetadata"]
    _v1_common(item)
    properties = item["properties"]
    # The spec requires `latestVersion` but does not define it; seed 002: a required string.
    properties["latestVersion"] = {"type": "string"}
    # Fields only on seed 002 (types from it; `version` is required there).
    properties["deploymentMetadata"] = {
        "type": "object",
        "properties": {"nonProdEnvCount": {"type": "integer"}, "prodEnvCount": {"type": "integer"}},
        "required": ["nonProdEnvCount", "prodEnvCount"],
    }
    properties["digestCount"] = {"type": "integer"}
    properties["fileCount"] = {"type": "integer"}
    properties["firewallMode"] = {"type": "string", "enum": list(seed_enum("002", "firewallMode"))}
    properties["scanStatus"] = {"type": "string", "enum": list(seed_enum("002", "scanStatus"))}
    properties["scanId"] = {"type": "string"}
    properties["purl"] = {"type": "string"}
    # `lastScannedAt` is a bare string on the seed; the normalizer reads it as any timestamp
    # (unit "auto"). Generated as RFC 3339, the form the name suggests; non-timestamps are invalid.
    properties["lastScannedAt"] = {"type": "string", "format": "date-time"}
    item["required"] = [*item["required"], "version"]
    # `artifactKey` is in the official CLI's spec (harness-cli/ar/openapi.yaml), a string map.
    properties["artifactKey"] = spec("harness/harness-cli/ar/openapi.yaml")["components"]["schemas"][
        "ArtifactMetadata"
    ]["properties"]["artifactKey"]
    return SchemaConverter(document), item


def own_schema(name: str) -> Callable[[], tuple[SchemaConverter, dict[str, Any]]]:
    def load() -> tuple[SchemaConverter, dict[str, Any]]:
        document = load_json(OWN_SCHEMAS / name)
        return SchemaConverter(document), document

    return load


# What each normalizer reads ------------------------------------------------------------
#
# Read off the normalizers (plugins/harness/src/pkglist_harness/_normalize.py,
# pkglist_cloudfoundry/_provider.py `normalize`, pkglist_metabind/_normalize.py): the path of
# every field they read ("*": each element of a list) and how they read it. The kinds:
#   id         require_str: a non-empty string (integers are stringified)
#   str        optional_str: string, number (stringified) or null
#   int        optional_int: integer, a string of digits or null
#   bool       optional_bool: boolean or null
#   object     an object or null          list      a list or null
#   str_list   a list of strings or null
#   ms         a Harness timestamp: integer or digit string of milliseconds (ISO accepted), 0 / "0" / "" / null unset
#   timestamp  any timestamp (ISO 8601, epoch seconds or milliseconds by magnitude) or null
#   element    a list element that must be an object
#   version    a Metabind component version: integer, string or null
#   dependency a Metabind dependency: an object or a reference string

Reads = dict[tuple[str, ...], str]

V3_READS: Reads = {
    ("id",): "id", ("name",): "id", ("latestVersion",): "str", ("packageType",): "str",
    ("packageKind",): "str", ("registryId",): "str", ("registryName",): "str", ("isPublic",): "bool",
    ("isQuarantined",): "bool", ("quarantineReason",): "str", ("downloadCount",): "int",
    ("deletedAt",): "ms", ("deletedBy",): "object", ("modifiedAt",): "ms", ("modifiedBy",): "object",
    ("latestVersionArtifactKey",): "object",
}  # fmt: skip
REGISTRY_READS: Reads = {
    ("uuid",): "str", ("name",): "id", ("latestVersion",): "str", ("packageType",): "str",
    ("artifactType",): "str", ("registryIdentifier",): "str", ("registryPath",): "str",
    ("registryUUID",): "str", ("labels",): "str_list", ("isPublic",): "bool", ("isQuarantined",): "bool",
    ("quarantineReason",): "str", ("downloadsCount",): "int", ("deletedAt",): "ms", ("lastModified",): "ms",
}  # fmt: skip
SPACE_READS: Reads = {
    ("uuid",): "str", ("name",): "id", ("version",): "str", ("latestVersion",): "str",
    ("packageType",): "str", ("artifactType",): "str", ("registryIdentifier",): "str",
    ("registryPath",): "str", ("registryUUID",): "str", ("registryType",): "str", ("labels",): "str_list",
    ("isQuarantined",): "bool", ("quarantineReason",): "str", ("downloadsCount",): "int",
    ("deletedAt",): "ms", ("lastModified",): "ms", ("pullCommand",): "str",
    ("deploymentMetadata",): "object", ("deploymentMetadata", "prodEnvCount"): "int",
    ("deploymentMetadata", "nonProdEnvCount"): "int", ("digestCount",): "int", ("fileCount",): "int",
    ("firewallMode",): "str", ("scanId",): "str", ("scanStatus",): "str", ("lastScannedAt",): "timestamp",
    ("purl",): "str", ("metadata",): "object", ("artifactKey",): "object",
}  # fmt: skip
CF_READS: Reads = {
    ("guid",): "id", ("type",): "str", ("state",): "str", ("created_at",): "timestamp",
    ("updated_at",): "timestamp", ("relationships",): "object", ("relationships", "app"): "object",
    ("relationships", "app", "data"): "object", ("relationships", "app", "data", "guid"): "str",
    ("data",): "object", ("data", "checksum"): "object", ("data", "checksum", "type"): "str",
    ("data", "checksum", "value"): "str", ("data", "image"): "str", ("data", "error"): "str",
    ("metadata",): "object", ("metadata", "labels"): "object", ("metadata", "annotations"): "object",
    ("links",): "object", ("links", "download"): "object", ("links", "download", "href"): "str",
}  # fmt: skip
METABIND_READS: Reads = {
    ("id",): "id", ("projectId",): "str", ("version",): "str", ("createdAt",): "timestamp",
    ("updatedAt",): "timestamp", ("metadata",): "object", ("metadata", "author"): "str",
    ("metadata", "description"): "str", ("metadata", "tags"): "str_list", ("components",): "list",
    ("components", "*"): "element", ("components", "*", "id"): "str", ("components", "*", "name"): "str",
    ("components", "*", "type"): "str", ("components", "*", "version"): "version", ("assets",): "list",
    ("dependencies",): "list", ("dependencies", "*"): "dependency",
}  # fmt: skip

# Clearly wrong values for each kind. Lenient inputs (see above) are not in them.
_OBJECT = st.dictionaries(st.text(max_size=5), any_json, max_size=2)
_LIST = st.lists(any_json, max_size=2)
_NUMBER = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
_FRACTION = st.builds(
    float.__add__, st.integers(-(10**9), 10**9).map(float), st.sampled_from([0.5, 0.25, -0.1])
)
_TEXT = st.text(max_size=8)
# Not integers: every string but an optionally signed run of ASCII digits (accepted, leniently).
_NOT_INTEGER_TEXT = _TEXT.filter(lambda text: re.fullmatch(r"[ \t\r\n]*-?[0-9]+[ \t\r\n]*", text) is None)
# Not timestamps: strings without a digit (so neither a number nor a date), and look-alikes.
_NO_DIGITS = st.characters(blacklist_categories=("Nd", "No", "Nl", "Cs"))
_NOT_TIMESTAMP_TEXT = st.text(_NO_DIGITS, min_size=1, max_size=10).filter(
    lambda text: text.strip() != "" and not any(ch.isdigit() for ch in text)
) | st.sampled_from(
    [
        "soon",
        "12abc",
        "1_000",
        "0x10",
        "1e3",
        "NaN",
        "--5",
        "²",
        "2024-13-45T00:00:00Z",
        "2024-01-01T00:00:00+25:00",
    ]
)
# Instants no datetime holds (as milliseconds; "auto" reads them as milliseconds too).
_OUT_OF_RANGE_MS = st.integers(MAX_MS + 1, 10**19) | st.integers(-(10**19), -62_135_596_800_001)
_OUT_OF_RANGE = _OUT_OF_RANGE_MS | _OUT_OF_RANGE_MS.map(str)

WRONG: dict[str, st.SearchStrategy[Any]] = {
    "id": _OBJECT | _LIST | st.booleans(),
    "str": _OBJECT | _LIST | st.booleans(),
    "int": _OBJECT | _LIST | st.booleans() | _FRACTION | _NOT_INTEGER_TEXT,
    "bool": _TEXT | _NUMBER | _OBJECT | _LIST,
    "object": _TEXT | _NUMBER | st.booleans() | _LIST,
    "list": _TEXT | _NUMBER | st.booleans() | _OBJECT,
    "str_list": _TEXT
    | _NUMBER
    | st.booleans()
    | _OBJECT
    | st.builds(
        lambda good, bad, at: [*good[:at], bad, *good[at:]],
        st.lists(_TEXT, max_size=3),
        st.none() | _NUMBER | st.booleans() | _OBJECT | _LIST,
        st.integers(0, 3),
    ),
    "ms": _OBJECT | _LIST | st.booleans() | _NOT_TIMESTAMP_TEXT | _OUT_OF_RANGE,
    "timestamp": _OBJECT | _LIST | st.booleans() | _NOT_TIMESTAMP_TEXT | _OUT_OF_RANGE,
    "element": _TEXT | _NUMBER | st.booleans() | _LIST | st.none(),
    "version": _OBJECT | _LIST | st.booleans() | _FRACTION,
    "dependency": _NUMBER | st.booleans() | _LIST | st.none(),
}


# The listings -------------------------------------------------------------------------

APP_GUID = "6e1ca5aa-55f1-4110-a97f-1f3473e771b9"
SPACE_GUID = "4e8a2f35-9c7d-4b1e-8a41-2a1d5bd0b3c0"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Case:
    id: str
    provider: str
    listing: str
    options: dict[str, str]
    schema: Callable[[], tuple[SchemaConverter, dict[str, Any]]]
    reads: Reads
    #: Paths the normalizer cannot do without: removing one of them (or a parent) is invalid.
    requires: frozenset[tuple[str, ...]]
    #: Top-level fields the schema requires and the normalizer does without (documented leniency).
    lenient: frozenset[str]
    expect: Callable[[Case, dict[str, Any]], dict[str, Any]]

    def __str__(self) -> str:
        return self.id

    @functools.cached_property
    def provider_object(self) -> pkglist.Provider:
        return pkglist.get_plugin_manager().provider(self.provider)

    @functools.cached_property
    def query(self) -> pkglist.Query:
        return self.provider_object.listing(self.listing).query(**self.options)

    def normalize(self, item: Any) -> pkglist.Package:
        provider = self.provider_object
        return provider.normalize(provider.listing(self.listing), self.query, item)

    @functools.cached_property
    def converter_and_schema(self) -> tuple[SchemaConverter, dict[str, Any]]:
        return self.schema()

    @functools.cached_property
    def items(self) -> st.SearchStrategy[dict[str, Any]]:
        converter, schema = self.converter_and_schema
        return converter.strategy(schema)


# Oracles: what each normalizer documents, written from its docstrings, not calling it.


def ms_instant(value: Any) -> datetime | None:
    """A Harness timestamp: milliseconds; zero or empty means unset."""
    if value is None or value in (0, "0", ""):
        return None
    return ms_to_datetime(value)


def iso_instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def harness_state(item: dict[str, Any]) -> str:
    if ms_instant(item.get("deletedAt")) is not None:
        return "deleted"
    return "quarantined" if item.get("isQuarantined") else "active"


def expect_v3(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "name": item["name"],
        "version": item.get("latestVersion"),
        "package_type": item.get("packageType"),
        "state": harness_state(item),
        "scope": item.get("registryName"),
        "updated_at": ms_instant(item.get("modifiedAt")),
        "extra.deleted_at": ms_instant(item.get("deletedAt")),
    }


def expect_registry(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    scope = item.get("registryPath") or item.get("registryIdentifier")
    path_id = f"{scope}/{item['name']}" if scope else item["name"]
    return {
        "id": item.get("uuid") or path_id,
        "name": item["name"],
        "version": item.get("latestVersion"),
        "package_type": item.get("packageType"),
        "state": harness_state(item),
        "scope": scope,
        "updated_at": ms_instant(item.get("lastModified")),
        "extra.deleted_at": ms_instant(item.get("deletedAt")),
        "extra.labels": item.get("labels") or [],
    }


def expect_space(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    expected = expect_registry(case, item)
    version = item.get("version") or item.get("latestVersion")
    expected["version"] = version
    if version:
        expected["id"] = f"{expected['id']}@{version}"
    expected["url"] = item.get("pullCommand") or None
    expected["extra.last_scanned_at"] = iso_instant(item.get("lastScannedAt"))
    return expected


def expect_cf(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    app_guid = item["relationships"]["app"]["data"]["guid"]
    app = case.options.get("app")
    name = app_guid if app is None or GUID.fullmatch(app) else app
    data, links = item["data"], item["links"]
    download = links.get("download", {}).get("href")
    return {
        "id": item["guid"],
        "name": name,
        "version": None,
        "package_type": item["type"],
        "state": item["state"],
        "scope": app_guid,
        "created_at": iso_instant(item["created_at"]),
        "updated_at": iso_instant(item["updated_at"]),
        "url": data.get("image") if item["type"] == "docker" else download or data.get("image"),
        "extra.labels": item["metadata"]["labels"],
        "extra.annotations": item["metadata"]["annotations"],
    }


def expect_metabind(case: Case, item: dict[str, Any]) -> dict[str, Any]:
    project = item.get("projectId") or case.options["project"]
    return {
        "id": item["id"],
        "name": project,
        "version": item.get("version"),
        "package_type": None,
        "state": None,
        "scope": f"{case.options['organization']}/{project}",
        "created_at": iso_instant(item.get("createdAt")),
        "updated_at": iso_instant(item.get("updatedAt")),
        "extra.component_count": len(item.get("components") or []),
        "extra.asset_count": len(item.get("assets") or []),
        "extra.tags": (item.get("metadata") or {}).get("tags") or [],
    }


HARNESS_V3_LENIENT = frozenset({"packageType", "registryId", "registryName", "isPublic", "latestVersion"})
HARNESS_V1_LENIENT = frozenset(
    # Without `uuid` the id is `registryPath/name` (older servers): see _path_id.
    {"uuid", "registryIdentifier", "registryPath", "registryUUID", "latestVersion", "packageType"}
)
CF_LENIENT = frozenset({"type", "data", "state", "created_at", "updated_at", "metadata", "links"})
CF_APP_GUID = ("relationships", "app", "data", "guid")
# `projectId` falls back to the queried project; everything else but `id` is optional.
METABIND_LENIENT = frozenset(
    {"projectId", "version", "components", "assets", "dependencies", "metadata", "createdAt", "updatedAt"}
)

CASES = [
    Case(
        id="harness-packages",
        provider="harness",
        listing="packages",
        options={"account": "acme"},
        schema=harness_v3_schema,
        reads=V3_READS,
        requires=frozenset({("id",), ("name",)}),
        lenient=HARNESS_V3_LENIENT,
        expect=expect_v3,
    ),
    Case(
        id="harness-registry-artifacts",
        provider="harness",
        listing="registry-artifacts",
        options={"registry_ref": "acme/platform/payments/docker-local"},
        schema=harness_registry_schema,
        reads=REGISTRY_READS,
        requires=frozenset({("name",)}),
        lenient=HARNESS_V1_LENIENT | {"isPublic"},
        expect=expect_registry,
    ),
    Case(
        id="harness-space-artifacts",
        provider="harness",
        listing="space-artifacts",
        options={"space_ref": "acme/platform/payments"},
        schema=harness_space_schema,
        reads=SPACE_READS,
        requires=frozenset({("name",)}),
        # `version` falls back to `latestVersion`, the id to `uuid` alone.
        lenient=HARNESS_V1_LENIENT | {"version"},
        expect=expect_space,
    ),
    Case(
        id="cloudfoundry-app-packages-by-guid",
        provider="cloudfoundry",
        listing="app-packages",
        options={"app": APP_GUID},
        schema=own_schema("cloudfoundry-package.json"),
        reads=CF_READS,
        # The query names the app: a package without relationships.app.data.guid is still its.
        requires=frozenset({("guid",)}),
        lenient=CF_LENIENT | {"relationships"},
        expect=expect_cf,
    ),
    Case(
        id="cloudfoundry-app-packages-by-name",
        provider="cloudfoundry",
        listing="app-packages",
        options={"app": "web", "space_guid": SPACE_GUID},
        schema=own_schema("cloudfoundry-package.json"),
        reads=CF_READS,
        requires=frozenset({("guid",)}),
        lenient=CF_LENIENT | {"relationships"},
        expect=expect_cf,
    ),
    Case(
        id="cloudfoundry-packages",
        provider="cloudfoundry",
        listing="packages",
        options={},
        schema=own_schema("cloudfoundry-package.json"),
        reads=CF_READS,
        # A package of /v3/packages is named after its app: relationships.app.data.guid is needed.
        requires=frozenset({("guid",), CF_APP_GUID}),
        lenient=CF_LENIENT,
        expect=expect_cf,
    ),
    Case(
        id="metabind-packages",
        provider="metabind",
        listing="packages",
        options={"organization": "org123", "project": "proj123"},
        schema=own_schema("metabind-package.json"),
        reads=METABIND_READS,
        requires=frozenset({("id",)}),
        lenient=METABIND_LENIENT,
        expect=expect_metabind,
    ),
]
parametrize_cases = pytest.mark.parametrize("case", CASES, ids=str)


# Helpers ------------------------------------------------------------------------------


def get_path(item: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        item = item[key]
    return item


def concrete_paths(item: Any, pattern: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    """The paths of ``item`` matching ``pattern`` ("*" for each list index) whose parent exists.

    The last key need not exist: setting it adds the field.
    """
    if len(pattern) == 1:
        if pattern[0] == "*":
            if isinstance(item, list):
                yield from ((index,) for index in range(len(item)))
        elif isinstance(item, dict):
            yield (pattern[0],)
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        keys: list[Any] = list(range(len(item))) if isinstance(item, list) else []
    else:
        keys = [head] if isinstance(item, dict) and head in item else []
    for key in keys:
        for tail in concrete_paths(item[key], rest):
            yield (key, *tail)


def nested_dicts(item: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The paths of the objects inside ``item`` (not ``item`` itself)."""
    children = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
    for key, value in children:
        if isinstance(value, dict):
            yield (*path, key)
        yield from nested_dicts(value, (*path, key))


def field_name(path: tuple[Any, ...]) -> str:
    """The last key of a path: what the error message names."""
    return next(str(key) for key in reversed(path) if isinstance(key, str))


def keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


def check_invalid(case: Case, item: Any, *, names: str | None = None) -> pkglist.InvalidItemError:
    """``item`` is refused with InvalidItemError (anything else escaping fails the test)."""
    with pytest.raises(pkglist.InvalidItemError) as caught:
        case.normalize(item)
    error = caught.value
    assert isinstance(error, pkglist.ProtocolError)
    assert error.message, "empty message"
    assert "\n" not in error.message, repr(error.message)
    if names is not None:
        assert names in error.message, (names, error.message)
    return error


CORE_FIELDS = ("id", "name", "version", "package_type", "state", "scope", "created_at", "updated_at", "url")


def core(package: pkglist.Package) -> tuple[Any, ...]:
    return tuple(getattr(package, name) for name in CORE_FIELDS)


# 0. The schemas and tables match the specs and the normalizers ----------------------


@pytest.mark.parametrize(
    ("schema", "seed", "prefix"),
    [
        (harness_v3_schema, "000", "items"),
        (harness_registry_schema, "001", "data.artifacts"),
        (harness_space_schema, "002", "data.artifacts"),
    ],
    ids=["packages", "registry-artifacts", "space-artifacts"],
)
def test_harness_schemas_cover_their_seed_page(schema: Any, seed: str, prefix: str) -> None:
    converter, item = schema()
    item = converter.resolve(item)
    fields = seed_fields(seed, prefix)
    assert fields, "no fields found on the seed page"
    assert set(fields) <= set(item["properties"])
    assert {name for name, required in fields.items() if required} <= set(item["required"])


@pytest.mark.parametrize(
    ("listing", "reads"),
    [("packages", V3_READS), ("registry-artifacts", REGISTRY_READS), ("space-artifacts", SPACE_READS)],
)
def test_harness_read_tables_name_every_mapped_field(listing: str, reads: Reads) -> None:
    from pkglist_harness import _normalize

    known = {
        "packages": _normalize._V3_KNOWN,
        "registry-artifacts": _normalize._REGISTRY_KNOWN,
        "space-artifacts": _normalize._SPACE_KNOWN,
    }[listing]
    assert {path[0] for path in reads} == known


@parametrize_cases
def test_required_fields_schema_versus_normalizer(case: Case) -> None:
    """What the normalizer requires is what the schema requires, less its documented leniency."""
    converter, schema = case.converter_and_schema
    schema_required: set[str] = set()
    for variant in converter.resolve(schema).get("oneOf", [schema]):
        schema_required |= set(converter.resolve(variant)["required"])
    needed = {path[0] for path in case.requires}
    assert needed <= schema_required
    assert schema_required - needed == case.lenient


# 1. Every schema-valid item normalizes ---------------------------------------------------

SECRET = st.from_regex(r"pw-[0-9a-f]{16}", fullmatch=True)


@parametrize_cases
@examples("valid")
@given(data=st.data())
def test_valid_items_normalize(case: Case, data: st.DataObject) -> None:
    item = data.draw(case.items, label="item")
    secret = None
    if case.provider == "cloudfoundry" and item["type"] == "docker":
        secret = item["data"]["password"] = data.draw(SECRET, label="password")
    before = copy.deepcopy(item)

    package = case.normalize(item)

    validate_package(package, provider=case.provider, listing=case.listing)
    assert item == before, "the normalizer changed its input"
    for key, wanted in case.expect(case, item).items():
        actual = package.extra[key[6:]] if key.startswith("extra.") else getattr(package, key)
        assert actual == wanted, (key, actual, wanted)
        if isinstance(actual, datetime):
            assert actual.utcoffset() == timedelta(0), (key, actual)
    for moment in (package.created_at, package.updated_at):
        assert moment is None or moment.utcoffset() == timedelta(0)
    dumped = pkglist.package_to_dict(package, raw=True)
    assert "password" not in set(keys_in(dumped))
    if secret is not None:
        assert secret not in json.dumps(dumped)


# 2. Every invalid item raises InvalidItemError ------------------------------------------


@parametrize_cases
@examples("non_object")
@given(data=st.data())
def test_non_objects_are_invalid_items(case: Case, data: st.DataObject) -> None:
    valid = case.items
    raw = data.draw(
        valid.map(lambda item: [item])
        | valid.map(json.dumps)
        | _TEXT
        | _NUMBER
        | st.booleans()
        | st.none()
        | st.lists(any_json, max_size=3),
        label="raw",
    )
    check_invalid(case, raw, names="not a JSON object")


@parametrize_cases
@examples("missing")
@given(data=st.data())
def test_missing_required_fields(case: Case, data: st.DataObject) -> None:
    """Removing a field the normalizer requires is invalid; removing any other schema-required one is not."""
    item = data.draw(case.items, label="item")
    converter, schema = case.converter_and_schema
    candidates = sorted(set(required_paths(converter, schema, item)), key=repr)
    path = data.draw(st.sampled_from(candidates), label="removed")
    del get_path(item, path[:-1])[path[-1]]

    if any(required[: len(path)] == path for required in case.requires):
        check_invalid(case, item, names="missing")
    else:
        validate_package(case.normalize(item), provider=case.provider, listing=case.listing)


@parametrize_cases
@examples("wrong_type")
@given(data=st.data())
def test_wrong_types_are_invalid_items(case: Case, data: st.DataObject) -> None:
    item = data.draw(case.items, label="item")
    targets = [(path, kind) for pattern, kind in case.reads.items() for path in concrete_paths(item, pattern)]
    path, kind = data.draw(st.sampled_from(targets), label="field")
    get_path(item, path[:-1])[path[-1]] = data.draw(WRONG[kind], label="value")

    check_invalid(case, item, names=field_name(path))


# 3. Unknown fields never break normalization --------------------------------------------

CAMEL = st.from_regex(r"[a-z]{1,6}([A-Z][a-z]{1,5}){0,2}", fullmatch=True)


def snake(name: str) -> str:
    """``fooBarBaz`` -> ``foo_bar_baz`` (for the letters-only camelCase names of CAMEL)."""
    return re.sub(r"([A-Z])", r"_\1", name).lower()


@parametrize_cases
@examples("unknown_fields")
@given(data=st.data())
def test_unknown_fields_never_break_normalization(case: Case, data: st.DataObject) -> None:
    item = data.draw(case.items, label="item")
    base = case.normalize(copy.deepcopy(item))
    known = {path[0] for path in case.reads}
    camel = data.draw(
        st.dictionaries(CAMEL.filter(lambda name: name not in known), any_json, max_size=4), label="camel"
    )
    other = data.draw(
        st.dictionaries(
            st.text(min_size=1, max_size=8).filter(lambda n: n not in known), any_json, max_size=2
        ),
        label="other",
    )
    extended = {**item, **{k: v for k, v in camel.items() if k not in item}}
    extended.update({k: v for k, v in other.items() if k not in extended})

    package = case.normalize(extended)

    validate_package(package, provider=case.provider, listing=case.listing)
    assert core(package) == core(base)
    if case.provider != "harness":
        assert package == base
        return
    # Harness: known values win; each unknown field is kept under its snake_case name.
    for key, value in base.extra.items():
        assert package.extra[key] == value, key
    for name, value in camel.items():
        if snake(name) not in base.extra:
            assert package.extra[snake(name)] == value, (name, package.extra)


@parametrize_cases
@examples("unknown_nested_fields")
@given(data=st.data())
def test_unknown_nested_fields_never_break_normalization(case: Case, data: st.DataObject) -> None:
    item = data.draw(case.items, label="item")
    places = list(nested_dicts(item))
    if not places:
        return
    base = case.normalize(copy.deepcopy(item))
    holder = get_path(item, data.draw(st.sampled_from(places), label="in"))
    name = data.draw(CAMEL.filter(lambda name: name not in holder), label="name")
    holder[name] = data.draw(any_json, label="value")

    package = case.normalize(item)

    validate_package(package, provider=case.provider, listing=case.listing)
    assert core(package) == core(base)


# Found by the properties, fixed, and pinned here --------------------------------------------

_HARNESS_MIN = {"id": "0b0e3a36-5f44-4a51-9d2a-6f4f0f1b2c3d", "name": "payments"}
_CF_MIN = {
    "guid": "44f7c078-0934-470f-9883-4fcddc5b8f13",
    "relationships": {"app": {"data": {"guid": APP_GUID}}},
}
_MB_MIN = {"id": "pkg1"}
_BY_ID = {case.id: case for case in CASES}


def _bug(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"bug: {reason}")


@pytest.mark.parametrize(
    ("case_id", "item", "field"),
    [
        pytest.param("harness-registry-artifacts", {"name": "a", "downloadsCount": "--5"}, "downloadsCount"),
        pytest.param("harness-packages", {**_HARNESS_MIN, "downloadCount": "²"}, "downloadCount"),
        pytest.param("harness-registry-artifacts", {"name": "a", "downloadsCount": "0\x1f"}, "downloadsCount"),
        pytest.param("harness-space-artifacts", {"name": "a", "deploymentMetadata": {"prodEnvCount": "--1"}}, "prodEnvCount"),
        pytest.param("harness-packages", {**_HARNESS_MIN, "modifiedAt": False}, "modifiedAt"),
        pytest.param("harness-registry-artifacts", {"name": "a", "deletedAt": False}, "deletedAt"),
        pytest.param("cloudfoundry-packages", {**_CF_MIN, "created_at": "9999-12-31T23:59:59-01:00"}, "created_at"),
        pytest.param("metabind-packages", {**_MB_MIN, "updatedAt": "0001-01-01T00:00:00+01:00"}, "updatedAt"),
        pytest.param("harness-space-artifacts", {"name": "a", "lastModified": "9999-12-31T23:59:59-01:00"}, "lastModified"),
        # Controls: the neighbours of those bugs.
        pytest.param("harness-registry-artifacts", {"name": "a", "downloadsCount": "12a"}, "downloadsCount"),
        pytest.param("harness-packages", {**_HARNESS_MIN, "modifiedAt": True}, "modifiedAt"),
        pytest.param("cloudfoundry-packages", {**_CF_MIN, "created_at": "10000-01-01T00:00:00Z"}, "created_at"),
        pytest.param("harness-packages", {**_HARNESS_MIN, "modifiedAt": MAX_MS + 1}, "modifiedAt"),
    ],
)  # fmt: skip
def test_bugs_the_properties_found_stay_fixed(case_id: str, item: dict[str, Any], field: str) -> None:
    check_invalid(_BY_ID[case_id], item, names=field)


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-25t10:00:00z",
        "2024-03-25T10:00:00Z",
        "2024-03-25T12:00:00+02:00",
    ],
)
def test_rfc3339_spellings(value: str) -> None:
    """Every RFC 3339 spelling of an instant normalizes to that instant."""
    package = _BY_ID["cloudfoundry-packages"].normalize({**_CF_MIN, "created_at": value})
    assert package.created_at == datetime.fromisoformat("2024-03-25T10:00:00+00:00")


@pytest.mark.parametrize(
    ("case_id", "item", "field", "value"),
    [
        ("harness-registry-artifacts", {"name": "a", "downloadsCount": " 12 "}, "download_count", 12),
        ("harness-registry-artifacts", {"name": "a", "downloadsCount": "-3"}, "download_count", -3),
        ("harness-packages", {**_HARNESS_MIN, "modifiedAt": 0}, "updated_at", None),
        ("harness-packages", {**_HARNESS_MIN, "modifiedAt": ""}, "updated_at", None),
        ("harness-registry-artifacts", {"name": "a", "lastModified": "0"}, "updated_at", None),
        ("harness-packages", {**_HARNESS_MIN, "latestVersion": 2}, "version", "2"),
        ("metabind-packages", {"id": 7}, "id", "7"),
    ],
)
def test_documented_leniency(case_id: str, item: dict[str, Any], field: str, value: Any) -> None:
    """What the invalid generators leave out on purpose is indeed accepted."""
    package = _BY_ID[case_id].normalize(item)
    actual = getattr(package, field) if hasattr(package, field) else package.extra[field]
    assert actual == value
