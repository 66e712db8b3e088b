"""The stock contract suite against the forge provider, mutated as ``FORGE_MUTANT`` says
(run by tests/core/test_mutations.py in a process of its own)."""

from __future__ import annotations

import os
from typing import Any

import pkglist
from pkglist.testing.contract import ProviderContract

from .forge import ForgeEmulator, forge_provider


class _Plugin:
    @pkglist.hookimpl
    def pkglist_providers(self) -> list[pkglist.Provider]:
        return [forge_provider(os.environ.get("FORGE_MUTANT") or None)]


class TestForgePackages(ProviderContract[ForgeEmulator]):
    provider = "forge"
    listing = "packages"
    manager = pkglist.PluginManager.for_testing(_Plugin())

    def make_emulator(self, size: int) -> ForgeEmulator:
        return ForgeEmulator(size)

    def query(self, emulator: ForgeEmulator) -> dict[str, Any]:
        return {"project": "7"}

    def expected_ids(self, emulator: ForgeEmulator) -> list[str]:
        return [package["id"] for package in emulator.projects["7"]]

    def missing_query(self, emulator: ForgeEmulator) -> dict[str, Any]:
        return {"project": "404"}
