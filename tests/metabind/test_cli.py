"""The real ``pkglist`` command for the Metabind listing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pkglist.cli import main
from pkglist.testing import serve
from pkglist_metabind import MetabindEmulator
from tests.reliability.cli import METABIND_KEY, run


def _pkglist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("pkglist")
    assert executable, "the pkglist console script is not installed"
    return subprocess.run(
        [executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_emulated_listing_as_jsonl() -> None:
    done = _pkglist(
        "metabind",
        "packages",
        "--organization",
        "org123",
        "--project",
        "proj123",
        "--emulate",
        "-o",
        "jsonl",
        "--limit",
        "5",
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    demo = MetabindEmulator()  # what --emulate serves: the demo data set, seed 0
    assert [row["id"] for row in rows] == demo.package_ids()[:5]
    newest = demo.packages()[0]
    first = rows[0]
    assert (first["provider"], first["listing"]) == ("metabind", "packages")
    assert (first["name"], first["version"], first["scope"]) == (
        "proj123",
        newest["version"],
        "org123/proj123",
    )
    assert first["created_at"] == newest["createdAt"]
    assert first["extra"]["component_count"] == len(newest["components"])
    assert [c["id"] for c in first["extra"]["components"]] == [c["id"] for c in newest["components"]]
    assert done.stderr == ""


def test_listing_a_served_emulator_with_environment_settings() -> None:
    emulator = MetabindEmulator(packages=12)
    with serve(emulator) as server:
        done = _pkglist(
            "metabind",
            "packages",
            "-o",
            "csv",
            "--fields",
            "id,version,extra.asset_count",
            "--page-size",
            "5",
            env={
                "METABIND_API_KEY": emulator.credentials["api_key"],
                "METABIND_API_URL": server.url,
                "METABIND_ORGANIZATION": "org123",
                "METABIND_PROJECT": "proj123",
            },
        )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "id,version,extra.asset_count"
    items = emulator.packages()
    assert lines[1:] == [f"{item['id']},{item['version']},{len(item['assets'])}" for item in items]


@pytest.mark.parametrize(
    ("organization", "project", "extra", "message"),
    [
        ("org/123", "proj123", [], "invalid value 'org/123' for --organization: must not contain '/'"),
        ("org123", "..", [], "invalid value '..' for --project: must not contain '..'"),
        (
            "org123",
            "proj123",
            ["--page-size", "101"],
            "--page-size must be at most 100 for this listing, got 101",
        ),
        ("org123", "proj123", ["--page-size", "0"], "--page-size must be at least 1, got 0"),
    ],
)
def test_bad_option_values_exit_2_with_one_line(
    organization: str, project: str, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["metabind", "packages", "--organization", organization, "--project", project, *extra, "--emulate"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("pkglist: error: metabind packages: ")
    assert message in captured.err


def test_missing_project_exits_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("METABIND_PROJECT", raising=False)
    assert main(["metabind", "packages", "--organization", "org123", "--emulate"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "pkglist: error: metabind packages: missing required option --project (or set METABIND_PROJECT)\n"
    )


def test_provider_error_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    emulator = MetabindEmulator(packages=3)
    with serve(emulator) as server:
        code = main(
            [
                "metabind",
                "packages",
                "--organization",
                "org123",
                "--project",
                "gone",
                "--base-url",
                server.url,
                "--api-key",
                emulator.credentials["api_key"],
                "-o",
                "jsonl",
            ]
        )
    assert code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "pkglist: error: metabind packages: HTTP 404 Not Found: NOT_FOUND: Project not found "
        "(resourceType: project, resourceId: gone) (page 1)\n"
    )


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["metabind", "packages", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in (
        "--organization ORG_ID",
        "--project PROJECT_ID",
        "--api-key",
        "METABIND_API_KEY",
        "https://api.metabind.ai",
        "METABIND_API_URL",
    ):
        assert flag in out


def test_plugin_import_stays_light() -> None:
    """Plugin discovery imports the package: no HTTP client, event loop or emulator yet."""
    import sys

    code = (
        "import sys, pkglist_metabind\n"
        "print(sorted(m for m in ('httpx', 'asyncio', 'pkglist_metabind._emulator') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"


def test_help_tells_page_size_from_limit(tmp_path: Path) -> None:
    """Metabind's own ``limit`` parameter is ``--page-size``; ``--limit`` is pkglist's."""
    result = run("metabind", "packages", "--help", home=tmp_path)
    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "--page-size is Metabind's own `limit` parameter (packages per page, at most 100)" in text
    assert "--limit stops the listing after N packages" in text


@pytest.mark.parametrize(("options", "sent"), [((), "10"), (("--page-size", "7"), "7")])
def test_limit_stops_the_listing_and_page_size_is_the_api_limit(
    tmp_path: Path, options: tuple[str, ...], sent: str
) -> None:
    emulator = MetabindEmulator(packages=40, api_key=METABIND_KEY)
    with serve(emulator) as server:
        result = run(
            "metabind", "packages", "--organization", "org123", "--project", "proj123",
            "--base-url", server.url, "--api-key", METABIND_KEY, "--limit", "10", *options,
            "-o", "jsonl", home=tmp_path,
        )  # fmt: skip
    assert result.code == 0, result.err
    assert len(result.out.splitlines()) == 10
    asked = [request.query["limit"] for request in server.requests if request.path.endswith("/packages")]
    assert asked
    assert {value for values in asked for value in values} == {sent}
