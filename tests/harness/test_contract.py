"""The core's contract suite against the three Harness listings, through the installed plugin."""

from __future__ import annotations

from typing import Any

from pkglist.testing.contract import ProviderContract
from pkglist_harness import HarnessEmulator


class _Harness(ProviderContract):
    provider = "harness"
    manager = None  # the installed plugins: the entry point, really loaded

    def make_emulator(self, size: int) -> HarnessEmulator:
        return HarnessEmulator(packages=size)

    def main_packages(self, emulator: Any) -> list[Any]:
        return [emulator.catalog.main(i) for i in range(emulator.catalog.size)]


class TestPackages(_Harness):
    listing = "packages"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {
            "account": "acme",
            "org": "platform",
            "project": "payments",
            "registry_id": [emulator.main_registry.uuid],
            "deleted": "include",
        }

    def expected_ids(self, emulator: Any) -> list[str]:
        return [package.uuid for package in self.main_packages(emulator)]

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"account": "no-such-account"}


class TestRegistryArtifacts(_Harness):
    listing = "registry-artifacts"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"registry_ref": emulator.main_registry.path}

    def expected_ids(self, emulator: Any) -> list[str]:
        return [package.uuid for package in self.main_packages(emulator)]

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"registry_ref": "acme/platform/payments/no-such-registry"}


class TestRegistryArtifactsWithInflatedCounts(TestRegistryArtifacts):
    """A Maven registry: ``itemCount``/``pageCount`` count versions, the list has packages."""

    def make_emulator(self, size: int) -> HarnessEmulator:
        return HarnessEmulator(packages=size, main_package_type="MAVEN")


class TestSpaceArtifacts(_Harness):
    listing = "space-artifacts"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {
            "space_ref": "acme/platform/payments",
            "registry": [emulator.main_registry.identifier],
            "latest_only": True,
        }

    def expected_ids(self, emulator: Any) -> list[str]:
        return [f"{package.uuid}@{package.versions[-1]}" for package in self.main_packages(emulator)]

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"space_ref": "acme/platform/no-such-project"}
