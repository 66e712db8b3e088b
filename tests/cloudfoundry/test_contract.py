"""The core's contract suite for both listings (and the app-by-name lookup), through the installed plugin."""

from __future__ import annotations

from typing import Any

from pkglist.testing.contract import ProviderContract
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator

from .helpers import DEV_SPACE, MAIN_APP

UNKNOWN_APP = "0badc0de-0000-4000-8000-000000000000"


class _CloudFoundryContract(ProviderContract):
    provider = "cloudfoundry"
    manager = None

    def make_emulator(self, size: int) -> CloudFoundryEmulator:
        return CloudFoundryEmulator(packages=size, seed=7)

    def expected_ids(self, emulator: Any) -> list[str]:
        return list(emulator.package_guids(MAIN_APP))


class TestAppPackages(_CloudFoundryContract):
    listing = "app-packages"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"app": MAIN_APP}

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"app": UNKNOWN_APP}


class TestAppPackagesByName(_CloudFoundryContract):
    listing = "app-packages"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"app": "web", "space_guid": DEV_SPACE}

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"app": "no-such-app", "space_guid": DEV_SPACE}


class TestPackages(_CloudFoundryContract):
    listing = "packages"

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"app_guid": [MAIN_APP]}

    # GET /v3/packages has no scope in its path: filters naming unknown apps, spaces or
    # orgs give an empty list, never a 404, so there is no missing scope to ask for.
