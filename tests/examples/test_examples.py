"""The example plugins as their users get them: installed with pip (not through the workspace)
into a fresh virtual environment, with their own tests and the guide's console sessions run there.

The environment holds the core and pkglist-shelf, as at the end of part 1 of the guide.
pkglist-age and the bundled pkglist-harness are installed with ``pip --target`` into folders
of their own and put on ``PYTHONPATH`` when a test wants them, so that part 1's sessions
see exactly part 1's plugins.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest

from .tutorial import EXAMPLES, GUIDE, ROOT, blocks, console_commands

pytestmark = pytest.mark.timeout(600)  # the first test builds the environment

PART_2 = "Part 2: changing an existing provider"
_CLEARED = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "COLUMNS")


@attrs.frozen
class Environment:
    root: Path
    env: Mapping[str, str]
    age: Path  # pip --target folder holding pkglist-age
    harness: Path  # pip --target folder holding pkglist-harness

    def bin(self, name: str) -> str:
        return str(self.root / "venv" / "bin" / name)

    def run(
        self, *args: str, extra: tuple[Path, ...] = (), env: Mapping[str, str] | None = None, **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        environ = {**self.env, **(env or {})}
        if extra:
            environ["PYTHONPATH"] = os.pathsep.join(str(path) for path in extra)
        kwargs.setdefault("stdout", subprocess.PIPE)
        kwargs.setdefault("stderr", subprocess.PIPE)
        return subprocess.run(list(args), text=True, timeout=300, check=False, env=environ, **kwargs)

    def pkglist(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return self.run(self.bin("pkglist"), *args, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    root = tmp_path_factory.mktemp("examples")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _CLEARED and not key.startswith(("PKGLIST_", "SHELF_"))
    }
    env.update(
        PATH=os.pathsep.join([str(root / "venv" / "bin"), env.get("PATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",  # nothing written next to the examples' sources
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    environment = Environment(root, env, root / "site-age", root / "site-harness")
    pip = [environment.bin("pip"), "install", "-q"]
    steps = [
        [sys.executable, "-m", "venv", str(root / "venv")],
        [*pip, "./core", "./examples/pkglist-shelf[test]"],
        [*pip, "--no-deps", "--target", str(environment.age), "./examples/pkglist-age"],
        [*pip, "--no-deps", "--target", str(environment.harness), "./plugins/harness"],
    ]
    for step in steps:
        done = environment.run(*step, cwd=ROOT)
        assert done.returncode == 0, f"{' '.join(step)}\n{done.stdout}\n{done.stderr}"
    return environment


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_pkglist_shelf_passes_its_own_tests(installed: Environment) -> None:
    done = installed.run(
        installed.bin("pytest"), "-q", "-p", "no:cacheprovider", cwd=EXAMPLES / "pkglist-shelf"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]
    shown = re.search(r"^pytest +# (\d+) passed$", GUIDE.read_text(), re.M)
    assert shown is not None, "the guide says how many tests pass"
    assert re.match(rf"{shown[1]} passed in ", summary), summary


def test_pkglist_shelf_passes_its_contract_with_pkglist_age_wrapping_it(installed: Environment) -> None:
    done = installed.run(
        installed.bin("pytest"),
        *("-q", "-p", "no:cacheprovider", "tests/test_contract.py"),
        extra=(installed.age,),
        cwd=EXAMPLES / "pkglist-shelf",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^48 passed in ", done.stdout, re.M), done.stdout


def test_pkglist_age_passes_its_own_tests(installed: Environment) -> None:
    done = installed.run(
        installed.bin("pytest"),
        "-q",
        "-p",
        "no:cacheprovider",
        extra=(installed.age,),
        cwd=EXAMPLES / "pkglist-age",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\d+ passed in ", done.stdout, re.M), done.stdout


def test_the_guides_console_sessions(installed: Environment) -> None:
    checker = doctest.OutputChecker()
    commands = list(console_commands())
    assert commands
    for command in commands:
        extra = (installed.age,) if command.section == PART_2 else ()
        done = installed.run(
            installed.bin("pkglist"), *command.args, extra=extra, env=command.env, stderr=subprocess.STDOUT
        )
        shown = f"{GUIDE.name}:{command.line}: pkglist {' '.join(command.args)}"
        failing = command.expected is not None and "pkglist: error:" in command.expected
        assert (done.returncode != 0) == failing, f"{shown}: exit status {done.returncode}\n{done.stdout}"
        if command.expected is not None:
            assert checker.check_output(command.expected, done.stdout, doctest.ELLIPSIS), (
                f"{shown}\n--- the guide shows:\n{command.expected}--- it prints:\n{done.stdout}"
            )


def test_the_tutorials_listing_from_its_emulator(installed: Environment) -> None:
    done = installed.pkglist("shelf", "packages", "--shelf", "tools", "--emulate", "-o", "jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    expected = installed.run(
        installed.bin("python"),
        "-c",
        "import json; from pkglist_shelf import ShelfEmulator; print(json.dumps(ShelfEmulator().items))",
    )
    assert expected.returncode == 0, expected.stderr
    items = json.loads(expected.stdout)
    rows = jsonl(done.stdout)
    assert len(rows) == len(items) == 40
    assert [(row["id"], row["name"], row["version"], row["package_type"]) for row in rows] == [
        (str(item["id"]), item["name"], item["version"], item["kind"]) for item in items
    ]
    assert {(row["provider"], row["listing"], row["scope"]) for row in rows} == {
        ("shelf", "packages", "tools")
    }
    assert [row["extra"] for row in rows] == [{"labels": item["labels"]} for item in items]
    assert [row["state"] for row in rows] == ["yanked" if item["yanked"] else "published" for item in items]


def test_pkglist_plugins_shows_both_examples_active(installed: Environment) -> None:
    done = installed.pkglist("plugins", "--json", extra=(installed.age, installed.harness))
    assert done.returncode == 0, done.stderr
    records = {record["name"]: record for record in json.loads(done.stdout)}
    assert set(records) == {"pkglist-shelf", "pkglist-age", "pkglist-harness"}
    shelf, age = records["pkglist-shelf"], records["pkglist-age"]
    assert (shelf["status"], shelf["providers"], shelf["hooks"]) == (
        "active",
        ["shelf"],
        ["pkglist_providers"],
    )
    assert shelf["entry_point"] == "shelf = pkglist_shelf"
    assert (age["status"], age["providers"], age["hooks"]) == ("active", [], ["pkglist_normalize"])
    assert age["entry_point"] == "age = pkglist_age"
    assert records["pkglist-harness"]["status"] == "active"


@pytest.mark.parametrize(
    "listing",
    [
        ["shelf", "packages", "--shelf", "tools", "--limit", "12"],
        ["harness", "packages", "--account", "acme", "--limit", "12"],
    ],
    ids=["shelf", "harness"],
)
def test_pkglist_age_adds_its_field_to_any_provider(installed: Environment, listing: list[str]) -> None:
    args = [*listing, "--emulate", "-o", "jsonl"]
    both = (installed.age, installed.harness)
    before = datetime.now(UTC)
    aged = installed.pkglist(*args, extra=both)
    after = datetime.now(UTC)
    plain = installed.pkglist(*args, extra=both, env={"PKGLIST_DISABLE_PLUGINS": "pkglist-age"})
    assert aged.returncode == 0, aged.stderr
    assert plain.returncode == 0, plain.stderr
    aged_rows, plain_rows = jsonl(aged.stdout), jsonl(plain.stdout)
    assert len(aged_rows) == len(plain_rows) == 12
    for row, original in zip(aged_rows, plain_rows, strict=True):
        assert "age_days" not in original["extra"]
        age = row["extra"].pop("age_days")
        assert row == original  # nothing else changed
        stamp = datetime.fromisoformat(original["updated_at"] or original["created_at"])
        assert age in {(before - stamp).days, (after - stamp).days}


def test_the_trace_shows_the_wrapper_around_the_default_plugin(installed: Environment) -> None:
    done = installed.pkglist(
        *("shelf", "packages", "--shelf", "tools", "--emulate", "--limit", "2", "-o", "jsonl"),
        extra=(installed.age,),
        env={"PKGLIST_TRACE_HOOKS": "1"},
    )
    assert done.returncode == 0, done.stderr
    calls = [line for line in done.stderr.splitlines() if line.startswith("pkglist: hook pkglist_normalize(")]
    assert len(calls) == 2
    assert all(line.endswith(" -> [pkglist-age, pkglist.default]") for line in calls)
    assert all("age_days" in row["extra"] for row in jsonl(done.stdout))


def test_the_guides_shell_lines_against_the_emulator_they_serve(installed: Environment) -> None:
    """``pkglist emulate shelf ...`` serves what ``pkglist shelf packages ...`` with SHELF_URL lists."""
    lines = [line for block in blocks() if block.info == "sh" for line in block.text.splitlines()]
    emulate = shlex.split(
        next(line for line in lines if line.startswith("pkglist emulate shelf ")), comments=True
    )
    listing = next(line for line in lines if line.startswith("pkglist shelf packages "))
    assert "SHELF_URL" in "\n".join(lines)
    assert "the token is shelf-demo-token" in "\n".join(lines)
    server = subprocess.Popen(
        [installed.bin("pkglist"), *emulate[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(installed.env),
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        done = installed.pkglist(
            *shlex.split(listing.split(">")[0])[1:], env={"SHELF_URL": url, "SHELF_TOKEN": "shelf-demo-token"}
        )
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert url.startswith("http://127.0.0.1:"), url
    assert done.returncode == 0, done.stderr
    rows = jsonl(done.stdout)
    assert emulate[emulate.index("--packages") + 1] == "500"
    assert len(rows) == 167  # the kinds take turns: wheels are packages 0, 3, 6, ... 498
    assert {row["package_type"] for row in rows} == {"wheel"}
