"""The plugin's docstring examples (the default test paths do not collect plugin sources)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["_data", "_normalize", "_provider", "__init__"])
def test_docstring_examples(module: str) -> None:
    name = "pkglist_metabind" if module == "__init__" else f"pkglist_metabind.{module}"
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0
    assert result.attempted > 0
