"""A fault in plugin code is named: the distribution and the hook, never "invalid item", and
``--skip-invalid`` does not hide it. The plugins are installed as real distributions."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.plugin_dirs import add_plugin, run_pkglist

TYPO = """
import pkglist

@pkglist.hookimpl(wrapper=True)
def pkglist_normalize(provider, listing, query, raw):
    package = yield
    return package.evolve_with(name=package.name.upper())  # no such method: a typo
"""

WRONG_RETURN = """
import pkglist

@pkglist.hookimpl(tryfirst=True)
def pkglist_paginate(provider, listing, query, request, response):
    return {"items": []}  # a dict, not a pkglist.Page
"""

CRASH = """
import pkglist

@pkglist.hookimpl(tryfirst=True)
def pkglist_list_request(provider, listing, query, base_url, page_size):
    raise RuntimeError("the wrapper's own bug")
"""

LISTING = ("harness", "packages", "--emulate", "--account", "acme", "--limit", "5")


def site_with(tmp_path: Path, dist: str, source: str) -> dict[str, str]:
    add_plugin(tmp_path, dist, dist.replace("-", "_"), source)
    return {"PYTHONPATH": str(tmp_path)}


@pytest.mark.parametrize("skip", [False, True], ids=["plain", "skip-invalid"])
def test_a_typo_in_a_wrapper_is_the_wrappers_fault(tmp_path: Path, skip: bool) -> None:
    env = site_with(tmp_path, "pkglist-typo-wrapper", TYPO)
    result = run_pkglist(*LISTING, *(["--skip-invalid"] if skip else []), env=env)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "plugin 'pkglist-typo-wrapper' failed in pkglist_normalize" in lines[0]
    assert "AttributeError" in lines[0]
    assert "invalid item" not in result.stderr
    assert "Traceback" not in result.stderr


def test_a_stage_returning_the_wrong_type_names_its_plugin(tmp_path: Path) -> None:
    env = site_with(tmp_path, "pkglist-wrong-return", WRONG_RETURN)
    result = run_pkglist(*LISTING, env=env)
    assert result.returncode == 1
    assert "pkglist_paginate returned {'items': []} instead of a Page" in result.stderr
    assert "(implemented by plugin 'pkglist-wrong-return')" in result.stderr


def test_an_exception_from_a_plugin_names_the_plugin_and_the_hook(tmp_path: Path) -> None:
    env = site_with(tmp_path, "pkglist-crashing", CRASH)
    result = run_pkglist(*LISTING, env=env)
    assert result.returncode == 1
    assert (
        "plugin 'pkglist-crashing' failed in pkglist_list_request: RuntimeError: the wrapper's own bug"
        in (result.stderr)
    )
    assert "Traceback" not in result.stderr
