"""The OCI listings from the command line: options, usage errors in one line, the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("OCI_", "DOCKER_"))}
    environ.update({"HOME": str(home), "PKGLIST_NO_CACHE": "1"})
    return subprocess.run(
        [sys.executable, "-m", "pkglist", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def test_help_offers_no_password_option(tmp_path: Path) -> None:
    done = run("oci", "tags", "--help", home=tmp_path)
    assert done.returncode == 0
    assert "--password-stdin" in done.stdout
    assert "--password " not in done.stdout
    assert "--registry" in done.stdout
    assert "--plain-http" in done.stdout
    assert "--digests" in done.stdout


def test_a_password_on_the_command_line_is_refused(tmp_path: Path) -> None:
    done = run("oci", "repositories", "--registry", "localhost:5000", "--password", "x", home=tmp_path)
    assert done.returncode == 2


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["oci", "repositories"], "no registry; pass --registry HOST"),
        (["oci", "repositories", "--registry", "https://ghcr.io"], "a URL goes in --base-url"),
        (["oci", "tags", "--registry", "ghcr.io", "--repository", "Team/App"], "expected a repository name"),
        (["oci", "tags", "--registry", "ghcr.io"], "missing required option --repository"),
        (
            ["oci", "repositories", "--base-url", "https://r.example", "--plain-http"],
            "--plain-http contradicts",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path: Path, args: list[str], words: str) -> None:
    done = run(*args, home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr


def test_the_emulator_lists_images_with_digests(tmp_path: Path) -> None:
    done = run("oci", "images", "--emulate", "--digests", "--page-size", "2", "-o", "jsonl", home=tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == 41  # the demo's 40 tags and its "latest"
    assert len({record["id"] for record in records}) == len(records)
    assert all(record["extra"]["digest"].startswith("sha256:") for record in records)
    assert [record["name"] for record in records] == sorted(record["name"] for record in records)


def test_a_missing_repository_is_one_line_with_the_registry_error_code(tmp_path: Path) -> None:
    done = run("oci", "tags", "--emulate", "--repository", "no/such", home=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "pkglist: error: oci tags: HTTP 404 Not Found: NAME_UNKNOWN: repository name not known to registry (page 1)"
    )


def test_debug_logs_never_show_the_password_or_the_tokens(tmp_path: Path) -> None:
    import base64

    from pkglist.testing import serve
    from pkglist_oci import OciEmulator

    emulator = OciEmulator({"team/app": ["1", "2"], "team/web": ["x"]})
    with serve(emulator) as server:
        done = run(
            "oci", "images", "--base-url", server.url, "--username", emulator.username,
            "--password-stdin", "--digests", "--debug", "-o", "jsonl",
            home=tmp_path, stdin=emulator.password + "\n",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert "/token" in done.stderr  # the token exchanges are logged...
    tokens = list(emulator._tokens)
    assert len(tokens) == 3
    basic = base64.b64encode(f"{emulator.username}:{emulator.password}".encode()).decode()
    for secret in (emulator.password, basic, *tokens):  # ...without a credential
        assert secret not in done.stderr
        assert secret not in done.stdout
