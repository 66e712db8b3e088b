"""Start-up is lazy: the CLI imports a plugin only when its provider is used, and httpx only
when a listing runs. Checked on the real console script's code in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.plugin_dirs import add_plugin, provider_source, run_pkglist

PLUGINS = {"pkglist_harness", "pkglist_cloudfoundry", "pkglist_metabind"}
#: What a listing needs and help does not.
HEAVY = {"httpx", "asyncio", "pluggy", "attrs", "cattrs", "pkglist._engine", "pkglist._api"}

# Runs the CLI as the console script does, then writes the names of the imported modules.
_PROBE = """
import sys
from pkglist.cli import main
status = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write("\\n".join(sorted(sys.modules)))
sys.exit(status)
"""

EXTRA = provider_source("gadgets", "all", "Every gadget.")


def imported_by(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """The modules a CLI run imported, and its stdout."""
    listing = tmp_path / "modules.txt"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(listing), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return set(listing.read_text().split()), result.stdout


def test_help_imports_no_plugin_and_nothing_a_listing_needs(tmp_path: Path) -> None:
    modules, out = imported_by(tmp_path, "--help")
    assert not modules & (PLUGINS | HEAVY)
    assert "pkglist._plugins" not in modules
    assert "Providers:\n  cloudfoundry, harness, metabind, oci\n" in out


def test_a_provider_s_help_imports_its_plugin_alone(tmp_path: Path) -> None:
    modules, out = imported_by(tmp_path, "harness", "packages", "--help")
    assert "--account" in out
    assert "pkglist_harness" in modules
    assert not modules & (PLUGINS - {"pkglist_harness"})
    assert not modules & {"httpx", "asyncio", "pkglist._engine", "pkglist._api"}
    modules, out = imported_by(tmp_path, "cloudfoundry", "--help")
    assert "app-packages" in out
    assert modules & PLUGINS == {"pkglist_cloudfoundry"}


def test_providers_loads_every_plugin(tmp_path: Path) -> None:
    modules, out = imported_by(tmp_path, "providers")
    assert modules >= PLUGINS
    assert not modules & {"httpx", "asyncio", "pkglist._engine"}
    assert out.split()[:4] == ["PROVIDER", "LISTINGS", "PLUGIN", "VERSION"]


def test_the_selection_variables_and_no_plugins_shape_the_help(tmp_path: Path) -> None:
    _, out = imported_by(tmp_path, "--help", env={"PKGLIST_DISABLE_PLUGINS": "pkglist-harness"})
    assert "Providers:\n  cloudfoundry, metabind, oci\n" in out
    _, out = imported_by(tmp_path, "--help", env={"PKGLIST_LOAD_PLUGINS": "pkglist_metabind"})
    assert "Providers:\n  metabind\n" in out
    _, out = imported_by(tmp_path, "--no-plugins", "--help")
    assert "Providers:\n  none installed" in out
    blocked = run_pkglist("harness", "packages", "--help", env={"PKGLIST_DISABLE_PLUGINS": "pkglist-harness"})
    assert blocked.returncode == 2
    assert (
        blocked.stderr
        == "pkglist: error: unknown provider 'harness' (available: cloudfoundry, metabind, oci)\n"
    )


def test_a_broken_plugin_does_not_touch_another_provider_s_help_and_providers_reports_it(
    tmp_path: Path,
) -> None:
    add_plugin(tmp_path, "pkglist-broken", "pkglist_broken", "import pkglist_does_not_exist\n")
    env = {"PYTHONPATH": str(tmp_path)}
    help_text = run_pkglist("harness", "packages", "--help", env=env)
    assert help_text.returncode == 0
    assert help_text.stderr == ""
    providers = run_pkglist("providers", env=env)
    assert providers.returncode == 0
    assert "pkglist: warning: plugin 'pkglist-broken' skipped: import failed" in providers.stderr
    plugins = run_pkglist("plugins", env=env)
    assert "failed (import failed: ModuleNotFoundError" in plugins.stdout


def test_a_provider_named_unlike_its_entry_point_is_found_by_loading_them_all(tmp_path: Path) -> None:
    add_plugin(tmp_path, "pkglist-more-gadgets", "pkglist_more_gadgets", EXTRA)
    env = {"PYTHONPATH": str(tmp_path)}
    result = run_pkglist("gadgets", "all", "--help", env=env)
    assert result.returncode == 0, result.stderr
    assert "Every gadget." in result.stdout


def test_a_listing_imports_the_engine_when_it_runs(tmp_path: Path) -> None:
    modules, out = imported_by(
        tmp_path, "harness", "packages", "--emulate", "--account", "acme", "-o", "jsonl"
    )
    assert out.count("\n") > 1
    assert {"httpx", "pkglist._engine", "pkglist_harness"} <= modules


def complete(*words: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Ask the console script for bash completions of ``words`` (the last one incomplete)."""
    return run_pkglist(
        env={
            "_PKGLIST_COMPLETE": "bash_complete",
            "COMP_WORDS": " ".join(["pkglist", *words]),
            "COMP_CWORD": str(len(words)),
            **(env or {}),
        }
    )


def test_completion_after_an_unknown_provider_offers_nothing_and_says_nothing() -> None:
    for incomplete in ("", "--"):
        result = complete("tyo", incomplete)
        assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", "")


def test_completion_of_providers_listings_emulate_and_ca_bundle() -> None:
    assert complete("har").stdout.splitlines() == ["plain,harness"]
    assert complete("harness", "reg").stdout.splitlines() == ["plain,registry-artifacts"]
    assert complete("emulate", "").stdout.splitlines() == [
        "plain,cloudfoundry",
        "plain,harness",
        "plain,metabind",
        "plain,oci",
    ]
    assert complete("emulate", "me").stdout.splitlines() == ["plain,metabind"]
    assert complete("harness", "packages", "--ca-bundle", "/etc/ss").stdout.splitlines() == ["file,/etc/ss"]


@pytest.mark.parametrize("args", [["--help"], ["providers"], ["harness", "packages", "--help"]])
def test_the_console_script_and_python_m_agree(args: list[str]) -> None:
    script = run_pkglist(*args)
    module = subprocess.run(
        [sys.executable, "-m", "pkglist", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert script.returncode == module.returncode == 0
    assert script.stdout == module.stdout


ATEXIT_PLUGIN = """
import atexit, os

@atexit.register
def _note_the_end():
    with open(os.environ["PKGLIST_TEST_ATEXIT"], "w") as out:
        out.write("ran")
"""


def test_a_listing_ends_without_teardown_but_with_its_output_whole_and_atexit_handlers_run(
    tmp_path: Path,
) -> None:
    add_plugin(tmp_path, "pkglist-atexit", "pkglist_atexit", ATEXIT_PLUGIN)
    marker = tmp_path / "atexit.txt"
    env = {"PYTHONPATH": str(tmp_path), "PKGLIST_TEST_ATEXIT": str(marker)}
    result = run_pkglist("harness", "packages", "--emulate", "--account", "acme", "-o", "jsonl", env=env)
    assert result.returncode == 0, result.stderr
    listed = run_pkglist(
        "harness", "packages", "--emulate", "--account", "acme", "-o", "csv", "--fields", "id"
    )
    assert len(result.stdout.splitlines()) == len(listed.stdout.splitlines()) - 1 > 10
    assert result.stdout.endswith("}\n")
    assert marker.read_text() == "ran"
    failed = run_pkglist("harness", "packages", "--emulate", "--account", "nobody", env=env)
    assert failed.returncode == 1
    assert failed.stderr.startswith("pkglist: error: harness packages: HTTP 404")
