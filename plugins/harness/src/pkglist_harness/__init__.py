"""pkglist provider plugin for the Harness Artifact Registry.

Three listings: ``packages`` (``GET /har/api/v3/packages``),
``registry-artifacts`` (``GET /har/api/v1/registry/{ref}/+/artifacts``) and
``space-artifacts`` (``GET /har/api/v1/spaces/{ref}/+/artifacts``).

This module stays light: the emulator (and ``httpx``) are only imported
when used, so that ``pkglist providers`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pkglist

from ._provider import HarnessProvider

if TYPE_CHECKING:
    from ._emulator import HarnessEmulator

__all__ = ["HarnessEmulator", "HarnessProvider", "pkglist_providers"]


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [HarnessProvider()]


def __getattr__(name: str) -> Any:
    if name == "HarnessEmulator":
        from ._emulator import HarnessEmulator

        return HarnessEmulator
    raise AttributeError(f"module 'pkglist_harness' has no attribute {name!r}")
