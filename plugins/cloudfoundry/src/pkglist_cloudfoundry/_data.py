"""The emulator's data set: orgs, spaces, apps and packages, generated from (seed, index).

Nothing per package is stored: package ``i`` (in creation order, the API's
default order) is computed from a 64-bit hash of ``(seed, i)``, and its GUID
encodes ``i`` reversibly, so a data set of a million packages costs nothing
until a page of it is served, and a GUID is looked up in O(1).

The demo scope (fixed GUIDs, whatever the seed)::

    org   demo-org   2b9d1e3c-7a4f-4c1e-9e2d-0f5a6b7c8d01
      space dev      5c1f0e2a-3b4d-4e6f-8a9b-1c2d3e4f5a02
        app web      9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c03   `packages` packages (the main app)
        app worker   4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b04   6 packages
        app idle     e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e07   no packages
      space prod     7e6d5c4b-3a29-4f18-9e07-d6c5b4a39208
        app web      1f2e3d4c-5b6a-4798-a8b7-c6d5e4f3a205   4 packages (same name, other space)
    org   other-org  3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c09
      space sandbox  8f9e0d1c-2b3a-4c5d-9e6f-7a8b9c0d1e10
        app api      6b5a4f3e-2d1c-4b0a-9f8e-7d6c5b4a3f06   5 packages
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import attrs

__all__ = [
    "DEMO_APP_GUID",
    "DEMO_APP_NAME",
    "DEMO_ORG_GUID",
    "DEMO_SPACE_GUID",
    "App",
    "DataSet",
    "Facts",
    "Org",
    "Space",
]

DEMO_ORG_GUID = "2b9d1e3c-7a4f-4c1e-9e2d-0f5a6b7c8d01"
DEMO_SPACE_GUID = "5c1f0e2a-3b4d-4e6f-8a9b-1c2d3e4f5a02"
DEMO_APP_GUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c03"
DEMO_APP_NAME = "web"

EPOCH = 1_672_531_200  # 2023-01-01T00:00:00Z: package 0 is created then
STEP = 90  # seconds between the creation of two packages
_MASK48 = (1 << 48) - 1
_MASK64 = (1 << 64) - 1
_SPREAD = 0x5DEECE66D  # odd, so multiplying by it mod 2**48 is invertible
_UNSPREAD = pow(_SPREAD, -1, 1 << 48)
_BITS_STATES = (  # (percentage bound, state) of bits packages; docker packages are READY at once
    (70, "READY"),
    (80, "EXPIRED"),
    (86, "AWAITING_UPLOAD"),
    (91, "PROCESSING_UPLOAD"),
    (96, "FAILED"),
    (100, "COPYING"),
)
_STATE_BY_ROLL = tuple(next(state for bound, state in _BITS_STATES if roll < bound) for roll in range(100))
_FAILED_ERROR = json.dumps("PackageBitsError - the uploaded archive could not be processed")
_LABELS: tuple[dict[str, str], ...] = (
    {},
    {},
    {"env": "prod"},
    {"env": "prod"},
    {"env": "staging"},
    {"env": "prod", "tier": "web"},
    {"tier": "worker"},
    {"env": "dev", "beta": "true"},
)
_LABELS_JSON = tuple(json.dumps(labels, separators=(",", ":")) for labels in _LABELS)


def _mix(value: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


@functools.lru_cache(maxsize=4096)
def _day(day: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))


def timestamp(epoch: int) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` (what CF shows), a few times faster than ``strftime``."""
    day, seconds = divmod(epoch, 86_400)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{_day(day)}T{hours:02d}:{minutes:02d}:{seconds:02d}Z"


@attrs.frozen
class Org:
    guid: str
    name: str


@attrs.frozen
class Space:
    guid: str
    name: str
    org_guid: str


@attrs.frozen
class App:
    guid: str
    name: str
    space_guid: str
    #: Its packages are the global indices ``start .. start + count - 1``.
    start: int
    count: int
    created_at: int

    @property
    def stop(self) -> int:
        return self.start + self.count


