"""pkglist-oci: repositories, tags and images in any OCI Distribution registry.

    >>> import pkglist
    >>> for package in pkglist.iter_packages(  # doctest: +SKIP
    ...     "oci", "images", registry="localhost:5000", plain_http=True
    ... ):
    ...     print(package.url)

The emulator (:class:`OciEmulator`) is imported on first use only, so that
plugin discovery stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pkglist

from ._provider import ImagesQuery, OciProvider, RepositoriesQuery, TagsQuery

if TYPE_CHECKING:
    from ._emulator import OciEmulator

__all__ = ["ImagesQuery", "OciEmulator", "OciProvider", "RepositoriesQuery", "TagsQuery", "pkglist_providers"]


@pkglist.hookimpl
def pkglist_providers() -> list[pkglist.Provider]:
    return [OciProvider()]


def __getattr__(name: str) -> Any:
    if name == "OciEmulator":
        from ._emulator import OciEmulator

        return OciEmulator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
