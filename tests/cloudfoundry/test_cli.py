"""Both listings through the real CLI: jsonl output, --emulate, --raw without the docker password, usage errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pkglist.cli import main
from pkglist.testing import serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator

from .helpers import DEV_SPACE, MAIN_APP, clean_env


@pytest.fixture(autouse=True)
def _no_cf_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env(monkeypatch, tmp_path)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_app_packages_jsonl_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    emulator = CloudFoundryEmulator(packages=9)
    with serve(emulator) as server:
        code, out, err = run(
            capsys,
            "cloudfoundry",
            "app-packages",
            "--app",
            "web",
            "--space-guid",
            DEV_SPACE,
            "--base-url",
            server.url,
            "--token",
            ACCESS_TOKEN,
            "--page-size",
            "4",
            "-o",
            "jsonl",
        )
    assert (code, err) == (0, "")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in rows] == emulator.package_guids(MAIN_APP)
    assert {row["name"] for row in rows} == {"web"}
    assert {row["scope"] for row in rows} == {MAIN_APP}
    assert {row["listing"] for row in rows} == {"app-packages"}


def test_packages_emulated_raw_never_shows_the_docker_password(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "cloudfoundry", "packages", "--emulate", "--type", "docker", "--raw", "-o", "jsonl"
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    assert {row["package_type"] for row in rows} == {"docker"}
    with_credentials = [row for row in rows if row["raw"]["data"]["username"]]
    assert with_credentials, "no docker package with credentials; the test proves nothing"
    assert "password" not in out
    assert "***" not in out
    assert all(row["url"] == row["raw"]["data"]["image"] for row in rows)


def test_table_output_and_emulated_app_packages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "cloudfoundry",
        "app-packages",
        "--emulate",
        "--app",
        MAIN_APP,
        "--state",
        "FAILED",
        "--limit",
        "3",
    )
    assert code == 0, err
    lines = out.splitlines()
    # Cloud Foundry's own default columns: the package guid tells the rows apart.
    assert lines[0].split() == ["ID", "PACKAGE_TYPE", "STATE", "CREATED_AT"]
    assert len(lines) == 4
    assert all("FAILED" in line for line in lines[1:])
    guids = [line.split()[0] for line in lines[1:]]
    assert len(set(guids)) == 3


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["app-packages", "--app", MAIN_APP, "--state", "DONE"], "--state"),
        (["packages", "--created-after", "last tuesday"], "--created-after"),
        (["packages", "--space-guid", "dev"], "--space-guid"),
        (["packages", "--page-size", "9000"], "--page-size"),
        (["app-packages", "--app", "web"], "--space-guid"),
    ],
)
def test_bad_option_values_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], flag: str
) -> None:
    code, out, err = run(capsys, "cloudfoundry", *args, "--emulate")
    assert code == 2
    assert out == ""
    assert err.startswith("pkglist: error:")
    assert err.count("\n") == 1
    assert flag in err


def test_no_login_anywhere_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "cloudfoundry", "packages")
    assert (code, out) == (2, "")
    assert "pass --base-url, set CF_API or run `cf login`" in err


def test_not_found_app_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "cloudfoundry", "app-packages", "--emulate", "--app", "nope", "--space-guid", DEV_SPACE
    )
    assert (code, out) == (1, "")
    assert err == f"pkglist: error: cloudfoundry app-packages: app 'nope' not found in space {DEV_SPACE}\n"


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = shutil.which("pkglist")
    if script is None:
        pytest.skip("the pkglist console script is not on PATH")
    env = {**os.environ, "HOME": str(tmp_path)}
    for name in ("CF_HOME", "CF_API", "CF_ACCESS_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [
            script,
            "cloudfoundry",
            "packages",
            "--emulate",
            "--app-guid",
            MAIN_APP,
            "-o",
            "jsonl",
            "--limit",
            "5",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["id"] for row in rows] == CloudFoundryEmulator().package_guids(MAIN_APP)[:5]
