"""Running clients in processes of their own and summarizing repeated measurements."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def compile_bytecode() -> None:
    """Byte-compile everything the clients import, as ``pip install`` does.

    Without it (``PYTHONDONTWRITEBYTECODE`` set, or a uv install that skips
    compiling) every process would compile its imports from source: start-up
    noise that no installed pkglist has.
    """
    import compileall
    import site
    import sysconfig

    folders = {sysconfig.get_paths()["purelib"], *site.getsitepackages(), str(ROOT / "core" / "src")}
    folders |= {str(path) for path in ROOT.glob("plugins/*/src")}
    for folder in sorted(folders):
        compileall.compile_dir(folder, quiet=1, workers=0)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@attrs.frozen
class Runs:
    """Repeated measurements of one quantity."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, unit: str = "s", digits: int = 2) -> str:
        return f"{self.low:.{digits}f} / {self.median:.{digits}f} / {self.high:.{digits}f} {unit}"


def client(name: str, **arguments: Any) -> dict[str, Any]:
    """Run ``benchmarks.clients NAME`` in its own process; its own timing of the listing."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.clients", name, json.dumps(arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"client {name} failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@attrs.frozen
class Process:
    seconds: float
    max_rss_kib: int


_LAUNCHER = """
import json, os, subprocess, sys, time
started = time.perf_counter()
with open(os.devnull, "wb") as sink:
    child = subprocess.Popen(sys.argv[1:], stdout=sink, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    errors = child.stderr.read().decode()
print(json.dumps({"seconds": time.perf_counter() - started, "rss": usage.ru_maxrss,
                  "code": os.waitstatus_to_exitcode(status), "stderr": errors[-2000:]}))
"""


def command(args: Sequence[str], *, env: dict[str, str] | None = None) -> Process:
    """Run a command with stdout to /dev/null: its wall time and peak RSS.

    It is started by a small launcher process: a child forked straight from this
    process (which holds the emulators' data) would count this process's memory
    in its own peak RSS until it execs.
    """
    environ = {**os.environ, **(env or {})}
    launched = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    if launched.returncode != 0:
        raise RuntimeError(f"launcher failed: {launched.stderr.strip()[-2000:]}")
    result = json.loads(launched.stdout)
    if result["code"] != 0:
        raise RuntimeError(f"{' '.join(args[:4])} ... failed ({result['code']}): {result['stderr'].strip()}")
    return Process(seconds=result["seconds"], max_rss_kib=result["rss"])


def pkglist_command() -> str:
    return str(BIN / "pkglist")
