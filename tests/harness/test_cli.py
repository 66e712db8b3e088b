"""The real CLI: each listing with --emulate, usage errors, secrets, and ``pkglist emulate harness``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any

import pytest

from pkglist.cli import main

from .helpers import KEY, SPACE

DEMO = {
    "packages": ["--account", "acme"],
    "registry-artifacts": ["--registry-ref", f"{SPACE}/docker-local"],
    "space-artifacts": ["--space-ref", SPACE, "--latest-only"],
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("listing", list(DEMO))
def test_emulate_jsonl(capsys: pytest.CaptureFixture[str], listing: str) -> None:
    code, out, err = run(capsys, "harness", listing, "--emulate", "-o", "jsonl", *DEMO[listing])
    assert code == 0, err
    records = jsonl(out)
    assert len(records) >= 120  # the demo registry alone holds 120 packages
    assert {record["provider"] for record in records} == {"harness"}
    assert {record["listing"] for record in records} == {listing}
    assert len({record["id"] for record in records}) == len(records)
    assert all(record["state"] in ("active", "deleted", "quarantined") for record in records)


def test_emulated_demo_account_shows_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "harness", "packages", "--emulate", "--account", "acme", "-o", "jsonl")
    records = jsonl(out)
    assert code == 0
    types = {record["package_type"] for record in records}
    assert {"DOCKER", "MAVEN", "NPM", "PYTHON", "HELM", "GENERIC", "GO", "HUGGINGFACE", "WASM"} <= types
    assert {"active", "quarantined"} <= {record["state"] for record in records}
    assert "deleted" not in {record["state"] for record in records}  # the API's default: exclude


def test_csv_fields_from_extra(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "harness", "registry-artifacts", "--emulate", "--registry-ref", f"{SPACE}/maven-releases",
        "-o", "csv", "--fields", "name,state,extra.download_count,extra.deleted_at",
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "name,state,extra.download_count,extra.deleted_at"
    assert lines[1].startswith("ledger-core,active,")
    assert lines[3].startswith("legacy-client,deleted,")
    assert lines[3].endswith("Z")


@pytest.mark.parametrize(
    "args",
    [
        ["harness", "registry-artifacts", "--emulate", "--registry-ref", "acme/../etc"],
        ["harness", "space-artifacts", "--emulate", "--space-ref", "acme//x"],
        ["harness", "packages", "--emulate", "--account", "acme", "--deleted", "sometimes"],
        ["harness", "packages", "--emulate", "--account", "acme", "--sort", "name"],
        ["harness", "packages", "--emulate", "--account", "acme", "--project", "payments"],
        ["harness", "packages", "--emulate", "--account", "acme", "--page-size", "500"],
    ],
)
def test_bad_option_value_exits_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("pkglist: error: ")


def test_missing_account_names_the_environment_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_ACCOUNT_ID", raising=False)
    code, out, err = run(capsys, "harness", "packages", "--emulate")
    assert (code, out) == (2, "")
    assert "--account" in err
    assert "HARNESS_ACCOUNT_ID" in err


def test_wrong_key_on_the_command_line_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "pat.acme.wrong.s3cr3t-value"
    code, out, err = run(
        capsys,
        "harness",
        "space-artifacts",
        "--emulate",
        "--space-ref",
        SPACE,
        "--api-key",
        secret,
        "--debug",
    )
    assert code == 1
    assert out == ""
    assert "HTTP 401" in err
    assert secret not in err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "harness", "packages", "--help")
    assert code == 0
    for flag in ("--registry-id", "--metadata", "--package-kind", "--package-type", "--deleted", "--sort",
                 "--search", "--include-meta", "--api-key", "HARNESS_ACCOUNT_ID", "HARNESS_PLATFORM_API_KEY"):  # fmt: skip
        assert flag in out


def _console_script() -> str:
    script = shutil.which("pkglist") or os.path.join(os.path.dirname(sys.executable), "pkglist")
    if not os.path.exists(script):
        pytest.skip("the pkglist console script is not installed")
    return script


def test_pkglist_emulate_harness_serves_the_demo() -> None:
    script = _console_script()
    server = subprocess.Popen(
        [script, "emulate", "harness", "--packages", "7"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        env = {**os.environ, "HARNESS_PLATFORM_API_KEY": KEY, "HARNESS_ENDPOINT": url}
        env.pop("HARNESS_API_KEY", None)
        result = subprocess.run(
            [script, "harness", "registry-artifacts", "--registry-ref", f"{SPACE}/docker-local", "-o", "jsonl"],
            capture_output=True, text=True, env=env, timeout=30,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 7
