"""Repository-wide pytest setup."""

from __future__ import annotations

import doctest
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _hookspec_doctest_setup(doctest_namespace: dict[str, Any]) -> None:
    """The hookspec docstrings share the toy provider their module docstring defines."""
    from pkglist import _hookspecs

    if "toy" in doctest_namespace:
        return
    for example in doctest.DocTestParser().get_examples(_hookspecs.__doc__ or ""):
        exec(compile(example.source, "<pkglist._hookspecs setup>", "exec"), doctest_namespace)
