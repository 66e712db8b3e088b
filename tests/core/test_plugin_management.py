"""Plugin management through the real CLI, with deliberately broken plugins installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.plugin_dirs import add_plugin, provider_source, run_pkglist

GOOD = provider_source("extra", "things", "Things.")

BROKEN = {
    "pkglist-broken-import": ("pkglist_broken_import", "import pkglist_does_not_exist\n"),
    "pkglist-unknown-hook": (
        "pkglist_unknown_hook",
        "import pkglist\n\n@pkglist.hookimpl\ndef pkglist_list_everything():\n    return []\n",
    ),
    "pkglist-invalid-provider": (
        "pkglist_invalid_provider",
        "import pkglist\n\n@pkglist.hookimpl\ndef pkglist_providers():\n    return ['not a provider']\n",
    ),
    "pkglist-zz-duplicate": (
        "pkglist_zz_duplicate",
        provider_source("harness", "things", "Things."),
    ),
}

REASONS = {
    "pkglist-broken-import": "import failed: ModuleNotFoundError: No module named 'pkglist_does_not_exist'",
    "pkglist-unknown-hook": "implements unknown hook 'pkglist_list_everything'",
    "pkglist-invalid-provider": "yields 'not a provider', which is not a pkglist.Provider",
    "pkglist-zz-duplicate": "provider 'harness' is already provided by 'pkglist-harness'",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("site")
    add_plugin(root, "pkglist-good-extra", "pkglist_good_extra", GOOD)
    for dist, (module, source) in BROKEN.items():
        add_plugin(root, dist, module, source)
    return root


def env(site: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(site), **extra}


def plugins_json(site: Path, **extra: str) -> dict[str, dict[str, object]]:
    result = run_pkglist("plugins", "--json", env=env(site, **extra))
    assert result.returncode == 0, result.stderr
    return {record["name"]: record for record in json.loads(result.stdout)}


def test_plugins_lists_every_distribution_with_status_and_reason(site: Path) -> None:
    records = plugins_json(site)
    for dist, reason in REASONS.items():
        assert records[dist]["status"] == "failed"
        assert records[dist]["reason"] == reason
    good = records["pkglist-good-extra"]
    assert good["status"] == "active"
    assert good["providers"] == ["extra"]
    assert good["hooks"] == ["pkglist_providers"]
    assert good["version"] == "1.0"
    assert good["entry_point"] == "pkglist-good-extra = pkglist_good_extra"
    for bundled in ("pkglist-harness", "pkglist-cloudfoundry", "pkglist-metabind", "pkglist-oci"):
        assert records[bundled]["status"] == "active"


def test_each_broken_plugin_is_reported_once_and_the_others_keep_working(site: Path) -> None:
    result = run_pkglist(
        "harness", "packages", "--emulate", "--account", "acme", "-o", "jsonl", "--limit", "3", env=env(site)
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    warnings = result.stderr.splitlines()
    for dist, reason in REASONS.items():
        assert warnings.count(f"pkglist: warning: plugin {dist!r} skipped: {reason}") == 1
    assert len(warnings) == len(REASONS)
    table = run_pkglist("plugins", env=env(site))
    assert "failed (import failed: ModuleNotFoundError" in table.stdout


def test_load_plugins_selects_distributions_before_import(site: Path) -> None:
    records = plugins_json(site, PKGLIST_LOAD_PLUGINS="pkglist-harness, pkglist_good_extra")
    assert records["pkglist-harness"]["status"] == "active"
    assert records["pkglist-good-extra"]["status"] == "active"
    assert {records[dist]["status"] for dist in REASONS} == {"disabled"}
    assert records["pkglist-metabind"]["status"] == "disabled"
    result = run_pkglist("providers", env=env(site, PKGLIST_LOAD_PLUGINS="pkglist-harness"))
    assert result.stderr == ""
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["harness"]


def test_an_empty_load_list_means_no_plugins(site: Path) -> None:
    result = run_pkglist("providers", env=env(site, PKGLIST_LOAD_PLUGINS=""))
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no providers installed" in result.stderr


def test_disable_plugins_blocks_before_import(site: Path) -> None:
    result = run_pkglist(
        "plugins", "--json", env=env(site, PKGLIST_DISABLE_PLUGINS="pkglist-broken-import,pkglist-metabind")
    )
    records = {record["name"]: record for record in json.loads(result.stdout)}
    assert records["pkglist-broken-import"]["status"] == "disabled"
    assert records["pkglist-metabind"]["status"] == "disabled"
    assert "pkglist-broken-import" not in result.stderr


def test_no_plugins_runs_with_the_built_ins_only(site: Path) -> None:
    providers = run_pkglist("--no-plugins", "providers", env=env(site))
    assert providers.returncode == 0
    assert providers.stdout == ""
    assert "skipped" not in providers.stderr
    listing = run_pkglist("--no-plugins", "harness", "packages", env=env(site))
    assert listing.returncode == 2
    assert listing.stderr.startswith("pkglist: error: unknown provider 'harness'")


def test_trace_hooks_prints_each_call_with_its_implementations(site: Path) -> None:
    result = run_pkglist(
        "harness",
        "packages",
        "--emulate",
        "--account",
        "acme",
        "-o",
        "jsonl",
        "--limit",
        "2",
        env={"PKGLIST_TRACE_HOOKS": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("pkglist: hook pkglist_list_request(provider=harness, listing=packages")
        for line in lines
    )
    assert any(line.startswith("pkglist: hook pkglist_paginate(") for line in lines)
    assert sum(line.startswith("pkglist: hook pkglist_normalize(") for line in lines) >= 2
    assert "-> [pkglist.default]" in result.stderr
    assert any(line.startswith("pkglist: hook pkglist_normalize = Package(") for line in lines)
