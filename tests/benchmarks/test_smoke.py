"""Run the benchmark suite on tiny data sets: it must work end to end (no timing is checked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(600)
def test_the_benchmarks_run_end_to_end() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for number in range(1, 10):
        assert f"\n== {number}. " in result.stdout
    assert "target" in result.stdout
    assert "(smoke)" in result.stdout or "ok" in result.stdout
