"""The emulator's data: Metabind packages generated from (seed, scope, index).

Nothing is stored per package, so a project can hold a million of them. Index
0 is a project's oldest package; the listing is newest first, so position
``p`` of a listing over ``count`` packages is index ``count - 1 - p``.
Versions grow with the index and map back to it (:func:`index_of_version`),
which is what the cursor variant's ``lastKey`` (the last item's version, as
in the docs: ``{"version":"1.0.0"}`` base64-encoded) needs.
"""

from __future__ import annotations

import re
import time
import zlib
from datetime import UTC, datetime
from typing import Any

import attrs

__all__ = ["ProjectData", "index_of_version", "version_of"]

_PATCHES = 20
_MINORS = 20
_PER_MAJOR = _PATCHES * _MINORS
_VERSION = re.compile(r"(0|[1-9]\d{0,8})\.(0|[1-9]\d?)\.(0|[1-9]\d?)")

#: The first package of every project was published then; each later one a few minutes after.
_EPOCH = int(datetime(2023, 1, 2, 9, 0, tzinfo=UTC).timestamp())
_STEP_SECONDS = 180
_MASK64 = (1 << 64) - 1

# (name, type) of the components a project's packages bundle; ids comp123, comp124, ... as in the docs.
_COMPONENTS = (
    ("ProductCard", "view"),
    ("ArticleLayout", "layout"),
    ("Header", "view"),
    ("Button", "view"),
    ("Card", "view"),
    ("HeroBanner", "view"),
    ("PageLayout", "layout"),
    ("ImageGallery", "view"),
    ("Footer", "layout"),
    ("Badge", "view"),
)
_ASSETS = (
    ("hero-image.jpg", "image/jpeg"),
    ("logo-2x.png", "image/png"),
    ("default-icon.svg", "image/svg+xml"),
    ("hero-background.jpg", "image/jpeg"),
    ("product-shot.webp", "image/webp"),
)
_AUTHORS = ("jane.doe@metabind.ai", "john.smith@metabind.ai", "user123", "ci@metabind.ai")
_DESCRIPTIONS = (
    "Bug fixes and improvements",
    "Major update with new components",
    "New layout components",
    "Performance improvements",
    "Accessibility fixes",
    "Design refresh",
)
_TAGS = ("ui", "core", "layout", "marketing", "beta", "ios", "android", "web")


def version_of(index: int) -> str:
    """The semver of a project's ``index``-th package (0 -> ``1.0.0``, 1 -> ``1.0.1``...).

    >>> version_of(0), version_of(21), version_of(400)
    ('1.0.0', '1.1.1', '2.0.0')
    """
    return f"{1 + index // _PER_MAJOR}.{index // _PATCHES % _MINORS}.{index % _PATCHES}"


def index_of_version(version: str) -> int | None:
    """The inverse of :func:`version_of`; ``None`` for a version it never produces.

    >>> index_of_version("1.1.1"), index_of_version("1.25.0"), index_of_version("v1")
    (21, None, None)
    """
    match = _VERSION.fullmatch(version)
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    if major < 1 or minor >= _MINORS or patch >= _PATCHES:
        return None
    return (major - 1) * _PER_MAJOR + minor * _PATCHES + patch


def _timestamp(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


@attrs.frozen
class ProjectData:
    """The packages of one project, generated on demand.

    ``dependency`` is ``(project id, package count)`` of the project this one's
    packages may depend on.
    """

    organization: str
    project: str
    seed: int = 0
    dependency: tuple[str, int] | None = None
    key: int = attrs.field(init=False)

    @key.default
    def _key(self) -> int:
        return zlib.crc32(f"{self.seed}/{self.organization}/{self.project}".encode())

    def package_id(self, index: int) -> str:
        """A stable id that looks like the docs' (``pkg`` + 8 hex digits), unique per project."""
        mixed = (index * 0x9E3779B1 + self.key) & 0xFFFFFFFF  # a bijection of 32-bit indexes
        mixed ^= mixed >> 15
        return f"pkg{mixed:08x}"

    def ids(self, count: int) -> list[str]:
        """The ids of a project holding ``count`` packages, in listing order (newest first)."""
        return [self.package_id(index) for index in range(count - 1, -1, -1)]

    def package(self, index: int) -> dict[str, Any]:
        """The API's JSON object for the ``index``-th package (key order as in the docs)."""
        bits = _mix(self.key, index)  # one 64-bit draw, sliced: cheaper than a seeded random.Random
        created = _timestamp(_EPOCH + index * _STEP_SECONDS + (bits >> 40) % (_STEP_SECONDS // 2))
        count, start, step = 1 + bits % 4, (bits >> 2) % len(_COMPONENTS), 1 + (bits >> 6) % 3
        picked = sorted({(start + step * n) % len(_COMPONENTS) for n in range(count)})
        components = [
            {
                "id": f"comp{123 + slot}",
                "name": _COMPONENTS[slot][0],
                "type": _COMPONENTS[slot][1],
                "version": 1 + (index + 3 * slot) // 7,
            }
            for slot in picked
        ]
        assets = []
        for n in range((bits >> 10) % 4):
            slot = ((bits >> 12) + n) % len(_ASSETS)
            name, media_type = _ASSETS[slot]
            asset_id = f"asset{123 + slot}"
            assets.append(
                {
                    "id": asset_id,
                    "name": name,
                    "type": media_type,
                    "url": f"https://cdn.metabind.ai/{self.organization}/{self.project}/assets/{asset_id}/{name}",
                }
            )
        dependencies = []
        if self.dependency is not None and self.dependency[1] > 0 and (bits >> 16) % 5 < 2:
            project, count = self.dependency
            dependencies.append({"projectId": project, "version": version_of((bits >> 20) % count)})
        metadata: dict[str, Any] = {
            "author": _AUTHORS[(bits >> 24) % len(_AUTHORS)],
            "description": "Initial release"
            if index == 0
            else _DESCRIPTIONS[(bits >> 28) % len(_DESCRIPTIONS)],
        }
        tags = [_TAGS[((bits >> 34) + n) % len(_TAGS)] for n in range((bits >> 32) % 4)]
        if tags:
            metadata["tags"] = tags
        return {
            "id": self.package_id(index),
            "projectId": self.project,
            "version": version_of(index),
            "components": components,
            "assets": assets,
            "dependencies": dependencies,
            "metadata": metadata,
            "createdAt": created,
            "updatedAt": created,
        }


def _mix(key: int, index: int) -> int:
    """splitmix64 of (key, index): well-spread bits from two small integers."""
    value = (((key << 32) ^ index) + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)
