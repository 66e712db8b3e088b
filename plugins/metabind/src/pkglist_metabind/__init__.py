"""pkglist-metabind: list the packages published in a Metabind project.

    >>> import pkglist
    >>> for package in pkglist.iter_packages(  # doctest: +SKIP
    ...     "metabind", "packages", organization="org123", project="proj123", api_key="..."
    ... ):
    ...     print(package.version, package.created_at)

The emulator (:class:`MetabindEmulator`) is imported on first use only, so
that plugin discovery stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pkglist

from ._provider import MetabindProvider, PackagesQuery

if TYPE_CHECKING:
    from ._emulator import MetabindEmulator

__all__ = ["MetabindEmulator", "MetabindProvider", "PackagesQuery", "pkglist_providers"]


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [MetabindProvider()]


def __getattr__(name: str) -> Any:
    if name == "MetabindEmulator":
        from ._emulator import MetabindEmulator

        return MetabindEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
