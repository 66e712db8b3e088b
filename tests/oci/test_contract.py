"""The core's contract suite against the OCI emulator: each listing, each way a registry authenticates."""

from __future__ import annotations

from typing import Any, ClassVar

from pkglist.testing.contract import ProviderContract
from pkglist_oci import OciEmulator


def _spread(size: int) -> dict[str, list[str]]:
    """``size`` tags over repositories of uneven sizes, one of them empty."""
    repositories: dict[str, list[str]] = {"a/empty": []}
    names = ["a/app", "b/web", "c/tools/cli", "d/db"]
    for index in range(size):
        name = names[(index * 3) % len(names)] if index % 5 else names[0]
        repositories.setdefault(name, []).append(f"v{index:03d}")
    return repositories


class _OciContract(ProviderContract[OciEmulator]):
    provider = "oci"
    manager = None  # the installed plugins: the entry point, loaded for real
    auth: ClassVar[str] = "token"

    def emulator_for(self, repositories: dict[str, list[str]]) -> OciEmulator:
        return OciEmulator(repositories, auth=self.auth)  # type: ignore[arg-type]


class TestImagesWithTokens(_OciContract):
    listing = "images"
    one_package_per_item = False  # a catalog page expands into its repositories' tags

    def make_emulator(self, size: int) -> OciEmulator:
        return self.emulator_for(_spread(size))

    def query(self, emulator: OciEmulator) -> dict[str, Any]:
        return {}

    def expected_ids(self, emulator: OciEmulator) -> list[str]:
        return emulator.image_ids()

    def missing_query(self, emulator: OciEmulator) -> dict[str, Any]:
        return {"repository": ["a/app", "no/such-repo"]}


class TestImagesWithDigestsAndBasicAuth(TestImagesWithTokens):
    auth = "basic"

    def options(self) -> dict[str, Any]:
        return {"digests": True}


class TestTagsWithTokens(_OciContract):
    listing = "tags"

    def make_emulator(self, size: int) -> OciEmulator:
        return self.emulator_for({"team/app": [f"1.{n}.0" for n in range(size)], "team/other": ["x"]})

    def query(self, emulator: OciEmulator) -> dict[str, Any]:
        return {"repository": "team/app"}

    def expected_ids(self, emulator: OciEmulator) -> list[str]:
        return [f"team/app:{tag}" for tag in emulator.tags("team/app")]

    def missing_query(self, emulator: OciEmulator) -> dict[str, Any]:
        return {"repository": "team/missing"}


class TestTagsWithDigests(TestTagsWithTokens):
    def options(self) -> dict[str, Any]:
        return {"digests": True}


class TestRepositoriesWithBasicAuth(_OciContract):
    listing = "repositories"
    auth = "basic"

    def make_emulator(self, size: int) -> OciEmulator:
        return self.emulator_for({f"r{n:03d}/app": ["1"] for n in range(size)})

    def query(self, emulator: OciEmulator) -> dict[str, Any]:
        return {}

    def expected_ids(self, emulator: OciEmulator) -> list[str]:
        return emulator.catalog()
