"""The plugin's docstring examples (the default test paths do not collect plugin sources)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["_auth", "_provider"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"pkglist_oci.{module}"))
    assert result.failed == 0
    assert result.attempted > 0
