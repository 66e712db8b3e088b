"""pkglist provider plugin for the Harness Artifact Registry.

Three listings: ``packages`` (``GET /har/api/v3/packages``),
``registry-artifacts`` (``GET /har/api/v1/registry/{ref}/+/artifacts``) and
``space-artifacts`` (``GET /har/api/v1/spaces/{ref}/+/artifacts``).

This module stays light: the emulator (and ``httpx``) are only imported
when used, so that ``pkglist providers`` stays fast.
"""

from __future__ import annotations

import pkglist

from ._provider import HarnessProvider

__all__ = ["HarnessProvider", "pkglist_providers"]


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [HarnessProvider()]
