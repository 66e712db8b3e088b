"""The mutation study: the stock contract suite, run against a header-paged provider with one
deliberate bug at a time, must fail for every bug a user would notice (and pass unmutated)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .mutants.forge import MUTANTS

ROOT = Path(__file__).resolve().parents[2]


def contract(mutant: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORGE_MUTANT": mutant or ""}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "tests/core/mutants/contract_forge.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.timeout(600)
def test_the_contract_suite_passes_the_unmutated_provider() -> None:
    done = contract(None)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mutant", sorted(name for name, noticed in MUTANTS.items() if noticed))
def test_the_contract_suite_catches_a_bug_a_user_would_notice(mutant: str) -> None:
    done = contract(mutant)
    assert done.returncode == 1, done.stdout[-3000:]
    assert " failed" in done.stdout.splitlines()[-1]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mutant", sorted(name for name, noticed in MUTANTS.items() if not noticed))
def test_a_change_that_nothing_observes_still_passes(mutant: str) -> None:
    done = contract(mutant)
    assert done.returncode == 0, done.stdout[-3000:]
