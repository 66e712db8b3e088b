"""The core's contract suite against the Metabind emulator, in each paging generation."""

from __future__ import annotations

from typing import Any, ClassVar

from pkglist.testing.contract import ProviderContract
from pkglist_metabind import MetabindEmulator


class _MetabindContract(ProviderContract):
    provider = "metabind"
    listing = "packages"
    manager = None  # the installed plugins: the entry point, loaded for real
    paging: ClassVar[str] = "page"

    def make_emulator(self, size: int) -> MetabindEmulator:
        return MetabindEmulator(packages=size, seed=7, paging=self.paging)  # type: ignore[arg-type]

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"organization": "org123", "project": "proj123"}

    def expected_ids(self, emulator: Any) -> list[str]:
        return emulator.package_ids("org123", "proj123")  # type: ignore[no-any-return]

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"organization": "org123", "project": "no-such-project"}


class TestPagedPackages(_MetabindContract):
    """The documented generation: page/limit, pagination {page, limit, total, pages}."""


class TestCursorPackages(_MetabindContract):
    """The newer generation: limit/lastKey, pagination {lastKey}."""

    paging = "cursor"


class TestHybridPackages(_MetabindContract):
    """Both at once (the docs' envelope variant A): lastKey wins."""

    paging = "hybrid"
