"""The CLI on a terminal: the real console script in a pseudo-terminal, its stdout and
stderr on the same screen, against an emulator over loopback HTTP."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import select
import struct
import subprocess
import termios
from collections.abc import Iterator

import pytest

from pkglist._output import display_width
from pkglist.testing import EmulatorServer, serve
from pkglist_harness._data import DEMO_API_KEY
from pkglist_harness._emulator import HarnessEmulator
from tests.support.plugin_dirs import pkglist_command, run_pkglist

CLEAR = "\r\x1b[K"
PROGRESS = re.compile(r"\r\x1b\[K(\d+) packages, page (\d+)(?:/(\d+))?")
REGISTRY = "acme/platform/payments/docker-local"


def in_terminal(args: list[str], *, columns: int = 100, timeout: float = 60) -> tuple[int, str]:
    """Run ``pkglist ARGS`` with stdin, stdout and stderr on one pseudo-terminal ``columns``
    wide; its exit status and everything it put on the screen, in order."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [pkglist_command(), *args], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                raise TimeoutError(f"pkglist {' '.join(args)} printed nothing for {timeout} s")
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:  # EIO: the terminal's other end is closed
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = process.wait(timeout=timeout)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return status, b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def slow_harness() -> Iterator[EmulatorServer]:
    with serve(HarnessEmulator(packages=40), latency=0.08) as server:
        yield server


def registry_artifacts(server: EmulatorServer, *args: str) -> list[str]:
    return [
        "harness",
        "registry-artifacts",
        "--registry-ref",
        REGISTRY,
        "--base-url",
        server.url,
        "--api-key",
        DEMO_API_KEY,
        *args,
    ]


def test_the_progress_line_never_mixes_with_the_table(slow_harness: EmulatorServer) -> None:
    # 20 pages numbered from 0, one request at a time: about 2 s, so the progress line shows.
    status, screen = in_terminal(
        registry_artifacts(slow_harness, "--page-size", "2", "--concurrency", "1"), columns=160
    )
    assert status == 0, screen
    draws = list(PROGRESS.finditer(screen))
    assert draws, screen
    for draw in draws:
        assert screen.startswith(CLEAR, draw.end()), f"output written over the progress line: {screen!r}"
        _, page, last = draw.groups()
        assert last is not None
        assert 1 <= int(page) <= int(last) == 20  # pages 0..19 are 20 pages
    table = PROGRESS.sub("", screen).replace(CLEAR, "")
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "PACKAGE_TYPE", "STATE", "SCOPE", "UPDATED_AT"]
    assert len(lines) == 41
    assert all(line.split()[4] == REGISTRY for line in lines[1:])
    assert "\x1b" not in table
    assert "\r" not in table


def test_the_table_fits_the_terminal_cutting_the_widest_columns_first(slow_harness: EmulatorServer) -> None:
    fields = "name,state,scope,id,extra.registry_uuid"
    status, screen = in_terminal(
        registry_artifacts(slow_harness, "--fields", fields, "--limit", "5"), columns=90
    )
    assert status == 0, screen
    lines = screen.splitlines()
    assert len(lines) == 6
    assert all(display_width(line) <= 90 for line in lines)
    assert lines[0].split()[:4] == ["NAME", "STATE", "SCOPE", "ID"]
    assert lines[0].split()[4].startswith("EXTRA.REG")
    for line in lines[1:]:
        name, state, scope, id_, uuid = line.split()
        assert not name.endswith("…")
        assert state == "active"  # the narrow columns are left alone
        assert scope.endswith("…")
        assert id_.endswith("…")
        assert uuid.endswith("…")
        assert REGISTRY.startswith(scope[:-1])


def test_the_table_is_not_cut_when_stdout_is_not_a_terminal(slow_harness: EmulatorServer) -> None:
    args = registry_artifacts(slow_harness, "--fields", "name,scope,id,extra.registry_uuid", "--limit", "3")
    result = run_pkglist(*args, env={"COLUMNS": "40"})
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert all(REGISTRY in line and len(line) > 100 for line in result.stdout.splitlines()[1:])


def test_values_longer_than_48_characters_are_whole_when_not_on_a_terminal() -> None:
    result = run_pkglist(
        "harness",
        "packages",
        "--emulate",
        "--account",
        "acme",
        "--limit",
        "2",
        "--fields",
        "name,extra.modified_by",
    )
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[1]
    assert (
        '{"uid":"ci-bot","display_name":"Ci Bot","email":"ci-bot@acme.example","type":"service_account"}'
        in row
    )


def test_fields_raw_without_raw_is_a_usage_error() -> None:
    result = run_pkglist("harness", "packages", "--emulate", "--account", "acme", "--fields", "name,raw")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "pkglist: error: --fields raw needs the provider's own item: add --raw "
        "(see 'pkglist harness packages --help')\n"
    )
    with_raw = run_pkglist(
        "harness",
        "packages",
        "--emulate",
        "--account",
        "acme",
        "--fields",
        "name,raw",
        "--raw",
        "-o",
        "jsonl",
    )
    assert with_raw.returncode == 0
    assert '"raw":{' in with_raw.stdout.splitlines()[0]
