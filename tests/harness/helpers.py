"""Shared helpers of the Harness tests: list over loopback HTTP, raw calls to the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

import pkglist
from pkglist.testing import EmulatorServer, serve
from pkglist_harness import HarnessEmulator

KEY = HarnessEmulator().credentials["api_key"]
ACCOUNT, ORG, PROJECT = "acme", "platform", "payments"
SPACE = f"{ACCOUNT}/{ORG}/{PROJECT}"


@contextmanager
def served(**options: Any) -> Iterator[tuple[EmulatorServer, HarnessEmulator]]:
    emulator = HarnessEmulator(**options)
    with serve(emulator) as server:
        yield server, emulator


def listing(server: EmulatorServer, name: str, **options: Any) -> list[pkglist.Package]:
    options.setdefault("api_key", KEY)
    options.setdefault("retry_backoff", 0.001)
    return list(pkglist.iter_packages("harness", name, base_url=server.url, **options))


def get(server: EmulatorServer, path: str, params: Any = None, key: str | None = KEY) -> httpx.Response:
    headers = {"x-api-key": key} if key is not None else {}
    return httpx.get(server.url + path, params=params, headers=headers)


def v3(server: EmulatorServer, **params: Any) -> httpx.Response:
    """``GET /har/api/v3/packages`` with ``account_identifier=acme`` unless given."""
    params.setdefault("account_identifier", ACCOUNT)
    return get(server, "/har/api/v3/packages", _pairs(params))


def registry(server: EmulatorServer, ref: str, **params: Any) -> httpx.Response:
    return get(server, f"/har/api/v1/registry/{ref}/+/artifacts", _pairs(params))


def spaces(server: EmulatorServer, ref: str, **params: Any) -> httpx.Response:
    return get(server, f"/har/api/v1/spaces/{ref}/+/artifacts", _pairs(params))


def _pairs(params: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in params.items():
        for one in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, str(one).lower() if isinstance(one, bool) else str(one)))
    return pairs


def names(response: httpx.Response) -> list[str]:
    body = response.json()
    items = body["items"] if "items" in body else body["data"]["artifacts"]
    return [item["name"] for item in items]
