"""The core's contract suite, run against the toy provider in each paging style."""

from __future__ import annotations

from typing import Any

from pkglist.testing.contract import ProviderContract

from .toy import ToyEmulator, manager


class _ToyContract(ProviderContract):
    provider = "toy"
    manager = manager()

    def make_emulator(self, size: int) -> ToyEmulator:
        return ToyEmulator(packages=size)

    def query(self, emulator: Any) -> dict[str, Any]:
        return {"team": "core"}

    def expected_ids(self, emulator: Any) -> list[str]:
        return [item["id"] for item in emulator.items]

    def missing_query(self, emulator: Any) -> dict[str, Any]:
        return {"team": "nobody"}


class TestNumbered(_ToyContract):
    listing = "numbered"


class TestHasMore(_ToyContract):
    listing = "hasmore"


class TestLinked(_ToyContract):
    listing = "linked"


class TestCursor(_ToyContract):
    listing = "cursor"
