"""Shared by the Metabind tests: the docs' payloads and small listing helpers."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pkglist
from pkglist.testing import EmulatorServer, Request, Response

SPECS = Path(__file__).parent / "specs"
ORG = "org123"
PROJECT = "proj123"
ROUTE = f"/v1/organizations/{ORG}/projects/{PROJECT}/packages"


def spec_json(name: str) -> Any:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


def list_packages(server: EmulatorServer, emulator: Any, **options: Any) -> list[pkglist.Package]:
    """List the demo project from ``server`` with the emulator's key and fast retries."""
    values: dict[str, Any] = {
        "organization": ORG,
        "project": PROJECT,
        "base_url": server.url,
        "retry_backoff": 0.001,
        **emulator.credentials,
        **options,
    }
    return list(pkglist.iter_packages("metabind", "packages", **values))


class Canned:
    """Answers the listing route with fixed bodies, one per request (the last one repeats),
    and records the requests; stands in for the real service with the docs' own payloads."""

    def __init__(self, bodies: Sequence[bytes], status: int = 200) -> None:
        self.credentials: Mapping[str, str] = {"api_key": "docs-key"}
        self.bodies = list(bodies)
        self.status = status
        self.seen: list[Request] = []
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.seen.append(request)
            body = self.bodies[min(len(self.seen), len(self.bodies)) - 1]
        if request.headers.get("authorization") != "Bearer docs-key":
            return Response.json({"error": {"code": "UNAUTHORIZED", "message": "Invalid API key"}}, 401)
        if request.path != ROUTE:
            return Response.json({"error": {"code": "NOT_FOUND", "message": "Route not found"}}, 404)
        return Response.raw(body, status=self.status)
