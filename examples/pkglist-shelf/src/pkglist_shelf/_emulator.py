"""An emulator of the Shelf API, for tests and ``--emulate``.

One shelf of seeded packages behind the real route, parameters, envelope and
error bodies: ``GET /api/shelves/{shelf}/packages?page=&per_page=&kind=``
with ``X-Shelf-Token``, answered with ``{"packages", "page", "total_pages"}``.
"""

from __future__ import annotations

import math
import random
import urllib.parse
from collections.abc import Mapping
from typing import Any

from pkglist.testing import Request, Response

__all__ = ["DEMO_SHELF", "DEMO_TOKEN", "ShelfEmulator", "make_packages"]

DEMO_SHELF = "tools"
DEMO_TOKEN = "shelf-demo-token"
KINDS = ("wheel", "tarball", "container")
MAX_PER_PAGE = 100
_FIRST_PUBLISHED_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z
_HOUR_MS = 3_600_000
_NAMES = ["atlas", "beacon", "cobalt", "ember"]
_FLAVOURS = ["cli", "sdk", "agent"]
_LABELS = ["stable", "beta", "internal", "security"]


def make_packages(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` packages as the API sends them (newest first); the same seed gives the same ones."""
    rng = random.Random(seed)
    packages = []
    for n in range(count):
        packages.append(
            {
                "id": 1000 + n,
                "name": f"{rng.choice(_NAMES)}-{rng.choice(_FLAVOURS)}",
                "version": f"{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                "kind": KINDS[n % len(KINDS)],
                "published_at": _FIRST_PUBLISHED_MS + n * _HOUR_MS + rng.randint(0, 999),
                "labels": sorted(rng.sample(_LABELS, k=rng.randint(0, 2))),
                "yanked": rng.random() < 0.1,
            }
        )
    return packages[::-1]


def _error(status: int, code: str, message: str) -> Response:
    return Response.json({"error": code, "message": message}, status=status)


def _number(request: Request, name: str, default: int, high: int | None = None) -> int:
    text = request.param(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) < 1 or (high is not None and int(text) > high):
        upper = f" and at most {high}" if high is not None else ""
        raise ValueError(f"{name} must be an integer of at least 1{upper}")
    return int(text)


class ShelfEmulator:
    """Serves one shelf (``shelf``) holding ``packages`` packages; other shelves are 404."""

    def __init__(
        self, packages: int = 40, *, seed: int = 0, shelf: str = DEMO_SHELF, token: str = DEMO_TOKEN
    ) -> None:
        self.shelf = shelf
        self.items = make_packages(packages, seed)
        self.credentials: Mapping[str, str] = {"token": token}

    def handle(self, request: Request) -> Response:
        if request.headers.get("x-shelf-token") != self.credentials["token"]:
            return _error(401, "unauthorized", "missing or invalid X-Shelf-Token")
        parts = request.path.strip("/").split("/")
        if request.method != "GET" or len(parts) != 4 or parts[:2] != ["api", "shelves"]:
            return _error(404, "not_found", f"no route {request.method} {request.path}")
        shelf = urllib.parse.unquote(parts[2])
        if parts[3] != "packages" or shelf != self.shelf:
            return _error(404, "not_found", f"shelf {shelf!r} does not exist")
        try:
            page = _number(request, "page", 1)
            per_page = _number(request, "per_page", 20, high=MAX_PER_PAGE)
        except ValueError as exc:
            return _error(400, "bad_request", str(exc))
        kinds = request.params("kind")
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            return _error(400, "bad_request", f"unknown kind {unknown[0]!r}")
        selected = [item for item in self.items if not kinds or item["kind"] in kinds]
        start = (page - 1) * per_page
        return Response.json(
            {
                "packages": selected[start : start + per_page],
                "page": page,
                "total_pages": math.ceil(len(selected) / per_page),
            }
        )
