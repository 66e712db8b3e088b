"""The emulator's data set: accounts with orgs, projects, registries and packages.

Two parts:

* a small fixed catalog (``FIXED_REGISTRIES`` / ``FIXED_PACKAGES``) that shows
  every kind of item: one registry per package type (including ``WASM``, a type
  no spec knows, to prove unknown types pass through), an upstream proxy,
  deleted and quarantined packages, ``null`` labels, Hugging Face models and
  datasets, registries at account, org and project level, a second account;
* the main data set: ``packages`` packages in the main registry
  (``<type>-local`` in ``acme/platform/payments``), generated from
  ``(seed, index)`` on demand so that a million packages cost no memory.

Everything about main package ``i`` that a listing's size or order depends on
has a closed form (``i % 23 == 22`` is deleted, it has ``1 + i % 3``
versions, creation time grows with ``i``), so paging through an unfiltered
listing costs O(page size) whatever the data set's size.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "DEMO_ACCOUNT",
    "DEMO_API_KEY",
    "DEMO_ORG",
    "DEMO_PROJECT",
    "DEMO_SPACE",
    "Artifact",
    "Catalog",
    "Registry",
]

DEMO_ACCOUNT = "acme"
DEMO_ORG = "platform"
DEMO_PROJECT = "payments"
DEMO_SPACE = f"{DEMO_ACCOUNT}/{DEMO_ORG}/{DEMO_PROJECT}"
#: The emulator's API key (shaped like a Harness personal access token).
DEMO_API_KEY = "pat.acme.emulator.harness-demo-key-0000"

BASE_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: the first fixed package
FIXED_STEP_MS = 3_600_000
MAIN_START_MS = BASE_MS + 30 * 86_400_000
MAIN_STEP_MS = 10_000
VERSION_GAP_MS = 3_000
DELETED_PERIOD = 23  # main package i is soft-deleted iff i % 23 == 22
QUARANTINE_PERIOD = 13  # ... and quarantined iff i % 13 == 7

#: Spaces that exist (an empty project included).
SPACES = (
    "acme",
    "acme/platform",
    "acme/platform/payments",
    "acme/platform/web",
    "acme/default",
    "acme/default/sandbox",
    "globex",
)

#: (space, identifier, package type, registry type)
FIXED_REGISTRIES: tuple[tuple[str, str, str, str], ...] = (
    ("acme", "generic-shared", "GENERIC", "VIRTUAL"),
    ("acme/platform", "go-modules", "GO", "VIRTUAL"),
    ("acme/platform/payments", "maven-releases", "MAVEN", "VIRTUAL"),
    ("acme/platform/payments", "npm-internal", "NPM", "VIRTUAL"),
    ("acme/platform/payments", "npm-proxy", "NPM", "UPSTREAM"),
    ("acme/platform/payments", "pypi-local", "PYTHON", "VIRTUAL"),
    ("acme/platform/payments", "helm-charts", "HELM", "VIRTUAL"),
    ("acme/platform/payments", "hf-models", "HUGGINGFACE", "VIRTUAL"),
    ("acme/platform/payments", "wasm-modules", "WASM", "VIRTUAL"),
    ("acme/default/sandbox", "docker-sandbox", "DOCKER", "VIRTUAL"),
    ("globex", "containers", "DOCKER", "VIRTUAL"),
)

#: (registry identifier, package name, versions oldest first, traits), in creation order.
FIXED_PACKAGES: tuple[tuple[str, str, tuple[str, ...], Mapping[str, Any]], ...] = (
    ("generic-shared", "build-tools", ("1.0.0", "1.1.0"), {"labels": ("tooling",), "public": True}),
    ("generic-shared", "release-notes", ("2024.12",), {"deleted": True}),
    ("go-modules", "go.acme.dev/ledger", ("v0.3.0", "v0.4.0"), {}),
    ("maven-releases", "ledger-core", ("1.0.0", "1.1.0", "2.0.0"), {"labels": ("team-ledger", "tier-1")}),
    (
        "maven-releases",
        "payments-api",
        ("3.2.1",),
        {"quarantine": "CVE-2024-38816 in a transitive dependency"},
    ),
    ("maven-releases", "legacy-client", ("0.9.0",), {"deleted": True}),
    ("npm-internal", "@acme/ui-kit", ("4.0.0", "4.1.0"), {"labels": None, "deployed": (1, 2)}),
    ("npm-internal", "@acme/checkout-widget", ("1.0.0",), {"labels": ("team-web",)}),
    ("npm-proxy", "left-pad", ("1.3.0",), {"quarantine": "Blocked by the upstream firewall policy"}),
    ("npm-proxy", "lodash", ("4.17.21",), {"public": True}),
    ("pypi-local", "acme-ledger", ("0.1.0", "0.2.0"), {"labels": ("team-ledger",)}),
    ("pypi-local", "fraud-sdk", ("2.0.0",), {"quarantine": "Malware scan failed", "deleted": True}),
    ("helm-charts", "payments-gateway", ("0.1.0", "0.2.0"), {"deployed": (2, 1)}),
    ("hf-models", "fraud-detector", ("v1", "v2"), {"kind": "model", "labels": ("ml",)}),
    ("hf-models", "transactions-2024", ("v1",), {"kind": "dataset"}),
    ("wasm-modules", "edge-filter", ("0.1.0",), {}),
    ("docker-sandbox", "hello-world", ("1.0", "1.1"), {"scan": "ALLOWED", "deployed": (0, 1)}),
    ("docker-sandbox", "scratchpad", ("0.0.1",), {"deleted": True}),
    ("containers", "globex-api", ("2.0.0",), {"scan": "WARN"}),
)

_ADJECTIVES = ("amber", "brisk", "cobalt", "dusty", "eager", "frosty", "gentle", "hollow", "ivory", "jolly")
_NOUNS = ("falcon", "harbor", "lantern", "meadow", "nebula", "orchid", "pebble", "quartz", "river", "summit")
TEAMS = ("ledger", "checkout", "fraud", "platform")
ENVS = ("prod", "staging", "dev")
SCAN_STATUSES = ("ALLOWED", "WARN", "BLOCKED")
OWNERS = ("alice", "bob", "ci-bot")


@attrs.frozen(slots=True)
class Registry:
    space: str
    identifier: str
    package_type: str
    registry_type: str
    uuid: str

    @property
    def path(self) -> str:
        return f"{self.space}/{self.identifier}"

    @property
    def account(self) -> str:
        return self.space.split("/", 1)[0]

    def in_space(self, space: str) -> bool:
        """Registries of ``space`` and of the spaces below it."""
        return self.space == space or self.space.startswith(space + "/")


@attrs.frozen(slots=True, eq=False)
class Artifact:
    """One package with its versions. ``key`` is its index in the main data
    set, or ``-(j + 1)`` for the fixed package ``j``."""

    key: int
    registry: Registry
    uuid: str
    name: str
    versions: tuple[str, ...]
    created_ms: int
    downloads: int
    is_public: bool
    quarantine_reason: str | None
    deleted_ms: int | None
    labels: tuple[str, ...] | None
    metadata: Mapping[str, str]
    package_kind: str | None
    prod_envs: int
    non_prod_envs: int
    scan_status: str | None
    owner: str

    @property
    def latest(self) -> str:
        return self.versions[-1]

    @property
    def modified_ms(self) -> int:
        return self.version_ms(len(self.versions) - 1)

    def version_ms(self, k: int) -> int:
        return self.created_ms + k * VERSION_GAP_MS

    def version_downloads(self, k: int) -> int:
        share, left = divmod(self.downloads, len(self.versions))
        return share + (1 if k < left else 0)


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).digest()


def _uuid(digest: bytes) -> str:
    return str(uuid.UUID(bytes=digest, version=4))


class Catalog:
    """The whole data set of one emulator (immutable, so freely shared by threads)."""

    def __init__(self, *, packages: int, seed: int, main_package_type: str = "DOCKER") -> None:
        if packages < 0:
            raise ValueError("packages must be >= 0")
        self.size = packages
        self.seed = seed
        self.spaces = frozenset(SPACES)
        self.accounts = frozenset(space.split("/", 1)[0] for space in SPACES)
        registries = [
            Registry(
                space, identifier, package_type, kind, _uuid(_digest(seed, "registry", space, identifier))
            )
            for space, identifier, package_type, kind in FIXED_REGISTRIES
        ]
        main_identifier = f"{main_package_type.lower()}-local"
        self.main_registry = Registry(
            DEMO_SPACE,
            main_identifier,
            main_package_type,
            "VIRTUAL",
            _uuid(_digest(seed, "registry", "main")),
        )
        registries.append(self.main_registry)
        self.registries: tuple[Registry, ...] = tuple(registries)
        by_identifier = {registry.identifier: registry for registry in registries}
        self.fixed: tuple[Artifact, ...] = tuple(
            _fixed_artifact(seed, j, by_identifier[registry], name, versions, traits)
            for j, (registry, name, versions, traits) in enumerate(FIXED_PACKAGES)
        )

    def registry(self, space: str, identifier: str) -> Registry | None:
        for registry in self.registries:
            if registry.space == space and registry.identifier == identifier:
                return registry
        return None

    def artifact(self, key: int) -> Artifact:
        return self.main(key) if key >= 0 else self.fixed[-key - 1]

    def main(self, i: int) -> Artifact:
        """Main package ``i`` (0 is the oldest), generated from ``(seed, i)``."""
        h = _digest(self.seed, "package", i)
        registry = self.main_registry
        major, minor = h[2] % 4, h[3] % 20
        labels: tuple[str, ...] | None
        if i % 7 == 3:
            labels = None
        elif i % 7 < 2:
            labels = ()
        else:
            labels = (f"team-{TEAMS[h[8] % 4]}", f"tier-{h[9] % 3 + 1}")
        created = MAIN_START_MS + i * MAIN_STEP_MS
        versions = tuple(f"{major}.{minor}.{k}" for k in range(1 + i % 3))
        deleted = i % DELETED_PERIOD == DELETED_PERIOD - 1
        return Artifact(
            key=i,
            registry=registry,
            uuid=_uuid(h),
            name=f"{_ADJECTIVES[h[0] % 10]}-{_NOUNS[h[1] % 10]}-{i}",
            versions=versions,
            created_ms=created,
            downloads=int.from_bytes(h[4:7], "big") % 5000,
            is_public=i % 5 == 0,
            quarantine_reason=f"CVE-2025-{1000 + h[7] % 9000} found by the scanner"
            if i % QUARANTINE_PERIOD == 7
            else None,
            deleted_ms=created + 86_400_000 if deleted else None,
            labels=labels,
            metadata={"team": TEAMS[h[8] % 4], "env": ENVS[h[10] % 3]},
            package_kind=("model", "dataset")[i % 2] if registry.package_type == "HUGGINGFACE" else None,
            prod_envs=h[11] % 4 if i % 2 == 0 else 0,
            non_prod_envs=h[12] % 3,
            scan_status=SCAN_STATUSES[h[13] % 3] if registry.package_type == "DOCKER" and i % 4 else None,
            owner=OWNERS[h[14] % 3],
        )


def _fixed_artifact(
    seed: int, j: int, registry: Registry, name: str, versions: tuple[str, ...], traits: Mapping[str, Any]
) -> Artifact:
    h = _digest(seed, "fixed", registry.path, name)
    created = BASE_MS + j * FIXED_STEP_MS
    prod, non_prod = traits.get("deployed", (0, 0))
    return Artifact(
        key=-(j + 1),
        registry=registry,
        uuid=_uuid(h),
        name=name,
        versions=versions,
        created_ms=created,
        downloads=int.from_bytes(h[4:7], "big") % 2000,
        is_public=bool(traits.get("public", False)),
        quarantine_reason=traits.get("quarantine"),
        deleted_ms=created + 7 * 86_400_000 if traits.get("deleted") else None,
        labels=traits.get("labels", ()),
        metadata={"team": TEAMS[h[8] % 4], "env": ENVS[h[10] % 3]},
        package_kind=traits.get("kind"),
        prod_envs=prod,
        non_prod_envs=non_prod,
        scan_status=traits.get("scan"),
        owner=OWNERS[h[14] % 3],
    )


# Closed forms over the main data set ----------------------------------------------------


def main_version_count(i: int) -> int:
    return 1 + i % 3


def main_rows_before(i: int) -> int:
    """Version rows of main packages ``0 .. i-1`` (each has ``1 + i % 3`` versions).

    >>> [main_rows_before(i) for i in range(7)]
    [0, 1, 3, 6, 7, 9, 12]
    """
    r = i % 3
    return i + 3 * (i // 3) + r * (r - 1) // 2


def main_row(offset: int) -> tuple[int, int]:
    """(package index, version index) of version row ``offset`` of the main data set.

    >>> [main_row(o) for o in range(7)]
    [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1), (2, 2), (3, 0)]
    """
    cycle, rest = divmod(offset, 6)
    if rest == 0:
        return 3 * cycle, 0
    if rest < 3:
        return 3 * cycle + 1, rest - 1
    return 3 * cycle + 2, rest - 3


def main_deleted_count(n: int) -> int:
    """Deleted packages among main packages ``0 .. n-1``."""
    return n // DELETED_PERIOD


def main_active_index(k: int) -> int:
    """Index of the ``k``-th main package that is not deleted.

    >>> [main_active_index(k) for k in (0, 21, 22, 43, 44)]
    [0, 21, 23, 44, 46]
    """
    return k + k // (DELETED_PERIOD - 1)


def main_deleted_index(k: int) -> int:
    """Index of the ``k``-th deleted main package."""
    return DELETED_PERIOD * k + DELETED_PERIOD - 1
