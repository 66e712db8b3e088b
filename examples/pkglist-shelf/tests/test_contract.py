"""pkglist's contract suite, run against the installed Shelf provider and its emulator."""

from __future__ import annotations

from typing import Any

from pkglist.testing.contract import ProviderContract

from pkglist_shelf import ShelfEmulator


class TestShelfPackages(ProviderContract[ShelfEmulator]):
    provider = "shelf"
    listing = "packages"

    def make_emulator(self, size: int) -> ShelfEmulator:
        return ShelfEmulator(packages=size)

    def query(self, emulator: ShelfEmulator) -> dict[str, Any]:
        return {"shelf": emulator.shelf}

    def expected_ids(self, emulator: ShelfEmulator) -> list[str]:
        return [str(item["id"]) for item in emulator.items]

    def missing_query(self, emulator: ShelfEmulator) -> dict[str, Any]:
        return {"shelf": "attic"}


class TestShelfWheels(TestShelfPackages):
    """The same contract through a filter: of 3 x size packages, the size wheels."""

    def make_emulator(self, size: int) -> ShelfEmulator:
        return ShelfEmulator(packages=3 * size)  # the kinds take turns: wheel, tarball, container

    def query(self, emulator: ShelfEmulator) -> dict[str, Any]:
        return {"shelf": emulator.shelf, "kind": ["wheel"]}

    def expected_ids(self, emulator: ShelfEmulator) -> list[str]:
        return [str(item["id"]) for item in emulator.items if item["kind"] == "wheel"]
