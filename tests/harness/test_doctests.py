"""The plugin's docstring examples (its sources are outside pytest's doctest paths)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["_data", "_normalize", "_pushdown", "_queries"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"pkglist_harness.{module}"))
    assert result.attempted > 0
    assert result.failed == 0