class Facts(NamedTuple):
    """What filtering needs to know about one package (cheaper than the whole resource)."""

    number: int  # the package's index in the data set
    hash: int
    type: str
    state: str
    created_at: int
    updated_at: int
    labels: dict[str, str]


class DataSet:
    """Orgs, spaces, apps and ``packages`` packages of the main app (plus a few in other apps)."""

    def __init__(self, packages: int, seed: int = 0, *, other_apps: bool = True) -> None:
        if packages < 0:
            raise ValueError("packages must be >= 0")
        self.seed = seed
        self._salt = _mix(seed)
        self._key = _mix(self._salt) & _MASK48
        self.orgs = [Org(DEMO_ORG_GUID, "demo-org"), Org("3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c09", "other-org")]
        self.spaces = [
            Space(DEMO_SPACE_GUID, "dev", DEMO_ORG_GUID),
            Space("7e6d5c4b-3a29-4f18-9e07-d6c5b4a39208", "prod", DEMO_ORG_GUID),
            Space("8f9e0d1c-2b3a-4c5d-9e6f-7a8b9c0d1e10", "sandbox", "3a4b5c6d-7e8f-4a9b-8c0d-1e2f3a4b5c09"),
        ]
        others = (
            ("4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b04", "worker", DEMO_SPACE_GUID, 6),
            ("1f2e3d4c-5b6a-4798-a8b7-c6d5e4f3a205", "web", "7e6d5c4b-3a29-4f18-9e07-d6c5b4a39208", 4),
            ("6b5a4f3e-2d1c-4b0a-9f8e-7d6c5b4a3f06", "api", "8f9e0d1c-2b3a-4c5d-9e6f-7a8b9c0d1e10", 5),
            ("e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e07", "idle", DEMO_SPACE_GUID, 0),
        )
        self.apps: list[App] = []
        start = 0
        for number, (guid, name, space, count) in enumerate(others if other_apps else ()):
            self.apps.append(App(guid, name, space, start, count, EPOCH - 86_400 * (10 - number)))
            start += count
        self.main_app = App(
            DEMO_APP_GUID, DEMO_APP_NAME, DEMO_SPACE_GUID, start, packages, EPOCH - 86_400 * 30
        )
        self.apps.insert(0, self.main_app)
        self.total = start + packages
        self._apps_by_guid = {app.guid: app for app in self.apps}
        self._spaces_by_guid = {space.guid: space for space in self.spaces}

    # Lookups -------------------------------------------------------------------------

    def app(self, guid: str) -> App | None:
        return self._apps_by_guid.get(guid.lower())

    def space(self, guid: str) -> Space | None:
        return self._spaces_by_guid.get(guid.lower())

    def app_of(self, index: int) -> App:
        main = self.main_app
        if main.start <= index < main.stop:
            return main
        for app in self.apps:
            if app.start <= index < app.stop:
                return app
        raise IndexError(index)

    def index_of(self, guid: str) -> int | None:
        """The index of the package with this GUID, ``None`` if there is none."""
        try:
            low = int(guid[-12:], 16)
        except ValueError:
            return None
        index = (((low ^ self._key) * _UNSPREAD) & _MASK48) - 1
        if 0 <= index < self.total and self.package_guid(index) == guid.lower():
            return index
        return None

    def indices(self) -> Iterator[int]:
        return iter(range(self.total))

    # Packages ------------------------------------------------------------------------

    def _hash(self, index: int) -> int:
        return _mix(self._salt ^ (index * 0x2545F4914F6CDD1D & _MASK64))

    def package_guid(self, index: int, hashed: int | None = None) -> str:
        h = _mix(self._hash(index) if hashed is None else hashed)
        low = (((index + 1) * _SPREAD) & _MASK48) ^ self._key
        return (
            f"{h >> 32:08x}-{(h >> 16) & 0xFFFF:04x}-4{(h >> 4) & 0xFFF:03x}-"
            f"{0x8 | (h & 0x3):x}{(h >> 50) & 0xFFF:03x}-{low:012x}"
        )

    def facts(self, index: int) -> Facts:
        h = self._hash(index)
        created = EPOCH + index * STEP
        if h % 100 < 12:
            kind, state = "docker", "READY"
        else:
            kind, state = "bits", _STATE_BY_ROLL[(h >> 7) % 100]
        updated = created if state == "AWAITING_UPLOAD" else created + (h >> 20) % (3 * 86_400)
        return Facts(index, h, kind, state, created, updated, _LABELS[(h >> 40) % len(_LABELS)])

    def package(self, index: int, base_url: str) -> dict[str, Any]:
        """Package ``index`` as CF's V3 presenter shows it (links absolute on ``base_url``)."""
        result: dict[str, Any] = json.loads(self.packages_json([index], base_url)[0])
        return result

    def packages_json(self, indices: Iterable[int], base_url: str) -> list[str]:
        """The JSON text of packages ``indices``: rendered straight from their facts, since
        building dicts and encoding them would cost most of a 5000-package page."""
        base = json.dumps(base_url)[1:-1]
        prefix = base + "/v3/packages/"
        app_links = {app.guid: f'{{"href":"{base}/v3/apps/{app.guid}"}}' for app in self.apps}
        rendered = []
        for index in indices:
            facts = self.facts(index)
            h = facts.hash
            guid = self.package_guid(index, h)
            app = self.app_of(index)
            href = prefix + guid
            annotations = "{}"
            if facts.type == "docker":
                image = f"registry.example.org/demo/{app.name}:build-{index}"
                credentials = '"deployer","password":"***"' if (h >> 50) & 1 else 'null,"password":null'
                data = f'{{"image":"{image}","username":{credentials}}}'
                links = f'{{"self":{{"href":"{href}"}},"app":{app_links[app.guid]}}}'
            else:
                checksum = "null"
                if facts.state in ("READY", "EXPIRED", "COPYING"):
                    digest = hashlib.sha256(guid.encode()).hexdigest()
                    checksum = f'"{digest}"'
                    annotations = f'{{"commit":"{digest[:12]}"}}'
                error = _FAILED_ERROR if facts.state == "FAILED" else "null"
                data = f'{{"checksum":{{"type":"sha256","value":{checksum}}},"error":{error}}}'
                links = (
                    f'{{"self":{{"href":"{href}"}},"upload":{{"href":"{href}/upload","method":"POST"}},'
                    f'"download":{{"href":"{href}/download"}},"app":{app_links[app.guid]}}}'
                )
            rendered.append(
                f'{{"guid":"{guid}","type":"{facts.type}","data":{data},"state":"{facts.state}",'
                f'"created_at":"{timestamp(facts.created_at)}","updated_at":"{timestamp(facts.updated_at)}",'
                f'"relationships":{{"app":{{"data":{{"guid":"{app.guid}"}}}}}},"links":{links},'
                f'"metadata":{{"labels":{_LABELS_JSON[(h >> 40) % len(_LABELS)]},"annotations":{annotations}}}}}'
            )
        return rendered

    # Apps ----------------------------------------------------------------------------

    def app_resource(self, app: App, base_url: str) -> dict[str, Any]:
        space = self._spaces_by_guid[app.space_guid]
        href = f"{base_url}/v3/apps/{app.guid}"
        return {
            "guid": app.guid,
            "name": app.name,
            "state": "STARTED" if app.count else "STOPPED",
            "created_at": timestamp(app.created_at),
            "updated_at": timestamp(app.created_at + 3600),
            "lifecycle": {"type": "buildpack", "data": {"buildpacks": [], "stack": "cflinuxfs4"}},
            "relationships": {"space": {"data": {"guid": space.guid}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {
                "self": {"href": href},
                "space": {"href": f"{base_url}/v3/spaces/{space.guid}"},
                "packages": {"href": href + "/packages"},
                "droplets": {"href": href + "/droplets"},
            },
        }

    def org_of(self, app: App) -> str:
        return self._spaces_by_guid[app.space_guid].org_guid
