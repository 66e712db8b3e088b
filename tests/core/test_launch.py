"""The console script answers --help and providers from a cache that never goes stale."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support.plugin_dirs import add_plugin, run_pkglist

PLUGIN_V1 = """
import attrs
import pkglist

@attrs.frozen(kw_only=True)
class Query(pkglist.Query):
    pass

class Fake(pkglist.Provider):
    name = "fake"
    listings = (pkglist.Listing(name="things", query=Query, help="Things.", max_page_size=10,
                                paging=pkglist.PageNumber(items="items")),)

@pkglist.hookimpl
def pkglist_providers():
    return [Fake()]
"""


@pytest.fixture
def cache_env(tmp_path: Path) -> dict[str, str]:
    return {"PKGLIST_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "100"}


def test_help_and_providers_are_served_from_the_cache_exactly_as_the_full_cli_prints_them(
    cache_env: dict[str, str],
) -> None:
    full_help = run_pkglist("--help", env={**cache_env, "PKGLIST_NO_CACHE": "1"})
    full_providers = run_pkglist("providers", env={**cache_env, "PKGLIST_NO_CACHE": "1"})
    assert not Path(cache_env["PKGLIST_CACHE_DIR"]).exists()
    first = run_pkglist("--help", env=cache_env)  # the full CLI runs and fills the cache
    assert list(Path(cache_env["PKGLIST_CACHE_DIR"]).iterdir())
    cached_help = run_pkglist("--help", env=cache_env)
    cached_providers = run_pkglist("providers", env=cache_env)
    assert full_help.returncode == first.returncode == cached_help.returncode == 0
    assert cached_help.stdout == first.stdout == full_help.stdout
    assert cached_providers.stdout == full_providers.stdout
    assert "Usage: pkglist [OPTIONS] COMMAND [ARGS]..." in cached_help.stdout


def test_a_new_or_changed_plugin_invalidates_the_cache(tmp_path: Path, cache_env: dict[str, str]) -> None:
    plugins = tmp_path / "site"
    env = {**cache_env, "PYTHONPATH": str(plugins)}
    plugins.mkdir()
    before = run_pkglist("providers", env=env)
    assert "fake" not in before.stdout
    add_plugin(plugins, "pkglist-fake", "pkglist_fake", PLUGIN_V1)
    time.sleep(0.01)
    installed = run_pkglist("providers", env=env)
    assert "fake" in installed.stdout
    assert "things" in installed.stdout
    assert run_pkglist("providers", env=env).stdout == installed.stdout  # now from the cache
    source = plugins / "pkglist_fake.py"
    source.write_text(source.read_text().replace('name="things"', 'name="gadgets"'))
    os.utime(source, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    changed = run_pkglist("providers", env=env)
    assert "gadgets" in changed.stdout
    assert "things" not in changed.stdout
