"""pkglist provider plugin for Cloud Foundry V3: ``app-packages`` and ``packages``.

Importing this module is cheap (no httpx, no emulator): ``pkglist providers``
loads it through the ``pkglist`` entry point.
"""

from __future__ import annotations

import pkglist

from ._provider import CloudFoundryProvider

__all__ = ["CloudFoundryProvider", "pkglist_providers"]


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [CloudFoundryProvider()]
